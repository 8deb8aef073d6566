"""The priors of vae_torch.priors: the VampPrior's log-density held to torch.distributions
and to the numpy reference, its Monte Carlo KL to the closed forms, its draws, and
``vae train --prior vamp`` as a user runs it (trained, evaluated, sampled, resumed,
refused where it cannot work)."""

import json
import math

import numpy as np
import pytest
import torch
from device_under_test import DEVICE
from hypothesis import given
from hypothesis import strategies as st
from torch import nn
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from crosscheck.common import cli, refused_in_one_line
from vae_numpy import gaussian as np_gaussian
from vae_numpy.run.config import TrainConfig
from vae_numpy.run.errors import VaeError
from vae_torch import gaussian
from vae_torch.checkpoint import load_run
from vae_torch.models import build_model
from vae_torch.priors import StandardNormal, VampPrior
from vae_torch.quality.diagnostics import latent_diagnostics

Z = 4  # standard errors a statistical check allows
TINY = ["--dataset", "mnist-5k", "--hidden", "16", "--latent-dim", "3", "--limit", "300"]


def mixture(mu: torch.Tensor, log_var: torch.Tensor) -> MixtureSameFamily:
    """(1/K) Σ_k N(μ_k, diag σ_k²) as torch.distributions builds it."""
    weights = Categorical(logits=torch.zeros(len(mu), dtype=mu.dtype))
    return MixtureSameFamily(weights, Independent(Normal(mu, (0.5 * log_var).exp()), 1))


@given(
    k=st.integers(1, 6),
    d=st.integers(1, 5),
    lead=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    scale=st.floats(0.1, 3.0),
)
def test_the_mixture_log_density_is_torch_distributions_and_numpy_s_eq_13_1(
    k, d, lead, seed, scale
):
    rng = np.random.default_rng(seed)
    mu, log_var = rng.normal(size=(2, k, d)) * scale
    z = rng.normal(size=(lead, 2, d)) * 2 * scale
    t = [torch.from_numpy(a) for a in (z, mu, log_var)]
    reference = mixture(t[1], t[2]).log_prob(t[0]).numpy()
    np.testing.assert_allclose(gaussian.log_mixture_normal(*t).numpy(), reference, rtol=1e-9)
    np.testing.assert_allclose(np_gaussian.log_mixture_normal(z, mu, log_var), reference, rtol=1e-9)
    per_dim = [mixture(t[1][:, [i]], t[2][:, [i]]).log_prob(t[0][..., [i]]) for i in range(d)]
    np.testing.assert_allclose(
        gaussian.log_mixture_normal_dims(*t).numpy(), torch.stack(per_dim, -1).numpy(), rtol=1e-9
    )


def test_far_codes_do_not_overflow_the_log_sum_exp():
    mu, log_var = torch.zeros(3, 2, dtype=torch.float64), torch.full((3, 2), -6.0).double()
    z = torch.tensor([[40.0, -40.0]], dtype=torch.float64)  # each a_k about −1e6
    got = gaussian.log_mixture_normal(z, mu, log_var)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, mixture(mu, log_var).log_prob(z))


class FixedEncoder(nn.Module):
    """An encoder whose posterior is N(μ, diag e^{log σ²}) whatever its input."""

    def __init__(self, mu, log_var):
        super().__init__()
        self.mu, self.log_var = torch.as_tensor(mu).double(), torch.as_tensor(log_var).double()

    def forward(self, x, y=None):
        shape = (len(x), len(self.mu))
        return self.mu.expand(shape), self.log_var.expand(shape)


@pytest.mark.statistical
@pytest.mark.parametrize(("m_u", "log_var_u"), [(0.0, 0.0), (0.7, -0.5)])
def test_the_monte_carlo_kl_is_unbiased_for_the_closed_form_at_one_component_eq_13_2(
    m_u, log_var_u
):
    """K = 1, q(z | u) = N(m_u, σ_u²): E_q[log q − log p] is (4.4), and at N(0, 1) the
    standard normal's (4.5), which the model uses without a learned prior."""
    prior = VampPrior(2, components=1, x_shape=(4,)).double()
    encoder = FixedEncoder([m_u, m_u], [log_var_u, log_var_u])
    g = torch.Generator().manual_seed(0)
    mu = torch.tensor([[0.3, -1.2]], dtype=torch.float64).expand(20000, 2)
    log_var = torch.tensor([[-1.0, 0.4]], dtype=torch.float64).expand(20000, 2)
    z = gaussian.reparameterize(mu, log_var, torch.randn(mu.shape, generator=g).double())
    draws = prior.kl_dims(z, mu, log_var, encoder).sum(dim=-1)
    assert prior.kl_dims(z, mu, log_var, encoder).shape == (20000, 1)
    u = torch.tensor(log_var_u)
    exact = 0.5 * (u - log_var + (log_var - u).exp() + (mu - m_u) ** 2 / u.exp() - 1)  # (4.7)
    exact = exact[0].sum().item()
    se = draws.std().item() / math.sqrt(len(draws))
    assert abs(draws.mean().item() - exact) < Z * se, (draws.mean().item(), exact, se)
    if m_u == log_var_u == 0:
        closed = StandardNormal(2).kl_dims(z, mu, log_var, None).sum(dim=-1)[0].item()
        assert math.isclose(closed, exact, rel_tol=1e-12)


