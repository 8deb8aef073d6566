"""``vae compare RUN RUN...``: trained models side by side (seed 002's lab).

For each run: the parameters of encoder and decoder (sum(p.numel() for p in
module.parameters())), the test ELBO with its two parts, the importance-weighted
estimate IWAE_k of log p(x) (a tighter bound: the log-likelihood itself is
intractable), the training time and where it ran. Written as comparison.md,
comparison.json and one figure of each model's samples (the same z ~ N(0, I)
where the latent sizes agree), in ``out``.

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
from vae_torch.evaluate import evaluate_run
from vae_torch.latent import each_class
from vae_torch.models import VAE
from vae_torch.plotting import DPI, as_images, save, show_grid

SAME = ("dataset", "pixels", "likelihood")  # and the likelihood's parameters


def parameter_counts(model: VAE) -> dict[str, int]:
    """Trainable parameters of the encoder, the decoder and the whole model."""
    return {part or "total": model.count_parameters(part) for part in ("encoder", "decoder", None)}


def compare_runs(
    runs: list[Path],
    k: int = 1000,
    out: Path | None = None,
    seed: int = 0,
    reuse: bool = True,
    options: Options = DEFAULTS,
) -> dict:
    """Compare ``runs``; writes comparison.{md,json,png,svg} into ``out`` (default: a
    folder "comparison" beside the first run) and returns the JSON record."""
    runs = [Path(r) for r in runs]
    if len(runs) < 2:
        raise VaeError("give at least two run folders to compare")
    if len({r.resolve() for r in runs}) < len(runs):
        raise VaeError("a run is named twice; give each run once")
    dev = resolve_device(options.device or "auto")
    loaded = [load_run(r, dev) for r in runs]
    check_comparable(runs, loaded)
    names = [r.name for r in runs]
    if len(set(names)) < len(names):
        names = [str(r) for r in runs]
    rows, evaluation = [], {}
    for name, item in zip(names, loaded, strict=True):
        evaluation = reuse and item.folder.cached_evaluation(k, len(item.history))
        reused = bool(evaluation)
        if not evaluation:
            evaluation = evaluate_run(item.folder.path, k, "test", options)
        rows.append(comparison_row(name, item, evaluation, reused))
    first = loaded[0].config
    record = {
        "dataset": first.dataset,
        "pixels": first.pixels,
        "likelihood": first.likelihood,
        "sigma": loaded[0].model.likelihood.params().get("sigma"),
        "test_examples": evaluation["examples"],
        "units": "nats per example; training time in seconds (optimisation steps only)",
        "runs": rows,
    }
    out = Path(out) if out is not None else runs[0].parent / "comparison"
    table = markdown_table(record)
    write_text(out / "comparison.md", table + "\n")
    write_json(out / "comparison.json", record)
    figure = samples_side_by_side([item.model for item in loaded], names, seed)
    files = save(figure, out, "comparison")
    return record | {"table": table, "files": [str(out / "comparison.md"), *map(str, files)]}


def check_comparable(runs: list[Path], loaded: list[LoadedRun]) -> None:
    """Refuse runs whose ELBOs measure different things."""
    first = loaded[0]
    for run, other in zip(runs[1:], loaded[1:], strict=True):
        fields = [(f, getattr(first.config, f), getattr(other.config, f)) for f in SAME]
        if first.config.likelihood == other.config.likelihood:
            mine, theirs = first.model.likelihood.params(), other.model.likelihood.params()
            fields += [(p, mine[p], theirs[p]) for p in mine]
        differ = [f"{f} {a!r} vs {b!r}" for f, a, b in fields if a != b]
        if differ:
            raise VaeError(
                f"{runs[0]} and {run} are not comparable ({', '.join(differ)}): their ELBOs "
                "measure different things; compare runs trained on the same data and likelihood"
            )


def comparison_row(name: str, item: LoadedRun, evaluation: dict, reused: bool) -> dict:
    history, config = item.history, item.config
    return {
        "name": name,
        "run": str(item.folder),
        "model": config.model,
        "hidden": list(config.hidden),
        "latent_dim": config.latent_dim,
        "parameters": parameter_counts(item.model),
        "epochs": len(history),
        "test_elbo": evaluation["elbo"],
        "test_log_px_given_z": evaluation["log_px_given_z"],
        "test_kl": evaluation["kl"],
        "iwae_k": evaluation["iwae_k"],
        "iwae": evaluation["iwae"],
        "iwae_standard_error": evaluation["iwae_standard_error"],
        "iwae_bits_per_dim": evaluation["iwae_bits_per_dim"],
        "train_seconds": sum(r.get("train_seconds", r.get("seconds", 0)) for r in history),
        "trained_on": item.folder.environment().get("device") or config.backend,
        "evaluation": evaluation["path"],
        "evaluation_reused": reused,
    }


def markdown_table(record: dict) -> str:
    sigma = f", σ = {record['sigma']}" if record["sigma"] is not None else ""
    k = record["runs"][0]["iwae_k"]
    head = [
        "run",
        "model",
        "hidden",
        "latent",
        "encoder params",
        "decoder params",
        "total params",
        "test ELBO",
        "E_q[log p(x|z)]",
        "KL",
        f"IWAE k={k}",
        "± SE",
        "train time (s)",
        "epochs",
        "trained on",
    ]
    lines = [
        f"{record['dataset']} test set ({record['test_examples']:,} images), {record['pixels']} "
        f"pixels, {record['likelihood']} likelihood{sigma}; nats per image, higher is better "
        "(ELBO = E_q[log p(x|z)] − KL ≤ IWAE_k ≤ log p(x) in expectation)",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" if i < 3 else "---:" for i in range(len(head))) + "|",
    ]
    for r in record["runs"]:
        p = r["parameters"]
        cells = [
            r["name"],
            r["model"],
            ",".join(map(str, r["hidden"])) or "none",
            str(r["latent_dim"]),
            f"{p['encoder']:,}",
            f"{p['decoder']:,}",
            f"{p['total']:,}",
            f"{r['test_elbo']:.2f}",
            f"{r['test_log_px_given_z']:.2f}",
            f"{r['test_kl']:.2f}",
            f"{r['iwae']:.2f}",
            f"{r['iwae_standard_error']:.2f}",
            f"{r['train_seconds']:.1f}",
            str(r["epochs"]),
            r["trained_on"],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def samples_side_by_side(models: list[VAE], names: list[str], seed: int) -> Figure:
    """One 2x5 grid of E[x|z], z ~ N(0, I), per model; the same generator seed for each."""
    fig = Figure(figsize=(4.2 * len(models), 2.9), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, len(models))
    for ax, model, name in zip(axes, models, names, strict=True):
        gen = torch.Generator(model.device).manual_seed(seed)
        images = as_images(model.sample(10, gen, each_class(model, 10)), model.image_shape)
        show_grid(ax, images, 2, 5, f"{name}\n{model.count_parameters():,} parameters")
    fig.suptitle(f"E[x|z] for z ~ N(0, I) (seed {seed})", fontsize=10)
    return fig
