"""A model in which every term of chapter 2 is closed form: the linear Gaussian model
(probabilistic PCA),

    p(z) = N(0, I_L),   p(x | z) = N(W z + b, s² I_D),   q(z | x) = N(m, S),

with W of shape (D, L), s > 0, and any Gaussian q (S = C Cᵀ, C lower triangular).
Writing r = x − b and A = I + WᵀW/s² (the posterior precision):

(1.1)  p(z | x) = N(μₚ, Σₚ),   Σₚ = A⁻¹,   μₚ = A⁻¹ Wᵀ r / s²

(2.8)  Σₚ is diagonal exactly when the columns of W are orthogonal: A's off-diagonal
       entries are the columns' dot products over s², and a positive definite matrix
       is diagonal exactly when its inverse is

(1.2)  log p(x) = log N(x; b, W Wᵀ + s² I)
                = −½ [D log 2πs² + log det A + (‖r‖² − rᵀ W A⁻¹ Wᵀ r / s²) / s²]

(2.7) E_q[log p(x | z)] = −(D/2) log 2πs² − (‖r − W m‖² + tr(WᵀW S)) / (2s²)
       KL(q ‖ p(z))      = ½ [tr S + mᵀm − L − log det S]
       KL(q ‖ p(z | x))  = ½ [tr(A S) + (m − μₚ)ᵀ A (m − μₚ) − L − log det A − log det S]
       H[q]              = ½ [L log 2πe + log det S]
       ELBO(q)           = E_q[log p(x | z)] − KL(q ‖ p(z))

Nothing in (1.1)-(2.7) is assumed. The posterior is found by completing the square:
A is minus the Hessian of log p(x, z) in z, and log p(x, z) − log N(z; μₚ, Σₚ) is checked
to be free of z, which makes it log p(x) (Bayes). Every expectation is computed by
sympy from its own integrand, with z = m + C t, t ~ N(0, I) (chapter 5) and the Gaussian
moments (4.1). The identities (2.1), (2.4), (2.5), (2.6) are then verified exactly, and
the closed forms (1.2)-(2.7) are compared with them. The second line of (1.2) (matrix
determinant lemma and Woodbury identity) is what the numpy ground truth evaluates: it
only factors the L×L matrix A, so it stays cheap for D = 784.

Three instances are checked: everything symbolic with D = 2, L = 1; exact rationals with
D = 3, L = 2 and non-orthogonal columns (full posterior covariance) and a symbolic
full-covariance q; and exact rationals with orthogonal columns, where a diagonal q (what a
VAE's encoder outputs) can equal the posterior and the ELBO is tight.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import sympy as sp

from elbo_math.check import Check, CheckResult, all_zero, combine
from elbo_math.gaussian import expect_gaussian, log_density, log_density_mv

R = sp.Rational


@dataclass(frozen=True)
class Instance:
    """x, W, b, s of the model and the parameters of q. Matrices are sympy column
    vectors (D, 1), (L, 1) and matrices (D, L), (L, L)."""

    name: str
    W: sp.Matrix
    b: sp.Matrix
    x: sp.Matrix
    s: sp.Expr
    q_mean: sp.Matrix
    q_chol: sp.Matrix  # lower triangular, positive diagonal: S = C Cᵀ

    @property
    def latents(self) -> tuple[sp.Symbol, ...]:
        return sp.symbols(f"z_1:{self.W.shape[1] + 1}", real=True)

    @property
    def q_cov(self) -> sp.Matrix:
        return self.q_chol * self.q_chol.T


def _vector(name: str, n: int) -> sp.Matrix:
    return sp.ImmutableMatrix(sp.symbols(f"{name}_1:{n + 1}", real=True))


def _chol(n: int) -> sp.Matrix:
    """A symbolic lower-triangular n×n factor with a positive diagonal."""

    def entry(i: int, j: int) -> sp.Expr:
        name = f"c_{i + 1}{j + 1}"
        if i == j:
            return sp.Symbol(name, positive=True)
        return sp.Symbol(name, real=True) if j < i else sp.Integer(0)

    return sp.ImmutableMatrix(n, n, entry)


SYMBOLIC = Instance(
    name="symbolic D=2, L=1",
    W=_vector("w", 2),
    b=_vector("b", 2),
    x=_vector("x", 2),
    s=sp.Symbol("s", positive=True),
    q_mean=_vector("m", 1),
    q_chol=_chol(1),
)
RATIONAL = Instance(
    name="rational D=3, L=2",
    W=sp.ImmutableMatrix([[1, R(1, 2)], [R(-1, 2), 1], [1, -1]]),
    b=sp.ImmutableMatrix([R(1, 4), R(-1, 2), 0]),
    x=sp.ImmutableMatrix([1, R(1, 2), -1]),
    s=R(1, 2),
    q_mean=_vector("m", 2),
    q_chol=_chol(2),
)
ORTHOGONAL = Instance(
    name="rational D=3, L=2, orthogonal columns",
    W=sp.ImmutableMatrix([[1, 1], [1, -1], [0, 2]]),
    b=sp.ImmutableMatrix([0, R(1, 2), R(-1, 2)]),
    x=sp.ImmutableMatrix([R(3, 2), -1, R(1, 4)]),
    s=sp.Integer(1),
    q_mean=_vector("m", 2),
    q_chol=sp.ImmutableMatrix(sp.diag(*sp.symbols("c_11 c_22", positive=True))),
)
RATIONAL_1D = Instance(
    name="rational D=2, L=1",
    W=sp.ImmutableMatrix([2, R(-1, 2)]),
    b=sp.ImmutableMatrix([R(1, 2), 0]),
    x=sp.ImmutableMatrix([1, R(-3, 2)]),
    s=R(1, 2),
    q_mean=sp.ImmutableMatrix([R(1, 4)]),
    q_chol=sp.ImmutableMatrix([R(1, 2)]),
)
INSTANCES = (SYMBOLIC, RATIONAL, ORTHOGONAL)  # RATIONAL_1D: for integrals sympy can only do in 1-D


def log_likelihood(inst: Instance, zs: sp.Matrix) -> sp.Expr:
    """log p(x | z) = Σ_d log N(x_d; (W z + b)_d, s²)  (3.3)."""
    mean = inst.W * zs + inst.b
    return sum(log_density(inst.x[d], mean[d], inst.s) for d in range(inst.x.shape[0]))


def log_prior(zs: sp.Matrix) -> sp.Expr:
    """log p(z) = Σᵢ log N(zᵢ; 0, 1)."""
    return sum(log_density(zi, 0, 1) for zi in zs)


@dataclass(frozen=True)
class Derived:
    """Everything computed from the model's definition for one instance."""

    posterior_mean: sp.Matrix
    posterior_cov: sp.Matrix
    posterior_z_free: dict[str, sp.Expr]  # ∂/∂zᵢ of log p(x,z) − log N(z; μₚ, Σₚ): must be 0
    log_evidence: sp.Expr  # by Bayes, from the line above
    marginal: sp.Expr  # log N(x; b, W Wᵀ + s² I)
    expected_log_likelihood: sp.Expr
    kl_prior: sp.Expr
    kl_posterior: sp.Expr
    entropy: sp.Expr
    expected_log_joint: sp.Expr
    elbo: sp.Expr


