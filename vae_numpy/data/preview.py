"""A preview of a dataset: one row of examples per class, written as a PNG."""

from pathlib import Path

import numpy as np

from vae_numpy.run.io import atomic_path

PAD = 2  # pixels of background between tiles


def tile(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Arrange ``rows * cols`` images of shape (h, w) into one (rows*(h+PAD)-PAD, ...) array."""
    n, h, w = images.shape
    if n != rows * cols:
        raise ValueError(f"tile needs {rows * cols} images for a {rows}x{cols} grid, got {n}")
    canvas = np.ones((rows * (h + PAD) - PAD, cols * (w + PAD) - PAD), dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        canvas[r * (h + PAD) : r * (h + PAD) + h, c * (w + PAD) : c * (w + PAD) + w] = image
    return canvas


def class_rows(labels: np.ndarray, n_classes: int, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` examples of each class, class by class."""
    rows = []
    for c in range(n_classes):
        idx = np.flatnonzero(labels == c)[:per_class]
        if len(idx) < per_class:
            raise ValueError(f"class {c} has {len(idx)} examples, fewer than {per_class}")
        rows.append(idx)
    return np.concatenate(rows)


def write_preview(
    path: Path, images: np.ndarray, labels: np.ndarray, classes: tuple[str, ...], per_class: int
) -> None:
    """A grid with one row per class (named on the left), ``per_class`` examples a row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = tile(
        images[class_rows(labels, len(classes), per_class)] / 255.0, len(classes), per_class
    )
    side = images.shape[1] + PAD
    fig, ax = plt.subplots(figsize=(per_class * 0.6 + 1.4, len(classes) * 0.6))
    ax.imshow(grid, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_yticks(np.arange(len(classes)) * side + side / 2 - PAD / 2, labels=classes)
    ax.set_xticks([])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
