"""Training a torch VAE: Adam on the negative ELBO, the whole dataset on the device.

Each epoch e draws from its own generator, seeded by (seed, e): the view of the
pixels (fresh binarization or dequantization noise), the order of the examples
and the noise ε of every example. So an epoch is the same whether the run went
straight through or was resumed from a checkpoint before it, and no generator
state has to be saved. Batches are index tensors into one resident tensor.

After every epoch: the validation ELBO and its parts (fixed view, fixed noise,
analytic KL), one line of output, history.json, and checkpoint.pt (atomically),
so a run killed at any moment resumes from its last finished epoch with
``resume_torch(RUN)``; on the CPU the resumed run ends with bit-identical parameters.
"""

import contextlib
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from vae_numpy.config import TrainConfig
from vae_numpy.data import load_raw, split
from vae_numpy.errors import VaeError
from vae_numpy.runs import epoch_line, start_run, write_history
from vae_numpy.train import TrainingDiverged
from vae_torch.checkpoint import CHECKPOINT, load_state, read_checkpoint, save_checkpoint
from vae_torch.data import DeviceSplit, batch_indices
from vae_torch.device import device_name, resolve_device
from vae_torch.evaluate import dataset_elbo
from vae_torch.models import VAE, build_model

REPORT_EVERY = 20  # batches between progress-bar updates (and NaN checks off the CPU)


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of epoch ``epoch``'s generator: independent streams for (seed, epoch)."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1, np.uint64)[0])


