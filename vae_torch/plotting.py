"""Drawing helpers shared by every command that writes a figure.

Figures use matplotlib's object-oriented API (no pyplot state), a fixed size in
inches and a fixed DPI, so each image's size in pixels is known; files are written
atomically, as PNG and SVG.
"""

from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from vae_numpy.data.preview import PAD, show, tile
from vae_numpy.run.io import atomic_path

DPI = 100
FORMATS = ("png", "svg")


def new_figure(size: tuple[float, float]) -> Figure:
    """A figure of ``size`` (width, height) inches at DPI."""
    return Figure(figsize=size, dpi=DPI, layout="constrained")


def save(fig: Figure, folder: Path, name: str) -> list[Path]:
    """Write ``fig`` as folder/name.png and .svg, each atomically."""
    paths = []
    for fmt in FORMATS:
        path = Path(folder) / f"{name}.{fmt}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=DPI)
        paths.append(path)
    return paths


def as_images(x: torch.Tensor, image_shape: tuple[int, ...]) -> np.ndarray:
    """(N, ...) model inputs or outputs of images of ``image_shape`` (C, H, W)
    -> (N, C, H, W) float array for display."""
    return x.detach().float().cpu().reshape(-1, *image_shape).numpy()


def show_grid(
    ax,
    images: np.ndarray,
    rows: int,
    cols: int,
    title: str | None = None,
    row_labels: list[str] | None = None,
    col_labels: list[str] | None = None,
) -> None:
    """``rows * cols`` images (N, C, H, W) in one panel, row by row; pixel values clipped
    to [0, 1]; grey images in grey, RGB as RGB."""
    show(ax, tile(np.clip(images, 0, 1), rows, cols))
    side_y, side_x = images.shape[-2] + PAD, images.shape[-1] + PAD
    ax.set_yticks(
        np.arange(rows) * side_y + (side_y - PAD) / 2, labels=row_labels or [], fontsize=8
    )
    ax.set_xticks(
        np.arange(cols) * side_x + (side_x - PAD) / 2, labels=col_labels or [], fontsize=8
    )
    if not row_labels:
        ax.set_yticks([])
    if not col_labels:
        ax.set_xticks([])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)


def latent_curves(fig: Figure, histories: dict[str, list[dict]]) -> None:
    """Epoch by epoch, one line per run: active units, I_q(n; z) and KL(q̄ ‖ p) of the
    ELBO surgery (8.6), with ±1 standard error, and the validation ELBO; from history
    records that hold the latent diagnostics (``vae_torch.training.latent_hook``)."""
    axes = fig.subplots(1, 4)
    panels = (
        ("active units", lambda r: (r["active_units"], 0.0)),
        ("I_q(n; z) (nats)", lambda r: tuple(r["mutual_information"].values())),
        ("KL(q(z) || p(z)) (nats)", lambda r: tuple(r["marginal_kl"].values())),
        ("validation ELBO (nats)", lambda r: (r["val_elbo"], 0.0)),
    )
    for name, history in histories.items():
        epochs = np.array([r["epoch"] for r in history])
        for ax, (_, value) in zip(axes, panels, strict=True):
            y, se = np.array([value(r) for r in history]).T
            (line,) = ax.plot(epochs, y, marker=".", label=name)
            ax.fill_between(epochs, y - se, y + se, color=line.get_color(), alpha=0.2)
    for ax, (label, _) in zip(axes, panels, strict=True):
        ax.set(xlabel="epoch", title=label)
        ax.title.set_fontsize(9)
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))
    if len(histories) > 1:
        axes[-1].legend(fontsize=8)
    fig.suptitle(
        "after every epoch, on the validation images: active units, the ELBO surgery (8.6) "
        "with ±1 standard error, and the ELBO",
        fontsize=9,
    )
