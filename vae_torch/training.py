"""Training a torch VAE: Adam on the negative ELBO, the whole dataset on the device.

Each epoch e draws from its own generator, seeded by (seed, e): the view of the
pixels (fresh binarization or dequantization noise), the order of the examples
and the noise ε of every example. So an epoch is the same whether the run went
straight through or was resumed from a checkpoint before it, and no generator
state has to be saved. Batches are index tensors into one resident tensor.

After every epoch: the validation ELBO and its parts (fixed view, fixed noise,
analytic KL), one line of output, history.json, and checkpoint.pt (atomically; and
best.pt when the validation ELBO is the best so far),
so a run killed at any moment resumes from its last finished epoch with
``resume_torch(RUN)``; on the CPU the resumed run ends with bit-identical parameters.
"""

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm  # text bars: the same in a terminal, a notebook and the docs

from vae_numpy.run.config import TrainConfig
from vae_numpy.run.errors import VaeError
from vae_numpy.run.folder import RunFolder
from vae_numpy.run.io import stray_temp_files
from vae_numpy.run.options import DEFAULTS, Options
from vae_numpy.run.records import (
    Bound,
    best_epoch,
    diverged,
    epoch_line,
    epoch_record,
    stream_seed,
)
from vae_torch.checkpoint import load_state, read_checkpoint, save_checkpoint
from vae_torch.data import DeviceSplit, batch_indices, run_splits
from vae_torch.device import device_name, resolve_device
from vae_torch.distributed import (
    SINGLE,
    World,
    all_sum,
    barrier,
    collective_failed,
    join,
    leave,
    lost_peer,
    shard,
    stopped_by_launcher,
)
from vae_torch.models import VAE, build_model, model_kind
from vae_torch.objectives import Batch, Objective, active_terms, kl_weight, needs_prior_draws
from vae_torch.quality.bounds import dataset_elbo
from vae_torch.quality.diagnostics import latent_diagnostics

PRIOR_STREAM = "prior"  # the random stream that starts a learned prior
REPORT_EVERY = 20  # batches between progress-bar updates (and NaN checks off the CPU)


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of epoch ``epoch``'s generator: independent streams for (seed, epoch)."""
    return stream_seed(seed, epoch)


