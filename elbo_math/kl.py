"""The KL divergence between diagonal Gaussians, derived by integration (Kingma &
Welling 2014, Appendix B).

(4.4)  KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) = ∫ N(z; μ₁, σ₁²) log[N(z; μ₁, σ₁²) / N(z; μ₂, σ₂²)] dz
                                   = log(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²) / (2σ₂²) − ½

(4.5)  KL(N(μ, σ²) ‖ N(0, 1)) = ½ (μ² + σ² − 1 − log σ²)

(4.6)  KL(∏ᵢ qᵢ ‖ ∏ᵢ pᵢ) = Σᵢ KL(qᵢ ‖ pᵢ)        (independent dimensions)

(4.7)  in log σ² (what the encoder outputs):
       KL = ½ [log σ₂² − log σ₁² + e^{log σ₁² − log σ₂²} + (μ₁ − μ₂)² e^{−log σ₂²} − 1]
       KL(N(μ, σ²) ‖ N(0, 1)) = ½ (μ² + e^{log σ²} − 1 − log σ²)

(4.4) is the integral itself, evaluated by sympy with σ₁, σ₂ > 0 declared; nothing
is assumed about its form. (4.6) is checked on a two-dimensional diagonal Gaussian:
the integrand is written in standardized coordinates zᵢ = μᵢ + σᵢtᵢ and its
expectation taken with the Gaussian moments of ``gaussian``. The forms (4.7) are the
ones ``numeric`` evaluates: e^{log σ₁² − log σ₂²} rather than σ₁²/σ₂² keeps large
log-variances from overflowing. The KL to N(0, 1) is evaluated with expm1(log σ²) for
e^{log σ²} − 1 (``KL_STD_NORMAL_LOG_VAR_EXPM1``, which the same check verifies): near
log σ² = 0, e^{log σ²} − 1 − log σ² cancels and can round below 0 in floating point.
"""

from functools import cache

import sympy as sp
from sympy.codegen.cfunctions import expm1

from elbo_math.check import Check, CheckResult, combine, equal
from elbo_math.gaussian import density, expect_gaussian, integrate_line, log_density
from elbo_math.symbols import (
    log_var,
    log_var1,
    log_var2,
    mu,
    mu1,
    mu2,
    sigma,
    sigma1,
    sigma2,
    tex,
    z,
)

# (4.4)
KL_UNIVARIATE = (
    sp.log(sigma2 / sigma1) + (sigma1**2 + (mu1 - mu2) ** 2) / (2 * sigma2**2) - 1 / sp.S(2)
)
# (4.5)
KL_STD_NORMAL = (mu**2 + sigma**2 - 1 - sp.log(sigma**2)) / 2
# (4.7)
KL_LOG_VAR = (
    log_var2 - log_var1 + sp.exp(log_var1 - log_var2) + (mu1 - mu2) ** 2 * sp.exp(-log_var2) - 1
) / 2
# (4.7)
KL_STD_NORMAL_LOG_VAR = (mu**2 + sp.exp(log_var) - 1 - log_var) / 2
# (4.7) as ``numeric`` evaluates it, expm1(t) = e^t − 1: the rounded expm1(t) is >= t, so
# the term stays >= 0 where exp(t) − 1 − t rounds below 0 (float64, t = 7.4e-16)
KL_STD_NORMAL_LOG_VAR_EXPM1 = (mu**2 + expm1(log_var) - log_var) / 2

STDS_FROM_LOG_VARS = {sigma1: sp.exp(log_var1 / 2), sigma2: sp.exp(log_var2 / 2)}


@cache
def derived_kl() -> sp.Expr:
    """(4.4) ∫ N(z; μ₁, σ₁²) [log N(z; μ₁, σ₁²) − log N(z; μ₂, σ₂²)] dz, by sympy."""
    log_ratio = log_density(z, mu1, sigma1) - log_density(z, mu2, sigma2)
    return integrate_line(density(z, mu1, sigma1) * sp.expand(log_ratio))


def verify_univariate(claimed: sp.Expr = KL_UNIVARIATE) -> CheckResult:
    return equal("KL(N(μ₁,σ₁²) ‖ N(μ₂,σ₂²))", claimed, derived_kl())


def verify_std_normal(claimed: sp.Expr = KL_STD_NORMAL) -> CheckResult:
    special_case = derived_kl().subs({mu2: 0, sigma2: 1}).subs({mu1: mu, sigma1: sigma})
    return equal("KL(N(μ,σ²) ‖ N(0,1))", claimed, special_case)


