"""Every bad input to the torch backend gets one clear error; the CLI prints one line."""

import re
import shutil
import subprocess
import sys

import pytest
import torch
from device_under_test import DEVICE

from crosscheck.common import cli
from vae_numpy.run.config import TrainConfig
from vae_numpy.run.errors import VaeError
from vae_numpy.run.folder import RunFolder
from vae_numpy.run.options import QUIET
from vae_torch.checkpoint import load_state, read_checkpoint
from vae_torch.models import build_model
from vae_torch.training import train_torch

TINY = dict(dataset="mnist-5k", hidden=(8,), latent_dim=2, epochs=1, limit=100, n_val=50)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("runs") / "run"
    train_torch(TrainConfig(**TINY, device=DEVICE), path, options=QUIET)
    return path


@pytest.mark.parametrize(
    ("model", "x", "c", "message"),
    [
        ("mlp", torch.rand(3, 1, 28, 28), None, r"shape \(B, 784\), got \(3, 1, 28, 28\); reshape"),
        ("conv", torch.rand(3, 784), None, r"shape \(B, 1, 28, 28\), got \(3, 784\)"),
        ("mlp", torch.rand(3, 783), None, r"got \(3, 783\)$"),
        ("mlp", torch.full((2, 784), float("nan")), None, "NaN or infinite"),
        ("mlp", torch.rand(2, 784) * 255, None, r"pixels in \[0, 1\].*divide by 255"),
        ("mlp", torch.rand(2, 784).numpy(), None, "must be a torch.Tensor"),
        ("cvae", torch.rand(2, 784), None, "needs the class labels"),
        ("cvae", torch.rand(2, 784), torch.tensor([0, 10]), r"0\.\.9, got values from 0 to 10"),
        ("cvae", torch.rand(2, 784), torch.tensor([-1, 3]), r"got values from -1 to 3"),
        ("cvae", torch.rand(2, 784), torch.tensor([1.0, 2.0]), "integer tensor"),
        ("cvae", torch.rand(2, 784), torch.tensor([1, 2, 3]), "expected 2 labels"),
        ("mlp", torch.rand(2, 784), torch.tensor([1, 2]), "not conditional"),
    ],
)
def test_bad_images_and_labels_are_named(model, x, c, message):
    vae = build_model(TrainConfig(model=model), (1, 28, 28), 10)
    with pytest.raises(VaeError, match=message):
        vae.encode(x, c)


@pytest.mark.parametrize("model", ["mlp", "conv"])
def test_an_empty_batch_encodes_to_empty_codes(model):
    vae = build_model(TrainConfig(model=model), (1, 28, 28), 10)
    mu, log_var = vae.encode(torch.empty(0, *vae.x_shape))
    assert mu.shape == log_var.shape == (0, vae.latent_dim)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"likelihood": "gaussian", "sigma": 0.0}, "sigma must be positive"),
        ({"likelihood": "gaussian", "sigma": -1.0}, "sigma must be positive"),
        ({"sigma": 0.2}, "--sigma belongs to --likelihood gaussian, not bernoulli; it has none"),
        (
            {"likelihood": "poisson"},
            "--likelihood must be one of bernoulli, continuous-bernoulli, gaussian, "
            "discretized-logistic, got 'poisson'",
        ),
        (
            {"likelihood": "discretized-logistic", "pixels": "dynamic-binary"},
            "distribution over the 8-bit values themselves, u/255: use --pixels grey",
        ),
        (
            {"likelihood": "gaussian", "pixels": "static-binary"},
            "no likelihood of pixels that are 0 or 1; use --likelihood bernoulli",
        ),
        ({"backend": "numpy", "model": "conv"}, "numpy backend has only the MLP"),
        ({"amp": "fp8"}, "--amp must be one of none, bf16"),
        ({"channels": (8, 8), "strides": (2,)}, "one entry per convolution"),
        ({"strides": (1, 3, 2)}, "--strides 1 or 2"),
    ],
)
def test_bad_configs_are_named(fields, message):
    with pytest.raises(VaeError, match=message):
        TrainConfig.from_flags(**fields)


def test_an_unknown_model_is_refused_before_any_data_is_read_or_written(tmp_path):
    with pytest.raises(VaeError, match="--model must be one of mlp, cvae, conv, conv-cvae"):
        train_torch(
            TrainConfig(model="resnet", dataset="no-such-data"), tmp_path / "run", options=QUIET
        )
    assert not (tmp_path / "run").exists()