def init_model(
    config: TrainConfig, image_shape: tuple[int, ...], n_classes: int, device: torch.device
) -> VAE:
    """The initial model: torch's default initialisation under ``seed``, made on the CPU
    (so the same seed gives the same start on any device), then moved."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = build_model(config, image_shape, n_classes)
    return model.to(device=device, dtype=getattr(torch, config.dtype))


EpochHook = Callable[[VAE, DeviceSplit], dict]


def train_torch(
    config: TrainConfig,
    out: Path,
    *,
    options: Options = DEFAULTS,
    on_epoch: EpochHook | None = None,
) -> list[dict]:
    """Train a new run into folder ``out``; returns its history. ``on_epoch(model, val)``,
    when given, runs after each epoch's validation and adds its numbers to the epoch's
    history record (``latent_hook``: the latent diagnostics, epoch by epoch)."""
    return _train(config, RunFolder(out), None, options, on_epoch)


def resume_torch(
    run: Path,
    *,
    epochs: int | None = None,
    options: Options = DEFAULTS,
    on_epoch: EpochHook | None = None,
) -> list[dict]:
    """Continue the run in folder ``run`` from its checkpoint, to ``epochs`` (None: the
    saved number); ``options.device`` overrides the saved one. Returns the whole history."""
    folder = RunFolder(run)
    if not folder.path.is_dir():
        raise VaeError(f"--resume {run}: no such run folder")
    if not folder.checkpoint.is_file():
        raise VaeError(
            f"--resume {run}: no {folder.checkpoint.name} there (it is not a torch run, or no "
            "epoch had finished); start it again with --out"
        )
    state = read_checkpoint(folder.checkpoint)
    config = TrainConfig.from_record(
        state["config"] | ({"epochs": epochs} if epochs is not None else {})
    )
    if state["epoch"] >= config.epochs:
        raise VaeError(
            f"{run} has finished all {config.epochs} epochs; "
            "give --epochs N with N larger to train further"
        )
    return _train(config, folder, state, options, on_epoch)


def latent_hook(model: VAE, val: DeviceSplit) -> dict:
    """Active units, KL per dimension and the ELBO surgery (8.6) of the validation images."""
    c = val.labels if model.n_classes else None
    d = latent_diagnostics(model, val.fixed.view(-1, *model.x_shape), c, draws=LATENT_DRAWS)
    record = d.json()
    return {key: record[key] for key in HISTORY_LATENT}


LATENT_DRAWS = 500  # Monte Carlo draws of the surgery after each epoch
HISTORY_LATENT = ("active_units", "kl_per_dim", "mutual_information", "marginal_kl")


@dataclass
class Session:
    """What the epochs of one training run share."""

    config: TrainConfig
    run: RunFolder
    model: VAE
    optimizer: torch.optim.Optimizer
    train: DeviceSplit
    val: DeviceSplit
    progress: bool
    world: World = SINGLE

    def __post_init__(self):
        objective = Objective(self.model, self.config)
        self.objective_terms = objective.terms
        if self.world.distributed:
            ids = [self.device] if self.device.type == "cuda" else None
            objective = DistributedDataParallel(objective, device_ids=ids)
        self.objective = objective

    @property
    def device(self) -> torch.device:
        return self.train.device

    def scale(self, mine: int, batch: int) -> float:
        """The factor that makes DDP's average of the ranks' mean losses the mean over
        the global batch: (mine / batch) · world size; 1 in one process. (17.1), check
        ``distributed.rank_loss_scaling``."""
        return mine * self.world.size / batch


def _train(
    config: TrainConfig,
    run: RunFolder,
    state: dict | None,
    options: Options,
    on_epoch: EpochHook | None = None,
) -> list[dict]:
    model_kind(config.model)  # an unknown model fails before any data is read
    world, dev = join(resolve_device(options.device or config.device))
    with stopped_by_launcher(world, run.checkpoint):
        try:
            return _train_in(world, dev, config, run, state, options, on_epoch)
        except RuntimeError as err:  # gloo and NCCL raise these when a peer dies or times out
            if world.distributed and collective_failed(err):
                raise lost_peer(err, world, run.checkpoint) from None
            raise
        finally:
            leave(world)


def _train_in(
    world: World,
    dev: torch.device,
    config: TrainConfig,
    run: RunFolder,
    state: dict | None,
    options: Options,
    on_epoch: EpochHook | None,
) -> list[dict]:
    if world.distributed and config.batch_size % world.size:
        raise VaeError(
            f"--batch-size {config.batch_size} is the global batch and must split evenly over "
            f"the {world.size} processes; give a multiple of {world.size}"
        )
    if world.distributed and (whole := [t for t in active_terms(config) if t.whole_batch]):
        raise VaeError(
            f"{' and '.join(t.flag for t in whole)} act{'s' * (len(whole) == 1)} on statistics "
            "of the whole batch (each dimension's average KL, the codes' distribution), "
            "which no rank sees; train in one process"
        )
    dtype = getattr(torch, config.dtype)
    train, val = run_splits(config, ("train", "val"), dev, dtype, options)
    if world.distributed and 0 < len(train) % config.batch_size < world.size:
        raise VaeError(
            f"the last batch holds {len(train) % config.batch_size} of the {len(train)} "
            f"training examples, fewer than the {world.size} processes; change --batch-size"
        )
    model = init_model(config, train.image_shape, len(train.classes), dev)
    # AdamW: Adam with decoupled weight decay (each step also shrinks the weights by
    # lr · decay); at the default decay 0 it is Adam, step for step, bit for bit.
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=True
    )
    history: list[dict] = []
    report = options.progress and world.main
    if state is None:
        # a learned prior starts from the data (the VampPrior's pseudo-inputs: training
        # images), the same on every rank: a generator of the seed alone picks them
        start = torch.Generator().manual_seed(stream_seed(config.seed, PRIOR_STREAM))
        model.prior.start(train.fixed.view(-1, *model.x_shape), start)
        if world.main:
            extra = {"backend": "torch", "torch": str(torch.__version__)}
            extra |= {"device": device_name(dev), "world_size": world.size}
            run.create(config, extra | {"train_examples": len(train)})
    else:
        if world.main:
            for stray in stray_temp_files(run.checkpoint) + stray_temp_files(run.best_checkpoint):
                stray.unlink()  # left by a kill mid-write
        load_state(model, state, config, run.checkpoint)
        optimizer.load_state_dict(state["optimizer"])
        history = state["history"]
        if report:
            tqdm.write(f"resuming {run} after epoch {state['epoch']} of {config.epochs}")
    session = Session(config, run, model, optimizer, train, val, report, world)
    for ep in range(len(history) + 1, config.epochs + 1):
        history.append(run_epoch(session, ep))
        if not world.main:
            continue
        if world.distributed:
            history[-1]["world_size"] = world.size
        if on_epoch is not None:
            history[-1] |= on_epoch(model, val)
        save_checkpoint(run.checkpoint, model, optimizer, config, ep, history)
        if best_epoch(history) == ep:
            save_checkpoint(run.best_checkpoint, model, optimizer, config, ep, history)
        run.write_history(history)
        if report:
            tqdm.write(epoch_line(history[-1]))
            for term in session.objective_terms:
                if warning := term.warning(history):
                    tqdm.write(f"warning: {warning}")
    barrier(world)  # every rank returns once rank 0 has written the last epoch
    return history


def run_epoch(s: Session, ep: int) -> dict:
    """Epoch ``ep``: the optimisation steps, then the validation; its history record."""
    start = time.perf_counter()
    train, objective = train_epoch(s, ep)
    train_seconds = time.perf_counter() - start
    if not all(torch.isfinite(p).all() for p in s.model.parameters()):
        raise diverged(float("nan"), ep, -(-len(s.train) // s.config.batch_size), s.run.checkpoint)
    s.model.eval()
    val_c = s.val.labels if s.model.n_classes else None
    val = dataset_elbo(s.model, s.val.fixed.view(-1, *s.model.x_shape), val_c, world=s.world)
    record = epoch_record(ep, train, val, train_seconds, time.perf_counter() - start)
    steps = -(-len(s.train) // s.config.batch_size)
    if active_terms(s.config) or s.config.objective != "elbo":
        record["kl_weight"] = kl_weight(s.config, ep * steps - 1, steps)  # at its last step
        record["train_objective"] = objective
    if s.config.lr_schedule != "constant":
        record["lr"] = learning_rate(s.config, ep * steps - 1, steps)  # at its last step
    return record


def learning_rate(config: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """Adam's step size at optimisation step ``step`` (from 0): lr, or with the cosine
    schedule lr · (1 + cos(π · step / total)) / 2 over the run's total steps. A function of
    the step alone, so a resumed run repeats it exactly (one resumed to more epochs than
    it was started with follows the longer run's schedule from there)."""
    if config.lr_schedule == "constant":
        return config.lr
    total = config.epochs * steps_per_epoch
    return config.lr * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))


