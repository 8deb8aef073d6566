"""The diagonal Gaussian posterior q(z|x) = N(μ, diag σ²) and the prior N(0, I), in torch:
the same equations as vae_numpy.gaussian (the likelihoods p(x|z) are in
vae_torch.likelihoods).

(5.1) z = μ + σ ε,  σ = exp(½ log σ²)
(4.7) KL(N(μ, σ²) ‖ N(0, I)) = ½ Σ (μ² + σ² − 1 − log σ²)
(4.1) log N(z; μ, σ²) = −½ Σ [log 2π + log σ² + (z − μ)² e^{−log σ²}]
(13.1) log (1/K) Σ_k N(z; μ_k, diag σ_k²): a mixture of K of them, equally weighted

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
    return log_normal_dims(z, mu, log_var).sum(dim=-1)


def log_normal_dims(z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """(4.1) by dimension, the terms of its sum: log N(z_d; μ_d, σ_d²), (..., D)."""
    return -0.5 * (LOG_2PI + log_var + (z - mu) ** 2 * torch.exp(-log_var))


def log_std_normal(z: torch.Tensor) -> torch.Tensor:
    """(4.1) at μ = 0, log σ² = 0: log N(z; 0, I), the prior."""
    return -0.5 * torch.sum(LOG_2PI + z * z, dim=-1)


def kl_monte_carlo(z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """log q(z|x) − log p(z) at one z ~ q: an unbiased estimate of (4.7)."""
    return log_normal(z, mu, log_var) - log_std_normal(z)


def log_mixture_normal(z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """(13.1) log (1/K) Σ_k N(z; μ_k, diag σ_k²) for z (..., D) and the K components'
    μ, log σ² (K, D): (...). Each component's (4.1) is expanded,
    Σ_d (z_d − μ_kd)² w_kd = z² · w_k − 2 z · (μ w)_k + μ_k² · w_k with w = e^{−log σ²},
    so all K come from two matrix products without a (..., K, D) tensor; the mixture is
    their logsumexp minus log K (``priors.mixture_log_density`` checks both forms)."""
    w = torch.exp(-log_var)  # (K, D)
    squares = (z * z) @ w.T - 2 * z @ (mu * w).T + (mu * mu * w).sum(dim=-1)  # (..., K)
    log_n = -0.5 * (z.shape[-1] * LOG_2PI + log_var.sum(dim=-1) + squares)
    return torch.logsumexp(log_n, dim=-1) - math.log(len(mu))


def log_mixture_normal_dims(
    z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor
) -> torch.Tensor:
    """(13.1) in one dimension at a time: log (1/K) Σ_k N(z_d; μ_kd, σ_kd²), the log-density
    of each coordinate's marginal, for z (..., D), μ, log σ² (K, D): (..., D)."""
    log_n = log_normal_dims(z[..., None, :], mu, log_var)  # (..., K, D)
    return torch.logsumexp(log_n, dim=-2) - math.log(len(mu))
