"""The decoder's autoregressive part (3.14), vae_torch.autoregressive: its masks keep each
pixel's logit to the pixels before it (and within --context), the likelihood it gives is
a distribution over the binary images, equal to torch.distributions' product of
Bernoullis, its pixel-by-pixel draws follow it, and ``vae train --autoregressive`` as a
user runs it (trained, evaluated, sampled; refused where it cannot work)."""

import itertools
import math
import re

import pytest
import torch
from device_under_test import DEVICE
from hypothesis import given
from hypothesis import strategies as st
from torch.distributions import Bernoulli, Independent

from crosscheck.common import cli, refused_in_one_line
from elbo_math import autoregressive as symbolic
from vae_numpy.run.config import TrainConfig
from vae_numpy.run.errors import VaeError
from vae_torch.autoregressive import PixelAutoregression
from vae_torch.checkpoint import load_run
from vae_torch.models import build_model

Z = 4  # standard errors a statistical check allows
TINY = ["--dataset", "mnist-5k", "--hidden", "16", "--latent-dim", "3", "--limit", "300"]


def randomised(part: PixelAutoregression, seed: int) -> PixelAutoregression:
    """``part`` with every parameter drawn at random (it starts at g = 0)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in part.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return part


@given(
    d=st.integers(2, 12),
    hidden=st.integers(0, 20),
    context=st.none() | st.integers(1, 12),
    seed=st.integers(0, 2**16),
)
def test_each_logit_depends_only_on_the_pixels_before_it_within_the_context(
    d, hidden, context, seed
):
    part = randomised(PixelAutoregression(d, hidden, context).double(), seed)
    x = torch.rand(d, dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(part, x)  # (i, j): ∂g_i / ∂x_j
    i, j = torch.meshgrid(torch.arange(d), torch.arange(d), indexing="ij")
    allowed = (j < i) & (i - j <= (d if context is None else context))
    assert (jacobian[~allowed] == 0).all()
    # and the direct connections alone reach every allowed pair
    assert (part.direct_mask.bool() == allowed).all()


@pytest.mark.parametrize("hidden, context", [(0, None), (5, None), (6, 2)])
def test_the_likelihood_is_a_distribution_over_the_binary_images(hidden, context):
    """(3.14) in the code, not only in sympy: exp log p(x|z) summed over all 2^D binary
    images of D = 6 pixels is 1, for random logits ℓ(z) and a random g."""
    config = TrainConfig(hidden=(4,), latent_dim=2, autoregressive=hidden, context=context)
    model = build_model(config, (1, 2, 3), 0).double()
    randomised(model.visible, seed=1)
    images = torch.tensor(list(itertools.product((0.0, 1.0), repeat=6)), dtype=torch.float64)
    logits = torch.randn(3, 1, 6, dtype=torch.float64)  # three codes' ℓ(z)
    total = model.log_px_given_z(images, logits).exp().sum(dim=-1)
    torch.testing.assert_close(total, torch.ones(3, dtype=torch.float64))


def test_the_log_likelihood_is_torch_distributions_product_of_bernoullis():
    config = TrainConfig(hidden=(4,), latent_dim=2, autoregressive=7, context=5)
    model = build_model(config, (1, 3, 4), 0).double()
    randomised(model.visible, seed=2)
    x = torch.bernoulli(torch.full((5, 12), 0.4, dtype=torch.float64))
    logits = torch.randn(2, 5, 12, dtype=torch.float64)
    reference = Independent(Bernoulli(logits=logits + model.visible(x)), 1).log_prob(x)
    torch.testing.assert_close(model.log_px_given_z(x, logits), reference)


def test_a_draw_s_probabilities_are_the_likelihood_s_at_the_drawn_image():
    """``draw`` updates the hidden layer one pixel at a time; its probabilities must be
    sigmoid(ℓ + g(x)) at the image it drew, g computed whole."""
    part = randomised(PixelAutoregression(20, 9, 6).double(), seed=3)
    logits = torch.randn(50, 20, dtype=torch.float64)
    probs, x = part.draw(logits, torch.Generator().manual_seed(0))
    assert set(x.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(probs, torch.sigmoid(logits + part(x)))


def test_the_draws_follow_the_likelihood():
    """The frequency of each of the 8 images of D = 3 pixels among 20,000 draws is its
    probability exp log p(x|z), within four binomial standard errors."""
    part = randomised(PixelAutoregression(3, 4).double(), seed=4)
    logits = torch.tensor([[0.3, -0.5, 0.8]], dtype=torch.float64)
    n = 20_000
    _, x = part.draw(logits.expand(n, 3), torch.Generator().manual_seed(5))
    images = torch.tensor(list(itertools.product((0.0, 1.0), repeat=3)), dtype=torch.float64)
    exact = Independent(Bernoulli(logits=logits + part(images)), 1).log_prob(images).exp()
    counts = (x[:, None, :] == images[None]).all(dim=-1).double().mean(dim=0)
    se = (exact * (1 - exact) / n).sqrt()
    assert ((counts - exact).abs() < Z * se).all(), (counts, exact)


def test_the_symbolic_check_fails_when_a_logit_sees_its_own_pixel():
    """elbo_math's (3.14) holds for g_i of x_<i and fails for g_2 of (x_1, x_2)."""
    assert symbolic.verify_autoregressive().passed
    own = lambda xs: [  # noqa: E731
        symbolic.ELL[0],
        symbolic.ELL[1] + symbolic.G2(xs[0], xs[1]),
        symbolic.ELL[2] + symbolic.G3(xs[0], xs[1]),
    ]
    assert not symbolic.verify_autoregressive(own).passed


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--autoregressive", "4", "--likelihood", "gaussian"], r"use --likelihood bernoulli"),
        (["--autoregressive", "-1"], r"--autoregressive counts hidden units, >= 0, got -1"),
        (["--context", "28"], r"--context .* with --autoregressive None"),
        (["--autoregressive", "4", "--context", "0"], r"--context .* >= 1"),
        (["--autoregressive", "4", "--backend", "numpy"], r"belong.* to the torch backend"),
    ],
)
def test_an_autoregressive_decoder_that_cannot_work_is_refused_in_one_line(
    capsys, tmp_path, flags, message
):
    out = tmp_path / "run"
    refused_in_one_line(capsys, out, message, "train", *TINY, "--epochs", "1", "--out", out, *flags)


