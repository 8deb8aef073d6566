"""The two backends behind one float64 interface, so each property is written once.

Every function takes and returns float64 numpy arrays. Both backends are reached
through their modules (``gaussian.std``, not ``std``; ``vae_torch.gaussian`` and
``vae_torch.likelihoods``), so a test that monkeypatches a function there (a
deliberately broken implementation) changes what is compared. Gradients: vae_numpy's
hand-written ones; vae_torch's from autograd, of the summed quantity.

Sign convention: ``*_grad`` is the derivative of the log-likelihood (or of the KL),
as elbo_math states it; vae_numpy's likelihood gradients are of the negative
log-likelihood it minimizes, so its adapter negates them.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from vae_numpy import gaussian as np_gaussian
from vae_numpy import likelihoods as np_likelihoods
from vae_torch import gaussian as torch_gaussian
from vae_torch import likelihoods as torch_likelihoods


@dataclass(frozen=True)
class Backend:
    name: str
    std: Callable
    reparameterize: Callable
    kl: Callable  # (B, L) -> (B,)
    kl_grad: Callable  # -> (∂KL/∂μ, ∂KL/∂log σ²), elementwise
    kl_monte_carlo: Callable  # log q(z|x) − log p(z) at z: (B, L) -> (B,)
    log_normal: Callable  # log N(z; μ, σ²): (B, L) -> (B,)
    log_std_normal: Callable
    bernoulli: Callable  # (x, logits) -> (B,)
    bernoulli_grad: Callable  # ∂ log p/∂ℓ
    gaussian: Callable  # (x, mean, sigma) -> (B,)
    gaussian_grad: Callable  # ∂ log p/∂x̂

    def __repr__(self) -> str:
        return self.name


NUMPY = Backend(
    name="numpy",
    std=lambda log_var: np_gaussian.std(log_var),
    reparameterize=lambda mu, log_var, eps: np_gaussian.reparameterize(mu, log_var, eps),
    kl=lambda mu, log_var: np_gaussian.kl_std_normal(mu, log_var),
    kl_grad=lambda mu, log_var: np_gaussian.kl_std_normal_grad(mu, log_var),
    kl_monte_carlo=lambda z, mu, log_var: (
        np_gaussian.log_normal(z, mu, log_var) - np_gaussian.log_std_normal(z)
    ),
    log_normal=lambda z, mu, log_var: np_gaussian.log_normal(z, mu, log_var),
    log_std_normal=lambda z: np_gaussian.log_std_normal(z),
    bernoulli=lambda x, logits: np_likelihoods.bernoulli_log_likelihood(x, logits),
    bernoulli_grad=lambda x, logits: -np_likelihoods.bernoulli_grad(x, logits),
    gaussian=lambda x, mean, sigma: np_likelihoods.gaussian_log_likelihood(x, mean, sigma),
    gaussian_grad=lambda x, mean, sigma: -np_likelihoods.gaussian_grad(x, mean, sigma),
)


def _t(a) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64))


def _n(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy()


def _grads(f, *arrays, wrt: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """Autograd of f(*arrays).sum() with respect to the arguments numbered ``wrt``."""
    tensors = [_t(a).requires_grad_(i in wrt) for i, a in enumerate(arrays)]
    out = f(*tensors).sum()
    grads = torch.autograd.grad(out, [tensors[i] for i in wrt])
    return tuple(_n(g) for g in grads)


TORCH = Backend(
    name="torch",
    std=lambda log_var: _n(torch_gaussian.std(_t(log_var))),
    reparameterize=lambda mu, log_var, eps: _n(
        torch_gaussian.reparameterize(_t(mu), _t(log_var), _t(eps))
    ),
    kl=lambda mu, log_var: _n(torch_gaussian.kl_std_normal(_t(mu), _t(log_var))),
    kl_grad=lambda mu, log_var: _grads(
        lambda m, v: torch_gaussian.kl_std_normal(m, v), mu, log_var, wrt=(0, 1)
    ),
    kl_monte_carlo=lambda z, mu, log_var: _n(
        torch_gaussian.kl_monte_carlo(_t(z), _t(mu), _t(log_var))
    ),
    log_normal=lambda z, mu, log_var: _n(torch_gaussian.log_normal(_t(z), _t(mu), _t(log_var))),
    log_std_normal=lambda z: _n(torch_gaussian.log_std_normal(_t(z))),
    bernoulli=lambda x, logits: _n(torch_likelihoods.bernoulli_log_likelihood(_t(x), _t(logits))),
    bernoulli_grad=lambda x, logits: _grads(
        lambda a, b: torch_likelihoods.bernoulli_log_likelihood(a, b), x, logits, wrt=(1,)
    )[0],
    gaussian=lambda x, mean, sigma: _n(
        torch_likelihoods.gaussian_log_likelihood(_t(x), _t(mean), sigma)
    ),
    gaussian_grad=lambda x, mean, sigma: _grads(
        lambda a, b: torch_likelihoods.gaussian_log_likelihood(a, b, sigma), x, mean, wrt=(1,)
    )[0],
)

BACKENDS = (NUMPY, TORCH)
