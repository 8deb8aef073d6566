"""How long ``vae data import`` takes on a folder of PNG files, and how much memory.

    .venv/bin/python benchmarks/import_images.py [--work DIR]

Writes Fashion-MNIST as one PNG per image (``vae data export``: 60,000 + 10,000 files
in class sub-folders), then imports the training folder with the test folder given,
each import in a fresh process so that its peak resident memory is its own. To show
that memory stays bounded, it imports the 10,000 test images alone and the 70,000
together: an import that held the images in memory would grow by about their size
(55 MB for 70,000 28x28 images; 47 MB more than for 10,000).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import cpu_name

MEASURE = """
import resource, sys, time
from vae_numpy.data.imports import ImportSettings, import_dataset
settings = ImportSettings(test_source=None if sys.argv[3] == "-" else sys.argv[3])
start = time.perf_counter()
import_dataset(sys.argv[1], sys.argv[2], settings, to=sys.argv[4], progress=False)
seconds = time.perf_counter() - start
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # kB on Linux
"""


def measure(source: Path, name: str, test: Path | None, to: Path) -> tuple[float, float]:
    """(seconds, peak resident MB) of one import in a fresh Python process."""
    command = [sys.executable, "-c", MEASURE, str(source), name, str(test or "-"), str(to)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="a folder for the PNG files (default: temp)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="vae-import-bench-"))
    print(f"machine: {cpu_name()}, {os.cpu_count()} CPUs")
    png = work / "fashion-png"
    if not png.is_dir():
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "vae_torch", "data", "export", "fashion-mnist", str(png)],
            check=True,
            capture_output=True,
        )
        print(f"export: 70,000 PNG files written in {time.perf_counter() - start:.1f} s")
    to = work / "imports"
    shutil.rmtree(to, ignore_errors=True)
    small = measure(png / "test", "fashion-test", None, to)
    print(f"import of 10,000 PNG files: {small[0]:.1f} s, peak resident memory {small[1]:.0f} MB")
    full = measure(png / "train", "fashion-all", png / "test", to)
    print(f"import of 70,000 PNG files: {full[0]:.1f} s, peak resident memory {full[1]:.0f} MB")
    print(
        f"memory growth for 60,000 more images: {full[1] - small[1]:.0f} MB "
        "(the images themselves: 47 MB)"
    )
    print(f"files per second: {70_000 / full[0]:,.0f}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
