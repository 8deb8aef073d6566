"""The run folder that ``vae train`` writes, the same for both backends; this module
alone knows its file names.

    RUN/config.json                  the TrainConfig, plus versions and the machine
    RUN/history.json                 one record per finished epoch (records.epoch_record)
    RUN/model.npz                    numpy backend: the parameters after the last good epoch
    RUN/model-best.npz               numpy backend: those of the best validation ELBO so far
    RUN/checkpoint.pt                torch backend: model, optimizer, epoch, history, config
    RUN/best.pt                      torch backend: the same at the best validation ELBO
    RUN/evaluation-SPLIT-WHICH-kK.json  ``vae evaluate``: ELBO, IWAE_k and more of a split,
                                     of the best or the last checkpoint
    RUN/figures/                     ``vae figures`` and ``vae sample``

Every file is written through ``atomic_path``: a crash leaves the previous version.
"""

import json
import os
import platform
import sys
from pathlib import Path

import numpy

from vae_numpy.run.config import TrainConfig
from vae_numpy.run.errors import VaeError
from vae_numpy.run.io import write_json

CHECKPOINTS = ("best", "last")  # which parameters of a run a command uses


def environment() -> dict[str, str]:
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
        self.best_parameters = self.path / "model-best.npz"
        self.checkpoint = self.path / "checkpoint.pt"
        self.best_checkpoint = self.path / "best.pt"
        self.figures = self.path / "figures"

    def __str__(self) -> str:
        return str(self.path)

    def evaluation(self, split: str, k: int, which: str = "best", limit: int | None = None) -> Path:
        """Where an evaluation is written; one of a subset of the split is named apart,
        so that it is never read back as the whole split's."""
        subset = f"-n{limit}" if limit is not None else ""
        return self.path / f"evaluation-{split}-{which}-k{k}{subset}.json"

    def model_file(self, backend: str, which: str) -> Path:
        """The parameters a backend keeps: of the ``which`` = "best" or "last" epoch."""
        if which not in CHECKPOINTS:
            raise VaeError(f"--checkpoint must be best or last, got {which!r}")
        if backend == "numpy":
            return self.best_parameters if which == "best" else self.parameters
        return self.best_checkpoint if which == "best" else self.checkpoint

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
            "config": config.record(),
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
            TrainConfig.from_record(record["config"])
        except FileNotFoundError:
            raise VaeError(f"{self.path} is not a run folder: it has no config.json") from None
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise VaeError(f"{self.config_file} is not a run's config ({err})") from None
        return record

    def config(self) -> TrainConfig:
        return TrainConfig.from_record(self.record()["config"])

    def environment(self) -> dict:
        return self.record()["environment"]

    def history(self) -> list[dict]:
        """The finished epochs' records; [] before the first."""
        if not self.history_file.is_file():
            return []
        return json.loads(self.history_file.read_text())

    def judged_evaluation(self, epochs: int, which: str = "best") -> dict | None:
        """The newest test evaluation of the ``which`` checkpoint in the folder that judged
        samples, of the whole test split and of the run as it is now (same number of
        epochs): the record whose numbers the figures of samples quote."""
        found = []
        for path in self.path.glob(f"evaluation-test-{which}-k*.json"):
            if not path.stem.removeprefix(f"evaluation-test-{which}-k").isdigit():
                continue  # a --limit subset (...-kK-nN) is not the run's record
            try:
                result = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError):
                continue
            if result.get("epochs_trained") == epochs and result.get("sample_quality"):
                found.append((path.stat().st_mtime, path.name, result | {"path": str(path)}))
        return max(found)[2] if found else None

    def cached_evaluation(
        self, k: int, epochs: int, which: str = "best", samples: int | None = None
    ) -> dict | None:
        """The test evaluation with this k of the ``which`` checkpoint already in the
        folder, if it is of the run as it is now (same number of epochs) and measured
        at least ``samples`` samples."""
        path = self.evaluation("test", k, which)
        try:
            result = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if result.get("epochs_trained") != epochs or "iwae" not in result:
            return None
        if samples and result.get("sample_quality", {}).get("samples") != samples:
            return None
        return result | {"path": str(path)}
