"""``vae sample RUN``: a grid of images decoded from z ~ N(0, I) (or from another sampler,
``vae_torch.samplers``), judged."""

from pathlib import Path

import torch

from vae_numpy.data import load_dataset
from vae_numpy.run.errors import VaeError
from vae_numpy.run.folder import RunFolder
from vae_numpy.run.options import DEFAULTS, Options
from vae_torch.checkpoint import load_run
from vae_torch.device import resolve_device
from vae_torch.latent import each_class
from vae_torch.plotting import as_images, new_figure, save, show_grid
from vae_torch.quality.judge import CONFIDENT, get_judge
from vae_torch.samplers import check_specs, sampler_for


def write_samples(
    run: Path,
    *,
    n: int = 10,
    rows: int = 2,
    label: int | None = None,
    seed: int = 0,
    out: Path | None = None,
    checkpoint: str = "best",
    options: Options = DEFAULTS,
    sampler: str = "prior",
) -> list[Path]:
    """A rows x n/rows grid of E[x|z], z ~ N(0, I) or drawn by ``sampler`` (for class
    ``label`` of a conditional model; every class in turn when it is None), as PNG and SVG:
    ``out``.png and .svg, by default RUN/figures/samples-nN-seedS[-classC][-SAMPLER]. The
    title names the sampler and says how many of them the dataset's judge recognises."""
    if n < 1 or rows < 1 or n % rows:
        raise VaeError(f"--n {n} images do not fill --rows {rows} rows; give a multiple of it")
    check_specs([sampler])
    dev = resolve_device(options.device or "auto")
    loaded = load_run(run, dev, checkpoint)
    model = loaded.model.eval()
    if label is not None and not model.n_classes:
        raise VaeError("--label needs a conditional model (--model cvae or conv-cvae)")
    c = None
    if model.n_classes:
        c = each_class(model, n) if label is None else label
    drawn = sampler_for(loaded, sampler, options)
    images = model.sample(n, torch.Generator(dev).manual_seed(seed), c, sampler=drawn)
    cols = n // rows
    fig = new_figure((max(0.6 * cols + 0.4, 4.0), 0.6 * rows + 0.8))
    what = "" if label is None else f", class {label}"
    title = f"{drawn.describe(model)}, seed {seed}{what}; {loaded.checkpoint} checkpoint\n"
    title += judged(loaded.config.dataset, images.reshape(n, *model.image_shape), label, options)
    show_grid(fig.subplots(), as_images(images, model.image_shape), rows, cols, title)
    name = f"samples-n{n}-seed{seed}" + ("" if label is None else f"-class{label}")
    if not drawn.is_prior:
        name += "-" + drawn.spec.replace(":", "-")
    if out is None:
        return save(fig, RunFolder(run).figures, name)
    return save(fig, Path(out).parent, Path(out).name)


def judged(dataset: str, images: torch.Tensor, label: int | None, options: Options) -> str:
    """How many of ``images`` the judge of ``dataset`` recognises (and calls ``label``)."""
    if len(load_dataset(dataset, options).classes) < 2:
        return f"{dataset} has no labels: no judge"
    judge = get_judge(dataset, options)
    probs, _ = judge.outputs(images)
    confident = probs.max(dim=-1).values >= CONFIDENT
    text = f"{int(confident.sum())} of {len(images)} recognised"
    if label is not None:
        text += f", {int((probs.argmax(-1) == label).sum())} judged class {label}"
    return text + f" (judge test accuracy {judge.record.test_accuracy:.3f})"
