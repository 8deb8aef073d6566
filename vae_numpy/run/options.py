"""How a command runs, as opposed to what it computes (that is ``TrainConfig``)."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Options:
    """Where data is found, whether it may be downloaded, whether progress is shown,
    and the device; one object through every command instead of four arguments."""

    data_dir: Path | None = None  # a folder holding the dataset's files (--data-dir)
    allow_download: bool | None = None  # None: as $VAE_ALLOW_DOWNLOAD says
    progress: bool = True  # progress bars and per-epoch lines
    device: str | None = None  # auto | cpu | cuda; None: the run's own device, else auto


DEFAULTS = Options()
QUIET = Options(progress=False)
