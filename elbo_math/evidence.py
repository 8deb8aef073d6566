"""The evidence lower bound: where it comes from, why it is a lower bound, its two forms.

For a latent variable model p(x, z) = p(x | z) p(z), any density q(z | x), and
E_q[f] = ∫ q(z | x) f(z) dz:

(2.0)  ELBO(x) = E_q[log p(x, z) / q(z | x)]                         (definition)

(2.1)  log p(x) = ELBO(x) + KL(q(z | x) ‖ p(z | x))

(2.2)  KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) = ½ f(σ₁²/σ₂²) + (μ₁ − μ₂)²/(2σ₂²) >= 0,
       f(r) = r − 1 − log r >= 0, with equality iff μ₁ = μ₂ and σ₁ = σ₂

(2.3)  −KL(q ‖ p) = E_q[log p/q] <= log E_q[p/q] = log ∫ p dz = 0      (Jensen)

(2.4)  ELBO(x) = log p(x) − KL(q ‖ p(z | x)) <= log p(x),
       with equality exactly when q(z | x) = p(z | x)

(2.5)  ELBO(x) = E_q[log p(x | z)] − KL(q(z | x) ‖ p(z))

(2.6)  ELBO(x) = E_q[log p(x, z)] + H[q(z | x)]

(2.1), (2.5) and (2.6) are derived as the homework asks: a chain of rewritings of one
integral, each step checked by sympy to equal the one before. The densities are
abstract positive functions of z; the only facts used are the model's definitions,
which are substituted before each comparison,

    p(z | x) = p(x, z) / p(x)   (Bayes),      p(x, z) = p(x | z) p(z)   (product rule),

and normalization ∫ q(z | x) dz = 1, used to write a z-free constant c as ∫ q c dz,
so that both sides of a step become one integral over z (linearity of the integral).
Chapter 2's linear Gaussian model (``linear_gaussian``) checks the same identities
again with every integral done in closed form.
"""

from collections.abc import Sequence

import sympy as sp

from elbo_math.check import Check, CheckResult, all_zero, combine, equal, latex_chain
from elbo_math.kl import derived_kl
from elbo_math.symbols import density, mu1, mu2, sigma1, sigma2, z

q = density("q", r"q(z \mid x)")
p_joint = density("p_joint", "p(x, z)")
p_prior = density("p_prior", "p(z)")
p_lik = density("p_lik", r"p(x \mid z)")
p_post = density("p_post", r"p(z \mid x)")
p_x = sp.Symbol("p(x)", positive=True)

DEFINITIONS = {p_post: p_joint / p_x, p_joint: p_lik * p_prior}


def expect(f: sp.Expr) -> sp.Integral:
    """E_q[f] = ∫ q(z | x) f dz, left unevaluated."""
    return sp.Integral(q * f, (z, -sp.oo, sp.oo))


# (2.0)
ELBO = expect(sp.log(p_joint / q))
KL_POSTERIOR = expect(sp.log(q / p_post))
KL_PRIOR = expect(sp.log(q / p_prior))
ENTROPY = -expect(sp.log(q))

# (2.1) the homework's derivation, starting from log p(x) = ∫ q log p(x) dz
DECOMPOSITION_STEPS = (
    expect(sp.log(p_x)),
    expect(sp.log(p_joint / p_post)),
    expect(sp.log(sp.Mul(p_joint / q, q / p_post, evaluate=False))),
    expect(sp.log(p_joint / q)) + expect(sp.log(q / p_post)),
)
# (2.5)
RECONSTRUCTION_STEPS = (
    expect(sp.log(p_lik * p_prior / q)),
    expect(sp.log(p_lik) + sp.log(p_prior / q)),
    expect(sp.log(p_lik)) - expect(sp.log(q / p_prior)),
)
# (2.6)
ENTROPY_STEPS = (
    expect(sp.log(p_joint) - sp.log(q)),
    expect(sp.log(p_joint)) + (-expect(sp.log(q))),
)


def as_one_integrand(expr: sp.Expr) -> sp.Expr:
    """Σᵢ cᵢ ∫ fᵢ dz + c₀  ↦  Σᵢ cᵢ fᵢ + c₀ q: the integrand of one integral over z equal
    to ``expr`` (linearity; ∫ q dz = 1 for the z-free c₀). cᵢ must be free of z."""
    total = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr, deep=False)):
        integrals = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Integral)]
        if not integrals:
            total += term * q
            continue
        if len(integrals) > 1:
            raise ValueError(f"a product of integrals is not linear: {term}")
        coefficient = term / integrals[0]
        if coefficient.has(z):
            raise ValueError(f"coefficient depends on z: {term}")
        total += coefficient * integrals[0].function
    return total


