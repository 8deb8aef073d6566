"""Your own images as a dataset: ``vae data import SOURCE --name NAME``.

A source is one of

- a folder of image files (PNG, JPEG, BMP, WebP, GIF: the first frame), read with
  Pillow; flat (a dataset without classes) or with one sub-folder per class, whose
  names, sorted, are the classes (torchvision's ``ImageFolder`` convention);
- a ``.npy`` or ``.npz`` array of uint8 images (N, H, W) or (N, H, W, C) with C 1 or 3;
  an ``.npz`` holds them under ``images`` (or ``x``) and may hold integer labels
  under ``labels`` (or ``y``); labels of a ``.npy`` come from ``--labels FILE.npy``;
- an IDX pair: the images file as SOURCE, its labels file as ``--labels``.

Every image becomes uint8 (C, H, W) of one common size (``--size H W``: ``resize``
stretches each image to H x W, ``crop`` scales its shorter side to fit and cuts the
centre) and one channel count (``--channels 1|3``; by default 3 when any image has
colour). Conversions are explicit and counted: transparency is composited over black
(the background of the built-in datasets), palette images are expanded, 16-bit grey
levels are scaled to 8 bits (x / 257, rounded), colour to grey uses ITU-R 601 luma.

The test split is a seeded fraction of each class (``--test-fraction``, ``--seed``),
or a second source of the same kind (``--test``).

The result is an immutable folder, in the user cache unless ``--to DIR``:
``train-images.npy`` and ``test-images.npy`` (uint8 (N, C, H, W), memory-mappable),
``train-labels.npy`` and ``test-labels.npy`` (int64; -1 throughout without classes)
and ``manifest.json`` (shape, classes, counts, the source, the split, the conversions
and the SHA-256 of every file). It is written into a temporary folder beside its
destination and renamed into place when complete, so a kill at any moment leaves no
half-written dataset under the name; the images stream through a memory-mapped file,
so memory stays bounded whatever their number. On every use the files are checked
against the manifest's checksums.
"""

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm  # text bars: the same in a terminal, a notebook and the docs

from vae_numpy.data.dataset import DATASETS, Dataset, FileCheck, RawDataset, check_splits
from vae_numpy.data.idx import read_idx
from vae_numpy.data.sources import cache_root
from vae_numpy.run.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif")
MANIFEST = "manifest.json"
FILES = {
    "train_images": "train-images.npy",
    "train_labels": "train-labels.npy",
    "test_images": "test-images.npy",
    "test_labels": "test-labels.npy",
}
FORMAT = 1  # of the folder's layout; part of the manifest
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")
FITS = ("resize", "crop")
CHUNK = 4096  # images copied at a time between memory-mapped files
LISTED = 10  # bad files named in an error, at most
GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def imports_root() -> Path:
    """Where ``vae data import`` writes by default: beside the downloaded datasets."""
    return cache_root().parent / "imports"


@dataclass(frozen=True)
class ImportSettings:
    """How the images become one dataset (the flags of ``vae data import``).

    ``size``: (H, W) for every image, None to keep theirs (which must then agree);
    ``fit``: "resize" stretches to H x W, "crop" scales to cover and cuts the centre;
    ``channels``: 1 or 3, None for 3 when any image has colour; ``test_fraction`` of
    each class held out with ``seed``, or the images of ``test_source``; ``labels``:
    the labels file of an .npy or IDX source; ``skip_bad``: import around unreadable
    files instead of refusing."""

    size: tuple[int, int] | None = None  # (H, W); None: the images' own, which must agree
    fit: str = "resize"  # or "crop"
    channels: int | None = None  # 1 or 3; None: 3 when any image has colour
    test_fraction: float = 0.1
    test_source: Path | None = None
    labels: Path | None = None  # the labels of an array or IDX source
    seed: int = 0
    skip_bad: bool = False

    def __post_init__(self):
        if self.size is not None and (len(self.size) != 2 or min(self.size) < 1):
            raise DataError(f"--size takes a height and a width >= 1, got {self.size}")
        if self.fit not in FITS:
            raise DataError(f"--fit must be one of {', '.join(FITS)}, got {self.fit!r}")
        if self.channels not in (None, 1, 3):
            raise DataError(f"--channels must be 1 (grey) or 3 (RGB), got {self.channels}")
        if self.test_source is None and not 0 < self.test_fraction < 1:
            raise DataError(
                f"--test-fraction must lie strictly between 0 and 1, got {self.test_fraction}"
            )


