"""The decoder's likelihoods p(x|z), as log-densities per example (chapter 3).

    (3.2) Bernoulli from logits ℓ:  log p(x|z) = Σ_d [x_d ℓ_d − softplus(ℓ_d)]
    (6.3) its gradient:             ∂(−log p)/∂ℓ = sigmoid(ℓ) − x
    (3.4) Gaussian, fixed σ:        log p(x|z) = −‖x − x̂‖²/(2σ²) − (D/2) log(2πσ²)
    (6.4) its gradient:             ∂(−log p)/∂x̂ = (x̂ − x) / σ²

verified by the elbo_math checks likelihood.bernoulli_logits, grad.bernoulli_logits,
likelihood.gaussian_is_scaled_sse and grad.gaussian_mean.

softplus(ℓ) = log(1 + e^ℓ) = max(ℓ, 0) + log1p(e^{−|ℓ|}) is finite for any ℓ, so the
Bernoulli term never takes the log of a sigmoid that rounded to 0 or 1.
"""

import numpy as np

from vae_numpy.gaussian import LOG_2PI
from vae_numpy.layers import sigmoid, softplus


def bernoulli_log_likelihood(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """(3.2) (B, D), (B, D) -> (B,)."""
    return np.sum(x * logits - softplus(logits), axis=-1)


def bernoulli_grad(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """(6.3) ∂(−log p(x|z))/∂ℓ, elementwise."""
    return sigmoid(logits) - x


def gaussian_log_likelihood(x: np.ndarray, mean: np.ndarray, sigma: float) -> np.ndarray:
    """(3.4) (B, D), (B, D) -> (B,), the constant kept: a density in nats."""
    d = x.shape[-1]
    return -np.sum((x - mean) ** 2, axis=-1) / (2 * sigma**2) - 0.5 * d * (
        LOG_2PI + 2 * np.log(sigma)
    )


def gaussian_grad(x: np.ndarray, mean: np.ndarray, sigma: float) -> np.ndarray:
    """(6.4) ∂(−log p(x|z))/∂x̂, elementwise."""
    return (mean - x) / sigma**2
