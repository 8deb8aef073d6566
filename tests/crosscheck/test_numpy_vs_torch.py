"""The numpy and torch MLP VAEs are one function: same weights, same data, same ε, float64.

    (2.5) loss = mean_b [−log p(x_b|z_b) + β KL_b], with its two parts
    (6.1)-(6.9) every parameter's gradient: hand-written backprop against autograd
    (8.1) the importance weights log w = log p(x|z) + log p(z) − log q(z|x)

for MLPs of random depth (0 to 3 hidden layers) and width, both likelihoods, every
activation, batch sizes from 1; logits to ±100 and log-variances to ±30 stay finite in
both. Converting numpy -> torch -> numpy is the identity. The last test breaks the
numpy sampler (variance used as std) and shows the comparison fails.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from vae_numpy import gaussian, iwae
from vae_numpy.architecture import MLPConfig
from vae_numpy.likelihoods import LIKELIHOODS
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
        likelihood=draw(st.sampled_from(sorted(LIKELIHOODS))),
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
def test_same_weights_and_noise_give_the_same_loss_parts_and_gradients_eq_2_5_6_x(case):
    model, x, eps, kl_weight = case
    parts, cache = model.loss(x, eps, kl_weight)
    grads = model.backward(cache)
    torch_model = to_torch(model)
    loss, rec, kl = torch_model.loss(
        torch.from_numpy(x), torch.from_numpy(eps), kl_weight=kl_weight
    )
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


def loss_and_grad_discrepancy(model: MLPVAE, x, eps, kl_weight=1.0) -> float:
    """Largest relative difference between the backends' loss parts and gradients."""
    parts, cache = model.loss(x, eps, kl_weight)
    grads = model.backward(cache)
    torch_model = to_torch(model)
    loss, rec, kl = torch_model.loss(
        torch.from_numpy(x), torch.from_numpy(eps), kl_weight=kl_weight
    )
    loss.backward()
    ours = np.array([parts.loss, parts.log_px_given_z, parts.kl])
    theirs = np.array([loss.item(), rec.item(), kl.item()])
    worst = np.max(np.abs(ours - theirs) / (1 + np.abs(theirs)))
    for name, p in torch_model.named_parameters():
        g = (p.grad.T if name.endswith(".weight") else p.grad).numpy()
        worst = max(worst, np.max(np.abs(grads[name] - g) / (1 + np.abs(g))))
    return float(worst) if np.isfinite(ours).all() and np.isfinite(theirs).all() else np.inf


@given(case=cases())
def test_same_weights_and_noise_give_the_same_importance_weights_eq_8_1(case):
    model, x, eps, _ = case
    rng = np.random.default_rng(0)
    eps_k = rng.standard_normal((3, *eps.shape))  # k = 3 samples of every example
    ours = iwae.log_weights(model, x, eps_k)
    theirs = to_torch(model).log_weights(torch.from_numpy(x), torch.from_numpy(eps_k))
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=LOSS_RTOL, atol=1e-10)


@pytest.mark.parametrize("likelihood", sorted(LIKELIHOODS))
@pytest.mark.parametrize("extreme", [-1.0, 1.0])
def test_logits_to_100_and_log_variances_to_30_stay_finite_in_both(likelihood, extreme):
    config = MLPConfig(x_dim=6, hidden=(5,), latent_dim=3, likelihood=likelihood)
    model = MLPVAE.init(config, np.random.default_rng(1))
    # push the decoder outputs to ±100 and the encoder's log σ² to ±30
    model.params["decoder.out.bias"][:] = 100 * extreme
    model.params["encoder.log_var.bias"][:] = 30 * extreme
    rng = np.random.default_rng(2)
    x = np.round(rng.random((4, 6)))
    eps = rng.standard_normal((4, 3))
    assert loss_and_grad_discrepancy(model, x, eps) < GRAD_RTOL


def test_a_numpy_sampler_using_the_variance_as_std_is_reported_eq_5_1(monkeypatch):
    config = MLPConfig(x_dim=5, hidden=(4,), latent_dim=2, likelihood="gaussian")
    model = MLPVAE.init(config, np.random.default_rng(3))
    model.params["encoder.log_var.bias"][:] = 1.5  # σ² far from σ
    rng = np.random.default_rng(4)
    x, eps = rng.random((3, 5)), rng.standard_normal((3, 2))
    assert loss_and_grad_discrepancy(model, x, eps) < GRAD_RTOL
    monkeypatch.setattr(gaussian, "std", lambda log_var: np.exp(log_var))
    assert loss_and_grad_discrepancy(model, x, eps) > 1e-3
