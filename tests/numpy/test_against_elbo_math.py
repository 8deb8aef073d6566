"""vae_numpy's formulas against elbo_math.numeric, the float64 forms lambdified from the
expressions sympy verifies: the same numbers on hypothesis-drawn arrays, including
log-variances up to ±30 and logits up to ±100, where both must stay finite.

Each comparison is a small function returning a discrepancy (max |ours − reference| over
a scale), so the same function can be handed a deliberately broken implementation and
shown to report it (the last tests). vae_numpy is reached through its modules
(``gaussian.std``, not ``std``), so a monkeypatched function is the one compared.

Sign conventions: elbo_math differentiates log-likelihoods; vae_numpy's ``*_grad``
functions differentiate the negative log-likelihood it minimizes.
"""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from elbo_math import gradcheck as gradcheck_math
from elbo_math import numeric
from vae_numpy import gaussian, gradcheck, layers, likelihoods

# Two float64 arrangements of one formula: rounding is a few ulp of the largest term
# (e^{log σ²} ≈ 1e13 at log σ² = 30, logits 100), ~1e-14 of the scale each discrepancy
# divides by. 1e-12 leaves a margin of 100 and is far below any wrong constant or factor.
SAME_FORMULA_TOL = 1e-12
# The next term of the four-point stencil's error, h⁶ f⁽⁷⁾/252, is below 0.12 h² of the
# leading one (3e-4 at h = 0.05); round-off, ~1e-16/h, is below 1e-7 of it.
LEADING_ERROR_RTOL = 1e-2

MEANS = st.floats(-10, 10)
LOG_VARS = st.floats(-30, 30)
NOISE = st.floats(-5, 5)
LATENTS = st.floats(-10, 10)
LOGITS = st.floats(-100, 100)
DATA = st.floats(-10, 10)
PIXELS = st.floats(0, 1)
SIGMAS = st.floats(0.05, 5)
PRE_ACTIVATIONS = st.floats(-100, 100)
UPSTREAM = st.floats(-10, 10)


def batches(*elements: st.SearchStrategy[float]):
    """Float64 arrays of one shape (B, n), B in 1..4, n in 1..6, one per strategy."""
    shapes = st.tuples(st.integers(1, 4), st.integers(1, 6))
    return shapes.flatmap(
        lambda s: st.tuples(*(arrays(np.float64, s, elements=e) for e in elements))
    )


def discrepancy(ours, reference, scale) -> float:
    """max |ours − reference| / scale; inf if ours is not finite or has another shape."""
    ours, reference = np.asarray(ours, dtype=np.float64), np.asarray(reference)
    if ours.shape != reference.shape or not np.isfinite(ours).all():
        return np.inf
    return float(np.max(np.abs(ours - reference) / scale, initial=0.0))