@pytest.mark.statistical
def test_vamp_draws_follow_the_mixture():
    """Two components far apart, each picked half the time; inside one, the draws'
    spread is the component's σ."""
    prior = VampPrior(1, components=2, x_shape=(1,)).double()
    encoder = FixedEncoder([0.0], [0.0])
    prior.posteriors = lambda enc: (torch.tensor([[-10.0], [10.0]]), torch.tensor([[0.0], [-2.0]]))
    n = 40000
    z = prior.sample(
        n, encoder, torch.Generator().manual_seed(1), torch.device("cpu"), torch.float64
    )
    right = z[:, 0] > 0
    share = right.double().mean().item()
    assert abs(share - 0.5) < Z * math.sqrt(0.25 / n)
    spread = z[right, 0].std().item()
    assert abs(spread - math.exp(-1.0)) < Z * math.exp(-1.0) / math.sqrt(2 * right.sum().item())


def vamp_model(components=5, **flags):
    config = TrainConfig(prior="vamp", components=components, hidden=(8,), latent_dim=3, **flags)
    torch.manual_seed(0)
    return build_model(config, (1, 4, 4), 0).double()


def test_the_model_s_prior_and_its_iwae_weights_use_the_exact_log_density():
    model = vamp_model()
    model.prior.start(torch.rand(30, 16, dtype=torch.float64), torch.Generator().manual_seed(2))
    mu_k, log_var_k = model.encoder(model.prior.pseudo_inputs, None)
    x = torch.rand(6, 16, dtype=torch.float64)
    eps = torch.randn(4, 6, 3, dtype=torch.float64)
    rec, log_prior, log_q, z = model.weight_terms(x, eps)
    torch.testing.assert_close(log_prior, mixture(mu_k, log_var_k).log_prob(z))
    torch.testing.assert_close(model.log_weights(x, eps), rec + log_prior - log_q)
    # its KL is the one-column Monte Carlo term at the ELBO's own z
    _, kl, z1 = model.terms_per_dim(x, eps[0])
    log_q1 = gaussian.log_normal(z1, *model.encoder(x, None))
    torch.testing.assert_close(kl, (log_q1 - mixture(mu_k, log_var_k).log_prob(z1))[:, None])


def test_pseudo_inputs_start_at_distinct_training_images_and_train():
    model = vamp_model(components=4)
    x = torch.rand(10, 16, dtype=torch.float64)
    model.prior.start(x, torch.Generator().manual_seed(0))
    rows = [int(torch.nonzero((x == u).all(dim=1))[0]) for u in model.prior.pseudo_inputs]
    assert len(set(rows)) == 4
    loss, _, _ = model.loss(x, torch.randn(10, 3, dtype=torch.float64))
    loss.backward()
    assert model.prior.pseudo_inputs.grad.abs().sum() > 0


@pytest.mark.statistical
def test_diagnostics_of_a_vamp_prior_at_n01_agree_with_the_closed_form():
    """A VampPrior whose components are all N(0, I) is the standard normal: its Monte Carlo
    surgery and KL per dimension agree with the closed-form ones within their errors."""
    model = vamp_model()
    x = torch.rand(200, 16, dtype=torch.float64)
    vamp = latent_diagnostics(model, x, draws=4000)
    model.prior.posteriors = lambda enc: (torch.zeros(5, 3).double(), torch.zeros(5, 3).double())
    at_origin = latent_diagnostics(model, x, draws=4000)
    model.prior = StandardNormal(3)
    closed = latent_diagnostics(model, x, draws=4000)
    se = at_origin.mutual_information.standard_error
    assert abs(at_origin.average_kl - closed.average_kl) < Z * se
    assert abs(at_origin.marginal_kl.value - closed.marginal_kl.value) < 1e-9
    assert at_origin.mutual_information.value <= math.log(200) + 1e-9
    for a, b in zip(at_origin.kl_per_dim, closed.kl_per_dim, strict=True):
        assert abs(a - b) < Z * se * 3
    assert vamp.average_kl == pytest.approx(vamp.mutual_information.value + vamp.marginal_kl.value)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--prior", "vamp", "--backend", "numpy"], "--prior belongs to the torch backend"),
        (["--prior", "vamp", "--model", "cvae"], "conditional model's encoder q\\(z\\|x, c\\)"),
        (["--prior", "vamp", "--free-bits", "0.5"], "--free-bits floors a KL per dimension"),
        (["--prior", "vamp", "--mmd", "1"], "--mmd pulls the codes to N\\(0, I\\)"),
        (["--prior", "vamp", "--components", "0"], "--components must be at least 1, got 0"),
        (["--components", "10"], "--components counts the VampPrior's pseudo-inputs; add"),
        (["--prior", "flow"], "--prior must be one of normal, vamp, got 'flow'"),
    ],
)
def test_a_prior_the_model_cannot_take_is_refused_in_one_line(capsys, tmp_path, flags, message):
    out = tmp_path / "run"
    refused_in_one_line(capsys, out, message, "train", *TINY, "--epochs", "1", "--out", out, *flags)


