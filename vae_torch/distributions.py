"""The log-densities and the KL of the torch backend, the same equations as vae_numpy.

(5.1) z = μ + σ ε,  σ = exp(½ log σ²)
(4.7) KL(N(μ, σ²) ‖ N(0, I)) = ½ Σ (μ² + σ² − 1 − log σ²)
(3.2) Bernoulli from logits: log p(x|z) = Σ_d [x_d ℓ_d − softplus(ℓ_d)]
      = −BCEWithLogits(ℓ, x), torch's fused, stable kernel
(3.4) Gaussian with fixed σ: log p(x|z) = −‖x − x̂‖²/(2σ²) − (D/2) log(2πσ²)
(4.1) log N(z; μ, σ²) = −½ Σ [log 2π + log σ² + (z − μ)² e^{−log σ²}]
(12.3) MMD² of two samples, the unbiased U-statistic, with the inverse multiquadric kernel

Every function sums over the last axis and keeps the leading ones: (..., D) -> (...).
"""

import math

import torch
import torch.nn.functional as F

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


MMD_SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def imq_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """k(a_i, b_j) = Σ_s C_s / (C_s + ‖a_i − b_j‖²), C_s = 2 L s for the scales s of
    ``MMD_SCALES`` (the inverse multiquadric kernel of Tolstikhin et al. 2018, at seven
    widths around the prior's 2L = E‖z − z'‖²): (n, L), (m, L) -> (n, m). Its tails are
    heavy, so codes far from the prior's draws still feel a gradient."""
    d2 = torch.cdist(a, b).square()
    c = 2.0 * a.shape[-1]
    return sum(c * s / (c * s + d2) for s in MMD_SCALES)


def mmd_u_statistic(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(12.3): the unbiased estimate of MMD² between the distributions of the rows of
    x (n, L) and of y (m, L), n, m >= 2; it can fall below 0 by chance."""

    def off_diagonal_mean(k: torch.Tensor) -> torch.Tensor:  # the pairs i ≠ i'
        n = len(k)
        return (k.sum() - k.diagonal().sum()) / (n * (n - 1))

    return (
        off_diagonal_mean(imq_kernel(x, x))
        + off_diagonal_mean(imq_kernel(y, y))
        - 2 * imq_kernel(x, y).mean()
    )


def bernoulli_log_likelihood(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """(3.2) per example: (..., D) -> (...); x broadcasts against extra leading axes.

    Same shapes (training): torch's fused BCE-with-logits kernel, the fastest
    there. Broadcast (k importance samples of each x): Σ x ℓ − Σ softplus(ℓ)
    directly, with softplus(ℓ) = logaddexp(ℓ, 0), which needs no copy of x per sample.
    """
    if x.shape == logits.shape:
        return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)
    zero = torch.zeros((), dtype=logits.dtype, device=logits.device)
    return (logits * x).sum(dim=-1) - torch.logaddexp(logits, zero).sum(dim=-1)


def gaussian_log_likelihood(x: torch.Tensor, mean: torch.Tensor, sigma: float) -> torch.Tensor:
    """(3.4) per example, the constant kept: (B, D) -> (B,)."""
    d = x.shape[-1]
    return -((x - mean) ** 2).sum(dim=-1) / (2 * sigma**2) - 0.5 * d * math.log(
        2 * math.pi * sigma**2
    )


def log_normal(z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """(4.1) log N(z; μ, diag σ²)."""
    return -0.5 * torch.sum(LOG_2PI + log_var + (z - mu) ** 2 * torch.exp(-log_var), dim=-1)


def log_std_normal(z: torch.Tensor) -> torch.Tensor:
    """(4.1) at μ = 0, log σ² = 0: log N(z; 0, I), the prior."""
    return -0.5 * torch.sum(LOG_2PI + z * z, dim=-1)


def kl_monte_carlo(z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """log q(z|x) − log p(z) at one z ~ q: an unbiased estimate of (4.7)."""
    return log_normal(z, mu, log_var) - log_std_normal(z)


def cb_log_normaliser(eta: torch.Tensor) -> torch.Tensor:
    """(3.7), (3.8) log C(η), as vae_numpy.likelihoods.cb_log_normaliser."""
    from vae_numpy.likelihoods import CB_LOG_C, CB_LOG_C_SERIES_BELOW

    a = eta.abs()
    big = a.clamp(min=CB_LOG_C_SERIES_BELOW)
    closed = big.log() - torch.log(-torch.expm1(-big)) + torch.log1p(torch.exp(-big))
    e2 = a * a
    series = sum(c * e2**i for i, c in enumerate(CB_LOG_C))
    return torch.where(a < CB_LOG_C_SERIES_BELOW, series, closed)


def cb_mean(eta: torch.Tensor) -> torch.Tensor:
    """(3.9) E[x] of the continuous Bernoulli, as vae_numpy.likelihoods.cb_mean."""
    from vae_numpy.likelihoods import CB_MEAN, CB_MEAN_SERIES_BELOW

    a = eta.abs()
    big = a.clamp(min=CB_MEAN_SERIES_BELOW)
    closed = torch.sigmoid(big) - 1 / big - 2 * torch.exp(-big) / torch.expm1(-2 * big)
    odd = 0.5 + sum(c * a ** (2 * i - 1) for i, c in enumerate(CB_MEAN) if i)
    upper = torch.where(a < CB_MEAN_SERIES_BELOW, odd, closed)
    return torch.where(eta < 0, 1 - upper, upper)


def cb_log_likelihood(x: torch.Tensor, eta: torch.Tensor) -> torch.Tensor:
    """(3.7) per example: the Bernoulli form (3.2) plus log C(η), summed over the last axis;
    x broadcasts against extra leading axes of eta."""
    return (x * eta - F.softplus(eta) + cb_log_normaliser(eta)).sum(dim=-1)


def dl_log_likelihood(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """(3.10) in the stable form (3.12), as vae_numpy.likelihoods.dl_log_likelihood:
    x (..., D) grey levels k/255, out (..., 2D) = [μ, ℓ] -> (...)."""
    from vae_numpy.likelihoods import dl_terms

    a, b, delta, lower, upper = dl_terms(x, out, torch)
    zero = torch.zeros((), dtype=out.dtype, device=out.device)
    log_p = (
        torch.where(upper, zero, -F.softplus(-a))
        + torch.where(lower, zero, -F.softplus(b))
        + torch.where(lower | upper, zero, torch.log(-torch.expm1(-delta)))
    )
    return log_p.sum(dim=-1)


def dl_mean(out: torch.Tensor) -> torch.Tensor:
    """(3.13) E[k/255] of the discretised logistic, as vae_numpy.likelihoods.dl_mean."""
    from vae_numpy.likelihoods import DL_LOG_SCALE_MIN

    d = out.shape[-1] // 2
    mu, inv_s = out[..., :d], torch.exp(-out[..., d:].clamp(min=DL_LOG_SCALE_MIN))
    total = torch.zeros_like(mu)
    for j in range(1, 256):
        total += torch.sigmoid((mu - (2 * j - 1) / 255 + 1) * inv_s)
    return total / 255