@cache
def derive(inst: Instance) -> Derived:
    """Complete the square in log p(x, z) for the posterior, then take every expectation
    under q from its own integrand."""
    zs = sp.Matrix(inst.latents)
    log_joint = log_likelihood(inst, zs) + log_prior(zs)
    precision = -sp.hessian(log_joint, inst.latents)
    linear = sp.Matrix([sp.diff(log_joint, zi) for zi in inst.latents]).subs(
        dict.fromkeys(inst.latents, 0)
    )
    post_cov = precision.inv()
    post_mean = sp.simplify(post_cov * linear)
    log_post = log_density_mv(zs, post_mean, post_cov)
    bayes = log_joint - log_post
    log_q = log_density_mv(zs, inst.q_mean, inst.q_cov)

    def expect(f: sp.Expr) -> sp.Expr:
        return expect_gaussian(f, inst.latents, inst.q_mean, inst.q_chol)

    D = inst.x.shape[0]
    return Derived(
        posterior_mean=post_mean,
        posterior_cov=post_cov,
        posterior_z_free={f"∂/∂{zi} [log p(x,z) − log p(z|x)]": sp.diff(bayes, zi) for zi in zs},
        log_evidence=bayes.subs(dict.fromkeys(inst.latents, 0)),
        marginal=log_density_mv(inst.x, inst.b, inst.W * inst.W.T + inst.s**2 * sp.eye(D)),
        expected_log_likelihood=expect(log_likelihood(inst, zs)),
        kl_prior=expect(log_q - log_prior(zs)),
        kl_posterior=expect(log_q - log_post),
        entropy=-expect(log_q),
        expected_log_joint=expect(log_joint),
        elbo=expect(log_joint - log_q),
    )


