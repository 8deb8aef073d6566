"""Both backends' estimators against exact answers, in the linear Gaussian model (chapter 2).

vae_numpy is tested at length below; vae_torch, given the same parameters through the
converter, is held to the same exact answers in the last section.

An MLPVAE with no hidden layers and a Gaussian likelihood of fixed σ = s is the model

    p(z) = N(0, I_L),  p(x | z) = N(W z + b, s² I_D),  q(z | x) = N(μ(x), diag e^{log σ²(x)})

with decoder mean z @ weight + bias, so W = params["decoder.out.weight"].T and
b = params["decoder.out.bias"], and an affine encoder. elbo_math's ``LinearGaussian`` knows
every term of it exactly: log p(x) (1.2), the posterior (1.1), the ELBO and both KLs (2.7).

- exact: ELBO + KL(q ‖ p(z | x)) = log p(x) (2.1); IWAE_1 is the single-sample ELBO with a
  Monte Carlo KL, log p(x | z) + log p(z) − log q(z | x) (8.2), weight for weight.
- statistical: the training loss's one-sample ELBO is unbiased for the exact ELBO (2.5);
  IWAE_k stays below log p(x) (8.3) and closes the gap as k grows (8.4).
- at the posterior: with W's columns orthogonal the posterior is diagonal (2.8), an affine
  encoder can output it exactly, and then every importance weight is p(x) (8.5).

The comparisons are functions returning a discrepancy or a z-score, so the last tests can
hand them a deliberately broken vae_numpy and show that they report it.
"""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from elbo_math import numeric
from elbo_math.linear_gaussian_numeric import LinearGaussian
from vae_numpy import gaussian, iwae, likelihoods
from vae_numpy.architecture import MLPConfig
from vae_numpy.model import MLPVAE
from vae_torch import likelihoods as torch_likelihoods
from vae_torch.convert import to_torch
from vae_torch.quality.bounds import iw_estimate

# Exact identities evaluated two ways in float64 on log-densities of size <= ~1e3 (s down
# to 0.3 makes ‖x − Wz − b‖²/2s² the largest term): rounding stays below ~1e-12.
EXACT_ATOL = 1e-9
# Standard errors allowed in a statistical comparison; with fixed seeds it is deterministic,
# and a correct implementation would exceed it with probability ~6e-7 per comparison.
Z = 5.0
N_DRAWS = 4000  # noise draws per example for the mean of the one-sample ELBO
N_SAMPLES = 4000  # importance samples per k and example, in 4000 / k runs of IWAE_k ...
MIN_RUNS = 40  # ... but at least this many runs, for the standard error of their mean
KS = (1, 10, 100, 1000)

seeds = st.integers(0, 2**32 - 1)


def linear_vae(x_dim: int, latent_dim: int, sigma: float, rng: np.random.Generator) -> MLPVAE:
    config = MLPConfig(
        x_dim=x_dim,
        hidden=(),
        latent_dim=latent_dim,
        likelihood="gaussian",
        likelihood_params={"sigma": sigma},
    )
    return MLPVAE.init(config, rng)


def ground_truth(model: MLPVAE) -> LinearGaussian:
    """The model's decoder as elbo_math's linear Gaussian model."""
    p = model.params
    return LinearGaussian(p["decoder.out.weight"].T, p["decoder.out.bias"], model.likelihood.sigma)


def data(truth: LinearGaussian, n: int, rng: np.random.Generator) -> np.ndarray:
    """n examples drawn from the model's own p(x): (n, D)."""
    z = rng.standard_normal((n, truth.L))
    return z @ truth.W.T + truth.b + truth.s * rng.standard_normal((n, truth.D))


def with_params(model: MLPVAE, **changes: np.ndarray) -> MLPVAE:
    return MLPVAE(model.config, {**model.params, **changes})


