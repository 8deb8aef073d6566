"""The torch models: shapes, conditioning, and the objectives' defining properties."""

import math

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from vae_numpy.likelihoods import LIKELIHOODS
from vae_numpy.run.config import TrainConfig
from vae_numpy.run.errors import VaeError
from vae_torch.models import MODELS as REGISTERED_MODELS
from vae_torch.models import ConvConfig, ConvVAE, build_model
from vae_torch.quality.bounds import dataset_elbo, iw_estimate

MODELS = tuple(REGISTERED_MODELS)  # every registered kind
SMALL = dict(hidden=(16,), latent_dim=3, channels=(4, 8), strides=(2, 2))


def small(name: str, likelihood: str = "bernoulli", dtype=torch.float64):
    torch.manual_seed(0)
    config = TrainConfig(model=name, likelihood=likelihood, **SMALL)
    return build_model(config, (1, 28, 28), 10).to(dtype)


def batch(model, n: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand((n, *model.x_shape), generator=g, dtype=model.dtype)
    c = torch.randint(0, 10, (n,), generator=g) if model.n_classes else None
    return x, c


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("n", [1, 7])
def test_every_model_gives_every_output_its_shape(name, n):
    model = small(name)
    x, c = batch(model, n)
    want_x = (n, 784) if name in ("mlp", "cvae") else (n, 1, 28, 28)
    assert x.shape == want_x
    mu, log_var = model.encode(x, c)
    assert mu.shape == log_var.shape == (n, 3)
    rec, kl = model.terms(x, torch.randn(n, 3, dtype=x.dtype), c)
    assert rec.shape == kl.shape == (n,)
    assert model.reconstruct(x, c).shape == want_x
    assert model.iwae(x, 4, c=c).shape == (n,)
    label = 2 if model.n_classes else None
    assert model.sample(n, c=label).shape == want_x
    loss, rec_mean, kl_mean = model.loss(x, torch.randn(n, 3, dtype=x.dtype), c=c)
    assert loss.shape == rec_mean.shape == kl_mean.shape == ()
    loss.backward()  # every parameter takes part
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


@pytest.mark.parametrize("name", MODELS)
def test_the_dataset_elbo_does_not_depend_on_the_batch_size_nor_a_partial_last_batch(name):
    model = small(name)
    x, c = batch(model, 23)
    whole = dataset_elbo(model, x, c, batch_size=23)
    for size in (1, 5, 7, 1000):  # 5: batches 5, 5, 5, 5 and a partial 3
        pieces = dataset_elbo(model, x, c, batch_size=size)
        assert pieces.elbo == pytest.approx(whole.elbo, rel=1e-12)
        assert pieces.kl == pytest.approx(whole.kl, rel=1e-12)


@given(
    height=st.integers(5, 30),
    width=st.integers(5, 30),
    strides=st.lists(st.sampled_from([1, 2]), min_size=1, max_size=3),
)
def test_the_conv_decoder_gives_back_exactly_the_image_shape(height, width, strides):
    assume(min(height, width) >= 2 ** strides.count(2))  # else too small: tested below
    config = ConvConfig(
        image_shape=(1, height, width),
        channels=tuple(range(2, 2 + len(strides))),
        strides=tuple(strides),
        hidden=(5,),
        latent_dim=2,
    )
    model = ConvVAE(config)
    sizes = [s[1:] for s in model.encoder.shapes]
    for before, after, stride in zip(sizes, sizes[1:], strides, strict=False):
        want = before if stride == 1 else tuple(v // 2 for v in before)
        assert after == want  # the sizes the layers produce, read off them
    assert model.sample(2).shape == (2, 1, height, width)


def test_the_flattened_size_is_read_off_the_layers_not_the_handout_formula():
    # The latent-space problem set: two unpadded stride-1 convs of kernel k on d x d give
    # c(d − 2(k − 1))², not c(d − (k − 1))² (erratum 11.4). Our layers pad; the size comes
    # from them.
    model = build_model(TrainConfig(model="conv"), (1, 28, 28), 10)
    assert model.encoder.shapes == [(1, 28, 28), (32, 28, 28), (32, 14, 14), (64, 7, 7)]
    assert model.encoder.hidden[0].in_features == 64 * 7 * 7


def test_too_small_images_for_the_strides_are_refused_clearly():
    with pytest.raises(VaeError, match="too small for convolution 1: it would halve a side of 1"):
        ConvVAE(ConvConfig(image_shape=(1, 3, 3), channels=(2, 2, 2), strides=(2, 2, 2)))


@pytest.mark.parametrize("name", ["cvae", "conv-cvae"])
def test_conditional_samples_follow_the_label(name):
    model = small(name)
    g = torch.Generator().manual_seed(5)
    per_class = model.sample(4, generator=g, c=7)
    assert per_class.shape[0] == 4
    labels = torch.arange(10)
    grid = model.sample(10, generator=torch.Generator().manual_seed(5), c=labels)
    assert grid.shape[0] == 10
    z = torch.zeros(2, 3, dtype=model.dtype)
    a = model.decode(z, torch.tensor([0, 0]))
    b = model.decode(z, torch.tensor([0, 1]))
    assert torch.equal(a[0], b[0]) and not torch.allclose(a[1], b[1])  # c enters p(x|z, c)
    x, _ = batch(model, 2)
    mu_a, _ = model.encode(x, torch.tensor([0, 0]))
    mu_b, _ = model.encode(x, torch.tensor([0, 1]))
    assert torch.equal(mu_a[0], mu_b[0]) and not torch.allclose(mu_a[1], mu_b[1])  # q(z|x, c)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("likelihood", sorted(LIKELIHOODS))
def test_iwae_with_one_sample_is_the_elbo_with_the_same_noise(name, likelihood):
    model = small(name, likelihood)
    x, c = batch(model, 6)
    eps = torch.randn(6, 3, dtype=x.dtype)
    rec, kl_mc = model.terms(x, eps, c, mc_kl=True)
    log_w = model.log_weights(x, eps[None], c)  # k = 1
    torch.testing.assert_close(log_w[0], rec - kl_mc, rtol=1e-12, atol=1e-9)


@pytest.mark.statistical
def test_the_iwae_estimate_grows_with_k_on_average():
    model = small("mlp")
    x, _ = batch(model, 400)
    estimates = {k: iw_estimate(model, x, k, seed=k).values for k in (1, 10, 100)}
    for small_k, large_k in [(1, 10), (10, 100)]:
        diff = estimates[large_k] - estimates[small_k]
        se = diff.std().item() / math.sqrt(len(diff))
        # One-sided, at 3 standard errors: were there no gap, an estimate this far above 0
        # would come with probability Φ(−3) ≈ 0.0013. An untrained q is far from p(z|x), so
        # the gap is real and wide; the seeds are fixed, so the outcome is the same each run.
        assert diff.mean().item() > 3 * se


@pytest.mark.statistical
def test_the_monte_carlo_kl_is_unbiased_for_the_closed_form():
    model = small("mlp")
    x, _ = batch(model, 3)
    n = 20000
    g = torch.Generator().manual_seed(0)
    eps = torch.randn(n, 3, 3, generator=g, dtype=x.dtype)
    xs = x.expand(n, *x.shape).reshape(-1, 784)
    _, kl_mc = model.terms(xs, eps.reshape(-1, 3), mc_kl=True)
    _, kl = model.terms(x, eps[0])
    kl_mc = kl_mc.reshape(n, 3)
    se = kl_mc.std(dim=0) / math.sqrt(n)
    # Two-sided, at 4 standard errors: an unbiased estimate lies outside with probability
    # 2Φ(−4) ≈ 6e-5 per dimension, 2e-4 for the three; the seed is fixed, so a pass is
    # the same each run.
    assert torch.all((kl_mc.mean(dim=0) - kl).abs() < 4 * se)


def test_reconstruction_uses_the_posterior_mean_unless_a_generator_is_given():
    model = small("mlp")
    x, _ = batch(model, 4)
    mu, _ = model.encode(x)
    torch.testing.assert_close(model.reconstruct(x), model.decode(mu))
    noisy = model.reconstruct(x, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(noisy, model.reconstruct(x))
    assert torch.all((noisy > 0) & (noisy < 1))


def test_bits_per_dim_is_the_verified_conversion_where_it_is_a_likelihood():
    from elbo_math.numeric import bits_per_dim_dequantized
    from vae_numpy.likelihoods import Bernoulli, Gaussian

    gaussian, bernoulli = Gaussian(sigma=0.1), Bernoulli()
    assert gaussian.bits_per_dim(1000.0, "dequantized", 784) == pytest.approx(
        float(bits_per_dim_dequantized(1000.0, 784)), rel=1e-15
    )
    for binary in ("static-binary", "dynamic-binary"):
        bits = bernoulli.bits_per_dim(1000.0, binary, 784)
        assert bits == pytest.approx(1000 / (784 * math.log(2)))
    assert bernoulli.bits_per_dim(1000.0, "grey", 784) is None  # BCE on grey levels
    for not_dequantized in ("grey", "static-binary", "dynamic-binary"):  # a density at 0/1
        assert gaussian.bits_per_dim(1000.0, not_dequantized, 784) is None