def train_epoch(s: Session, ep: int) -> tuple[Bound, float]:
    """One pass over the training split in the order, view and noise of epoch ``ep``;
    the mean bound (β = 1, no floor: the true ELBO) and the mean objective over its
    batches."""
    config, model, dev = s.config, s.model, s.device
    model.train()
    generator = torch.Generator(dev).manual_seed(epoch_seed(config.seed, ep))
    x_all = s.train.epoch(generator, config.shift).view(-1, *model.x_shape)
    batches = batch_indices(len(s.train), config.batch_size, generator, dev)
    # per example: k draws for the IWAE objectives; the noise of z and a draw of the prior
    # for a term that needs one; else the noise of z
    prior_draws = needs_prior_draws(config)
    draws = config.k if config.objective != "elbo" else 2 if prior_draws else None
    shape = (len(s.train), config.latent_dim)
    if draws is not None:
        shape = (len(s.train), draws, config.latent_dim)
    eps_all = torch.randn(shape, generator=generator, device=dev, dtype=x_all.dtype)
    prior_all = None
    if prior_draws:  # drawn in one tensor with ε, so the stream is the same as it always was
        eps_all, prior_all = eps_all.unbind(dim=1)
    autocast = (
        torch.autocast(dev.type, dtype=torch.bfloat16)
        if config.amp == "bf16"
        else contextlib.nullcontext()
    )
    sums = torch.zeros(3, dtype=torch.float64, device=dev)
    first_step = (ep - 1) * len(batches)
    desc = f"epoch {ep}/{config.epochs}"
    bar = tqdm(batches, desc=desc, disable=None if s.progress else True, leave=False)
    offset = 0
    for b, batch in enumerate(bar, start=1):
        # this rank's share of the global batch, and of its noise: example i of the
        # epoch's order gets draw i, whoever computes it
        mine = shard(len(batch), s.world)  # places in the batch
        here = slice(offset + mine.start, offset + mine.stop)
        idx, offset = batch[mine], offset + len(batch)
        step = Batch(
            x_all[idx],
            eps_all[here],
            s.train.labels[idx] if model.n_classes else None,
            None if prior_all is None else prior_all[here],
        )
        beta = kl_weight(config, first_step + b - 1, len(batches))
        with autocast:
            loss, rec, kl = s.objective(step, beta)
        s.optimizer.zero_grad(set_to_none=True)
        (loss * s.scale(len(idx), len(batch))).backward()
        if config.lr_schedule != "constant":
            for group in s.optimizer.param_groups:
                group["lr"] = learning_rate(config, first_step + b - 1, len(batches))
        s.optimizer.step()
        sums += torch.stack([rec.detach(), kl.detach(), loss.detach()]).double() * len(idx)
        if (dev.type == "cpu" or b % REPORT_EVERY == 0) and not torch.isfinite(loss):
            raise diverged(loss.item(), ep, b, s.run.checkpoint)
        if b % REPORT_EVERY == 0:
            bar.set_postfix(loss=f"{loss.item():.2f}")
    rec, kl, objective = (all_sum(sums, s.world) / len(s.train)).tolist()  # waits
    return Bound(rec, kl), objective
