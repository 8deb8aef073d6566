"""The latent diagnostics of vae_torch.quality.diagnostics (chapter 8): KL per dimension,
active units and the ELBO surgery (8.6), against closed forms."""

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.stats
import torch

from vae_numpy.architecture import MLPConfig
from vae_torch.models import MLPVAE
from vae_torch.quality.bounds import dataset_elbo
from vae_torch.quality.diagnostics import latent_diagnostics, log_density_ratio

Z = 5  # standard errors allowed to a Monte Carlo estimate (a 1 in 1.7 million miss)


def linear_model(x_dim: int, latent_dim: int, seed: int) -> MLPVAE:
    torch.manual_seed(seed)
    config = MLPConfig(x_dim=x_dim, hidden=(), latent_dim=latent_dim, likelihood="gaussian")
    return MLPVAE(config).double()


def test_kl_per_dimension_adds_up_to_the_elbo_kl_eq_4_7():
    model = linear_model(6, 3, 0)
    x = torch.rand(50, 6, dtype=torch.float64)
    d = latent_diagnostics(model, x)
    assert sum(d.kl_per_dim) == pytest.approx(dataset_elbo(model, x).kl, rel=1e-12)
    assert d.average_kl == pytest.approx(sum(d.kl_per_dim), rel=1e-12)


def test_a_dimension_the_encoder_ignores_is_inactive():
    model = linear_model(6, 3, 1)
    with torch.no_grad():
        model.encoder.mu.weight[1:] = 0  # μ_1 and μ_2 are the same for every image
    d = latent_diagnostics(model, torch.rand(40, 6, dtype=torch.float64))
    assert d.activity[1] == d.activity[2] == 0
    assert d.active_units == (d.activity[0] > 0.01)


@pytest.mark.statistical
def test_with_one_image_the_marginal_kl_is_its_kl_and_no_information_eq_8_6():
    model = linear_model(4, 2, 2)
    d = latent_diagnostics(model, torch.rand(1, 4, dtype=torch.float64), draws=4000)
    marginal = d.marginal_kl
    report = f"Monte Carlo {marginal.value} ± {marginal.standard_error}, exact {d.average_kl}"
    assert abs(marginal.value - d.average_kl) < Z * marginal.standard_error, report
    assert d.mutual_information_bound == 0.0


@pytest.mark.statistical
def test_the_marginal_kl_of_a_mixture_is_its_integral_eq_8_6():
    """1-D, three images: KL(q̄ ‖ N(0, 1)) by quadrature of the three-component mixture."""
    model = linear_model(3, 1, 3)
    x = torch.rand(3, 3, dtype=torch.float64)
    d = latent_diagnostics(model, x, draws=4000)
    mu, log_var = (t.squeeze(1).detach().numpy() for t in model.encoder(x))
    sd = np.exp(0.5 * log_var)

    def integrand(z: float) -> float:
        q_bar = scipy.stats.norm.pdf(z, mu, sd).mean()
        return q_bar * (math.log(q_bar) - scipy.stats.norm.logpdf(z)) if q_bar > 0 else 0.0

    exact, _ = scipy.integrate.quad(integrand, -30, 30, limit=200)
    marginal = d.marginal_kl
    report = f"Monte Carlo {marginal.value} ± {marginal.standard_error}, quadrature {exact}"
    assert abs(marginal.value - exact) < Z * marginal.standard_error, report
    assert d.mutual_information.value + Z * marginal.standard_error >= -1e-9
    assert d.mutual_information.value <= math.log(3) + Z * marginal.standard_error


def test_the_log_density_ratio_is_the_mixture_against_the_prior():
    rng = np.random.default_rng(4)
    mu, log_var = rng.normal(size=(2, 7, 3))
    z = rng.normal(size=(5, 3)) * 2
    components = [
        scipy.stats.multivariate_normal(m, np.diag(np.exp(v))).pdf(z)
        for m, v in zip(mu, log_var, strict=True)
    ]
    mixture = np.mean(components, axis=0)
    expected = np.log(mixture) - scipy.stats.multivariate_normal(np.zeros(3)).logpdf(z)
    got = log_density_ratio(*(torch.from_numpy(a) for a in (z, mu, log_var)))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)


def test_a_code_that_tells_every_image_apart_is_said_to_be_at_the_bound():
    """Posteriors far narrower than the distances between the images' means: I_q reaches
    log N, and the evaluation line says what that means; a code that ignores the image
    stays far below it and says nothing."""
    model = linear_model(6, 3, 3)
    x = torch.rand(30, 6, dtype=torch.float64)
    with torch.no_grad():
        model.encoder.mu.weight.mul_(100.0)
        model.encoder.log_var.weight.zero_()
        model.encoder.log_var.bias.fill_(-20.0)  # σ about 5e-5
    sharp = latent_diagnostics(model, x)
    assert sharp.saturated and "tells it from the other N − 1" in sharp.line()
    with torch.no_grad():
        model.encoder.mu.weight.zero_()
        model.encoder.log_var.bias.zero_()
    blind = latent_diagnostics(model, x)
    assert not blind.saturated and "N − 1" not in blind.line()
