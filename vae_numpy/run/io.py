"""Files written so that a crash never leaves a half-written one under the real name."""

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed onto it only if the block succeeds.

    ``os.replace`` within one directory is atomic on POSIX: a reader sees the old
    file or the new one, never a mixture; a crash leaves at most a stray temp file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)  # mkstemp makes the file 0600; give it the mode open() would
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def stray_temp_files(path: Path) -> list[Path]:
    """The temporary files a kill during ``atomic_path(path)`` may have left."""
    path = Path(path)
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def write_json(path: Path, data) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def folder_beside(path: Path) -> Path:
    """A new empty folder beside ``path`` (hidden, named after it) to write a whole
    folder into before ``replace_folder`` puts it at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    umask = os.umask(0)  # mkdtemp makes the folder 0700; give it the mode mkdir would
    os.umask(umask)
    os.chmod(folder, 0o777 & ~umask)
    return Path(folder)


def replace_folder(new: Path, destination: Path) -> None:
    """Put the complete folder ``new`` at ``destination``: a rename, so a reader sees
    the old folder or the new one, never a mixture."""
    old = None
    if destination.exists():
        old = destination.with_name(f".{destination.name}.{os.getpid()}.old")
        os.rename(destination, old)
    os.rename(new, destination)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
