"""A learned prior: the VampPrior (Tomczak & Welling 2018) and its KL (chapter 13).

The prior is the mixture of the encoder's posteriors at K pseudo-inputs u_k,

(13.1)  p(z) = (1/K) Σ_k q(z | u_k),
        log p(z) = m + log Σ_k exp(a_k − m) − log K,   a_k = log q(z | u_k),  any m,

the log-sum-exp (m = max_k a_k in the code, so no exp overflows). The code evaluates
each a_k of a diagonal Gaussian in the expanded form Σ_d (z_d − μ_kd)² w_kd =
Σ_d z_d² w_kd − 2 Σ_d z_d μ_kd w_kd + Σ_d μ_kd² w_kd (w = e^{−log σ²}), two matrix
products for all K at once. Checked: the log-sum-exp form equals the log of the mixture
for any m; the expanded square equals the square; the mixture integrates to 1; at K = 1
it is the component's own log-density (4.1).

Its KL to q(z|x) has no closed form; the ELBO uses the one-sample Monte Carlo term

(13.2)  KL(q(z|x) ‖ p(z)) = E_{z ~ q(z|x)}[log q(z|x) − log p(z)],

whose expectation is the KL by definition. Checked by integration: with K = 1 and a
pseudo-input whose posterior is N(μ_u, σ_u²), the expectation of the code's integrand is
the closed form (4.4); with q(z | u) = N(0, 1) it is (4.5), the standard normal's KL:
the VampPrior with one component at the origin is the VAE of chapter 4.
"""

import sympy as sp

from elbo_math.check import Check, CheckResult, combine, equal
from elbo_math.gaussian import density, integrate_line, log_density
from elbo_math.kl import KL_STD_NORMAL, KL_UNIVARIATE
from elbo_math.symbols import mu, mu1, mu2, sigma, sigma1, sigma2, z

K = 3  # components of the symbolic mixture
A = sp.symbols(f"a_1:{K + 1}", real=True)  # a_k = log q(z | u_k)
SHIFT = sp.Symbol("m", real=True)


def log_sum_exp(a, m) -> sp.Expr:
    """(13.1) as the code evaluates it: m + log Σ exp(a_k − m) − log K."""
    return m + sp.log(sum(sp.exp(ak - m) for ak in a)) - sp.log(len(a))


def expanded_squares(zs, ms, ws) -> sp.Expr:
    """Σ_d (z_d − μ_d)² w_d as ``vae_torch.gaussian.log_mixture_normal`` computes it."""
    dot = lambda u, v: sum(a * b for a, b in zip(u, v, strict=True))  # noqa: E731
    squares = [zd**2 for zd in zs]
    weighted = [md * wd for md, wd in zip(ms, ws, strict=True)]
    return dot(squares, ws) - 2 * dot(zs, weighted) + dot([md**2 for md in ms], ws)


def verify_mixture(lse=log_sum_exp, squares=expanded_squares) -> CheckResult:
    """The code's forms of (13.1) against the mixture's definition."""
    mixture = sp.log(sum(sp.exp(ak) for ak in A) / K)
    # exp of both sides: the log-sum-exp is the log of the mixture for any shift m
    form = equal("exp(log-sum-exp) vs the mixture", sp.exp(lse(A, SHIFT)), sp.exp(mixture))
    at_one = equal("K = 1: the component's log-density", lse(A[:1], SHIFT), A[0])
    zs, ms = sp.symbols("z_1:3", real=True), sp.symbols("m_1:3", real=True)
    ws = sp.symbols("w_1:3", positive=True)
    square = sum((zd - md) ** 2 * wd for zd, md, wd in zip(zs, ms, ws, strict=True))
    expanded = equal("expanded squares", squares(zs, ms, ws), square)
    two = (density(z, mu1, sigma1) + density(z, mu2, sigma2)) / 2
    mass = equal("∫ p(z) dz", integrate_line(two), sp.Integer(1))
    return combine(form, at_one, expanded, mass)


def mc_integrand(m_u: sp.Expr, s_u: sp.Expr) -> sp.Expr:
    """(13.2)'s integrand, log q(z|x) − log p(z), for q = N(μ, σ²) and the one-component
    VampPrior whose pseudo-input's posterior is N(m_u, s_u²), its log-density (13.1)."""
    return log_density(z, mu, sigma) - log_sum_exp([log_density(z, m_u, s_u)], SHIFT)


def verify_mc_kl(integrand=mc_integrand) -> CheckResult:
    """E_q of the integrand at K = 1 is (4.4), and (4.5) at q(z | u) = N(0, 1)."""

    def expectation(m_u, s_u):
        body = sp.expand(sp.expand_log(integrand(m_u, s_u), force=True))
        return integrate_line(density(z, mu, sigma) * body)

    m_u, s_u = sp.Symbol("m_u", real=True), sp.Symbol("s_u", positive=True)
    closed = KL_UNIVARIATE.subs({mu1: mu, sigma1: sigma, mu2: m_u, sigma2: s_u}, simultaneous=True)
    general = equal("E_q[log q − log p], K = 1", expectation(m_u, s_u), closed)
    standard = equal("at q(z|u) = N(0, 1): (4.5)", expectation(0, 1), KL_STD_NORMAL)
    return combine(general, standard)


CHECKS = (
    Check(
        id="prior.vamp_log_density",
        title="The VampPrior's log-density: a log-sum-exp over its K components, minus log K",
        equation="(13.1)",
        latex=r"\begin{aligned}\log p(z) &= \log \frac1K \sum_{k=1}^K q(z \mid u_k)"
        r" \\ &= m + \log \sum_{k=1}^K e^{a_k - m} - \log K,"
        r"\quad a_k = \log q(z \mid u_k)\end{aligned}",
        run=verify_mixture,
    ),
    Check(
        id="prior.monte_carlo_kl",
        title="The Monte Carlo KL is unbiased; at K = 1, u at N(0, 1), it is (4.5)",
        equation="(13.2)",
        latex=r"\mathrm{KL}(q(z \mid x) \,\|\, p(z)) = \mathbb{E}_{q(z \mid x)}"
        r"[\log q(z \mid x) - \log p(z)]",
        run=verify_mc_kl,
    ),
)
