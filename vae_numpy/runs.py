"""The run folder that ``vae train`` writes, the same for both backends.

    RUN/config.json     the TrainConfig, plus versions and the machine
    RUN/history.json    one record per finished epoch (rewritten atomically each epoch)
    RUN/model.npz       numpy backend: the parameters after the last good epoch
    RUN/checkpoint.pt   torch backend: model, optimizer, epoch, history, config

Every file is written through ``atomic_path``: a crash leaves the previous version.
"""

import dataclasses
import json
import platform
import sys
from pathlib import Path

from vae_numpy.config import TrainConfig
from vae_numpy.errors import VaeError
from vae_numpy.io import atomic_path


def write_json(path: Path, data) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")


def environment() -> dict[str, str]:
    import os

    import numpy

    return {
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
    }


def start_run(out: Path, config: TrainConfig, extra: dict | None = None) -> Path:
    """Create the run folder and write config.json; refuses to overwrite another run."""
    out = Path(out)
    if out.is_file():
        raise VaeError(f"--out {out} is a file; give a folder for the run")
    if (out / "history.json").exists():
        raise VaeError(
            f"{out} already holds a run; continue it with --resume {out} (torch runs), "
            "choose another --out, or delete that folder first"
        )
    out.mkdir(parents=True, exist_ok=True)
    record = {"config": dataclasses.asdict(config), "environment": environment() | (extra or {})}
    write_json(out / "config.json", record)
    return out


def write_history(run: Path, history: list[dict]) -> None:
    write_json(Path(run) / "history.json", history)


def epoch_line(record: dict) -> str:
    r = record
    parts = [
        f"{split} ELBO {r[f'{split}_elbo']:9.2f} = log p(x|z) {r[f'{split}_log_px_given_z']:9.2f}"
        f" - KL {r[f'{split}_kl']:6.2f}"
        for split in ("train", "val")
    ]
    return f"epoch {r['epoch']:>3} | " + " | ".join(parts) + f" | {r['seconds']:.1f}s"
