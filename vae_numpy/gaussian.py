"""The diagonal Gaussian posterior q(z|x) = N(μ, diag σ²) and the prior N(0, I).

The encoder outputs μ and ``log_var`` = log σ²; ``std`` below is the one place
that turns it into σ. Equations as numbered in the notes, each verified by the
elbo_math check named beside it:

    (5.1) z = μ + σ ⊙ ε,  σ = exp(½ log σ²),  ε ~ N(0, I)           reparam.distribution
    (4.7) KL(N(μ, σ²) ‖ N(0, 1)) = ½ (μ² + e^{log σ²} − 1 − log σ²),  kl.log_var_form
          summed over independent dimensions (4.6)                  kl.sum_over_dimensions
    (6.1) ∂KL/∂μ = μ,  (6.2) ∂KL/∂log σ² = ½ (σ² − 1)                grad.kl
    (5.2) ∂z/∂μ = 1,   ∂z/∂log σ² = ½ σ ε                           reparam.derivatives
    (4.1) log N(z; μ, σ²) = −½ [log 2π + log σ² + (z − μ)² e^{−log σ²}]   gaussian.log_density
    (13.1) log (1/K) Σ_k N(z; μ_k, σ_k²) = logsumexp_k − log K        prior.vamp_log_density
"""

import numpy as np

LOG_2PI = np.log(2 * np.pi)


def std(log_var: np.ndarray) -> np.ndarray:
    """σ = exp(½ log σ²): the standard deviation, never the variance."""
    return np.exp(0.5 * log_var)


def reparameterize(mu: np.ndarray, log_var: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """(5.1) z = μ + σ ε, for noise ε ~ N(0, I) that the caller draws."""
    return mu + std(log_var) * eps


def kl_std_normal(mu: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """(4.7) KL(q ‖ N(0, I)) per example: (B, latent) -> (B,).

    e^{log σ²} − 1 is computed as expm1(log σ²): near log σ² = 0, exp(log σ²) − 1 − log σ²
    cancels and can round below 0 (float64, log σ² = 7.4e-16), while expm1(t) >= t holds
    after rounding, so each dimension's term stays >= 0."""
    return 0.5 * np.sum(mu * mu + np.expm1(log_var) - log_var, axis=-1)


def kl_std_normal_grad(mu: np.ndarray, log_var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(6.1), (6.2) (∂KL/∂μ, ∂KL/∂log σ²), elementwise."""
    return mu, 0.5 * (np.exp(log_var) - 1.0)


def log_normal(z: np.ndarray, mu: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """(4.1) log N(z; μ, diag σ²), summed over the last axis."""
    return -0.5 * np.sum(LOG_2PI + log_var + (z - mu) ** 2 * np.exp(-log_var), axis=-1)


def log_std_normal(z: np.ndarray) -> np.ndarray:
    """(4.1) at μ = 0, log σ² = 0: log N(z; 0, I), summed over the last axis."""
    return -0.5 * np.sum(LOG_2PI + z * z, axis=-1)


def log_mixture_normal(z: np.ndarray, mu: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """(13.1) log (1/K) Σ_k N(z; μ_k, diag σ_k²), the VampPrior's log-density, for z (..., D)
    and the components' μ, log σ² (K, D): (...). The log-sum-exp subtracts the largest
    a_k = log N(z; μ_k, σ_k²) before exponentiating, so nothing overflows."""
    a = log_normal(z[..., None, :], mu, log_var)  # (..., K)
    m = a.max(axis=-1, keepdims=True)
    return (m + np.log(np.exp(a - m).sum(axis=-1, keepdims=True)))[..., 0] - np.log(len(mu))
