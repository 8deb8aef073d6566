"""Training objectives other than the ELBO: KL warm-up and free bits (chapter 12).

KL warm-up (Bowman et al. 2016; Sønderby et al. 2016) trains on −log p(x|z) + β KL with
β rising from 0 to 1. For β < 1 the objective is the negative ELBO minus (1 − β) KL:

(12.1)  −E_q[log p(x|z)] + β KL = −ELBO − (1 − β) KL  ≤  −ELBO      (β ≤ 1, KL ≥ 0),

so during the warm-up it is no bound on −log p(x); the package reports the ELBO (β = 1)
whatever it trains on.

Free bits (Kingma et al. 2016) floor the KL of each latent dimension d, averaged over the
batch (K_d), at λ nats:

(12.2)  −E_q[log p(x|z)] + Σ_d max(λ, K_d) = −ELBO + Σ_d max(0, λ − K_d)  ≥  −ELBO,

an upper bound on −ELBO, hence on −log p(x), equal to it once every K_d ≥ λ: below λ a
dimension's KL costs nothing, so the optimiser has no reason to close it.

The MMD penalty of InfoVAE (Zhao et al. 2019) adds λ times the squared maximum mean
discrepancy (Gretton et al. 2012) between the aggregate posterior q(z) and the prior:

(12.3)  MMD²(P, Q) = E k(x, x') + E k(y, y') − 2 E k(x, y),   x, x' ~ P; y, y' ~ Q,

estimated on a batch of n codes x_i and m prior draws y_j by the U-statistic

        (1/n(n−1)) Σ_{i≠i'} k(x_i, x_i') + (1/m(m−1)) Σ_{j≠j'} k(y_j, y_j')
            − (2/nm) Σ_{i,j} k(x_i, y_j),

whose expectation is MMD² exactly (the diagonal terms k(x_i, x_i) would bias it).

sympy verifies both for two latent dimensions: (12.1) as an identity in R, K, β, and (12.2)
in both cases of each max, K_d = λ + t (above the floor) and K_d = λ − t (below), t ≥ 0.
For (12.3) it takes P and Q on two points {a, b} with probabilities p and q and any
symmetric kernel: the population MMD² is (p − q)²(k_aa − 2k_ab + k_bb), ≥ 0 for a
positive semi-definite kernel and 0 when P = Q, and the estimator's expectation over all
2⁵ samples of n = 3 codes and m = 2 prior draws equals it.
"""

import itertools
from collections.abc import Callable

import sympy as sp

from elbo_math.check import Check, CheckResult, all_zero, combine

R = sp.Symbol("R", real=True)  # E_q[log p(x|z)]
BETA = sp.Symbol("beta", nonnegative=True)
KL_TERMS = sp.symbols("K_1:3", nonnegative=True)  # the batch-average KL of each dimension
LAMBDA = sp.Symbol("lambda", nonnegative=True)
T = sp.Symbol("t", nonnegative=True)


def verify_warmup() -> CheckResult:
    kl = sum(KL_TERMS)
    objective, elbo = -R + BETA * kl, R - kl
    return all_zero({"(12.1)": objective - (-elbo - (1 - BETA) * kl)})


def verify_free_bits() -> CheckResult:
    """For every case of the two maxima, the free-bits loss minus −ELBO is the claimed
    Σ_d max(0, λ − K_d): t where K_d = λ − t lies below the floor, 0 above."""
    results = []
    for above in ((True, True), (True, False), (False, True), (False, False)):
        kls = [LAMBDA + T if up else LAMBDA - T for up in above]
        loss = -R + sum(sp.Max(LAMBDA, k) for k in kls)
        excess = sum(0 if up else T for up in above)  # max(0, λ − K_d), case by case
        results.append(all_zero({f"(12.2), K above λ: {above}": loss - (-(R - sum(kls)) + excess)}))
    return combine(*results)


