"""The figures' registry and the context they draw on: ``register_figure``, ``Context``,
``make_figures`` (``vae figures RUN``), described in ``vae_torch.figures``."""

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import torch
from matplotlib.figure import Figure

from vae_numpy.run.errors import VaeError
from vae_numpy.run.folder import RunFolder
from vae_numpy.run.io import write_json
from vae_numpy.run.options import DEFAULTS, Options
from vae_numpy.run.records import Bound, stream_seed
from vae_torch import latent
from vae_torch.checkpoint import LoadedRun, load_run
from vae_torch.data import run_split
from vae_torch.device import device_name, resolve_device
from vae_torch.models import VAE
from vae_torch.plotting import DPI, as_images, new_figure, save
from vae_torch.quality.bounds import dataset_elbo
from vae_torch.quality.diagnostics import LatentDiagnostics, dims_by_kl, latent_diagnostics
from vae_torch.quality.estimate import Estimate
from vae_torch.quality.judge import get_judge
from vae_torch.quality.samples import PRIOR, draw_samples, recognisable_share
from vae_torch.samplers import Sampler, sampler_for

TRAVERSAL_VALUES = 7  # norm.ppf(linspace(0.05, 0.95, 7))
QUALITY_SAMPLES = 1000  # samples judged for the recognisable share in a title


