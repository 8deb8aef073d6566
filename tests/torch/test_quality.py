"""Sample quality, the judge and the latent diagnostics (chapter 8), against hand
computations and closed forms."""

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.integrate
import scipy.stats
import torch
from device_under_test import DEVICE

from vae_numpy.architecture import MLPConfig
from vae_numpy.run.errors import VaeError
from vae_numpy.run.options import Options
from vae_torch import judge as judge_module
from vae_torch.diagnostics import latent_diagnostics, log_density_ratio
from vae_torch.metrics import dataset_elbo
from vae_torch.models import MLPVAE
from vae_torch.sample_quality import (
    binomial,
    frechet_distance,
    judge_score,
    kl_histograms,
    within_balls,
)

Z = 5  # standard errors allowed to a Monte Carlo estimate (a 1 in 1.7 million miss)


def test_frechet_distance_is_the_closed_form_of_two_gaussians_fits():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((400, 5)) @ rng.standard_normal((5, 5))
    b = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 5)) + 1.5
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # tr (Σ_a Σ_b)^{1/2} = Σ √λ over the eigenvalues λ >= 0 of Σ_a Σ_b (similar to a PSD matrix)
    root_trace = np.sqrt(np.clip(np.linalg.eigvals(cov_a @ cov_b).real, 0, None)).sum()
    expected = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * root_trace
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)


def test_judge_score_is_the_number_of_classes_for_confident_balanced_predictions():
    k = 7
    confident_balanced = np.eye(k)[np.arange(70) % k]
    assert judge_score(confident_balanced) == pytest.approx(k)
    assert judge_score(np.tile(np.eye(k)[2], (50, 1))) == pytest.approx(1.0)  # one class only
    assert judge_score(np.full((50, k), 1 / k)) == pytest.approx(1.0)  # no confidence


def test_class_kl_is_zero_only_for_equal_histograms():
    t = np.full(4, 0.25)
    assert kl_histograms(t, t) == 0
    h = np.array([0.5, 0.5, 0.0, 0.0])
    assert kl_histograms(h, t) == pytest.approx(math.log(2))  # 0 log 0 = 0


def test_precision_and_recall_balls():
    rng = np.random.default_rng(1)
    real = torch.from_numpy(rng.standard_normal((200, 3)))
    assert within_balls(real, real).all()  # every point lies in its own ball
    far = real + 100.0
    assert not within_balls(far, real).any() and not within_balls(real, far).any()
    # just inside the ball of centre 0, whose radius is its 3rd-nearest neighbour's distance
    d = torch.cdist(real, real)[0].sort().values
    point = real[0] + torch.tensor([d[3].item() * 0.999, 0, 0], dtype=real.dtype)
    assert within_balls(point[None], real)[0]


def test_binomial_standard_error():
    assert binomial(0.25, 100) == {"value": 0.25, "standard_error": math.sqrt(0.25 * 0.75 / 100)}


def linear_model(x_dim: int, latent_dim: int, seed: int) -> MLPVAE:
    torch.manual_seed(seed)
    config = MLPConfig(x_dim=x_dim, hidden=(), latent_dim=latent_dim, likelihood="gaussian")
    return MLPVAE(config).double()


def test_kl_per_dimension_adds_up_to_the_elbo_kl_eq_4_7():
    model = linear_model(6, 3, 0)
    x = torch.rand(50, 6, dtype=torch.float64)
    d = latent_diagnostics(model, x)
    assert sum(d["kl_per_dim"]) == pytest.approx(dataset_elbo(model, x).kl, rel=1e-12)
    assert d["average_kl"] == pytest.approx(sum(d["kl_per_dim"]), rel=1e-12)


def test_a_dimension_the_encoder_ignores_is_inactive():
    model = linear_model(6, 3, 1)
    with torch.no_grad():
        model.encoder.mu.weight[1:] = 0  # μ_1 and μ_2 are the same for every image
    d = latent_diagnostics(model, torch.rand(40, 6, dtype=torch.float64))
    assert d["activity"][1] == d["activity"][2] == 0
    assert d["active_units"] == (d["activity"][0] > 0.01)


@pytest.mark.statistical
def test_with_one_image_the_marginal_kl_is_its_kl_and_no_information_eq_8_6():
    model = linear_model(4, 2, 2)
    d = latent_diagnostics(model, torch.rand(1, 4, dtype=torch.float64), draws=4000)
    marginal = d["marginal_kl"]
    report = (
        f"Monte Carlo {marginal['value']} ± {marginal['standard_error']}, exact {d['average_kl']}"
    )
    assert abs(marginal["value"] - d["average_kl"]) < Z * marginal["standard_error"], report
    assert d["mutual_information_bound"] == 0.0