def summed(terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A sum over the last axis and its scale, 1 + Σ |term|: what rounding is relative to."""
    return terms.sum(-1), 1 + np.abs(terms).sum(-1)


def elementwise(reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return reference, 1 + np.abs(reference)


# -- the comparisons ------------------------------------------------------------------


def kl_discrepancy(mu, log_var) -> float:
    """(4.7) KL(N(μ, e^{log σ²}) ‖ N(0, I)) per example."""
    reference = summed(numeric.gaussian_kl_std_normal(mu, log_var, elementwise=True))
    return discrepancy(gaussian.kl_std_normal(mu, log_var), *reference)


def kl_grad_discrepancy(mu, log_var) -> float:
    """(6.1), (6.2) ∂KL/∂μ and ∂KL/∂log σ²."""
    ours = gaussian.kl_std_normal_grad(mu, log_var)
    theirs = numeric.grad_gaussian_kl_std_normal(mu, log_var)
    return max(discrepancy(a, *elementwise(b)) for a, b in zip(ours, theirs, strict=True))


def reparameterize_discrepancy(mu, log_var, eps) -> float:
    """(5.1) z = μ + exp(½ log σ²) ε, relative to the terms |μ| + σ|ε|."""
    scale = 1 + np.abs(mu) + numeric.std_from_log_var(log_var) * np.abs(eps)
    reference = numeric.reparameterize(mu, log_var, eps)
    return discrepancy(gaussian.reparameterize(mu, log_var, eps), reference, scale)


def log_normal_discrepancy(z, mu, log_var) -> float:
    """(4.2) log N(z; μ, diag e^{log σ²}) and log N(z; 0, I)."""
    general = summed(numeric.diag_gaussian_log_density(z, mu, log_var, elementwise=True))
    zero = np.zeros_like(z)
    standard = summed(numeric.diag_gaussian_log_density(z, zero, zero, elementwise=True))
    return max(
        discrepancy(gaussian.log_normal(z, mu, log_var), *general),
        discrepancy(gaussian.log_std_normal(z), *standard),
    )


def bernoulli_discrepancy(x, logits) -> float:
    """(3.2) Σ_d [x_d ℓ_d − softplus(ℓ_d)] per example."""
    terms = numeric.bernoulli_log_likelihood_from_logits(x, logits, elementwise=True)
    scale = 1 + (np.abs(x * logits) + np.abs(terms)).sum(-1)  # x ℓ and softplus ℓ cancel
    return discrepancy(likelihoods.bernoulli_log_likelihood(x, logits), terms.sum(-1), scale)


def bernoulli_grad_discrepancy(x, logits) -> float:
    """(6.3) ∂(−log p)/∂ℓ = −(x − sigmoid ℓ)."""
    reference = -numeric.grad_bernoulli_log_likelihood_from_logits(x, logits)
    return discrepancy(likelihoods.bernoulli_grad(x, logits), *elementwise(reference))


def gaussian_discrepancy(x, mean, sigma) -> float:
    """(3.4) Σ_d log N(x_d; x̂_d, σ²) per example, the constant −(D/2) log 2πσ² included."""
    reference = summed(numeric.gaussian_log_likelihood(x, mean, sigma, elementwise=True))
    return discrepancy(likelihoods.gaussian_log_likelihood(x, mean, sigma), *reference)


def gaussian_grad_discrepancy(x, mean, sigma) -> float:
    """(6.4) ∂(−log p)/∂x̂ = −(x − x̂)/σ²."""
    reference = -numeric.grad_gaussian_log_likelihood(x, mean, sigma)
    return discrepancy(likelihoods.gaussian_grad(x, mean, sigma), *elementwise(reference))


def sigmoid_softplus_discrepancy(t) -> float:
    """(6.9) the stable forms; sigmoid relative to itself (it is ~e^{−100} at t = −100)."""
    sigmoid = numeric.sigmoid(t)
    return max(
        discrepancy(layers.sigmoid(t), sigmoid, sigmoid + np.finfo(np.float64).tiny),
        discrepancy(layers.softplus(t), *elementwise(numeric.softplus(t))),
    )


DERIVATIVES = {
    "relu": numeric.relu_derivative,  # (6.7)
    "tanh": numeric.tanh_derivative,  # (6.8)
    "sigmoid": numeric.sigmoid_derivative,  # (6.9)
}


def activation_backward_discrepancy(name: str, t, upstream) -> float:
    """backward(dy, cache) = dy · f′(t), for the cache its forward keeps."""
    activation = layers.ACTIVATIONS[name]
    _, cache = activation.forward(t)
    reference = upstream * DERIVATIVES[name](t)
    return discrepancy(activation.backward(upstream, cache), *elementwise(reference))


def linear_backward_discrepancy(x, weight, bias, upstream) -> float:
    """(6.6) (∂L/∂x, ∂L/∂W, ∂L/∂b) = (G Wᵀ, xᵀ G, Σ_batch G), relative to the products'
    terms |G| |W|ᵀ, |x|ᵀ |G|, Σ |G|."""
    linear = layers.Linear(weight, bias)
    _, cache = linear.forward(x)
    dx, grads = linear.backward(upstream, cache)
    references = numeric.linear_backward(x, weight, upstream)
    g, w, a = np.abs(upstream), np.abs(weight), np.abs(x)
    scales = (1 + g @ w.T, 1 + a.T @ g, 1 + g.sum(0))
    ours = (dx, grads["weight"], grads["bias"])
    return max(map(discrepancy, ours, references, scales))


# -- vae_numpy equals elbo_math -------------------------------------------------------


@given(batches(MEANS, LOG_VARS))
def test_kl_equals_elbo_math_closed_form_eq_4_7(values):
    assert kl_discrepancy(*values) < SAME_FORMULA_TOL


@given(batches(MEANS, LOG_VARS))
def test_kl_gradient_equals_elbo_math_eq_6_1_6_2(values):
    assert kl_grad_discrepancy(*values) < SAME_FORMULA_TOL


@given(batches(MEANS, LOG_VARS, NOISE))
def test_reparameterize_equals_elbo_math_eq_5_1(values):
    assert reparameterize_discrepancy(*values) < SAME_FORMULA_TOL


@given(batches(LATENTS, MEANS, LOG_VARS))
def test_log_normal_and_log_std_normal_equal_elbo_math_log_density_eq_4_2(values):
    assert log_normal_discrepancy(*values) < SAME_FORMULA_TOL


@given(batches(PIXELS, LOGITS), st.booleans())
def test_bernoulli_log_likelihood_equals_elbo_math_for_logits_to_100_eq_3_2(values, binary):
    x, logits = values
    x = np.round(x) if binary else x
    assert bernoulli_discrepancy(x, logits) < SAME_FORMULA_TOL


@given(batches(PIXELS, LOGITS))
def test_bernoulli_grad_is_minus_elbo_math_log_likelihood_grad_eq_6_3(values):
    assert bernoulli_grad_discrepancy(*values) < SAME_FORMULA_TOL


@given(batches(DATA, DATA), SIGMAS)
def test_gaussian_log_likelihood_equals_elbo_math_eq_3_4(values, sigma):
    assert gaussian_discrepancy(*values, sigma) < SAME_FORMULA_TOL


@given(batches(DATA, DATA), SIGMAS)
def test_gaussian_grad_is_minus_elbo_math_log_likelihood_grad_eq_6_4(values, sigma):
    assert gaussian_grad_discrepancy(*values, sigma) < SAME_FORMULA_TOL


@given(batches(LOGITS))
def test_stable_sigmoid_and_softplus_equal_elbo_math_for_logits_to_100_eq_6_9(values):
    assert sigmoid_softplus_discrepancy(*values) < SAME_FORMULA_TOL


@pytest.mark.parametrize("name", sorted(DERIVATIVES))
@given(values=batches(PRE_ACTIVATIONS, UPSTREAM))
def test_activation_backward_equals_elbo_math_derivative_eq_6_7_to_6_9(name, values):
    assert activation_backward_discrepancy(name, *values) < SAME_FORMULA_TOL


def test_relu_backward_is_zero_at_the_kink_as_elbo_math_states_eq_6_7():
    t, upstream = np.array([[-0.0, 0.0, 1e-300, -1e-300]]), np.ones((1, 4))
    assert activation_backward_discrepancy("relu", t, upstream) == 0.0


@st.composite
def linear_cases(draw):
    batch, n_in, n_out = (draw(st.integers(1, 4)) for _ in range(3))
    matrix = lambda shape: draw(arrays(np.float64, shape, elements=DATA))  # noqa: E731
    return matrix((batch, n_in)), matrix((n_in, n_out)), matrix(n_out), matrix((batch, n_out))


@given(linear_cases())
def test_linear_backward_equals_elbo_math_eq_6_6(case):
    assert linear_backward_discrepancy(*case) < SAME_FORMULA_TOL


@pytest.mark.parametrize("step", [0.05, 0.1])
@pytest.mark.parametrize("theta", [-1.0, 0.3, 2.0])
def test_numerical_gradient_error_is_minus_h4_f5_over_30_eq_6_10(theta, step):
    """sin: f′ = cos and f⁽⁵⁾ = cos, so the predicted error is −h⁴ cos θ / 30."""
    param = np.array([theta])
    estimate = gradcheck.numerical_gradient(lambda: float(np.sin(param[0])), param, step)[0]
    fifth = gradcheck_math.derivative(5)
    predicted = float(
        gradcheck_math.FOUR_POINT_ERROR.subs({fifth: sp.cos(theta), gradcheck_math.h: step})
    )
    measured = estimate - np.cos(theta)
    assert measured == pytest.approx(predicted, rel=LEADING_ERROR_RTOL), (measured, predicted)


# -- a broken implementation is reported ------------------------------------------------

MU = np.array([[0.5, -1.0, 2.0]])
LOG_VAR = np.array([[1.0, -2.0, 0.7]])  # away from 0, where σ = σ² would hide the bug
EPS = np.array([[1.3, -0.4, 0.8]])


def test_the_comparison_reports_the_variance_used_as_std_eq_5_1(monkeypatch):
    assert reparameterize_discrepancy(MU, LOG_VAR, EPS) < SAME_FORMULA_TOL
    monkeypatch.setattr(gaussian, "std", lambda log_var: np.exp(log_var))
    assert reparameterize_discrepancy(MU, LOG_VAR, EPS) > 1e6 * SAME_FORMULA_TOL


def test_the_comparison_reports_a_dropped_gaussian_constant_eq_3_4(monkeypatch):
    x, mean, sigma = np.array([[0.2, 0.9, -1.0]]), np.array([[0.0, 1.0, -0.5]]), 0.3
    assert gaussian_discrepancy(x, mean, sigma) < SAME_FORMULA_TOL

    def without_constant(x, mean, sigma):
        return -np.sum((x - mean) ** 2, axis=-1) / (2 * sigma**2)

    monkeypatch.setattr(likelihoods, "gaussian_log_likelihood", without_constant)
    assert gaussian_discrepancy(x, mean, sigma) > 1e6 * SAME_FORMULA_TOL


def test_the_comparison_reports_a_softplus_that_overflows_eq_6_9(monkeypatch):
    t = np.array([[-100.0, 0.0, 100.0, 800.0]])
    assert sigmoid_softplus_discrepancy(t) < SAME_FORMULA_TOL
    with np.errstate(over="ignore"):
        monkeypatch.setattr(layers, "softplus", lambda t: np.log(1 + np.exp(t)))
        assert sigmoid_softplus_discrepancy(t) == np.inf
