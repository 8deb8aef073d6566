"""The dataset lookup order, checksum verification and the errors of bad input."""

import gzip

import numpy as np
import pytest

from vae_numpy.data import load_dataset
from vae_numpy.data.catalog import DATASETS
from vae_numpy.data.idx import encode_idx
from vae_numpy.data.sources import cache_root
from vae_numpy.run.errors import DataError
from vae_numpy.run.options import Options


def copy_files(source, target):
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        (target / path.name).write_bytes(path.read_bytes())


def test_explicit_dir_is_read_and_verified_against_the_published_archive(tiny):
    raw = load_dataset("tiny", Options(data_dir=tiny.source))
    np.testing.assert_array_equal(raw.train_images[:, 0], tiny.arrays["train_images"])
    np.testing.assert_array_equal(raw.test_labels, tiny.arrays["test_labels"])
    assert raw.origin.startswith("--data-dir")
    assert {f.verified_by for f in raw.files} == {"published archive"}


def test_decompressed_files_are_verified_by_their_content(tiny, tmp_path):
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    for path in tiny.source.iterdir():
        (raw_dir / path.name.removesuffix(".gz")).write_bytes(gzip.decompress(path.read_bytes()))
    raw = load_dataset("tiny", Options(data_dir=raw_dir))
    assert {f.verified_by for f in raw.files} == {"recorded content"}


def test_dataset_subfolder_of_a_data_dir_is_found(tiny, tmp_path):
    copy_files(tiny.source, tmp_path / "root" / "tiny")
    assert load_dataset("tiny", Options(data_dir=tmp_path / "root")).origin.startswith("--data-dir")


def test_env_dir_comes_before_the_cache(tiny, tmp_path, monkeypatch):
    copy_files(tiny.source, cache_root() / "tiny")
    monkeypatch.setenv("VAE_DATA_DIR", str(tiny.source))
    assert load_dataset("tiny").origin.startswith("VAE_DATA_DIR=")
    monkeypatch.delenv("VAE_DATA_DIR")
    assert load_dataset("tiny").origin.startswith("user cache")


def test_system_dir_comes_before_the_cache(tiny, monkeypatch):
    import dataclasses

    copy_files(tiny.source, cache_root() / "tiny")
    monkeypatch.setitem(DATASETS, "tiny", dataclasses.replace(tiny.spec, system_dir=tiny.source))
    assert load_dataset("tiny").origin.startswith("system package")


def test_missing_dataset_error_names_every_way_to_get_it(tiny):
    with pytest.raises(DataError) as info:
        load_dataset("tiny")
    message = str(info.value)
    for way in ("--data-dir", "VAE_DATA_DIR", "no system package", str(cache_root()), "--download"):
        assert way in message, f"{way!r} missing from: {message}"


def test_explicit_dir_without_the_files_is_an_error_not_a_fallback(tiny, tmp_path):
    copy_files(tiny.source, cache_root() / "tiny")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="does not hold dataset 'tiny'"):
        load_dataset("tiny", Options(data_dir=tmp_path / "empty"))


def test_data_dir_that_is_a_file_is_an_error(tiny, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(DataError, match="is a file, not a directory"):
        load_dataset("tiny", Options(data_dir=tmp_path / "file"))


def test_unknown_dataset_name_lists_the_known_ones():
    with pytest.raises(
        DataError, match="unknown dataset 'cifar'; choose one of: cifar10, fashion-mnist"
    ):
        load_dataset("cifar")


def test_checksum_mismatch_is_refused(tiny):
    images = tiny.arrays["train_images"].copy()
    images[0, 0, 0] ^= 1  # one bit differs: valid IDX, wrong data
    name = tiny.spec.files["train_images"].name
    (tiny.source / name).write_bytes(gzip.compress(encode_idx(images)))
    with pytest.raises(DataError, match=r"SHA-256 mismatch.*the file was not used"):
        load_dataset("tiny", Options(data_dir=tiny.source))


def test_label_count_that_differs_from_the_images_is_an_error(tiny, monkeypatch):
    import dataclasses
    import hashlib

    from vae_numpy.data.catalog import RemoteFile

    labels = tiny.arrays["train_labels"][:-1]
    data = gzip.compress(encode_idx(labels))
    name = tiny.spec.files["train_labels"].name
    (tiny.source / name).write_bytes(data)
    files = dict(tiny.spec.files)
    files["train_labels"] = RemoteFile(name, hashlib.sha256(data).hexdigest(), None)
    monkeypatch.setitem(DATASETS, "tiny", dataclasses.replace(tiny.spec, files=files))
    with pytest.raises(DataError, match="29 labels for 30 images"):
        load_dataset("tiny", Options(data_dir=tiny.source))


def test_truncated_gzip_in_a_dataset_is_an_error(tiny):
    name = tiny.spec.files["test_images"].name
    data = (tiny.source / name).read_bytes()
    (tiny.source / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="truncated or corrupt"):
        load_dataset("tiny", Options(data_dir=tiny.source))
