"""Training the numpy VAE on real digits, its optimizer, and what a diverging run leaves."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from vae_numpy.checkpoint import load_model
from vae_numpy.data import load_dataset, split
from vae_numpy.data.pixels import fixed
from vae_numpy.model import MLPVAE
from vae_numpy.optim import Adam
from vae_numpy.run.config import TrainConfig
from vae_numpy.run.errors import TrainingDiverged
from vae_numpy.run.options import QUIET
from vae_numpy.train import evaluate, train_numpy

SMALL = dict(
    backend="numpy",
    dataset="mnist-5k",
    hidden=(64,),
    latent_dim=8,
    epochs=3,
    limit=1000,
    n_val=500,
    batch_size=50,
    seed=1,
)


def test_short_training_on_real_digits_raises_the_validation_elbo(tmp_path):
    config = TrainConfig(**SMALL)
    raw = load_dataset("mnist-5k", QUIET)
    val = split(raw, config.n_val, config.seed, config.limit).val
    val_x = fixed(val.images.reshape(len(val), -1), config.pixels, config.seed, np.float32)
    untrained = evaluate(MLPVAE.init(config.mlp(784), np.random.default_rng(1), np.float32), val_x)

    history = train_numpy(config, tmp_path / "run", options=QUIET)

    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert history[-1]["val_elbo"] > history[0]["val_elbo"] > untrained.elbo + 50
    saved = json.loads((tmp_path / "run" / "history.json").read_text())
    assert saved == history
    trained = evaluate(load_model(tmp_path / "run" / "model.npz"), val_x)
    assert trained.elbo == pytest.approx(history[-1]["val_elbo"], rel=1e-6)


def test_a_nan_loss_stops_training_and_keeps_the_last_good_parameters(tmp_path, monkeypatch):
    real_loss = MLPVAE.loss
    calls = {"n": 0}
    calls_per_epoch = 1000 // 50 + 1  # 20 training batches, then one validation batch of 500

    def loss_that_fails_in_epoch_2_batch_3(self, x, eps, kl_weight=1.0):
        calls["n"] += 1
        parts, cache = real_loss(self, x, eps, kl_weight)
        if calls["n"] == calls_per_epoch + 3:
            parts = dataclasses.replace(parts, loss=float("nan"))
        return parts, cache

    monkeypatch.setattr(MLPVAE, "loss", loss_that_fails_in_epoch_2_batch_3)
    with pytest.raises(TrainingDiverged, match=r"at epoch 2, batch 3.*epoch \(1\) is kept"):
        train_numpy(TrainConfig(**SMALL), tmp_path / "run", options=QUIET)
    monkeypatch.setattr(MLPVAE, "loss", real_loss)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [r["epoch"] for r in history] == [1]
    model = load_model(tmp_path / "run" / "model.npz")
    assert all(np.isfinite(p).all() for p in model.params.values())


def test_adam_takes_the_same_steps_as_torch_adam():
    rng = np.random.default_rng(0)
    params = {"w": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    tparams = [torch.tensor(p, requires_grad=True) for p in params.values()]
    ours = Adam(params, lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    theirs = torch.optim.Adam(tparams, lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    for _ in range(5):
        grads = {k: rng.standard_normal(p.shape) for k, p in params.items()}
        ours.step(grads)
        for t, g in zip(tparams, grads.values(), strict=True):
            t.grad = torch.tensor(g)
        theirs.step()
    for p, t in zip(params.values(), tparams, strict=True):
        np.testing.assert_allclose(p, t.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_samples_are_decoded_prior_draws_in_pixel_range():
    model = MLPVAE.init(TrainConfig(**SMALL).mlp(x_dim=784), np.random.default_rng(0), np.float32)
    images = model.sample(7, np.random.default_rng(1))
    assert images.shape == (7, 784) and images.dtype == np.float32
    assert np.all((images > 0) & (images < 1))  # Bernoulli means: sigmoid of the logits
    z = np.random.default_rng(1).standard_normal((7, 8), dtype=np.float32)
    np.testing.assert_array_equal(images, model.mean_image(z))
