"""The importance-weighted estimate of log p(x) (Burda et al. 2016; chapter 8).

With z_i = μ + σ ε_i ~ q(z|x), i = 1..k,

    log w_i = log p(x|z_i) + log p(z_i) − log q(z_i|x)
    (8.1) IWAE_k(x) = logsumexp_i(log w_i) − log k                   iwae.logsumexp_form

IWAE_1 is the one-sample ELBO (with a Monte Carlo KL) for the same ε (8.2); in
expectation IWAE_k is at most log p(x) (8.3) and never decreases with k (8.4).
logsumexp subtracts the maximum first, so no weight overflows.
"""

import numpy as np

from vae_numpy import gaussian


def log_weights(model, x: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """log w for x (B, D) and noise eps (k, B, latent): (k, B); k = 1 gives (8.2)."""
    k, batch, latent = eps.shape
    mu, log_var = model.encode(x)
    z = gaussian.reparameterize(mu, log_var, eps)  # (k, B, latent)
    out = model.decode(z.reshape(k * batch, latent)).reshape(k, batch, -1)
    log_px_z = model.log_px_given_z(x[None], out)  # (k, B)
    return log_px_z + gaussian.log_std_normal(z) - gaussian.log_normal(z, mu, log_var)


def logsumexp(a: np.ndarray, axis: int = 0) -> np.ndarray:
    peak = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(peak, axis) + np.log(np.sum(np.exp(a - peak), axis=axis))


def iwae_bound(log_w: np.ndarray) -> np.ndarray:
    """(8.1) over the first axis: (k, B) -> (B,)."""
    return logsumexp(log_w, axis=0) - np.log(log_w.shape[0])


def iwae_estimate(
    model, x: np.ndarray, k: int, rng: np.random.Generator, chunk: int = 64
) -> np.ndarray:
    """IWAE_k for each row of x, drawing the k samples ``chunk`` at a time: (B,)."""
    if k < 1:
        raise ValueError(f"k must be at least 1 importance sample, got {k}")
    parts = []
    for start in range(0, k, chunk):
        n = min(chunk, k - start)
        eps = rng.standard_normal((n, x.shape[0], model.config.latent_dim), dtype=x.dtype)
        parts.append(logsumexp(log_weights(model, x, eps), axis=0))
    return logsumexp(np.stack(parts), axis=0) - np.log(k)
