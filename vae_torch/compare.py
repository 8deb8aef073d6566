"""``vae compare RUN RUN...``: trained models side by side (the feed-forward VAE lab's).

For each run: the parameters of encoder and decoder (sum(p.numel() for p in
module.parameters())), the test ELBO with its two parts, the importance-weighted
estimate IWAE_k of log p(x) (a tighter bound: the log-likelihood itself is
intractable), the training time and where it ran; with ``samplers``, the judged
samples of each sampler fitted to each run's codes (``vae_torch.samplers``) in a second
table, a row per run and sampler, the model's own prior first. Written as comparison.md,
comparison.json and one figure of each model's samples (z ~ p(z), each model's prior:
the same draws of N(0, I) where the latent sizes agree and the priors are N(0, I)), in
``out``.

Only runs on the same data, pixel view and likelihood are compared: the ELBO of a
Gaussian likelihood on dequantized pixels and the BCE of grey levels are numbers
of different quantities.
"""

from pathlib import Path

import torch
from matplotlib.figure import Figure

from vae_numpy.run.errors import VaeError
from vae_numpy.run.io import write_json, write_text
from vae_numpy.run.options import DEFAULTS, Options
from vae_torch.checkpoint import LoadedRun, load_run
from vae_torch.device import resolve_device
from vae_torch.evaluation import Bounds, Evaluation, evaluation_of, specs_judged
from vae_torch.latent import each_class
from vae_torch.models import VAE
from vae_torch.plotting import DPI, as_images, save, show_grid
from vae_torch.quality.estimate import Estimate
from vae_torch.quality.samples import Column, columns

SAME = ("dataset", "pixels", "likelihood")  # and the likelihood's parameters


def parameter_counts(model: VAE) -> dict[str, int]:
    """Trainable parameters of the encoder, the decoder and the whole model."""
    return {part or "total": model.count_parameters(part) for part in ("encoder", "decoder", None)}


def compare_runs(
    runs: list[Path],
    *,
    k: int = 1000,
    out: Path | None = None,
    seed: int = 0,
    reuse: bool = True,
    options: Options = DEFAULTS,
    samples: int | None = 1000,
    checkpoint: str = "best",
    samplers: tuple[str, ...] = (),
) -> dict:
    """Compare ``runs`` (their ``checkpoint`` parameters, with ``samples`` samples judged,
    of the prior and of each of ``samplers``; None: none); writes comparison.{md,json,png,
    svg} into ``out`` (default: a folder "comparison" beside the first run) and returns the
    JSON record."""
    runs = [Path(r) for r in runs]
    if len(runs) < 2:
        raise VaeError("give at least two run folders to compare")
    if len({r.resolve() for r in runs}) < len(runs):
        raise VaeError("a run is named twice; give each run once")
    dev = resolve_device(options.device or "auto")
    loaded = [load_run(r, dev, checkpoint) for r in runs]
    check_comparable(runs, loaded)
    names = [r.name for r in runs]
    if len(set(names)) < len(names):
        names = [str(r) for r in runs]
    rows = []
    for name, item in zip(names, loaded, strict=True):
        evaluation, reused = evaluation_of(
            item.folder,
            k=k,
            samples=samples,
            checkpoint=item.which,
            options=options,
            reuse=reuse,
            samplers=samplers,
        )
        rows.append(comparison_row(name, item, evaluation, reused))
    first = loaded[0].config
    record = {
        "dataset": first.dataset,
        "pixels": first.pixels,
        "likelihood": first.likelihood,
        "parameters": likelihood_parameters(loaded),
        "test_examples": evaluation.examples,
        "units": "nats per example; training time in seconds (optimisation steps only)",
        "runs": rows,
        "samplers": specs_judged(samplers),
    }
    out = Path(out) if out is not None else runs[0].parent / "comparison"
    table = markdown_table(record)
    write_text(out / "comparison.md", table + "\n")
    write_json(out / "comparison.json", record)
    figure = samples_side_by_side([item.model for item in loaded], names, seed, rows)
    files = save(figure, out, "comparison")
    return record | {"table": table, "files": [str(out / "comparison.md"), *map(str, files)]}


def likelihood_parameters(loaded: list[LoadedRun]) -> dict[str, list[float]]:
    """The values each likelihood parameter takes across the runs, by its table symbol."""
    values: dict[str, set[float]] = {}
    for item in loaded:
        for p in item.model.likelihood.parameters:
            values.setdefault(p.symbol or p.name, set()).add(getattr(item.model.likelihood, p.name))
    return {symbol: sorted(found) for symbol, found in values.items()}


def is_likelihood(item: LoadedRun) -> bool:
    """Whether the run's ELBO is a bound on a normalised likelihood of its pixels."""
    config = item.config
    return item.model.likelihood.bits_per_dim(1.0, config.pixels, 1) is not None


def check_comparable(runs: list[Path], loaded: list[LoadedRun]) -> None:
    """Refuse runs whose ELBOs measure different things. Runs on the same data and pixel
    view compare when their likelihoods are the same (with the same parameters), or when
    each is a normalised likelihood of those pixels (then nats are nats: a Gaussian of
    σ = 0.1 against one of σ = 0.3 on dequantized pixels)."""
    first = loaded[0]
    for run, other in zip(runs[1:], loaded[1:], strict=True):
        fields = [(f, getattr(first.config, f), getattr(other.config, f)) for f in SAME]
        if is_likelihood(first) and is_likelihood(other):
            fields = fields[:-1]  # ("likelihood", ...): any two densities of the same data
        elif first.config.likelihood == other.config.likelihood:
            mine, theirs = first.model.likelihood.params(), other.model.likelihood.params()
            fields += [(p, mine[p], theirs[p]) for p in mine]
        differ = [f"{f} {a!r} vs {b!r}" for f, a, b in fields if a != b]
        if differ:
            raise VaeError(
                f"{runs[0]} and {run} are not comparable ({', '.join(differ)}): their ELBOs "
                "measure different things; compare runs trained on the same data and likelihood"
            )