@dataclass
class Context:
    """What the figures of one run draw on. A figure writes the numbers only it shows into
    ``report``; the measurements several share are cached properties, reported by
    ``measured``."""

    model: VAE
    history: list[dict]
    x: torch.Tensor  # the test images, as the model takes them
    labels: torch.Tensor
    classes: tuple[str, ...]
    bound: Bound  # the test ELBO and its parts
    seed: int
    values: torch.Tensor  # of the traversals: norm.ppf(linspace(low, high, 7))
    dataset: str
    options: Options
    run: LoadedRun | None = None  # the run the model is of (the samplers fitted to it)
    evaluated: dict | None = None  # the run's evaluation record that judged samples
    report: dict = field(default_factory=dict)
    shares: dict = field(default_factory=dict)  # sampler spec -> its judged share

    @property
    def c(self) -> torch.Tensor | None:
        return self.labels if self.model.n_classes else None

    def generators(self, stream: str) -> tuple[torch.Generator, torch.Generator]:
        """(CPU, model's device) generators of the random stream named ``stream``."""
        seed = stream_seed(self.seed, stream)
        return (
            torch.Generator().manual_seed(seed),
            torch.Generator(self.model.device).manual_seed(seed),
        )

    def class_name(self, c: int) -> str:
        return self.classes[c] if c < len(self.classes) else str(c)

    def labels_of(self, idx) -> torch.Tensor | None:
        return None if self.c is None else self.c[idx]

    def images(self, x: torch.Tensor):
        """Model inputs or outputs as (N, H, W) images to show."""
        return as_images(x, self.model.image_shape)

    @cached_property
    def judge(self):
        """The dataset's judge (vae_torch.quality.judge), or None for a dataset without labels."""
        return get_judge(self.dataset, self.options) if len(self.classes) >= 2 else None

    @property
    def judged(self) -> dict:
        """The recognisable share of the prior's samples that the titles quote."""
        return self.share_of(PRIOR)

    def recognised(self, shown: torch.Tensor) -> str:
        """What the judge says of the model's samples: their recognisable share (± its
        standard error, of the run's evaluation record where there is one) and the count
        among ``shown``."""
        if self.judge is None:
            return f"{self.dataset} has no labels: no judge"
        count = recognisable_share(self.judge, shown.reshape(-1, *self.model.image_shape))
        share = self.judged
        return (
            f"recognisable share {Estimate.of(share).show()} of {share['samples']:,} "
            f"samples, {round(count['value'] * len(shown))} of these "
            f"{len(shown)} (judge test accuracy {self.judge.record.test_accuracy:.3f})"
        )

    def recorded_share(self, sampler: Sampler) -> dict | None:
        """The recognisable share of ``sampler``'s samples in the run's evaluation record,
        where that record judged them with this judge: one number per fact, the one the
        tables quote. None where it did not."""
        record = self.evaluated or {}
        rows = {PRIOR.spec: record.get("sample_quality")} | (record.get("samplers") or {})
        row, mine = rows.get(sampler.spec) or {}, self.judge.record
        judge = row.get("judge") or {}
        if (judge.get("content_sha256"), judge.get("version")) != (
            mine.content_sha256,
            mine.version,
        ):
            return None
        return row["recognisable_share"] | {"samples": row["samples"], "record": record["path"]}

    def sampler(self, spec: str) -> Sampler:
        """The sampler ``spec`` of the run (``vae_torch.samplers``; fitted on first use)."""
        if self.run is None:
            raise VaeError(f"the sampler {spec} needs the run the model is of")
        return sampler_for(self.run, spec, self.options)

    def share_of(self, sampler: Sampler) -> dict | None:
        """The recognisable share of ``sampler``'s samples (None: no judge): the run's
        evaluation record's, else measured on QUALITY_SAMPLES of them; ``measured``
        reports each, with where it came from."""
        if self.judge is None:
            return None
        if sampler.spec not in self.shares:
            share = self.recorded_share(sampler)
            if share is None:
                seed = stream_seed(self.seed, "judged")
                many, _, _ = draw_samples(self.model, QUALITY_SAMPLES, seed, sampler)
                share = recognisable_share(self.judge, many) | {"samples": QUALITY_SAMPLES}
            self.shares[sampler.spec] = share
        return self.shares[sampler.spec]

    def called(self, images: torch.Tensor, c: torch.Tensor) -> str:
        """How many of a conditional model's ``images`` the judge calls their class c."""
        if self.judge is None:
            return ""
        probs, _ = self.judge.outputs(images.reshape(-1, *self.model.image_shape))
        hits = int((probs.argmax(-1) == c.cpu()).sum())
        return f"{hits} of these {len(images)} judged the class of their row"

    @cached_property
    def diagnostics(self) -> LatentDiagnostics:
        """KL per dimension, active units and the ELBO surgery of the test set."""
        return latent_diagnostics(self.model, self.x, self.c)

    @cached_property
    def posterior(self) -> torch.Tensor:
        """One z ~ q(z|x) per test image (N, latent), shared by the latent figures."""
        _, gen = self.generators("posterior-samples")
        return latent.posterior_samples(self.model, self.x, self.c, gen)

    @cached_property
    def top_dims(self) -> list[int]:
        """The (at most 2) latent dimensions of highest variance over ``posterior`` (the
        course's recipe); ``measured`` reports them beside their KL and the dimensions of
        highest KL, which the variance does not always pick."""
        return latent.top_variance_dims(self.posterior, min(2, self.model.latent_dim))

    @cached_property
    def by_kl(self) -> list[int]:
        """The latent dimensions by their test-set KL (4.7), highest first."""
        return dims_by_kl(self.diagnostics.kl_per_dim)

    def measured(self) -> dict:
        """The numbers of the shared measurements the drawn figures used, for figures.json:
        a measurement no figure needed (not in the instance's cache) is not made here."""
        used, record = self.__dict__, {}
        if PRIOR.spec in self.shares:
            record["recognisable_share"] = self.shares[PRIOR.spec]
        if self.shares:
            record["judge"] = asdict(self.judge.record)
        if "diagnostics" in used:
            record["latent"] = self.diagnostics.json()
        if others := {k: v for k, v in self.shares.items() if k != PRIOR.spec}:
            record["samplers_recognisable_share"] = others
        if "top_dims" in used:
            dims, variance = self.top_dims, self.posterior.var(dim=0)
            record["top_variance_dims"] = dims
            record["variance_of_dims"] = [variance[d].item() for d in dims]
            record["kl_of_dims"] = [self.diagnostics.kl_per_dim[d] for d in dims]
            record["top_kl_dims"] = self.by_kl[: len(dims)]
        return record


@dataclass(frozen=True)
class FigureKind:
    name: str
    size: tuple[float, float]  # (width, height) in inches
    draw: Callable[[Context], Figure]
    why_not: Callable[[VAE, list[dict]], str | None]  # None: it applies


