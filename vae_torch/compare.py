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

import json
from pathlib import Path

import torch
from matplotlib.figure import Figure

from vae_numpy.errors import VaeError
from vae_numpy.io import atomic_path
from vae_numpy.runs import write_json
from vae_torch.checkpoint import load_run
from vae_torch.device import resolve_device
from vae_torch.figures import DPI, as_images, each_class, save, show_grid
from vae_torch.models import VAE
from vae_torch.report import evaluate_run

SAME = ("dataset", "pixels", "likelihood")  # and sigma, for a Gaussian likelihood


def parameter_counts(model: VAE) -> dict[str, int]:
    """Trainable parameters of the encoder, the decoder and the whole model."""

    def count(module: torch.nn.Module) -> int:
        return sum(p.numel() for p in module.parameters() if p.requires_grad)

    return {"encoder": count(model.encoder), "decoder": count(model.decoder), "total": count(model)}


def cached_evaluation(run: Path, k: int, epochs: int) -> dict | None:
    """A test evaluation with this k already in the run folder, if it is of the
    model as it is now (same number of epochs)."""
    path = Path(run) / f"evaluation-test-k{k}.json"
    try:
        result = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if result.get("epochs_trained") != epochs or "iwae" not in result:
        return None
    return result | {"path": str(path)}


def compare_runs(
    runs: list[Path],
    k: int = 1000,
    out: Path | None = None,
    device: str = "auto",
    seed: int = 0,
    reuse: bool = True,
    data_dir: Path | None = None,
    allow_download: bool | None = None,
    progress: bool = True,
) -> dict:
    """Compare ``runs``; writes comparison.{md,json,png,svg} into ``out`` (default: a
    folder "comparison" beside the first run) and returns the JSON record."""
    runs = [Path(r) for r in runs]
    if len(runs) < 2:
        raise VaeError("give at least two run folders to compare")
    if len({r.resolve() for r in runs}) < len(runs):
        raise VaeError("a run is named twice; give each run once")
    dev = resolve_device(device)
    loaded = [load_run(r, dev) for r in runs]
    first = loaded[0].config
    for run, other in zip(runs[1:], loaded[1:], strict=True):
        fields = SAME + (("sigma",) if first.likelihood == "gaussian" else ())
        differ = [f for f in fields if getattr(other.config, f) != getattr(first, f)]
        if differ:
            what = ", ".join(
                f"{f} {getattr(first, f)!r} vs {getattr(other.config, f)!r}" for f in differ
            )
            raise VaeError(
                f"{runs[0]} and {run} are not comparable ({what}): their ELBOs measure "
                "different things; compare runs trained on the same data and likelihood"
            )
    names = [r.name for r in runs]
    if len(set(names)) < len(names):
        names = [str(r) for r in runs]

    rows = []
    for name, run, item in zip(names, runs, loaded, strict=True):
        evaluation = cached_evaluation(run, k, len(item.history)) if reuse else None
        reused = evaluation is not None
        if evaluation is None:
            evaluation = evaluate_run(run, k, "test", device, data_dir, allow_download, progress)
        history = item.history
        config_path = run / "config.json"
        environment = json.loads(config_path.read_text()).get("environment", {})
        rows.append(
            {
                "name": name,
                "run": str(run),
                "model": item.config.model,
                "hidden": list(item.config.hidden),
                "latent_dim": item.config.latent_dim,
                "parameters": parameter_counts(item.model),
                "epochs": len(history),
                "test_elbo": evaluation["elbo"],
                "test_log_px_given_z": evaluation["log_px_given_z"],
                "test_kl": evaluation["kl"],
                "iwae_k": k,
                "iwae": evaluation["iwae"],
                "iwae_standard_error": evaluation["iwae_standard_error"],
                "iwae_bits_per_dim": evaluation["iwae_bits_per_dim"],
                "train_seconds": sum(r.get("train_seconds", r.get("seconds", 0)) for r in history),
                "trained_on": environment.get("device") or item.config.backend,
                "evaluation": evaluation["path"],
                "evaluation_reused": reused,
            }
        )
    out = Path(out) if out is not None else runs[0].parent / "comparison"
    record = {
        "dataset": first.dataset,
        "pixels": first.pixels,
        "likelihood": first.likelihood,
        "sigma": first.sigma if first.likelihood == "gaussian" else None,
        "test_examples": evaluation["examples"],
        "units": "nats per example; training time in seconds (optimisation steps only)",
        "runs": rows,
    }
    table = markdown_table(record)
    with atomic_path(out / "comparison.md") as tmp:
        tmp.write_text(table + "\n")
    write_json(out / "comparison.json", record)
    figure = samples_side_by_side([item.model for item in loaded], names, seed)
    files = save(figure, out, "comparison")
    return record | {"table": table, "files": [str(out / "comparison.md"), *map(str, files)]}


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
        images = model.sample(10, gen, each_class(model, 10))
        show_grid(ax, as_images(images), 2, 5, f"{name}\n{model.count_parameters():,} parameters")
    fig.suptitle(f"E[x|z] for z ~ N(0, I) (seed {seed})", fontsize=10)
    return fig