def comparison_row(name: str, item: LoadedRun, evaluation: Evaluation, reused: bool) -> dict:
    history, config = item.history, item.config
    return {
        "name": name,
        "run": str(item.folder),
        "model": config.model,
        "likelihood": repr(item.model.likelihood),
        "hidden": list(config.hidden),
        "latent_dim": config.latent_dim,
        "parameters": parameter_counts(item.model),
        "epochs": len(history),
        **evaluation.bounds.compared(),
        "train_seconds": sum(r.get("train_seconds", r.get("seconds", 0)) for r in history),
        "trained_on": item.folder.environment().get("device") or config.backend,
        "evaluation": evaluation.path,
        "evaluation_reused": reused,
        "checkpoint": item.checkpoint,
        "active_units": evaluation.latent.active_units,
        "sample_quality": evaluation.sample_quality,
        "prior": item.model.prior.describe(),
        "samplers": evaluation.samplers or {},
    }


def compared_columns() -> list[Column]:
    """The sample scores the table shows: every registered metric's compared columns."""
    return [column for column in columns() if column.compared]


def sample_cells(q: dict | None) -> list[str]:
    """Value ± standard error of each compared sample score, or n/a."""
    return [
        Estimate.of(q[c.key]).show(c.digits) if q and c.key in q else "n/a"
        for c in compared_columns()
    ]


def markdown_table(record: dict) -> str:
    params = "".join(
        f", {symbol} = " + ", ".join(map(str, values))
        for symbol, values in record["parameters"].items()
    )
    k = record["runs"][0]["iwae_k"]
    head = [
        "run",
        "model",
        "likelihood",
        "hidden",
        "latent",
        "encoder params",
        "decoder params",
        "total params",
        *Bounds.compared_headers(k),
        "active units",
        *(column.header for column in compared_columns()),
        "train time (s)",
        "epochs (checkpoint)",
        "trained on",
    ]
    lines = [
        f"{record['dataset']} test set ({record['test_examples']:,} images), {record['pixels']} "
        f"pixels, {record['likelihood']} likelihood{params}; nats per image, higher is better "
        "(ELBO = E_q[log p(x|z)] − KL ≤ IWAE_k ≤ log p(x) in expectation)",
        judge_line(record["runs"][0]["sample_quality"]),
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" if i < 4 else "---:" for i in range(len(head))) + "|",
    ]
    for r in record["runs"]:
        p = r["parameters"]
        cells = [
            r["name"],
            r["model"],
            r["likelihood"],
            ",".join(map(str, r["hidden"])) or "none",
            str(r["latent_dim"]),
            f"{p['encoder']:,}",
            f"{p['decoder']:,}",
            f"{p['total']:,}",
            *Bounds.compared_cells(r),
            str(r["active_units"]),
            *sample_cells(r["sample_quality"]),
            f"{r['train_seconds']:.1f}",
            r["checkpoint"],
            r["trained_on"],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if record.get("samplers"):
        lines += ["", *sampler_table(record)]
    return "\n".join(lines)


def sampler_table(record: dict) -> list[str]:
    """A row per run and sampler: the model's prior first, then each sampler fitted to its
    codes, on the compared sample scores."""
    head = ["run", "codes from", *(column.header for column in compared_columns())]
    lines = [
        "samplers: the same number of samples of each, judged alike; only the prior's are "
        "the model's own",
        "",
        "| " + " | ".join(head) + " |",
        "|---|---|" + "---:|" * len(compared_columns()),
    ]
    for r in record["runs"]:
        rows = [(f"prior, {r['prior']}", r["sample_quality"])]
        rows += [(spec, r["samplers"].get(spec)) for spec in record["samplers"]]
        for label, q in rows:
            lines.append("| " + " | ".join([r["name"], label, *sample_cells(q)]) + " |")
    return lines


def samples_side_by_side(
    models: list[VAE], names: list[str], seed: int, rows: list[dict]
) -> Figure:
    """One 2x5 grid of E[x|z], z ~ p(z) (each model's prior), per model; the same generator
    seed for each; each titled with its recognisable share where the samples were judged."""
    fig = Figure(figsize=(4.2 * len(models), 3.1), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, len(models))
    for ax, model, name, row in zip(axes, models, names, rows, strict=True):
        gen = torch.Generator(model.device).manual_seed(seed)
        images = as_images(model.sample(10, gen, each_class(model, 10)), model.image_shape)
        title = f"{name}\n{model.count_parameters():,} parameters"
        q = row["sample_quality"]
        if q and "n/a" not in q:
            title += f"; recognisable {Estimate.of(q['recognisable_share']).show(2)}"
        show_grid(ax, images, 2, 5, title)
    fig.suptitle(f"E[x|z] for z ~ p(z), each model's prior (seed {seed})", fontsize=10)
    return fig


def judge_line(q: dict | None) -> str:
    """What the sample columns are: the judge, its own scores on real test images."""
    if not q:
        return "samples not judged"
    if "n/a" in q:
        return f"samples: n/a, {q['n/a']}"
    j = q["judge"]
    return (
        f"samples: {q['samples']:,} E[x|z], z ~ p(z), per run, judged by a CNN with test "
        f"accuracy {j['test_accuracy']:.3f} that recognises {j['test_confident_share']:.3f} "
        f"of real test images (confidence >= {j['confident']}); the Fréchet distance of "
        f"{q['samples']:,} training images to the test images is "
        f"{q['frechet_floor_train_vs_test']:.2f}; ± one standard error"
    )