def verify_sum_over_dimensions(claimed_per_dim: sp.Expr = KL_UNIVARIATE) -> CheckResult:
    """KL between two-dimensional diagonal Gaussians, integrated as a whole, against the
    sum of the per-dimension closed forms."""
    a = sp.symbols("a_1 a_2", real=True)
    b = sp.symbols("b_1 b_2", real=True)
    u = sp.symbols("u_1 u_2", positive=True)
    v = sp.symbols("v_1 v_2", positive=True)
    zs = sp.symbols("z_1 z_2", real=True)
    log_q = sum(log_density(zs[i], a[i], u[i]) for i in range(2))
    log_p = sum(log_density(zs[i], b[i], v[i]) for i in range(2))
    joint = expect_gaussian(log_q - log_p, zs, sp.Matrix(a), sp.diag(*u))
    per_dim = [
        claimed_per_dim.subs({mu1: a[i], sigma1: u[i], mu2: b[i], sigma2: v[i]}, simultaneous=True)
        for i in range(2)
    ]
    return equal("Σᵢ KLᵢ vs KL of the product", per_dim[0] + per_dim[1], joint)


def verify_log_var_forms(
    claimed: sp.Expr = KL_LOG_VAR,
    claimed_std_normal: sp.Expr = KL_STD_NORMAL_LOG_VAR,
    claimed_expm1: sp.Expr = KL_STD_NORMAL_LOG_VAR_EXPM1,
) -> CheckResult:
    """Both forms (4.7) against the integral (4.4), and the expm1 form of the KL to
    N(0, 1) too, with expm1(t) rewritten as e^t − 1."""
    general = equal("KL in log σ²", claimed, derived_kl().subs(STDS_FROM_LOG_VARS))
    at_prior = derived_kl().subs({mu2: 0, sigma2: 1, mu1: mu, sigma1: sp.exp(log_var / 2)})
    std_normal = equal("KL to N(0,1) in log σ²", claimed_std_normal, at_prior)
    with_expm1 = equal("KL to N(0,1) with expm1", claimed_expm1.rewrite(sp.exp), at_prior)
    return combine(general, std_normal, with_expm1)


def univariate_check(claimed: sp.Expr = KL_UNIVARIATE) -> Check:
    return Check(
        id="kl.univariate_closed_form",
        title="KL between univariate Gaussians, by integrating over the real line",
        equation="(4.4)",
        latex=r"\mathrm{KL}(\mathcal{N}(\mu_1,\sigma_1^2)\,\|\,\mathcal{N}(\mu_2,\sigma_2^2)) = "
        + tex(claimed),
        run=lambda: verify_univariate(claimed),
    )


def std_normal_check(claimed: sp.Expr = KL_STD_NORMAL) -> Check:
    return Check(
        id="kl.std_normal",
        title="KL to the prior N(0, 1): the special case μ₂ = 0, σ₂ = 1",
        equation="(4.5)",
        latex=r"\mathrm{KL}(\mathcal{N}(\mu,\sigma^2)\,\|\,\mathcal{N}(0,1)) = " + tex(claimed),
        run=lambda: verify_std_normal(claimed),
    )


def sum_check(claimed_per_dim: sp.Expr = KL_UNIVARIATE) -> Check:
    return Check(
        id="kl.sum_over_dimensions",
        title="KL of independent dimensions is the sum of per-dimension KLs",
        equation="(4.6)",
        latex=r"\mathrm{KL}\Big(\prod_i q_i \,\Big\|\, \prod_i p_i\Big) = "
        r"\sum_i \mathrm{KL}(q_i \,\|\, p_i)",
        run=lambda: verify_sum_over_dimensions(claimed_per_dim),
    )


def log_var_check(
    claimed: sp.Expr = KL_LOG_VAR,
    claimed_std_normal: sp.Expr = KL_STD_NORMAL_LOG_VAR,
    claimed_expm1: sp.Expr = KL_STD_NORMAL_LOG_VAR_EXPM1,
) -> Check:
    return Check(
        id="kl.log_var_form",
        title="The KL in terms of log σ², as the code evaluates it",
        equation="(4.7)",
        latex=r"\begin{aligned}\mathrm{KL} &= "
        + tex(claimed)
        + r", \\ \mathrm{KL}_{\mathcal{N}(0,1)} &= "
        + tex(claimed_std_normal)
        + r"\end{aligned}",
        run=lambda: verify_log_var_forms(claimed, claimed_std_normal, claimed_expm1),
    )


CHECKS = (univariate_check(), std_normal_check(), sum_check(), log_var_check())
