"""What a dataset is to the package: a registered entry that finds and reads its files.

A ``Dataset`` entry names its files (``file_names``, and another layout of the same
data it accepts: ``packed_files``), the places a system or a Python package installs
them (``places``), the files that may be downloaded and
their checksums (``remote_files``), and reads what the lookup found into a
``RawDataset`` (``read``). The lookup order, the download and the checks of
``sources`` are the same for every entry. The image shape (C, H, W) is read off
the data, never typed: ``RawDataset.image_shape``.
"""

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_numpy.run.errors import DataError


@dataclass(frozen=True)
class FileCheck:
    path: Path
    sha256: str  # of the file as it is on disk
    verified_by: str  # "published archive", "recorded content" or "structure only"


@dataclass(frozen=True)
class RemoteFile:
    name: str  # as on the mirrors, e.g. "train-images-idx3-ubyte.gz"
    sha256: str  # of the file as served (gzip)
    content_sha256: str | None  # of the decompressed bytes; None where not known


@dataclass(frozen=True)
class RawDataset:
    """A dataset as loaded: uint8 images (N, C, H, W) and int64 labels of the train and
    test splits (labels -1 throughout where it has no ``classes``), where it was found
    (``origin``) and the checksums its files were verified by (``files``)."""

    name: str
    classes: tuple[str, ...]
    train_images: np.ndarray  # (N, C, H, W) uint8
    train_labels: np.ndarray  # (N,) int64; -1 each where the dataset has no classes
    test_images: np.ndarray  # (M, C, H, W) uint8
    test_labels: np.ndarray  # (M,) int64
    origin: str  # where the lookup found it
    files: tuple[FileCheck, ...]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image, from the arrays."""
        return tuple(self.train_images.shape[1:])

    @property
    def labelled(self) -> bool:
        """Whether the images carry class labels (an imported flat folder does not)."""
        return bool(self.classes)


class Dataset(ABC):
    """The interface of a catalog entry; see the module docstring."""

    name: str
    classes: tuple[str, ...]
    system_hint: str  # how to get it without a download
    mirrors: tuple[str, ...]  # base URLs of a download, tried in order (with remote_files)

    @abstractmethod
    def file_names(self) -> dict[str, str]:
        """Its files by key, as published (a name ending in .gz may also be found
        decompressed, without the suffix)."""

    def packed_files(self) -> dict[str, str]:
        """The same data in another layout the lookup also accepts, e.g. one pickle of
        every split; {} (the default): none. ``read`` is given whichever layout it found."""
        return {}

    def places(self) -> list[tuple[str, Path]]:
        """(origin, folder) where a system or Python package installs the files."""
        return []

    def remote_files(self) -> dict[str, RemoteFile]:
        """The files a download fetches, with their checksums; {} if it cannot be
        downloaded."""
        return {}

    def find(self, options) -> tuple[dict[str, Path], str] | None:
        """Its files and where they were found, for a dataset that knows its own folder
        (an import); None (the default): the lookup of ``vae_numpy.data.sources``, in its
        order (``options``: a ``vae_numpy.run.options.Options``)."""
        return None

    @abstractmethod
    def read(self, paths: dict[str, Path], origin: str) -> RawDataset:
        """The dataset, read from the files the lookup found (``origin`` says where)."""


DATASETS: dict[str, Dataset] = {}


def register_dataset(entry: Dataset) -> Dataset:
    """Make ``entry`` a dataset the package knows, by ``entry.name``."""
    DATASETS[entry.name] = entry
    return entry


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_pair(images: np.ndarray, labels: np.ndarray, n_classes: int, where: str) -> None:
    """Images are uint8 (N, C, H, W) with one label in 0..n_classes-1 each (-1 each for a
    dataset without classes)."""
    if images.dtype != np.uint8 or images.ndim != 4 or 0 in images.shape[1:]:
        raise DataError(
            f"{where}: expected uint8 images of shape (N, C, H, W), got {images.dtype} "
            f"{images.shape}"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(
            f"{where}: the label file has {labels.shape[0]} labels for {len(images)} images; "
            "the two files do not belong together"
        )
    if n_classes == 0:
        if labels.size and (labels != -1).any():
            raise DataError(f"{where}: a dataset without classes has the label -1 throughout")
    elif labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise DataError(f"{where}: labels must lie in 0..{n_classes - 1}")


def check_splits(raw: RawDataset) -> RawDataset:
    """Both splits well formed, and of the same image shape."""
    for split in ("train", "test"):
        images, labels = getattr(raw, f"{split}_images"), getattr(raw, f"{split}_labels")
        check_pair(images, labels, len(raw.classes), f"{raw.name} {split}")
    if raw.train_images.shape[1:] != raw.test_images.shape[1:]:
        raise DataError(
            f"{raw.name}: training images are {raw.train_images.shape[1:]} and test images "
            f"{raw.test_images.shape[1:]}; both splits need one image shape"
        )
    return raw
