"""Hand-written backward passes against central differences, in float64 (chapter 6).

Every layer alone, then the whole VAE: every parameter, for hypothesis-drawn
architectures (depth 0-2, widths 1-5), batch sizes from 1, both likelihoods,
any KL weight, and noise ε.
"""

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from vae_numpy.architecture import MLPConfig
from vae_numpy.gradcheck import STEP, check_gradients, numerical_gradient, relative_error
from vae_numpy.layers import ACTIVATIONS, Linear
from vae_numpy.likelihoods import LIKELIHOODS
from vae_numpy.model import MLPVAE

GRAD_TOLERANCE = 1e-6  # max relative error; the 4th-order differences reach ~1e-8 typically
KINK_MARGIN = 50 * STEP  # ReLU is not differentiable at 0: stay clear of it by many steps

seeds = st.integers(0, 2**32 - 1)


@given(n_in=st.integers(1, 5), n_out=st.integers(1, 5), batch=st.integers(1, 4), seed=seeds)
def test_linear_backward_eq_6_6(n_in, n_out, batch, seed):
    rng = np.random.default_rng(seed)
    layer = Linear.init(n_in, n_out, rng)
    x, r = rng.standard_normal((batch, n_in)), rng.standard_normal((batch, n_out))
    _, cache = layer.forward(x)
    dx, grads = layer.backward(r, cache)

    def f():
        return float(np.sum(layer.forward(x)[0] * r))

    assert relative_error(dx, numerical_gradient(f, x)) < GRAD_TOLERANCE
    for name in ("weight", "bias"):
        assert relative_error(grads[name], numerical_gradient(f, getattr(layer, name))) < (
            GRAD_TOLERANCE
        )


@given(name=st.sampled_from(sorted(ACTIVATIONS)), seed=seeds)
def test_activation_backward_eq_6_7_to_6_9(name, seed):
    rng = np.random.default_rng(seed)
    act = ACTIVATIONS[name]
    x, r = rng.standard_normal((3, 4)) * 3, rng.standard_normal((3, 4))
    assume(name != "relu" or np.min(np.abs(x)) > KINK_MARGIN)
    _, cache = act.forward(x)
    dx = act.backward(r, cache)

    def f():
        return float(np.sum(act.forward(x)[0] * r))

    assert relative_error(dx, numerical_gradient(f, x)) < GRAD_TOLERANCE


def pre_activations(model: MLPVAE, x: np.ndarray, eps: np.ndarray) -> list[np.ndarray]:
    """Every hidden layer's input to the activation, to keep ReLU away from its kink."""
    out, h = [], x
    for layer in model.encoder_hidden:
        a = layer.forward(h)[0]
        out.append(a)
        h = model.activation.forward(a)[0]
    mu, log_var = model.mu_head.forward(h)[0], model.log_var_head.forward(h)[0]
    h = mu + np.exp(0.5 * log_var) * eps
    for layer in model.decoder_hidden:
        a = layer.forward(h)[0]
        out.append(a)
        h = model.activation.forward(a)[0]
    return out


@st.composite
def vae_cases(draw):
    config = MLPConfig(
        x_dim=draw(st.integers(1, 6)),
        hidden=tuple(draw(st.lists(st.integers(1, 5), max_size=2))),
        latent_dim=draw(st.integers(1, 3)),
        activation=draw(st.sampled_from(sorted(ACTIVATIONS))),
        likelihood=(likelihood := draw(st.sampled_from(sorted(LIKELIHOODS)))),
        likelihood_params={  # each of its parameters (the Gaussian's σ) at a few values
            p.name: draw(st.sampled_from([0.1, 0.5, 1.0]))
            for p in LIKELIHOODS[likelihood].parameters
        },
    )
    rng = np.random.default_rng(draw(seeds))
    model = MLPVAE.init(config, rng)
    batch = draw(st.integers(1, 4))
    x = rng.random((batch, config.x_dim))
    if config.likelihood == "bernoulli" and draw(st.booleans()):
        x = np.round(x)
    eps = rng.standard_normal((batch, config.latent_dim))
    kl_weight = draw(st.sampled_from([1.0, 0.0, 0.3, 4.0]))
    return model, x, eps, kl_weight


@given(case=vae_cases())
def test_vae_backward_matches_central_differences_for_every_parameter(case):
    model, x, eps, kl_weight = case
    if model.config.activation == "relu":
        assume(all(np.min(np.abs(a)) > KINK_MARGIN for a in pre_activations(model, x, eps)))
    _, cache = model.loss(x, eps, kl_weight)
    grads = model.backward(cache)
    assert set(grads) == set(model.params)
    errors = check_gradients(lambda: model.loss(x, eps, kl_weight)[0].loss, model.params, grads)
    worst = max(errors, key=errors.get)
    assert errors[worst] < GRAD_TOLERANCE, f"{worst}: relative error {errors[worst]:.2e}"
