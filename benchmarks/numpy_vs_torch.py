"""One epoch of the numpy VAE against the torch backend's same model, in one run.

Fashion-MNIST (60,000 training images, grey levels), a 784-400-20 MLP VAE with the
Bernoulli likelihood, batch 128, Adam (lr 1e-3), float32, on the CPU. Both
backends start from the same weights (numpy's initialisation, converted) and see
the same batches in the same order; each draws its own noise. Prints the epoch
times, their ratio, and the test ELBO of both after the same number of epochs.

    .venv/bin/python benchmarks/numpy_vs_torch.py [--epochs 10] [--threads 2]

The torch loop is the way ``vae_torch.training`` trains (chapter 7 of the notes, "The
training loop"), the good baseline: the whole dataset in one tensor, batches by
indexing, BCE from logits, fused Adam.
"""

import argparse
import os
import time

import numpy as np
import torch
from common import machine

from vae_numpy.architecture import MLPConfig
from vae_numpy.data import load_dataset
from vae_numpy.data.pixels import scale
from vae_numpy.model import MLPVAE
from vae_numpy.optim import Adam
from vae_numpy.run.options import QUIET
from vae_numpy.run.records import EVAL_NOISE_SEED
from vae_numpy.train import evaluate
from vae_torch.convert import to_numpy, to_torch


def numpy_epoch(model, optimizer, x, order, batch, rng):
    for i in range(0, len(x), batch):
        xb = x[order[i : i + batch]]
        eps = rng.standard_normal((len(xb), model.config.latent_dim), dtype=np.float32)
        _, cache = model.loss(xb, eps)
        optimizer.step(model.backward(cache))


def torch_epoch(model, optimizer, x, order, batch, generator):
    for idx in order.split(batch):
        xb = x[idx]
        eps = torch.randn(len(idx), model.config.latent_dim, generator=generator)
        loss, _, _ = model.loss(xb, eps)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    raw = load_dataset("fashion-mnist", QUIET)
    x_train = scale(raw.train_images.reshape(len(raw.train_images), -1))
    x_test = scale(raw.test_images.reshape(len(raw.test_images), -1))
    config = MLPConfig(x_dim=784, hidden=(400,), latent_dim=20, likelihood="bernoulli")
    np_model = MLPVAE.init(config, np.random.default_rng(0), np.float32)
    torch_model = to_torch(np_model)
    np_opt = Adam(np_model.params, lr=1e-3)
    torch_opt = torch.optim.Adam(torch_model.parameters(), lr=1e-3, fused=True)
    x_torch = torch.from_numpy(x_train)
    rng, generator = np.random.default_rng(1), torch.Generator().manual_seed(1)

    print(f"machine: {machine()}, numpy {np.__version__}")
    print(f"Fashion-MNIST train {x_train.shape}, 784-400-20, batch {args.batch}, float32")
    print(f"{'epoch':>5} {'numpy s':>9} {'torch s':>9} {'ratio':>7}")
    ratios = []
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(x_train))
        t0 = time.perf_counter()
        numpy_epoch(np_model, np_opt, x_train, order, args.batch, rng)
        t1 = time.perf_counter()
        torch_epoch(torch_model, torch_opt, x_torch, torch.from_numpy(order), args.batch, generator)
        t2 = time.perf_counter()
        ratios.append((t1 - t0) / (t2 - t1))
        print(f"{epoch:>5} {t1 - t0:>9.2f} {t2 - t1:>9.2f} {ratios[-1]:>7.2f}")
    median = float(np.median(ratios))
    print(f"numpy / torch epoch time: median ratio {median:.2f} (target <= 1.25)")

    with torch.no_grad():
        torch_as_numpy = to_numpy(torch_model)
    np_test = evaluate(np_model, x_test)
    torch_test = evaluate(torch_as_numpy, x_test)
    print(f"test ELBO after {args.epochs} epochs (nats/example, noise seed {EVAL_NOISE_SEED}):")
    print(
        f"  numpy {np_test.elbo:9.2f}  torch {torch_test.elbo:9.2f}  "
        f"difference {abs(np_test.elbo - torch_test.elbo):.2f} (target <= 1)"
    )


if __name__ == "__main__":
    main()
