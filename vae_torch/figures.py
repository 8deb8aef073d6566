"""Every figure the course asks for, drawn from a trained run.

``vae figures RUN`` writes RUN/figures/NAME.png and NAME.svg for each NAME below
that applies to the model, and RUN/figures/figures.json with the numbers behind
them (test ELBO and reconstruction loss, the chosen latent dimensions, ...).

================  ===========================================================  =========
name              what it shows                                                asked by
================  ===========================================================  =========
elbo-curves       train and validation ELBO per epoch                          seed 001
loss-terms        E_q[log p(x|z)] and KL per epoch, train and validation       seed 001
reconstructions   10 test images (2x5) beside their reconstructions (2x5)      seed 000
samples           2x5 images E[x|z], z ~ N(0, I)                               000, 001
interpolations    10 points on the line between posterior samples of two       seed 001
                  test images of different classes; 3 pairs
latent-hist2d     hist2d (50 bins) of the 2 latent dimensions of highest       seed 003
                  variance over the test set, with N(0, I) contours
traversals-1d     decoding norm.ppf(linspace(0.05, 0.95, 7)) along each of     seed 003
                  those dimensions, the others at 0 (1x7 each)
traversal-2d      the same values over both (7x7); with a 2-D latent, the      seed 003
                  whole learned manifold
class-grid        conditional models: a row per class, a column per z          seed 004
================  ===========================================================  =========

The numbers come from ``vae_torch.latent``; this module only draws. Figures use
matplotlib's object-oriented API (no pyplot state), a fixed size in inches and a
fixed DPI, so each image's size in pixels is known (``pixel_size``); files are
written atomically. Every random choice draws from a generator seeded by
(``seed``, figure), so a figure does not change when others are added or left out.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from vae_numpy.data.preview import PAD, tile
from vae_numpy.errors import VaeError
from vae_numpy.io import atomic_path
from vae_numpy.runs import write_json
from vae_torch import distributions as dist
from vae_torch import latent
from vae_torch.checkpoint import load_run
from vae_torch.data import run_split
from vae_torch.device import device_name, resolve_device
from vae_torch.evaluate import dataset_elbo
from vae_torch.models import IMAGE_SHAPE, VAE
from vae_torch.train import epoch_seed

DPI = 100
FORMATS = ("png", "svg")
SIZES = {  # (width, height) in inches
    "elbo-curves": (6.4, 4.0),
    "loss-terms": (10.0, 4.0),
    "reconstructions": (9.0, 2.9),
    "samples": (6.0, 3.2),
    "interpolations": (10.0, 3.6),
    "latent-hist2d": (5.6, 5.2),
    "traversals-1d": (8.0, 3.0),
    "traversal-2d": (6.4, 7.0),
    "class-grid": (7.0, 7.6),
}
FIGURES = tuple(SIZES)
N_INTERPOLATION_PAIRS, INTERPOLATION_STEPS = 3, 10
TRAVERSAL_VALUES = 7  # norm.ppf(linspace(0.05, 0.95, 7))
CLASS_GRID_COLUMNS = 10
HIST_BINS = 50


def pixel_size(name: str) -> tuple[int, int]:
    """(width, height) in pixels of figure ``name``'s PNG."""
    width, height = SIZES[name]
    return round(width * DPI), round(height * DPI)


def each_class(model: VAE, n: int) -> torch.Tensor | None:
    """Labels 0, 1, 2, ... (wrapping) for n images of a conditional model; None otherwise."""
    if not model.n_classes:
        return None
    return torch.arange(n, device=model.device) % model.n_classes


def new_figure(name: str) -> Figure:
    return Figure(figsize=SIZES[name], dpi=DPI, layout="constrained")


def save(fig: Figure, folder: Path, name: str) -> list[Path]:
    """Write ``fig`` as folder/name.png and .svg, each atomically."""
    paths = []
    for fmt in FORMATS:
        path = Path(folder) / f"{name}.{fmt}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=DPI)
        paths.append(path)
    return paths


def as_images(x: torch.Tensor) -> np.ndarray:
    """(N, ...) model inputs or outputs -> (N, 28, 28) float array for display."""
    return x.detach().float().cpu().reshape(-1, *IMAGE_SHAPE[-2:]).numpy()


