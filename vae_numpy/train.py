"""Training the numpy VAE: Adam on the one-sample negative ELBO, minibatch by minibatch.

Each epoch draws a fresh permutation, fresh noise ε, and (for dynamic
binarization or dequantization) a fresh view of the pixels, all from one
``numpy.random.Generator`` seeded by the config. After every epoch the
validation ELBO is computed with the analytic KL on a fixed view and fixed noise,
the history is written and the parameters saved; a non-finite loss stops the run
and leaves the last good parameters on disk.
"""

import time
from pathlib import Path

import numpy as np
from tqdm import tqdm  # text bars: the same in a terminal, a notebook and the docs

from vae_numpy.checkpoint import save_model
from vae_numpy.data import load_dataset, split
from vae_numpy.data.pixels import Pixels, epoch, fixed
from vae_numpy.model import MLPVAE
from vae_numpy.optim import Adam
from vae_numpy.run.config import TrainConfig
from vae_numpy.run.folder import RunFolder
from vae_numpy.run.options import DEFAULTS, Options
from vae_numpy.run.records import (
    EVAL_NOISE_SEED,
    Bound,
    best_epoch,
    diverged,
    epoch_line,
    epoch_record,
)


def evaluate(model: MLPVAE, x: np.ndarray, batch_size: int = 1000) -> Bound:
    """Dataset means of the one-sample ELBO and its parts (analytic KL), fixed noise."""
    rng = np.random.default_rng(EVAL_NOISE_SEED)
    totals = np.zeros(2)
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size]
        eps = rng.standard_normal((len(xb), model.config.latent_dim), dtype=x.dtype)
        parts, _ = model.loss(xb, eps)
        totals += len(xb) * np.array([parts.log_px_given_z, parts.kl])
    rec, kl = totals / len(x)
    return Bound(rec, kl)


def train_numpy(config: TrainConfig, out: Path, options: Options = DEFAULTS) -> list[dict]:
    """Train a new numpy run into folder ``out``; returns its history."""
    dtype = np.dtype(config.dtype)
    pixels = Pixels(config.pixels)
    raw = load_dataset(config.dataset, options)
    splits = split(raw, config.n_val, config.seed, config.limit)
    train_u = splits.train.images.reshape(len(splits.train), -1)  # (N, C·H·W)
    train_fixed = None if pixels.fresh_each_epoch else fixed(train_u, pixels, config.seed, dtype)
    val_x = fixed(splits.val.images.reshape(len(splits.val), -1), pixels, config.seed, dtype)

    rng = np.random.default_rng(config.seed)
    model = MLPVAE.init(config.mlp(train_u.shape[1]), rng, dtype)
    optimizer = Adam(model.params, lr=config.lr)
    run = RunFolder(out)
    extra = {"backend": "numpy", "train_examples": len(train_u), "image_shape": raw.image_shape}
    run.create(config, extra)
    history: list[dict] = []
    for ep in range(1, config.epochs + 1):
        start = time.perf_counter()
        x_all = epoch(train_u, pixels, rng, dtype) if train_fixed is None else train_fixed
        train = train_epoch(model, optimizer, x_all, rng, config, ep, run, options.progress)
        train_seconds = time.perf_counter() - start
        if not all(np.isfinite(p).all() for p in model.params.values()):
            raise diverged(float("nan"), ep, -(-len(x_all) // config.batch_size), run.parameters)
        val = evaluate(model, val_x)
        record = epoch_record(ep, train, val, train_seconds, time.perf_counter() - start)
        save_model(run.parameters, model)
        history.append(record)
        if best_epoch(history) == ep:
            save_model(run.best_parameters, model)
        run.write_history(history)
        if options.progress:
            tqdm.write(epoch_line(record))
    return history


def train_epoch(
    model: MLPVAE,
    optimizer: Adam,
    x_all: np.ndarray,
    rng: np.random.Generator,
    config: TrainConfig,
    ep: int,
    run: RunFolder,
    progress: bool,
) -> Bound:
    """One pass over ``x_all`` in a fresh order; the mean bound over its batches."""
    n, latent = len(x_all), config.latent_dim
    order = rng.permutation(n)
    totals = np.zeros(2)
    batches = range(0, n, config.batch_size)
    desc = f"epoch {ep}/{config.epochs}"
    bar = tqdm(batches, desc=desc, disable=None if progress else True, leave=False)
    for b, i in enumerate(bar, start=1):
        x = x_all[order[i : i + config.batch_size]]
        eps = rng.standard_normal((len(x), latent), dtype=x_all.dtype)
        parts, cache = model.loss(x, eps, config.kl_weight)
        if not np.isfinite(parts.loss):
            raise diverged(parts.loss, ep, b, run.parameters)
        optimizer.step(model.backward(cache))
        totals += len(x) * np.array([parts.log_px_given_z, parts.kl])
        if b % 20 == 0:
            bar.set_postfix(loss=f"{parts.loss:.2f}")
    return Bound(*(totals / n))
