"""The likelihood registries: every numpy entry has its torch half under the same name,
and every registered likelihood turns nats into bits per dimension by (3.6)."""

import math

import pytest

from elbo_math.numeric import bits_per_dim_dequantized
from vae_numpy.data.pixels import Pixels
from vae_numpy.likelihoods import LIKELIHOODS
from vae_torch.likelihoods import TORCH_LIKELIHOODS

NATS, DIMS = 1234.5, 784


def test_the_numpy_and_torch_registries_hold_the_same_likelihoods():
    assert list(TORCH_LIKELIHOODS) == list(LIKELIHOODS)
    for name, torch_half in TORCH_LIKELIHOODS.items():
        assert issubclass(torch_half, LIKELIHOODS[name]), name  # one description, two maths


@pytest.mark.parametrize("name", sorted(LIKELIHOODS))
def test_every_likelihood_converts_nats_to_bits_per_dim_by_eq_3_6(name):
    """A density of dequantized pixels y = (x + u)/256 on [0, 1)^D bounds the probability
    of the 8-bit image: bits/dim = nats / (D ln 2) + 8 (3.6), elbo_math's closed form. A
    probability of the pixels themselves (binary, or the 8-bit values) is nats / (D ln 2)
    with nothing added. Every other pairing is no likelihood of the images: None."""
    likelihood = LIKELIHOODS[name]()
    for pixels in likelihood.pixels:
        bits = likelihood.bits_per_dim(NATS, pixels, DIMS)
        if pixels is Pixels.DEQUANTIZED:
            assert bits == pytest.approx(float(bits_per_dim_dequantized(NATS, DIMS)), rel=1e-12)
        elif bits is not None:
            assert bits == pytest.approx(NATS / (DIMS * math.log(2)), rel=1e-12), pixels
        else:
            assert likelihood.no_bits_note(pixels).startswith("bits/dim n/a")
