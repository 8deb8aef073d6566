"""What training minimises: the negative ELBO, and the terms that change it (chapter 12).

The model gives the ELBO's terms (``VAE.terms_per_dim``: log p(x|z), the KL of each
latent dimension, the codes z). An objective term is one registered object that says
what it needs and how it changes the loss:

    (12.1) warm-up     β rises linearly from 0 to --kl-weight over --warmup epochs
    (12.2) free bits   the KL term Σ_d max(λ, K_d), K_d the batch-average KL of dimension d
    (12.3) MMD         + λ MMD²(codes, as many draws of N(0, I)), the unbiased U-statistic

so that the loss of a batch is −mean log p(x|z) + β · (the KL term) + Σ penalties, and
the reported ELBO is always the true one (β = 1, no floor, no penalty). A term that
needs draws of the prior gets them as their own tensor, not packed into ε; one that
acts on a statistic of the whole batch is refused under torchrun (no rank sees the
batch). ``TERMS`` is the registry; CONTRIBUTING.md ("Add an objective term") says how
to add one, and each term's config field declares in its metadata that it belongs to
the torch backend and to the ELBO objective (``vae_numpy.run.config.option``).
"""

from abc import ABC
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from vae_numpy.run.config import TrainConfig

MMD_SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def imq_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """k(a_i, b_j) = Σ_s C_s / (C_s + ‖a_i − b_j‖²), C_s = 2 L s for the scales s of
    ``MMD_SCALES`` (the inverse multiquadric kernel of Tolstikhin et al. 2018, at seven
    widths around the prior's 2L = E‖z − z'‖²): (n, L), (m, L) -> (n, m). Its tails are
    heavy, so codes far from the prior's draws still feel a gradient."""
    d2 = torch.cdist(a, b).square()
    c = 2.0 * a.shape[-1]
    return sum(c * s / (c * s + d2) for s in MMD_SCALES)


