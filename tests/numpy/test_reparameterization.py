"""Reparameterized samples have mean μ and variance σ² = exp(log σ²)  (5.1).

A gradient check cannot catch a sampler that uses the variance as the standard
deviation: backward stays consistent with the wrong forward. Only the moments of
the samples can; the second test shows that this one does.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vae_numpy.gaussian import reparameterize, std

N_SAMPLES = 20_000
Z = 5.0  # standard errors allowed; with a fixed seed the test is deterministic


def moment_errors(sampler, mu, log_var, seed=0):
    """z-scores of the sample mean and variance against μ and exp(log σ²), per dimension."""
    eps = np.random.default_rng(seed).standard_normal((N_SAMPLES, mu.size))
    z = sampler(mu, log_var, eps)
    var = np.exp(log_var)
    # SE of the mean: σ/√n; SE of the sample variance of a Gaussian: σ² √(2/(n−1)).
    mean_z = (z.mean(axis=0) - mu) / np.sqrt(var / N_SAMPLES)
    var_z = (z.var(axis=0, ddof=1) - var) / (var * np.sqrt(2 / (N_SAMPLES - 1)))
    return np.abs(mean_z), np.abs(var_z)


@pytest.mark.statistical
@settings(max_examples=20)
@given(
    mu=st.lists(st.floats(-5, 5), min_size=1, max_size=4),
    log_var=st.floats(-4, 3),
)
def test_samples_have_mean_mu_and_variance_exp_log_var_eq_5_1(mu, log_var):
    mu = np.array(mu)
    log_var = np.full_like(mu, log_var)
    mean_z, var_z = moment_errors(reparameterize, mu, log_var)
    assert mean_z.max() < Z, f"sample mean off by {mean_z.max():.1f} standard errors"
    assert var_z.max() < Z, f"sample variance off by {var_z.max():.1f} standard errors"


@pytest.mark.statistical
def test_the_moment_test_catches_the_variance_used_as_std():
    def famous_bug(mu, log_var, eps):
        return mu + np.exp(log_var) * eps  # the variance where σ belongs

    mu, log_var = np.array([0.5]), np.array([1.0])
    _, var_z = moment_errors(famous_bug, mu, log_var)
    assert var_z.max() > 10 * Z  # detected by a wide margin
    _, var_z = moment_errors(reparameterize, mu, log_var)
    assert var_z.max() < Z


def test_std_is_the_square_root_of_the_variance():
    log_var = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(std(log_var) ** 2, np.exp(log_var), rtol=1e-12)
