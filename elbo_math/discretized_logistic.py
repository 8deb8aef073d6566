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

(3.12)  The stable form of a bin's mass. With a = (x_k + 1/255 − μ)/s and
        b = (x_k − 1/255 − μ)/s, so a − b = 2/(255 s) > 0,
            sigmoid(a) − sigmoid(b) = sigmoid(a) · sigmoid(−b) · (1 − e^{−(a − b)}),
        and log P(k) = −softplus(−a) − softplus(b) + log(−expm1(−(a − b))): three finite
        terms for any μ and s, where the difference of two sigmoids that both round to 1
        (or to 0) would give log 0. The open edge bins keep one sigmoid each: the lower
        bin log sigmoid(a), the upper log sigmoid(−b).

(3.13)  The mean of the 8-bit value, on [0, 1]: E[k/255] = (1/255) Σ_{j=1}^{255}
        sigmoid((μ − t_j)/s), t_j = x_j − 1/255 the boundary below bin j; the tail sum
        E[k] = Σ_{j≥1} P(k ≥ j), with P(k ≥ j) = 1 − F(t_j). It is not (μ + 1)/2 where μ
        lies near an edge, where the open bins pile up the mass outside [−1, 1].

sympy sums the 256 masses of (3.10) for symbolic μ and s > 0, takes the limits of
(3.11) for μ at a bin's centre, simplifies the difference of the two sides of (3.12)
for symbolic a > b, and checks the tail sum of (3.13) for any distribution function on the bins.
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


A, B = sp.symbols("a b", real=True)


def sigmoid(t: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-t))


def stable_mass(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """(3.12) the right-hand side, for a > b."""
    return sigmoid(a) * sigmoid(-b) * (1 - sp.exp(-(a - b)))


def verify_stable(claimed=stable_mass) -> CheckResult:
    difference = sigmoid(A) - sigmoid(B) - claimed(A, B)
    return all_zero({"sigmoid(a) − sigmoid(b) − (3.12)": sp.simplify(sp.expand(difference))})


def logistic_tail(t: sp.Expr) -> sp.Expr:
    """(3.13) 1 − F(t), the logistic's probability above t."""
    return sigmoid((MU - t) / S)


def verify_mean(claimed_tail=logistic_tail) -> CheckResult:
    """The tail sum for any distribution function F on the bins (telescoping), then
    1 − F(t) = sigmoid((μ − t)/s) for the logistic's."""
    f = sp.Function("F")
    boundary = [None, *(centre(j) - HALF for j in range(1, LEVELS))]  # t_j below bin j
    below = lambda k: 0 if k == 0 else f(boundary[k])  # noqa: E731  F at bin k's lower edge
    above = lambda k: 1 if k == LEVELS - 1 else f(boundary[k + 1])  # noqa: E731
    direct = sp.Add(*(sp.Rational(k, LEVELS - 1) * (above(k) - below(k)) for k in range(LEVELS)))
    tails = sp.Add(*(1 - f(boundary[j]) for j in range(1, LEVELS))) / (LEVELS - 1)
    t = sp.Symbol("t", real=True)
    return all_zero(
        {
            "Σ_k (k/255) P(k) − (1/255) Σ_j (1 − F(t_j))": sp.expand(direct - tails),
            "1 − F(t) − sigmoid((μ − t)/s)": sp.simplify(1 - cdf(t) - claimed_tail(t)),
        }
    )


CHECKS = (
    Check(
        id="likelihood.discretized_logistic",
        title="the discretised logistic: the 256 bin masses of an 8-bit value sum to 1",
        equation="(3.10)",
        latex=r"\begin{gathered}\sum_{k=0}^{255} P(k) = 1, \quad"
        r" P(k) = F\!\left(x_k + \tfrac{1}{255}\right) - F\!\left(x_k - \tfrac{1}{255}\right),"
        r" \\ F(t) = \operatorname{sigmoid}\!\left(\frac{t - \mu}{s}\right), \quad"
        r" F(x_{255} + \tfrac{1}{255}) := 1, \; F(x_0 - \tfrac{1}{255}) := 0\end{gathered}",
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
    Check(
        id="likelihood.discretized_logistic_stable",
        title="a bin's mass as a product of sigmoids: its logarithm never takes log 0",
        equation="(3.12)",
        latex=r"\begin{gathered}\operatorname{sigmoid}(a) - \operatorname{sigmoid}(b)"
        r" = \operatorname{sigmoid}(a)\,\operatorname{sigmoid}(-b)\,\left(1 - e^{-(a - b)}\right),"
        r" \\ a = \frac{x_k + \frac{1}{255} - \mu}{s}, \; b = \frac{x_k - \frac{1}{255} - \mu}{s}"
        r"\end{gathered}",
        run=verify_stable,
    ),
    Check(
        id="likelihood.discretized_logistic_mean",
        title="the discretised logistic's mean by the tail sum",
        equation="(3.13)",
        latex=r"\mathbb{E}\!\left[\tfrac{k}{255}\right] = \frac{1}{255} \sum_{j=1}^{255}"
        r" \operatorname{sigmoid}\!\left(\frac{\mu - t_j}{s}\right), \quad"
        r" t_j = x_j - \tfrac{1}{255}",
        run=verify_mean,
    ),
)