def show_grid(
    ax,
    images: np.ndarray,
    rows: int,
    cols: int,
    title: str | None = None,
    row_labels: list[str] | None = None,
    col_labels: list[str] | None = None,
) -> None:
    """``rows * cols`` images in one panel, row by row; pixel values clipped to [0, 1]."""
    ax.imshow(
        tile(np.clip(images, 0, 1), rows, cols),
        cmap="gray",
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )
    side = images.shape[-1] + PAD
    centres = np.arange(max(rows, cols)) * side + (side - PAD) / 2
    ax.set_yticks(centres[:rows], labels=row_labels or [], fontsize=8)
    ax.set_xticks(centres[:cols], labels=col_labels or [], fontsize=8)
    if not row_labels:
        ax.set_yticks([])
    if not col_labels:
        ax.set_xticks([])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)


# -- the figures, each from the numbers it shows --------------------------------------


def curves(history: list[dict]) -> dict[str, Figure]:
    """elbo-curves and loss-terms from a run's per-epoch history."""
    if not history:
        raise VaeError("the run has no finished epoch, so there are no curves to draw")
    epochs = [r["epoch"] for r in history]
    note = "train: mean over the epoch's batches; validation: after the epoch"
    elbo = new_figure("elbo-curves")
    ax = elbo.subplots()
    for split, style in (("train", "-"), ("val", "--")):
        ax.plot(epochs, [r[f"{split}_elbo"] for r in history], style, marker=".", label=split)
    ax.set(xlabel="epoch", ylabel="ELBO (nats per example)", title="ELBO (higher is better)")
    ax.legend(title=note, title_fontsize=7, fontsize=8)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))

    terms = new_figure("loss-terms")
    left, right = terms.subplots(1, 2)
    for ax, key, title in (
        (left, "log_px_given_z", "reconstruction term E_q[log p(x|z)]"),
        (right, "kl", "KL(q(z|x) || p(z))"),
    ):
        for split, style in (("train", "-"), ("val", "--")):
            ax.plot(epochs, [r[f"{split}_{key}"] for r in history], style, marker=".", label=split)
        ax.set(xlabel="epoch", ylabel="nats per example", title=title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    terms.suptitle(f"ELBO = E_q[log p(x|z)] − KL   ({note})", fontsize=9)
    return {"elbo-curves": elbo, "loss-terms": terms}


def reconstructions(originals: np.ndarray, rebuilt: np.ndarray, loss: float) -> Figure:
    fig = new_figure("reconstructions")
    left, right = fig.subplots(1, 2)
    show_grid(left, originals, 2, 5, "test images")
    show_grid(right, rebuilt, 2, 5, "reconstructions E[x|z], z ~ q(z|x)")
    fig.suptitle(
        f"test reconstruction loss −E_q[log p(x|z)] = {loss:.2f} nats per image", fontsize=10
    )
    return fig


def samples(images: np.ndarray, labels: list[str] | None = None) -> Figure:
    fig = new_figure("samples")
    title = "E[x|z] for z ~ N(0, I)"
    if labels:
        title += ": " + ", ".join(labels)
    show_grid(fig.subplots(), images, 2, 5, title)
    return fig


def interpolations(paths: np.ndarray, ends: list[tuple[str, str]]) -> Figure:
    """paths: (pairs * steps, 28, 28), one row per pair."""
    fig = new_figure("interpolations")
    steps = len(paths) // len(ends)
    rows = [f"{a} → {b}" for a, b in ends]
    cols = [f"{t:.2f}" for t in np.linspace(0, 1, steps)]
    show_grid(fig.subplots(), paths, len(ends), steps, None, rows, cols)
    fig.suptitle(
        "E[x|z] along z = (1 − t) z₁ + t z₂, z₁ and z₂ posterior samples of two test images",
        fontsize=10,
    )
    return fig


def latent_hist2d(a: np.ndarray, b: np.ndarray, dims: list[int]) -> Figure:
    fig = new_figure("latent-hist2d")
    ax = fig.subplots()
    reach = max(4.0, float(np.ceil(np.quantile(np.abs(np.concatenate([a, b])), 0.999))))
    ax.hist2d(a, b, bins=HIST_BINS, range=[[-reach, reach], [-reach, reach]], density=True)
    grid = torch.linspace(-reach, reach, 201, dtype=torch.float64)
    gx, gy = torch.meshgrid(grid, grid, indexing="xy")
    density = dist.log_std_normal(torch.stack([gx, gy], dim=-1)).exp()  # N(z; 0, I), (4.2)
    radii = (3, 2, 1)  # increasing density
    at_radius = torch.tensor([[r, 0.0] for r in radii], dtype=torch.float64)
    lines = ax.contour(
        gx.numpy(),
        gy.numpy(),
        density.numpy(),
        levels=dist.log_std_normal(at_radius).exp().tolist(),
        colors="white",
        linewidths=0.8,
    )
    ax.clabel(lines, fmt={lv: f"{r}σ" for lv, r in zip(lines.levels, radii, strict=True)})
    ax.set_aspect("equal")
    ax.set(xlabel=f"z[{dims[0]}]", ylabel=f"z[{dims[1]}]")
    ax.set_title(
        f"posterior samples over the test set: z[{dims[0]}] mean {a.mean():+.2f} sd {a.std():.2f},"
        f"\nz[{dims[1]}] mean {b.mean():+.2f} sd {b.std():.2f}; white: N(0, I) at 1, 2, 3σ",
        fontsize=9,
    )
    return fig


def probability_range(values: torch.Tensor) -> str:
    """ "p = 0.05..0.95" for values norm.ppf(linspace(0.05, 0.95, n))."""
    low, high = torch.special.ndtr(values[[0, -1]]).tolist()
    return f"p = {low:.3g}..{high:.3g}"


def traversals_1d(images: np.ndarray, dims: list[int], values: torch.Tensor, note: str) -> Figure:
    """images: (len(dims) * 7, 28, 28), one row per dimension."""
    fig = new_figure("traversals-1d")
    show_grid(
        fig.subplots(),
        images,
        len(dims),
        len(values),
        None,
        [f"z[{d}]" for d in dims],
        [f"{v:+.2f}" for v in values.tolist()],
    )
    fig.suptitle(
        f"E[x|z] with one dimension at norm.ppf(p), {probability_range(values)}, the rest 0{note}",
        fontsize=10,
    )
    return fig


def traversal_2d(
    images: np.ndarray, dims: list[int], values: torch.Tensor, latent_dim: int, note: str
) -> Figure:
    fig = new_figure("traversal-2d")
    ax = fig.subplots()
    labels = [f"{v:+.2f}" for v in values.tolist()]
    n = len(values)
    show_grid(ax, images, n, n, None, labels, labels)
    ax.set(ylabel=f"z[{dims[0]}]", xlabel=f"z[{dims[1]}]")
    what = (
        "the whole 2-D latent space (the learned manifold)"
        if latent_dim == 2
        else f"2 of {latent_dim} dimensions, the rest 0"
    )
    fig.suptitle(
        f"E[x|z] over norm.ppf(p) x norm.ppf(p), {probability_range(values)}:\n{what}{note}",
        fontsize=10,
    )
    return fig


def class_grid(images: np.ndarray, classes: list[str], columns: int) -> Figure:
    fig = new_figure("class-grid")
    show_grid(fig.subplots(), images, len(classes), columns, None, classes)
    fig.suptitle("E[x|z, c]: one z ~ N(0, I) per column, one class c per row", fontsize=10)
    return fig


# -- a run's figures ------------------------------------------------------------------


def why_not(name: str, model: VAE, history: list[dict]) -> str | None:
    """Why figure ``name`` does not apply to this model, or None if it does."""
    if name in ("elbo-curves", "loss-terms") and not history:
        return "the run has no per-epoch history"
    if name in ("latent-hist2d", "traversal-2d") and model.latent_dim < 2:
        return (
            f"it needs 2 latent dimensions and the model has {model.latent_dim}; "
            "train with --latent-dim 2 or more"
        )
    if name == "class-grid" and not model.n_classes:
        return (
            "the model has no class labels to condition on; train a conditional model "
            "(--model cvae or conv-cvae)"
        )
    return None


@dataclass
class Context:
    """What the figures of one run draw on."""

    model: VAE
    x: torch.Tensor  # the test images, as the model takes them
    labels: torch.Tensor
    classes: tuple[str, ...]
    seed: int
    values: torch.Tensor  # of the traversals: norm.ppf(linspace(low, high, 7))

    @property
    def c(self) -> torch.Tensor | None:
        return self.labels if self.model.n_classes else None

    def generators(self, name: str) -> tuple[torch.Generator, torch.Generator]:
        """(CPU, model's device) generators of figure ``name``."""
        seed = epoch_seed(self.seed, FIGURES.index(name))
        return (
            torch.Generator().manual_seed(seed),
            torch.Generator(self.model.device).manual_seed(seed),
        )

    def class_name(self, c: int) -> str:
        return self.classes[c] if c < len(self.classes) else str(c)

    def labels_of(self, idx) -> torch.Tensor | None:
        return None if self.c is None else self.c[idx]


def make_figures(
    run: Path,
    out: Path | None = None,
    only: list[str] | None = None,
    device: str = "auto",
    seed: int = 0,
    data_dir: Path | None = None,
    allow_download: bool | None = None,
    progress: bool = True,
    probabilities: tuple[float, float] = (0.05, 0.95),
) -> dict:
    """Draw the figures of ``run`` (all that apply, or ``only`` these) into ``out``
    (default RUN/figures); returns the report also written there as figures.json.
    The traversals decode norm.ppf of 7 probabilities evenly spaced over
    ``probabilities``."""
    values = latent.quantiles(TRAVERSAL_VALUES, *probabilities)  # checked before any work
    unknown = sorted(set(only or ()) - set(FIGURES))
    if unknown:
        raise VaeError(f"no figure named {', '.join(unknown)}; the figures: {', '.join(FIGURES)}")
    dev = resolve_device(device)
    loaded = load_run(run, dev)
    model, config, history = loaded.model.eval(), loaded.config, loaded.history
    wanted = [name for name in FIGURES if only is None or name in only]
    skipped = {name: why for name in wanted if (why := why_not(name, model, history))}
    if only is not None and skipped:
        name, why = next(iter(skipped.items()))
        raise VaeError(f"cannot draw {name} for {run}: {why}")
    wanted = [name for name in wanted if name not in skipped]
    out = Path(out) if out is not None else Path(run) / "figures"

    data = run_split(config, "test", dev, model.dtype, data_dir, allow_download, progress)
    ctx = Context(
        model, data.fixed.view(-1, *model.x_shape), data.labels, data.classes, seed, values
    )
    bound = dataset_elbo(model, ctx.x, ctx.c)
    report = {
        "run": str(run),
        "model": config.model,
        "latent_dim": model.latent_dim,
        "dataset": config.dataset,
        "pixels": config.pixels,
        "likelihood": config.likelihood,
        "test_examples": len(ctx.x),
        "test_elbo": bound.elbo,
        "test_log_px_given_z": bound.log_px_given_z,
        "test_kl": bound.kl,
        "test_reconstruction_loss": -bound.log_px_given_z,
        "seed": seed,
        "device": device_name(dev),
        "units": "nats per example",
        "figures": {},
        "skipped": skipped,
    }
    figures: dict[str, Figure] = {}
    if "elbo-curves" in wanted or "loss-terms" in wanted:
        figures |= {k: v for k, v in curves(history).items() if k in wanted}
    if "reconstructions" in wanted:
        cpu, gen = ctx.generators("reconstructions")
        idx = torch.randperm(len(ctx.x), generator=cpu)[:10].to(dev)
        rebuilt = model.reconstruct(ctx.x[idx], ctx.labels_of(idx), generator=gen)
        figures["reconstructions"] = reconstructions(
            as_images(ctx.x[idx]), as_images(rebuilt), -bound.log_px_given_z
        )
        report["reconstructed_test_indices"] = idx.tolist()
    if "samples" in wanted:
        _, gen = ctx.generators("samples")
        c = each_class(model, 10)
        names = [ctx.class_name(v) for v in c.tolist()] if c is not None else None
        figures["samples"] = samples(as_images(model.sample(10, gen, c)), names)
    if "interpolations" in wanted:
        figures["interpolations"], report["interpolation_pairs"] = _interpolations(ctx)
    if {"latent-hist2d", "traversals-1d", "traversal-2d"} & set(wanted):
        figures |= _latent_figures(ctx, wanted, report)
    if "class-grid" in wanted:
        _, gen = ctx.generators("class-grid")
        n = model.n_classes
        z = torch.randn((CLASS_GRID_COLUMNS, model.latent_dim), generator=gen, device=dev)
        c = torch.arange(n, device=dev).repeat_interleave(CLASS_GRID_COLUMNS)
        images = model.decode(z.repeat(n, 1), c)
        figures["class-grid"] = class_grid(
            as_images(images), [ctx.class_name(v) for v in range(n)], CLASS_GRID_COLUMNS
        )
    for name in wanted:
        report["figures"][name] = [str(p) for p in save(figures[name], out, name)]
    write_json(out / "figures.json", report)
    return report | {"path": str(out / "figures.json")}


def _interpolations(ctx: Context) -> tuple[Figure, list[dict]]:
    cpu, gen = ctx.generators("interpolations")
    pairs = latent.different_class_pairs(ctx.labels, N_INTERPOLATION_PAIRS, cpu)
    paths, ends, record = [], [], []
    for i, j in pairs:
        idx = torch.tensor([i, j], device=ctx.x.device)
        z0, z1 = latent.posterior_samples(ctx.model, ctx.x[idx], ctx.labels_of(idx), gen)
        ci, cj = int(ctx.labels[i]), int(ctx.labels[j])
        conditional = ctx.model.n_classes > 0
        path = latent.decode_interpolation(
            ctx.model,
            z0,
            z1,
            INTERPOLATION_STEPS,
            ci if conditional else None,
            cj if conditional else None,
        )
        paths.append(as_images(path))
        ends.append((ctx.class_name(ci), ctx.class_name(cj)))
        record.append({"test_indices": [i, j], "classes": [ci, cj]})
    return interpolations(np.concatenate(paths), ends), record


def _latent_figures(ctx: Context, wanted: list[str], report: dict) -> dict[str, Figure]:
    """latent-hist2d and the traversals share one set of posterior samples (and dims)."""
    model = ctx.model
    _, gen = ctx.generators("latent-hist2d")
    z = latent.posterior_samples(model, ctx.x, ctx.c, gen)
    dims = latent.top_variance_dims(z, min(2, model.latent_dim))
    variance = z.var(dim=0)
    values = ctx.values
    report["top_variance_dims"] = dims
    report["variance_of_dims"] = [variance[d].item() for d in dims]
    report["traversal_values"] = values.tolist()
    # a conditional model decodes the traversals for its first class
    note = f" (class {ctx.class_name(0)})" if model.n_classes else ""

    def decode(codes: torch.Tensor) -> np.ndarray:
        c = torch.zeros(len(codes), dtype=torch.long, device=model.device)
        return as_images(model.decode(codes.to(model.device), c if model.n_classes else None))

    figures = {}
    if "latent-hist2d" in wanted:
        a, b = (z[:, d].double().cpu().numpy() for d in dims)
        figures["latent-hist2d"] = latent_hist2d(a, b, dims)
    if "traversals-1d" in wanted:
        codes = torch.cat([latent.traversal_codes(model.latent_dim, [d], values) for d in dims])
        figures["traversals-1d"] = traversals_1d(decode(codes), dims, values, note)
    if "traversal-2d" in wanted:
        codes = latent.traversal_codes(model.latent_dim, dims, values)
        figures["traversal-2d"] = traversal_2d(decode(codes), dims, values, model.latent_dim, note)
    return figures


def write_samples(
    run: Path,
    n: int = 10,
    rows: int = 2,
    label: int | None = None,
    seed: int = 0,
    out: Path | None = None,
    device: str = "auto",
) -> list[Path]:
    """``vae sample``: a rows x n/rows grid of E[x|z], z ~ N(0, I) (for class ``label``
    of a conditional model; every class in turn when it is None), as PNG and SVG."""
    if n < 1 or rows < 1 or n % rows:
        raise VaeError(f"--n {n} images do not fill --rows {rows} rows; give a multiple of it")
    dev = resolve_device(device)
    model = load_run(run, dev).model.eval()
    if label is not None and not model.n_classes:
        raise VaeError("--label needs a conditional model (--model cvae or conv-cvae)")
    c = None
    if model.n_classes:
        c = each_class(model, n) if label is None else label
    images = model.sample(n, torch.Generator(dev).manual_seed(seed), c)
    cols = n // rows
    fig = Figure(figsize=(0.6 * cols + 0.4, 0.6 * rows + 0.5), dpi=DPI, layout="constrained")
    what = "" if label is None else f", class {label}"
    show_grid(fig.subplots(), as_images(images), rows, cols, f"z ~ N(0, I), seed {seed}{what}")
    name = f"samples-n{n}-seed{seed}" + ("" if label is None else f"-class{label}")
    if out is None:
        return save(fig, Path(run) / "figures", name)
    return save(fig, Path(out).parent, Path(out).name)
