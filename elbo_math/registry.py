"""Every check, in the order of the lecture notes' chapters, and lookup by identifier."""

from elbo_math import (
    autoregressive,
    continuous_bernoulli,
    discretized_logistic,
    distributed,
    errata,
    evidence,
    gaussian,
    gradcheck,
    gradients,
    iwae,
    kl,
    layers,
    likelihoods,
    linear_gaussian,
    objectives,
    priors,
    reparam,
    surgery,
)
from elbo_math.check import Check

CHECKS: tuple[Check, ...] = (
    *evidence.CHECKS,  # chapter 2
    *linear_gaussian.CHECKS,  # chapter 2
    *likelihoods.CHECKS,  # chapter 3
    *continuous_bernoulli.CHECKS,  # chapter 3
    *discretized_logistic.CHECKS,  # chapter 3
    *autoregressive.CHECKS,  # chapter 3
    *gaussian.CHECKS,  # chapter 4
    *kl.CHECKS,  # chapter 4
    *reparam.CHECKS,  # chapter 5
    *gradients.CHECKS,  # chapter 6
    *layers.CHECKS,  # chapter 6
    *gradcheck.CHECKS,  # chapter 6
    *iwae.CHECKS,  # chapter 8
    *surgery.CHECKS,  # chapter 8
    *errata.CHECKS,  # chapter 11
    *objectives.CHECKS,  # chapter 12
    *priors.CHECKS,  # chapter 13
    *distributed.CHECKS,  # chapter 17
)

_BY_ID = {check.id: check for check in CHECKS}
if len(_BY_ID) != len(CHECKS):
    raise RuntimeError("two checks share an identifier")


def get_check(check_id: str) -> Check:
    """The check with this identifier; KeyError naming the known ones otherwise."""
    try:
        return _BY_ID[check_id]
    except KeyError:
        raise KeyError(f"no check {check_id!r}; known: {', '.join(_BY_ID)}") from None
