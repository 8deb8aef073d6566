"""KL warm-up (12.1), free bits (12.2), the MMD penalty (12.3) and the cosine step size:
the objective each trains on, the true ELBO each reports, and a resumed run that repeats
them exactly."""

from itertools import pairwise

import pytest
import torch
from device_under_test import DEVICE

from vae_numpy.run.config import TrainConfig
from vae_numpy.run.options import QUIET
from vae_torch import gaussian
from vae_torch.checkpoint import load_run
from vae_torch.cli import main
from vae_torch.data import run_split
from vae_torch.models import build_model
from vae_torch.objectives import Batch, Objective, imq_kernel, kl_weight, mmd_u_statistic
from vae_torch.quality.diagnostics import posteriors
from vae_torch.training import learning_rate, resume_torch, train_torch

SMALL = {
    "dataset": "mnist-5k",
    "hidden": (32,),
    "latent_dim": 4,
    "limit": 640,
    "n_val": 200,
    "device": DEVICE,
}


def loss_of(model, x, eps, prior=None, **flags):
    """The training objective of ``vae train`` with ``flags`` on one batch, at β = 1."""
    objective = Objective(model, TrainConfig(hidden=(8,), latent_dim=3, **flags))
    return objective(Batch(x, eps, prior=prior), 1.0)


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    model = build_model(TrainConfig(hidden=(8,), latent_dim=3), (1, 4, 4), 0)
    x = torch.rand(5, 16, generator=g).round()
    eps = torch.randn(5, 3, generator=g)
    return model, x, eps


def test_free_bits_floor_each_dimensions_batch_average_kl_eq_12_2():
    model, x, eps = batch()
    rec, kl_dims, _ = model.terms_per_dim(x, eps)
    average = kl_dims.mean(dim=0).detach()  # K_d
    for floor in (0.0, float(average.min() + average.max()) / 2, 50.0):
        loss, rec_mean, kl_mean = loss_of(model, x, eps, free_bits=floor)
        want = -rec.mean() + torch.clamp(average, min=floor).sum()
        torch.testing.assert_close(loss, want)
        torch.testing.assert_close(kl_mean, kl_dims.sum(dim=1).mean())  # the true KL
        assert loss >= -(rec_mean - kl_mean) - 1e-6  # an upper bound on −ELBO (12.2)
    assert loss_of(model, x, eps, free_bits=50.0)[0].item() == pytest.approx(
        50 * 3 - rec.mean().item()
    )


def test_the_per_dimension_kls_add_up_to_the_kl_analytic_and_monte_carlo():
    model, x, eps = batch(1)
    for mc in (False, True):
        _, kl = model.terms(x, eps, mc_kl=mc)
        _, kl_dims, _ = model.terms_per_dim(x, eps, mc_kl=mc)
        torch.testing.assert_close(kl_dims.sum(dim=1), kl)
    mu, log_var = model.encoder(x, None)
    z = gaussian.reparameterize(mu, log_var, eps)
    torch.testing.assert_close(
        gaussian.kl_monte_carlo_dims(z, mu, log_var).sum(dim=1),
        gaussian.kl_monte_carlo(z, mu, log_var),
    )


def test_the_mmd_estimator_is_the_u_statistic_that_elbo_math_checks_eq_12_3():
    """The package's MMD² of three codes and two prior draws is elbo_math's estimator
    with the kernel's values put in: the formula (12.3) verifies, term for term."""
    import sympy as sp

    from elbo_math import objectives as om

    g = torch.Generator().manual_seed(3)
    a, b = torch.randn(2, 4, generator=g, dtype=torch.float64)
    names = ("a", "b", "b"), ("a", "b")  # codes a, b, b; prior draws a, b
    points = {"a": a, "b": b}
    x = torch.stack([points[n] for n in names[0]])
    y = torch.stack([points[n] for n in names[1]])
    k = imq_kernel(a[None], b[None]).item()
    values = {
        om.K_AA: imq_kernel(a[None], a[None]).item(),
        om.K_AB: k,
        om.K_BB: imq_kernel(b[None], b[None]).item(),
    }
    assert mmd_u_statistic(x, y).item() == pytest.approx(
        float(sp.N(om.mmd_u_statistic(*names).subs(values))), rel=1e-12
    )


