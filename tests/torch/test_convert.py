"""The numpy and torch MLP VAEs are the same function: conversion, loss, gradients (float64)."""

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from vae_numpy.config import MLPConfig
from vae_numpy.model import MLPVAE
from vae_torch.convert import to_numpy, to_torch

# float64 round-off of a few hundred operations on O(1..100) numbers; the Gaussian
# loss with σ = 0.1 is ~100x larger than the Bernoulli one, hence relative tolerances.
LOSS_RTOL = 1e-12
GRAD_RTOL, GRAD_ATOL = 1e-10, 1e-12


@st.composite
def cases(draw):
    config = MLPConfig(
        x_dim=draw(st.integers(1, 8)),
        hidden=tuple(draw(st.lists(st.integers(1, 6), max_size=3))),
        latent_dim=draw(st.integers(1, 4)),
        activation=draw(st.sampled_from(["relu", "tanh", "sigmoid"])),
        likelihood=draw(st.sampled_from(["bernoulli", "gaussian"])),
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    batch = draw(st.integers(1, 5))
    x = rng.random((batch, config.x_dim))
    eps = rng.standard_normal((batch, config.latent_dim))
    return MLPVAE.init(config, rng), x, eps, draw(st.sampled_from([1.0, 0.5]))


@given(case=cases())
def test_numpy_to_torch_to_numpy_is_the_identity(case):
    model = case[0]
    back = to_numpy(to_torch(model))
    assert back.config == model.config
    for name, p in model.params.items():
        np.testing.assert_array_equal(back.params[name], p)


@given(case=cases())
def test_same_weights_and_noise_give_the_same_loss_parts_and_gradients(case):
    model, x, eps, kl_weight = case
    parts, cache = model.loss(x, eps, kl_weight)
    grads = model.backward(cache)
    torch_model = to_torch(model)
    loss, rec, kl = torch_model.loss(torch.from_numpy(x), torch.from_numpy(eps), kl_weight)
    loss.backward()
    np.testing.assert_allclose(
        [loss.item(), rec.item(), kl.item()],
        [parts.loss, parts.log_px_given_z, parts.kl],
        rtol=LOSS_RTOL,
        atol=1e-12,
    )
    for name, p in torch_model.named_parameters():
        g = p.grad.T if name.endswith(".weight") else p.grad
        np.testing.assert_allclose(
            grads[name], g.numpy(), rtol=GRAD_RTOL, atol=GRAD_ATOL, err_msg=name
        )