@dataclass(frozen=True)
class ClosedForms:
    posterior_mean: sp.Matrix
    posterior_cov: sp.Matrix
    log_evidence: sp.Expr
    expected_log_likelihood: sp.Expr
    kl_prior: sp.Expr
    kl_posterior: sp.Expr
    entropy: sp.Expr
    elbo: sp.Expr


def closed_forms(inst: Instance) -> ClosedForms:
    """(1.1), (1.2), (2.7) as written in the module docstring; the numpy ground truth
    (``linear_gaussian_numeric``) evaluates the same formulas."""
    W, s, m, S = inst.W, inst.s, inst.q_mean, inst.q_cov
    D, L = W.shape
    r = inst.x - inst.b
    # (1.1)
    A = sp.eye(L) + W.T * W / s**2
    post_mean = A.inv() * W.T * r / s**2
    # (1.2)
    quad = ((r.T * r)[0, 0] - (r.T * W * A.inv() * W.T * r)[0, 0] / s**2) / s**2
    log_evidence = -(D * sp.log(2 * sp.pi * s**2) + sp.log(A.det()) + quad) / 2
    # (2.7)
    residual = r - W * m
    ell = -D * sp.log(2 * sp.pi * s**2) / 2 - (
        (residual.T * residual)[0, 0] + (W.T * W * S).trace()
    ) / (2 * s**2)
    kl_prior = (S.trace() + (m.T * m)[0, 0] - L - sp.log(S.det())) / 2
    gap = m - post_mean
    kl_post = (
        (A * S).trace() + (gap.T * A * gap)[0, 0] - L - sp.log(A.det()) - sp.log(S.det())
    ) / 2
    entropy = (L * sp.log(2 * sp.pi * sp.E) + sp.log(S.det())) / 2
    return ClosedForms(
        post_mean, A.inv(), log_evidence, ell, kl_prior, kl_post, entropy, ell - kl_prior
    )


ClaimedForms = Callable[[Instance], ClosedForms]


def _over_instances(
    residuals: Callable[[Instance], dict[str, sp.Expr]], instances=INSTANCES
) -> CheckResult:
    results = []
    for inst in instances:
        result = all_zero(residuals(inst))
        results.append(CheckResult(result.passed, f"[{inst.name}] {result.detail}"))
    return combine(*results)


def verify_posterior(claimed: ClaimedForms = closed_forms) -> CheckResult:
    def residuals(inst: Instance) -> dict[str, sp.Expr]:
        derived, forms = derive(inst), claimed(inst)
        out = dict(derived.posterior_z_free)
        out |= {f"μₚ[{i}]": e for i, e in enumerate(forms.posterior_mean - derived.posterior_mean)}
        out |= {
            f"Σₚ{ij}": forms.posterior_cov[ij] - derived.posterior_cov[ij] for ij in _pairs(inst)
        }
        return out

    return _over_instances(residuals)


def verify_diagonal_iff_orthogonal() -> CheckResult:
    """(2.8) with a symbolic 3×2 W: A₀₁ = (column 0 · column 1)/s², and for a 2×2 precision
    Σₚ₀₁ = −A₀₁ / det A; then the two rational instances, one of each kind."""
    W = sp.Matrix(3, 2, lambda i, j: sp.Symbol(f"w_{i + 1}{j + 1}", real=True))
    s = sp.Symbol("s", positive=True)
    inst = Instance(
        "symbolic D=3, L=2", W, _vector("b", 3), _vector("x", 3), s, _vector("m", 2), _chol(2)
    )
    zs = sp.Matrix(inst.latents)
    precision = -sp.hessian(log_likelihood(inst, zs) + log_prior(zs), inst.latents)
    dot = (W[:, 0].T * W[:, 1])[0, 0]
    structure = all_zero(
        {
            "A₀₁ − (w₀·w₁)/s²": precision[0, 1] - dot / s**2,
            "Σₚ₀₁ + A₀₁/det A": precision.inv()[0, 1] + precision[0, 1] / precision.det(),
        }
    )
    orthogonal = derive(ORTHOGONAL).posterior_cov[0, 1]
    oblique = derive(RATIONAL).posterior_cov[0, 1]
    instances = CheckResult(
        orthogonal == 0 and oblique != 0,
        f"Σₚ₀₁ = {orthogonal} ({ORTHOGONAL.name}), {oblique} ({RATIONAL.name})",
    )
    return combine(structure, instances)


