"""What a run records, the same for both backends: bounds, epoch records, seeds.

    (2.5) ELBO = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)),  nats per example

``Bound`` is that triple wherever it is reported (a batch, a split, a test set);
``epoch_record`` is the one schema of history.json; ``stream_seed`` names every
independent random stream of a run by what it is for (an epoch, a figure), so
adding a stream never changes another.
"""

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_numpy.run.errors import TrainingDiverged

EVAL_NOISE_SEED = 12345  # the fixed ε of every evaluation, so numbers reproduce


@dataclass(frozen=True)
class Bound:
    """The ELBO and its two parts, means over examples in nats per example."""

    log_px_given_z: float  # E_q[log p(x|z)], a one-sample estimate
    kl: float  # KL(q(z|x) ‖ p(z))

    @property
    def elbo(self) -> float:
        return self.log_px_given_z - self.kl  # (2.5)


@dataclass(frozen=True)
class LossParts(Bound):
    """A training batch's bound and the objective minimised: β KL − log p(x|z)."""

    loss: float


def stream_seed(seed: int, key: int | str) -> int:
    """The seed of the random stream ``key`` of a run seeded by ``seed``: independent
    streams for distinct (seed, key). An epoch's key is its number; a figure's, its name."""
    if isinstance(key, str):
        key = zlib.crc32(key.encode())
    return int(np.random.SeedSequence([seed, key]).generate_state(1, np.uint64)[0])


def epoch_record(
    epoch: int, train: Bound, val: Bound, train_seconds: float, seconds: float
) -> dict:
    """One line of history.json: train (mean over the epoch's batches) and validation
    (after the epoch) ELBO with its parts."""
    record: dict = {"epoch": epoch}
    for split, bound in (("train", train), ("val", val)):
        record |= {
            f"{split}_elbo": bound.elbo,
            f"{split}_log_px_given_z": bound.log_px_given_z,
            f"{split}_kl": bound.kl,
        }
    record["train_seconds"] = train_seconds  # the optimisation steps alone
    record["seconds"] = seconds  # and the validation
    return record


def best_epoch(history: list[dict]) -> int:
    """The epoch of the highest validation ELBO (the first of equals); 0 if none."""
    if not history:
        return 0
    return max(history, key=lambda r: (r["val_elbo"], -r["epoch"]))["epoch"]


def epoch_line(record: dict) -> str:
    r = record
    parts = [
        f"{split} ELBO {r[f'{split}_elbo']:9.2f} = log p(x|z) {r[f'{split}_log_px_given_z']:9.2f}"
        f" - KL {r[f'{split}_kl']:6.2f}"
        for split in ("train", "val")
    ]
    if "active_units" in r:  # latent tracking
        parts.append(
            f"active {r['active_units']}/{len(r['kl_per_dim'])}, "
            f"I(n; z) {r['mutual_information']['value']:.2f}"
        )
    return f"epoch {r['epoch']:>3} | " + " | ".join(parts) + f" | {r['seconds']:.1f}s"


def diverged(loss: float, epoch: int, batch: int, kept: Path) -> TrainingDiverged:
    """The error of a run whose loss stopped being finite; ``kept`` is the file that
    holds the last good epoch."""
    where = (
        f"the last good epoch ({epoch - 1}) is kept in {kept}"
        if epoch > 1
        else "no epoch had finished, so nothing was saved"
    )
    return TrainingDiverged(
        f"training stopped: the loss became {loss} at epoch {epoch}, batch {batch}; {where}; "
        "try a smaller --lr"
    )
