"""What an import is asked to do (``ImportSettings``), what it converted, and where imports live."""

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from vae_numpy.data.sources import cache_root
from vae_numpy.run.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif")
MANIFEST = "manifest.json"
FILES = {
    "train_images": "train-images.npy",
    "train_labels": "train-labels.npy",
    "test_images": "test-images.npy",
    "test_labels": "test-labels.npy",
}
FORMAT = 2  # of the folder's layout; part of the manifest (2: the manifest checksums itself)
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")
FITS = ("resize", "crop")
CHUNK = 4096  # images copied at a time between memory-mapped files
LISTED = 10  # bad files named in an error, at most
GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def memory_bytes() -> int:
    """The machine's physical memory: training holds a whole dataset in it, as float32."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def shown_bytes(n: float) -> str:
    """1234567 -> '1.2 MB' (powers of 1000)."""
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError


def imports_root() -> Path:
    """Where ``vae data import`` writes by default: beside the downloaded datasets."""
    return cache_root().parent / "imports"


@dataclass(frozen=True)
class ImportSettings:
    """How the images become one dataset (the flags of ``vae data import``).

    ``size``: (H, W) for every image, None to keep theirs (which must then agree);
    ``fit``: "resize" stretches to H x W, "crop" scales to cover and cuts the centre;
    ``channels``: 1 or 3, None for 3 when any image has colour; ``test_fraction`` of
    each class held out with ``seed``, or the images of ``test_source``; ``labels``:
    the labels file of an .npy or IDX source; ``skip_bad``: import around unreadable
    files instead of refusing."""

    size: tuple[int, int] | None = None  # (H, W); None: the images' own, which must agree
    fit: str = "resize"  # or "crop"
    channels: int | None = None  # 1 or 3; None: 3 when any image has colour
    test_fraction: float = 0.1
    test_source: Path | None = None
    labels: Path | None = None  # the labels of an array or IDX source
    seed: int = 0
    skip_bad: bool = False

    def __post_init__(self):
        if self.size is not None and (len(self.size) != 2 or min(self.size) < 1):
            raise DataError(f"--size takes a height and a width >= 1, got {self.size}")
        if self.fit not in FITS:
            raise DataError(f"--fit must be one of {', '.join(FITS)}, got {self.fit!r}")
        if self.channels not in (None, 1, 3):
            raise DataError(f"--channels must be 1 (grey) or 3 (RGB), got {self.channels}")
        if self.test_source is None and not 0 < self.test_fraction < 1:
            raise DataError(
                f"--test-fraction must lie strictly between 0 and 1, got {self.test_fraction}"
            )


@dataclass
class Conversions:
    """What was done to which images, counted for the report and the manifest."""

    counts: Counter = field(default_factory=Counter)

    def add(self, what: str) -> None:
        self.counts[what] += 1
