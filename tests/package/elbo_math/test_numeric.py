"""The lambdified closed forms of elbo_math.numeric against references nobody here wrote
(scipy.stats, scipy.integrate.quad, scipy.special), on hypothesis-drawn parameters; their
derivatives against finite differences; and bad input raising ValueError."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import integrate, special, stats

from elbo_math import gaussian, gradients, kl, layers, likelihoods, numeric, reparam

# Different but equivalent float64 formulas on terms of size <= 1e3: rounding is ~1e-13.
REFERENCE_RTOL = 1e-10
REFERENCE_ATOL = 1e-10
# quad's own error estimate on these smooth, well-scaled integrands is below 1e-9.
QUAD_TOL = 1e-7
# scipy's Bernoulli takes log(1 − sigmoid(ℓ)): at |ℓ| <= 15 that loses up to ~1e-9.
BERNOULLI_REFERENCE_TOL = 1e-8
# Central differences, h = 1e-6: truncation ~h² f''' and rounding ~1e-16 |f| / h ~ 1e-7.
FINITE_DIFFERENCE_TOL = 1e-5
FD_STEP = 1e-6


def real(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


MEANS = real(-5, 5)
LOG_VARS = real(-4, 3)
STDS = real(0.05, 5)
DATA = real(-10, 10)
LOGITS = real(-15, 15)


def vectors(*elements: st.SearchStrategy[float], max_size: int = 6):
    """Equal-length float64 vectors, one per strategy."""
    return st.integers(1, max_size).flatmap(
        lambda n: st.tuples(*(arrays(np.float64, n, elements=e) for e in elements))
    )


def test_numeric_forms_are_the_verified_expressions():
    verified = {
        "normal_logpdf": gaussian.LOG_DENSITY,
        "log_density_log_var": gaussian.LOG_DENSITY_LOG_VAR,
        "entropy": gaussian.ENTROPY_LOG_VAR,
        "kl": kl.KL_LOG_VAR,
        "kl_std_normal": kl.KL_STD_NORMAL_LOG_VAR_EXPM1,
        "bernoulli": likelihoods.BERNOULLI_LOG_LIKELIHOOD_LOGITS,
        "gaussian": likelihoods.GAUSSIAN_LOG_LIKELIHOOD,
        "bits_per_dim_dequantized": likelihoods.BITS_PER_DIM_DEQUANTIZED,
        "z": reparam.Z,
        "dz_dmu": reparam.DZ_DMU,
        "dz_dlog_var": reparam.DZ_DLOG_VAR,
        "dkl_dmu": gradients.DKL_DMU,
        "dkl_dlog_var": gradients.DKL_DLOG_VAR,
        "dbernoulli": gradients.DBERNOULLI_DLOGIT,
        "dgaussian": gradients.DGAUSSIAN_DMEAN,
        "df_dmu": gradients.DF_DMU,
        "df_dlog_var": gradients.DF_DLOG_VAR,
        "std": reparam.STD,
        "drelu": layers.DRELU,
        "dtanh": layers.DTANH,
        "dsigmoid": layers.DSIGMOID,
    }
    assert {name: expr for name, (_, expr) in numeric.FORMS.items()} == verified
    assert all(numeric.FORMS[name][1] is expr for name, expr in verified.items())
    linear = {"dx": layers.DL_DX, "dweight": layers.DL_DW, "dbias": layers.DL_DB}
    assert all(numeric.LINEAR_BACKWARD[name] is expr for name, expr in linear.items())


@given(vectors(DATA, MEANS, STDS))
def test_normal_logpdf_equals_scipy_norm_eq_4_1(values):
    x, mean, std = values
    np.testing.assert_allclose(
        numeric.normal_logpdf(x, mean, std),
        stats.norm.logpdf(x, mean, std),
        rtol=REFERENCE_RTOL,
        atol=REFERENCE_ATOL,
    )


@given(vectors(DATA, MEANS, LOG_VARS))
def test_diag_gaussian_log_density_equals_scipy_multivariate_normal_eq_4_2(values):
    z, mu, log_var = values
    reference = stats.multivariate_normal(mu, np.diag(np.exp(log_var))).logpdf(z)
    np.testing.assert_allclose(
        numeric.diag_gaussian_log_density(z, mu, log_var),
        reference,
        rtol=REFERENCE_RTOL,
        atol=REFERENCE_ATOL,
    )


@given(vectors(LOG_VARS))
def test_gaussian_entropy_equals_scipy_entropies_eq_4_3(values):
    (log_var,) = values
    std = np.exp(log_var / 2)
    np.testing.assert_allclose(
        numeric.gaussian_entropy(log_var, elementwise=True),
        stats.norm(0, std).entropy(),
        rtol=REFERENCE_RTOL,
        atol=REFERENCE_ATOL,
    )
    np.testing.assert_allclose(
        numeric.gaussian_entropy(log_var),
        stats.multivariate_normal(np.zeros_like(log_var), np.diag(std**2)).entropy(),
        rtol=REFERENCE_RTOL,
        atol=REFERENCE_ATOL,
    )


def kl_by_quad(mu1: float, std1: float, mu2: float, std2: float) -> float:
    """∫ N(z; μ₁, σ₁²) log[N(z; μ₁, σ₁²)/N(z; μ₂, σ₂²)] dz over μ₁ ± 20σ₁ (the rest of the
    line carries less than 1e-80 of the mass)."""

    def integrand(z: float) -> float:
        log_p = stats.norm.logpdf(z, mu1, std1)
        return np.exp(log_p) * (log_p - stats.norm.logpdf(z, mu2, std2))

    value, _ = integrate.quad(integrand, mu1 - 20 * std1, mu1 + 20 * std1, points=[mu1], limit=200)
    return value


@given(MEANS, LOG_VARS, MEANS, LOG_VARS)
def test_kl_closed_form_equals_quad_integral_eq_4_4(mu1, log_var1, mu2, log_var2):
    closed = numeric.gaussian_kl([mu1], [log_var1], [mu2], [log_var2])
    by_quad = kl_by_quad(mu1, np.exp(log_var1 / 2), mu2, np.exp(log_var2 / 2))
    np.testing.assert_allclose(closed, by_quad, rtol=QUAD_TOL, atol=QUAD_TOL)


@given(MEANS, LOG_VARS)
def test_kl_to_std_normal_equals_quad_integral_eq_4_5(mu, log_var):
    closed = numeric.gaussian_kl_std_normal([mu], [log_var])
    by_quad = kl_by_quad(mu, np.exp(log_var / 2), 0.0, 1.0)
    np.testing.assert_allclose(closed, by_quad, rtol=QUAD_TOL, atol=QUAD_TOL)


@given(vectors(MEANS, LOG_VARS))
# exp(t) − 1 − t rounds to −3.7e-17 at t = 7.4e-16; the expm1 form stays >= 0
@example(values=(np.array([0.0]), np.array([7.4e-16])))
def test_kl_to_std_normal_is_the_general_kl_at_the_prior_and_sums_dims_eq_4_6(values):
    mu, log_var = values
    zeros = np.zeros_like(mu)
    per_dim = numeric.gaussian_kl_std_normal(mu, log_var, elementwise=True)
    np.testing.assert_allclose(
        per_dim,
        numeric.gaussian_kl(mu, log_var, zeros, zeros, elementwise=True),
        rtol=REFERENCE_RTOL,
        atol=REFERENCE_ATOL,
    )
    np.testing.assert_allclose(
        numeric.gaussian_kl_std_normal(mu, log_var), per_dim.sum(), rtol=REFERENCE_RTOL
    )
    assert (per_dim >= 0).all()


def test_the_expm1_form_of_the_kl_is_verified_by_its_check_eq_4_7():
    """The numeric KL to N(0, I) is lambdified from its expm1 form; the check of (4.7)
    rejects that form with a term dropped, so it cannot drift from the exp form."""
    from sympy.codegen.cfunctions import expm1

    from elbo_math.symbols import log_var, mu

    assert kl.verify_log_var_forms().passed
    dropped = (mu**2 + expm1(log_var)) / 2  # − log σ² dropped
    assert not kl.verify_log_var_forms(claimed_expm1=dropped).passed


@given(
    st.integers(1, 8).flatmap(
        lambda n: st.tuples(
            arrays(np.float64, n, elements=st.sampled_from([0.0, 1.0])),
            arrays(np.float64, n, elements=LOGITS),
        )
    )
)
def test_bernoulli_from_logits_equals_scipy_bernoulli_eq_3_2(values):
    x, logits = values
    reference = stats.bernoulli.logpmf(x, special.expit(logits)).sum()
    np.testing.assert_allclose(
        numeric.bernoulli_log_likelihood_from_logits(x, logits),
        reference,
        rtol=BERNOULLI_REFERENCE_TOL,
        atol=BERNOULLI_REFERENCE_TOL,
    )


@given(real(-1e6, 1e6))
def test_bernoulli_from_logits_is_finite_and_exact_for_huge_logits_eq_3_2(logit):
    at_one = numeric.bernoulli_log_likelihood_from_logits([1.0], [logit])
    at_zero = numeric.bernoulli_log_likelihood_from_logits([0.0], [logit])
    # log sigmoid(ℓ) = −(max(−ℓ, 0) + log1p(e^{−|ℓ|})), written out independently
    log_sigmoid = -(max(-logit, 0.0) + np.log1p(np.exp(-abs(logit))))
    log_one_minus = -(max(logit, 0.0) + np.log1p(np.exp(-abs(logit))))
    np.testing.assert_allclose(at_one, log_sigmoid, rtol=REFERENCE_RTOL, atol=REFERENCE_ATOL)
    np.testing.assert_allclose(at_zero, log_one_minus, rtol=REFERENCE_RTOL, atol=REFERENCE_ATOL)


@given(vectors(DATA, DATA), STDS)
def test_gaussian_log_likelihood_equals_scipy_norm_eq_3_4(values, sigma):
    x, mean = values
    np.testing.assert_allclose(
        numeric.gaussian_log_likelihood(x, mean, sigma),
        stats.norm.logpdf(x, mean, sigma).sum(),
        rtol=REFERENCE_RTOL,
        atol=REFERENCE_ATOL,
    )


def central_difference(f, args: list[np.ndarray], which: int) -> np.ndarray:
    """∂f/∂args[which], elementwise, of a function summed over its last axis."""
    out = np.empty_like(args[which])
    for i in range(args[which].size):
        up = [a.copy() for a in args]
        down = [a.copy() for a in args]
        up[which][i] += FD_STEP
        down[which][i] -= FD_STEP
        out[i] = (f(*up) - f(*down)) / (2 * FD_STEP)
    return out


@given(vectors(MEANS, LOG_VARS))
def test_kl_gradients_equal_finite_differences_eq_6_1_6_2(values):
    mu, log_var = values
    d_mu, d_log_var = numeric.grad_gaussian_kl_std_normal(mu, log_var)
    f = numeric.gaussian_kl_std_normal
    np.testing.assert_allclose(
        d_mu,
        central_difference(f, [mu, log_var], 0),
        atol=FINITE_DIFFERENCE_TOL,
        rtol=FINITE_DIFFERENCE_TOL,
    )
    np.testing.assert_allclose(
        d_log_var,
        central_difference(f, [mu, log_var], 1),
        atol=FINITE_DIFFERENCE_TOL,
        rtol=FINITE_DIFFERENCE_TOL,
    )


@given(
    st.integers(1, 6).flatmap(
        lambda n: st.tuples(
            arrays(np.float64, n, elements=real(0, 1)), arrays(np.float64, n, elements=LOGITS)
        )
    )
)
def test_bernoulli_gradient_equals_finite_differences_eq_6_3(values):
    x, logits = values
    f = numeric.bernoulli_log_likelihood_from_logits
    np.testing.assert_allclose(
        numeric.grad_bernoulli_log_likelihood_from_logits(x, logits),
        central_difference(f, [x, logits], 1),
        atol=FINITE_DIFFERENCE_TOL,
        rtol=FINITE_DIFFERENCE_TOL,
    )


@given(vectors(DATA, DATA), real(0.3, 5))
def test_gaussian_gradient_equals_finite_differences_eq_6_4(values, sigma):
    x, mean = values

    def f(x_, m_):
        return numeric.gaussian_log_likelihood(x_, m_, sigma)

    np.testing.assert_allclose(
        numeric.grad_gaussian_log_likelihood(x, mean, sigma),
        central_difference(f, [x, mean], 1),
        atol=FINITE_DIFFERENCE_TOL,
        rtol=FINITE_DIFFERENCE_TOL,
    )


@given(vectors(MEANS, LOG_VARS, real(-4, 4)))
def test_reparameterization_and_its_gradient_eq_5_1_5_2(values):
    mu, log_var, eps = values
    z = numeric.reparameterize(mu, log_var, eps)
    np.testing.assert_allclose(
        z, mu + np.sqrt(np.exp(log_var)) * eps, rtol=REFERENCE_RTOL, atol=REFERENCE_ATOL
    )
    dz_dmu, dz_dlog_var = numeric.grad_reparameterize(mu, log_var, eps)
    np.testing.assert_array_equal(dz_dmu, np.ones_like(mu))

    def f(m_, v_):
        return numeric.reparameterize(m_, v_, eps).sum()

    np.testing.assert_allclose(
        dz_dlog_var,
        central_difference(f, [mu, log_var], 1),
        atol=FINITE_DIFFERENCE_TOL,
        rtol=FINITE_DIFFERENCE_TOL,
    )
    np.testing.assert_allclose(dz_dlog_var, (z - mu) / 2, rtol=REFERENCE_RTOL, atol=REFERENCE_ATOL)


@given(vectors(real(-3, 3), MEANS, LOG_VARS, real(-4, 4)))
def test_chain_rule_through_z_equals_finite_differences_eq_6_5(values):
    a, mu, log_var, eps = values

    def f_of_z(z: np.ndarray) -> float:
        return float((a * z + 0.25 * z**2).sum())

    def composed(m_, v_):
        return f_of_z(numeric.reparameterize(m_, v_, eps))

    grad_z = a + 0.5 * numeric.reparameterize(mu, log_var, eps)
    d_mu, d_log_var = numeric.grad_through_reparameterization(grad_z, mu, log_var, eps)
    np.testing.assert_allclose(
        d_mu,
        central_difference(composed, [mu, log_var], 0),
        atol=FINITE_DIFFERENCE_TOL,
        rtol=FINITE_DIFFERENCE_TOL,
    )
    np.testing.assert_allclose(
        d_log_var,
        central_difference(composed, [mu, log_var], 1),
        atol=FINITE_DIFFERENCE_TOL,
        rtol=FINITE_DIFFERENCE_TOL,
    )


@pytest.mark.statistical
@pytest.mark.parametrize(("mu", "log_var"), [(0.0, 0.0), (1.5, -2.0), (-3.0, 2.5)])
def test_reparameterized_samples_have_mean_mu_and_variance_exp_log_var_eq_5_1(mu, log_var):
    """Catches a sampler that uses the variance as the standard deviation (chapter 5 of the
    notes, "The famous bug")."""
    n = 200_000
    eps = np.random.default_rng(20240601).standard_normal(n)
    z = numeric.reparameterize(np.full(n, mu), np.full(n, log_var), eps)
    var = np.exp(log_var)
    mean_se = np.sqrt(var / n)
    var_se = var * np.sqrt(2 / (n - 1))
    assert abs(z.mean() - mu) < 5 * mean_se, f"sample mean {z.mean()} vs μ = {mu}"
    assert abs(z.var(ddof=1) - var) < 5 * var_se, f"sample variance {z.var(ddof=1)} vs σ² = {var}"


@given(st.integers(1, 5).flatmap(lambda n: arrays(np.float64, (3, n), elements=real(-50, 50))))
def test_iwae_bound_equals_scipy_logsumexp_minus_log_k_eq_8_1(log_w):
    k = log_w.shape[-1]
    np.testing.assert_allclose(
        numeric.iwae_bound(log_w),
        special.logsumexp(log_w, axis=-1) - np.log(k),
        rtol=REFERENCE_RTOL,
        atol=REFERENCE_ATOL,
    )


def test_iwae_bound_with_one_weight_is_that_weight_and_stable_for_huge_values_eq_8_2():
    np.testing.assert_array_equal(numeric.iwae_bound([[-3.5], [1e5]]), [-3.5, 1e5])
    np.testing.assert_allclose(numeric.iwae_bound([1e5, 1e5]), 1e5)
    np.testing.assert_allclose(numeric.iwae_bound([-1e5, -1e5 + np.log(3)]), -1e5 + np.log(2))


@st.composite
def linear_cases(draw):
    """x (B, n_in), W (n_in, n_out), G (B, n_out) with B, n_in, n_out in 1..4."""
    batch, n_in, n_out = (draw(st.integers(1, 4)) for _ in range(3))
    matrix = lambda shape: draw(arrays(np.float64, shape, elements=real(-3, 3)))  # noqa: E731
    return matrix((batch, n_in)), matrix((n_in, n_out)), matrix((batch, n_out))


@given(linear_cases())
def test_linear_backward_equals_finite_differences_of_the_pairing_eq_6_6(case):
    x, weight, grad_y = case
    dx, dweight, dbias = numeric.linear_backward(x, weight, grad_y)
    assert (dx.shape, dweight.shape, dbias.shape) == (x.shape, weight.shape, grad_y.shape[1:])
    bias = np.zeros(weight.shape[1])

    def loss(x_, w_, b_):  # L = Σ_ij G_ij y_ij, flattened arguments
        y = x_.reshape(x.shape) @ w_.reshape(weight.shape) + b_
        return float((grad_y * y).sum())

    args = [x.ravel(), weight.ravel(), bias]
    for which, analytic in enumerate((dx, dweight, dbias)):
        np.testing.assert_allclose(
            analytic.ravel(),
            central_difference(loss, args, which),
            atol=FINITE_DIFFERENCE_TOL,
            rtol=FINITE_DIFFERENCE_TOL,
        )


@given(arrays(np.float64, st.integers(1, 8), elements=real(-20, 20)))
def test_activation_derivatives_equal_finite_differences_eq_6_7_to_6_9(t):
    references = {
        numeric.relu_derivative: lambda a: np.maximum(a, 0.0),
        numeric.tanh_derivative: np.tanh,
        numeric.sigmoid_derivative: special.expit,
    }
    for derivative, function in references.items():
        finite_difference = (function(t + FD_STEP) - function(t - FD_STEP)) / (2 * FD_STEP)
        if derivative is numeric.relu_derivative:
            away = np.abs(t) > FD_STEP  # a difference across the kink is neither 0 nor 1
            t_, finite_difference = t[away], finite_difference[away]
        else:
            t_ = t
        np.testing.assert_allclose(
            derivative(t_), finite_difference, atol=FINITE_DIFFERENCE_TOL, rtol=0
        )


def test_relu_derivative_at_the_kink_is_zero_as_torch_eq_6_7():
    np.testing.assert_array_equal(numeric.relu_derivative([-1.0, -0.0, 0.0, 1e-300]), [0, 0, 0, 1])


ONE = np.ones(3)
BAD_INPUT = {
    "std zero": (lambda: numeric.normal_logpdf(ONE, ONE, 0.0), "std must be > 0"),
    "std negative": (lambda: numeric.normal_logpdf(ONE, ONE, -ONE), "std must be > 0"),
    "std shape": (lambda: numeric.normal_logpdf(ONE, ONE, np.ones(2)), "std must be a scalar"),
    "sigma zero": (lambda: numeric.gaussian_log_likelihood(ONE, ONE, 0), "sigma must be > 0"),
    "sigma NaN": (lambda: numeric.gaussian_log_likelihood(ONE, ONE, np.nan), "sigma contains NaN"),
    "grad sigma negative": (
        lambda: numeric.grad_gaussian_log_likelihood(ONE, ONE, -0.1),
        "sigma must be > 0",
    ),
    "x NaN": (lambda: numeric.gaussian_log_likelihood([np.nan, 0, 0], ONE, 1), "x contains NaN"),
    "mean shape": (
        lambda: numeric.gaussian_log_likelihood(ONE, np.ones(4), 1),
        "shapes must match",
    ),
    "mu NaN": (lambda: numeric.gaussian_kl_std_normal([np.nan], [0.0]), "mu contains NaN"),
    "log_var inf": (
        lambda: numeric.gaussian_kl_std_normal([0.0], [np.inf]),
        "log_var contains ±inf",
    ),
    "kl shapes": (lambda: numeric.gaussian_kl_std_normal(ONE, np.ones(2)), "shapes must match"),
    "general kl shapes": (
        lambda: numeric.gaussian_kl(ONE, ONE, ONE, np.ones((3, 1))),
        "shapes must match",
    ),
    "kl grad shapes": (
        lambda: numeric.grad_gaussian_kl_std_normal(ONE, [0.0]),
        "shapes must match",
    ),
    "logits shape": (
        lambda: numeric.bernoulli_log_likelihood_from_logits(ONE, np.ones(2)),
        "shapes must match",
    ),
    "logits NaN": (
        lambda: numeric.bernoulli_log_likelihood_from_logits([1.0], [np.nan]),
        "logits contains NaN",
    ),
    "x above 1": (
        lambda: numeric.bernoulli_log_likelihood_from_logits([1.5], [0.0]),
        r"x must lie in \[0, 1\]",
    ),
    "eps shape": (lambda: numeric.reparameterize(ONE, ONE, np.ones(2)), "shapes must match"),
    "grad_z shape": (
        lambda: numeric.grad_through_reparameterization(np.ones(2), ONE, ONE, ONE),
        "shapes must match",
    ),
    "entropy NaN": (lambda: numeric.gaussian_entropy([np.nan]), "log_var contains NaN"),
    "iwae NaN": (lambda: numeric.iwae_bound([0.0, np.nan]), "log_weights contains NaN"),
    "iwae empty": (lambda: numeric.iwae_bound(np.zeros((2, 0))), "at least one weight"),
    "not a number": (lambda: numeric.std_from_log_var("abc"), "log_var must be an array of real"),
    "linear grad_y shape": (
        lambda: numeric.linear_backward(np.ones((2, 3)), np.ones((3, 4)), np.ones((2, 3))),
        r"grad_y \(B, n_out\)",
    ),
    "linear chain": (
        lambda: numeric.linear_backward(np.ones((2, 3)), np.ones((2, 4)), np.ones((2, 4))),
        "do not chain",
    ),
    "linear NaN": (
        lambda: numeric.linear_backward(np.ones((1, 1)), np.ones((1, 1)), [[np.nan]]),
        "grad_y contains NaN",
    ),
    "relu inf": (lambda: numeric.relu_derivative([np.inf]), "t contains ±inf"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_raises_a_clear_value_error(case):
    call, message = BAD_INPUT[case]
    with pytest.raises(ValueError, match=message):
        call()


def test_scalars_are_one_dimension():
    assert numeric.gaussian_kl_std_normal(0.0, 0.0) == 0.0
    assert numeric.std_from_log_var(np.log(4.0)) == pytest.approx(2.0)
