"""Training the numpy VAE: Adam on the one-sample negative ELBO, minibatch by minibatch.

Each epoch draws a fresh permutation, fresh noise ε, and (for dynamic
binarization or dequantization) a fresh view of the pixels, all from one
``numpy.random.Generator`` seeded by the config. After every epoch the
validation ELBO is computed with the analytic KL on a fixed view and fixed noise,
the history is written and the parameters saved; a non-finite loss stops the run
and leaves the last good parameters on disk.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from vae_numpy.checkpoint import save_model
from vae_numpy.config import TrainConfig
from vae_numpy.data import load_raw, split
from vae_numpy.data.pixels import Pixels, epoch, fixed
from vae_numpy.errors import VaeError
from vae_numpy.model import MLPVAE, LossParts
from vae_numpy.optim import Adam
from vae_numpy.runs import epoch_line, start_run, write_history

EVAL_NOISE_SEED = 12345  # the fixed ε of every evaluation, so numbers reproduce


class TrainingDiverged(VaeError):
    """The loss or the parameters stopped being finite; the message says where."""


@dataclass(frozen=True)
class EvalResult:
    elbo: float
    log_px_given_z: float
    kl: float


def evaluate(model: MLPVAE, x: np.ndarray, batch_size: int = 1000) -> EvalResult:
    """Dataset means of the one-sample ELBO and its parts (analytic KL), fixed noise."""
    rng = np.random.default_rng(EVAL_NOISE_SEED)
    totals = np.zeros(2)
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size]
        eps = rng.standard_normal((len(xb), model.config.latent_dim), dtype=x.dtype)
        parts, _ = model.loss(xb, eps)
        totals += len(xb) * np.array([parts.log_px_given_z, parts.kl])
    rec, kl = totals / len(x)
    return EvalResult(rec - kl, rec, kl)


def train_numpy(
    config: TrainConfig,
    out: Path,
    data_dir: Path | None = None,
    allow_download: bool | None = None,
    progress: bool = True,
) -> list[dict]:
    dtype = np.dtype(config.dtype)
    pixels = Pixels(config.pixels)
    raw = load_raw(config.dataset, data_dir, allow_download, progress=progress)
    splits = split(raw, config.n_val, config.seed, config.limit)
    train_u = splits.train.images.reshape(len(splits.train), -1)
    train_fixed = None if pixels.fresh_each_epoch else fixed(train_u, pixels, config.seed, dtype)
    val_x = fixed(splits.val.images.reshape(len(splits.val), -1), pixels, config.seed, dtype)

    rng = np.random.default_rng(config.seed)
    model = MLPVAE.init(config.mlp(), rng, dtype)
    optimizer = Adam(model.params, lr=config.lr)
    run = start_run(out, config, {"backend": "numpy", "train_examples": len(train_u)})
    history: list[dict] = []
    n, latent = len(train_u), config.latent_dim
    for ep in range(1, config.epochs + 1):
        start = time.perf_counter()
        x_all = epoch(train_u, pixels, rng, dtype) if train_fixed is None else train_fixed
        order = rng.permutation(n)
        totals = np.zeros(2)
        batches = range(0, n, config.batch_size)
        bar = tqdm(
            batches,
            desc=f"epoch {ep}/{config.epochs}",
            disable=None if progress else True,
            leave=False,
        )
        for b, i in enumerate(bar, start=1):
            x = x_all[order[i : i + config.batch_size]]
            eps = rng.standard_normal((len(x), latent), dtype=dtype)
            parts, cache = model.loss(x, eps, config.kl_weight)
            if not np.isfinite(parts.loss):
                raise diverged(parts, ep, b, run)
            optimizer.step(model.backward(cache))
            totals += len(x) * np.array([parts.log_px_given_z, parts.kl])
            if b % 20 == 0:
                bar.set_postfix(loss=f"{parts.loss:.2f}")
        rec, kl = totals / n
        train_seconds = time.perf_counter() - start
        val = evaluate(model, val_x)
        record = {
            "epoch": ep,
            "train_elbo": rec - kl,
            "train_log_px_given_z": rec,
            "train_kl": kl,
            "val_elbo": val.elbo,
            "val_log_px_given_z": val.log_px_given_z,
            "val_kl": val.kl,
            "train_seconds": train_seconds,  # the optimisation steps alone
            "seconds": time.perf_counter() - start,  # and the validation
        }
        if not all(np.isfinite(p).all() for p in model.params.values()):
            raise diverged(LossParts(np.nan, np.nan, np.nan), ep, len(batches), run)
        save_model(run / "model.npz", model)
        history.append(record)
        write_history(run, history)
        if progress:
            tqdm.write(epoch_line(record))
    return history


def diverged(parts: LossParts, ep: int, batch: int, run: Path) -> TrainingDiverged:
    kept = (
        f"the parameters after epoch {ep - 1} are kept in {run / 'model.npz'}"
        if ep > 1
        else "no epoch had finished, so no parameters were saved"
    )
    return TrainingDiverged(
        f"training stopped: the loss became {parts.loss} at epoch {ep}, batch {batch}; "
        f"{kept}; try a smaller --lr"
    )
