"""The torch backend's trainer (``vae train --backend torch``), measured as users run it.

For each model: 10 epochs of Fashion-MNIST at grey levels (the BCE convention),
784-400-20 for the MLP, batch 128, Adam, float32, 59,000 training images (1,000
held out so validation stays cheap); then the test loss (−ELBO, nats/example)
and, for the MLP, the importance-weighted estimate with k = 1000 over the 10,000
test images. Epoch time is the optimisation steps alone (``train_seconds``),
scaled to 60,000 images, and compared with a floor: the epoch's matmul and
convolution FLOPs (counted by torch.utils.flop_counter on one step) at the rate of
a large float32 matmul measured in the same run.

    .venv/bin/python benchmarks/torch_train.py [--device cpu|cuda] [--models mlp,conv]
"""

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import torch
from common import machine
from torch.utils.flop_counter import FlopCounterMode

from vae_numpy.data import load_dataset, split
from vae_numpy.run.config import TrainConfig
from vae_numpy.run.options import QUIET
from vae_torch.checkpoint import load_run
from vae_torch.data import DeviceSplit
from vae_torch.device import resolve_device
from vae_torch.models import build_model
from vae_torch.quality.bounds import dataset_elbo, iw_estimate
from vae_torch.training import train_torch

N_VAL = 1000


def matmul_rate(device: torch.device, n: int = 2048, repeat: int = 20) -> float:
    """FLOP/s of an n x n float32 matmul on ``device``, best of a few timings."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    best = math.inf
    for _ in range(3):
        sync(device)
        start = time.perf_counter()
        for _ in range(repeat):
            a @ b
        sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 * repeat / best


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def epoch_flops(config: TrainConfig, n_images: int) -> float:
    """Matmul and convolution FLOPs of one epoch's forward and backward passes."""
    model = build_model(config, (1, 28, 28), 10)
    x = torch.rand(config.batch_size, *model.x_shape)
    c = torch.zeros(config.batch_size, dtype=torch.long) if config.conditional else None
    with FlopCounterMode(display=False) as counter:
        loss, _, _ = model.loss(x, torch.randn(config.batch_size, config.latent_dim), c=c)
        loss.backward()
    return counter.get_total_flops() * n_images / config.batch_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", default="mlp", help="comma list of mlp, conv, cvae, ...")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--k", type=int, default=1000, help="IWAE samples (MLP); 0 to skip")
    parser.add_argument("--amp", default="none")
    args = parser.parse_args()
    device = resolve_device(args.device)

    rate = matmul_rate(device)
    print(f"machine: {machine(device)}")
    print(f"float32 2048x2048 matmul: {rate / 1e9:.0f} GFLOP/s on {device}")
    raw = load_dataset("fashion-mnist", QUIET)
    test = split(raw, N_VAL, 0).test
    for name in args.models.split(","):
        config = TrainConfig(
            backend="torch",
            model=name,
            dataset="fashion-mnist",
            pixels="grey",
            hidden=(400,),
            latent_dim=20,
            batch_size=128,
            epochs=args.epochs,
            n_val=N_VAL,
            device=str(device),
            amp=args.amp,
        )
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(tmp) / "run"
            history = train_torch(config, run, options=QUIET)
            loaded = load_run(run, device)
        n_train = len(raw.train_labels) - N_VAL
        scale = 60_000 / n_train
        times = [r["train_seconds"] * scale for r in history]
        flops = epoch_flops(config, 60_000)
        floor = flops / rate
        median = statistics.median(times)
        print(
            f"\n{name}: {loaded.model.count_parameters():,} parameters; epoch times "
            f"(s per 60,000 images): {' '.join(f'{t:.2f}' for t in times)}"
        )
        print(
            f"  median {median:.3f} s; FLOP floor {floor:.3f} s "
            f"({flops / 1e9:.0f} GFLOP at {rate / 1e9:.0f} GFLOP/s); "
            f"ratio to the floor {median / floor:.2f}"
        )
        data = DeviceSplit(test, "grey", 0, device)
        x = data.fixed.view(-1, *loaded.model.x_shape)
        c = data.labels if loaded.model.n_classes else None
        bound = dataset_elbo(loaded.model.eval(), x, c)
        print(
            f"  test loss after {args.epochs} epochs (-ELBO, grey-level BCE + KL): "
            f"{-bound.elbo:.2f} nats/example (BCE {-bound.log_px_given_z:.2f}, KL {bound.kl:.2f})"
        )
        if args.k and not config.convolutional:
            sync(device)
            start = time.perf_counter()
            iw = iw_estimate(loaded.model, x, args.k, c=c)
            sync(device)
            seconds = time.perf_counter() - start
            print(
                f"  IWAE k={args.k} over {len(x):,} test images: {iw.mean:.2f} ± "
                f"{iw.standard_error:.2f} nats/example in {seconds:.1f} s"
            )


if __name__ == "__main__":
    main()
