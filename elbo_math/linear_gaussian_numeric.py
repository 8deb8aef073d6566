"""Exact float64 ground truth in the linear Gaussian model, for any D and L.

    p(z) = N(0, I_L),   p(x | z) = N(W z + b, s² I_D),   q(z | x) = N(m, S)

The formulas are (1.1), (1.2), (2.7) of ``linear_gaussian``, where sympy derives and
checks them; the tests compare this class with those symbolic results and with
``scipy.stats.multivariate_normal``. Only the L×L posterior precision A = I + WᵀW/s² is
factored, so D = 784 costs nothing. This is what the numpy and torch VAEs' estimators are
tested against: with a decoder that is one linear layer and a Gaussian likelihood, their
ELBO, KL and importance-weighted estimates must converge to these numbers.

W has the mathematical shape (D, L) and x = W z + b. A numpy ``Linear`` layer from L to D
keeps its weight as (L, D) and computes z @ weight + bias: pass ``W = weight.T``.

Batching: x is (..., D); z, mu, log_var, mean are (..., L); cov is (..., L, L) or (L, L).
Leading dimensions broadcast against each other; results have the broadcast leading shape.
"""

from dataclasses import dataclass

import numpy as np

from elbo_math import numeric
from elbo_math.validation import finite, same_shape

LOG_2PI = np.log(2 * np.pi)


def _last_dim(name: str, a: np.ndarray, n: int) -> np.ndarray:
    if a.ndim == 0 or a.shape[-1] != n:
        raise ValueError(f"{name} must have last dimension {n}; got shape {a.shape}")
    return a


def _leading(**arrays: np.ndarray) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*(a.shape[:-1] for a in arrays.values()))
    except ValueError:
        listing = ", ".join(f"{name} {a.shape}" for name, a in arrays.items())
        raise ValueError(f"leading (batch) dimensions do not broadcast: {listing}") from None


