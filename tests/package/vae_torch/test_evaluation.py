"""``vae evaluate`` (vae_torch.evaluation): the record, its table, and bad requests."""

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from device_under_test import DEVICE

from vae_torch.quality import judge as judge_module
from vae_torch.quality.bounds import dataset_elbo

TINY = dict(dataset="mnist-5k", hidden=(16,), latent_dim=3, epochs=2, limit=300, n_val=100)


@pytest.fixture
def tiny_run(tmp_path):
    from vae_numpy.run.config import TrainConfig
    from vae_numpy.run.options import QUIET
    from vae_torch.training import train_torch

    train_torch(TrainConfig(**TINY, device=DEVICE), tmp_path / "run", options=QUIET)
    return tmp_path / "run"


def test_vae_evaluate_judges_samples_and_says_with_which_judge(judges_in_tmp, tiny_run, capsys):
    import json

    from vae_torch.cli import main

    assert main(["evaluate", str(tiny_run), "--k", "2", "--samples", "40", "--device", DEVICE]) == 0
    out = capsys.readouterr().out
    assert "recognisable share" in out and "judged by a CNN with test accuracy" in out
    assert "best (epoch" in out and "dimensions active" in out
    path = out.split("written: ")[1].strip()
    q = json.loads(Path(path).read_text())["sample_quality"]
    assert q["samples"] == 40 and 0 <= q["recognisable_share"]["value"] <= 1
    assert sum(q["class_histogram"]) == pytest.approx(1)
    assert q["judge"]["test_examples"] == 1000
    # the decoder on real codes, by hand: the judge on E[x|mu(x)] of every test image
    from vae_torch.checkpoint import load_run
    from vae_torch.data import run_split

    loaded = load_run(tiny_run)
    test = run_split(loaded.config, "test", torch.device("cpu"), torch.float32, judges_in_tmp)
    images = loaded.model.reconstruct(test.fixed.view(len(test), -1)).view(-1, 1, 28, 28)
    probs, _ = judge_module.get_judge("mnist-5k", judges_in_tmp).outputs(images)
    r = q["reconstructions"]
    assert r["images"] == len(test) == 1000
    assert r["recognisable_share"]["value"] == (probs.max(1).values >= 0.9).double().mean().item()
    own = (probs.argmax(1) == test.labels).double().mean().item()
    assert r["own_class_share"]["value"] == pytest.approx(own, abs=1e-12)
    assert "the decoder on real codes" in out
    # where the samples fail: four quarters of 10 samples, ordered by log q̄(z)/p(z)
    quarters = q["by_aggregate_density"]
    shares = [s["value"] for s in quarters["recognisable_share"]]
    assert len(shares) == 4 and np.mean(shares) == pytest.approx(q["recognisable_share"]["value"])
    ranges = quarters["log_ratio_ranges"]
    assert all(low <= high for low, high in ranges)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ranges))
    assert "by quarter of log q(z)/p(z)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--samples", "0"], "--samples must be at least 2"),
        (["--samples", "-5"], "--samples must be at least 2"),
        (["--limit", "1"], "--limit must be at least 2 images"),
    ],
)
def test_bad_sample_counts_are_one_line_errors(tiny_run, capsys, args, message):
    from vae_torch.cli import main

    assert main(["evaluate", str(tiny_run), "--device", "cpu", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_an_evaluation_of_a_subset_is_of_those_images_and_named_apart(tiny_run, capsys):
    """--limit N: the ELBO of a seeded random N test images, each in the same fixed view
    as in the whole split's evaluation, and a file of its own, never read as the whole's."""
    import json

    from vae_torch.checkpoint import load_run
    from vae_torch.cli import main
    from vae_torch.data import run_split

    assert main(["evaluate", str(tiny_run), "--k", "2", "--limit", "100", "--device", DEVICE]) == 0
    out = capsys.readouterr().out
    assert "100 images (a seeded random 100 of the split)" in out
    path = Path(out.split("written: ")[1].strip())
    assert path.name == "evaluation-test-best-k2-n100.json"
    record = json.loads(path.read_text())
    loaded = load_run(tiny_run)
    test = run_split(loaded.config, "test", torch.device("cpu"), torch.float32)
    rows = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:100].sort()
    x = test.fixed[rows.values].view(100, -1)
    assert record["examples"] == 100
    assert record["elbo"] == pytest.approx(dataset_elbo(loaded.model, x).elbo, rel=1e-9)
    assert loaded.folder.cached_evaluation(2, len(loaded.history)) is None  # not the whole


OLD_KEYS = [  # evaluation-*.json as every version so far has written it
    *("run", "backend", "model", "checkpoint", "parameters", "dataset", "examples", "pixels"),
    *("likelihood", "epochs_trained", "elbo", "log_px_given_z", "kl", "elbo_bits_per_dim"),
    *("iwae_k", "iwae", "iwae_standard_error", "iwae_bits_per_dim", "seconds_elbo"),
    *("seconds_iwae", "units", "split", "subset", "device", "latent"),
]


def test_the_evaluation_file_keeps_its_keys_and_reads_back_as_written(tiny_run):
    """The typed record writes the file the JSON readers have always read (the same keys in
    the same order), and reading it back gives the same record; the table prints from it."""
    import dataclasses
    import json

    from vae_numpy.run.options import QUIET
    from vae_torch.evaluation import Evaluation, evaluate

    result = evaluate(tiny_run, k=2, options=dataclasses.replace(QUIET, device=DEVICE))
    written = json.loads(Path(result.path).read_text())
    assert list(written) == OLD_KEYS
    assert list(written["latent"]) == [
        *("images", "kl_per_dim", "activity", "active_units", "active_threshold"),
        *("average_kl", "marginal_kl", "mutual_information", "mutual_information_bound"),
        "surgery_draws",
    ]
    again = Evaluation.from_json(written, result.path)
    assert again == result and again.json() == written
    assert again.table() == result.table() and "IWAE k=2" in result.table()
    assert result.bounds.elbo == pytest.approx(result.bounds.log_px_given_z - result.bounds.kl)