@dataclass
class Conversions:
    """What was done to which images, counted for the report and the manifest."""

    counts: Counter = field(default_factory=Counter)

    def add(self, what: str) -> None:
        self.counts[what] += 1


# -- sources ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Images to import, listed but not yet read: ``len`` of them, with their labels."""

    path: Path
    kind: str  # "folder", "array" or "idx"
    classes: tuple[str, ...]
    labels: np.ndarray  # (N,) int64, -1 throughout without classes
    files: tuple[Path, ...] = ()  # a folder's image files, in order
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


def image_files(folder: Path, seen: set[Path]) -> Iterator[Path]:
    """Image files under ``folder``, sorted, following links to folders but never in a
    loop."""
    real = folder.resolve()
    if real in seen:
        raise DataError(f"{folder}: a symlink loop (it leads back to {real}); remove the link")
    seen = seen | {real}
    for entry in sorted(folder.iterdir()):
        if entry.is_dir():
            yield from image_files(entry, seen)
        elif entry.suffix.lower() in IMAGE_SUFFIXES and entry.is_file():
            yield entry


def folder_source(root: Path, classes=None) -> Source:
    """A flat folder (no classes) or one sub-folder per class."""
    entries = sorted(root.iterdir())
    folders = [e for e in entries if e.is_dir()]
    top = [e for e in entries if e.is_file() and e.suffix.lower() in IMAGE_SUFFIXES]
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
        return Source(root, "folder", (), np.full(len(top), -1, np.int64), tuple(top))
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
        found = list(image_files(folder, {root.resolve()}))
        if not found:
            raise DataError(f"{folder}: the class {folder.name!r} has no image files")
        files += found
        labels += [label] * len(found)
    return Source(root, "folder", names, np.array(labels, np.int64), tuple(files))


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


# -- one image ----------------------------------------------------------------------------


def read_image(path: Path):
    """The first frame of an image file, fully decoded (a truncated file fails here)."""
    im = Image.open(path)
    im.seek(0)
    im.load()
    return im


def has_colour(mode: str) -> bool:
    return mode not in GREY_MODES


def to_array(im, channels: int, size, fit: str, done: Conversions) -> np.ndarray:
    """A Pillow image as uint8 (C, H, W), every conversion counted in ``done``."""
    if im.mode.startswith("I") or im.mode == "F":
        grey = np.asarray(im, dtype=np.float64)
        if grey.max(initial=0) > 255 or im.mode.startswith("I;16"):
            done.add("16-bit grey scaled to 8 bits")
            grey = grey / 257
        im = Image.fromarray(np.clip(grey.round(), 0, 255).astype(np.uint8), "L")
    if im.mode == "P":
        done.add("palette expanded")
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "La", "RGBa", "PA"):
        done.add("transparency composited over black")
        rgba = im.convert("RGBA")
        im = Image.new("RGB", rgba.size)
        im.paste(rgba, mask=rgba.getchannel("A"))
    if im.mode not in ("L", "RGB"):
        done.add(f"{im.mode} converted to {'RGB' if has_colour(im.mode) else 'L'}")
        im = im.convert("RGB" if has_colour(im.mode) else "L")
    if channels == 1 and im.mode == "RGB":
        done.add("colour converted to grey")
        im = im.convert("L")
    elif channels == 3 and im.mode == "L":
        done.add("grey repeated to RGB")
        im = im.convert("RGB")
    if size is not None and im.size != (size[1], size[0]):
        done.add(f"{fit}d to {size[0]}x{size[1]}")
        im = fitted(im, size, fit)
    array = np.asarray(im, dtype=np.uint8)
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def fitted(im, size: tuple[int, int], fit: str):
    """``im`` at (H, W) = ``size``: stretched (resize), or scaled to cover and centre-cut."""
    height, width = size
    if fit == "resize":
        return im.resize((width, height), Image.Resampling.LANCZOS)
    scale = max(width / im.width, height / im.height)
    w, h = max(width, round(im.width * scale)), max(height, round(im.height * scale))
    im = im.resize((w, h), Image.Resampling.LANCZOS)
    left, top = (w - width) // 2, (h - height) // 2
    return im.crop((left, top, left + width, top + height))


