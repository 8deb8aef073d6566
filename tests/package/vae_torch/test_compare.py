"""``vae compare``: the table's numbers are the models' own, and only runs whose ELBOs
measure the same thing are compared."""

import json

import pytest
from device_under_test import DEVICE

from vae_numpy.run.config import TrainConfig
from vae_numpy.run.errors import VaeError
from vae_numpy.run.folder import RunFolder
from vae_numpy.run.options import QUIET
from vae_torch.checkpoint import load_run
from vae_torch.cli import main
from vae_torch.compare import compare_runs, parameter_counts
from vae_torch.models import build_model
from vae_torch.training import train_torch

TINY = dict(dataset="mnist-5k", latent_dim=2, epochs=1, limit=200, n_val=100, device=DEVICE)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """A baseline (no hidden layer) and a deeper MLP with the same latent size."""
    root = tmp_path_factory.mktemp("compare")
    for name, hidden in (("baseline", ()), ("deep", (16, 8))):
        train_torch(TrainConfig(**TINY, hidden=hidden), root / name, options=QUIET)
    return root / "baseline", root / "deep"


@pytest.mark.slow
def test_the_comparison_counts_every_parameter(capsys, pair, tmp_path):
    argv = ["compare", *map(str, pair), "--k", "5", "--out", str(tmp_path)]
    code = main([*argv, "--samplers", "temperature:0.8"])
    out = capsys.readouterr().out
    assert code == 0
    record = json.loads((tmp_path / "comparison.json").read_text())
    for row, run in zip(record["runs"], pair, strict=True):
        model = load_run(run).model
        p = row["parameters"]
        assert p["total"] == sum(p.numel() for p in model.parameters())
        assert p["encoder"] == sum(p.numel() for p in model.encoder.parameters())
        assert p["encoder"] + p["decoder"] == p["total"]
        assert f"| {p['total']:,} |" in out  # the printed table has the same numbers
        evaluation = json.loads(RunFolder(run).evaluation("test", 5).read_text())
        assert row["iwae"] == evaluation["iwae"] and row["test_elbo"] == evaluation["elbo"]
        history = json.loads((run / "history.json").read_text())
        assert row["train_seconds"] == pytest.approx(sum(r["train_seconds"] for r in history))
    # the baseline by hand: 784 -> (μ, log σ²) of 2, and 2 -> 784
    assert record["runs"][0]["parameters"] == {
        "encoder": 2 * (784 * 2 + 2),
        "decoder": 2 * 784 + 784,
        "total": 2 * (784 * 2 + 2) + 2 * 784 + 784,
    }
    table = (tmp_path / "comparison.md").read_text()
    # the header and one row per run; then the samplers' header and a row per run and sampler
    assert table.count("\n| ") == 3 + 1 + 2 * 2
    for row in record["runs"]:  # judged samples, their scores in the tables
        for label, q in (("prior, N(0, I)", row["sample_quality"]), *row["samplers"].items()):
            assert q["samples"] == 1000
            share = q["recognisable_share"]
            cell = f"{share['value']:.3f} ± {share['standard_error']:.3f}"
            assert f"| {row['name']} | {label} | {cell} |" in table
        assert set(row["samplers"]) == {"temperature:0.8"}
    assert "judged by a CNN with test accuracy" in table
    assert (tmp_path / "comparison.png").stat().st_size > 0
    assert (tmp_path / "comparison.svg").stat().st_size > 0


@pytest.mark.slow
def test_a_second_comparison_reuses_the_evaluations(pair, tmp_path):
    first = compare_runs(list(pair), k=3, out=tmp_path / "a", options=QUIET)
    again = compare_runs(list(pair), k=3, out=tmp_path / "b", options=QUIET)
    assert not any(r["evaluation_reused"] for r in first["runs"])
    assert all(r["evaluation_reused"] for r in again["runs"])
    assert [r["iwae"] for r in first["runs"]] == [r["iwae"] for r in again["runs"]]


def test_parameter_counts_of_a_conditional_conv_model():
    config = TrainConfig(model="conv-cvae", channels=(4,), strides=(2,), hidden=(8,))
    model = build_model(config, (1, 28, 28), 10)
    p = parameter_counts(model)
    assert p["total"] == sum(q.numel() for q in model.parameters())
    assert p["encoder"] + p["decoder"] == p["total"]


def test_two_densities_of_the_same_pixels_compare_whatever_their_sigma(tmp_path):
    """Gaussians of σ = 0.1 and 0.3 on dequantized pixels are both densities of the same
    data: their ELBOs are bounds on log-likelihoods in the same units. On grey levels,
    where neither is a likelihood of the images, they are refused."""
    runs = {}
    for sigma in (0.1, 0.3):
        for pixels in ("dequantized", "grey"):
            fields = {**TINY, "likelihood": "gaussian", "sigma": sigma, "pixels": pixels}
            runs[sigma, pixels] = tmp_path / f"{pixels}-{sigma}"
            train_torch(TrainConfig.from_flags(**fields), runs[sigma, pixels], options=QUIET)
    pair = [runs[0.1, "dequantized"], runs[0.3, "dequantized"]]
    record = compare_runs(pair, k=2, out=tmp_path / "c", options=QUIET, samples=None)
    assert record["parameters"] == {"σ": [0.1, 0.3]}
    assert [r["likelihood"] for r in record["runs"]] == [
        "Gaussian(sigma=0.1)",
        "Gaussian(sigma=0.3)",
    ]
    with pytest.raises(VaeError, match=r"not comparable \(sigma 0.1 vs 0.3\)"):
        compare_runs([runs[0.1, "grey"], runs[0.3, "grey"]], k=2, out=tmp_path / "d")


@pytest.mark.parametrize(
    ("other", "message"),
    [
        ({"likelihood": "gaussian"}, "pixels 'dynamic-binary' vs 'dequantized'"),
        (  # a Gaussian density at grey values is no likelihood: nats of different things
            {"likelihood": "gaussian", "pixels": "grey"},
            "pixels 'dynamic-binary' vs 'grey', likelihood 'bernoulli' vs 'gaussian'",
        ),
        ({"dataset": "fashion-mnist"}, "dataset 'mnist-5k' vs 'fashion-mnist'"),
        ({"pixels": "static-binary"}, "pixels 'dynamic-binary' vs 'static-binary'"),
    ],
)
def test_runs_on_different_data_or_likelihoods_are_not_compared(pair, tmp_path, other, message):
    fields = {**TINY, "hidden": (4,), **other}
    if fields["dataset"] == "fashion-mnist":
        fields["limit"] = 50
    train_torch(TrainConfig(**fields), tmp_path / "other", options=QUIET)
    with pytest.raises(VaeError, match=rf"not comparable \({message}\)"):
        compare_runs([pair[0], tmp_path / "other"], k=2, out=tmp_path / "c")


@pytest.mark.parametrize(
    ("runs", "message"),
    [(["{a}"], "at least two run folders"), (["{a}", "{a}"], "a run is named twice")],
)
def test_compare_needs_two_different_runs(capsys, pair, runs, message):
    code = main(["compare", *(r.format(a=pair[0]) for r in runs)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


# -- experiments ---------------------------------------------------------------------
