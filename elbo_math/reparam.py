"""The reparameterization trick: a sample of q(z | x) as a differentiable function of
the encoder's outputs and of noise that does not depend on them.

(5.1)  z = μ + σ ε,  σ = exp(½ log σ²),  ε ~ N(0, 1)   ⇒   z ~ N(μ, σ²);
       in d dimensions z = μ + L ε, ε ~ N(0, I)   ⇒   z ~ N(μ, L Lᵀ)

(5.2)  ∂z/∂μ = 1,   ∂z/∂log σ² = ½ exp(½ log σ²) ε = ½ (z − μ)

(5.1) is checked by the change of variables: the density of z is the density of
ε = L⁻¹(z − μ) times |det ∂ε/∂z| = 1/|det L|, which must be N(z; μ, L Lᵀ). The noise ε is
an explicit argument everywhere in the package, so numpy and torch can be handed the same ε
and must then agree to rounding.
"""

import sympy as sp

from elbo_math.check import Check, CheckResult, combine, equal
from elbo_math.gaussian import density, log_density, log_density_mv
from elbo_math.symbols import eps, log_var, mu, tex, z

# (5.1)
STD = sp.exp(log_var / 2)
# (5.1)
Z = mu + STD * eps
# (5.2)
DZ_DMU = sp.Integer(1)
DZ_DLOG_VAR = sp.exp(log_var / 2) * eps / 2


def verify_distribution(claimed_z: sp.Expr = Z) -> CheckResult:
    """(5.1): change of variables in one and in two dimensions."""
    (eps_of_z,) = sp.solve(sp.Eq(z, claimed_z), eps)
    jacobian = sp.diff(eps_of_z, z)
    pushed = density(eps_of_z, 0, 1) * sp.Abs(jacobian)
    variance = sp.exp(log_var)  # log_var is log σ² by definition
    target = density(z, mu, sp.sqrt(variance))
    one_dim = equal("density of μ + σε", sp.log(target), sp.log(pushed))
    std = equal("std = √(e^{log σ²})", STD, sp.sqrt(variance))

    zs = sp.Matrix(sp.symbols("z_1 z_2", real=True))
    means = sp.Matrix(sp.symbols("m_1 m_2", real=True))
    a, c = sp.symbols("l_11 l_22", positive=True)
    chol = sp.Matrix([[a, 0], [sp.Symbol("l_21", real=True), c]])
    noise = chol.inv() * (zs - means)
    log_pushed = sum(log_density(n, 0, 1) for n in noise) - sp.log(abs(chol.det()))
    two_dim = equal("density of μ + Lε", log_density_mv(zs, means, chol * chol.T), log_pushed)
    return combine(std, one_dim, two_dim)


def verify_derivatives(
    claimed_dmu: sp.Expr = DZ_DMU, claimed_dlog_var: sp.Expr = DZ_DLOG_VAR
) -> CheckResult:
    return combine(
        equal("∂z/∂μ", claimed_dmu, sp.diff(Z, mu)),
        equal("∂z/∂log σ²", claimed_dlog_var, sp.diff(Z, log_var)),
        equal("∂z/∂log σ² = ½(z − μ)", claimed_dlog_var, (Z - mu) / 2),
    )


def distribution_check(claimed_z: sp.Expr = Z) -> Check:
    return Check(
        id="reparam.distribution",
        title="z = μ + exp(½ log σ²) ε with ε ~ N(0, 1) is distributed as N(μ, σ²)",
        equation="(5.1)",
        latex=r"z = " + tex(claimed_z) + r",\ \epsilon \sim \mathcal{N}(0, 1)"
        r" \;\Rightarrow\; z \sim \mathcal{N}(\mu, \sigma^2)",
        run=lambda: verify_distribution(claimed_z),
    )


def derivatives_check(
    claimed_dmu: sp.Expr = DZ_DMU, claimed_dlog_var: sp.Expr = DZ_DLOG_VAR
) -> Check:
    return Check(
        id="reparam.derivatives",
        title="∂z/∂μ and ∂z/∂log σ² of the reparameterized sample",
        equation="(5.2)",
        latex=r"\frac{\partial z}{\partial \mu} = "
        + tex(claimed_dmu)
        + r",\quad \frac{\partial z}{\partial \log\sigma^2} = "
        + tex(claimed_dlog_var),
        run=lambda: verify_derivatives(claimed_dmu, claimed_dlog_var),
    )


CHECKS = (distribution_check(), derivatives_check())