def test_a_checkpoint_of_another_architecture_is_refused(run):
    state = read_checkpoint(RunFolder(run).checkpoint)
    other = TrainConfig(**TINY | {"hidden": (9,)})
    with pytest.raises(VaeError, match=r"another architecture \(hidden: checkpoint \[8\], model"):
        load_state(build_model(other, (1, 28, 28), 10), state, other, RunFolder(run).checkpoint)


@pytest.mark.parametrize(
    "content", [b"", b"not a checkpoint at all", b"PK\x03\x04 truncated zip", "pickle"]
)
def test_a_corrupt_or_foreign_checkpoint_is_refused(tmp_path, content):
    path = RunFolder(tmp_path).checkpoint
    if content == "pickle":  # a torch file that is not ours, and one that would run code
        torch.save({"weights": torch.zeros(2)}, path)
        with pytest.raises(VaeError, match="not a checkpoint written by vae train"):
            read_checkpoint(path)
        torch.save({"run": print}, path)
        with pytest.raises(VaeError, match=r"corrupt or not a checkpoint.*Unsupported global"):
            read_checkpoint(path)
        return
    path.write_bytes(content)
    with pytest.raises(VaeError, match="corrupt or not a checkpoint"):
        read_checkpoint(path)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--resume", "{tmp}/nowhere"], r"--resume .*nowhere: no such run folder"),
        (["train", "--out", "{tmp}/a", "--resume", "{run}"], "either --out .* or --resume"),
        (["train", "--epochs", "2"], "either --out"),
        (["train", "--resume", "{run}", "--lr", "0.1"], "drop --lr"),
        (["train", "--out", "{run}"], "already holds a run; continue it with --resume"),
        (["train", "--out", "{tmp}/b", "--model", "vit"], "--model must be one of"),
        (["train", "--out", "{tmp}/w", "--weight-decay", "-0.1"], "--weight-decay must be non-neg"),
        (
            ["train", "--out", "{tmp}/w", "--backend", "numpy", "--weight-decay", "0.1"],
            "--weight-decay belongs to the torch backend",
        ),
        (
            ["train", "--out", "{tmp}/c", "--likelihood", "gaussian", "--sigma", "-1"],
            "sigma must be positive",
        ),
        (
            ["train", "--out", "{tmp}/c", "--sigma", "0.2"],
            "--sigma belongs to --likelihood gaussian",
        ),
        (
            ["train", "--out", "{tmp}/c", "--device", "cuda"]
            if not torch.cuda.is_available()
            else ["train", "--out", "{tmp}/c", "--device", "tpu"],
            "device",
        ),
        (["evaluate", "{tmp}/nowhere"], "no such run folder"),
        (["evaluate", "{run}", "--k", "0"], "k must be at least 1"),
        (["evaluate", "{corrupt}"], "corrupt or not a checkpoint"),
    ],
)
def test_the_cli_answers_bad_input_with_one_line(capsys, tmp_path, run, argv, message):
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "config.json").write_text((run / "config.json").read_text())
    RunFolder(corrupt).checkpoint.write_bytes(RunFolder(run).checkpoint.read_bytes()[:1000])
    paths = {"tmp": tmp_path, "run": run, "corrupt": corrupt}
    code, _, err = cli(capsys, *(a.format(**paths) for a in argv))
    assert code == 2
    assert err.startswith("vae: error: ") and err.count("\n") == 1, err
    assert re.search(message, err), err


@pytest.mark.parametrize("pixels", ["static-binary", "dynamic-binary"])
def test_a_gaussian_of_binary_pixels_is_refused_and_nothing_is_written(capsys, tmp_path, pixels):
    """A Gaussian density at 0 and 1 is no likelihood of binarized images (its "ELBO"
    would pass for one): refused in one line that names the likelihood to use."""
    out = tmp_path / "run"
    argv = ["train", "--likelihood", "gaussian", "--pixels", pixels, "--out", out]
    code, stdout, err = cli(capsys, *argv)
    assert code == 2 and stdout == ""
    assert err == (
        f"vae: error: {pixels} pixels do not suit --likelihood gaussian: a Gaussian is a "
        "density on the real line, no likelihood of pixels that are 0 or 1; use --likelihood "
        "bernoulli (exact for binarized pixels), or --pixels dequantized\n"
    )
    assert not out.exists()


