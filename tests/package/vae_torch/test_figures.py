"""The course's figures: each is drawn from a small trained run at its stated pixel size,
and the numbers behind them agree with hand computations."""

import json
import math
import re
import shutil

import matplotlib.image
import numpy as np
import pytest
import torch
from device_under_test import DEVICE
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import norm

from vae_numpy.run.config import TrainConfig
from vae_numpy.run.errors import VaeError
from vae_numpy.run.options import QUIET
from vae_torch import latent
from vae_torch.checkpoint import load_run
from vae_torch.cli import main
from vae_torch.figures import FIGURES, make_figures, pixel_size
from vae_torch.sample import write_samples
from vae_torch.training import LATENT_DRAWS, latent_hook, train_torch

TINY = dict(dataset="mnist-5k", hidden=(8,), epochs=2, limit=200, n_val=100, device=DEVICE)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three small runs: an MLP with a 2-D latent (its latent diagnostics tracked after
    every epoch), a conditional MLP, a 1-D latent."""
    root = tmp_path_factory.mktemp("figure-runs")
    configs = {
        "mlp": TrainConfig(**TINY, latent_dim=2),
        "cvae": TrainConfig(**TINY, model="cvae", latent_dim=3),
        "latent-1": TrainConfig(**TINY, latent_dim=1),
    }
    for name, config in configs.items():
        hook = latent_hook if name == "mlp" else None
        train_torch(config, root / name, options=QUIET, on_epoch=hook)
    return {name: root / name for name in configs}


def check_image(path, name):
    png = matplotlib.image.imread(path)
    assert png.shape[:2] == pixel_size(name)[::-1], f"{path}: {png.shape}"
    assert png[..., :3].std() > 0.01, f"{path} is blank"  # something was drawn
    svg = path.with_suffix(".svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["mlp", "cvae"])
def test_every_figure_is_drawn_at_its_size(runs, tmp_path, kind):
    report = make_figures(runs[kind], out=tmp_path, options=QUIET)
    drawn = set(report["figures"])
    # the cvae has 3 latent dimensions: the encoder-decoder maps need exactly 2
    expected = set(FIGURES) - (
        {"class-grid"} if kind == "mlp" else {"latent-curves", "encoder-decoder"}
    )
    assert drawn == expected
    assert set(report["skipped"]) == set(FIGURES) - expected
    for name in drawn:
        check_image(tmp_path / f"{name}.png", name)
    assert (tmp_path / "figures.json").is_file()
    # the reported test reconstruction loss is the ELBO's reconstruction term, sign flipped
    assert report["test_reconstruction_loss"] == -report["test_log_px_given_z"]
    assert report["test_elbo"] == pytest.approx(
        report["test_log_px_given_z"] - report["test_kl"], abs=1e-9
    )
    assert report["traversal_values"] == pytest.approx(norm.ppf(np.linspace(0.05, 0.95, 7)))
    assert len(report["interpolation_pairs"]) == 3
    for pair in report["interpolation_pairs"]:
        assert pair["classes"][0] != pair["classes"][1]


def test_the_tracked_latent_numbers_are_those_of_each_epochs_model(runs):
    """The last epoch's record holds the diagnostics of the last checkpoint's model on
    the validation images; every epoch has them."""
    from vae_torch.data import run_split
    from vae_torch.quality.diagnostics import latent_diagnostics

    history = json.loads((runs["mlp"] / "history.json").read_text())
    assert [("active_units" in r, len(r["kl_per_dim"])) for r in history] == [(True, 2)] * 2
    loaded = load_run(runs["mlp"], which="last")
    val = run_split(loaded.config, "val", torch.device("cpu"), torch.float32, QUIET)
    d = latent_diagnostics(loaded.model, val.fixed.view(len(val), -1), draws=LATENT_DRAWS)
    assert history[-1]["active_units"] == d.active_units
    assert history[-1]["kl_per_dim"] == pytest.approx(d.kl_per_dim, rel=1e-12)
    assert history[-1]["mutual_information"] == pytest.approx(d.json()["mutual_information"])
    kl = sum(history[-1]["kl_per_dim"])
    assert kl == pytest.approx(-history[-1]["val_elbo"] + history[-1]["val_log_px_given_z"])


@pytest.mark.slow
def test_the_figures_command_and_its_choices(capsys, runs, tmp_path):
    code = main(["figures", str(runs["mlp"]), "--out", str(tmp_path), "--only", "samples"])
    out = capsys.readouterr().out
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "figures.json",
        "samples.png",
        "samples.svg",
    ]
    assert "test reconstruction loss" in out
    report = json.loads((tmp_path / "figures.json").read_text())
    share = report["recognisable_share"]  # the judge's verdict, printed and in the title
    assert f"recognisable share {share['value']:.3f} ± {share['standard_error']:.3f}" in out
    assert f"recognisable share {share['value']:.3f}" in (tmp_path / "samples.svg").read_text()
    # a figure is the same whichever others are drawn with it (its own seeded generator)
    again = tmp_path / "again"
    make_figures(runs["mlp"], out=again, only=["samples", "reconstructions"], options=QUIET)
    assert (again / "samples.png").read_bytes() == (tmp_path / "samples.png").read_bytes()


def test_the_help_names_every_figure(capsys):
    with pytest.raises(SystemExit):
        main(["figures", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in FIGURES:
        assert name in text.replace("- ", "-")


@pytest.mark.slow
def test_sample_writes_a_grid_of_the_asked_shape(runs, tmp_path):
    files = write_samples(runs["cvae"], n=12, rows=3, label=4, out=tmp_path / "s")
    assert [p.name for p in files] == ["s.png", "s.svg"]
    png = matplotlib.image.imread(files[0])
    # 0.6 inch a tile, a two-line title (0.8 inch), at least 4 inches wide for it
    assert png.shape[:2] == (round((0.6 * 3 + 0.8) * 100), round(max(0.6 * 4 + 0.4, 4.0) * 100))
    svg = files[1].read_text()
    assert "of 12 recognised" in svg and "judged class 4" in svg  # the judge's count


# -- the numbers behind the figures, by hand ------------------------------------------


def test_quantiles_are_the_inverse_normal_cdf():
    values = latent.quantiles(7, 0.05, 0.95)
    assert values.dtype == torch.float64
    # by hand: Φ(v) = (1 + erf(v / √2)) / 2 must give back the probabilities
    back = [(1 + math.erf(v / math.sqrt(2))) / 2 for v in values.tolist()]
    assert back == pytest.approx(np.linspace(0.05, 0.95, 7), abs=1e-14)
    assert values[3] == 0  # the median
    assert values[-1].item() == pytest.approx(1.6448536269514722, abs=1e-14)  # z_0.95
    assert values.tolist() == pytest.approx([-v for v in reversed(values.tolist())], abs=1e-14)
    assert values.tolist() == pytest.approx(norm.ppf(np.linspace(0.05, 0.95, 7)), abs=1e-14)


@pytest.mark.parametrize(("low", "high"), [(0.0, 0.95), (0.05, 1.0), (0.6, 0.4), (-0.1, 0.5)])
def test_quantiles_of_zero_or_one_are_refused(low, high):
    with pytest.raises(VaeError, match=r"0 < low <= high < 1.*inf"):
        latent.quantiles(7, low, high)


@given(
    scales=st.lists(
        st.sampled_from([0.3, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0]),
        min_size=2,
        max_size=8,
        unique=True,
    ),
    seed=st.integers(0, 2**16),
)
def test_top_variance_dims_by_hand(scales, seed):
    # columns of unit-variance noise scaled by distinct factors: the variances rank
    # like the scales; the sample variance is computed here by hand
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((4000, len(scales)))
    noise = (noise - noise.mean(0)) / noise.std(0)  # exactly unit sample variance
    z = noise * np.array(scales)
    by_hand = [sum((v - col.mean()) ** 2 for v in col) / (len(col) - 1) for col in z.T]
    expected = sorted(range(len(scales)), key=lambda d: -by_hand[d])[:2]
    assert latent.top_variance_dims(torch.from_numpy(z), 2) == expected


def test_a_one_dimensional_latent_has_no_two_dimensions():
    with pytest.raises(VaeError, match="has 1; train with --latent-dim 2"):
        latent.top_variance_dims(torch.randn(50, 1), 2)


def test_traversal_codes_hold_the_values_in_their_dimensions():
    values = latent.quantiles(7)
    one = latent.traversal_codes(5, [3], values)
    assert one.shape == (7, 5)
    assert torch.equal(one[:, 3], values) and not one[:, [0, 1, 2, 4]].any()
    two = latent.traversal_codes(5, [4, 1], values)
    assert two.shape == (49, 5)
    for i in range(7):
        for j in range(7):
            row = two[i * 7 + j]
            assert row[4] == values[i] and row[1] == values[j]  # rows: dims[0], columns: dims[1]
            assert not row[[0, 2, 3]].any()
    with pytest.raises(VaeError, match=r"distinct and in 0\.\.4"):
        latent.traversal_codes(5, [1, 1], values)


def test_interpolation_is_a_straight_line_with_its_endpoints():
    z0, z1 = torch.tensor([0.0, 2.0]), torch.tensor([9.0, -7.0])
    path = latent.interpolate(z0, z1, 10)
    assert path.shape == (10, 2)
    assert torch.equal(path[0], z0) and torch.equal(path[-1], z1)
    steps = path.diff(dim=0)
    assert torch.allclose(steps, ((z1 - z0) / 9).expand_as(steps))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["mlp", "cvae"])
def test_interpolation_endpoints_decode_the_two_encodings(runs, kind):
    model = load_run(runs[kind]).model.eval()
    x = torch.rand(2, 784).round()
    c = torch.tensor([3, 8]) if model.n_classes else None
    z0, z1 = latent.posterior_samples(model, x, c, torch.Generator().manual_seed(0))
    path = latent.decode_interpolation(
        model, z0, z1, 10, *(c.tolist() if c is not None else (None, None))
    )
    first = model.decode(z0[None], None if c is None else c[:1])
    last = model.decode(z1[None], None if c is None else c[1:])
    torch.testing.assert_close(path[0], first[0])
    torch.testing.assert_close(path[-1], last[0])
    if c is None:  # halfway along the line is the midpoint's image
        mid = latent.decode_interpolation(model, z0, z1, 3)[1]
        torch.testing.assert_close(mid, model.decode(((z0 + z1) / 2)[None])[0])


def test_pairs_are_of_different_classes_and_reproducible():
    labels = torch.arange(100) % 10
    pairs = latent.different_class_pairs(labels, 3, torch.Generator().manual_seed(1))
    assert pairs == latent.different_class_pairs(labels, 3, torch.Generator().manual_seed(1))
    classes = [labels[i].item() for pair in pairs for i in pair]
    assert len(set(classes)) == 6  # three pairs, six different classes
    unlabelled = latent.different_class_pairs(torch.full((5,), -1), 4, torch.Generator())
    assert len(unlabelled) == 4 and all(i != j for i, j in unlabelled)  # two images each
    with pytest.raises(VaeError, match="at least 2 images"):
        latent.different_class_pairs(torch.full((1,), -1), 1)


def test_posterior_samples_are_mu_plus_sigma_eps(runs):
    model = load_run(runs["mlp"]).model.eval()
    x = torch.rand(5, 784)
    z = latent.posterior_samples(model, x, None, torch.Generator().manual_seed(3), batch_size=2)
    eps = torch.randn((5, 2), generator=torch.Generator().manual_seed(3))
    mu, log_var = model.encode(x)
    torch.testing.assert_close(z, mu + torch.exp(0.5 * log_var) * eps)


# -- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["figures", "{empty}"], r"has no checkpoint\.pt: no epoch of this run has finished"),
        (["figures", "{mlp}", "--only", "class-grid"], "no class labels to condition on"),
        (["figures", "{latent-1}", "--only", "latent-hist2d"], "needs 2 latent dimensions"),
        (["figures", "{latent-1}", "--only", "traversal-2d"], "--latent-dim 2 or more"),
        (["figures", "{mlp}", "--only", "smiles"], "no figure named smiles; the figures: elbo"),
        (["figures", "{mlp}", "--quantiles", "0.05,1"], "0 < low <= high < 1"),
        (["figures", "{mlp}", "--quantiles", "0,0.95"], r"norm\.ppf\(0\) = -inf"),
        (["sample", "{mlp}", "--label", "3"], "--label needs a conditional model"),
        (["sample", "{mlp}", "--n", "7", "--rows", "2"], "do not fill --rows 2"),
        (["sample", "{cvae}", "--label", "12"], r"labels must lie in 0\.\.9"),
        (["sample", "{nowhere}"], "no such run folder"),
    ],
)
def test_bad_figure_requests_get_one_line(capsys, tmp_path, runs, argv, message):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.json").write_text((runs["mlp"] / "config.json").read_text())
    paths = {**runs, "empty": empty, "nowhere": tmp_path / "nowhere"}
    code = main([a.format(**paths) for a in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("vae: error: ") and err.count("\n") == 1, err
    assert re.search(message, err), err


def test_a_malformed_quantile_range_is_a_usage_error(capsys, runs):
    with pytest.raises(SystemExit) as exit_:
        main(["figures", str(runs["mlp"]), "--quantiles", "0.1"])
    assert exit_.value.code == 2
    assert "two probabilities separated by a comma" in capsys.readouterr().err


def test_the_samplers_figure_titles_each_row_with_its_judged_share(runs, tmp_path):
    """A row per sampler, each titled with the share the judge recognises of its samples;
    the prior's is the samples figure's, the others are named as not the prior."""
    report = make_figures(runs["mlp"], out=tmp_path, only=["samplers", "samples"], options=QUIET)
    others = report["samplers_recognisable_share"]
    assert set(others) == {"gmm:10:full", "two-stage", "temperature:0.8"}
    svg = (tmp_path / "samplers.svg").read_text()
    for share in (report["recognisable_share"], *others.values()):
        assert f"recognisable {share['value']:.3f} ± {share['standard_error']:.3f}" in svg
    assert svg.count("not the model") == 3


def test_a_figure_of_samples_quotes_the_runs_evaluation_record(runs, tmp_path):
    """One number per fact: where `vae evaluate` judged the run's samples, the samples
    figure states that record's share and sample count, not a measurement of its own; a
    record judged by another judge is not quoted."""
    run = tmp_path / "run"
    shutil.copytree(runs["mlp"], run, ignore=shutil.ignore_patterns("evaluation-*", "figures"))
    code = main(["evaluate", str(run), "--k", "2", "--samples", "40"])
    assert code == 0
    record_path = run / "evaluation-test-best-k2.json"
    record = json.loads(record_path.read_text())
    share = record["sample_quality"]["recognisable_share"]
    report = make_figures(run, out=tmp_path / "a", only=["samples"], options=QUIET)
    assert report["recognisable_share"]["record"] == str(record_path)
    title = f"recognisable share {share['value']:.3f} ± {share['standard_error']:.3f} of 40 samples"
    assert title in (tmp_path / "a" / "samples.svg").read_text()

    record["sample_quality"]["judge"]["version"] += 1  # judged by a judge that is gone
    record_path.write_text(json.dumps(record))
    report = make_figures(run, out=tmp_path / "b", only=["samples"], options=QUIET)
    assert "record" not in report["recognisable_share"]
    assert "of 1,000 samples" in (tmp_path / "b" / "samples.svg").read_text()
