"""The discretised logistic (3.10)-(3.13) against references nobody here wrote: mpmath at
50 digits for each bin's mass, scipy's logistic distribution for the mean, and torch's
autograd for the hand-written gradient."""

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import logistic

from vae_numpy.likelihoods import (
    DL_LOG_SCALE_MIN,
    dl_grad,
    dl_log_likelihood,
    dl_mean,
)
from vae_torch import likelihoods as torch_likelihoods

LEVELS = np.arange(256)
MEANS = st.one_of(st.floats(-1.2, 1.2), st.floats(-60, 60))
LOG_SCALES = st.floats(-12, 4)  # below −7 the floor holds the scale


def exact_log_mass(k: int, mu: float, log_s: float) -> float:
    """log P(k) of (3.10) to 50 digits: a difference of CDFs below μ and of survival
    functions above it, so that two values near 1 are never subtracted."""
    with mpmath.workdps(50):
        s, mu = mpmath.exp(max(mpmath.mpf(log_s), DL_LOG_SCALE_MIN)), mpmath.mpf(mu)
        centre, half = mpmath.mpf(2 * k) / 255 - 1, mpmath.mpf(1) / 255
        cdf = lambda t: 1 / (1 + mpmath.exp(-(t - mu) / s))  # noqa: E731
        sf = lambda t: 1 / (1 + mpmath.exp((t - mu) / s))  # noqa: E731
        if centre > mu:
            above = 0 if k == 255 else sf(centre + half)
            mass = (1 if k == 0 else sf(centre - half)) - above
        else:
            below = 0 if k == 0 else cdf(centre - half)
            mass = (1 if k == 255 else cdf(centre + half)) - below
        return float(mpmath.log(mass))


def pack(mu, log_s) -> np.ndarray:
    """[μ, ℓ] along the last axis, as the decoder gives them."""
    return np.concatenate([np.atleast_1d(mu), np.atleast_1d(log_s)], axis=-1)


@given(st.integers(0, 255), MEANS, LOG_SCALES)
def test_each_bin_mass_to_float64_precision_eq_3_10_3_12(k, mu, log_s):
    expected = exact_log_mass(k, mu, log_s)
    x = np.array([k / 255])
    ours = dl_log_likelihood(x, pack(mu, log_s))
    assert ours == pytest.approx(expected, rel=1e-12, abs=1e-13)
    # float32 rounds k/255 and 2x − 1 − μ to 2^-24 of their size, an error in x − μ
    # that |∂ log P/∂μ| (up to 1/s = e^7) magnifies: the tolerance carries that term
    mu32, log_s32 = np.float32(mu), np.float32(log_s)
    expected32 = exact_log_mass(k, float(mu32), float(log_s32))
    slope = abs(dl_grad(x, pack(float(mu32), float(log_s32)))[0])
    rounding = slope * 2**-23 * (2 + abs(mu))
    out32 = torch.tensor(pack(mu32, log_s32))
    theirs = torch_likelihoods.dl_log_likelihood(
        torch.tensor([k / 255], dtype=torch.float32), out32
    ).item()
    assert theirs == pytest.approx(expected32, rel=1e-5, abs=1e-5 + rounding)


def test_float32_masses_stay_finite_where_a_difference_of_sigmoids_is_log_0():
    """μ 20 scale-units away: both sigmoids round to 1 in float32, so the naive
    log(sigmoid(a) − sigmoid(b)) is −inf; (3.12) keeps every term finite."""
    x = torch.tensor([100 / 255])
    out = torch.tensor([2 * 100 / 255 - 1 - 0.5, np.log(0.02)], dtype=torch.float32)
    a = (2 * x - 1 - out[0] + 1 / 255) / out[1].exp()
    b = (2 * x - 1 - out[0] - 1 / 255) / out[1].exp()
    assert torch.log(torch.sigmoid(a) - torch.sigmoid(b)).item() == -np.inf
    expected = exact_log_mass(100, out[0].item(), out[1].item())
    assert torch_likelihoods.dl_log_likelihood(x, out).item() == pytest.approx(expected, rel=1e-5)


@given(MEANS, LOG_SCALES)
def test_the_256_masses_sum_to_one_eq_3_10(mu, log_s):
    x = torch.tensor(LEVELS / 255, dtype=torch.float64)[:, None]
    out = torch.tensor(pack(mu, log_s), dtype=torch.float64).expand(256, 2)
    total = torch_likelihoods.dl_log_likelihood(x, out).exp().sum().item()
    assert total == pytest.approx(1, abs=1e-12)


@given(MEANS, LOG_SCALES)
def test_the_mean_is_the_first_moment_of_the_bins_eq_3_13(mu, log_s):
    x = LEVELS[:, None] / 255
    masses = np.exp(dl_log_likelihood(x, np.broadcast_to(pack(mu, log_s), (256, 2))))
    first_moment = np.sum(masses * LEVELS / 255)
    assert dl_mean(pack(mu, log_s))[0] == pytest.approx(first_moment, abs=1e-12)
    t = torch.tensor(pack(mu, log_s), dtype=torch.float64)
    assert torch_likelihoods.dl_mean(t).item() == pytest.approx(first_moment, abs=1e-12)


def test_the_mean_by_scipys_logistic_and_not_the_centre_near_an_edge():
    """The tail sum (3.13) with scipy's survival function; at μ = −1 (black) half the
    mass falls in the open bin 0, so E[x] is far from (μ + 1)/2 = 0 at a broad scale."""
    mu, s = -1.0, 0.3
    boundaries = (2 * np.arange(1, 256) - 1) / 255 - 1
    expected = logistic.sf(boundaries, mu, s).sum() / 255
    assert dl_mean(pack(mu, np.log(s)))[0] == pytest.approx(expected, rel=1e-12)
    assert expected > 0.05


def test_the_hand_written_gradient_is_autograds_at_edges_interior_and_floor():
    g = torch.Generator().manual_seed(0)
    n = 600
    k = torch.randint(0, 256, (n,), generator=g)
    k[:50], k[50:100] = 0, 255  # both open edge bins
    x = (k / 255).double()
    mu = torch.randn(n, generator=g, dtype=torch.float64) * 1.5
    log_s = torch.rand(n, generator=g, dtype=torch.float64) * 9 - 8  # some below the floor
    out = torch.cat([mu, log_s]).requires_grad_()
    torch_likelihoods.dl_log_likelihood(x, out).neg().backward()
    np.testing.assert_allclose(dl_grad(x.numpy(), out.detach().numpy()), out.grad, atol=1e-10)
    assert (out.grad[n:][log_s < DL_LOG_SCALE_MIN] == 0).all()
