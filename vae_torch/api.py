"""The Python interface: what a program that trains and uses VAEs imports.

    from vae_torch import TrainConfig, evaluate, load_run, train

    run = train(TrainConfig(dataset="mnist-5k", model="conv", latent_dim=8), "runs/conv")
    model = run.model                      # a torch.nn.Module, in eval mode
    mu, log_var = model.encode(x)          # q(z|x) of images x (B, C, H, W) or (B, C·H·W)
    images = model.decode(mu)              # E[x|z]
    fresh = model.sample(16)               # E[x|z], z ~ N(0, I)
    again = model.reconstruct(x)           # E[x|z] at z = mu(x)
    log_px = model.iwae(x, k=100)          # importance-weighted estimate of log p(x)
    record = evaluate("runs/conv", samples=1000)

The names in ``vae_torch.__all__`` and ``vae_numpy.__all__`` are the public surface,
documented in the API reference of the notes; everything else in the package may
change without notice.
"""

from collections.abc import Mapping
from pathlib import Path

from vae_numpy.run.config import TrainConfig
from vae_numpy.run.options import DEFAULTS, Options
from vae_numpy.train import train_numpy
from vae_torch.checkpoint import LoadedRun, load_run
from vae_torch.device import resolve_device
from vae_torch.training import train_torch


def train(config: TrainConfig | Mapping, out: str | Path, options: Options = DEFAULTS) -> LoadedRun:
    """Train a new run into the folder ``out`` (which must not hold a run yet) and
    return it loaded with its best checkpoint.

    ``config`` is a ``TrainConfig`` or a mapping of its fields (the flags of
    ``vae train``); its ``backend`` picks the trainer: "torch" (CPU or GPU) or
    "numpy" (the hand-written reference, MLP only). ``vae train`` calls this.
    """
    if isinstance(config, Mapping):
        config = TrainConfig.from_flags(**config)
    trainer = train_numpy if config.backend == "numpy" else train_torch
    trainer(config, Path(out), options=options)
    return load_run(out, resolve_device(options.device or config.device))
