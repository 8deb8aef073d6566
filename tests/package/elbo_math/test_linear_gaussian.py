"""The numpy ground truth of the linear Gaussian model (elbo_math.linear_gaussian_numeric)
against the symbolic derivation it implements, (1.1)-(2.7), and against
scipy.stats.multivariate_normal; the ELBO identities and the IWAE bound on it."""

from functools import cache

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from elbo_math import numeric
from elbo_math.linear_gaussian import ORTHOGONAL, RATIONAL, SYMBOLIC, Instance, derive
from elbo_math.linear_gaussian_numeric import LinearGaussian

# Two float64 evaluations of algebraically equal formulas (latent-space vs data-space,
# sympy's arrangement vs numpy's) on values up to ~1e3: rounding stays below 1e-10.
MATCH_RTOL = 1e-9
MATCH_ATOL = 1e-9

FIELDS = ("expected_log_likelihood", "kl_prior", "kl_posterior", "entropy", "elbo")


def real(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def symbols_of(inst: Instance) -> list[sp.Symbol]:
    return sorted(
        set().union(
            *(m.free_symbols for m in (inst.W, inst.b, inst.x, inst.q_mean, inst.q_chol)),
            sp.sympify(inst.s).free_symbols,
        ),
        key=str,
    )


@cache
def lambdified(inst: Instance) -> dict[str, object]:
    """Every derived quantity of the instance as a float function of its free symbols."""
    derived = derive(inst)
    args = symbols_of(inst)
    quantities = {
        "posterior_mean": derived.posterior_mean,
        "posterior_cov": derived.posterior_cov,
        "log_evidence": derived.log_evidence,
        **{name: getattr(derived, name) for name in FIELDS},
    }
    return {name: sp.lambdify(args, expr, "numpy") for name, expr in quantities.items()}


@given(
    w=arrays(np.float64, 2, elements=real(-3, 3)),
    b=arrays(np.float64, 2, elements=real(-3, 3)),
    x=arrays(np.float64, 2, elements=real(-3, 3)),
    s=real(0.2, 3),
    m=real(-3, 3),
    c=real(0.1, 2),
)
def test_numpy_ground_truth_equals_symbolic_derivation_eq_2_7_to_2_10(w, b, x, s, m, c):
    """SYMBOLIC: D = 2, L = 1, every parameter a symbol, evaluated at drawn values."""
    values = {"b_1": b[0], "b_2": b[1], "c_11": c, "m_1": m, "s": s}
    values |= {"w_1": w[0], "w_2": w[1], "x_1": x[0], "x_2": x[1]}
    f = lambdified(SYMBOLIC)
    args = [values[str(symbol)] for symbol in symbols_of(SYMBOLIC)]
    model = LinearGaussian(w[:, None], b, s)
    mu, log_var = np.array([m]), np.array([2 * np.log(c)])
    post_mean, post_cov = model.posterior(x)
    np.testing.assert_allclose(
        post_mean, np.ravel(f["posterior_mean"](*args)), rtol=MATCH_RTOL, atol=MATCH_ATOL
    )
    np.testing.assert_allclose(
        post_cov, f["posterior_cov"](*args), rtol=MATCH_RTOL, atol=MATCH_ATOL
    )
    numeric_values = {
        "log_evidence": model.log_evidence(x),
        "expected_log_likelihood": model.expected_log_likelihood(x, mu, log_var),
        "kl_prior": model.kl_to_prior(mu, log_var),
        "kl_posterior": model.kl_to_posterior(x, mu, log_var),
        "entropy": numeric.gaussian_entropy(log_var),
        "elbo": model.elbo(x, mu, log_var),
    }
    for name, value in numeric_values.items():
        np.testing.assert_allclose(
            value, f[name](*args), rtol=MATCH_RTOL, atol=MATCH_ATOL, err_msg=name
        )


@given(
    m=arrays(np.float64, 2, elements=real(-3, 3)),
    diagonal=arrays(np.float64, 2, elements=real(0.1, 2)),
    off=real(-1, 1),
)
def test_full_covariance_q_equals_symbolic_rational_instance_eq_2_10(m, diagonal, off):
    """RATIONAL: D = 3, L = 2, non-orthogonal W; q = N(m, C Cᵀ) with any lower C."""
    f = lambdified(RATIONAL)
    values = {"c_11": diagonal[0], "c_21": off, "c_22": diagonal[1], "m_1": m[0], "m_2": m[1]}
    args = [values[str(symbol)] for symbol in symbols_of(RATIONAL)]
    chol = np.array([[diagonal[0], 0.0], [off, diagonal[1]]])
    model = LinearGaussian(
        np.array(RATIONAL.W, dtype=float),
        np.ravel(np.array(RATIONAL.b, dtype=float)),
        float(RATIONAL.s),
    )
    x = np.ravel(np.array(RATIONAL.x, dtype=float))
    cov = chol @ chol.T
    numeric_values = {
        "expected_log_likelihood": model.expected_log_likelihood_full_cov(x, m, cov),
        "kl_prior": model.kl_to_prior_full_cov(m, cov),
        "kl_posterior": model.kl_to_posterior_full_cov(x, m, cov),
        "elbo": model.elbo_full_cov(x, m, cov),
        "log_evidence": model.log_evidence(x),
    }
    for name, value in numeric_values.items():
        np.testing.assert_allclose(
            value, f[name](*args), rtol=MATCH_RTOL, atol=MATCH_ATOL, err_msg=name
        )


def random_models():
    """(model, x batch, mu, log_var) with D in 1..6, L in 1..4, batch of 3."""

    def build(dims):
        D, L = dims
        return st.tuples(
            arrays(np.float64, (D, L), elements=real(-2, 2)),
            arrays(np.float64, D, elements=real(-2, 2)),
            real(0.1, 2),
            arrays(np.float64, (3, D), elements=real(-4, 4)),
            arrays(np.float64, (3, L), elements=real(-2, 2)),
            arrays(np.float64, (3, L), elements=real(-3, 1)),
        )

    return st.tuples(st.integers(1, 6), st.integers(1, 4)).flatmap(build)


@given(random_models())
def test_log_evidence_equals_scipy_multivariate_normal_eq_2_9(drawn):
    W, b, s, x, _, _ = drawn
    model = LinearGaussian(W, b, s)
    marginal = stats.multivariate_normal(b, W @ W.T + s**2 * np.eye(len(b)))
    np.testing.assert_allclose(
        model.log_evidence(x), marginal.logpdf(x), rtol=MATCH_RTOL, atol=MATCH_ATOL
    )


@given(random_models())
def test_posterior_equals_gaussian_conditioning_in_data_space_eq_2_7(drawn):
    """Reference: condition the joint N((0, b), [[I, Wᵀ], [W, WWᵀ + s²I]]) on x."""
    W, b, s, x, _, _ = drawn
    model = LinearGaussian(W, b, s)
    marginal_cov = W @ W.T + s**2 * np.eye(len(b))
    gain = np.linalg.solve(marginal_cov, W).T  # Wᵀ C⁻¹, (L, D)
    mean, cov = model.posterior(x)
    np.testing.assert_allclose(mean, (x - b) @ gain.T, rtol=MATCH_RTOL, atol=MATCH_ATOL)
    np.testing.assert_allclose(cov, np.eye(W.shape[1]) - gain @ W, rtol=MATCH_RTOL, atol=MATCH_ATOL)


@given(random_models())
def test_log_evidence_is_elbo_plus_kl_to_posterior_for_any_diagonal_q_eq_2_1(drawn):
    W, b, s, x, mu, log_var = drawn
    model = LinearGaussian(W, b, s)
    kl_post = model.kl_to_posterior(x, mu, log_var)
    np.testing.assert_allclose(
        model.elbo(x, mu, log_var) + kl_post,
        model.log_evidence(x),
        rtol=MATCH_RTOL,
        atol=MATCH_ATOL,
    )
    assert (kl_post >= -MATCH_ATOL).all()


@given(random_models())
def test_elbo_is_reconstruction_minus_analytic_kl_eq_2_5(drawn):
    W, b, s, x, mu, log_var = drawn
    model = LinearGaussian(W, b, s)
    np.testing.assert_allclose(
        model.kl_to_prior(mu, log_var),
        numeric.gaussian_kl_std_normal(mu, log_var),
        rtol=MATCH_RTOL,
        atol=MATCH_ATOL,
    )
    np.testing.assert_allclose(
        model.elbo(x, mu, log_var),
        model.expected_log_likelihood(x, mu, log_var) - numeric.gaussian_kl_std_normal(mu, log_var),
        rtol=MATCH_RTOL,
        atol=MATCH_ATOL,
    )


@given(random_models())
def test_elbo_is_tight_at_the_full_covariance_posterior_eq_2_4(drawn):
    W, b, s, x, _, _ = drawn
    model = LinearGaussian(W, b, s)
    mean, cov = model.posterior(x)
    np.testing.assert_allclose(
        model.elbo_full_cov(x, mean, cov), model.log_evidence(x), rtol=MATCH_RTOL, atol=MATCH_ATOL
    )
    np.testing.assert_allclose(model.kl_to_posterior_full_cov(x, mean, cov), 0.0, atol=MATCH_ATOL)


@given(
    arrays(np.float64, (5, 3), elements=real(-2, 2)),
    arrays(np.float64, 3, elements=real(0.3, 2)),
    arrays(np.float64, (2, 5), elements=real(-3, 3)),
)
def test_orthogonal_columns_give_a_diagonal_posterior_a_mean_field_q_reaches_eq_2_8(raw, scale, x):
    basis, upper = np.linalg.qr(raw)
    if np.min(np.abs(np.diag(upper))) < 1e-3:
        basis = np.eye(5)[:, :3]
    model = LinearGaussian(basis * scale, np.zeros(5), 0.5)
    mean, cov = model.posterior(x)
    np.testing.assert_allclose(cov - np.diag(np.diag(cov)), 0.0, atol=MATCH_ATOL)
    log_var = np.broadcast_to(np.log(np.diag(cov)), mean.shape)
    np.testing.assert_allclose(
        model.elbo(x, mean, log_var), model.log_evidence(x), rtol=MATCH_RTOL, atol=MATCH_ATOL
    )


def test_exact_rational_instances_agree_with_numpy_at_the_posterior_eq_2_4():
    for inst in (RATIONAL, ORTHOGONAL):
        model = LinearGaussian(
            np.array(inst.W, dtype=float), np.ravel(np.array(inst.b, dtype=float)), float(inst.s)
        )
        x = np.ravel(np.array(inst.x, dtype=float))
        np.testing.assert_allclose(
            model.log_evidence(x), float(derive(inst).marginal), rtol=MATCH_RTOL
        )
        mean, cov = model.posterior(x)
        np.testing.assert_allclose(
            mean, np.ravel(np.array(derive(inst).posterior_mean, dtype=float)), rtol=MATCH_RTOL
        )
        np.testing.assert_allclose(
            cov, np.array(derive(inst).posterior_cov, dtype=float), rtol=MATCH_RTOL
        )


STATISTICAL_SEED = 12345


def _statistical_setup():
    rng = np.random.default_rng(STATISTICAL_SEED)
    model = LinearGaussian(rng.normal(size=(4, 2)), rng.normal(size=4), 0.8)
    x = rng.normal(size=4)
    post_mean, post_cov = model.posterior(x)
    mu = post_mean + np.array([0.4, -0.3])  # q deliberately off the posterior
    log_var = np.log(np.diag(post_cov)) + np.array([0.5, -0.4])
    return rng, model, x, mu, log_var


@pytest.mark.statistical
def test_monte_carlo_elbo_converges_to_the_exact_elbo_eq_2_0():
    rng, model, x, mu, log_var = _statistical_setup()
    n = 100_000
    z = numeric.reparameterize(
        np.broadcast_to(mu, (n, 2)), np.broadcast_to(log_var, (n, 2)), rng.standard_normal((n, 2))
    )
    log_w = model.log_weights(x, z, mu, log_var)
    estimate, se = log_w.mean(), log_w.std(ddof=1) / np.sqrt(n)
    exact = model.elbo(x, mu, log_var)
    assert abs(estimate - exact) < 5 * se, f"Monte Carlo {estimate} ± {se} vs exact {exact}"


@pytest.mark.statistical
def test_iwae_estimates_increase_with_k_toward_log_evidence_eq_8_3_8_4():
    rng, model, x, mu, log_var = _statistical_setup()
    replicates = 4000
    means, errors = {}, {}
    for k in (1, 8, 64):
        eps = rng.standard_normal((replicates, k, 2))
        z = mu + np.exp(log_var / 2) * eps
        bounds = numeric.iwae_bound(model.log_weights(x, z, mu, log_var), axis=-1)
        means[k], errors[k] = bounds.mean(), bounds.std(ddof=1) / np.sqrt(replicates)
    log_px = model.log_evidence(x)
    elbo = model.elbo(x, mu, log_var)
    report = f"IWAE means {means} ± {errors}; ELBO {elbo}; log p(x) {log_px}"
    assert abs(means[1] - elbo) < 5 * errors[1], report
    assert means[1] + 5 * errors[1] < means[8] and means[8] + 5 * errors[8] < means[64], report
    assert means[64] < log_px + 5 * errors[64], report


GOOD_W, GOOD_B = np.ones((3, 2)), np.zeros(3)
BAD_MODEL = {
    "s zero": (lambda: LinearGaussian(GOOD_W, GOOD_B, 0.0), "s must be a positive scalar"),
    "s negative": (lambda: LinearGaussian(GOOD_W, GOOD_B, -1.0), "s must be a positive scalar"),
    "s NaN": (lambda: LinearGaussian(GOOD_W, GOOD_B, np.nan), "s contains NaN"),
    "W NaN": (lambda: LinearGaussian(np.full((3, 2), np.nan), GOOD_B, 1.0), "W contains NaN"),
    "W 1-D": (lambda: LinearGaussian(np.ones(3), GOOD_B, 1.0), r"W must have shape \(D, L\)"),
    "b shape": (lambda: LinearGaussian(GOOD_W, np.zeros(2), 1.0), r"b must have shape \(3,\)"),
    "x last dim": (
        lambda: LinearGaussian(GOOD_W, GOOD_B, 1.0).log_evidence(np.zeros(4)),
        "x must have last dimension 3",
    ),
    "mu vs log_var": (
        lambda: LinearGaussian(GOOD_W, GOOD_B, 1.0).elbo(
            np.zeros(3), np.zeros(2), np.zeros((2, 2))
        ),
        "shapes must match",
    ),
    "batch mismatch": (
        lambda: LinearGaussian(GOOD_W, GOOD_B, 1.0).elbo(
            np.zeros((4, 3)), np.zeros((5, 2)), np.zeros((5, 2))
        ),
        "do not broadcast",
    ),
    "cov not PD": (
        lambda: LinearGaussian(GOOD_W, GOOD_B, 1.0).elbo_full_cov(
            np.zeros(3), np.zeros(2), -np.eye(2)
        ),
        "positive definite",
    ),
    "cov shape": (
        lambda: LinearGaussian(GOOD_W, GOOD_B, 1.0).kl_to_prior_full_cov(np.zeros(2), np.eye(3)),
        "cov must have shape",
    ),
    "log_var NaN": (
        lambda: LinearGaussian(GOOD_W, GOOD_B, 1.0).kl_to_prior(np.zeros(2), [0.0, np.nan]),
        "log_var contains NaN",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_MODEL))
def test_bad_model_input_raises_a_clear_value_error(case):
    call, message = BAD_MODEL[case]
    with pytest.raises(ValueError, match=message):
        call()
