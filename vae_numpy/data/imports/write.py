"""Writing an import: the images streamed into a temporary folder, split, checksummed,
then renamed into place."""

import fcntl
import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm  # text bars: the same in a terminal, a notebook and the docs

from vae_numpy.data.dataset import DATASETS
from vae_numpy.data.imports.images import read_image, to_array
from vae_numpy.data.imports.plan import check_bad, plan
from vae_numpy.data.imports.readers import Source, open_source
from vae_numpy.data.imports.settings import (
    CHUNK,
    FILES,
    FORMAT,
    LISTED,
    MANIFEST,
    NAME_PATTERN,
    Conversions,
    ImportSettings,
    imports_root,
    shown_bytes,
)
from vae_numpy.run.errors import DataError
from vae_numpy.run.io import replace_folder


def read_into(
    source: Source, out: np.ndarray, settings: ImportSettings, done: Conversions, progress: bool
) -> tuple[np.ndarray, list[tuple[Path, str]]]:
    """Every image of ``source`` into ``out`` (N, C, H, W); a mask of those read."""
    channels, size = out.shape[1], out.shape[2:]
    ok = np.ones(len(source), bool)
    bad = []
    bar = tqdm(
        total=len(source),
        desc=f"importing {source.path.name}",
        unit="img",
        disable=None if progress else True,
    )
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
    cleaned: tuple[int, int] = (0, 0)  # leftovers of killed imports removed, bytes freed

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
        if m["hidden"]:
            names = ", ".join(Path(p).name for p in m["hidden"][:LISTED])
            more = f" and {len(m['hidden']) - LISTED} more" if len(m["hidden"]) > LISTED else ""
            lines.append(
                f"skipped: {len(m['hidden'])} hidden folder(s) and image file(s) (a name that "
                f"starts with '.' is no class and no image): {names}{more}"
            )
        if self.cleaned[0]:
            lines.append(cleaned_line(self.folder.parent, *self.cleaned))
        lines.append(f"written to {self.folder}; train with --dataset {m['name']}")
        return lines


def import_dataset(
    source: Path,
    name: str,
    *,
    settings: ImportSettings | None = None,
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
    settings = settings or ImportSettings()
    train = open_source(source, settings)
    sources = [train]
    if settings.test_source is not None:
        sources.append(open_source(settings.test_source, settings, classes=train.classes))
    planned = plan(sources, settings, progress)
    shape = planned.shape
    destination.parent.mkdir(parents=True, exist_ok=True)
    cleaned = remove_leftovers(destination.parent)
    check_disk(destination.parent, sum(map(len, sources)) * math.prod(shape))
    work, lock = claim_work_folder(destination.parent, name)
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
            "hidden": [str(p) for src in sources for p in src.hidden],
            "files": {f: file_sha256(work / f) for f in FILES.values()},
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        manifest["manifest_sha256"] = manifest_sha256(manifest)
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        replace_folder(work, destination)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        lock.unlink(missing_ok=True)
        os.close(lock_fd(lock))
    return ImportReport(destination, manifest, time.perf_counter() - start, cleaned)


# -- the folder an import is written in, and what a killed import leaves ----------------

_LOCKS: dict[Path, int] = {}  # lock file -> its open descriptor, held while its import runs
STARTED = time.time()  # this process runs since at least then


def claim_work_folder(root: Path, name: str) -> tuple[Path, Path]:
    """A new folder ``root/.NAME.XXXX.part`` to write an import into, and its lock file
    ``.NAME.XXXX.lock``, created first and held (``flock``) while this process lives: a
    part folder whose lock nobody holds is a leftover of a killed import."""
    fd, lock = tempfile.mkstemp(prefix=f".{name}.", suffix=".lock", dir=root)
    fcntl.flock(fd, fcntl.LOCK_EX)
    _LOCKS[Path(lock)] = fd
    work = Path(lock[: -len(".lock")] + ".part")
    work.mkdir()
    return work, Path(lock)


def lock_fd(lock: Path) -> int:
    return _LOCKS.pop(lock)


def remove_leftovers(root: Path) -> tuple[int, int]:
    """Remove what killed imports left in ``root``: part folders whose lock no live
    process holds (or that have none and are older than this process), and old
    datasets a replacement had moved aside; (how many, bytes freed)."""
    found, freed = 0, 0
    for folder in [*root.glob(".*.part"), *root.glob(".*.old")]:
        if not folder.is_dir() or in_use(folder):
            continue
        freed += sum(f.lstat().st_size for f in folder.rglob("*") if not f.is_dir())
        shutil.rmtree(folder, ignore_errors=True)
        folder.with_suffix(".lock").unlink(missing_ok=True)
        found += 1
    return found, freed


def cleaned_line(root: Path, found: int, freed: int) -> str:
    """What ``remove_leftovers(root)`` did, in words: ``vae data import`` and ``vae data
    clean`` say it."""
    if not found:
        return f"nothing to clean in {root}: no leftovers of interrupted imports"
    return (
        f"removed {found} leftover(s) of interrupted imports in {root}, "
        f"freeing {shown_bytes(freed)}"
    )


def in_use(folder: Path) -> bool:
    """Whether a running import (this process's or another's) may still write ``folder``."""
    if folder.suffix == ".old":  # .NAME.PID.old, moved aside by replace_folder
        pid = folder.name.rsplit(".", 2)[-2]
        return pid.isdigit() and alive(int(pid))
    lock = folder.with_suffix(".lock")
    if not lock.is_file():
        return folder.stat().st_mtime >= STARTED
    if lock in _LOCKS:
        return True
    with open(lock, "rb") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_disk(root: Path, pixels: int) -> None:
    """The import needs its N·C·H·W bytes twice on disk while it writes (all the images,
    then the two splits) before the first copy is deleted."""
    need, free = 2 * pixels, shutil.disk_usage(root).free
    if need > free:
        raise DataError(
            f"{root}: the import needs {shown_bytes(need)} of disk space while it writes "
            f"({shown_bytes(pixels)} of images, twice), but {shown_bytes(free)} is free; free "
            "some, or give --to DIR on a disk with room"
        )


def manifest_sha256(manifest: dict) -> str:
    """The SHA-256 of the manifest's canonical form (sorted keys, no spaces, ASCII),
    without its own ``manifest_sha256``: any edit of a class name or a shape changes it."""
    rest = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def counts(classes, train_labels: np.ndarray, test_labels: np.ndarray) -> dict:
    out = {"train_total": len(train_labels), "test_total": len(test_labels)}
    if classes:
        for split, labels in (("train", train_labels), ("test", test_labels)):
            tally = np.bincount(labels, minlength=len(classes))
            out[split] = {name: int(n) for name, n in zip(classes, tally, strict=True)}
    return out


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
