"""The derivatives the hand-written backward passes use, each obtained by sympy ``diff``
of an expression verified in an earlier chapter.

(6.1)  ∂KL/∂μ = μ                                   KL = ½ (μ² + e^{log σ²} − 1 − log σ²)  (4.7)
(6.2)  ∂KL/∂log σ² = ½ (e^{log σ²} − 1)
(6.3)  ∂/∂ℓ [x ℓ − softplus(ℓ)] = x − sigmoid(ℓ)    (Bernoulli, from logits (3.2))
(6.4)  ∂/∂x̂ log N(x; x̂, σ²) = (x − x̂)/σ²            (Gaussian, fixed σ (3.3))
(6.5)  through z = μ + exp(½ log σ²) ε (5.1), for any f(z) with g = f′(z):
       ∂f/∂μ = g,   ∂f/∂log σ² = g · ½ exp(½ log σ²) ε

The per-example loss is −ELBO = −log p(x | z) + KL, so the encoder's heads receive
∂(−ELBO)/∂μ = −g + μ and ∂(−ELBO)/∂log σ² = −g · ½ σ ε + ½ (σ² − 1), with g the gradient of
log p(x | z) with respect to z that the decoder's backward pass returns. All derivatives
here are elementwise: for the sums over dimensions (latent or pixel) each component's
derivative involves only its own terms.
"""

import sympy as sp

from elbo_math.check import Check, CheckResult, combine, equal
from elbo_math.kl import KL_STD_NORMAL_LOG_VAR
from elbo_math.likelihoods import BERNOULLI_LOG_LIKELIHOOD_LOGITS, GAUSSIAN_LOG_LIKELIHOOD
from elbo_math.reparam import Z
from elbo_math.symbols import eps, explicit, log_var, logit, mu, sigma, sigmoid, tex, x, x_hat

g = sp.Symbol("g", real=True)  # ∂f/∂z at z = μ + σε: what the decoder's backward returns

# (6.1)
DKL_DMU = mu
# (6.2)
DKL_DLOG_VAR = (sp.exp(log_var) - 1) / 2
# (6.3)
DBERNOULLI_DLOGIT = x - sigmoid(logit)
# (6.4)
DGAUSSIAN_DMEAN = (x - x_hat) / sigma**2
# (6.5)
DF_DMU = g
DF_DLOG_VAR = g * sp.exp(log_var / 2) * eps / 2


def verify_kl(claimed_dmu: sp.Expr = DKL_DMU, claimed_dlog_var: sp.Expr = DKL_DLOG_VAR):
    return combine(
        equal("∂KL/∂μ", claimed_dmu, sp.diff(KL_STD_NORMAL_LOG_VAR, mu)),
        equal("∂KL/∂log σ²", claimed_dlog_var, sp.diff(KL_STD_NORMAL_LOG_VAR, log_var)),
    )


def verify_bernoulli(claimed: sp.Expr = DBERNOULLI_DLOGIT) -> CheckResult:
    derived = sp.diff(explicit(BERNOULLI_LOG_LIKELIHOOD_LOGITS), logit)
    return equal("∂/∂ℓ (x ℓ − softplus ℓ)", explicit(claimed), derived)


def verify_gaussian(claimed: sp.Expr = DGAUSSIAN_DMEAN) -> CheckResult:
    return equal("∂/∂x̂ log N(x; x̂, σ²)", claimed, sp.diff(GAUSSIAN_LOG_LIKELIHOOD, x_hat))


def verify_chain(claimed_dmu: sp.Expr = DF_DMU, claimed_dlog_var: sp.Expr = DF_DLOG_VAR):
    """(6.5) with f an arbitrary (undefined) differentiable function of z."""
    f = sp.Function("f")
    u = sp.Symbol("u", real=True)
    f_prime_at_z = sp.Subs(sp.Derivative(f(u), u), u, Z)
    composed = f(Z)
    return combine(
        equal("∂f(z)/∂μ", claimed_dmu.subs(g, f_prime_at_z), sp.diff(composed, mu)),
        equal("∂f(z)/∂log σ²", claimed_dlog_var.subs(g, f_prime_at_z), sp.diff(composed, log_var)),
    )


def kl_check(claimed_dmu: sp.Expr = DKL_DMU, claimed_dlog_var: sp.Expr = DKL_DLOG_VAR) -> Check:
    return Check(
        id="grad.kl",
        title="Gradient of KL(N(μ, σ²) ‖ N(0, 1)) with respect to μ and log σ²",
        equation="(6.1), (6.2)",
        latex=r"\frac{\partial \mathrm{KL}}{\partial \mu} = "
        + tex(claimed_dmu)
        + r",\quad \frac{\partial \mathrm{KL}}{\partial \log\sigma^2} = "
        + tex(claimed_dlog_var),
        run=lambda: verify_kl(claimed_dmu, claimed_dlog_var),
    )


def bernoulli_check(claimed: sp.Expr = DBERNOULLI_DLOGIT) -> Check:
    return Check(
        id="grad.bernoulli_logits",
        title="Gradient of the Bernoulli log-likelihood with respect to the logits",
        equation="(6.3)",
        latex=r"\frac{\partial}{\partial \ell}\left[x\ell - \operatorname{softplus}(\ell)\right] = "
        + tex(claimed),
        run=lambda: verify_bernoulli(claimed),
    )


def gaussian_check(claimed: sp.Expr = DGAUSSIAN_DMEAN) -> Check:
    return Check(
        id="grad.gaussian_mean",
        title="Gradient of the Gaussian log-likelihood with respect to the mean x̂",
        equation="(6.4)",
        latex=r"\frac{\partial}{\partial \hat{x}} \log \mathcal{N}(x; \hat{x}, \sigma^2) = "
        + tex(claimed),
        run=lambda: verify_gaussian(claimed),
    )


def chain_check(claimed_dmu: sp.Expr = DF_DMU, claimed_dlog_var: sp.Expr = DF_DLOG_VAR) -> Check:
    return Check(
        id="grad.through_reparameterization",
        title="Chain rule through z = μ + exp(½ log σ²) ε",
        equation="(6.5)",
        latex=r"\frac{\partial f}{\partial \mu} = "
        + tex(claimed_dmu)
        + r",\quad \frac{\partial f}{\partial \log\sigma^2} = "
        + tex(claimed_dlog_var)
        + r",\quad g = f'(z)",
        run=lambda: verify_chain(claimed_dmu, claimed_dlog_var),
    )


CHECKS = (kl_check(), bernoulli_check(), gaussian_check(), chain_check())
