"""Load a dataset as uint8 images and integer labels, verified.

Every file is checked twice: its structure by the IDX reader (magic number,
dtype, dimensions, exact size) and its identity by SHA-256 against the published
value. A file whose checksum disagrees is not used.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_numpy.data.catalog import DATASETS, SPLIT_FILES, CsvDataset, IdxDataset, RemoteFile
from vae_numpy.data.idx import decompress, parse_idx
from vae_numpy.data.sources import locate
from vae_numpy.errors import DataError

IMAGE_SIDE = 28
CSV_SPLIT_SEED = 0  # the fixed seed of mnist-5k's stratified test split


@dataclass(frozen=True)
class FileCheck:
    path: Path
    sha256: str  # of the file as it is on disk
    verified_by: str  # "published archive", "recorded content" or "structure only"


@dataclass(frozen=True)
class RawDataset:
    name: str
    classes: tuple[str, ...]
    train_images: np.ndarray  # (N, 28, 28) uint8
    train_labels: np.ndarray  # (N,) int64
    test_images: np.ndarray  # (M, 28, 28) uint8
    test_labels: np.ndarray  # (M,) int64
    origin: str  # where the lookup found it
    files: tuple[FileCheck, ...]


def dataset_spec(name: str) -> IdxDataset | CsvDataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(
            f"unknown dataset {name!r}; choose one of: {', '.join(sorted(DATASETS))}"
        ) from None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_verified(path: Path, remote: RemoteFile) -> tuple[np.ndarray, FileCheck]:
    """Parse one IDX file and check it against the published checksums."""
    raw = path.read_bytes()
    digest = _sha256(raw)
    content = decompress(raw, str(path))
    if digest == remote.sha256:
        verified_by = "published archive"
    elif remote.content_sha256 is None:
        verified_by = "structure only"
    elif _sha256(content) == remote.content_sha256:
        verified_by = "recorded content"
    else:
        raise DataError(
            f"{path}: SHA-256 mismatch with the published {remote.name} "
            f"(content {_sha256(content)}, expected {remote.content_sha256}); "
            "the file was not used: replace it with a good copy"
        )
    return parse_idx(content, str(path)), FileCheck(path, digest, verified_by)


def _check_pair(images: np.ndarray, labels: np.ndarray, n_classes: int, where: str) -> None:
    if images.dtype != np.uint8 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(
            f"{where}: expected uint8 images of shape (N, 28, 28), got {images.dtype} "
            f"{images.shape}"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(
            f"{where}: the label file has {labels.shape[0]} labels for {len(images)} images; "
            "the two files do not belong together"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise DataError(f"{where}: labels must lie in 0..{n_classes - 1}")


def _load_idx(spec: IdxDataset, located) -> RawDataset:
    arrays, checks = {}, []
    for key in SPLIT_FILES:
        arrays[key], check = read_verified(located.paths[key], spec.files[key])
        checks.append(check)
    for split in ("train", "test"):
        _check_pair(
            arrays[f"{split}_images"],
            arrays[f"{split}_labels"],
            len(spec.classes),
            f"{spec.name} {split}",
        )
    return RawDataset(
        name=spec.name,
        classes=spec.classes,
        train_images=arrays["train_images"],
        train_labels=arrays["train_labels"].astype(np.int64),
        test_images=arrays["test_images"],
        test_labels=arrays["test_labels"].astype(np.int64),
        origin=located.origin,
        files=tuple(checks),
    )


def _load_csv(spec: CsvDataset, located) -> RawDataset:
    path = located.paths["csv"]
    raw = path.read_bytes()
    content = decompress(raw, str(path))
    if _sha256(content) != spec.content_sha256:
        raise DataError(
            f"{path}: SHA-256 mismatch (content {_sha256(content)}, expected "
            f"{spec.content_sha256}); the file was not used: reinstall {spec.package}"
        )
    table = np.loadtxt(content.decode().splitlines(), delimiter=",", dtype=np.int64)
    images = table[:, :-1].astype(np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    labels = table[:, -1]
    _check_pair(images, labels, len(spec.classes), spec.name)
    rng = np.random.default_rng(CSV_SPLIT_SEED)
    test = np.sort(
        np.concatenate(
            [
                rng.choice(np.flatnonzero(labels == c), spec.n_test_per_class, replace=False)
                for c in range(len(spec.classes))
            ]
        )
    )
    train = np.setdiff1d(np.arange(len(labels)), test)
    return RawDataset(
        name=spec.name,
        classes=spec.classes,
        train_images=images[train],
        train_labels=labels[train],
        test_images=images[test],
        test_labels=labels[test],
        origin=located.origin,
        files=(FileCheck(path, _sha256(raw), "recorded content"),),
    )


def load_raw(
    name: str,
    data_dir: Path | None = None,
    allow_download: bool | None = None,
    progress: bool = True,
) -> RawDataset:
    """Find, verify and read a dataset (see ``sources`` for the lookup order)."""
    spec = dataset_spec(name)
    located = locate(spec, data_dir, allow_download, progress=progress)
    if isinstance(spec, CsvDataset):
        return _load_csv(spec, located)
    return _load_idx(spec, located)