P, Q = sp.symbols("p q", positive=True)  # P(a), Q(a) on the two points {a, b}
K_AA, K_AB, K_BB = sp.symbols("k_aa k_ab k_bb", real=True)
KERNEL = {("a", "a"): K_AA, ("a", "b"): K_AB, ("b", "a"): K_AB, ("b", "b"): K_BB}
Estimator = Callable[[tuple[str, ...], tuple[str, ...]], sp.Expr]


def mmd_u_statistic(xs: tuple[str, ...], ys: tuple[str, ...]) -> sp.Expr:
    """The estimator of (12.3) on points named "a"/"b", as the package computes it."""
    n, m = len(xs), len(ys)
    within = sum(KERNEL[u, v] for i, u in enumerate(xs) for j, v in enumerate(xs) if i != j)
    prior = sum(KERNEL[u, v] for i, u in enumerate(ys) for j, v in enumerate(ys) if i != j)
    cross = sum(KERNEL[u, v] for u in xs for v in ys)
    return within / (n * (n - 1)) + prior / (m * (m - 1)) - 2 * cross / (n * m)


def verify_mmd(estimator: Estimator = mmd_u_statistic, n: int = 3, m: int = 2) -> CheckResult:
    """(12.3): the population MMD² on two points, and the estimator's expectation."""
    prob = {"a": (P, Q), "b": (1 - P, 1 - Q)}

    def expect(first: int, second: int) -> sp.Expr:  # E k(u, v), u ~ first, v ~ second
        return sum(prob[u][first] * prob[v][second] * KERNEL[u, v] for u in "ab" for v in "ab")

    population = expect(0, 0) + expect(1, 1) - 2 * expect(0, 1)
    expected = 0
    for sample in itertools.product("ab", repeat=n + m):
        xs, ys = sample[:n], sample[n:]
        weight = sp.prod([prob[u][0] for u in xs]) * sp.prod([prob[v][1] for v in ys])
        expected += weight * estimator(xs, ys)
    return all_zero(
        {
            "(12.3) on two points": population - (P - Q) ** 2 * (K_AA - 2 * K_AB + K_BB),
            f"E[estimator] − MMD², n = {n}, m = {m}": sp.expand(expected - population),
        }
    )


CHECKS = (
    Check(
        id="objective.warmup",
        title="KL warm-up: below the negative ELBO while β < 1, so no bound",
        equation="(12.1)",
        latex=r"-\mathbb{E}_q[\log p(x \mid z)] + \beta\,\mathrm{KL} = -\mathrm{ELBO}"
        r" - (1 - \beta)\,\mathrm{KL} \;\le\; -\mathrm{ELBO}",
        run=verify_warmup,
    ),
    Check(
        id="objective.free_bits",
        title="Free bits: the negative ELBO plus what the floors add, an upper bound",
        equation="(12.2)",
        latex=r"\begin{aligned}-\mathbb{E}_q[\log p(x \mid z)] + \sum_d \max(\lambda, K_d)"
        r" &= -\mathrm{ELBO} + \sum_d \max(0, \lambda - K_d) \\ &\ge -\mathrm{ELBO}\end{aligned}",
        run=verify_free_bits,
    ),
    Check(
        id="objective.mmd",
        title="The MMD between codes and prior draws, and its unbiased estimator",
        equation="(12.3)",
        latex=r"\begin{aligned}\mathrm{MMD}^2(P, Q) &= \mathbb{E}\,k(x, x') + \mathbb{E}\,k(y, y')"
        r" - 2\,\mathbb{E}\,k(x, y) \\ &= \mathbb{E}\Big[\tfrac{1}{n(n-1)}"
        r"\sum_{i \ne i'} k(x_i, x_{i'}) + \tfrac{1}{m(m-1)}\sum_{j \ne j'} k(y_j, y_{j'})"
        r" \\ &\qquad - \tfrac{2}{nm}\sum_{i, j} k(x_i, y_j)\Big]\end{aligned}",
        run=verify_mmd,
    ),
)
