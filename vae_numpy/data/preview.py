"""A preview of a dataset: one row of examples per class, written as a PNG."""

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from vae_numpy.run.io import atomic_path

PAD = 2  # pixels of background between tiles


def tile(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Arrange ``rows * cols`` images (N, H, W) or (N, C, H, W) into one canvas on a white
    background: (rows*(H+PAD)-PAD, cols*(W+PAD)-PAD) for grey images, with a last axis
    of 3 for colour ones (C = 3), as ``imshow`` takes them."""
    if images.ndim == 3:
        images = images[:, None]
    n, c, h, w = images.shape
    if n != rows * cols:
        raise ValueError(f"tile needs {rows * cols} images for a {rows}x{cols} grid, got {n}")
    if c not in (1, 3):
        raise ValueError(f"tile shows grey (1 channel) or RGB (3) images, got {c} channels")
    canvas = np.ones((rows * (h + PAD) - PAD, cols * (w + PAD) - PAD, c), dtype=np.float32)
    for i, image in enumerate(images):
        r, col = divmod(i, cols)
        y, x = r * (h + PAD), col * (w + PAD)
        canvas[y : y + h, x : x + w] = image.transpose(1, 2, 0)
    return canvas[..., 0] if c == 1 else canvas


def show(ax, canvas: np.ndarray) -> None:
    """``imshow`` of a tiled canvas in [0, 1]: grey levels in grey, RGB as RGB."""
    grey = {"cmap": "gray", "vmin": 0.0, "vmax": 1.0} if canvas.ndim == 2 else {}
    ax.imshow(canvas, interpolation="nearest", **grey)


def class_rows(labels: np.ndarray, n_classes: int, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` examples of each class, class by class; -1
    where a class has fewer."""
    rows = np.full((n_classes, per_class), -1)
    for c in range(n_classes):
        idx = np.flatnonzero(labels == c)[:per_class]
        rows[c, : len(idx)] = idx
    return rows.ravel()


def write_preview(
    path: Path, images: np.ndarray, labels: np.ndarray, classes: tuple[str, ...], per_class: int
) -> None:
    """A grid with one row per class (named on the left), ``per_class`` examples a row;
    for a dataset without classes, ten rows of the first images."""
    if classes:
        picks, rows = class_rows(labels, len(classes), per_class), len(classes)
    else:
        rows = min(10, len(images) // per_class)
        picks = np.arange(rows * per_class)
    shown = images[np.maximum(picks, 0)] / 255.0
    shown[picks < 0] = 1.0  # a class with fewer examples: blank tiles
    grid = tile(shown, rows, per_class)
    side = images.shape[-2] + PAD
    fig = Figure(figsize=(per_class * 0.6 + 1.4, rows * 0.6))  # no pyplot state, any backend
    ax = fig.subplots()
    show(ax, grid)
    ax.set_yticks(np.arange(rows) * side + side / 2 - PAD / 2, labels=classes or [""] * rows)
    ax.set_xticks([])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
