"""The univariate Gaussian: density, log-density in the log-variance form, entropy.

(4.1)  N(z; μ, σ²) = exp(−(z − μ)² / (2σ²)) / √(2πσ²),   ∫ N dz = 1,
       log N(z; μ, σ²) = −½ [log 2π + log σ² + (z − μ)² e^{−log σ²}]

(4.2)  E[z] = μ,  E[z²] = μ² + σ²

(4.3)  H[N(μ, σ²)] = −∫ N log N dz = ½ (1 + log 2π + log σ²)

The encoder outputs log σ² (any real number) rather than σ (which must stay
positive), so (4.1) and (4.3) are written in log σ²; std = exp(½ log σ²) is the one
conversion. Expectations of polynomials under a Gaussian are taken by writing
z = μ + σt with t ~ N(0, 1) (chapter 5) and using the moments of N(0, 1), which are
themselves integrated here; the check ``gaussian.moments`` compares the two routes.
Each closed form is derived here by integrating over the real line with
sympy (σ > 0 declared), then compared with the form the code evaluates.
"""

from collections.abc import Sequence
from functools import cache

import sympy as sp

from elbo_math.check import Check, CheckResult, combine, equal
from elbo_math.symbols import log_var, mu, sigma, t, tex, z


def density(at: sp.Expr, mean: sp.Expr, std: sp.Expr) -> sp.Expr:
    """(4.1) N(at; mean, std²)."""
    return sp.exp(-((at - mean) ** 2) / (2 * std**2)) / sp.sqrt(2 * sp.pi * std**2)


def log_density(at: sp.Expr, mean: sp.Expr, std: sp.Expr) -> sp.Expr:
    """(4.1) log N(at; mean, std²), expanded: −(at − mean)²/(2 std²) − ½ log(2π std²)."""
    return -((at - mean) ** 2) / (2 * std**2) - sp.log(2 * sp.pi * std**2) / 2


def log_density_mv(y: sp.Matrix, mean: sp.Matrix, cov: sp.Matrix) -> sp.Expr:
    """log N(y; mean, cov) for a column vector y: −½ rᵀ cov⁻¹ r − ½ log det(2π cov)."""
    r = y - mean
    n = y.shape[0]
    return -(r.T * cov.inv() * r)[0, 0] / 2 - sp.log((2 * sp.pi) ** n * cov.det()) / 2


# (4.1), as the logarithm of the density
LOG_DENSITY = log_density(z, mu, sigma)
# (4.1), in log σ²
LOG_DENSITY_LOG_VAR = -(sp.log(2 * sp.pi) + log_var + (z - mu) ** 2 * sp.exp(-log_var)) / 2
# (4.3)
ENTROPY_LOG_VAR = (1 + sp.log(2 * sp.pi) + log_var) / 2

STD_FROM_LOG_VAR = {sigma: sp.exp(log_var / 2)}


def integrate_line(integrand: sp.Expr, var: sp.Symbol = z) -> sp.Expr:
    """∫ integrand d(var) over the real line (sympy, conditions dropped: σ > 0 is declared).
    Give a density times an expanded polynomial: sympy then keeps the result in closed form."""
    return sp.integrate(integrand, (var, -sp.oo, sp.oo), conds="none")


@cache
def standard_normal_moment(k: int) -> sp.Expr:
    """E[t^k] for t ~ N(0, 1), by integration: 1, 0, 1, 0, 3, ..."""
    return integrate_line(t**k * density(t, 0, 1), t)


def expect_standard_normal(expr: sp.Expr, ts: Sequence[sp.Symbol]) -> sp.Expr:
    """E[expr] for independent t_i ~ N(0, 1), expr a polynomial in the t_i (coefficients
    may be any t-free expressions): linearity, independence, and the moments above."""
    poly = sp.Poly(sp.expand(expr), *ts)
    return sp.Add(
        *(
            coeff * sp.Mul(*(standard_normal_moment(k) for k in powers))
            for powers, coeff in poly.terms()
        )
    )


def expect_gaussian(
    expr: sp.Expr, zs: Sequence[sp.Symbol], mean: sp.Matrix, chol: sp.Matrix
) -> sp.Expr:
    """E[expr] for z ~ N(mean, chol cholᵀ), expr polynomial in z: substitute
    z = mean + chol t with t ~ N(0, I) (5.1), then take standard-normal moments."""
    ts = sp.symbols(f"t_0:{len(zs)}", real=True)
    z_of_t = mean + chol * sp.Matrix(ts)
    return expect_standard_normal(expr.subs(dict(zip(zs, z_of_t, strict=True))), ts)


@cache
def derived_entropy() -> sp.Expr:
    """(4.3) −∫ N(z; μ, σ²) log N(z; μ, σ²) dz, by sympy."""
    return integrate_line(-density(z, mu, sigma) * sp.expand(log_density(z, mu, sigma)))


def verify_density(claimed_log_density: sp.Expr = LOG_DENSITY_LOG_VAR) -> CheckResult:
    total = integrate_line(density(z, mu, sigma))
    normalized = equal("∫ N dz = 1", sp.Integer(1), total)
    is_log = equal("log N", LOG_DENSITY, sp.log(density(z, mu, sigma)))
    log_var_form = equal("log N in log σ²", claimed_log_density, LOG_DENSITY.subs(STD_FROM_LOG_VAR))
    return combine(normalized, is_log, log_var_form)


def verify_entropy(claimed: sp.Expr = ENTROPY_LOG_VAR) -> CheckResult:
    return equal("H[N]", claimed, derived_entropy().subs(STD_FROM_LOG_VAR))


def verify_moments() -> CheckResult:
    by_integral = [integrate_line(z**k * density(z, mu, sigma)) for k in (1, 2)]
    by_substitution = [
        expect_gaussian(z**k, [z], sp.Matrix([mu]), sp.Matrix([sigma])) for k in (1, 2)
    ]
    return combine(
        equal("E[z]", mu, by_integral[0]),
        equal("E[z²]", mu**2 + sigma**2, by_integral[1]),
        equal("E[z] via z = μ + σt", by_integral[0], by_substitution[0]),
        equal("E[z²] via z = μ + σt", by_integral[1], by_substitution[1]),
    )


def density_check(claimed: sp.Expr = LOG_DENSITY_LOG_VAR) -> Check:
    return Check(
        id="gaussian.log_density",
        title="Gaussian density integrates to 1; its log in terms of log σ²",
        equation="(4.1)",
        latex=r"\log \mathcal{N}(z; \mu, \sigma^2) = " + tex(claimed),
        run=lambda: verify_density(claimed),
    )


def entropy_check(claimed: sp.Expr = ENTROPY_LOG_VAR) -> Check:
    return Check(
        id="gaussian.entropy",
        title="Entropy of N(μ, σ²) by integration",
        equation="(4.3)",
        latex=r"\mathbb{H}[\mathcal{N}(\mu, \sigma^2)] = " + tex(claimed),
        run=lambda: verify_entropy(claimed),
    )


MOMENTS_CHECK = Check(
    id="gaussian.moments",
    title="Mean and variance of N(μ, σ²) by integration, and by z = μ + σt",
    equation="(4.2)",
    latex=r"\mathbb{E}[z] = \mu,\quad \mathbb{E}[z^2] = \mu^2 + \sigma^2",
    run=verify_moments,
)

CHECKS = (density_check(), MOMENTS_CHECK, entropy_check())
