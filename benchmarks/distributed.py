"""Training throughput under torchrun against the world size, on this machine.

    .venv/bin/python benchmarks/distributed.py [--sizes 1 2] [--epochs 4] [--model mlp]

Trains the same run (MLP 784-400-20, Bernoulli, Fashion-MNIST, global batch 128, or the
conv model) with ``torchrun --nproc-per-node N -m vae_torch train`` for each N, every
process with one thread (OMP_NUM_THREADS=1, as torchrun sets it), all on 127.0.0.1 with
gloo. It prints examples per second of the optimisation steps (the history's
``train_seconds``, the first epoch left out as warm-up; median over the others), the
speed-up over N = 1, the parallel efficiency, and the share of each step that perfect
scaling would not spend: 1 − (t_1 / N) / t_N per step, the communication (the gradient's
all-reduce) and any imbalance. On a 2-core machine N = 2 uses both cores, so it also
shows what one core more buys.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine

MODELS = {
    "mlp": ["--model", "mlp", "--hidden", "400", "--latent-dim", "20"],
    "conv": ["--model", "conv", "--channels", "32,64", "--strides", "2,2", "--hidden", "256"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(size: int, model: str, epochs: int, folder: Path) -> tuple[list[float], int]:
    """Seconds of the optimisation steps of every epoch after the first, and the number
    of training examples."""
    out = folder / f"n{size}"
    launch = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        str(size),
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(free_port()),
    ]
    train = [
        "train",
        "--dataset",
        "fashion-mnist",
        *MODELS[model],
        "--epochs",
        str(epochs),
        "--batch-size",
        "128",
        "--device",
        "cpu",
        "--out",
        str(out),
    ]
    command = [*launch, "-m", "vae_torch", *train]
    env = os.environ | {"OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}
    subprocess.run(command, env=env, check=True, capture_output=True)
    history = json.loads((out / "history.json").read_text())
    examples = json.loads((out / "config.json").read_text())["environment"]["train_examples"]
    return [r["train_seconds"] for r in history[1:]], examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--model", choices=list(MODELS), default="mlp")
    args = parser.parse_args()
    if args.sizes[0] != 1:
        parser.error("--sizes must start with 1, the process every speed-up is measured against")
    torch.set_num_threads(1)
    print(f"machine: {machine()}; each process 1 thread, gloo on 127.0.0.1")
    print(
        f"model: {args.model}, Fashion-MNIST, global batch 128, median of epochs 2..{args.epochs}"
    )
    print("| processes | s / epoch | examples / s | speed-up | efficiency | beyond perfect |")
    print("|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        base = None
        for size in args.sizes:
            times, examples = run(size, args.model, args.epochs, Path(tmp))
            seconds = statistics.median(times)
            base = base or seconds  # one process
            speed_up = base / seconds
            overhead = 1 - (base / size) / seconds
            print(
                f"| {size} | {seconds:.2f} | {examples / seconds:,.0f} | {speed_up:.2f} | "
                f"{speed_up / size:.2f} | {overhead:.0%} |"
            )


if __name__ == "__main__":
    main()
