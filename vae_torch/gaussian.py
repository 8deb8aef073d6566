"""The diagonal Gaussian posterior q(z|x) = N(μ, diag σ²) and the prior N(0, I), in torch:
the same equations as vae_numpy.gaussian (the likelihoods p(x|z) are in
vae_torch.likelihoods).

(5.1) z = μ + σ ε,  σ = exp(½ log σ²)
(4.7) KL(N(μ, σ²) ‖ N(0, I)) = ½ Σ (μ² + σ² − 1 − log σ²)
(4.1) log N(z; μ, σ²) = −½ Σ [log 2π + log σ² + (z − μ)² e^{−log σ²}]

Every function sums over the last axis and keeps the leading ones: (..., D) -> (...).
"""

import math

import torch

LOG_2PI = math.log(2 * math.pi)


def std(log_var: torch.Tensor) -> torch.Tensor:
    """σ = exp(½ log σ²): the standard deviation, never the variance."""
    return torch.exp(0.5 * log_var)


def reparameterize(mu: torch.Tensor, log_var: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """(5.1)"""
    return mu + std(log_var) * eps


def kl_std_normal(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """(4.7) per example: (B, latent) -> (B,)."""
    return kl_std_normal_dims(mu, log_var).sum(dim=-1)


def kl_std_normal_dims(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """(4.7) per latent dimension, the terms of its sum: (B, latent) -> (B, latent)."""
    return 0.5 * (mu * mu + torch.exp(log_var) - 1.0 - log_var)


def kl_monte_carlo_dims(z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """log q(z_d|x) − log p(z_d) per latent dimension at one z ~ q (the prior and the
    posterior factorise): (B, latent); its sum is ``kl_monte_carlo``."""
    return -0.5 * (log_var + (z - mu) ** 2 * torch.exp(-log_var) - z * z)


def log_normal(z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """(4.1) log N(z; μ, diag σ²)."""
    return -0.5 * torch.sum(LOG_2PI + log_var + (z - mu) ** 2 * torch.exp(-log_var), dim=-1)


def log_std_normal(z: torch.Tensor) -> torch.Tensor:
    """(4.1) at μ = 0, log σ² = 0: log N(z; 0, I), the prior."""
    return -0.5 * torch.sum(LOG_2PI + z * z, dim=-1)


def kl_monte_carlo(z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """log q(z|x) − log p(z) at one z ~ q: an unbiased estimate of (4.7)."""
    return log_normal(z, mu, log_var) - log_std_normal(z)