def verify_log_evidence(claimed: ClaimedForms = closed_forms) -> CheckResult:
    def residuals(inst: Instance) -> dict[str, sp.Expr]:
        derived = derive(inst)
        return {
            "Bayes − log N(x; b, WWᵀ + s²I)": derived.log_evidence - derived.marginal,
            "claimed − Bayes": claimed(inst).log_evidence - derived.log_evidence,
        }

    by_integral = _marginal_by_integration(RATIONAL_1D)
    integral = all_zero({f"[{RATIONAL_1D.name}] log ∫ p(x, z) dz − Bayes": by_integral})
    return combine(_over_instances(residuals), integral)


def _marginal_by_integration(inst: Instance) -> sp.Expr:
    """log ∫ p(x, z) dz by sympy, minus the Bayes log p(x): 0 when p(x) is right."""
    (z1,) = inst.latents
    zs = sp.Matrix([z1])
    joint = sp.exp(sp.expand(log_likelihood(inst, zs) + log_prior(zs)))
    integral = sp.integrate(joint, (z1, -sp.oo, sp.oo), conds="none")
    return sp.log(integral) - derive(inst).log_evidence


def verify_closed_forms(claimed: ClaimedForms = closed_forms) -> CheckResult:
    def residuals(inst: Instance) -> dict[str, sp.Expr]:
        derived, forms = derive(inst), claimed(inst)
        names = ("expected_log_likelihood", "kl_prior", "kl_posterior", "entropy", "elbo")
        return {name: getattr(forms, name) - getattr(derived, name) for name in names}

    return _over_instances(residuals)


def verify_decomposition() -> CheckResult:
    """(2.1): log p(x), computed as the marginal density N(x; b, WWᵀ + s²I), against
    ELBO + KL(q ‖ p(z|x)), each an expectation of its own integrand."""
    return _over_instances(
        lambda inst: {
            "log p(x) − ELBO − KL(q‖p(z|x))": derive(inst).marginal
            - derive(inst).elbo
            - derive(inst).kl_posterior
        }
    )


def verify_reconstruction_minus_kl() -> CheckResult:
    return _over_instances(
        lambda inst: {
            "ELBO − E_q[log p(x|z)] + KL(q‖p(z))": derive(inst).elbo
            - derive(inst).expected_log_likelihood
            + derive(inst).kl_prior
        }
    )


def verify_joint_plus_entropy() -> CheckResult:
    return _over_instances(
        lambda inst: {
            "ELBO − E_q[log p(x,z)] − H[q]": derive(inst).elbo
            - derive(inst).expected_log_joint
            - derive(inst).entropy
        }
    )


def at_posterior(inst: Instance) -> Instance:
    """The same instance with q set to the true posterior (C = Cholesky factor of Σₚ)."""
    derived = derive(inst)
    chol = derived.posterior_cov.cholesky(hermitian=False)
    return Instance(
        f"{inst.name}, q = p(z|x)",
        inst.W,
        inst.b,
        inst.x,
        inst.s,
        sp.ImmutableMatrix(derived.posterior_mean),
        sp.ImmutableMatrix(chol),
    )


def verify_tight_at_posterior() -> CheckResult:
    """(2.4): at q = p(z|x), KL(q ‖ p(z|x)) = 0 and ELBO = log p(x); off it, the gap is
    the (positive) KL, shown for one rational q."""
    tight = _over_instances(
        lambda inst: {
            "KL(p(z|x) ‖ p(z|x))": derive(inst).kl_posterior,
            "ELBO − log p(x)": derive(inst).elbo - derive(inst).marginal,
        },
        instances=tuple(at_posterior(inst) for inst in (*INSTANCES, RATIONAL_1D)),
    )
    off = derive(RATIONAL_1D)
    gap = off.marginal - off.elbo
    q = f"q = N({RATIONAL_1D.q_mean[0]}, {RATIONAL_1D.q_cov[0]})"
    strict = CheckResult(
        bool(gap > 0), f"[{RATIONAL_1D.name}, {q}] log p(x) − ELBO = {sp.N(gap, 6)} > 0"
    )
    diagonal = CheckResult(
        derive(ORTHOGONAL).posterior_cov.is_diagonal(),
        f"[{ORTHOGONAL.name}] Σₚ is diagonal: a mean-field q reaches the bound",
    )
    return combine(tight, strict, diagonal)


