"""Both backends' formulas equal elbo_math's, the float64 forms lambdified from the very
expressions sympy verifies, on hypothesis-drawn arrays: log-variances up to ±30 and
logits up to ±100 included, where every number must also stay finite.

    (4.7) KL = ½ Σ (μ² + e^{log σ²} − 1 − log σ²)      (6.1), (6.2) its gradients
    (5.1) z = μ + e^{½ log σ²} ε                        (4.1) log N(z; μ, σ²)
    (3.2) log p(x|z) = Σ x ℓ − softplus(ℓ)              (6.3) ∂/∂ℓ = x − sigmoid(ℓ)
    (3.4) log p(x|z) = −‖x − x̂‖²/2σ² − (D/2) log 2πσ²   (6.4) ∂/∂x̂ = (x − x̂)/σ²

The last tests break one formula at a time in one backend and show the comparison fails.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from crosscheck.backends import BACKENDS, NUMPY, TORCH
from crosscheck.common import (
    DATA,
    LATENTS,
    LOG_VARS,
    LOGITS,
    MEANS,
    NOISE,
    PIXELS,
    SAME_FORMULA_TOL,
    SIGMAS,
    batches,
    discrepancy,
    elementwise,
    summed,
)
from elbo_math import numeric
from vae_numpy import gaussian
from vae_numpy.likelihoods import LIKELIHOODS
from vae_torch import gaussian as torch_gaussian
from vae_torch import likelihoods as torch_likelihoods

# -- the comparisons: each a discrepancy, relative to the scale rounding is relative to --


def kl_discrepancy(backend, mu, log_var) -> float:
    reference = summed(numeric.gaussian_kl_std_normal(mu, log_var, elementwise=True))
    return discrepancy(backend.kl(mu, log_var), *reference)


def kl_grad_discrepancy(backend, mu, log_var) -> float:
    ours = backend.kl_grad(mu, log_var)
    theirs = numeric.grad_gaussian_kl_std_normal(mu, log_var)
    return max(discrepancy(a, *elementwise(b)) for a, b in zip(ours, theirs, strict=True))


def reparameterize_discrepancy(backend, mu, log_var, eps) -> float:
    """relative to the terms |μ| + σ|ε|."""
    scale = 1 + np.abs(mu) + numeric.std_from_log_var(log_var) * np.abs(eps)
    reference = numeric.reparameterize(mu, log_var, eps)
    return discrepancy(backend.reparameterize(mu, log_var, eps), reference, scale)


def log_normal_discrepancy(backend, z, mu, log_var) -> float:
    general = summed(numeric.diag_gaussian_log_density(z, mu, log_var, elementwise=True))
    zero = np.zeros_like(z)
    standard = summed(numeric.diag_gaussian_log_density(z, zero, zero, elementwise=True))
    return max(
        discrepancy(backend.log_normal(z, mu, log_var), *general),
        discrepancy(backend.log_std_normal(z), *standard),
    )


def bernoulli_discrepancy(backend, x, logits) -> float:
    terms = numeric.bernoulli_log_likelihood_from_logits(x, logits, elementwise=True)
    scale = 1 + (np.abs(x * logits) + np.abs(terms)).sum(-1)  # x ℓ and softplus ℓ cancel
    return discrepancy(backend.bernoulli(x, logits), terms.sum(-1), scale)


def bernoulli_grad_discrepancy(backend, x, logits) -> float:
    reference = numeric.grad_bernoulli_log_likelihood_from_logits(x, logits)
    return discrepancy(backend.bernoulli_grad(x, logits), *elementwise(reference))


def gaussian_discrepancy(backend, x, mean, sigma) -> float:
    reference = summed(numeric.gaussian_log_likelihood(x, mean, sigma, elementwise=True))
    return discrepancy(backend.gaussian(x, mean, sigma), *reference)


def gaussian_grad_discrepancy(backend, x, mean, sigma) -> float:
    reference = numeric.grad_gaussian_log_likelihood(x, mean, sigma)
    return discrepancy(backend.gaussian_grad(x, mean, sigma), *elementwise(reference))


# -- both backends equal elbo_math ---------------------------------------------------------

backends = pytest.mark.parametrize("backend", BACKENDS, ids=repr)


@backends
@given(batches(MEANS, LOG_VARS))
def test_kl_equals_the_verified_closed_form_eq_4_7(backend, values):
    assert kl_discrepancy(backend, *values) < SAME_FORMULA_TOL


@backends
@given(batches(MEANS, LOG_VARS))
def test_kl_gradient_equals_the_verified_derivatives_eq_6_1_6_2(backend, values):
    assert kl_grad_discrepancy(backend, *values) < SAME_FORMULA_TOL


@backends
@given(batches(MEANS, LOG_VARS, NOISE))
def test_reparameterize_equals_the_verified_form_eq_5_1(backend, values):
    assert reparameterize_discrepancy(backend, *values) < SAME_FORMULA_TOL


@backends
@given(batches(LATENTS, MEANS, LOG_VARS))
def test_log_normal_equals_the_verified_log_density_eq_4_2(backend, values):
    assert log_normal_discrepancy(backend, *values) < SAME_FORMULA_TOL


@backends
@given(batches(PIXELS, LOGITS), st.booleans())
def test_bernoulli_log_likelihood_equals_the_verified_form_for_logits_to_100_eq_3_2(
    backend, values, binary
):
    x, logits = values
    assert bernoulli_discrepancy(backend, np.round(x) if binary else x, logits) < SAME_FORMULA_TOL


@backends
@given(batches(PIXELS, LOGITS))
def test_bernoulli_gradient_equals_the_verified_derivative_eq_6_3(backend, values):
    assert bernoulli_grad_discrepancy(backend, *values) < SAME_FORMULA_TOL


@backends
@given(batches(DATA, DATA), SIGMAS)
def test_gaussian_log_likelihood_equals_the_verified_form_eq_3_4(backend, values, sigma):
    assert gaussian_discrepancy(backend, *values, sigma) < SAME_FORMULA_TOL


@backends
@given(batches(DATA, DATA), SIGMAS)
def test_gaussian_gradient_equals_the_verified_derivative_eq_6_4(backend, values, sigma):
    assert gaussian_grad_discrepancy(backend, *values, sigma) < SAME_FORMULA_TOL


# -- a broken implementation is reported ---------------------------------------------------

MU = np.array([[0.5, -1.0, 2.0]])
LOG_VAR = np.array([[1.0, -2.0, 0.7]])  # away from 0, where σ = σ² would hide the bug
EPS = np.array([[1.3, -0.4, 0.8]])
X, MEAN, SIGMA = np.array([[0.2, 0.9, -1.0]]), np.array([[0.0, 1.0, -0.5]]), 0.3
BROKEN = 1e6 * SAME_FORMULA_TOL


@pytest.mark.parametrize(
    ("backend", "module", "exp"), [(NUMPY, gaussian, np.exp), (TORCH, torch_gaussian, torch.exp)]
)
def test_a_variance_used_as_std_is_reported_eq_5_1(monkeypatch, backend, module, exp):
    assert reparameterize_discrepancy(backend, MU, LOG_VAR, EPS) < SAME_FORMULA_TOL
    monkeypatch.setattr(module, "std", lambda log_var: exp(log_var))
    assert reparameterize_discrepancy(backend, MU, LOG_VAR, EPS) > BROKEN


def test_a_dropped_gaussian_constant_is_reported_eq_3_4(monkeypatch):
    assert gaussian_discrepancy(TORCH, X, MEAN, SIGMA) < SAME_FORMULA_TOL
    monkeypatch.setattr(
        torch_likelihoods,
        "gaussian_log_likelihood",
        lambda x, mean, sigma: -((x - mean) ** 2).sum(-1) / (2 * sigma**2),
    )
    assert gaussian_discrepancy(TORCH, X, MEAN, SIGMA) > BROKEN


def test_a_kl_without_its_minus_one_is_reported_eq_4_7(monkeypatch):
    assert kl_discrepancy(TORCH, MU, LOG_VAR) < SAME_FORMULA_TOL
    monkeypatch.setattr(
        torch_gaussian,
        "kl_std_normal",
        lambda mu, log_var: 0.5 * (mu * mu + torch.exp(log_var) - log_var).sum(-1),
    )
    assert kl_discrepancy(TORCH, MU, LOG_VAR) > BROKEN
    assert kl_grad_discrepancy(TORCH, MU, LOG_VAR) < SAME_FORMULA_TOL  # a constant: only
    # the value reveals it, which is why both are compared


def test_sigmoid_then_log_is_reported_at_large_logits_eq_3_2(monkeypatch):
    x, logits = np.array([[1.0, 0.0, 1.0]]), np.array([[-100.0, 100.0, 3.0]])
    assert bernoulli_discrepancy(TORCH, x, logits) < SAME_FORMULA_TOL

    def sigmoid_then_log(x, logits):
        p = torch.sigmoid(logits)
        return (x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(-1)

    monkeypatch.setattr(torch_likelihoods, "bernoulli_log_likelihood", sigmoid_then_log)
    assert bernoulli_discrepancy(TORCH, x, logits) == np.inf  # log(1 − 1) = −inf


@pytest.mark.parametrize("name", sorted(LIKELIHOODS))
def test_every_registered_likelihood_names_a_passing_elbo_math_check(name):
    """The registry's link from code to mathematics: each likelihood's ``check`` exists
    and passes, so the log-density it implements is one elbo_math verified."""
    from elbo_math.registry import get_check

    check = get_check(LIKELIHOODS[name].check)
    assert check.kind == "identity"
    assert check.verify().passed, check.id
