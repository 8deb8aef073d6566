"""vae_numpy's own layers against elbo_math.numeric: the stable sigmoid and softplus, the
activations' and the linear layer's backward passes, and the gradient checker's error.
(The formulas both backends share, KL, likelihoods, reparameterization, are compared in
tests/crosscheck/test_closed_forms.py, for both.)

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

from crosscheck.common import DATA, LOGITS, SAME_FORMULA_TOL, batches, discrepancy, elementwise
from elbo_math import gradcheck as gradcheck_math
from elbo_math import numeric
from vae_numpy import gradcheck, layers

# The next term of the four-point stencil's error, h⁶ f⁽⁷⁾/252, is below 0.12 h² of the
# leading one (3e-4 at h = 0.05); round-off, ~1e-16/h, is below 1e-7 of it. Richardson's
# |D(2h) − D(h)|/15 is the leading term to 0.5 h² (2e-4 at h = 0.02), and round-off
# ~1e-17/h, below 1e-5 of it at h = 0.01.
LEADING_ERROR_RTOL = 1e-2

PRE_ACTIVATIONS = st.floats(-100, 100)
UPSTREAM = st.floats(-10, 10)


# -- the comparisons ------------------------------------------------------------------


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


@pytest.mark.parametrize("step", [0.01, 0.02])
@pytest.mark.parametrize("theta", [-1.0, 0.3, 2.0])
def test_the_truncation_bound_is_h4_f5_over_30_eq_6_10(theta, step):
    """The tolerance's truncation term, twice |D(2h) − D(h)| / 15, is twice the size of
    (6.10)'s error −h⁴ f⁽⁵⁾/30 (for sin, h⁴ |cos θ| / 30); the rest of the tolerance,
    round-off, is a few ε_machine / h; cos θ lies within it."""
    param = np.array([theta])
    d = gradcheck.differences(lambda: float(np.sin(param[0])), {"theta": param}, step)["theta"]
    fifth = gradcheck_math.derivative(5)
    predicted = abs(
        float(gradcheck_math.FOUR_POINT_ERROR.subs({fifth: sp.cos(theta), gradcheck_math.h: step}))
    )
    margin = gradcheck.TRUNCATION_MARGIN
    assert d.truncation[0] == pytest.approx(margin * predicted, rel=LEADING_ERROR_RTOL)
    assert d.rounding < 100 * np.finfo(np.float64).eps / step
    assert d.error(np.cos(param)) <= 1


# -- a broken implementation is reported ------------------------------------------------


def test_the_comparison_reports_a_softplus_that_overflows_eq_6_9(monkeypatch):
    t = np.array([[-100.0, 0.0, 100.0, 800.0]])
    assert sigmoid_softplus_discrepancy(t) < SAME_FORMULA_TOL
    with np.errstate(over="ignore"):
        monkeypatch.setattr(layers, "softplus", lambda t: np.log(1 + np.exp(t)))
        assert sigmoid_softplus_discrepancy(t) == np.inf
