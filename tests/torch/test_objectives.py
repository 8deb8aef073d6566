"""KL warm-up (12.1), free bits (12.2) and the cosine step size: the objective each trains
on, the true ELBO each reports, and a resumed run that repeats them exactly."""

from itertools import pairwise

import pytest
import torch
from device_under_test import DEVICE

from vae_numpy.run.config import TrainConfig
from vae_numpy.run.options import QUIET
from vae_torch.checkpoint import load_run
from vae_torch.cli import main
from vae_torch.models import VAE, build_model
from vae_torch.training import kl_weight, learning_rate, resume_torch, train_torch

SMALL = {"dataset": "mnist-5k", "hidden": (32,), "latent_dim": 4, "limit": 640, "n_val": 200,
         "device": DEVICE}  # fmt: skip


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    model = build_model(TrainConfig(hidden=(8,), latent_dim=3), (1, 4, 4), 0)
    x = torch.rand(5, 16, generator=g).round()
    eps = torch.randn(5, 3, generator=g)
    return model, x, eps


def test_free_bits_floor_each_dimensions_batch_average_kl_eq_12_2():
    model, x, eps = batch()
    rec, kl_dims = model.terms_per_dim(x, eps)
    average = kl_dims.mean(dim=0).detach()  # K_d
    for floor in (0.0, float(average.min() + average.max()) / 2, 50.0):
        loss, rec_mean, kl_mean = model.loss(x, eps, free_bits=floor)
        want = -rec.mean() + torch.clamp(average, min=floor).sum()
        torch.testing.assert_close(loss, want)
        torch.testing.assert_close(kl_mean, kl_dims.sum(dim=1).mean())  # the true KL
        assert loss >= -(rec_mean - kl_mean) - 1e-6  # an upper bound on −ELBO (12.2)
    assert model.loss(x, eps, free_bits=50.0)[0].item() == pytest.approx(50 * 3 - rec.mean().item())


def test_the_per_dimension_kls_add_up_to_the_kl_analytic_and_monte_carlo():
    model, x, eps = batch(1)
    for mc in (False, True):
        _, kl = model.terms(x, eps, mc_kl=mc)
        _, kl_dims = model.terms_per_dim(x, eps, mc_kl=mc)
        torch.testing.assert_close(kl_dims.sum(dim=1), kl)
    from vae_torch import distributions as dist

    mu, log_var = model.encoder(x, None)
    z = dist.reparameterize(mu, log_var, eps)
    torch.testing.assert_close(
        dist.kl_monte_carlo_dims(z, mu, log_var).sum(dim=1), dist.kl_monte_carlo(z, mu, log_var)
    )


def test_the_warmup_rises_linearly_from_zero_to_the_kl_weight():
    config = TrainConfig(kl_weight=0.8, warmup=2, epochs=3)
    betas = [kl_weight(config, step, 10) for step in range(31)]
    assert betas[0] == 0.0 and betas[10] == pytest.approx(0.4) and betas[20] == pytest.approx(0.8)
    assert all(b == pytest.approx(0.8) for b in betas[20:])
    steps = torch.tensor(betas[:21])
    torch.testing.assert_close(steps.diff(), torch.full((20,), 0.04, dtype=steps.dtype))
    assert kl_weight(TrainConfig(kl_weight=0.5), 0, 10) == 0.5  # no warm-up: the weight


def test_the_cosine_step_size_falls_from_lr_to_zero_on_half_a_cosine():
    config = TrainConfig(lr=0.002, lr_schedule="cosine", epochs=4)
    rates = [learning_rate(config, step, 25) for step in range(101)]
    assert rates[0] == 0.002 and rates[50] == pytest.approx(0.001) and rates[100] == 0.0
    assert rates[25] == pytest.approx(0.001 * (1 + 2**-0.5))
    assert all(a > b for a, b in pairwise(rates))
    assert learning_rate(TrainConfig(lr=0.002), 70, 25) == 0.002  # constant: the lr


def without_times(history):
    return [{k: v for k, v in r.items() if "seconds" not in k} for r in history]


def test_a_warmed_up_run_reports_the_true_elbo_and_resumes_bit_identical(tmp_path, monkeypatch):
    """Warm-up, free bits and the cosine step size together, 3 epochs straight; then the
    same run killed in the middle of epoch 2 and resumed: the same history, the same
    parameters."""
    config = TrainConfig(
        **SMALL | {"epochs": 3, "warmup": 2, "free_bits": 0.5, "lr_schedule": "cosine"}
    )
    straight = train_torch(config, tmp_path / "straight", QUIET)
    for record in straight:
        elbo = record["train_log_px_given_z"] - record["train_kl"]
        assert record["train_elbo"] == pytest.approx(elbo)  # β = 1, no floor
    assert straight[0]["kl_weight"] == pytest.approx(4 / 10)  # last of 5 steps, W·S = 10
    assert straight[2]["kl_weight"] == 1.0
    assert straight[1]["lr"] == pytest.approx(learning_rate(config, 9, 5))  # 10 of 15 steps
    objective = straight[0]["train_objective"]
    assert objective != pytest.approx(-straight[0]["train_elbo"], abs=0.1)  # not the ELBO

    real_loss, calls = VAE.loss, {"n": 0}

    def loss_then_crash(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5 + 3:  # 5 batches an epoch: batch 3 of epoch 2
            raise KeyboardInterrupt
        return real_loss(self, *args, **kwargs)

    monkeypatch.setattr(VAE, "loss", loss_then_crash)
    with pytest.raises(KeyboardInterrupt):
        train_torch(config, tmp_path / "resumed", QUIET)
    monkeypatch.setattr(VAE, "loss", real_loss)
    resumed = resume_torch(tmp_path / "resumed", options=QUIET)
    assert without_times(resumed) == without_times(straight)
    a = load_run(tmp_path / "straight", which="last").model.state_dict()
    b = load_run(tmp_path / "resumed", which="last").model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--epochs", "2", "--warmup", "3"], "a warm-up longer than the run"),
        (["--free-bits", "-0.5"], "--free-bits must be >= 0 nats"),
        (["--backend", "numpy", "--warmup", "1"], "belong to the torch backend"),
        (["--lr-schedule", "step"], "--lr-schedule must be one of constant, cosine"),
        (["--backend", "numpy", "--lr-schedule", "cosine"], "belongs to the torch backend"),
    ],
)
def test_bad_objective_flags_are_one_line_errors(tmp_path, capsys, flags, message):
    assert main(["train", "--dataset", "mnist-5k", *flags, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vae: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_weight_decay_trains_with_adamw_and_shrinks_the_weights(tmp_path):
    """--weight-decay λ: AdamW, each step shrinking every weight by lr·λ besides Adam's
    step (its checkpoint says so); with λ = 100 (10% a step) the weights end far smaller
    than the same run's without it, and the reported ELBO is still the ELBO."""
    norms = {}
    for decay in (0.0, 100.0):
        folder = tmp_path / f"wd{decay}"
        history = train_torch(TrainConfig(**SMALL, epochs=2, weight_decay=decay), folder, QUIET)
        state = torch.load(folder / "checkpoint.pt", weights_only=True)
        assert state["optimizer"]["param_groups"][0]["weight_decay"] == (decay or 0)
        model = load_run(folder, "cpu", "last").model
        norms[decay] = torch.cat([p.flatten() for p in model.parameters()]).norm().item()
        for r in history:
            assert r["val_elbo"] == pytest.approx(r["val_log_px_given_z"] - r["val_kl"])
    assert norms[100.0] < 0.6 * norms[0.0]