def steps_equal(before: sp.Expr, after: sp.Expr) -> bool:
    """Whether two expressions are equal given the model's definitions, as integrands."""
    residual = as_one_integrand(before) - as_one_integrand(after)
    return all_zero({"step": residual.subs(DEFINITIONS).subs(DEFINITIONS)}).passed


def verify_chain(lhs: sp.Expr, steps: Sequence[sp.Expr], rhs: sp.Expr) -> CheckResult:
    """lhs = steps[0] = steps[1] = ... = rhs, each equality checked by sympy."""
    chain = [lhs, *steps, rhs]
    failures = [
        f"step {i} ≠ step {i - 1}"
        for i in range(1, len(chain))
        if not steps_equal(chain[i - 1], chain[i])
    ]
    if failures:
        return CheckResult(False, "; ".join(failures))
    return CheckResult(True, f"each of {len(chain) - 1} rewritings checked equal")


def minimum_is_zero_only_at(f: sp.Expr, var: sp.Symbol, at: sp.Expr) -> CheckResult:
    """f(at) = 0, f' vanishes only at ``at``, f'' > 0 on the domain of ``var``: so f >= 0
    with equality only at ``at`` (a strictly convex function above its tangent)."""
    value = equal(f"f({at})", sp.Integer(0), f.subs(var, at))
    stationary = sp.solve(sp.diff(f, var), var)
    curvature = sp.simplify(sp.diff(f, var, 2))
    if stationary != [at] or curvature.is_positive is not True:
        return CheckResult(False, f"stationary points {stationary}, f'' = {curvature}")
    return combine(value, CheckResult(True, f"f' = 0 only at {at}; f'' = {curvature} > 0"))


def verify_kl_nonnegative_gaussian(
    claimed_split: sp.Expr | None = None,
) -> CheckResult:
    """(2.2): the KL integral equals ½ f(σ₁²/σ₂²) + (μ₁ − μ₂)²/(2σ₂²); both parts >= 0."""
    r = sp.Symbol("r", positive=True)
    f = r - 1 - sp.log(r)
    shift = (mu1 - mu2) ** 2 / (2 * sigma2**2)
    if claimed_split is None:
        claimed_split = f.subs(r, sigma1**2 / sigma2**2) / 2 + shift
    split = equal("KL split", claimed_split, derived_kl())
    shift_ok = CheckResult(
        shift.is_nonnegative is True and sp.solve(shift, mu1) == [mu2],
        "(μ₁ − μ₂)²/(2σ₂²) >= 0, zero only at μ₁ = μ₂",
    )
    return combine(split, minimum_is_zero_only_at(f, r, sp.Integer(1)), shift_ok)


def verify_kl_nonnegative_jensen() -> CheckResult:
    """(2.3) for any densities: the tangent-line form of Jensen's inequality for the
    concave log, applied to Y = p(z|x)/q(z|x), whose q-expectation is ∫ p(z|x) dz = 1.
    An example outside the Gaussian family (exponential densities) is integrated."""
    y, m = sp.symbols("y m", positive=True)
    tangent_gap = sp.log(m) + (y - m) / m - sp.log(y)
    jensen = minimum_is_zero_only_at(tangent_gap, y, m)
    ratio = p_post / q
    mean_of_ratio = equal("q · (p/q) = p", p_post, q * ratio)
    log_ratio_is_minus_kl = CheckResult(
        steps_equal(-KL_POSTERIOR, expect(sp.log(ratio))), "E_q[log p/q] = −KL"
    )
    a, b = sp.symbols("a b", positive=True)
    u = sp.Symbol("u", positive=True)
    kl_exponential = sp.integrate(
        a * sp.exp(-a * u) * sp.expand_log(sp.log(a * sp.exp(-a * u) / (b * sp.exp(-b * u)))),
        (u, 0, sp.oo),
        conds="none",
    )
    r = sp.Symbol("r", positive=True)
    exponential = equal(
        "KL(Exp(a) ‖ Exp(b)) = f(b/a)", (r - 1 - sp.log(r)).subs(r, b / a), kl_exponential
    )
    return combine(jensen, mean_of_ratio, log_ratio_is_minus_kl, exponential)