# -- the plan: sizes and channels, before anything is written --------------------------


@dataclass(frozen=True)
class Plan:
    shape: tuple[int, int, int]  # (C, H, W) of every imported image


def plan(sources: list[Source], settings: ImportSettings, progress: bool) -> Plan:
    """The common shape, read off the headers (folders) or the arrays; a file whose
    header cannot be read is left to ``read_into``, which lists it."""
    sizes, colour = Counter(), False
    for source in sources:
        if source.array is not None:
            a = source.array
            sizes[a.shape[1:3]] += len(a)
            colour |= a.ndim == 4 and a.shape[3] == 3
            continue
        for path in tqdm(
            source.files, desc="reading headers", unit="img", disable=None if progress else True
        ):
            try:
                with Image.open(path) as im:
                    sizes[(im.height, im.width)] += 1
                    colour |= has_colour(im.mode) and not grey_palette(im)
            except (UnidentifiedImageError, OSError, ValueError):
                continue
    if not sizes:
        raise DataError(
            f"{sources[0].path}: none of its {len(sources[0])} image files can be read; "
            "check that they are images"
        )
    if settings.size is not None:
        size = tuple(settings.size)
    elif len(sizes) == 1:
        size = next(iter(sizes))
    else:
        common = ", ".join(f"{h}x{w} ({n})" for (h, w), n in sizes.most_common(4))
        raise DataError(
            f"the images have {len(sizes)} different sizes ({common}, ...); give one with "
            "--size H W (and --fit resize or crop)"
        )
    channels = settings.channels or (3 if colour else 1)
    return Plan((channels, *size))


def grey_palette(im) -> bool:
    """A palette image whose every colour is a grey."""
    palette = im.getpalette() if im.mode == "P" else None
    if not palette:
        return False
    rgb = np.asarray(palette, np.uint8).reshape(-1, 3)
    return bool((rgb == rgb[:, :1]).all())


def check_bad(bad: list[tuple[Path, str]], skip_bad: bool) -> None:
    if bad and not skip_bad:
        listed = "; ".join(f"{p} ({why})" for p, why in bad[:LISTED])
        more = f" and {len(bad) - LISTED} more" if len(bad) > LISTED else ""
        raise DataError(
            f"{len(bad)} unreadable image file(s): {listed}{more}; fix or remove them, or "
            "pass --skip-bad to import the rest"
        )


# -- writing ------------------------------------------------------------------------------


def read_into(
    source: Source, out: np.ndarray, settings: ImportSettings, done: Conversions, progress: bool
) -> tuple[np.ndarray, list[tuple[Path, str]]]:
    """Every image of ``source`` into ``out`` (N, C, H, W); a mask of those read."""
    channels, size = out.shape[1], out.shape[2:]
    ok = np.ones(len(source), bool)
    bad = []
    bar = tqdm(total=len(source), desc=f"importing {source.path.name}", unit="img",
               disable=None if progress else True)  # fmt: skip
    with bar:
        if source.array is not None:
            for start in range(0, len(source), CHUNK):
                block = np.asarray(source.array[start : start + CHUNK])
                if block.ndim == 3:
                    block = block[..., None]
                if block.shape[1:3] == tuple(size) and block.shape[3] == channels:
                    out[start : start + len(block)] = block.transpose(0, 3, 1, 2)
                else:
                    for i, image in enumerate(block):
                        im = Image.fromarray(image[..., 0] if image.shape[2] == 1 else image)
                        out[start + i] = to_array(im, channels, size, settings.fit, done)
                bar.update(len(block))
            return ok, bad
        for i, path in enumerate(source.files):
            try:
                out[i] = to_array(read_image(path), channels, size, settings.fit, done)
            except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
                ok[i] = False
                bad.append((path, f"{type(err).__name__}: {err}"))
            bar.update()
    return ok, bad