def test_the_mmd_estimate_is_unbiased_against_the_exact_mmd_of_two_point_laws():
    """P and Q on the same two points {a, b} with P(a) = 0.8, Q(a) = 0.3: MMD² is
    (0.8 − 0.3)² (k_aa − 2 k_ab + k_bb) exactly (12.3). The mean of 4,000 estimates from
    batches of 8 and 8 lies within 4 standard errors of it; the estimator that keeps the
    diagonal (the V-statistic) is biased by more than that, so the test can tell."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.zeros(2), torch.full((2,), 0.7)
    kaa, kab, kbb = (imq_kernel(u[None], v[None]).item() for u, v in ((a, a), (a, b), (b, b)))
    exact = 0.5**2 * (kaa - 2 * kab + kbb)

    def draw(p):
        pick = torch.rand(8, generator=g) < p
        return torch.where(pick[:, None], a, b)

    def v_statistic(x, y):
        return imq_kernel(x, x).mean() + imq_kernel(y, y).mean() - 2 * imq_kernel(x, y).mean()

    pairs = [(draw(0.8), draw(0.3)) for _ in range(4000)]
    for estimator, unbiased in ((mmd_u_statistic, True), (v_statistic, False)):
        estimates = torch.tensor([estimator(x, y).item() for x, y in pairs], dtype=torch.float64)
        z = (estimates.mean().item() - exact) / (estimates.std().item() / len(pairs) ** 0.5)
        assert (abs(z) < 4) == unbiased, (estimator, z)


def test_the_mmd_penalty_adds_lambda_times_the_codes_mmd_and_keeps_the_true_elbo():
    model, x, eps = batch(2)
    prior = torch.randn(5, 3, generator=torch.Generator().manual_seed(9))
    plain, rec, kl = model.loss(x, eps)
    penalised, rec2, kl2 = loss_of(model, x, eps, prior, mmd=100.0)
    _, _, z = model.terms_per_dim(x, eps)
    torch.testing.assert_close(penalised, plain + 100.0 * mmd_u_statistic(z, prior))
    assert (rec2, kl2) == (rec, kl)  # the ELBO's terms are reported unchanged


def test_the_mmd_penalty_pulls_the_codes_towards_the_prior(tmp_path):
    """Three epochs with and without λ = 1000 from the same seed. The codes z ~ q(z|x) of
    600 test images, against 600 draws of N(0, I), ten times with fresh draws of both:
    the penalised run's MMD² is lower by more than 4 standard errors of the difference
    of the two means. Its history records the objective beside the true ELBO."""
    g = torch.Generator().manual_seed(1)
    estimates = {}
    for weight in (0.0, 1000.0):
        config = TrainConfig(**SMALL, epochs=3, mmd=weight)
        history = train_torch(config, tmp_path / f"m{weight}", options=QUIET)
        model = load_run(tmp_path / f"m{weight}", which="last").model
        test = run_split(config, "test", model.device, torch.float32)
        mu, log_var = (
            t.cpu() for t in posteriors(model, test.fixed[:600].view(-1, *model.x_shape))
        )
        estimates[weight] = torch.tensor(
            [
                mmd_u_statistic(
                    gaussian.reparameterize(
                        mu, log_var, torch.randn(mu.shape, generator=g, dtype=mu.dtype)
                    ),
                    torch.randn(mu.shape, generator=g, dtype=mu.dtype),
                ).item()
                for _ in range(10)
            ]
        )
        if weight:
            record = history[-1]
            assert record["train_elbo"] == pytest.approx(
                record["train_log_px_given_z"] - record["train_kl"]
            )
            # the objective is −ELBO + λ MMD², whose estimate may fall below 0
            assert record["train_objective"] != pytest.approx(-record["train_elbo"], abs=1e-3)
    plain, penalised = estimates[0.0], estimates[1000.0]
    se = (plain.var() / 10 + penalised.var() / 10).sqrt()
    assert plain.mean() - penalised.mean() > 4 * se, (plain, penalised)


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
    straight = train_torch(config, tmp_path / "straight", options=QUIET)
    for record in straight:
        elbo = record["train_log_px_given_z"] - record["train_kl"]
        assert record["train_elbo"] == pytest.approx(elbo)  # β = 1, no floor
    assert straight[0]["kl_weight"] == pytest.approx(4 / 10)  # last of 5 steps, W·S = 10
    assert straight[2]["kl_weight"] == 1.0
    assert straight[1]["lr"] == pytest.approx(learning_rate(config, 9, 5))  # 10 of 15 steps
    objective = straight[0]["train_objective"]
    assert objective != pytest.approx(-straight[0]["train_elbo"], abs=0.1)  # not the ELBO

    real_loss, calls = Objective.forward, {"n": 0}

    def loss_then_crash(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5 + 3:  # 5 batches an epoch: batch 3 of epoch 2
            raise KeyboardInterrupt
        return real_loss(self, *args, **kwargs)

    monkeypatch.setattr(Objective, "forward", loss_then_crash)
    with pytest.raises(KeyboardInterrupt):
        train_torch(config, tmp_path / "resumed", options=QUIET)
    monkeypatch.setattr(Objective, "forward", real_loss)
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
        (["--mmd", "-1"], "--mmd must be a weight >= 0"),
        (["--backend", "numpy", "--mmd", "10"], "--mmd belongs to the torch backend"),
        (["--objective", "iwae", "--k", "2", "--mmd", "10"], "the IWAE objective has none"),
        (["--backend", "numpy", "--warmup", "1"], "--warmup belongs to the torch backend"),
        (["--lr-schedule", "step"], "--lr-schedule must be one of constant, cosine"),
        (
            ["--backend", "numpy", "--lr-schedule", "cosine", "--shift", "1"],
            "--lr-schedule and --shift belong to the torch backend",
        ),
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
        history = train_torch(
            TrainConfig(**SMALL, epochs=2, weight_decay=decay), folder, options=QUIET
        )
        state = torch.load(folder / "checkpoint.pt", weights_only=True)
        assert state["optimizer"]["param_groups"][0]["weight_decay"] == (decay or 0)
        model = load_run(folder, "cpu", "last").model
        norms[decay] = torch.cat([p.flatten() for p in model.parameters()]).norm().item()
        for r in history:
            assert r["val_elbo"] == pytest.approx(r["val_log_px_given_z"] - r["val_kl"])
    assert norms[100.0] < 0.6 * norms[0.0]


def test_a_code_the_mmd_penalty_keeps_closed_is_reported_once_with_the_fix(tmp_path, capsys):
    """λ = 10⁵ closes the code from the first epoch: after the third, ``vae train`` says
    so, once, and what to do; the same run without the penalty says nothing."""
    small = [
        "--dataset",
        "mnist-5k",
        "--limit",
        "640",
        "--n-val",
        "200",
        "--hidden",
        "32",
        "--latent-dim",
        "4",
        "--epochs",
        "5",
        "--device",
        DEVICE,
    ]
    assert main(["train", *small, "--mmd", "100000", "--out", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert out.count("warning: the code is closed") == 1
    assert "train again with a smaller --mmd than 100000" in out
    history = load_run(tmp_path / "m", which="last").history
    assert all(r["val_kl"] < 0.1 for r in history)
    assert main(["train", *small, "--out", str(tmp_path / "plain")]) == 0
    assert "warning" not in capsys.readouterr().out
