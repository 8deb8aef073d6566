"""The run folder that ``vae train`` writes, the same for both backends; this module
alone knows its file names.

    RUN/config.json                  the TrainConfig, plus versions and the machine
    RUN/history.json                 one record per finished epoch (records.epoch_record)
    RUN/model.npz                    numpy backend: the parameters after the last good epoch
    RUN/checkpoint.pt                torch backend: model, optimizer, epoch, history, config
    RUN/evaluation-SPLIT-kK.json     ``vae evaluate``: the ELBO and IWAE_k of a split
    RUN/figures/                     ``vae figures`` and ``vae sample``

Every file is written through ``atomic_path``: a crash leaves the previous version.
"""

import dataclasses
import json
import os
import platform
import sys
from pathlib import Path

from vae_numpy.run.config import TrainConfig
from vae_numpy.run.errors import VaeError
from vae_numpy.run.io import write_json


def environment() -> dict[str, str]:
    import numpy

    return {
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
    }


class RunFolder:
    """The folder of one training run: its files' paths, and reading and writing them."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.config_file = self.path / "config.json"
        self.history_file = self.path / "history.json"
        self.parameters = self.path / "model.npz"
        self.checkpoint = self.path / "checkpoint.pt"
        self.figures = self.path / "figures"

    def __str__(self) -> str:
        return str(self.path)

    def evaluation(self, split: str, k: int) -> Path:
        return self.path / f"evaluation-{split}-k{k}.json"

    # -- writing ------------------------------------------------------------------------

    def create(self, config: TrainConfig, extra: dict | None = None) -> None:
        """Make the folder and write config.json; refuses to overwrite another run."""
        if self.path.is_file():
            raise VaeError(f"--out {self.path} is a file; give a folder for the run")
        if self.history_file.exists():
            raise VaeError(
                f"{self.path} already holds a run; continue it with --resume {self.path} "
                "(torch runs), choose another --out, or delete that folder first"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        record = {
            "config": dataclasses.asdict(config),
            "environment": environment() | (extra or {}),
        }
        write_json(self.config_file, record)

    def write_history(self, history: list[dict]) -> None:
        write_json(self.history_file, history)

    # -- reading ------------------------------------------------------------------------

    def record(self) -> dict:
        """config.json as written: {"config": ..., "environment": ...}."""
        if not self.path.is_dir():
            raise VaeError(f"{self.path}: no such run folder")
        try:
            record = json.loads(self.config_file.read_text())
            TrainConfig(**record["config"])
        except FileNotFoundError:
            raise VaeError(f"{self.path} is not a run folder: it has no config.json") from None
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise VaeError(f"{self.config_file} is not a run's config ({err})") from None
        return record

    def config(self) -> TrainConfig:
        return TrainConfig(**self.record()["config"])

    def environment(self) -> dict:
        return self.record()["environment"]

    def history(self) -> list[dict]:
        """The finished epochs' records; [] before the first."""
        if not self.history_file.is_file():
            return []
        return json.loads(self.history_file.read_text())

    def cached_evaluation(self, k: int, epochs: int) -> dict | None:
        """The test evaluation with this k already in the folder, if it is of the model
        as it is now (same number of epochs)."""
        path = self.evaluation("test", k)
        try:
            result = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if result.get("epochs_trained") != epochs or "iwae" not in result:
            return None
        return result | {"path": str(path)}