def test_resume_of_a_numpy_run_says_it_cannot(capsys, tmp_path):
    code, _, _ = cli(
        capsys,
        "train",
        "--backend",
        "numpy",
        "--dataset",
        "mnist-5k",
        "--hidden",
        "8",
        "--latent-dim",
        "2",
        "--epochs",
        "1",
        "--limit",
        "100",
        "--out",
        tmp_path / "np",
    )
    assert code == 0
    code, _, err = cli(capsys, "train", "--resume", tmp_path / "np")
    assert code == 2 and "no checkpoint.pt there (it is not a torch run" in err


def test_training_and_evaluating_from_the_command_line(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "vae_torch"]
    train = subprocess.run(
        [
            *command,
            "train",
            "--dataset",
            "mnist-5k",
            "--model",
            "conv",
            "--channels",
            "4,8",
            "--strides",
            "2,2",
            "--hidden",
            "none",
            "--latent-dim",
            "2",
            "--epochs",
            "1",
            "--limit",
            "200",
            "--n-val",
            "100",
            "--device",
            "cpu",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert train.returncode == 0, train.stderr
    assert "epoch   1 | train ELBO" in train.stderr + train.stdout
    evaluate = subprocess.run(
        [*command, "evaluate", str(out), "--k", "3", "--device", DEVICE],
        capture_output=True,
        text=True,
        check=False,
    )
    assert evaluate.returncode == 0, evaluate.stderr
    assert "IWAE k=3" in evaluate.stdout and RunFolder(out).evaluation("test", 3).is_file()


def test_an_interrupted_training_says_how_to_resume(capsys, run, monkeypatch):
    import vae_torch.training

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(vae_torch.training, "resume_torch", interrupted)
    code, _, err = cli(capsys, "train", "--resume", run, "--epochs", "5")
    assert code == 130
    hint = f"the last finished epoch is kept: continue with vae train --resume {run}"
    assert err == f"vae: interrupted; {hint}\n"


def tampered(state: dict, what: str) -> dict:
    if what == "config":
        state["config"] = state["config"] | {"lr": 0.5}
    else:
        state["history"] = [*state["history"][:-1], state["history"][-1] | {"val_elbo": -1.0}]
    return state


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            "garbage last",
            r"checkpoint\.pt is corrupt or not a checkpoint \(.*\); the run's other checkpoint, "
            r"best\.pt, is whole, but the run folder is damaged: train it again \(or move "
            r"checkpoint\.pt away to use best\.pt alone\)$",
        ),
        (
            "one more epoch in the history",
            r"checkpoint\.pt holds epoch 1, but history\.json records 2 epochs, the last of "
            r"them epoch 2; if the run was interrupted while it saved, vae train --resume .* "
            r"completes it; otherwise checkpoint\.pt was replaced: put back the run's own, or "
            r"train it again$",
        ),
        (
            "config of last",
            r"checkpoint\.pt was written with another config than config\.json \(lr: "
            r"checkpoint 0\.5, config\.json 0\.001\); if the run",
        ),
        (
            "history of last",
            r"checkpoint\.pt: its epoch 1 has another validation ELBO \(-1\.0\) than "
            r"history\.json \(-[0-9.]+\): it is of another run; if the run",
        ),
    ],
)
def test_a_checkpoint_that_disagrees_with_the_history_is_named_whichever_is_read(
    capsys, tmp_path, run, damage, message
):
    """vae evaluate reads best.pt; a checkpoint.pt replaced or damaged beside it (or a
    history that is not theirs) is named at once, not when --checkpoint last meets it."""
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    folder = RunFolder(copy)
    if damage == "garbage last":
        folder.checkpoint.write_bytes(b"garbage")
    elif damage == "one more epoch in the history":
        history = folder.history()
        folder.write_history([*history, history[-1] | {"epoch": 2, "val_elbo": 0.0}])
    else:
        what = damage.split()[0]
        torch.save(tampered(read_checkpoint(folder.checkpoint), what), folder.checkpoint)
    before = sorted(p.name for p in copy.iterdir())
    code, out, err = cli(capsys, "evaluate", copy, "--k", "2", "--device", DEVICE)
    assert code == 2 and out == ""
    assert err.startswith("vae: error: ") and err.count("\n") == 1, err
    assert re.search(message, err.strip()), err
    assert sorted(p.name for p in copy.iterdir()) == before  # nothing written
