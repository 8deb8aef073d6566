"""Sampling, checked by its moments in both backends (statistical: tolerances of Z standard
errors, both numbers printed on failure).

The moment tests draw their noise with a fixed seed (μ and log σ² come from hypothesis).
The Monte Carlo KL test takes its seed from hypothesis as well, so each example is a
fresh draw, which a correct implementation fails with probability about 6e-7
(``crosscheck.common.Z``); hypothesis reports the falsifying seed, which replays it.

(5.1) z = μ + σ ε has mean μ and variance σ² = e^{log σ²}. A gradient check cannot catch
      a sampler that uses the variance as the standard deviation (backward stays
      consistent with the wrong forward); only the samples' moments can.
(4.7) the Monte Carlo KL, log q(z|x) − log p(z) at z ~ q, averages to the closed form.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from crosscheck.backends import BACKENDS, NUMPY, TORCH
from crosscheck.common import Z
from vae_numpy import gaussian
from vae_torch import gaussian as torch_gaussian

N_SAMPLES = 20_000

backends = pytest.mark.parametrize("backend", BACKENDS, ids=repr)


def moment_z_scores(backend, mu, log_var, seed=0):
    """|z-scores| of the sample mean and variance against μ and e^{log σ²}, per dimension."""
    eps = np.random.default_rng(seed).standard_normal((N_SAMPLES, mu.size))
    z = backend.reparameterize(
        np.broadcast_to(mu, eps.shape), np.broadcast_to(log_var, eps.shape), eps
    )
    var = np.exp(log_var)
    # SE of the mean: σ/√n; SE of the sample variance of a Gaussian: σ² √(2/(n−1)).
    mean_z = (z.mean(axis=0) - mu) / np.sqrt(var / N_SAMPLES)
    var_z = (z.var(axis=0, ddof=1) - var) / (var * np.sqrt(2 / (N_SAMPLES - 1)))
    return np.abs(mean_z), np.abs(var_z)


@pytest.mark.statistical
@backends
@settings(max_examples=10)
@given(mu=st.lists(st.floats(-5, 5), min_size=1, max_size=4), log_var=st.floats(-4, 3))
def test_reparameterized_samples_have_mean_mu_and_variance_exp_log_var_eq_5_1(backend, mu, log_var):
    mu = np.array(mu)
    mean_z, var_z = moment_z_scores(backend, mu, np.full_like(mu, log_var))
    assert mean_z.max() < Z, f"sample mean off by {mean_z.max():.1f} standard errors (max {Z})"
    assert var_z.max() < Z, f"sample variance off by {var_z.max():.1f} standard errors (max {Z})"


@pytest.mark.statistical
@backends
@settings(max_examples=10)
@given(
    mu=st.lists(st.floats(-3, 3), min_size=1, max_size=4),
    log_var=st.floats(-3, 2),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_monte_carlo_kl_averages_to_the_closed_form_eq_4_7(backend, mu, log_var, seed):
    mu = np.array(mu)[None]
    log_var = np.full_like(mu, log_var)
    eps = np.random.default_rng(seed).standard_normal((N_SAMPLES, mu.shape[1]))
    mus, log_vars = np.broadcast_to(mu, eps.shape), np.broadcast_to(log_var, eps.shape)
    z = backend.reparameterize(mus, log_vars, eps)
    kl_mc = backend.kl_monte_carlo(z, mus, log_vars)  # (N,)
    estimate, se = kl_mc.mean(), kl_mc.std(ddof=1) / np.sqrt(N_SAMPLES)
    exact = backend.kl(mu, log_var)[0]
    assert abs(estimate - exact) < Z * se + 1e-12, (
        f"Monte Carlo KL {estimate:.5f} ± {se:.5f}, closed form {exact:.5f}"
    )


@pytest.mark.statistical
@pytest.mark.parametrize(
    ("backend", "module", "exp"),
    [(NUMPY, gaussian, np.exp), (TORCH, torch_gaussian, torch.exp)],
    ids=["numpy", "torch"],
)
def test_the_moment_test_catches_the_variance_used_as_std_eq_5_1(monkeypatch, backend, module, exp):
    mu, log_var = np.array([0.5]), np.array([1.0])
    _, var_z = moment_z_scores(backend, mu, log_var)
    assert var_z.max() < Z
    monkeypatch.setattr(module, "std", lambda log_var: exp(log_var))  # the famous bug
    _, var_z = moment_z_scores(backend, mu, log_var)
    assert var_z.max() > 10 * Z  # detected by a wide margin


@pytest.mark.parametrize("backend", BACKENDS, ids=repr)
def test_std_is_the_square_root_of_the_variance_eq_5_1(backend):
    log_var = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(backend.std(log_var) ** 2, np.exp(log_var), rtol=1e-12)