def mmd_u_statistic(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(12.3): the unbiased estimate of MMD² between the distributions of the rows of
    x (n, L) and of y (m, L), n, m >= 2; it can fall below 0 by chance."""

    def off_diagonal_mean(k: torch.Tensor) -> torch.Tensor:  # the pairs i ≠ i'
        n = len(k)
        return (k.sum() - k.diagonal().sum()) / (n * (n - 1))

    return (
        off_diagonal_mean(imq_kernel(x, x))
        + off_diagonal_mean(imq_kernel(y, y))
        - 2 * imq_kernel(x, y).mean()
    )


@dataclass(frozen=True)
class Batch:
    """What one training step sees: images, their labels (conditional models), the
    reparameterisation's noise ε, and draws of the prior for the terms that need them."""

    x: torch.Tensor
    eps: torch.Tensor  # (B, latent); (B, k, latent) for the IWAE objectives
    c: torch.Tensor | None = None
    prior: torch.Tensor | None = None  # (B, latent) draws of N(0, I)


class Term(ABC):
    """One change to the negative ELBO, switched on by ``field``, a TrainConfig field or an
    option registered with ``vae_numpy.run.config.register_option`` (active where it is not
    0). Override what it changes: ``beta``, ``kl_term``, ``penalty``, ``warning``."""

    name: ClassVar[str]  # how messages and the history name it
    field: ClassVar[str]  # its TrainConfig field: its flag and its weight
    prior_draws: ClassVar[bool] = False  # needs as many draws of N(0, I) as the batch
    whole_batch: ClassVar[bool] = False  # a statistic of the whole batch: one process only

    def __init__(self, config: TrainConfig):
        self.weight = config.value(self.field)

    @classmethod
    def active(cls, config: TrainConfig) -> bool:
        return bool(config.value(cls.field))

    @property
    def flag(self) -> str:
        return "--" + self.field.replace("_", "-")

    def beta(self, beta: float, step: int, steps_per_epoch: int) -> float:
        """The KL's weight at optimisation step ``step``, given the weight so far."""
        return beta

    def kl_term(self, kl_dims: torch.Tensor) -> torch.Tensor | None:
        """The KL term of the batch from each example's per-dimension KLs (B, latent),
        or None to leave the batch-average KL."""
        return None

    def penalty(self, z: torch.Tensor, batch: Batch) -> torch.Tensor | None:
        """A penalty added to the loss, from the batch's codes z (B, latent)."""
        return None

    def warning(self, history: list[dict]) -> str | None:
        """What to tell the user after the epoch that ends ``history``, if anything."""
        return None


TERMS: dict[str, type[Term]] = {}


def register_term(cls: type[Term]) -> type[Term]:
    """Make ``cls`` a term that training applies whenever its config field is set."""
    TERMS[cls.name] = cls
    return cls


def active_terms(config: TrainConfig) -> list[Term]:
    """The terms ``config`` switches on, in the registry's order."""
    return [cls(config) for cls in TERMS.values() if cls.active(config)]


@register_term
class WarmUp(Term):
    """(12.1) β = kl_weight · min(1, step / (W · steps per epoch)) over W epochs: a function
    of the step alone, so a resumed run repeats it exactly."""

    name, field = "warm-up", "warmup"

    def beta(self, beta, step, steps_per_epoch):
        return beta * min(1.0, step / (self.weight * steps_per_epoch))


@register_term
class FreeBits(Term):
    """(12.2) each dimension's batch-average KL floored at λ nats."""

    name, field = "free bits", "free_bits"
    whole_batch = True

    def kl_term(self, kl_dims):
        return kl_dims.mean(dim=0).clamp(min=self.weight).sum()


@register_term
class MMD(Term):
    """(12.3) λ MMD² between the batch's codes and as many draws of the prior (InfoVAE)."""

    name, field = "MMD", "mmd"
    prior_draws = whole_batch = True

    def penalty(self, z, batch):
        return self.weight * mmd_u_statistic(z, batch.prior.to(z.dtype))

    def warning(self, history):
        """Once per closed stretch: the validation KL has now stayed below CLOSED_KL nats
        for exactly CLOSED_EPOCHS epochs, and the penalty can keep the code closed."""
        if closed_streak(history) != CLOSED_EPOCHS:
            return None
        return (
            f"the code is closed (validation KL below {CLOSED_KL} nats for {CLOSED_EPOCHS} "
            "epochs), and an MMD penalty can keep it closed for good; if it stays so, train "
            f"again with a smaller --mmd than {self.weight:g} (chapter 12)"
        )


CLOSED_KL, CLOSED_EPOCHS = 0.1, 3  # a code this closed this long under --mmd may stay so


def closed_streak(history: list[dict]) -> int:
    """The epochs at the end of ``history`` whose validation KL is below CLOSED_KL."""
    streak = 0
    for record in reversed(history):
        if record["val_kl"] >= CLOSED_KL:
            break
        streak += 1
    return streak


def kl_weight(config: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """β at optimisation step ``step`` (from 0): ``--kl-weight``, as the active terms
    change it (a warm-up's linear rise)."""
    beta = config.kl_weight
    for term in active_terms(config):
        beta = term.beta(beta, step, steps_per_epoch)
    return beta


def needs_prior_draws(config: TrainConfig) -> bool:
    return any(term.prior_draws for term in active_terms(config))


class Objective(nn.Module):
    """The training loss of a batch as a module's forward pass, so that
    DistributedDataParallel sees the pass whose gradients it averages: (the objective,
    mean log p(x|z), mean KL). The ELBO objective is −log p(x|z) + β KL with the active
    terms applied; the IWAE objectives are ``VAE.iwae_loss``."""

    def __init__(self, model, config: TrainConfig):
        super().__init__()
        self.model, self.config = model, config
        self.terms = active_terms(config)

    def forward(self, batch: Batch, beta: float):
        config, model = self.config, self.model
        if config.objective != "elbo":  # eps (B, k, latent) -> (k, B, latent)
            dreg = config.objective == "iwae-dreg"
            return model.iwae_loss(batch.x, batch.eps.transpose(0, 1), batch.c, dreg=dreg)
        terms = model.terms_per_dim(batch.x, batch.eps, batch.c, mc_kl=config.mc_kl)
        return elbo_loss(*terms, beta=beta, terms=self.terms, batch=batch)


def elbo_loss(
    rec: torch.Tensor,
    kl_dims: torch.Tensor,
    z: torch.Tensor,
    *,
    beta: float = 1.0,
    terms: list[Term] = (),
    batch: Batch | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(the loss, mean log p(x|z), mean KL) of a batch from the ELBO's terms (log p(x|z)
    (B,), each example's per-dimension KL (B, latent), the codes z): −mean log p(x|z) +
    β · KL term + penalties, the KL term the batch-average KL unless a term changes it.
    With β = 1 and no terms, the negative ELBO (2.5)."""
    kl = kl_dims.sum(dim=-1)
    changed = (t for t in (term.kl_term(kl_dims) for term in terms) if t is not None)
    objective = beta * next(changed, kl.mean()) - rec.mean()
    for term in terms:
        penalty = term.penalty(z, batch)
        if penalty is not None:
            objective = objective + penalty
    return objective, rec.mean(), kl.mean()