FIGURES: dict[str, FigureKind] = {}


def always(model: VAE, history: list[dict]) -> None:
    return None


def register_figure(
    name: str,
    size: tuple[float, float],
    why_not: Callable[[VAE, list[dict]], str | None] = always,
):
    """Decorator: make ``draw(ctx) -> Figure`` the figure ``name`` of ``vae figures``."""

    def decorate(draw: Callable[[Context], Figure]) -> Callable[[Context], Figure]:
        FIGURES[name] = FigureKind(name, size, draw, why_not)
        return draw

    return decorate


def figure_of(name: str) -> Figure:
    """An empty figure at the registered size of ``name``."""
    return new_figure(FIGURES[name].size)


def pixel_size(name: str) -> tuple[int, int]:
    """(width, height) in pixels of figure ``name``'s PNG."""
    width, height = FIGURES[name].size
    return round(width * DPI), round(height * DPI)


def why_not(name: str, model: VAE, history: list[dict]) -> str | None:
    """Why figure ``name`` does not apply to this model, or None if it does."""
    return FIGURES[name].why_not(model, history)


def make_figures(
    run: Path,
    *,
    out: Path | None = None,
    only: list[str] | None = None,
    seed: int = 0,
    probabilities: tuple[float, float] = (0.05, 0.95),
    options: Options = DEFAULTS,
    checkpoint: str = "best",
) -> dict:
    """Draw the figures of ``run`` (all that apply, or ``only`` these) into ``out``
    (default RUN/figures); returns the report also written there as figures.json.
    The traversals decode norm.ppf of 7 probabilities evenly spaced over
    ``probabilities``."""
    values = latent.quantiles(TRAVERSAL_VALUES, *probabilities)  # checked before any work
    unknown = sorted(set(only or ()) - set(FIGURES))
    if unknown:
        raise VaeError(f"no figure named {', '.join(unknown)}; the figures: {', '.join(FIGURES)}")
    dev = resolve_device(options.device or "auto")
    loaded = load_run(run, dev, checkpoint)
    model, config, history = loaded.model.eval(), loaded.config, loaded.history
    wanted = [name for name in FIGURES if only is None or name in only]
    skipped = {name: why for name in wanted if (why := why_not(name, model, history))}
    if only is not None and skipped:
        name, why = next(iter(skipped.items()))
        raise VaeError(f"cannot draw {name} for {run}: {why}")
    out = Path(out) if out is not None else RunFolder(run).figures

    data = run_split(config, "test", dev, model.dtype, options)
    x = data.fixed.view(-1, *model.x_shape)
    bound = dataset_elbo(model, x, data.labels if model.n_classes else None)
    ctx = Context(
        model,
        history,
        x,
        data.labels,
        data.classes,
        bound,
        seed,
        values,
        config.dataset,
        options,
        loaded,
        RunFolder(run).judged_evaluation(len(history), loaded.which),
    )
    report = {"run": str(run)} | report_head(ctx, loaded, dev) | {"seed": seed, "skipped": skipped}
    for name in (n for n in wanted if n not in skipped):
        figure = FIGURES[name].draw(ctx)
        report["figures"][name] = [str(p) for p in save(figure, out, name)]
    report |= ctx.report | ctx.measured()
    write_json(out / "figures.json", report)
    return report | {"path": str(out / "figures.json")}


def report_head(ctx: Context, loaded: LoadedRun, dev: torch.device) -> dict:
    """What figures.json says of the run and its test ELBO, before the figures."""
    config, bound = loaded.config, ctx.bound
    return {
        "model": config.model,
        "checkpoint": loaded.checkpoint,
        "latent_dim": ctx.model.latent_dim,
        "dataset": config.dataset,
        "pixels": config.pixels,
        "likelihood": config.likelihood,
        "test_examples": len(ctx.x),
        "test_elbo": bound.elbo,
        "test_log_px_given_z": bound.log_px_given_z,
        "test_kl": bound.kl,
        "test_reconstruction_loss": -bound.log_px_given_z,
        "device": device_name(dev),
        "units": "nats per example",
        "figures": {},
    }
