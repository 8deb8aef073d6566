"""The discretised logistic likelihood of 8-bit pixels (Salimans et al. 2017, PixelCNN++).

A pixel value k ∈ {0, …, 255}, rescaled to x_k = 2k/255 − 1 ∈ [−1, 1], gets the mass of
its bin under a logistic distribution of mean μ and scale s, F(t) = sigmoid((t − μ)/s):

(3.10)  P(k) = F(x_k + 1/255) − F(x_k − 1/255)   for 0 < k < 255,
        P(0) = F(x_0 + 1/255),  P(255) = 1 − F(x_255 − 1/255)   (the edge bins open),

so the masses of the 256 values sum to 1: the bins tile the line, and the sum telescopes
to F(∞) − F(−∞) = 1. It is a probability of the 8-bit image, so its nats convert to
bits per dimension as those of binarized pixels do, −log P / (D ln 2), for grey and
colour alike.

(3.11)  As the scale shrinks, s → 0⁺, the mass of the bin that holds μ tends to 1 and
        every other bin's to 0: the likelihood becomes the point mass a quantiser gives.

sympy sums the 256 masses of (3.10) for symbolic μ and s > 0, and takes the limits of
(3.11) for μ at a bin's centre.
"""

import sympy as sp

from elbo_math.check import Check, CheckResult, all_zero

MU = sp.Symbol("mu", real=True)
S = sp.Symbol("s", positive=True)
LEVELS = 256
HALF = sp.Rational(1, LEVELS - 1)  # half a bin's width on [−1, 1]


def cdf(t: sp.Expr, mu: sp.Expr = MU, s: sp.Expr = S) -> sp.Expr:
    return 1 / (1 + sp.exp(-(t - mu) / s))


def centre(k: int) -> sp.Expr:
    return sp.Rational(2 * k, LEVELS - 1) - 1


def mass(k: int, mu: sp.Expr = MU, s: sp.Expr = S) -> sp.Expr:
    """(3.10)"""
    upper = 1 if k == LEVELS - 1 else cdf(centre(k) + HALF, mu, s)
    lower = 0 if k == 0 else cdf(centre(k) - HALF, mu, s)
    return upper - lower


def verify_sum() -> CheckResult:
    total = sp.Add(*(mass(k) for k in range(LEVELS)))
    return all_zero({"Σ_k P(k) − 1 over the 256 values": total - 1})


def verify_limit() -> CheckResult:
    """μ at the centre of bin j (an interior one and both edges): P(j) → 1, P(j ± 1) → 0."""
    residuals = {}
    for j in (0, 100, LEVELS - 1):
        mu = centre(j)
        residuals[f"P({j}) → 1"] = sp.limit(mass(j, mu), S, 0, "+") - 1
        for other in (j - 1, j + 1):
            if 0 <= other < LEVELS:
                residuals[f"P({other}) → 0 with μ in bin {j}"] = sp.limit(
                    mass(other, mu), S, 0, "+"
                )
    return all_zero(residuals)


CHECKS = (
    Check(
        id="likelihood.discretized_logistic",
        title="the discretised logistic: the 256 bin masses of an 8-bit value sum to 1",
        equation="(3.10)",
        latex=r"\sum_{k=0}^{255} P(k) = 1, \quad P(k) = F\!\left(x_k + \tfrac{1}{255}\right)"
        r" - F\!\left(x_k - \tfrac{1}{255}\right), \quad F(t) = \operatorname{sigmoid}"
        r"\!\left(\frac{t - \mu}{s}\right), \quad F(x_{255} + \tfrac{1}{255}) := 1,"
        r" \; F(x_0 - \tfrac{1}{255}) := 0",
        run=verify_sum,
    ),
    Check(
        id="likelihood.discretized_logistic_limit",
        title="the discretised logistic tends to a point mass on μ's bin as the scale shrinks",
        equation="(3.11)",
        latex=r"\lim_{s \to 0^+} P(k) = \begin{cases} 1 & \mu \text{ in bin } k \\"
        r" 0 & \text{otherwise} \end{cases}",
        run=verify_limit,
    ),
)
