"""The continuous Bernoulli (3.7)-(3.9) against references nobody here wrote: mpmath at
50 digits, scipy's quadrature, and torch.distributions.ContinuousBernoulli."""

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate

from vae_numpy.likelihoods import cb_grad, cb_log_likelihood, cb_log_normaliser, cb_mean
from vae_torch import likelihoods as torch_likelihoods

LOGITS = st.one_of(st.floats(-700, 700), st.floats(-1.5, 1.5), st.floats(-0.02, 0.02), st.just(0.0))


def exact(eta: float) -> tuple[float, float]:
    """(log C(η), E[x]) to 50 significant digits: −1/η + 1/sinh(η) cancels about
    2·|log10 η| digits, so a tiny η gets that many more."""
    if eta == 0:
        return float(mpmath.log(2)), 0.5
    with mpmath.workdps(50 + 2 * int(abs(mpmath.log10(abs(eta))))):
        e = mpmath.mpf(eta)
        log_c = mpmath.log(e / mpmath.tanh(e / 2))
        mean = 1 / (1 + mpmath.exp(-e)) - 1 / e + 1 / mpmath.sinh(e)
        return float(log_c), float(mean)


@given(LOGITS)
def test_log_normaliser_and_mean_to_float64_precision(eta):
    log_c, mean = exact(eta)
    assert cb_log_normaliser(np.array(eta)) == pytest.approx(log_c, rel=1e-13, abs=1e-15)
    assert cb_mean(np.array(eta)) == pytest.approx(mean, abs=1e-12)
    t = torch.tensor([eta], dtype=torch.float32)
    assert torch_likelihoods.cb_log_normaliser(t).item() == pytest.approx(log_c, rel=2e-6, abs=1e-6)
    assert torch_likelihoods.cb_mean(t).item() == pytest.approx(mean, abs=2e-6)


@pytest.mark.parametrize("eta", [-30.0, -3.0, -0.5, -1e-3, 0.0, 2e-3, 0.7, 4.0, 25.0])
def test_the_density_integrates_to_one_and_its_mean_is_the_first_moment(eta):
    def density(x):
        return np.exp(cb_log_likelihood(np.array([[x]]), np.array([[eta]]))[0])

    mass, _ = integrate.quad(density, 0, 1, epsabs=1e-13)
    first, _ = integrate.quad(lambda x: x * density(x), 0, 1, epsabs=1e-13)
    assert mass == pytest.approx(1, abs=1e-10)
    assert first == pytest.approx(float(cb_mean(np.array(eta))), abs=1e-10)


def test_log_prob_and_mean_match_torch_distributions():
    """torch's own ContinuousBernoulli (float64; it approximates near λ = 1/2 with a
    Taylor polynomial in λ of its own, hence the tolerance)."""
    g = torch.Generator().manual_seed(0)
    eta = torch.randn(64, 30, generator=g, dtype=torch.float64) * 4
    x = torch.rand(64, 30, generator=g, dtype=torch.float64)
    reference = torch.distributions.ContinuousBernoulli(logits=eta)
    torch.testing.assert_close(
        torch_likelihoods.cb_log_likelihood(x, eta),
        reference.log_prob(x).sum(-1),
        rtol=1e-6,
        atol=1e-6,
    )
    torch.testing.assert_close(torch_likelihoods.cb_mean(eta), reference.mean, rtol=1e-6, atol=1e-6)


def test_the_gradient_is_the_mean_minus_x_by_autograd():
    eta = torch.linspace(-40, 40, 161, dtype=torch.float64, requires_grad=True)
    x = torch.rand(161, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    torch_likelihoods.cb_log_likelihood(x[None], eta[None]).sum().neg().backward()
    np.testing.assert_allclose(eta.grad, cb_grad(x.numpy(), eta.detach().numpy()), atol=1e-9)