@pytest.mark.statistical
def test_the_marginal_kl_of_a_mixture_is_its_integral_eq_8_6():
    """1-D, three images: KL(q̄ ‖ N(0, 1)) by quadrature of the three-component mixture."""
    model = linear_model(3, 1, 3)
    x = torch.rand(3, 3, dtype=torch.float64)
    d = latent_diagnostics(model, x, draws=4000)
    mu, log_var = (t.squeeze(1).detach().numpy() for t in model.encoder(x))
    sd = np.exp(0.5 * log_var)

    def integrand(z: float) -> float:
        q_bar = scipy.stats.norm.pdf(z, mu, sd).mean()
        return q_bar * (math.log(q_bar) - scipy.stats.norm.logpdf(z)) if q_bar > 0 else 0.0

    exact, _ = scipy.integrate.quad(integrand, -30, 30, limit=200)
    marginal = d["marginal_kl"]
    report = f"Monte Carlo {marginal['value']} ± {marginal['standard_error']}, quadrature {exact}"
    assert abs(marginal["value"] - exact) < Z * marginal["standard_error"], report
    assert d["mutual_information"]["value"] + Z * marginal["standard_error"] >= -1e-9
    assert d["mutual_information"]["value"] <= math.log(3) + Z * marginal["standard_error"]


@pytest.fixture
def quick_judges(monkeypatch, tmp_path):
    """Judges trained in a few steps (tests/conftest.py), cached under tmp_path."""
    monkeypatch.setattr(judge_module, "judge_folder", lambda: tmp_path / "judges")
    return Options(progress=False)


def test_a_judge_is_trained_once_then_read_from_its_cache(quick_judges):
    first = judge_module.get_judge("mnist-5k", quick_judges)
    files = list(judge_module.judge_folder().glob("mnist-5k-*.pt"))
    assert len(files) == 1
    again = judge_module.get_judge("mnist-5k", quick_judges)
    assert again.record == first.record
    x = torch.rand(5, 1, 28, 28)
    for a, b in zip(first.outputs(x), again.outputs(x), strict=True):
        assert torch.equal(a, b)
    assert 0 <= first.record.test_accuracy <= 1 and first.record.test_examples == 1000


def test_training_a_judge_is_deterministic_on_the_cpu(quick_judges):
    from vae_numpy.data import load_dataset

    raw = load_dataset("mnist-5k", quick_judges)
    digest = judge_module.content_sha256(raw)
    a, b = (judge_module.train_judge(raw, digest) for _ in range(2))
    for (name, p), q in zip(a.net.state_dict().items(), b.net.state_dict().values(), strict=True):
        assert torch.equal(p, q), name


def test_a_corrupt_or_foreign_judge_cache_is_an_error_never_retrained(quick_judges):
    judge_module.get_judge("mnist-5k", quick_judges)
    path = next(judge_module.judge_folder().glob("mnist-5k-*.pt"))
    state = torch.load(path, weights_only=True)
    state["record"]["content_sha256"] = "0" * 64
    torch.save(state, path)
    with pytest.raises(VaeError, match=r"trained on other data.*delete"):
        judge_module.get_judge("mnist-5k", quick_judges)
    path.write_bytes(b"not a judge")
    with pytest.raises(VaeError, match=r"corrupt.*delete"):
        judge_module.get_judge("mnist-5k", quick_judges)
    assert path.read_bytes() == b"not a judge"  # left for the user to look at


TINY = dict(dataset="mnist-5k", hidden=(16,), latent_dim=3, epochs=2, limit=300, n_val=100)


def test_the_log_density_ratio_is_the_mixture_against_the_prior():
    rng = np.random.default_rng(4)
    mu, log_var = rng.normal(size=(2, 7, 3))
    z = rng.normal(size=(5, 3)) * 2
    components = [
        scipy.stats.multivariate_normal(m, np.diag(np.exp(v))).pdf(z)
        for m, v in zip(mu, log_var, strict=True)
    ]
    mixture = np.mean(components, axis=0)
    expected = np.log(mixture) - scipy.stats.multivariate_normal(np.zeros(3)).logpdf(z)
    got = log_density_ratio(*(torch.from_numpy(a) for a in (z, mu, log_var)), chunk=2)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)


@pytest.fixture
def tiny_run(tmp_path):
    from vae_numpy.run.config import TrainConfig
    from vae_numpy.run.options import QUIET
    from vae_torch.training import train_torch

    train_torch(TrainConfig(**TINY, device=DEVICE), tmp_path / "run", QUIET)
    return tmp_path / "run"


def test_vae_evaluate_judges_samples_and_says_with_which_judge(quick_judges, tiny_run, capsys):
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
    test = run_split(loaded.config, "test", torch.device("cpu"), torch.float32, quick_judges)
    images = loaded.model.reconstruct(test.fixed.view(len(test), -1)).view(-1, 1, 28, 28)
    probs, _ = judge_module.get_judge("mnist-5k", quick_judges).outputs(images)
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
    from vae_torch.metrics import dataset_elbo

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