@pytest.mark.slow
def test_vae_train_prior_vamp_trains_evaluates_samples_and_resumes(capsys, tmp_path):
    run = tmp_path / "vamp"
    flags = [*TINY, "--prior", "vamp", "--components", "7", "--device", DEVICE]
    assert cli(capsys, "train", *flags, "--epochs", "1", "--out", run)[0] == 0
    loaded = load_run(run, DEVICE)
    assert isinstance(loaded.model.prior, VampPrior) and loaded.model.prior.components == 7
    state = torch.load(run / "best.pt", weights_only=True)
    assert state["architecture"]["prior"] == "vamp" and state["architecture"]["components"] == 7
    code, out, err = cli(
        capsys, "evaluate", run, "--k", "20", "--samples", "40", "--device", DEVICE
    )
    assert code == 0, err
    assert "IWAE k=20" in out and "KL(q(z|x) || p(z))" in out
    record = json.loads((run / "evaluation-test-best-k20.json").read_text())
    quarters = record["sample_quality"]["by_aggregate_density"]["recognisable_share"]
    assert len(quarters) == 4  # the samples' coverage, against the VampPrior itself
    code, out, err = cli(capsys, "sample", run, "--n", "10", "--device", DEVICE)
    assert code == 0, err
    # resuming keeps the pseudo-inputs (saved in the checkpoint), not a fresh start
    before = loaded.model.prior.pseudo_inputs.detach().clone()
    assert cli(capsys, "train", "--resume", run, "--epochs", "2")[0] == 0
    after = load_run(run, DEVICE, "last").model.prior.pseudo_inputs.detach()
    assert not torch.equal(before, after)
    assert (after - before).abs().max() < 0.5  # one epoch of Adam steps moved them, a little


def test_the_numpy_twin_of_a_vamp_model_is_refused():
    from vae_torch.convert import to_numpy

    with pytest.raises(VaeError, match="vae_numpy has only N\\(0, I\\)"):
        to_numpy(vamp_model().float())


def test_the_holes_figure_measures_against_the_vamp_prior_s_marginal_in_its_plane():
    """holes-2d compares q̄ with the prior in a plane: for the VampPrior, the mixture of its
    components' marginals there, and draws of that marginal."""
    from vae_torch.figures.course import HOLE_DRAWS, prior_in_plane

    model = vamp_model()
    model.prior.start(torch.rand(30, 16, dtype=torch.float64), torch.Generator().manual_seed(2))
    mu_k, log_var_k = (t.detach()[:, [2, 0]] for t in model.prior.posteriors(model.encoder))
    log_p, draws = prior_in_plane(model, [2, 0], torch.Generator().manual_seed(0))
    z = torch.randn(9, 2, dtype=torch.float64)
    torch.testing.assert_close(log_p(z), mixture(mu_k, log_var_k).log_prob(z))
    assert draws.shape == (HOLE_DRAWS, 2)
    # the draws' mean is the components' mean, within four standard errors per coordinate
    se = draws.std(dim=0) / math.sqrt(len(draws))
    assert ((draws.mean(dim=0) - mu_k.mean(dim=0)).abs() < Z * se).all()


def test_the_samples_coverage_is_measured_against_the_model_s_own_prior():
    """``vae evaluate``'s quarters of log q̄(z) − log p(z) take p as the model's prior."""
    from vae_torch.quality.diagnostics import log_density_ratio, prior_log_density

    model = vamp_model()
    mu, log_var = torch.randn(2, 7, 3, dtype=torch.float64)
    z = torch.randn(5, 3, dtype=torch.float64)
    mu_k, log_var_k = model.prior.posteriors(model.encoder)
    expected = mixture(mu, log_var).log_prob(z) - mixture(mu_k, log_var_k).log_prob(z)
    got = log_density_ratio(z, mu, log_var, prior_log_density(model))
    torch.testing.assert_close(got, expected.detach())
