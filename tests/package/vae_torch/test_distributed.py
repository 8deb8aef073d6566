"""Training under torchrun (DistributedDataParallel, gloo on 2 CPU processes, on
127.0.0.1 only): the same run as one process, resumable across world sizes, and a
killed rank that stops the others with the last checkpoint intact.

A 2-process run is not bit-identical to a 1-process one: the gradient of the global
batch is the average of the two ranks' gradients, summed in another order than one
process sums it, and float32 addition is not associative. Each step differs by a few
ulps, and Adam carries that over the steps, so parameters are compared to 1e-4
(measured after these tests' 14 steps: at most 3e-8 apart for the MLP, 6e-8 for the
conv model, parameters of size 1e-2 to 1) and the recorded ELBOs to 1e-4 nats.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch

from vae_numpy.run.config import TrainConfig
from vae_numpy.run.options import QUIET
from vae_torch import distributed
from vae_torch.checkpoint import load_run
from vae_torch.cli import TORCHRUN_VARIABLES, main
from vae_torch.training import resume_torch, train_torch

pytestmark = pytest.mark.slow

SMALL = {
    "dataset": "mnist-5k",
    "latent_dim": 4,
    "limit": 640,
    "n_val": 200,
    "batch_size": 64,
    "device": "cpu",
}
MODELS = {
    "mlp": {"hidden": (32,)},
    "conv": {"model": "conv", "channels": (4, 8), "strides": (2, 2), "hidden": (16,)},
}
PARAM_RTOL, ELBO_ATOL = 1e-4, 1e-4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(*argv, nproc: int = 2, wait: bool = True):
    """``torchrun --nproc-per-node N -m vae_torch ARGV`` on 127.0.0.1."""
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        str(nproc),
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(free_port()),
        "-m",
        "vae_torch",
        *map(str, argv),
    ]
    env = os.environ | {"GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    if not wait:
        return process
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def flags(fields: dict) -> list[str]:
    pairs = []
    for key, value in fields.items():
        text = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        pairs += [f"--{key.replace('_', '-')}", text]
    return pairs


def assert_same_run(a, b):
    """Same history (to ELBO_ATOL) and parameters (to PARAM_RTOL) in two run folders."""
    ha, hb = (json.loads((p / "history.json").read_text()) for p in (a, b))
    assert len(ha) == len(hb)
    for ra, rb in zip(ha, hb, strict=True):
        for key in ("train_elbo", "val_elbo", "val_kl"):
            assert ra[key] == pytest.approx(rb[key], abs=ELBO_ATOL), key
    pa = load_run(a, which="last").model.state_dict()
    pb = load_run(b, which="last").model.state_dict()
    for name in pa:
        torch.testing.assert_close(pa[name], pb[name], rtol=PARAM_RTOL, atol=PARAM_RTOL)


@pytest.mark.parametrize("model", list(MODELS))
def test_two_processes_train_what_one_process_trains(tmp_path, model):
    fields = SMALL | MODELS[model] | {"epochs": 2}
    train_torch(TrainConfig(**fields), tmp_path / "one", options=QUIET)
    code, out, err = torchrun("train", *flags(fields), "--out", tmp_path / "two")
    assert code == 0, err
    assert out.count("done: validation ELBO") == 1  # rank 0 alone reports
    assert_same_run(tmp_path / "one", tmp_path / "two")
    record = json.loads((tmp_path / "two" / "config.json").read_text())
    assert record["environment"]["world_size"] == 2
    history = json.loads((tmp_path / "two" / "history.json").read_text())
    assert {r["world_size"] for r in history} == {2}


def test_a_run_resumes_across_world_sizes(tmp_path):
    """2 processes for epoch 1, one process for epoch 2, 2 processes for epoch 3: the
    run one process trains straight."""
    fields = SMALL | MODELS["mlp"] | {"epochs": 1}
    code, _, err = torchrun("train", *flags(fields), "--out", tmp_path / "mixed")
    assert code == 0, err
    resume_torch(tmp_path / "mixed", epochs=2, options=QUIET)
    code, _, err = torchrun("train", "--resume", tmp_path / "mixed", "--epochs", 3)
    assert code == 0, err
    train_torch(TrainConfig(**fields | {"epochs": 3}), tmp_path / "straight", options=QUIET)
    assert_same_run(tmp_path / "mixed", tmp_path / "straight")


def start_a_long_run(run):
    """A 2-process run of 500 epochs, once its first epoch is saved: (torchrun, its two
    ranks' process ids, the later-started first)."""
    fields = SMALL | MODELS["mlp"] | {"epochs": 500, "limit": 2000}
    process = torchrun("train", *flags(fields), "--out", run, wait=False)
    deadline = time.monotonic() + 120
    while not (run / "history.json").is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (run / "history.json").is_file(), process.communicate()
    # torchrun's children: the two ranks
    pgrep = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True)
    workers = sorted(map(int, pgrep.stdout.split()), reverse=True)
    assert len(workers) == 2
    return process, workers