def posterior_encoder(model: MLPVAE) -> tuple[MLPVAE, float]:
    """The model with its encoder set to output the exact posterior, solved from
    LinearGaussian.posterior: its mean is affine in x, read off at x = 0 and at the unit
    vectors, and its covariance is constant. Also the largest off-diagonal covariance,
    which must be 0 for a diagonal q to match (2.8)."""
    truth = ground_truth(model)
    mean_at_0, cov = truth.posterior(np.zeros(truth.D))  # (L,), (L, L)
    mean_at_units, _ = truth.posterior(np.eye(truth.D))  # (D, L): row i at x = e_i
    off_diagonal = float(np.max(np.abs(cov - np.diag(np.diag(cov)))))
    encoder = {
        "encoder.mu.weight": mean_at_units - mean_at_0,  # (D, L)
        "encoder.mu.bias": mean_at_0,
        "encoder.log_var.weight": np.zeros((truth.D, truth.L)),
        "encoder.log_var.bias": np.log(np.diag(cov)),
    }
    return with_params(model, **encoder), off_diagonal


def orthogonal_decoder(model: MLPVAE, rng: np.random.Generator) -> MLPVAE:
    """W = Q diag(d) with Q's columns orthonormal (from a QR decomposition), so WᵀW = diag(d²)."""
    q, _ = np.linalg.qr(rng.standard_normal((model.config.x_dim, model.config.latent_dim)))
    w = q * rng.uniform(0.5, 3.0, model.config.latent_dim)  # (D, L)
    return with_params(model, **{"decoder.out.weight": w.T})


# -- the comparisons ------------------------------------------------------------------


