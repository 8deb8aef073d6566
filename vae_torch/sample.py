"""``vae sample RUN``: a grid of images decoded from z ~ N(0, I)."""

from pathlib import Path

import torch

from vae_numpy.run.errors import VaeError
from vae_numpy.run.folder import RunFolder
from vae_torch.checkpoint import load_run
from vae_torch.device import resolve_device
from vae_torch.latent import each_class
from vae_torch.plotting import as_images, new_figure, save, show_grid


def write_samples(
    run: Path,
    n: int = 10,
    rows: int = 2,
    label: int | None = None,
    seed: int = 0,
    out: Path | None = None,
    device: str = "auto",
) -> list[Path]:
    """A rows x n/rows grid of E[x|z], z ~ N(0, I) (for class ``label`` of a conditional
    model; every class in turn when it is None), as PNG and SVG: ``out``.png and .svg,
    by default RUN/figures/samples-nN-seedS[-classC]."""
    if n < 1 or rows < 1 or n % rows:
        raise VaeError(f"--n {n} images do not fill --rows {rows} rows; give a multiple of it")
    dev = resolve_device(device)
    model = load_run(run, dev).model.eval()
    if label is not None and not model.n_classes:
        raise VaeError("--label needs a conditional model (--model cvae or conv-cvae)")
    c = None
    if model.n_classes:
        c = each_class(model, n) if label is None else label
    images = as_images(
        model.sample(n, torch.Generator(dev).manual_seed(seed), c), model.image_shape
    )
    cols = n // rows
    fig = new_figure((0.6 * cols + 0.4, 0.6 * rows + 0.5))
    what = "" if label is None else f", class {label}"
    show_grid(fig.subplots(), images, rows, cols, f"z ~ N(0, I), seed {seed}{what}")
    name = f"samples-n{n}-seed{seed}" + ("" if label is None else f"-class{label}")
    if out is None:
        return save(fig, RunFolder(run).figures, name)
    return save(fig, Path(out).parent, Path(out).name)
