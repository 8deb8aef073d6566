"""The torch run's checkpoint: everything needed to resume, as data, never code.

    RUN/checkpoint.pt = {format, version, config, architecture, epoch, history,
                         model (state_dict), optimizer (state_dict), torch version}

Written through ``atomic_path`` (temporary file, fsync, rename): a process killed
while writing leaves the previous checkpoint whole. Read with
``torch.load(weights_only=True)``, which unpickles tensors, numbers, strings,
lists and dicts only, so a checkpoint cannot run code. ``load_run`` also reads the
numpy backend's runs (model.npz), converting the model to torch.
"""

import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch

from vae_numpy.checkpoint import load_model
from vae_numpy.likelihoods import sort_parameters
from vae_numpy.run.config import TrainConfig
from vae_numpy.run.errors import VaeError
from vae_numpy.run.folder import RunFolder
from vae_numpy.run.io import atomic_path
from vae_numpy.run.records import best_epoch
from vae_torch.convert import to_torch
from vae_torch.models import VAE, architecture, build_model

FORMAT = "vae-from-scratch checkpoint"
VERSION = 1
FIRST_IMAGE_SHAPE = [1, 28, 28]  # checkpoints written before the shape was recorded


def save_checkpoint(
    path: Path,
    model: VAE,
    optimizer: torch.optim.Optimizer,
    config: TrainConfig,
    epoch: int,
    history: list[dict],
) -> None:
    state = {
        "format": FORMAT,
        "version": VERSION,
        "config": config.record(),
        "architecture": architecture(config, model.image_shape, model.n_classes),
        "epoch": epoch,
        "history": history,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "torch": str(torch.__version__),  # a plain str: TorchVersion is not data
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def read_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict:
    """The checkpoint's contents, its tensors on ``device``; VaeError if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise VaeError(f"{path}: no checkpoint there")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as err:
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        why = next((line for line in lines if "Unpickler error" in line), None)
        why = why or (lines[0] if lines else type(err).__name__)
        raise VaeError(f"{path} is corrupt or not a checkpoint ({why[:240]})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise VaeError(f"{path} is a torch file but not a checkpoint written by vae train")
    if state.get("version") != VERSION:
        raise VaeError(f"{path}: checkpoint version {state.get('version')}, expected {VERSION}")
    record = {"image_shape": FIRST_IMAGE_SHAPE} | state["architecture"]
    # records before the likelihoods declared their parameters held σ for every likelihood
    rest, params = sort_parameters(record.get("likelihood", "bernoulli"), record, strict=False)
    state["architecture"] = rest | params
    return state


def load_state(model: VAE, state: dict, config: TrainConfig, source: Path) -> None:
    """Copy the checkpoint's parameters into ``model``, which must be its architecture."""
    want = architecture(config, model.image_shape, model.n_classes)
    if state["architecture"] != want:
        diff = {
            k: (state["architecture"].get(k), v)
            for k, v in want.items()
            if state["architecture"].get(k) != v
        }
        details = "; ".join(f"{k}: checkpoint {a}, model {b}" for k, (a, b) in diff.items())
        raise VaeError(f"{source} holds a model of another architecture ({details})")
    try:
        model.load_state_dict(state["model"], strict=True)
    except RuntimeError as err:
        raise VaeError(f"{source}: its parameters do not fit the model ({err})") from None


@dataclass
class LoadedRun:
    """A trained run, loaded: ``model`` (a ``VAE`` in eval mode, on the device asked
    for), its ``config`` (the ``TrainConfig`` it was trained with; ``config.dataset``
    names its data, for ``load_dataset``), its ``history`` (one record per finished
    epoch), the ``folder`` and which checkpoint the parameters are (``which``, ``epoch``)."""

    model: VAE
    config: TrainConfig
    history: list[dict]  # every finished epoch of the run
    backend: str
    folder: RunFolder
    which: str  # "best" or "last": whose parameters the model holds
    epoch: int  # the epoch they are of

    @property
    def checkpoint(self) -> str:
        """Which parameters, as commands print and record it."""
        return f"{self.which} (epoch {self.epoch} of {len(self.history)})"


def load_run(
    run: Path | RunFolder, device: torch.device | str = "cpu", which: str = "best"
) -> LoadedRun:
    """The trained model of a run folder, from either backend, on ``device``: the
    parameters of the best validation ELBO (``which="best"``) or of the last epoch.
    A run that keeps no best checkpoint (written before they were kept) gives its last."""
    folder = run if isinstance(run, RunFolder) else RunFolder(run)
    config = folder.config()
    path = folder.model_file(config.backend, which)
    if which == "best" and not path.is_file():
        which, path = "last", folder.model_file(config.backend, "last")
    if config.backend == "numpy":
        return load_numpy_run(folder, config, path, which, device)
    if not path.is_file():
        raise VaeError(
            f"{folder} has no {path.name}: no epoch of this run has finished; "
            f"train it first (vae train --out {folder}, or --resume {folder} if it was "
            "interrupted)"
        )
    state = read_checkpoint(path, device)
    check_checkpoints(folder, path, state)
    config = TrainConfig.from_record(state["config"])
    record = state["architecture"]
    model = build_model(config, tuple(record["image_shape"]), record["n_classes"])
    model = model.to(device=device, dtype=getattr(torch, config.dtype))
    load_state(model, state, config, path)
    history = folder.history() if which == "best" else state["history"]
    return LoadedRun(model, config, history, "torch", folder, which, state["epoch"])


def check_checkpoints(folder: RunFolder, path: Path, state: dict) -> None:
    """A torch run's two checkpoints against its history.json and config.json: best.pt
    holds the epoch of the highest validation ELBO, checkpoint.pt the last epoch, both
    of the run's config. ``state`` is the one read from ``path``; the other, if there, is
    read too, so that a file replaced or damaged after training is named whichever
    checkpoint a command asks for."""
    history = folder.history()
    expected = {
        folder.checkpoint: (len(history), "the last"),
        folder.best_checkpoint: (best_epoch(history), "the best"),
    }
    for other, (epoch, which) in expected.items():
        if other == path:
            mine = state
        elif other.is_file():
            try:
                mine = read_checkpoint(other)
            except VaeError as err:
                raise VaeError(
                    f"{err}; the run's other checkpoint, {path.name}, is whole, but the run "
                    f"folder is damaged: train it again (or move {other.name} away to use "
                    f"{path.name} alone)"
                ) from None
        else:
            continue
        fix = (
            f"if the run was interrupted while it saved, vae train --resume {folder} completes "
            f"it; otherwise {other.name} was replaced: put back the run's own, or train it again"
        )
        if mine["epoch"] != epoch:
            raise VaeError(
                f"{other} holds epoch {mine['epoch']}, but {folder.history_file.name} records "
                f"{len(history)} epochs, {which} of them epoch {epoch}; {fix}"
            )
        if history and mine["history"][-1].get("val_elbo") != history[epoch - 1]["val_elbo"]:
            raise VaeError(
                f"{other}: its epoch {epoch} has another validation ELBO "
                f"({mine['history'][-1].get('val_elbo')}) than {folder.history_file.name} "
                f"({history[epoch - 1]['val_elbo']}): it is of another run; {fix}"
            )
        differ = config_difference(mine["config"], folder.record()["config"])
        if differ:
            raise VaeError(
                f"{other} was written with another config than {folder.config_file.name} "
                f"({'; '.join(differ)}); {fix}"
            )


def config_difference(saved: dict, recorded: dict) -> list[str]:
    """The fields in which two configs' records differ, but for the number of epochs
    (``--resume --epochs N`` changes it in the checkpoints, not in config.json)."""
    a = TrainConfig.from_record(saved).record()
    b = TrainConfig.from_record(recorded).record()
    return [
        f"{key}: checkpoint {a.get(key)!r}, config.json {b.get(key)!r}"
        for key in sorted(set(a) | set(b))
        if key != "epochs" and a.get(key) != b.get(key)
    ]


def load_numpy_run(
    folder: RunFolder, config: TrainConfig, path: Path, which: str, device
) -> LoadedRun:
    """A numpy run's model, converted to torch."""
    shape = folder.environment().get("image_shape")
    model = to_torch(load_model(path), torch.float32, shape and tuple(shape))
    history = folder.history()
    epoch = best_epoch(history) if which == "best" else len(history)
    return LoadedRun(model.to(device), config, history, "numpy", folder, which, epoch)
