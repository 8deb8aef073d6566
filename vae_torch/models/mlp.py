"""The MLP VAE in torch, layer for layer the numpy one (same names, same equations).

encoder: [x, y] -> hidden (Linear + activation)* -> μ = mu(h), log σ² = log_var(h)
decoder: [z, y] -> hidden (Linear + activation)* -> out(h): the likelihood's parameters

out(h) holds logits (Bernoulli, continuous Bernoulli), means (Gaussian) or, for the
discretised logistic, all μ then all log s (``vae_numpy.likelihoods``).

y is the one-hot label of the conditional model (cvae), concatenated to the input
of both; without it (y = None) the shapes are exactly ``MLPConfig.layer_shapes``,
so ``vae_torch.convert`` moves parameters to and from vae_numpy unchanged.
"""

import math
from itertools import pairwise

import torch
from torch import nn

from vae_numpy.architecture import MLPConfig
from vae_numpy.likelihoods import likelihood_class
from vae_numpy.run.config import TrainConfig
from vae_torch.likelihoods import make_likelihood
from vae_torch.models.base import VAE
from vae_torch.models.registry import ModelKind, register_model

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
        outputs = likelihood_class(config.likelihood).outputs
        self.out = nn.Linear(widths[-1], outputs * config.x_dim)
        self.activation = ACTIVATIONS[config.activation]

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = with_label(z, y)
        for layer in self.hidden:
            h = self.activation(layer(h))
        return self.out(h)  # (B, outputs·x_dim): the likelihood's parameters


class MLPVAE(VAE):
    """Images of ``image_shape`` (C, H, W), flattened to C·H·W = ``config.x_dim`` pixels.
    Without ``image_shape`` (a model made from an MLPConfig alone) one grey image is
    taken: square where x_dim is a square number, else a row."""

    def __init__(
        self,
        config: MLPConfig,
        n_classes: int = 0,
        image_shape: tuple[int, int, int] | None = None,
    ):
        if image_shape is None:
            side = math.isqrt(config.x_dim)
            image_shape = (1, side, side) if side * side == config.x_dim else (1, 1, config.x_dim)
        if math.prod(image_shape) != config.x_dim:
            raise ValueError(f"images of shape {image_shape} do not have {config.x_dim} pixels")
        likelihood = make_likelihood(config)
        super().__init__(image_shape, (config.x_dim,), config.latent_dim, likelihood, n_classes)
        self.config = config
        self.encoder = Encoder(config, n_classes)
        self.decoder = Decoder(config, n_classes)


def build(config: TrainConfig, image_shape: tuple[int, int, int], n_classes: int) -> MLPVAE:
    return MLPVAE(config.mlp(math.prod(image_shape)), n_classes, image_shape)


register_model(ModelKind("mlp", build, conditional=False, help="fully connected"))
register_model(ModelKind("cvae", build, conditional=True, help="conditional MLP"))