@dataclass(frozen=True)
class LinearGaussian:
    W: np.ndarray  # (D, L)
    b: np.ndarray  # (D,)
    s: float  # observation noise scale, > 0

    def __post_init__(self) -> None:
        W = finite("W", self.W)
        if W.ndim != 2:
            raise ValueError(f"W must have shape (D, L); got {W.shape}")
        b = finite("b", self.b)
        if b.shape != (W.shape[0],):
            raise ValueError(f"b must have shape ({W.shape[0]},); got {b.shape}")
        s = finite("s", self.s)
        if s.ndim or s <= 0:
            raise ValueError(f"s must be a positive scalar; got {self.s!r}")
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "s", float(s))

    @property
    def D(self) -> int:
        return self.W.shape[0]

    @property
    def L(self) -> int:
        return self.W.shape[1]

    def _x(self, x) -> np.ndarray:
        return _last_dim("x", finite("x", x), self.D)

    def _z(self, name: str, z) -> np.ndarray:
        return _last_dim(name, finite(name, z), self.L)

    def precision(self) -> np.ndarray:
        """A = I + WᵀW/s², the posterior precision (1.1): (L, L)."""
        return np.eye(self.L) + self.W.T @ self.W / self.s**2

    def _precision_factors(self) -> tuple[np.ndarray, np.ndarray, float]:
        A = self.precision()
        chol = np.linalg.cholesky(A)
        return A, np.linalg.inv(A), 2 * np.log(np.diag(chol)).sum()

    def posterior(self, x) -> tuple[np.ndarray, np.ndarray]:
        """p(z | x) = N(A⁻¹Wᵀ(x − b)/s², A⁻¹) (1.1): mean (..., L), covariance (L, L)."""
        r = self._x(x) - self.b
        _, A_inv, _ = self._precision_factors()
        # (1.1)
        return (r @ self.W / self.s**2) @ A_inv, A_inv

    def log_evidence(self, x) -> np.ndarray:
        """log p(x) = log N(x; b, WWᵀ + s²I) in latent-space form (1.2): (...)."""
        r = self._x(x) - self.b
        _, A_inv, logdet_A = self._precision_factors()
        u = r @ self.W  # (..., L)
        quad = (
            (r * r).sum(-1) - np.einsum("...i,ij,...j->...", u, A_inv, u) / self.s**2
        ) / self.s**2
        # (1.2)
        return -(self.D * np.log(2 * np.pi * self.s**2) + logdet_A + quad) / 2

    def log_likelihood(self, x, z) -> np.ndarray:
        """log p(x | z) = Σ_d log N(x_d; (Wz + b)_d, s²) (3.4): (...)."""
        x, z = self._x(x), self._z("z", z)
        shape = _leading(x=x, z=z)
        mean = np.broadcast_to(z @ self.W.T + self.b, (*shape, self.D))
        return numeric.gaussian_log_likelihood(np.broadcast_to(x, mean.shape), mean, self.s)

    def log_prior(self, z) -> np.ndarray:
        """log p(z) = log N(z; 0, I) (4.1): (...)."""
        z = self._z("z", z)
        return numeric.diag_gaussian_log_density(z, np.zeros_like(z), np.zeros_like(z))

    def log_joint(self, x, z) -> np.ndarray:
        """log p(x, z) = log p(x | z) + log p(z): (...)."""
        return self.log_likelihood(x, z) + self.log_prior(z)

    def _q(self, mean, cov) -> tuple[np.ndarray, np.ndarray]:
        mean = self._z("mean", mean)
        cov = finite("cov", cov)
        if cov.ndim < 2 or cov.shape[-2:] != (self.L, self.L):
            raise ValueError(f"cov must have shape (..., {self.L}, {self.L}); got {cov.shape}")
        if not np.allclose(cov, np.swapaxes(cov, -1, -2)):
            raise ValueError("cov must be symmetric")
        try:
            np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise ValueError("cov must be positive definite") from None
        return mean, cov

    def expected_log_likelihood_full_cov(self, x, mean, cov) -> np.ndarray:
        """E_q[log p(x | z)] = −(D/2) log 2πs² − (‖r − Wm‖² + tr(WᵀW S))/(2s²) (2.7)."""
        x = self._x(x)
        mean, cov = self._q(mean, cov)
        _leading(x=x, mean=mean)
        residual = x - self.b - mean @ self.W.T
        trace = np.einsum("ij,...ji->...", self.W.T @ self.W, cov)
        # (2.7)
        return -self.D * np.log(2 * np.pi * self.s**2) / 2 - (
            (residual * residual).sum(-1) + trace
        ) / (2 * self.s**2)

    def kl_to_prior_full_cov(self, mean, cov) -> np.ndarray:
        """KL(q ‖ p(z)) = ½ [tr S + mᵀm − L − log det S] (2.7)."""
        mean, cov = self._q(mean, cov)
        logdet = np.linalg.slogdet(cov)[1]
        # (2.7)
        return (np.trace(cov, axis1=-2, axis2=-1) + (mean * mean).sum(-1) - self.L - logdet) / 2

    def kl_to_posterior_full_cov(self, x, mean, cov) -> np.ndarray:
        """KL(q ‖ p(z | x)) = ½ [tr(AS) + (m − μₚ)ᵀA(m − μₚ) − L − log det A − log det S]
        (2.7)."""
        mean, cov = self._q(mean, cov)
        post_mean, _ = self.posterior(x)
        _leading(x=post_mean, mean=mean)
        A, _, logdet_A = self._precision_factors()
        gap = mean - post_mean
        logdet_S = np.linalg.slogdet(cov)[1]
        trace = np.einsum("ij,...ji->...", A, cov)
        quad = np.einsum("...i,ij,...j->...", gap, A, gap)
        # (2.7)
        return (trace + quad - self.L - logdet_A - logdet_S) / 2

    def elbo_full_cov(self, x, mean, cov) -> np.ndarray:
        """ELBO(q) = E_q[log p(x | z)] − KL(q ‖ p(z)) (2.5), (2.7)."""
        return self.expected_log_likelihood_full_cov(x, mean, cov) - self.kl_to_prior_full_cov(
            mean, cov
        )

    def _diag(self, mu, log_var) -> tuple[np.ndarray, np.ndarray]:
        mu, log_var = self._z("mu", mu), self._z("log_var", log_var)
        same_shape(mu=mu, log_var=log_var)
        var = np.exp(log_var)
        return mu, var[..., :, None] * np.eye(self.L)

    def expected_log_likelihood(self, x, mu, log_var) -> np.ndarray:
        """E_q[log p(x | z)] for q = N(μ, diag(e^{log σ²})): (...)."""
        return self.expected_log_likelihood_full_cov(x, *self._diag(mu, log_var))

    def kl_to_prior(self, mu, log_var) -> np.ndarray:
        """KL(q ‖ p(z)) for diagonal q: (...). Equals numeric.gaussian_kl_std_normal."""
        return self.kl_to_prior_full_cov(*self._diag(mu, log_var))

    def kl_to_posterior(self, x, mu, log_var) -> np.ndarray:
        """KL(q ‖ p(z | x)) for diagonal q: log p(x) − ELBO (2.1): (...)."""
        return self.kl_to_posterior_full_cov(x, *self._diag(mu, log_var))

    def elbo(self, x, mu, log_var) -> np.ndarray:
        """ELBO for diagonal q = N(μ, diag(e^{log σ²})), exactly: (...)."""
        return self.elbo_full_cov(x, *self._diag(mu, log_var))

    def log_weights(self, x, z, mu, log_var) -> np.ndarray:
        """log w = log p(x, z) − log q(z | x), the importance weights of (8.1): (...)."""
        z, mu, log_var = self._z("z", z), self._z("mu", mu), self._z("log_var", log_var)
        shape = (*_leading(z=z, mu=mu, log_var=log_var), self.L)
        mu, log_var = np.broadcast_to(mu, shape), np.broadcast_to(log_var, shape)
        log_q = numeric.diag_gaussian_log_density(np.broadcast_to(z, shape), mu, log_var)
        return self.log_joint(x, z) - log_q