def stops_with_a_whole_checkpoint(process, run, stopped: float) -> str:
    """torchrun's stderr, once it has ended in under 30 s with a checkpoint that one
    process can resume."""
    _, err = process.communicate(timeout=60)
    assert process.returncode != 0
    assert time.monotonic() - stopped < 30  # the survivor stopped, not hung
    assert f"--resume {run}" in err
    kept = load_run(run, which="last")  # the checkpoint is whole
    assert 1 <= kept.epoch < 500
    resume_torch(run, epochs=kept.epoch + 1, options=QUIET)  # and one process continues it
    assert json.loads((run / "history.json").read_text())[-1]["epoch"] == kept.epoch + 1
    return err


def test_a_killed_rank_stops_the_other_and_the_checkpoint_resumes(tmp_path):
    run = tmp_path / "run"
    process, workers = start_a_long_run(run)
    os.kill(workers[0], signal.SIGKILL)  # the later-started rank
    err = stops_with_a_whole_checkpoint(process, run, time.monotonic())
    # the survivor says so whichever comes first: its next collective failing, or the
    # SIGTERM that torchrun sends it on seeing the killed rank
    assert "lost the others" in err or "received SIGTERM" in err


def test_a_rank_sent_sigterm_says_so_and_how_to_resume(tmp_path):
    run = tmp_path / "run"
    process, workers = start_a_long_run(run)
    os.kill(workers[0], signal.SIGTERM)
    err = stops_with_a_whole_checkpoint(process, run, time.monotonic())
    assert "of 2 received SIGTERM (torchrun sends it to every rank" in err
    assert "vae_torch/training.py" not in err  # no traceback of the package's


def test_a_global_batch_that_does_not_split_is_one_line_from_rank_0(tmp_path):
    fields = SMALL | MODELS["mlp"] | {"epochs": 1, "batch_size": 63}
    code, _, err = torchrun("train", *flags(fields), "--out", tmp_path / "r")
    assert code != 0
    assert err.count("vae: error: --batch-size 63 is the global batch") == 1
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("flag", [{"free_bits": 0.5}, {"mmd": 10.0}])
def test_whole_batch_objectives_are_refused_under_torchrun_in_one_line(tmp_path, flag):
    fields = SMALL | MODELS["mlp"] | {"epochs": 1} | flag
    code, _, err = torchrun("train", *flags(fields), "--out", tmp_path / "r")
    assert code != 0
    name = "--" + next(iter(flag)).replace("_", "-")  # the term's own flag names it
    assert err.count(f"vae: error: {name} acts on statistics of the whole batch") == 1
    assert not (tmp_path / "r").exists()


def test_the_command_line_names_the_variables_torchrun_sets():
    assert TORCHRUN_VARIABLES == distributed.TORCHRUN_VARIABLES  # named twice: no torch at start


@pytest.mark.parametrize(
    "variables",
    [
        {"RANK": "0"},
        {"RANK": "1"},
        {"RANK": "1", "WORLD_SIZE": "1"},
        {"WORLD_SIZE": "2", "RANK": "1"},
    ],
)
def test_torchrun_variables_without_torchrun_are_refused(tmp_path, capsys, monkeypatch, variables):
    """Only rank 0 reports under torchrun; a process torchrun did not start reports
    whatever RANK says, so a stray RANK=1 never makes an error silent."""
    for name in TORCHRUN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    code = main(["train", *flags(SMALL | {"epochs": 1}), "--out", str(tmp_path / "r")])
    assert code == 2
    out, err = capsys.readouterr()
    given = ", ".join(name for name in TORCHRUN_VARIABLES if name in variables)
    missing = ", ".join(name for name in TORCHRUN_VARIABLES if name not in variables)
    assert out == ""
    assert err == (
        f"vae: error: {given} set without {missing}: launch with torchrun "
        "(torchrun --nproc-per-node N -m vae_torch train ...) or unset them\n"
    )
    code = main(["train", "--epochs", "1"])  # any error, not only torchrun's, is said
    assert code == 2 and capsys.readouterr().err.startswith("vae: error: give either --out")
    assert not (tmp_path / "r").exists()