@pytest.mark.slow
def test_vae_train_autoregressive_trains_evaluates_samples_and_refuses_export(capsys, tmp_path):
    run = tmp_path / "ar"
    flags = [*TINY, "--autoregressive", "8", "--context", "30", "--device", DEVICE]
    assert cli(capsys, "train", *flags, "--epochs", "1", "--out", run)[0] == 0
    loaded = load_run(run, DEVICE)
    visible = loaded.model.visible
    assert (visible.hidden, visible.context) == (8, 30)
    state = torch.load(run / "best.pt", weights_only=True)
    assert state["architecture"]["autoregressive"] == 8
    assert state["architecture"]["context"] == 30
    assert visible.direct.abs().sum() > 0  # trained, not the g = 0 it starts at
    code, out, err = cli(capsys, "evaluate", run, "--k", "20", "--device", DEVICE)
    assert code == 0, err
    elbo, iwae = (float(re.search(rf"{key}.*?(-\d+\.\d+)", out)[1]) for key in ("ELBO", "IWAE"))
    assert math.isfinite(iwae) and iwae >= elbo - 1.0
    code, out, err = cli(capsys, "sample", run, "--n", "10", "--device", DEVICE)
    assert code == 0, err
    code, out, err = cli(capsys, "export", run, "--format", "onnx")
    assert code == 2 and "pixel by pixel" in err and err.count("\n") == 1, err


def test_the_numpy_twin_of_an_autoregressive_model_is_refused():
    from vae_torch.convert import to_numpy

    model = build_model(TrainConfig(hidden=(4,), latent_dim=2, autoregressive=3), (1, 2, 2), 0)
    with pytest.raises(VaeError, match="independent pixels only"):
        to_numpy(model)
