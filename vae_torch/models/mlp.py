"""The MLP VAE in torch, layer for layer the numpy one (same names, same equations).

encoder: x -> hidden (Linear + activation)* -> μ = mu(h), log σ² = log_var(h)
decoder: z -> hidden (Linear + activation)* -> out(h): logits or Gaussian means
loss    = mean_b [ −log p(x_b | z_b) + β KL_b ],  z_b = μ_b + σ_b ε_b

with β = 1 the one-sample negative ELBO (2.5), reparameterized as in (5.1).
"""

import torch
from torch import nn

from vae_numpy.config import MLPConfig
from vae_torch import distributions as dist

ACTIVATIONS = {"relu": nn.functional.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


class Encoder(nn.Module):
    def __init__(self, config: MLPConfig):
        super().__init__()
        shapes = config.layer_shapes()
        self.hidden = nn.ModuleList(
            nn.Linear(*shapes[n]) for n in shapes if n.startswith("encoder.hidden.")
        )
        self.mu = nn.Linear(*shapes["encoder.mu"])
        self.log_var = nn.Linear(*shapes["encoder.log_var"])
        self.activation = ACTIVATIONS[config.activation]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for layer in self.hidden:
            x = self.activation(layer(x))
        return self.mu(x), self.log_var(x)  # (B, latent) each


class Decoder(nn.Module):
    def __init__(self, config: MLPConfig):
        super().__init__()
        shapes = config.layer_shapes()
        self.hidden = nn.ModuleList(
            nn.Linear(*shapes[n]) for n in shapes if n.startswith("decoder.hidden.")
        )
        self.out = nn.Linear(*shapes["decoder.out"])
        self.activation = ACTIVATIONS[config.activation]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden:
            z = self.activation(layer(z))
        return self.out(z)  # (B, x_dim) logits or means


class MLPVAE(nn.Module):
    def __init__(self, config: MLPConfig):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)

    def log_px_given_z(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        if self.config.likelihood == "bernoulli":
            return dist.bernoulli_log_likelihood(x, out)
        return dist.gaussian_log_likelihood(x, out, self.config.sigma)

    def loss(
        self, x: torch.Tensor, eps: torch.Tensor, kl_weight: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(loss, mean log p(x|z), mean KL) of the batch for noise ``eps`` (B, latent)."""
        mu, log_var = self.encoder(x)
        z = dist.reparameterize(mu, log_var, eps)
        rec = self.log_px_given_z(x, self.decoder(z))
        kl = dist.kl_std_normal(mu, log_var)
        return (kl_weight * kl - rec).mean(), rec.mean(), kl.mean()