def verify_tight_iff_posterior() -> CheckResult:
    """(2.4): ELBO = log p(x) − KL (from (2.1)); at q = p(z|x) the ELBO's integrand is
    p(z|x) log p(x), which integrates to log p(x) (p(z|x) is a density); among Gaussians
    the KL is stationary only at q = p (and it is 0 only there, (2.2))."""
    bound = verify_chain(ELBO, (sp.log(p_x) - KL_POSTERIOR,), sp.log(p_x) - KL_POSTERIOR)
    at_posterior = (q * sp.log(p_joint / q)).subs(q, p_joint / p_x)
    tight = equal("ELBO integrand at q = p(z|x)", (p_joint / p_x) * sp.log(p_x), at_posterior)
    d_mean, d_std = sp.diff(derived_kl(), mu1), sp.diff(derived_kl(), sigma1)
    decoupled = not d_mean.has(sigma1) and not d_std.has(mu1)
    stationary = (sp.solve(d_mean, mu1), sp.solve(d_std, sigma1))
    unique = CheckResult(
        decoupled and stationary == ([mu2], [sigma2]),
        f"Gaussian q: KL stationary only at μ₁, σ₁ = {stationary}",
    )
    return combine(bound, tight, unique)


def decomposition_check(steps: Sequence[sp.Expr] = DECOMPOSITION_STEPS) -> Check:
    return Check(
        id="elbo.evidence_decomposition",
        title="log p(x) = ELBO + KL(q(z|x) ‖ p(z|x)), derived from ∫ q log p(x) dz",
        equation="(2.1)",
        latex=latex_chain(
            r"\log p(x)",
            steps,
            r"\mathrm{ELBO}(x) + \mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x))",
        ),
        run=lambda: verify_chain(sp.log(p_x), steps, ELBO + KL_POSTERIOR),
    )


def reconstruction_check(steps: Sequence[sp.Expr] = RECONSTRUCTION_STEPS) -> Check:
    return Check(
        id="elbo.reconstruction_minus_kl",
        title="ELBO = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z))",
        equation="(2.5)",
        latex=latex_chain(
            r"\mathrm{ELBO}(x)",
            steps,
            r"\mathbb{E}_q[\log p(x \mid z)] - \mathrm{KL}(q(z \mid x) \,\|\, p(z))",
        ),
        run=lambda: verify_chain(ELBO, steps, expect(sp.log(p_lik)) - KL_PRIOR),
    )


def entropy_form_check(steps: Sequence[sp.Expr] = ENTROPY_STEPS) -> Check:
    return Check(
        id="elbo.joint_plus_entropy",
        title="ELBO = E_q[log p(x,z)] + H[q(z|x)]",
        equation="(2.6)",
        latex=latex_chain(
            r"\mathrm{ELBO}(x)",
            steps,
            r"\mathbb{E}_q[\log p(x, z)] + \mathbb{H}[q(z \mid x)]",
        ),
        run=lambda: verify_chain(ELBO, steps, expect(sp.log(p_joint)) + ENTROPY),
    )


CHECKS = (
    decomposition_check(),
    Check(
        id="elbo.kl_nonnegative_gaussian",
        title="KL >= 0 between Gaussians, zero only when they coincide",
        equation="(2.2)",
        latex=r"\mathrm{KL} = \tfrac12 f\!\left(\tfrac{\sigma_1^2}{\sigma_2^2}\right)"
        r" + \frac{(\mu_1-\mu_2)^2}{2\sigma_2^2} \ge 0,\quad f(r) = r - 1 - \log r \ge 0",
        run=verify_kl_nonnegative_gaussian,
    ),
    Check(
        id="elbo.kl_nonnegative_jensen",
        title="KL >= 0 for any densities, by Jensen's inequality",
        equation="(2.3)",
        latex=r"-\mathrm{KL}(q \,\|\, p) = \mathbb{E}_q\left[\log \tfrac{p}{q}\right]"
        r" \le \log \mathbb{E}_q\left[\tfrac{p}{q}\right] = \log \int p \, dz = 0",
        run=verify_kl_nonnegative_jensen,
    ),
    Check(
        id="elbo.lower_bound_tight_iff_posterior",
        title="ELBO <= log p(x), with equality exactly when q(z|x) = p(z|x)",
        equation="(2.4)",
        latex=r"\mathrm{ELBO}(x) = \log p(x) - \mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x))"
        r" \le \log p(x)",
        run=verify_tight_iff_posterior,
    ),
    reconstruction_check(),
    entropy_form_check(),
)