def elbo_draws(model: MLPVAE, x: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """vae_numpy's one-sample ELBO, −loss with β = 1, for one example x (D,) and each noise
    draw eps[i] (n, L): (n,)."""
    return np.array([-model.loss(x[None], e[None], kl_weight=1.0)[0].loss for e in eps])


def elbo_estimate(model: MLPVAE, x: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """The mean of N_DRAWS one-sample ELBO estimates for one example x (D,), and its
    standard error."""
    draws = elbo_draws(model, x, rng.standard_normal((N_DRAWS, model.config.latent_dim)))
    return float(draws.mean()), float(draws.std(ddof=1) / np.sqrt(N_DRAWS))


def decomposition_discrepancy(model: MLPVAE, x: np.ndarray) -> float:
    """|ELBO + KL(q ‖ p(z | x)) − log p(x)| (2.1), q the encoder's, for x (B, D)."""
    truth = ground_truth(model)
    mu, log_var = model.encode(x)
    total = truth.elbo(x, mu, log_var) + truth.kl_to_posterior(x, mu, log_var)
    return float(np.max(np.abs(total - truth.log_evidence(x))))


def iwae_1_discrepancy(model: MLPVAE, x: np.ndarray, eps: np.ndarray) -> float:
    """IWAE_1 for noise eps (B, L) against log p(x|z) + log p(z) − log q(z|x) from
    elbo_math.numeric and against LinearGaussian.log_weights, at the same z (8.2)."""
    truth = ground_truth(model)
    ours = iwae.iwae_bound(iwae.log_weights(model, x, eps[None]))  # (B,)
    mu, log_var = model.encode(x)
    z = numeric.reparameterize(mu, log_var, eps)
    zero = np.zeros_like(z)
    by_terms = (
        numeric.gaussian_log_likelihood(x, z @ truth.W.T + truth.b, truth.s)
        + numeric.diag_gaussian_log_density(z, zero, zero)
        - numeric.diag_gaussian_log_density(z, mu, log_var)
    )
    exact = truth.log_weights(x, z, mu, log_var)
    return float(max(np.max(np.abs(ours - by_terms)), np.max(np.abs(ours - exact))))


def log_weight_spread(model: MLPVAE, x: np.ndarray, eps: np.ndarray) -> float:
    """max |log w − log p(x)| over the draws eps (k, B, L) and examples x (B, D) (8.5)."""
    log_w = iwae.log_weights(model, x, eps)  # (k, B)
    return float(np.max(np.abs(log_w - ground_truth(model).log_evidence(x))))


def iwae_runs(model: MLPVAE, x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Independent IWAE_k estimates for each example: (runs, B)."""
    runs = max(MIN_RUNS, N_SAMPLES // k)
    return np.stack([iwae.iwae_estimate(model, x, k, rng) for _ in range(runs)])


# -- exact ------------------------------------------------------------------------------


@st.composite
def linear_cases(draw):
    rng = np.random.default_rng(draw(seeds))
    model = linear_vae(
        draw(st.integers(1, 6)), draw(st.integers(1, 3)), draw(st.sampled_from([0.3, 1.0])), rng
    )
    x = data(ground_truth(model), draw(st.integers(1, 4)), rng)
    return model, x, rng.standard_normal((x.shape[0], model.config.latent_dim))


@given(linear_cases())
def test_elbo_plus_kl_to_posterior_is_log_evidence_for_any_encoder_eq_2_1(case):
    model, x, _ = case
    assert decomposition_discrepancy(model, x) < EXACT_ATOL


@given(linear_cases())
def test_iwae_with_one_sample_is_the_monte_carlo_elbo_for_the_same_noise_eq_8_2(case):
    assert iwae_1_discrepancy(*case) < EXACT_ATOL


@given(linear_cases())
def test_the_loss_kl_is_the_exact_kl_to_the_prior_eq_2_10(case):
    model, x, eps = case
    mu, log_var = model.encode(x)
    parts, _ = model.loss(x, eps)
    exact = ground_truth(model).kl_to_prior(mu, log_var).mean()
    assert abs(parts.kl - exact) < EXACT_ATOL


@given(seed=seeds, x_dim=st.integers(2, 6), latent_dim=st.integers(1, 2))
def test_at_the_exact_posterior_every_log_weight_is_log_evidence_eq_2_8_8_5(
    seed, x_dim, latent_dim
):
    rng = np.random.default_rng(seed)
    model = orthogonal_decoder(linear_vae(x_dim, latent_dim, 0.5, rng), rng)
    model, off_diagonal = posterior_encoder(model)
    truth = ground_truth(model)
    x = data(truth, 3, rng)
    assert off_diagonal < EXACT_ATOL  # (2.8): WᵀW diagonal, so is the posterior
    mu, log_var = model.encode(x)
    post_mean, post_cov = truth.posterior(x)
    np.testing.assert_allclose(mu, post_mean, atol=EXACT_ATOL, rtol=0)
    post_log_var = np.broadcast_to(np.log(np.diag(post_cov)), log_var.shape)
    np.testing.assert_allclose(log_var, post_log_var, atol=EXACT_ATOL, rtol=0)
    assert np.max(np.abs(truth.kl_to_posterior(x, mu, log_var))) < EXACT_ATOL
    eps = rng.standard_normal((50, 3, latent_dim))
    assert log_weight_spread(model, x, eps) < EXACT_ATOL
    for k in (1, 7, 100):
        estimate = iwae.iwae_estimate(model, x, k, rng)
        np.testing.assert_allclose(estimate, truth.log_evidence(x), atol=EXACT_ATOL, rtol=0)
    # the training loss's one-sample ELBO, log p(x|z) − KL with the KL analytic, is not
    # constant here: its log p(x|z) still varies with z (by a standard deviation >= 0.35 for
    # these W, s); only log w = log p(x, z) − log q(z|x) is
    assert elbo_draws(model, x[0], eps[:, 0]).std() > 0.1


# -- statistical ---------------------------------------------------------------------


ENCODERS = {
    "random": lambda model, rng: model,
    "exact posterior": lambda model, rng: posterior_encoder(orthogonal_decoder(model, rng))[0],
}


@pytest.mark.statistical
@pytest.mark.parametrize("sigma", [0.3, 1.0])
@pytest.mark.parametrize("encoder", sorted(ENCODERS))
def test_one_sample_elbo_of_the_loss_is_unbiased_for_the_exact_elbo_eq_2_5(encoder, sigma):
    """Also at the exact posterior, where ELBO = log p(x): the loss's estimate, with its
    analytic KL, still varies with z there; only the importance weight log w does not."""
    rng = np.random.default_rng(20)
    model = ENCODERS[encoder](linear_vae(5, 2, sigma, rng), rng)
    truth = ground_truth(model)
    for x in data(truth, 3, rng):
        estimate, standard_error = elbo_estimate(model, x, rng)
        mu, log_var = (a[0] for a in model.encode(x[None]))
        exact = float(truth.elbo(x, mu, log_var))
        report = f"mean one-sample ELBO {estimate:.6f} ± {standard_error:.6f}, exact {exact:.6f}"
        assert abs(estimate - exact) < Z * standard_error, report
        # (2.1): adding the exact KL to the posterior gives log p(x), to within the same noise
        log_evidence = float(truth.log_evidence(x))
        estimate += float(truth.kl_to_posterior(x, mu, log_var))
        report = f"estimate + KL(q ‖ p(z|x)) {estimate:.6f} ± {standard_error:.6f}, "
        report += f"log p(x) {log_evidence:.6f}"
        assert abs(estimate - log_evidence) < Z * standard_error, report


def mismatched(model: MLPVAE, rng: np.random.Generator) -> MLPVAE:
    """The exact posterior encoder with q's mean moved by 0.8 posterior standard deviations
    and its variance doubled: a KL(q ‖ p(z | x)) of about one nat, and importance weights of
    finite variance (q wider than the posterior), so standard errors mean something."""
    model, _ = posterior_encoder(orthogonal_decoder(model, rng))
    bias, log_var = model.params["encoder.mu.bias"], model.params["encoder.log_var.bias"]
    return with_params(
        model,
        **{
            "encoder.mu.bias": bias + 0.8 * np.exp(log_var / 2) * rng.choice([-1, 1], bias.size),
            "encoder.log_var.bias": log_var + np.log(2.0),
        },
    )


@pytest.mark.statistical
def test_iwae_stays_below_log_evidence_and_closes_the_gap_as_k_grows_eq_8_3_8_4():
    rng = np.random.default_rng(30)
    model = mismatched(linear_vae(5, 2, 0.5, rng), rng)
    truth = ground_truth(model)
    x = data(truth, 3, rng)
    log_evidence = truth.log_evidence(x)  # (B,)
    mu, log_var = model.encode(x)
    exact_elbo = truth.elbo(x, mu, log_var)
    gaps, errors = {}, {}
    for k in KS:
        runs = iwae_runs(model, x, k, rng)
        mean, standard_error = runs.mean(0), runs.std(0, ddof=1) / np.sqrt(len(runs))
        gaps[k], errors[k] = log_evidence - mean, standard_error
        report = f"k={k}: IWAE {mean} ± {standard_error}, log p(x) {log_evidence}"
        assert (mean < log_evidence + Z * standard_error).all(), report  # (8.3)
        if k == 1:  # (8.2): the mean of IWAE_1 is the ELBO
            ok = np.abs(mean - exact_elbo) < Z * standard_error
            assert ok.all(), f"{report}, ELBO {exact_elbo}"
    for small, large in itertools.pairwise(KS):  # (8.4), within the noise
        noise = Z * np.hypot(errors[small], errors[large])
        assert (gaps[large] < gaps[small] + noise).all(), f"gaps {gaps[small]} -> {gaps[large]}"
    clearly = gaps[1] - Z * errors[1] > 10 * (gaps[1000] + Z * errors[1000])
    assert clearly.all(), f"gap at k=1: {gaps[1]} ± {errors[1]}; k=1000: {gaps[1000]}"


# -- a broken implementation is reported ------------------------------------------------


@pytest.mark.statistical
def test_a_sampler_using_the_variance_as_std_is_reported_eq_5_1_8_2(monkeypatch):
    """Reported by the IWAE_1 comparison and by the ELBO's mean; not by the weights at the
    exact posterior, where p(x, z)/q(z | x) = p(x) at every z, wherever z came from."""
    rng = np.random.default_rng(40)
    model = linear_vae(4, 2, 0.5, rng)  # a random encoder: log σ² ≠ 0, so σ ≠ σ²
    at_posterior, _ = posterior_encoder(orthogonal_decoder(model, rng))
    truth = ground_truth(model)
    x, eps = data(truth, 3, rng), rng.standard_normal((3, 2))
    mu, log_var = (a[0] for a in model.encode(x[:1]))
    exact = float(truth.elbo(x[0], mu, log_var))

    def same_noise() -> np.random.Generator:
        return np.random.default_rng(42)

    estimate, standard_error = elbo_estimate(model, x[0], same_noise())
    assert abs(estimate - exact) < Z * standard_error
    assert iwae_1_discrepancy(model, x, eps) < EXACT_ATOL
    monkeypatch.setattr(gaussian, "std", lambda log_var: np.exp(log_var))
    estimate, standard_error = elbo_estimate(model, x[0], same_noise())
    assert abs(estimate - exact) > Z * standard_error, (estimate, standard_error, exact)
    assert iwae_1_discrepancy(model, x, eps) > 1e-3
    assert log_weight_spread(at_posterior, x, eps[None]) < EXACT_ATOL  # blind to it


def test_a_dropped_gaussian_constant_is_reported_by_the_weight_comparisons_eq_8_2_8_5(monkeypatch):
    rng = np.random.default_rng(41)
    model, _ = posterior_encoder(orthogonal_decoder(linear_vae(4, 2, 0.5, rng), rng))
    x, eps = data(ground_truth(model), 3, rng), rng.standard_normal((3, 2))
    assert iwae_1_discrepancy(model, x, eps) < EXACT_ATOL
    assert log_weight_spread(model, x, eps[None]) < EXACT_ATOL

    def without_constant(x, mean, sigma):
        return -np.sum((x - mean) ** 2, axis=-1) / (2 * sigma**2)

    monkeypatch.setattr(likelihoods, "gaussian_log_likelihood", without_constant)
    missing = 4 / 2 * np.log(2 * np.pi * 0.5**2)  # (D/2) log 2πσ²
    assert iwae_1_discrepancy(model, x, eps) == pytest.approx(abs(missing), rel=1e-9)
    assert log_weight_spread(model, x, eps[None]) == pytest.approx(abs(missing), rel=1e-9)


# -- vae_torch, on the same models -------------------------------------------------------


def torch_log_weights(model: MLPVAE, x: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """vae_torch's log w for the numpy model's parameters, noise eps (k, B, L): (k, B)."""
    torch_model = to_torch(model)
    return torch_model.log_weights(torch.from_numpy(x), torch.from_numpy(eps)).detach().numpy()


@given(linear_cases())
def test_torch_importance_weights_are_the_exact_ones_and_k1_is_the_mc_elbo_eq_8_2(case):
    model, x, eps = case
    truth = ground_truth(model)
    mu, log_var = model.encode(x)
    z = numeric.reparameterize(mu, log_var, eps)
    log_w = torch_log_weights(model, x, eps[None])[0]
    np.testing.assert_allclose(log_w, truth.log_weights(x, z, mu, log_var), atol=EXACT_ATOL)
    rec, kl_mc = to_torch(model).terms(torch.from_numpy(x), torch.from_numpy(eps), mc_kl=True)
    np.testing.assert_allclose(log_w, (rec - kl_mc).detach().numpy(), atol=EXACT_ATOL)


@given(seed=seeds, x_dim=st.integers(2, 6), latent_dim=st.integers(1, 2))
def test_torch_log_weights_at_the_exact_posterior_are_log_evidence_eq_8_5(seed, x_dim, latent_dim):
    rng = np.random.default_rng(seed)
    model, _ = posterior_encoder(orthogonal_decoder(linear_vae(x_dim, latent_dim, 0.5, rng), rng))
    x = data(ground_truth(model), 3, rng)
    log_w = torch_log_weights(model, x, rng.standard_normal((50, 3, latent_dim)))
    assert np.max(np.abs(log_w - ground_truth(model).log_evidence(x))) < EXACT_ATOL


@given(
    seed=seeds,
    x_dim=st.integers(2, 6),
    latent_dim=st.integers(1, 2),
    k=st.sampled_from([1, 2, 7, 300]),
    rows=st.sampled_from([4, 64, 4096]),
)
def test_the_iwae_of_vae_evaluate_is_log_evidence_at_the_exact_posterior_eq_8_1_8_5(
    seed, x_dim, latent_dim, k, rows
):
    """``iw_estimate`` is what ``vae evaluate`` reports. At the exact posterior every
    weight is p(x), so IWAE_k = log(k p(x)) − log k = log p(x) for every k, however the
    samples and examples are split into chunks: a lost or doubled − log k, a dropped
    chunk or a chunk counted twice is off by at least log 2."""
    rng = np.random.default_rng(seed)
    model, _ = posterior_encoder(orthogonal_decoder(linear_vae(x_dim, latent_dim, 0.5, rng), rng))
    x = data(ground_truth(model), 5, rng)
    estimate = iw_estimate(to_torch(model), torch.from_numpy(x), k, rows=rows)
    values = estimate.values.numpy()
    assert np.max(np.abs(values - ground_truth(model).log_evidence(x))) < EXACT_ATOL
    assert estimate.mean == pytest.approx(values.mean(), abs=EXACT_ATOL)
    assert estimate.standard_error == pytest.approx(values.std(ddof=1) / np.sqrt(5), rel=1e-9)


@pytest.mark.statistical
@pytest.mark.parametrize("encoder", sorted(ENCODERS))
def test_torch_one_sample_elbo_is_unbiased_and_adds_up_to_log_evidence_eq_2_1_2_5(encoder):
    rng = np.random.default_rng(21)
    model = ENCODERS[encoder](linear_vae(5, 2, 0.5, rng), rng)
    truth, torch_model = ground_truth(model), to_torch(model)
    x = data(truth, 3, rng)
    eps = torch.from_numpy(rng.standard_normal((N_DRAWS, 3, 2)))
    xs = torch.from_numpy(x).expand(N_DRAWS, 3, 5).reshape(-1, 5)
    rec, kl = torch_model.terms(xs, eps.reshape(-1, 2))
    draws = (rec - kl).detach().numpy().reshape(N_DRAWS, 3)
    estimate, standard_error = draws.mean(0), draws.std(0, ddof=1) / np.sqrt(N_DRAWS)
    mu, log_var = model.encode(x)
    exact = truth.elbo(x, mu, log_var)
    report = f"torch one-sample ELBO {estimate} ± {standard_error}, exact {exact}"
    assert (np.abs(estimate - exact) < Z * standard_error).all(), report
    total = estimate + truth.kl_to_posterior(x, mu, log_var)  # (2.1)
    report = f"+ KL(q ‖ p(z|x)) = {total} ± {standard_error}, log p(x) {truth.log_evidence(x)}"
    assert (np.abs(total - truth.log_evidence(x)) < Z * standard_error).all(), report


@pytest.mark.statistical
def test_torch_iwae_stays_below_log_evidence_and_closes_the_gap_as_k_grows_eq_8_3_8_4():
    rng = np.random.default_rng(31)
    model = mismatched(linear_vae(5, 2, 0.5, rng), rng)
    truth, torch_model = ground_truth(model), to_torch(model)
    x = data(truth, 3, rng)
    log_evidence = truth.log_evidence(x)
    generator = torch.Generator().manual_seed(31)
    gaps, errors = {}, {}
    for k in KS:
        runs = np.stack(
            [
                torch_model.iwae(torch.from_numpy(x), k, generator).numpy()
                for _ in range(max(MIN_RUNS, N_SAMPLES // k))
            ]
        )
        mean, standard_error = runs.mean(0), runs.std(0, ddof=1) / np.sqrt(len(runs))
        gaps[k], errors[k] = log_evidence - mean, standard_error
        report = f"k={k}: torch IWAE {mean} ± {standard_error}, log p(x) {log_evidence}"
        assert (mean < log_evidence + Z * standard_error).all(), report  # (8.3)
    for small, large in itertools.pairwise(KS):  # (8.4), within the noise
        noise = Z * np.hypot(errors[small], errors[large])
        assert (gaps[large] < gaps[small] + noise).all(), f"gaps {gaps[small]} -> {gaps[large]}"
    clearly = gaps[1] - Z * errors[1] > 10 * (gaps[1000] + Z * errors[1000])
    assert clearly.all(), f"gap at k=1: {gaps[1]} ± {errors[1]}; k=1000: {gaps[1000]}"


def test_a_torch_gaussian_without_its_constant_is_reported_eq_8_5(monkeypatch):
    rng = np.random.default_rng(42)
    model, _ = posterior_encoder(orthogonal_decoder(linear_vae(4, 2, 0.5, rng), rng))
    x, eps = data(ground_truth(model), 3, rng), rng.standard_normal((1, 3, 2))

    def spread() -> float:
        log_w = torch_log_weights(model, x, eps)
        return float(np.max(np.abs(log_w - ground_truth(model).log_evidence(x))))

    assert spread() < EXACT_ATOL
    monkeypatch.setattr(
        torch_likelihoods,
        "gaussian_log_likelihood",
        lambda x, mean, sigma: -((x - mean) ** 2).sum(-1) / (2 * sigma**2),
    )
    assert spread() == pytest.approx(abs(4 / 2 * np.log(2 * np.pi * 0.5**2)), rel=1e-9)
