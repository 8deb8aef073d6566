"""The sum and mean conventions of the contract, and what they make independent of batching.

Per example, the loss sums over pixels and latent dimensions; a batch's loss is the
mean over its examples (2.5):

    loss = (1/B) Σ_b [ −Σ_d log p(x_bd | z_b) + Σ_j KL_bj ],   KL_bj from (4.7)

so the dataset ELBO, with each example's noise fixed, is the same for every batch size.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import logistic

from elbo_math import numeric
from vae_numpy.architecture import MLPConfig
from vae_numpy.likelihoods import DL_LOG_SCALE_MIN, LIKELIHOODS
from vae_numpy.model import MLPVAE
from vae_numpy.train import evaluate
from vae_torch.convert import to_torch
from vae_torch.quality.bounds import dataset_elbo

# float64 sums of <= 50 terms of size <= ~1e3 (σ = 0.1 makes squared errors large)
SUM_RTOL = 1e-12


@st.composite
def models(draw):
    config = MLPConfig(
        x_dim=draw(st.integers(1, 8)),
        hidden=tuple(draw(st.lists(st.integers(1, 6), max_size=2))),
        latent_dim=draw(st.integers(1, 4)),
        likelihood=draw(st.sampled_from(sorted(LIKELIHOODS))),
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    batch = draw(st.integers(1, 6))
    return MLPVAE.init(config, rng), rng.random((batch, config.x_dim)), rng


@given(models())
def test_the_loss_sums_over_pixels_and_latents_and_averages_over_examples_eq_2_5(case):
    model, x, rng = case
    eps = rng.standard_normal((len(x), model.config.latent_dim))
    mu, log_var = model.encode(x)
    z = numeric.reparameterize(mu, log_var, eps)
    out = model.decode(z)
    if model.config.likelihood == "bernoulli":
        rec = numeric.bernoulli_log_likelihood_from_logits(x, out, elementwise=True)
    elif model.config.likelihood == "gaussian":
        rec = numeric.gaussian_log_likelihood(x, out, model.likelihood.sigma, elementwise=True)
    elif model.config.likelihood == "continuous-bernoulli":
        # (3.7): the Bernoulli terms plus log(η / tanh(η/2))
        bernoulli = numeric.bernoulli_log_likelihood_from_logits(x, out, elementwise=True)
        safe = np.where(out == 0, 1.0, out)
        rec = bernoulli + np.where(out == 0, np.log(2), np.log(safe / np.tanh(safe / 2)))
    else:  # discretised logistic (3.10): differences of scipy's logistic CDF below the
        # mean and of its survival function above it (two CDFs near 1 would cancel)
        mean, log_scale = np.split(out, 2, axis=-1)
        scale = np.exp(np.maximum(log_scale, DL_LOG_SCALE_MIN))
        t, k = 2 * x - 1, np.round(255 * x)
        upper, lower = t + 1 / 255, t - 1 / 255
        by_cdf = np.where(k >= 255, 1.0, logistic.cdf(upper, mean, scale)) - np.where(
            k <= 0, 0.0, logistic.cdf(lower, mean, scale)
        )
        by_sf = np.where(k <= 0, 1.0, logistic.sf(lower, mean, scale)) - np.where(
            k >= 255, 0.0, logistic.sf(upper, mean, scale)
        )
        rec = np.log(np.where(t > mean, by_sf, by_cdf))
    kl = numeric.gaussian_kl_std_normal(mu, log_var, elementwise=True)  # (B, L)
    expected = np.mean(-rec.sum(axis=1) + kl.sum(axis=1))
    parts, _ = model.loss(x, eps)
    loss, _, _ = to_torch(model).loss(torch.from_numpy(x), torch.from_numpy(eps))
    assert parts.loss == pytest.approx(expected, rel=SUM_RTOL)
    assert loss.item() == pytest.approx(expected, rel=SUM_RTOL)
    assert parts.log_px_given_z == pytest.approx(rec.sum(axis=1).mean(), rel=SUM_RTOL)
    assert parts.kl == pytest.approx(kl.sum(axis=1).mean(), rel=SUM_RTOL, abs=1e-15)


@given(models(), st.integers(1, 50))
def test_the_dataset_elbo_does_not_depend_on_the_batch_size(case, batch_size):
    model, _, rng = case
    x = rng.random((23, model.config.x_dim))
    numpy_whole = evaluate(model, x, batch_size=len(x))
    numpy_batched = evaluate(model, x, batch_size=batch_size)
    assert numpy_batched.elbo == pytest.approx(numpy_whole.elbo, rel=SUM_RTOL)
    torch_model, xt = to_torch(model), torch.from_numpy(x)
    torch_whole = dataset_elbo(torch_model, xt, batch_size=len(x))
    torch_batched = dataset_elbo(torch_model, xt, batch_size=batch_size)
    assert torch_batched.elbo == pytest.approx(torch_whole.elbo, rel=SUM_RTOL)
