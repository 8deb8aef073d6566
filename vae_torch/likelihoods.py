"""The torch half of each likelihood p(x|z): its log-density and mean on tensors.

Each entry subclasses the numpy entry of the same name in ``vae_numpy.likelihoods``,
which holds everything else about it (its parameters, the pixel views it accepts, its
units, its elbo_math check), and is registered here under that name; the models take
their likelihood from this registry. The formulas are vae_numpy's, on tensors, with
the constants imported from there; ``tests/crosscheck`` holds each pair equal.

    (3.2)  Bernoulli from logits: log p(x|z) = Σ_d [x_d ℓ_d − softplus(ℓ_d)]
           = −BCEWithLogits(ℓ, x), torch's fused, stable kernel
    (3.4)  Gaussian with fixed σ: log p(x|z) = −‖x − x̂‖²/(2σ²) − (D/2) log(2πσ²)
    (3.7)  continuous Bernoulli: (3.2) + log C(η), with (3.8) and its mean (3.9)
    (3.10) discretised logistic, in the stable form (3.12), and its mean (3.13)

Every function sums over the last axis and keeps the leading ones: (..., D) -> (...),
x broadcasting against extra leading axes of the decoder's output (k samples).
"""

import math

import torch
import torch.nn.functional as F

from vae_numpy import likelihoods as reference
from vae_numpy.likelihoods import (
    CB_LOG_C,
    CB_LOG_C_SERIES_BELOW,
    CB_MEAN,
    CB_MEAN_SERIES_BELOW,
    DL_LOG_SCALE_MIN,
    Likelihood,
    dl_terms,
    likelihood_class,
)
from vae_numpy.run.errors import VaeError


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
    """(3.4) per example, the constant kept: (..., D) -> (...)."""
    d = x.shape[-1]
    return -((x - mean) ** 2).sum(dim=-1) / (2 * sigma**2) - 0.5 * d * math.log(
        2 * math.pi * sigma**2
    )


def cb_log_normaliser(eta: torch.Tensor) -> torch.Tensor:
    """(3.7), (3.8) log C(η), as vae_numpy.likelihoods.cb_log_normaliser."""
    a = eta.abs()
    big = a.clamp(min=CB_LOG_C_SERIES_BELOW)
    closed = big.log() - torch.log(-torch.expm1(-big)) + torch.log1p(torch.exp(-big))
    e2 = a * a
    series = sum(c * e2**i for i, c in enumerate(CB_LOG_C))
    return torch.where(a < CB_LOG_C_SERIES_BELOW, series, closed)


def cb_mean(eta: torch.Tensor) -> torch.Tensor:
    """(3.9) E[x] of the continuous Bernoulli, as vae_numpy.likelihoods.cb_mean."""
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
    d = out.shape[-1] // 2
    mu, inv_s = out[..., :d], torch.exp(-out[..., d:].clamp(min=DL_LOG_SCALE_MIN))
    total = torch.zeros_like(mu)
    for j in range(1, 256):
        total += torch.sigmoid((mu - (2 * j - 1) / 255 + 1) * inv_s)
    return total / 255


TORCH_LIKELIHOODS: dict[str, type[Likelihood]] = {}


def register(cls: type[Likelihood]) -> type[Likelihood]:
    """Make ``cls``, a subclass of the numpy entry of the same name whose ``log_prob`` and
    ``mean`` take tensors, the likelihood the torch models use under that name."""
    numpy_entry = likelihood_class(cls.name)
    if not issubclass(cls, numpy_entry):
        raise TypeError(f"{cls.__name__} must subclass the numpy entry {numpy_entry.__name__}")
    TORCH_LIKELIHOODS[cls.name] = cls
    return cls


def make_likelihood(config) -> Likelihood:
    """The torch likelihood that a TrainConfig names, with its parameters."""
    likelihood_class(config.likelihood)  # an unknown name: the numpy registry's message
    try:
        cls = TORCH_LIKELIHOODS[config.likelihood]
    except KeyError:
        raise VaeError(
            f"the {config.likelihood} likelihood has no torch half; register one in "
            "vae_torch.likelihoods (CONTRIBUTING.md, 'Add a likelihood')"
        ) from None
    return cls(**config.likelihood_params)


@register
class Bernoulli(reference.Bernoulli):
    def log_prob(self, x, out):
        return bernoulli_log_likelihood(x, out)  # (3.2)

    def mean(self, out):
        return out.sigmoid()


@register
class ContinuousBernoulli(reference.ContinuousBernoulli):
    def log_prob(self, x, out):
        return cb_log_likelihood(x, out)  # (3.7)

    def mean(self, out):
        return cb_mean(out)  # (3.9)


@register
class Gaussian(reference.Gaussian):
    def log_prob(self, x, out):
        return gaussian_log_likelihood(x, out, self.sigma)  # (3.4)

    def mean(self, out):
        return out


@register
class DiscretizedLogistic(reference.DiscretizedLogistic):
    def log_prob(self, x, out):
        return dl_log_likelihood(x, out)  # (3.10), (3.12)

    def mean(self, out):
        return dl_mean(out)  # (3.13)