def init_model(config: TrainConfig, n_classes: int, device: torch.device) -> VAE:
    """The initial model: torch's default initialisation under ``seed``, made on the CPU
    (so the same seed gives the same start on any device), then moved."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = build_model(config, n_classes)
    return model.to(device=device, dtype=getattr(torch, config.dtype))


def resume_config(run: Path, epochs: int | None) -> tuple[TrainConfig, dict]:
    """The config and checkpoint of the run to resume; ``epochs`` may extend it."""
    run = Path(run)
    if not run.is_dir():
        raise VaeError(f"--resume {run}: no such run folder")
    if not (run / CHECKPOINT).is_file():
        raise VaeError(
            f"--resume {run}: no {CHECKPOINT} there (it is not a torch run, or no epoch had "
            "finished); start it again with --out"
        )
    state = read_checkpoint(run / CHECKPOINT)
    fields = state["config"] | ({"epochs": epochs} if epochs is not None else {})
    return TrainConfig(**fields), state


def train_torch(
    config: TrainConfig,
    out: Path,
    data_dir: Path | None = None,
    allow_download: bool | None = None,
    progress: bool = True,
) -> list[dict]:
    """Train a new run into folder ``out``; returns its history."""
    return _train(config, Path(out), None, data_dir, allow_download, progress, config.device)


def resume_torch(
    run: Path,
    epochs: int | None = None,
    data_dir: Path | None = None,
    allow_download: bool | None = None,
    progress: bool = True,
    device: str | None = None,
) -> list[dict]:
    """Continue the run in folder ``run`` from its checkpoint, to ``epochs`` (None: the
    saved number); ``device`` overrides the saved one. Returns the whole history."""
    config, state = resume_config(run, epochs)
    return _train(config, Path(run), state, data_dir, allow_download, progress, device)


def _train(
    config: TrainConfig,
    out: Path,
    state: dict | None,
    data_dir: Path | None,
    allow_download: bool | None,
    progress: bool,
    device: str | None,
) -> list[dict]:
    dev = resolve_device(device or config.device)
    dtype = getattr(torch, config.dtype)
    raw = load_raw(config.dataset, data_dir, allow_download, progress=progress)
    splits = split(raw, config.n_val, config.seed, config.limit)
    train = DeviceSplit(splits.train, config.pixels, config.seed, dev, dtype)
    val = DeviceSplit(splits.val, config.pixels, config.seed, dev, dtype)

    model = init_model(config, len(raw.classes), dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, fused=True)
    history: list[dict] = []
    if state is None:
        extra = {"backend": "torch", "torch": str(torch.__version__), "device": device_name(dev)}
        start_run(out, config, extra | {"train_examples": len(train)})
    else:
        for stray in out.glob(f".{CHECKPOINT}.*.tmp"):  # left by a kill mid-write
            stray.unlink()
        load_state(model, state, config, out / CHECKPOINT)
        optimizer.load_state_dict(state["optimizer"])
        history = state["history"]
        if state["epoch"] >= config.epochs:
            raise VaeError(
                f"{out} has finished all {config.epochs} epochs; "
                "give --epochs N with N larger to train further"
            )
        if progress:
            tqdm.write(f"resuming {out} after epoch {state['epoch']} of {config.epochs}")

    run = out
    shape = model.x_shape  # (784,) or (1, 28, 28)
    val_x = val.fixed.view(-1, *shape)
    val_c = val.labels if config.conditional else None
    autocast = (
        torch.autocast(dev.type, dtype=torch.bfloat16)
        if config.amp == "bf16"
        else contextlib.nullcontext()
    )
    for ep in range(len(history) + 1, config.epochs + 1):
        start = time.perf_counter()
        model.train()
        generator = torch.Generator(dev).manual_seed(epoch_seed(config.seed, ep))
        x_all = train.epoch(generator).view(-1, *shape)
        batches = batch_indices(len(train), config.batch_size, generator, dev)
        eps_all = torch.randn(
            (len(train), config.latent_dim), generator=generator, device=dev, dtype=dtype
        )
        sums = torch.zeros(2, dtype=torch.float64, device=dev)
        bar = tqdm(
            batches,
            desc=f"epoch {ep}/{config.epochs}",
            disable=None if progress else True,
            leave=False,
        )
        offset = 0
        for b, idx in enumerate(bar, start=1):
            x = x_all[idx]
            eps = eps_all[offset : offset + len(idx)]
            offset += len(idx)
            c = train.labels[idx] if config.conditional else None
            with autocast:
                loss, rec, kl = model.loss(x, eps, config.kl_weight, c, config.mc_kl)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            sums += torch.stack([rec.detach(), kl.detach()]).double() * len(idx)
            if (dev.type == "cpu" or b % REPORT_EVERY == 0) and not torch.isfinite(loss):
                raise diverged(loss.item(), ep, b, run)
            if b % REPORT_EVERY == 0:
                bar.set_postfix(loss=f"{loss.item():.2f}")
        rec_mean, kl_mean = (sums / len(train)).tolist()  # waits for the device
        train_seconds = time.perf_counter() - start
        if not all(torch.isfinite(p).all() for p in model.parameters()):
            raise diverged(float("nan"), ep, len(batches), run)
        model.eval()
        v = dataset_elbo(model, val_x, val_c)
        record = {
            "epoch": ep,
            "train_elbo": rec_mean - kl_mean,
            "train_log_px_given_z": rec_mean,
            "train_kl": kl_mean,
            "val_elbo": v.elbo,
            "val_log_px_given_z": v.log_px_given_z,
            "val_kl": v.kl,
            "train_seconds": train_seconds,  # the optimisation steps alone
            "seconds": time.perf_counter() - start,  # and the validation
        }
        history.append(record)
        save_checkpoint(run / CHECKPOINT, model, optimizer, config, ep, history)
        write_history(run, history)
        if progress:
            tqdm.write(epoch_line(record))
    return history


def diverged(loss: float, ep: int, batch: int, run: Path) -> TrainingDiverged:
    kept = (
        f"the checkpoint after epoch {ep - 1} is kept in {run / CHECKPOINT}"
        if ep > 1
        else "no epoch had finished, so no checkpoint was written"
    )
    return TrainingDiverged(
        f"training stopped: the loss became {loss} at epoch {ep}, batch {batch}; {kept}; "
        "try a smaller --lr"
    )
