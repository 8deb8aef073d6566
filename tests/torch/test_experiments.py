"""The recipes of ``vae experiment``, as ``vae experiment --list`` prints them."""

import shlex

import pytest

import vae_torch.api
from vae_torch.cli import main
from vae_torch.experiments import RECIPES, describe

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
