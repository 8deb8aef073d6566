"""A tiny synthetic dataset in the IDX format, registered as ``tiny`` for the tests.

Its published checksums are those of the files the fixture writes, so the whole
lookup / verify / download path runs on it exactly as on the real datasets.
"""

import dataclasses
import gzip
import hashlib

import numpy as np
import pytest

from vae_numpy.data import catalog
from vae_numpy.data.catalog import SPLIT_FILES, IdxDataset, RemoteFile
from vae_numpy.data.idx import encode_idx

N_TRAIN, N_TEST, N_CLASSES = 30, 20, 3


def tiny_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
        "train_labels": np.arange(N_TRAIN, dtype=np.uint8) % N_CLASSES,
        "test_images": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "test_labels": np.arange(N_TEST, dtype=np.uint8) % N_CLASSES,
    }


def gz_bytes(array: np.ndarray) -> bytes:
    return gzip.compress(encode_idx(array), mtime=0)


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """The ``tiny`` dataset: its spec, its files in tmp_path/'source', an empty cache."""
    arrays = tiny_arrays()
    source = tmp_path / "source"
    source.mkdir()
    files = {}
    for key in SPLIT_FILES:
        name = catalog.MNIST.files[key].name
        data = gz_bytes(arrays[key])
        (source / name).write_bytes(data)
        files[key] = RemoteFile(
            name,
            hashlib.sha256(data).hexdigest(),
            hashlib.sha256(encode_idx(arrays[key])).hexdigest(),
        )
    spec = IdxDataset(
        name="tiny",
        classes=("a", "b", "c"),
        files=files,
        mirrors=(),
        system_dir=None,
        system_hint="there is no system package for tiny",
    )
    monkeypatch.setitem(catalog.DATASETS, "tiny", spec)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    monkeypatch.delenv("VAE_ALLOW_DOWNLOAD", raising=False)
    monkeypatch.delenv("VAE_DATA_MIRROR", raising=False)
    return dataclasses.make_dataclass("Tiny", ["spec", "source", "arrays"])(spec, source, arrays)
