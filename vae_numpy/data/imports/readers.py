"""The sources an import reads: a folder of image files, an array file, an IDX pair."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_numpy.data.idx import read_idx
from vae_numpy.data.imports.settings import IMAGE_SUFFIXES, ImportSettings
from vae_numpy.run.errors import DataError


@dataclass(frozen=True)
class Source:
    """Images to import, listed but not yet read: ``len`` of them, with their labels."""

    path: Path
    kind: str  # "folder", "array" or "idx"
    classes: tuple[str, ...]
    labels: np.ndarray  # (N,) int64, -1 throughout without classes
    files: tuple[Path, ...] = ()  # a folder's image files, in order
    hidden: tuple[Path, ...] = ()  # a folder's hidden sub-folders and image files, skipped
    array: np.ndarray | None = None  # an array source's images (N, H, W[, C]), memory-mapped

    def __len__(self) -> int:
        return len(self.labels)


def open_source(path: Path, settings: ImportSettings, classes=None) -> Source:
    """The source at ``path``, by its kind; ``classes`` fixes the class names (a test
    source must have those of its training source)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path} does not exist; give a folder of images, an .npy/.npz or IDX")
    if path.is_dir():
        return folder_source(path, classes)
    if path.suffix in (".npy", ".npz"):
        return array_source(path, settings.labels if classes is None else None)
    if "idx" in path.name:
        return idx_source(path, settings.labels if classes is None else None)
    raise DataError(
        f"{path}: not a folder, an .npy / .npz array or an IDX file (a name with 'idx'); "
        "give one of those"
    )


def is_image_file(entry: Path) -> bool:
    """An image file by its name, or a link to one that is gone (listed as unreadable)."""
    if entry.suffix.lower() not in IMAGE_SUFFIXES or entry.is_dir():
        return False
    return entry.is_file() or entry.is_symlink()


def visible(folder: Path, hidden: list[Path]) -> list[Path]:
    """The entries of ``folder``, sorted, but for hidden ones (a name that starts with
    '.': .git, .ipynb_checkpoints, macOS's ._photo.png), which are never classes or
    images; the hidden folders and image files are added to ``hidden``."""
    entries = []
    for entry in sorted(folder.iterdir()):
        if not entry.name.startswith("."):
            entries.append(entry)
        elif entry.is_dir() or is_image_file(entry):
            hidden.append(entry)
    return entries


def image_files(folder: Path, seen: set[Path], hidden: list[Path]) -> Iterator[Path]:
    """Image files under ``folder``, sorted, following links to folders but never in a
    loop; hidden entries are skipped into ``hidden``."""
    real = folder.resolve()
    if real in seen:
        raise DataError(f"{folder}: a symlink loop (it leads back to {real}); remove the link")
    seen = seen | {real}
    for entry in visible(folder, hidden):
        if entry.is_dir():
            yield from image_files(entry, seen, hidden)
        elif is_image_file(entry):
            yield entry


def folder_source(root: Path, classes=None) -> Source:
    """A flat folder (no classes) or one sub-folder per class; hidden entries skipped,
    and a class folder whose name is only spaces refused."""
    hidden: list[Path] = []
    entries = visible(root, hidden)
    folders = [e for e in entries if e.is_dir()]
    if blank := [f.name for f in folders if not f.name.strip()]:
        raise DataError(
            f"{root}: a class folder named {blank[0]!r} (only spaces) is no class name; "
            "rename it to the class it holds"
        )
    top = [e for e in entries if is_image_file(e)]
    if folders and top:
        raise DataError(
            f"{root}: holds both images and sub-folders; put every image in a class "
            f"sub-folder, or all of them directly in {root} for a dataset without classes"
        )
    if not folders:
        if not top:
            raise DataError(
                f"{root}: no image files ({', '.join(IMAGE_SUFFIXES)}) in it; "
                "point to the folder that holds them"
            )
        if classes:
            raise DataError(f"{root}: the test images need the class sub-folders of training")
        labels = np.full(len(top), -1, np.int64)
        return Source(root, "folder", (), labels, tuple(top), tuple(hidden))
    names = tuple(f.name for f in folders)
    if classes is not None and names != tuple(classes):
        raise DataError(
            f"{root}: its class folders {list(names)} are not those of the training "
            f"images {list(classes)}; give the test images the same class folders"
        )
    if len(names) == 1:
        raise DataError(
            f"{root}: one class only ({names[0]}); a labelled dataset needs two or more class "
            f"sub-folders; for a dataset without classes, give {folders[0]} itself"
        )
    files, labels = [], []
    for label, folder in enumerate(folders):
        found = list(image_files(folder, {root.resolve()}, hidden))
        if not found:
            raise DataError(f"{folder}: the class {folder.name!r} has no image files")
        files += found
        labels += [label] * len(found)
    return Source(root, "folder", names, np.array(labels, np.int64), tuple(files), tuple(hidden))


def array_source(path: Path, labels_path: Path | None) -> Source:
    labels = None
    try:
        if path.suffix == ".npz":
            with np.load(path) as archive:
                keys = list(archive.files)
                key = next((k for k in ("images", "x") if k in keys), keys[0] if keys else None)
                if key is None:
                    raise DataError(f"{path}: an empty .npz; store the images under 'images'")
                images = archive[key]
                label_key = next((k for k in ("labels", "y") if k in keys), None)
                labels = None if label_key is None else archive[label_key]
        else:
            images = np.load(path, mmap_mode="r")
    except (ValueError, OSError, EOFError) as err:
        raise DataError(f"{path}: not a readable numpy file ({err})") from None
    if labels_path is not None:
        labels = load_labels(Path(labels_path))
    if images.dtype != np.uint8:
        raise DataError(
            f"{path}: images must be uint8 (0..255), got {images.dtype}; convert them, "
            "e.g. (x * 255).round().astype(np.uint8) for floats in [0, 1]"
        )
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[3] not in (1, 3)):
        raise DataError(
            f"{path}: images must be (N, H, W) or (N, H, W, C) with C 1 or 3, got shape "
            f"{images.shape}"
        )
    return labelled_array(path, "array", images, labels)


def idx_source(path: Path, labels_path: Path | None) -> Source:
    images = read_idx(path)
    labels = None if labels_path is None else load_labels(Path(labels_path))
    if images.dtype != np.uint8 or images.ndim != 3:
        raise DataError(f"{path}: an IDX image file holds uint8 (N, H, W), got {images.shape}")
    return labelled_array(path, "idx", images, labels)


def load_labels(path: Path) -> np.ndarray:
    if not path.is_file():
        raise DataError(f"--labels {path} does not exist")
    if "idx" in path.name:
        return read_idx(path)
    try:
        return np.load(path)
    except (ValueError, OSError, EOFError) as err:
        raise DataError(f"--labels {path}: not a readable .npy file ({err})") from None


def labelled_array(path: Path, kind: str, images: np.ndarray, labels) -> Source:
    if labels is None:
        return Source(path, kind, (), np.full(len(images), -1, np.int64), array=images)
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(
            f"{path}: {labels.shape[0] if labels.ndim else 0} labels for {len(images)} images; "
            "give one integer label per image"
        )
    if not np.issubdtype(labels.dtype, np.integer) or (labels.size and labels.min() < 0):
        raise DataError(f"{path}: labels must be integers >= 0, got {labels.dtype}")
    n_classes = int(labels.max()) + 1 if labels.size else 0
    if n_classes < 2:
        raise DataError(f"{path}: one class only; a labelled dataset needs two or more classes")
    classes = tuple(str(c) for c in range(n_classes))
    return Source(path, kind, classes, labels.astype(np.int64), array=images)
