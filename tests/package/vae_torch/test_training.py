"""Training the torch models on real digits: smoke tests, determinism, resume, crashes."""

import json
import subprocess
import sys
import textwrap

import pytest
import torch
from device_under_test import DEVICE

from vae_numpy.data import load_dataset, split
from vae_numpy.run.config import TrainConfig
from vae_numpy.run.errors import TrainingDiverged, VaeError
from vae_numpy.run.folder import RunFolder
from vae_numpy.run.options import QUIET
from vae_numpy.train import evaluate as numpy_evaluate
from vae_numpy.train import train_numpy
from vae_torch.checkpoint import load_run, read_checkpoint
from vae_torch.convert import to_numpy
from vae_torch.data import DeviceSplit
from vae_torch.models import VAE
from vae_torch.objectives import Objective
from vae_torch.quality.bounds import dataset_elbo
from vae_torch.training import init_model, resume_torch, train_torch

SMALL = dict(
    dataset="mnist-5k",
    hidden=(32,),
    latent_dim=4,
    channels=(4, 8),
    strides=(2, 2),
    epochs=2,
    limit=500,
    n_val=200,
    batch_size=50,
    seed=3,
    device=DEVICE,
)


def val_data(config: TrainConfig, model: VAE):
    raw = load_dataset(config.dataset, QUIET)
    val = DeviceSplit(split(raw, config.n_val, config.seed).val, config.pixels, config.seed, "cpu")
    return val.fixed.view(-1, *model.x_shape), val.labels if model.n_classes else None


def same_parameters(a: VAE, b: VAE) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def without_times(history):
    return [{k: v for k, v in r.items() if "seconds" not in k} for r in history]


@pytest.mark.parametrize(
    ("model", "likelihood"),
    [("mlp", "bernoulli"), ("conv", "bernoulli"), ("cvae", "gaussian"), ("conv-cvae", "bernoulli")],
)
def test_each_model_trains_on_real_digits_and_its_checkpoint_reproduces_the_history(
    tmp_path, model, likelihood
):
    config = TrainConfig(**SMALL | {"limit": 1000, "lr": 3e-3}, model=model, likelihood=likelihood)
    untrained = init_model(config, (1, 28, 28), 10, torch.device("cpu"))
    x, c = val_data(config, untrained)
    before = dataset_elbo(untrained, x, c).elbo

    history = train_torch(config, tmp_path / "run", options=QUIET)

    assert [r["epoch"] for r in history] == [1, 2]
    gain = 20 if likelihood == "bernoulli" else 200  # σ = 0.1: nats are ~10x larger
    assert history[-1]["val_elbo"] > before + gain
    for r in history:  # ELBO = E[log p(x|z)] − KL, as written
        assert r["val_elbo"] == pytest.approx(r["val_log_px_given_z"] - r["val_kl"])
    saved = json.loads((tmp_path / "run" / "history.json").read_text())
    assert saved == history
    loaded = load_run(tmp_path / "run", which="last")
    assert loaded.backend == "torch" and loaded.config == config
    assert dataset_elbo(loaded.model.eval(), x, c).elbo == history[-1]["val_elbo"]


@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_the_best_checkpoint_holds_the_epoch_of_the_highest_validation_elbo(tmp_path, backend):
    # a large step: the validation ELBO does not rise every epoch
    config = TrainConfig(**SMALL | {"epochs": 5, "lr": 3e-2, "backend": backend})
    train = train_torch if backend == "torch" else train_numpy
    history = train(config, tmp_path / "run", options=QUIET)
    best = max(history, key=lambda r: r["val_elbo"])
    loaded, last = load_run(tmp_path / "run"), load_run(tmp_path / "run", which="last")
    assert (loaded.which, loaded.epoch, last.which, last.epoch) == (
        "best",
        best["epoch"],
        "last",
        5,
    )
    assert loaded.checkpoint == f"best (epoch {best['epoch']} of 5)"
    x, c = val_data(config, loaded.model)

    def val_elbo(model: VAE) -> float:  # as the backend's trainer computes it
        if backend == "numpy":
            return numpy_evaluate(to_numpy(model), x.numpy()).elbo
        return dataset_elbo(model.eval(), x, c).elbo

    assert val_elbo(loaded.model) == pytest.approx(best["val_elbo"], rel=1e-6)
    assert val_elbo(last.model) == pytest.approx(history[-1]["val_elbo"], rel=1e-6)


def test_a_seed_decides_the_run_exactly(tmp_path):
    config = TrainConfig(**SMALL | {"epochs": 1})
    train_torch(config, tmp_path / "a", options=QUIET)
    train_torch(config, tmp_path / "b", options=QUIET)
    train_torch(TrainConfig(**SMALL | {"epochs": 1, "seed": 4}), tmp_path / "c", options=QUIET)
    a, b, c = (load_run(tmp_path / name).model for name in "abc")
    assert same_parameters(a, b)
    assert not same_parameters(a, c)


