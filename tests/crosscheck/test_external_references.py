"""Both backends agree with references nobody here wrote: torch.distributions,
scipy.stats and torch.nn.functional's losses, with the scale and constant stated.

    (3.2) Σ_d log Bernoulli(x_d; sigmoid ℓ_d)  = Bernoulli(logits=ℓ).log_prob(x) summed
                                                = scipy bernoulli.logpmf(x, sigmoid ℓ) summed
                                                = −BCEWithLogits(ℓ, x, reduction="sum")
    (3.4) Σ_d log N(x_d; x̂_d, σ²)             = Normal(x̂, σ).log_prob(x) summed
                                                = scipy norm.logpdf(x, x̂, σ) summed
                                                = −gaussian_nll_loss(x̂, x, σ², full=True, sum)
                                                = −mse_loss(sum)/(2σ²) − (D/2) log 2πσ²
    (4.1) log N(z; μ, σ²)                       = Normal(μ, σ).log_prob(z) summed
    (4.7) KL(N(μ, σ²) ‖ N(0, I))                = kl_divergence(Normal(μ, σ), Normal(0, 1))

scipy's bernoulli.logpmf takes a probability, so it is compared where sigmoid ℓ is not
rounded to 0 or 1 (|ℓ| <= 30); the logit-based references cover ±100.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from torch.distributions import Bernoulli, Normal, kl_divergence

from crosscheck.backends import BACKENDS
from crosscheck.common import (
    DATA,
    LATENTS,
    LOGITS,
    MEANS,
    PIXELS,
    SIGMAS,
    batches,
    discrepancy,
    summed,
)

# Another library's arrangement of the same float64 formula: a few ulp of the largest
# term apart, as between our own backends; the same margin as there.
REFERENCE_TOL = 1e-12
MODERATE_LOGITS = st.floats(-30, 30)
MODERATE_LOG_VARS = st.floats(-20, 20)  # torch's Normal takes σ: e^{±10} keeps it exact

backends = pytest.mark.parametrize("backend", BACKENDS, ids=repr)


def t(a) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64))


@backends
@given(batches(PIXELS, LOGITS))
def test_bernoulli_equals_torch_distributions_and_bce_with_logits_eq_3_2(backend, values):
    x, logits = np.round(values[0]), values[1]  # Bernoulli.log_prob needs binary x
    ours = backend.bernoulli(x, logits)
    terms = Bernoulli(logits=t(logits)).log_prob(t(x)).numpy()
    assert discrepancy(ours, *summed(terms)) < REFERENCE_TOL
    bce = F.binary_cross_entropy_with_logits(t(logits), t(x), reduction="none").sum(-1)
    assert discrepancy(ours, -bce.numpy(), 1 + np.abs(terms).sum(-1)) < REFERENCE_TOL


@backends
@given(batches(PIXELS, MODERATE_LOGITS))
def test_bernoulli_equals_scipy_logpmf_eq_3_2(backend, values):
    x, logits = np.round(values[0]), values[1]
    p = 1 / (1 + np.exp(-logits))
    terms = stats.bernoulli.logpmf(x, p)
    # scipy works from p, whose rounding (relative 1e-16 of p and of 1 − p) moves the log by
    # up to ~e^{|ℓ|} ulp: 1e-16 e^{30} ≈ 1e-3 at the range's end, 1e-16 near ℓ = 0
    scale = (1 + np.abs(terms)) * np.exp(np.abs(logits))
    assert (
        discrepancy(
            backend.bernoulli(x, logits)[..., None],
            terms.sum(-1, keepdims=True),
            scale.sum(-1, keepdims=True),
        )
        < REFERENCE_TOL
    )


@backends
@given(batches(DATA, DATA), SIGMAS)
def test_gaussian_equals_torch_scipy_and_the_scaled_squared_error_eq_3_4(backend, values, sigma):
    x, mean = values
    ours = backend.gaussian(x, mean, sigma)
    terms = Normal(t(mean), sigma).log_prob(t(x)).numpy()
    reference = summed(terms)
    assert discrepancy(ours, *reference) < REFERENCE_TOL
    assert discrepancy(ours, *summed(stats.norm.logpdf(x, mean, sigma))) < REFERENCE_TOL
    nll = F.gaussian_nll_loss(
        t(mean),
        t(x),
        torch.full(x.shape, sigma**2, dtype=torch.float64),
        full=True,
        reduction="none",
        eps=0.0,
    ).sum(-1)
    assert discrepancy(ours, -nll.numpy(), reference[1]) < REFERENCE_TOL
    d = x.shape[-1]
    sse = F.mse_loss(t(mean), t(x), reduction="none").sum(-1).numpy()
    scaled = -sse / (2 * sigma**2) - d / 2 * math.log(2 * math.pi * sigma**2)
    assert discrepancy(ours, scaled, reference[1]) < REFERENCE_TOL


@backends
@given(batches(LATENTS, MEANS, MODERATE_LOG_VARS))
def test_log_normal_equals_torch_and_scipy_eq_4_2(backend, values):
    z, mu, log_var = values
    sd = np.exp(0.5 * log_var)
    assert (
        discrepancy(
            backend.log_normal(z, mu, log_var), *summed(Normal(t(mu), t(sd)).log_prob(t(z)).numpy())
        )
        < REFERENCE_TOL
    )
    assert discrepancy(backend.log_std_normal(z), *summed(stats.norm.logpdf(z))) < REFERENCE_TOL


@backends
@given(batches(MEANS, MODERATE_LOG_VARS))
def test_kl_equals_torch_kl_divergence_eq_4_7(backend, values):
    mu, log_var = values
    prior = Normal(torch.zeros(mu.shape, dtype=torch.float64), 1.0)
    terms = kl_divergence(Normal(t(mu), t(np.exp(0.5 * log_var))), prior).numpy()
    assert discrepancy(backend.kl(mu, log_var), *summed(terms)) < REFERENCE_TOL
