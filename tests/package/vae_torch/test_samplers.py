"""Samplers (vae_torch.samplers): the prior, a temperature, and a Gaussian mixture fitted
to a run's training codes; through ``vae sample`` and ``vae evaluate`` as a user runs them."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from device_under_test import DEVICE

from vae_numpy.run.errors import VaeError
from vae_numpy.run.options import QUIET, Options
from vae_torch.checkpoint import load_run
from vae_torch.cli import main
from vae_torch.quality.estimate import Estimate
from vae_torch.samplers import Mixture, Prior, Temperature, sampler_for, training_codes

TINY = dict(dataset="mnist-5k", hidden=(16,), latent_dim=3, epochs=2, limit=300, n_val=100)
Z = 4  # standard errors a statistical check allows: two-sided, about 6e-5 by chance
OPTIONS = Options(device=DEVICE, progress=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from vae_numpy.run.config import TrainConfig
    from vae_torch.training import train_torch

    folder = tmp_path_factory.mktemp("samplers") / "run"
    train_torch(TrainConfig(**TINY, device=DEVICE), folder, options=QUIET)
    return folder


def test_the_prior_sampler_is_the_model_s_own_draws(run):
    loaded = load_run(run, DEVICE)
    a = loaded.model.sample(7, torch.Generator(DEVICE).manual_seed(3))
    b = loaded.model.sample(7, torch.Generator(DEVICE).manual_seed(3), sampler=Prior())
    assert torch.equal(a, b) and Prior().is_prior


@pytest.mark.statistical
def test_a_temperature_scales_the_prior_s_spread(run):
    model = load_run(run, DEVICE).model
    n = 20_000
    z = Temperature(0.6).codes(model, n, torch.Generator(DEVICE).manual_seed(0)).double().cpu()
    # the sample variance of n normal draws has standard error σ²·√(2/(n−1))
    se = 0.36 * math.sqrt(2 / (n - 1))
    assert torch.all((z.var(dim=0) - 0.36).abs() < Z * se), z.var(dim=0)
    assert sampler_for(load_run(run, DEVICE), "temperature:0.6") == Temperature(0.6)


def test_a_mixture_is_scikit_learn_s_fit_of_the_training_codes_and_is_kept(run, capsys):
    from sklearn.mixture import GaussianMixture

    loaded = load_run(run, DEVICE)
    mixture = sampler_for(loaded, "gmm:3:diag", Options(device=DEVICE))
    assert "fitting the sampler gmm:3:diag" in capsys.readouterr().out
    codes = training_codes(loaded, OPTIONS)
    assert len(codes) == mixture.record["codes"] == 300  # the training split, at its limit
    fit = GaussianMixture(3, covariance_type="diag", random_state=0, max_iter=500).fit(codes)
    np.testing.assert_allclose(mixture.means, fit.means_, rtol=1e-12)
    np.testing.assert_allclose(mixture.weights, fit.weights_, rtol=1e-12)
    for k in range(3):  # the diagonal covariances, as full matrices
        np.testing.assert_allclose(mixture.covariances[k], np.diag(fit.covariances_[k]))
    path = run / "samplers" / "gmm-3-diag-best.npz"
    stamp = path.stat().st_mtime_ns
    again = sampler_for(loaded, "gmm:3:diag", Options(device=DEVICE))
    assert capsys.readouterr().out == "" and path.stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(again.means, mixture.means)


@pytest.mark.statistical
def test_mixture_draws_have_the_mixture_s_mean_and_density(run):
    loaded = load_run(run, DEVICE)
    mixture = sampler_for(loaded, "gmm:2", OPTIONS)
    n = 20_000
    z = mixture.codes(loaded.model, n, torch.Generator(DEVICE).manual_seed(1)).double().cpu()
    mean = mixture.weights @ mixture.means  # E[z] = Σ_k w_k μ_k
    second = sum(  # E[z zᵀ] = Σ_k w_k (Σ_k + μ_k μ_kᵀ)
        w * (c + np.outer(m, m))
        for w, m, c in zip(mixture.weights, mixture.means, mixture.covariances, strict=True)
    )
    variance = np.diag(second) - mean**2
    se = np.sqrt(variance / n)
    assert np.all(np.abs(z.mean(dim=0).numpy() - mean) < Z * se)
    # its log-density is torch.distributions' mixture's (a reference nobody here wrote)
    reference = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(probs=torch.from_numpy(mixture.weights)),
        torch.distributions.MultivariateNormal(
            torch.from_numpy(mixture.means),
            covariance_matrix=torch.from_numpy(mixture.covariances),
        ),
    )
    torch.testing.assert_close(mixture.log_density(z[:50]), reference.log_prob(z[:50]))


def test_a_mixture_of_a_changed_checkpoint_is_fitted_again(run, capsys):
    loaded = load_run(run, DEVICE)
    sampler_for(loaded, "gmm:2:spherical", OPTIONS)
    path = run / "samplers" / "gmm-2-spherical-best.npz"
    with np.load(path) as saved:
        arrays = dict(saved)
    record = json.loads(str(arrays["record"])) | {"checkpoint_sha256": "0" * 64}
    with open(path, "wb") as out:
        np.savez(out, **arrays | {"record": np.array(json.dumps(record))})
    again = sampler_for(loaded, "gmm:2:spherical", Options(device=DEVICE))
    assert "changed since it was fitted: fitting it again" in capsys.readouterr().out
    assert isinstance(again, Mixture) and again.record["checkpoint_sha256"] != "0" * 64


def test_vae_sample_names_the_sampler_in_the_file_and_the_title(run, capsys):
    code = main(["sample", str(run), "--sampler", "gmm:2:tied", "--device", DEVICE])
    assert code == 0
    written = capsys.readouterr().out
    assert "samples-n10-seed0-gmm-2-tied.png" in written
    assert (run / "figures" / "samples-n10-seed0-gmm-2-tied.png").is_file()


def test_vae_evaluate_gives_a_row_per_sampler(run, capsys, judges_in_tmp):
    argv = ["evaluate", str(run), "--k", "2", "--samples", "40", "--device", DEVICE]
    assert main([*argv, "--samplers", "prior,gmm:2,temperature:0.5"]) == 0
    out = capsys.readouterr().out
    assert "sampler gmm:2:full (z ~ a 2-component Gaussian mixture" in out
    assert "sampler temperature:0.5 (z ~ N(0, 0.5² I)" in out and "not the model's prior" in out
    path = out.split("written: ")[1].strip()
    record = json.loads(Path(path).read_text())
    assert set(record["samplers"]) == {"gmm:2:full", "temperature:0.5"}
    judged = record["samplers"]["temperature:0.5"]
    assert judged["samples"] == 40 and 0 <= judged["recognisable_share"]["value"] <= 1
    assert "sampler" not in record["sample_quality"]  # the prior's record is as it was


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sample", "{run}", "--sampler", "nope"], "unknown sampler 'nope'; the samplers: prior"),
        (["sample", "{run}", "--sampler", "temperature:0"], "temperature must be a number above"),
        (["sample", "{run}", "--sampler", "temperature"], "is not of the form"),
        (["sample", "{run}", "--sampler", "gmm:0"], "number of components must be at least 1"),
        (["sample", "{run}", "--sampler", "gmm:2:wide"], "covariance is one of full, tied"),
        (["sample", "{run}", "--sampler", "gmm:5000"], "needs at least as many codes"),
        (["evaluate", "{run}", "--samplers", "gmm"], "--samplers needs --samples N"),
        (["evaluate", "{run}", "--samples", "20", "--samplers", "x"], "unknown sampler 'x'"),
    ],
)
def test_a_bad_sampler_is_one_line(run, capsys, argv, message):
    argv = [a.replace("{run}", str(run)) for a in argv]
    assert main([*argv, "--device", DEVICE]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_corrupt_mixture_file_is_one_line_that_says_what_to_do(run, capsys):
    path = run / "samplers" / "gmm-4-full-best.npz"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"not an npz")
    assert main(["sample", str(run), "--sampler", "gmm:4", "--device", DEVICE]) == 2
    err = capsys.readouterr().err
    assert f"the sampler file {path} is corrupt" in err and "delete" in err
    path.unlink()


def test_the_diagnosis_speaks_only_when_the_prior_trails_the_decoder():
    from vae_torch.evaluation import diagnosis

    class Latent:
        marginal_kl = Estimate(4.2, 0.1)

    def evaluation(prior: float, real: float, samplers=None):
        share = {"value": prior, "standard_error": 0.015}
        recon = {"recognisable_share": {"value": real, "standard_error": 0.01}}
        q = {"recognisable_share": share, "reconstructions": recon}
        return type("E", (), {"sample_quality": q, "latent": Latent, "samplers": samplers})

    assert diagnosis(evaluation(0.55, 0.58)) is None  # 0.03 < 3 standard errors (0.054)
    line = diagnosis(evaluation(0.55, 0.90))
    assert "0.550 ± 0.015" in line and "0.900 ± 0.010" in line and "4.20 ± 0.10" in line
    assert "--samplers gmm" in line
    gmm = {"recognisable_share": {"value": 0.82, "standard_error": 0.012}}
    low = {"recognisable_share": {"value": 0.40, "standard_error": 0.015}}
    line = diagnosis(evaluation(0.55, 0.90, {"gmm:10:full": gmm, "temperature:0.6": low}))
    assert "of the samplers, gmm:10:full closes most of the gap: 0.820 ± 0.012" in line
    with pytest.raises(VaeError, match="unknown sampler"):
        sampler_for(None, "vamp")


def test_the_second_stage_loss_is_the_negative_elbo_of_the_codes_by_hand():
    from vae_torch.samplers import CodeVAE

    torch.manual_seed(0)
    net = CodeVAE(2, hidden=5).double()
    with torch.no_grad():
        net.log_gamma.fill_(-0.7)
    z, eps = torch.randn(4, 2, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64)
    mu, log_var = net.encoder(z).chunk(2, dim=-1)
    u = mu + torch.exp(0.5 * log_var) * eps  # (5.1)
    var = math.exp(2 * -0.7)  # γ²
    log_lik = -0.5 * ((z - net.decoder(u)) ** 2 / var + math.log(var) + math.log(2 * math.pi))
    kl = 0.5 * (mu**2 + log_var.exp() - 1 - log_var)  # (4.7)
    by_hand = (kl.sum(-1) - log_lik.sum(-1)).mean()
    torch.testing.assert_close(net.loss(z, eps), by_hand, rtol=1e-12, atol=1e-12)


def test_the_two_stage_sampler_learns_the_codes_and_is_kept(run, capsys):
    from vae_torch.samplers import CodeVAE, TwoStage

    loaded = load_run(run, DEVICE)
    sampler = sampler_for(loaded, "two-stage", Options(device=DEVICE))
    assert "fitting the sampler two-stage" in capsys.readouterr().out
    assert isinstance(sampler, TwoStage) and not sampler.is_prior
    codes = torch.from_numpy(training_codes(loaded, OPTIONS)).float()
    torch.manual_seed(0)
    eps = torch.randn(codes.shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        untrained = CodeVAE(codes.shape[1]).loss(codes, eps).item()
        learned = sampler.net.loss(codes, eps).item()
    assert learned < untrained and sampler.record["gamma"] < 1  # it fitted the codes
    z = sampler.codes(loaded.model, 64, torch.Generator(DEVICE).manual_seed(0))
    assert z.shape == (64, 3) and torch.isfinite(z).all()
    again = sampler_for(loaded, "two-stage", OPTIONS)
    assert torch.equal(again.codes(loaded.model, 8), sampler.codes(loaded.model, 8))
    (run / "samplers" / "two-stage-best.pt").write_bytes(b"garbage")
    with pytest.raises(VaeError, match=r"two-stage-best\.pt is corrupt .*; delete"):
        sampler_for(loaded, "two-stage", OPTIONS)
    (run / "samplers" / "two-stage-best.pt").unlink()


def test_a_sampler_is_refused_in_one_line_where_the_run_s_data_is_missing(run, capsys, tmp_path):
    """A mixture is fitted to the training codes; without the training images it cannot be."""
    argv = ["sample", str(run), "--sampler", "gmm:5", "--data-dir", str(tmp_path)]
    assert main([*argv, "--device", DEVICE]) == 2
    err = capsys.readouterr().err
    assert f"--data-dir {tmp_path} does not hold dataset 'mnist-5k'" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (run / "samplers" / "gmm-5-full-best.npz").exists()
