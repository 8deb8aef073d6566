"""Data-parallel training: the loss each process differentiates (chapter 17).

A global batch of B examples is split among W processes, rank r taking the n_r examples
of its share (``vae_torch.distributed.shard``: contiguous, as even as the division
allows; the last batch of an epoch can be uneven). DistributedDataParallel *averages*
the ranks' gradients. Giving rank r the loss (W / B) · Σ_{i ∈ r} ℓ_i, its summed loss
scaled, makes the average the one-process step:

(17.1)  (1/W) Σ_r (W/B) Σ_{i ∈ r} ℓ_i = (1/B) Σ_i ℓ_i,

an identity in the losses whatever the split, so their gradients agree term by term.
sympy verifies it with symbolic ℓ_i for every split of every global batch B = W..7 into
W = 1..4 contiguous shares, and that the ranks' own means, (1/W) Σ_r (1/n_r) Σ_{i ∈ r} ℓ_i,
differ from it whenever the shares are uneven (the check fails for that form).
``vae_torch.training.Session.scale`` is the factor (n_r / B) · W by which a rank
multiplies its mean.
"""

import itertools

import sympy as sp

from elbo_math.check import Check, CheckResult, all_zero, combine


def splits(batch: int, world: int):
    """Every way to cut B examples into W contiguous, non-empty shares."""
    for cuts in itertools.combinations(range(1, batch), world - 1):
        bounds = (0, *cuts, batch)
        yield [range(bounds[r], bounds[r + 1]) for r in range(world)]


def verify_rank_loss_scaling() -> CheckResult:
    results = []
    for world in range(1, 5):
        for batch in range(world, 8):
            losses = sp.symbols(f"l_0:{batch}", real=True)
            one_process = sum(losses) / batch
            for parts in splits(batch, world):
                name = f"(17.1), W={world}, shares {[len(p) for p in parts]}"
                scaled = sum(sp.Rational(world, batch) * sum(losses[i] for i in p) for p in parts)
                results.append(all_zero({name: scaled / world - one_process}))
                own_means = sum(sum(losses[i] for i in p) / len(p) for p in parts) / world
                uneven = len({len(p) for p in parts}) > 1
                if uneven and sp.expand(own_means - one_process) == 0:
                    return CheckResult(False, f"{name}: the ranks' own means give the same step")
    return combine(*results)


CHECKS = (
    Check(
        id="distributed.rank_loss_scaling",
        title="Each rank's summed loss times W/B: DDP's average is the global batch's mean",
        equation="(17.1)",
        latex=r"\frac1W \sum_{r=1}^{W} \frac{W}{B} \sum_{i \in r} \ell_i"
        r" = \frac1B \sum_{i=1}^{B} \ell_i",
        run=verify_rank_loss_scaling,
    ),
)