def _pairs(inst: Instance) -> list[tuple[int, int]]:
    L = inst.W.shape[1]
    return [(i, j) for i in range(L) for j in range(L)]


def posterior_check(claimed: ClaimedForms = closed_forms) -> Check:
    return Check(
        id="linear_gaussian.posterior",
        title="Linear Gaussian model: the exact posterior by completing the square",
        equation="(1.1)",
        latex=r"p(z \mid x) = \mathcal{N}\!\left(A^{-1} W^\top (x - b) / s^2,\ A^{-1}\right),"
        r"\quad A = I + W^\top W / s^2",
        run=lambda: verify_posterior(claimed),
    )


def log_evidence_check(claimed: ClaimedForms = closed_forms) -> Check:
    return Check(
        id="linear_gaussian.log_evidence",
        title="Linear Gaussian model: log p(x) = log N(x; b, WWᵀ + s²I), in latent-space form",
        equation="(1.2)",
        latex=r"\log p(x) = -\tfrac12\left[D \log 2\pi s^2 + \log\det A + \frac{\|r\|^2 - "
        r"r^\top W A^{-1} W^\top r / s^2}{s^2}\right]",
        run=lambda: verify_log_evidence(claimed),
    )


def closed_forms_check(claimed: ClaimedForms = closed_forms) -> Check:
    return Check(
        id="linear_gaussian.closed_forms",
        title="Linear Gaussian model: E_q[log p(x|z)], both KLs, H[q] and the ELBO in closed form",
        equation="(2.7)",
        latex=r"\begin{aligned}\mathbb{E}_q[\log p(x \mid z)] &= -\tfrac{D}{2}\log 2\pi s^2"
        r" - \frac{\|r - Wm\|^2 + \operatorname{tr}(W^\top W S)}{2s^2}, \\"
        r" \mathrm{KL}(q \,\|\, p(z)) &= \tfrac12\left[\operatorname{tr} S + m^\top m - L"
        r" - \log\det S\right]\end{aligned}",
        run=lambda: verify_closed_forms(claimed),
    )


CHECKS = (
    posterior_check(),
    Check(
        id="linear_gaussian.posterior_diagonal_iff_orthogonal",
        title="Linear Gaussian model: the posterior covariance is diagonal iff W's columns "
        "are orthogonal",
        equation="(2.8)",
        latex=r"(A)_{ij} = \delta_{ij} + \frac{w_i^\top w_j}{s^2}",
        run=verify_diagonal_iff_orthogonal,
    ),
    log_evidence_check(),
    closed_forms_check(),
    Check(
        id="linear_gaussian.evidence_decomposition",
        title="Linear Gaussian model: log p(x) = ELBO + KL(q ‖ p(z|x)) exactly, any Gaussian q",
        equation="(2.1)",
        latex=r"\log \mathcal{N}(x; b, WW^\top + s^2 I) = \mathrm{ELBO}(q) + "
        r"\mathrm{KL}(q \,\|\, p(z \mid x))",
        run=verify_decomposition,
    ),
    Check(
        id="linear_gaussian.tight_at_posterior",
        title="Linear Gaussian model: ELBO = log p(x) at q = p(z|x), strictly below elsewhere",
        equation="(2.4)",
        latex=r"\mathrm{ELBO}(p(z \mid x)) = \log p(x)",
        run=verify_tight_at_posterior,
    ),
    Check(
        id="linear_gaussian.reconstruction_minus_kl",
        title="Linear Gaussian model: ELBO = E_q[log p(x|z)] − KL(q ‖ p(z)) exactly",
        equation="(2.5)",
        latex=r"\mathrm{ELBO}(q) = \mathbb{E}_q[\log p(x \mid z)] - \mathrm{KL}(q \,\|\, p(z))",
        run=verify_reconstruction_minus_kl,
    ),
    Check(
        id="linear_gaussian.joint_plus_entropy",
        title="Linear Gaussian model: ELBO = E_q[log p(x,z)] + H[q] exactly",
        equation="(2.6)",
        latex=r"\mathrm{ELBO}(q) = \mathbb{E}_q[\log p(x, z)] + \mathbb{H}[q]",
        run=verify_joint_plus_entropy,
    ),
)
