"""IWAE as a training objective (8.1), and its doubly reparameterised gradient."""

import math

import pytest
import torch
from device_under_test import DEVICE
from torch.func import functional_call

from vae_numpy.run.config import TrainConfig
from vae_numpy.run.options import QUIET
from vae_torch.cli import main
from vae_torch.models import build_model
from vae_torch.training import train_torch


def tiny(seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    model = build_model(TrainConfig(hidden=(5,), latent_dim=2), (1, 2, 3), 0).to(dtype)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(4, 6, generator=g, dtype=dtype).round()
    return model, x, g


def test_the_loss_is_minus_the_iwae_bound_of_those_samples():
    model, x, g = tiny()
    eps = torch.randn(7, 4, 2, generator=g, dtype=torch.float64)
    loss, rec, kl = model.iwae_loss(x, eps)
    log_w = model.log_weights(x, eps)
    bound = torch.logsumexp(log_w, dim=0) - math.log(7)
    torch.testing.assert_close(loss, -bound.mean())
    torch.testing.assert_close(rec - kl, log_w.mean())  # the one-sample ELBO, averaged


def test_with_one_sample_the_iwae_gradient_is_the_monte_carlo_elbo_gradient():
    model, x, g = tiny(1)
    eps = torch.randn(1, 4, 2, generator=g, dtype=torch.float64)
    grads = []
    for loss in (lambda: model.iwae_loss(x, eps)[0], lambda: model.loss(x, eps[0], mc_kl=True)[0]):
        model.zero_grad()
        loss().backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b)


def test_the_gradient_matches_float64_finite_differences():
    model, x, g = tiny(2)
    eps = torch.randn(5, 4, 2, generator=g, dtype=torch.float64)
    names = [n for n, _ in model.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_() for p in model.parameters())
    model.forward = lambda x_, eps_: model.iwae_loss(x_, eps_)[0]  # what functional_call runs

    def loss(*values):
        return functional_call(model, dict(zip(names, values, strict=True)), (x, eps))

    assert torch.autograd.gradcheck(loss, params, eps=1e-6, atol=1e-7)


def grads(model, x, eps, dreg):
    model.zero_grad()
    model.iwae_loss(x, eps, dreg=dreg)[0].backward()
    enc = torch.cat([p.grad.flatten() for p in model.encoder.parameters()])
    dec = torch.cat([p.grad.flatten() for p in model.decoder.parameters()])
    return enc, dec


def test_dreg_keeps_the_decoders_gradient_and_the_encoders_in_expectation():
    """Same noise: the decoder's gradient is identical. Over 500 draws of the noise, the
    encoder's mean gradients agree within four standard errors of their difference."""
    model, x, g = tiny(3)
    draws = []
    for _ in range(500):
        eps = torch.randn(5, 4, 2, generator=g, dtype=torch.float64)
        (enc, dec), (enc_d, dec_d) = grads(model, x, eps, False), grads(model, x, eps, True)
        torch.testing.assert_close(dec, dec_d)
        draws.append(torch.stack([enc, enc_d]))
    draws = torch.stack(draws)  # (draws, 2, parameters)
    difference = draws[:, 0] - draws[:, 1]
    se = difference.std(dim=0) / math.sqrt(len(draws))
    assert (difference.mean(dim=0).abs() <= 4 * se + 1e-12).all()
    variance = draws.var(dim=0).sum(dim=1)  # total variance of each estimator
    assert variance[1] < variance[0]  # DReG's is lower here (the notes measure by how much)


def test_a_run_trains_on_the_iwae_objective_and_reports_the_elbo(tmp_path):
    config = TrainConfig(
        dataset="mnist-5k",
        hidden=(16,),
        latent_dim=3,
        limit=256,
        n_val=100,
        epochs=1,
        objective="iwae-dreg",
        k=4,
        device=DEVICE,
    )
    (record,) = train_torch(config, tmp_path / "run", options=QUIET)
    assert record["train_elbo"] == pytest.approx(
        record["train_log_px_given_z"] - record["train_kl"]
    )
    assert record["train_objective"] <= -record["train_elbo"] + 1e-9  # IWAE_k >= ELBO (8.4)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--objective", "iwae", "--k", "0"], "--k must be at least 1"),
        (["--k", "5"], "give it"),
        (["--objective", "iwae", "--k", "5", "--mc-kl"], "the IWAE objective has none"),
        (["--objective", "iwae", "--k", "5", "--warmup", "2"], "the IWAE objective has none"),
        (["--objective", "vimco"], "--objective must be one of elbo, iwae, iwae-dreg"),
        (["--backend", "numpy", "--objective", "iwae", "--k", "2"], "belongs to the torch"),
    ],
)
def test_bad_iwae_flags_are_one_line_errors(tmp_path, capsys, flags, message):
    assert main(["train", "--dataset", "mnist-5k", *flags, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vae: error: ") and message in err and err.count("\n") == 1
