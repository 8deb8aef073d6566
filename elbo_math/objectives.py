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

sympy verifies both for two latent dimensions: (12.1) as an identity in R, K, β, and (12.2)
in both cases of each max, K_d = λ + t (above the floor) and K_d = λ − t (below), t ≥ 0.
"""

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
        latex=r"-\mathbb{E}_q[\log p(x \mid z)] + \sum_d \max(\lambda, K_d) = -\mathrm{ELBO}"
        r" + \sum_d \max(0, \lambda - K_d) \;\ge\; -\mathrm{ELBO}",
        run=verify_free_bits,
    ),
)
