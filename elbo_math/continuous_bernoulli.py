"""The continuous Bernoulli likelihood (Loaiza-Ganem & Cunningham 2019), for grey levels.

"BCE on grey levels" evaluates λˣ (1 − λ)¹⁻ˣ at x ∈ [0, 1], which does not integrate to 1
over [0, 1] (chapter 3). Its normaliser makes it a density:

(3.7)  p(x | λ) = C(λ) λˣ (1 − λ)¹⁻ˣ,  1/C(λ) = ∫₀¹ λˣ (1 − λ)¹⁻ˣ dx,
       with the decoder's logit η (λ = sigmoid(η)):  C = η / tanh(η/2),
       log p(x | η) = x η − softplus(η) + log C(η).

At η = 0 (λ = 1/2) the closed form is 0/0 and, in floating point, inaccurate near it; the
code uses the Taylor expansion there:

(3.8)  log C(η) = log 2 + η²/12 − 7η⁴/1440 + 31η⁶/90720 − 127η⁸/4838400 + O(η¹⁰),

used for |η| < 0.01 (error below 10⁻²⁰; the closed form needs η ≠ 0).

Its mean, the image a sample figure shows, and the gradient of the log-density:

(3.9)  E[x] = sigmoid(η) − 1/η + 1/sinh(η)
            = 1/2 + η/12 − η³/720 + η⁵/30240 − η⁷/1209600 + η⁹/47900160
              − 691η¹¹/1307674368000 + η¹³/74724249600 + O(η¹⁵),

the series used for |η| < 1 (error below 10⁻¹²), where −1/η + 1/sinh(η) cancels.
       ∂ log p(x | η)/∂η = x − E[x]   (an exponential family in η with statistic x).

sympy integrates the density in η to verify (3.7), expands (3.8) and (3.9) in series,
computes the mean as ∫ x p(x) dx and differentiates the log-density.
"""

import sympy as sp

from elbo_math.check import Check, CheckResult, all_zero

ETA = sp.Symbol("eta", positive=True)  # the identities are even / odd in η: η > 0 suffices
X = sp.Symbol("x", nonnegative=True)
LAMBDA = 1 / (1 + sp.exp(-ETA))
NORMALISER = ETA / sp.tanh(ETA / 2)  # C(η)
LOG_DENSITY = X * ETA - sp.log(1 + sp.exp(ETA)) + sp.log(NORMALISER)
MEAN = LAMBDA - 1 / ETA + 1 / sp.sinh(ETA)
# the series the code evaluates for |η| < 1 (vae_numpy.likelihoods, vae_torch.distributions)
LOG_C_SERIES = (
    sp.log(2) + ETA**2 / 12 - 7 * ETA**4 / 1440 + 31 * ETA**6 / 90720 - 127 * ETA**8 / 4838400
)
MEAN_SERIES = (
    sp.Rational(1, 2)
    + ETA / 12
    - ETA**3 / 720
    + ETA**5 / 30240
    - ETA**7 / 1209600
    + ETA**9 / 47900160
    - 691 * ETA**11 / 1307674368000
    + ETA**13 / 74724249600
)


def verify_normaliser() -> CheckResult:
    """λˣ (1 − λ)¹⁻ˣ = (1 − λ) e^{ηx} (its log is linear in x with slope log(λ/(1 − λ)) = η);
    C times its integral over [0, 1] is 1; and its log plus log C is (3.7)'s logit form."""
    slope = sp.log(LAMBDA) - sp.log(1 - LAMBDA) - ETA  # 0: the logit of λ is η
    integral = sp.integrate((1 - LAMBDA) * sp.exp(ETA * X), (X, 0, 1))
    log_density = X * sp.log(LAMBDA) + (1 - X) * sp.log(1 - LAMBDA) + sp.log(NORMALISER)
    return all_zero(
        {
            "log λ − log(1 − λ) − η": slope,
            "C ∫ λˣ(1 − λ)¹⁻ˣ dx − 1": (NORMALISER * integral - 1).rewrite(sp.exp),
            "log p − (x η − softplus(η) + log C)": log_density - LOG_DENSITY,
        }
    )


def verify_taylor() -> CheckResult:
    eta = sp.Symbol("eta")
    series = sp.series(sp.log(eta / sp.tanh(eta / 2)), eta, 0, 10).removeO()
    claimed = LOG_C_SERIES.subs(ETA, eta)
    return all_zero({"(3.8) series − claimed": series - claimed})


def verify_mean() -> CheckResult:
    density = sp.exp(LOG_DENSITY)
    first_moment = sp.integrate(sp.expand(X * density), (X, 0, 1))
    eta = sp.Symbol("eta")
    series = sp.series(MEAN.subs(ETA, eta), eta, 0, 15).removeO()
    gradient = sp.diff(LOG_DENSITY, ETA) - (X - MEAN)
    return all_zero(
        {
            "∫ x p(x) dx − E[x]": sp.simplify((first_moment - MEAN).rewrite(sp.exp)),
            "(3.9) series − claimed": series - MEAN_SERIES.subs(ETA, eta),
            "∂ log p/∂η − (x − E[x])": sp.simplify(gradient.rewrite(sp.exp)),
        }
    )


CHECKS = (
    Check(
        id="likelihood.continuous_bernoulli",
        title="the continuous Bernoulli: BCE of grey levels plus log C(η) is a density on [0, 1]",
        equation="(3.7)",
        latex=r"\begin{gathered}\int_0^1 C(\lambda)\,\lambda^x (1-\lambda)^{1-x}\,dx = 1, \quad"
        r" C = \frac{\eta}{\tanh(\eta/2)}, \\ \log p(x \mid \eta) = x\eta"
        r" - \operatorname{softplus}(\eta) + \log C(\eta)\end{gathered}",
        run=verify_normaliser,
    ),
    Check(
        id="likelihood.continuous_bernoulli_taylor",
        title="the continuous Bernoulli's log-normaliser near λ = 1/2 (the closed form is 0/0)",
        equation="(3.8)",
        latex=r"\log C(\eta) = \log 2 + \frac{\eta^2}{12} - \frac{7\eta^4}{1440}"
        r" + \frac{31\eta^6}{90720} - \frac{127\eta^8}{4838400} + O(\eta^{10})",
        run=verify_taylor,
    ),
    Check(
        id="likelihood.continuous_bernoulli_mean",
        title="the continuous Bernoulli's mean, and the gradient of its log-density",
        equation="(3.9)",
        latex=r"\mathbb{E}[x] = \operatorname{sigmoid}(\eta) - \frac1\eta + \frac1{\sinh\eta},"
        r" \quad \frac{\partial \log p(x \mid \eta)}{\partial \eta} = x - \mathbb{E}[x]",
        run=verify_mean,
    ),
)