def test_a_resumed_run_ends_bit_identical_to_an_uninterrupted_one(tmp_path, monkeypatch):
    config = TrainConfig(**SMALL | {"epochs": 3, "model": "cvae"})
    straight = train_torch(config, tmp_path / "straight", options=QUIET)

    # killed in the middle of epoch 3: the exception stands in for the signal
    real_loss, calls = Objective.forward, {"n": 0}

    def loss_then_crash(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2 * 10 + 4:  # 10 batches an epoch: batch 4 of epoch 3
            raise KeyboardInterrupt
        return real_loss(self, *args, **kwargs)

    monkeypatch.setattr(Objective, "forward", loss_then_crash)
    with pytest.raises(KeyboardInterrupt):
        train_torch(config, tmp_path / "resumed", options=QUIET)
    monkeypatch.setattr(Objective, "forward", real_loss)
    assert read_checkpoint(RunFolder(tmp_path / "resumed").checkpoint)["epoch"] == 2

    stray = tmp_path / "resumed" / ".checkpoint.pt.x1y2.tmp"  # as atomic_path names them
    stray.write_bytes(b"PK half a checkpoint, from a kill mid-write")
    resumed = resume_torch(tmp_path / "resumed", options=QUIET)
    assert not stray.exists()

    assert without_times(resumed) == without_times(straight)
    for which in ("last", "best"):
        a, b = (
            load_run(tmp_path / "straight", which=which),
            load_run(tmp_path / "resumed", which=which),
        )
        assert same_parameters(a.model, b.model) and a.epoch == b.epoch
    sa, sb = (
        read_checkpoint(RunFolder(p).checkpoint)["optimizer"]
        for p in (tmp_path / "straight", tmp_path / "resumed")
    )
    for key in sa["state"]:
        for name, value in sa["state"][key].items():
            assert torch.equal(value, sb["state"][key][name]), name


def test_resume_extends_a_finished_run_and_refuses_to_redo_it(tmp_path):
    config = TrainConfig(**SMALL | {"epochs": 1})
    train_torch(config, tmp_path / "run", options=QUIET)
    with pytest.raises(VaeError, match="has finished all 1 epochs; give --epochs"):
        resume_torch(tmp_path / "run", options=QUIET)
    history = resume_torch(tmp_path / "run", epochs=2, options=QUIET)
    assert [r["epoch"] for r in history] == [1, 2]
    straight = train_torch(TrainConfig(**SMALL), tmp_path / "straight", options=QUIET)
    assert without_times(history) == without_times(straight)


KILLED_WHILE_WRITING = textwrap.dedent(
    """
    import os, signal, sys, torch
    from vae_numpy.run.config import TrainConfig
    from vae_torch import checkpoint
    from vae_torch.models import build_model

    path, config = sys.argv[1], TrainConfig(hidden=(8,), latent_dim=2)
    model = build_model(config, (1, 28, 28), 10)
    optimizer = torch.optim.Adam(model.parameters())
    checkpoint.save_checkpoint(path, model, optimizer, config, 1, [{"epoch": 1}])

    def save_half_then_die(obj, f):
        with open(f, "wb") as out:
            out.write(b"PK\\x03\\x04 half of a zip archive")
            out.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    torch.save = save_half_then_die
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    checkpoint.save_checkpoint(path, model, optimizer, config, 2, [{"epoch": 1}, {"epoch": 2}])
    """
)


def test_a_process_killed_while_writing_a_checkpoint_leaves_the_previous_one(tmp_path):
    path = RunFolder(tmp_path).checkpoint
    result = subprocess.run(
        [sys.executable, "-c", KILLED_WHILE_WRITING, str(path)], capture_output=True, check=False
    )
    assert result.returncode == -9, result.stderr.decode()  # SIGKILL, mid-write
    assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())  # the half-written file
    state = read_checkpoint(path)
    assert state["epoch"] == 1 and state["history"] == [{"epoch": 1}]


def test_a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    real_loss, calls = Objective.forward, {"n": 0}

    def nan_in_epoch_2(self, *args, **kwargs):
        calls["n"] += 1
        loss, rec, kl = real_loss(self, *args, **kwargs)
        return (loss * float("nan"), rec, kl) if calls["n"] == 10 + 3 else (loss, rec, kl)

    monkeypatch.setattr(Objective, "forward", nan_in_epoch_2)
    with pytest.raises(TrainingDiverged, match=r"at epoch 2, batch 3.*epoch \(1\) is kept"):
        train_torch(TrainConfig(**SMALL), tmp_path / "run", options=QUIET)
    state = read_checkpoint(RunFolder(tmp_path / "run").checkpoint)
    assert state["epoch"] == 1
    assert all(torch.isfinite(t).all() for t in state["model"].values())
    assert len(json.loads((tmp_path / "run" / "history.json").read_text())) == 1


@pytest.mark.parametrize("options", [{"amp": "bf16"}, {"mc_kl": True}, {"dtype": "float64"}])
def test_training_options_reach_what_the_plain_run_reaches(tmp_path, options):
    config = TrainConfig(**SMALL | {"limit": 1000, "lr": 3e-3})
    plain = train_torch(config, tmp_path / "plain", options=QUIET)
    varied = train_torch(
        TrainConfig(**SMALL | {"limit": 1000, "lr": 3e-3} | options),
        tmp_path / "run",
        options=QUIET,
    )
    assert plain[-1]["val_elbo"] > plain[0]["val_elbo"] + 10  # it learns at all
    # other noise draws, another trajectory: seeds 0-4 of the plain run end at -235.1 to
    # -244.3 (sd 3.8 nats); a broken option (NaN, a sign error in the KL) lands far outside
    assert varied[-1]["val_elbo"] == pytest.approx(plain[-1]["val_elbo"], abs=15)
    model = load_run(tmp_path / "run").model
    assert model.dtype == (torch.float64 if "dtype" in options else torch.float32)
