"""The MLP VAE in torch, layer for layer the numpy one (same names, same equations).

encoder: [x, y] -> hidden (Linear + activation)* -> μ = mu(h), log σ² = log_var(h)
decoder: [z, y] -> hidden (Linear + activation)* -> out(h): logits or Gaussian means

y is the one-hot label of the conditional model (cvae), concatenated to the input
of both; without it (y = None) the shapes are exactly ``MLPConfig.layer_shapes``,
so ``vae_torch.convert`` moves parameters to and from vae_numpy unchanged.
"""

from itertools import pairwise

import torch
from torch import nn

from vae_numpy.config import MLPConfig
from vae_torch.models.base import VAE

ACTIVATIONS = {"relu": nn.functional.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def with_label(h: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    return h if y is None else torch.cat([h, y.to(h.dtype)], dim=-1)


class Encoder(nn.Module):
    def __init__(self, config: MLPConfig, n_classes: int = 0):
        super().__init__()
        widths = (config.x_dim + n_classes, *config.hidden)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(widths))
        self.mu = nn.Linear(widths[-1], config.latent_dim)
        self.log_var = nn.Linear(widths[-1], config.latent_dim)
        self.activation = ACTIVATIONS[config.activation]

    def forward(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = with_label(x, y)
        for layer in self.hidden:
            h = self.activation(layer(h))
        return self.mu(h), self.log_var(h)  # (B, latent) each


class Decoder(nn.Module):
    def __init__(self, config: MLPConfig, n_classes: int = 0):
        super().__init__()
        widths = (config.latent_dim + n_classes, *reversed(config.hidden))
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(widths))
        self.out = nn.Linear(widths[-1], config.x_dim)
        self.activation = ACTIVATIONS[config.activation]

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = with_label(z, y)
        for layer in self.hidden:
            h = self.activation(layer(h))
        return self.out(h)  # (B, x_dim) logits or means


class MLPVAE(VAE):
    def __init__(self, config: MLPConfig, n_classes: int = 0):
        super().__init__(
            (config.x_dim,), config.latent_dim, config.likelihood, config.sigma, n_classes
        )
        self.config = config
        self.encoder = Encoder(config, n_classes)
        self.decoder = Decoder(config, n_classes)