def test_indices(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A seeded ``fraction`` of each class (of all images without classes), sorted; at
    least one image of each class stays on each side."""
    rng = np.random.default_rng(seed)
    picks = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) < 2:
            name = "the dataset" if c < 0 else f"class {c}"
            raise DataError(f"{name} has {len(members)} image(s); a test split needs at least two")
        n = min(len(members) - 1, max(1, round(fraction * len(members))))
        picks.append(rng.choice(members, n, replace=False))
    return np.sort(np.concatenate(picks))


def copy_rows(src: np.ndarray, rows: np.ndarray, path: Path) -> None:
    """``src[rows]`` written to a new .npy at ``path``, CHUNK images at a time."""
    shape = (len(rows), *src.shape[1:])
    out = np.lib.format.open_memmap(path, mode="w+", dtype=src.dtype, shape=shape)
    for start in range(0, len(rows), CHUNK):
        out[start : start + CHUNK] = src[rows[start : start + CHUNK]]
    out.flush()
    del out


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class ImportReport:
    folder: Path
    manifest: dict
    seconds: float

    def lines(self) -> list[str]:
        m = self.manifest
        c, h, w = m["image_shape"]
        lines = [
            f"imported {m['name']!r} from {m['source']}: {m['counts']['train_total']} training and "
            f"{m['counts']['test_total']} test images of {c}x{h}x{w} "
            f"({'RGB' if c == 3 else 'grey'}) in {self.seconds:.1f} s",
            f"classes: {', '.join(m['classes'])}"
            if m["classes"]
            else "no classes (a flat folder or no labels): sample metrics without a judge",
            f"split: {m['split']}",
        ]
        for what, n in sorted(m["conversions"].items()):
            lines.append(f"converted: {what}: {n} image(s)")
        if m["skipped"]:
            lines.append(f"skipped (--skip-bad): {len(m['skipped'])} unreadable file(s)")
        lines.append(f"written to {self.folder}; train with --dataset {m['name']}")
        return lines


def import_dataset(
    source: Path,
    name: str,
    settings: ImportSettings = ImportSettings(),
    to: Path | None = None,
    force: bool = False,
    progress: bool = True,
) -> ImportReport:
    """Import the images at ``source`` (a folder, flat or one sub-folder per class; an
    .npy / .npz array; an IDX file) as dataset ``name`` into ``to/name`` (default: the
    user cache), where ``load_dataset(name)`` and ``vae train --dataset name`` find it.

    Written aside and renamed into place when complete: a crash leaves no dataset; an
    existing import is replaced only with ``force``. Raises ``DataError`` saying what is
    wrong with the input and how to fix it."""
    start = time.perf_counter()
    check_name(name)
    destination = Path(to).expanduser() / name if to is not None else imports_root() / name
    if destination.exists() and not force:
        raise DataError(
            f"a dataset {name!r} already exists at {destination}; pass --force to replace it, "
            "or choose another --name"
        )
    train = open_source(source, settings)
    sources = [train]
    if settings.test_source is not None:
        sources.append(open_source(settings.test_source, settings, classes=train.classes))
    planned = plan(sources, settings, progress)
    shape = planned.shape
    destination.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".part", dir=destination.parent))
    try:
        done, skipped, parts = Conversions(), [], []
        for i, src in enumerate(sources):
            everything = work / f"all-{i}.npy"
            out = np.lib.format.open_memmap(everything, "w+", np.uint8, (len(src), *shape))
            ok, bad = read_into(src, out, settings, done, progress)
            skipped += bad
            parts.append((out, np.flatnonzero(ok), src.labels))
        check_bad(skipped, settings.skip_bad)
        if len(parts) == 2:
            (images, train_rows, labels), (test_images, test_rows, test_labels) = parts
            split_note = {"test_source": str(settings.test_source)}
        else:
            images, kept, labels = parts[0]
            if len(kept) == 0:
                raise DataError(f"{source}: no image could be read")
            chosen = test_indices(labels[kept], settings.test_fraction, settings.seed)
            test_rows, train_rows = kept[chosen], np.delete(kept, chosen)
            test_images, test_labels = images, labels
            split_note = {"test_fraction": settings.test_fraction, "seed": settings.seed}
        copy_rows(images, train_rows, work / FILES["train_images"])
        np.save(work / FILES["train_labels"], labels[train_rows])
        copy_rows(test_images, test_rows, work / FILES["test_images"])
        np.save(work / FILES["test_labels"], test_labels[test_rows])
        del images, test_images, parts
        for leftover in work.glob("all-*.npy"):
            leftover.unlink()
        manifest = {
            "format": FORMAT,
            "name": name,
            "image_shape": list(shape),
            "layout": "uint8 (N, C, H, W); labels int64, -1 without classes",
            "classes": list(train.classes),
            "counts": counts(train.classes, labels[train_rows], test_labels[test_rows]),
            "source": str(Path(source).expanduser().resolve()),
            "source_kind": train.kind,
            "size": {"fit": settings.fit, "height": shape[1], "width": shape[2]},
            "split": split_note,
            "conversions": dict(done.counts),
            "skipped": [f"{p} ({why})" for p, why in skipped],
            "files": {f: file_sha256(work / f) for f in FILES.values()},
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        replace_folder(work, destination)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ImportReport(destination, manifest, time.perf_counter() - start)


def counts(classes, train_labels: np.ndarray, test_labels: np.ndarray) -> dict:
    out = {"train_total": len(train_labels), "test_total": len(test_labels)}
    if classes:
        for split, labels in (("train", train_labels), ("test", test_labels)):
            tally = np.bincount(labels, minlength=len(classes))
            out[split] = {name: int(n) for name, n in zip(classes, tally, strict=True)}
    return out


def replace_folder(new: Path, destination: Path) -> None:
    """Put the complete folder ``new`` at ``destination``: a rename, so a reader sees
    the old dataset or the new one, never a mixture."""
    old = None
    if destination.exists():
        old = destination.with_name(f".{destination.name}.{os.getpid()}.old")
        os.rename(destination, old)
    os.rename(new, destination)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def check_name(name: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise DataError(
            f"--name {name!r}: use lower-case letters, digits, '.', '_' and '-', starting "
            "with a letter or digit"
        )
    if name in DATASETS:
        raise DataError(
            f"--name {name!r} is a built-in dataset; choose another name for your images"
        )


# -- reading an import back ---------------------------------------------------------------


@dataclass(frozen=True)
class ImportedDataset(Dataset):
    """A folder written by ``import_dataset``: read memory-mapped, checked against its
    manifest on every use."""

    name: str
    folder: Path
    system_hint: str = "import it again with vae data import"
    mirrors: tuple[str, ...] = ()

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.manifest()["classes"])

    def manifest(self) -> dict:
        path = self.folder / MANIFEST
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise DataError(
                f"{path}: unreadable manifest ({err}); import the dataset again"
            ) from None

    def file_names(self) -> dict[str, str]:
        return dict(FILES)

    def find(self, options) -> tuple[dict[str, Path], str]:
        return {k: self.folder / f for k, f in FILES.items()}, f"import ({self.folder})"

    def read(self, paths: dict[str, Path], origin: str) -> RawDataset:
        manifest = self.manifest()
        checks, arrays = [], {}
        for key, path in paths.items():
            if not path.is_file():
                raise DataError(f"{path} is missing: the import was altered; import it again")
            digest = file_sha256(path)
            if digest != manifest["files"][path.name]:
                raise DataError(
                    f"{path}: SHA-256 mismatch with the manifest (the file was altered after "
                    "the import); import the dataset again"
                )
            checks.append(FileCheck(path, digest, "recorded content"))
            arrays[key] = np.load(path, mmap_mode="r" if key.endswith("images") else None)
        raw = RawDataset(
            name=self.name,
            classes=tuple(manifest["classes"]),
            origin=f"{origin}, from {manifest['source']}",
            files=tuple(checks),
            **arrays,
        )
        return check_splits(raw)


def find_import(name: str) -> ImportedDataset | None:
    """The import called ``name`` in the user cache, or at the path ``name``."""
    for folder in (Path(name).expanduser(), imports_root() / name):
        if NAME_PATTERN.fullmatch(folder.name) and (folder / MANIFEST).is_file():
            return ImportedDataset(folder.name, folder)
    return None
