"""Preprocessing (scale, binarize, dequantize) and splits, in numpy and on the torch device."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from vae_numpy.data import pixels
from vae_numpy.data.pixels import Pixels
from vae_numpy.data.splits import Split, validation_indices
from vae_torch.data import DeviceSplit, batch_indices

uint8_images = hnp.arrays(np.uint8, hnp.array_shapes(min_dims=1, max_dims=3, max_side=30))
Z_TOLERANCE = 4.0  # standard errors; a fixed seed makes the test deterministic anyway


def synthetic_uint8(n=400, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 784), dtype=np.uint8)


def assert_mean_within_standard_error(draws, probabilities, what):
    """The mean of independent Bernoulli(p_i) draws is mean(p) ± sqrt(Σ p(1-p)) / n."""
    p = probabilities.astype(np.float64).ravel()
    standard_error = np.sqrt(np.sum(p * (1 - p))) / p.size
    got, expected = float(np.mean(draws, dtype=np.float64)), float(p.mean())
    assert abs(got - expected) <= Z_TOLERANCE * standard_error, (
        f"{what}: binarized mean {got:.6f}, pixel mean {expected:.6f}, "
        f"standard error {standard_error:.2e}"
    )


@given(u=uint8_images)
def test_scale_maps_0_255_onto_0_1(u):
    x = pixels.scale(u)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x * 255, u, rtol=1e-6)


@given(u=uint8_images, seed=st.integers(0, 2**32 - 1), double=st.booleans())
def test_dequantized_pixels_lie_in_their_bin(u, seed, double):
    dtype = np.float64 if double else np.float32
    x = pixels.dequantize(u, np.random.default_rng(seed), dtype)
    assert x.dtype == dtype
    assert np.all(u / 256 <= x)
    assert np.all(x < (u.astype(np.float64) + 1) / 256)


def test_dequantization_noise_is_uniform_on_the_bin():
    """v = 256 x - u is U[0, 1): mean 1/2, variance 1/12."""
    u = synthetic_uint8(1000)
    v = pixels.dequantize(u, np.random.default_rng(1), np.float64) * 256 - u
    n = v.size
    assert abs(v.mean() - 0.5) <= Z_TOLERANCE * np.sqrt(1 / 12 / n), v.mean()
    assert abs(v.var() - 1 / 12) <= Z_TOLERANCE * np.sqrt(1 / 180 / n), v.var()


@pytest.mark.statistical
def test_binarized_mean_equals_pixel_mean():
    u = synthetic_uint8()
    p = pixels.scale(u)
    x = pixels.binarize(p, np.random.default_rng(2))
    assert set(np.unique(x)) <= {0.0, 1.0}
    assert_mean_within_standard_error(x, p, "numpy")


def test_static_binarization_is_fixed_by_the_seed_and_dynamic_is_fresh():
    u = synthetic_uint8(50)
    a = pixels.fixed(u, Pixels.STATIC_BINARY, seed=3)
    np.testing.assert_array_equal(a, pixels.fixed(u, Pixels.STATIC_BINARY, seed=3))
    assert not np.array_equal(a, pixels.fixed(u, Pixels.STATIC_BINARY, seed=4))
    rng = np.random.default_rng(5)
    e1, e2 = (pixels.epoch(u, Pixels.DYNAMIC_BINARY, rng) for _ in range(2))
    assert not np.array_equal(e1, e2)


def test_grey_pixels_have_no_epoch_noise():
    with pytest.raises(ValueError, match="do not change between epochs"):
        pixels.epoch(synthetic_uint8(2), Pixels.GREY, np.random.default_rng(0))


@given(n=st.integers(2, 500), data=st.data())
def test_validation_split_is_a_seeded_partition(n, data):
    n_val = data.draw(st.integers(1, n - 1))
    seed = data.draw(st.integers(0, 2**32 - 1))
    train, val = validation_indices(n, n_val, seed)
    assert len(val) == n_val
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(n))
    np.testing.assert_array_equal(val, validation_indices(n, n_val, seed)[1])


@pytest.mark.parametrize("kind", list(Pixels))
def test_device_split_evaluates_on_the_numpy_view(kind):
    u = synthetic_uint8(20)
    split = Split(u.reshape(20, 1, 28, 28), np.arange(20) % 10)
    on_device = DeviceSplit(split, kind, seed=7, device=torch.device("cpu"))
    np.testing.assert_array_equal(on_device.fixed.numpy(), pixels.fixed(u, kind, seed=7))
    assert on_device.uint8.shape == (20, 784)


@pytest.mark.statistical
def test_device_dynamic_binarization_mean_equals_pixel_mean():
    u = synthetic_uint8()
    split = Split(u.reshape(-1, 1, 28, 28), np.zeros(len(u), dtype=np.int64))
    on_device = DeviceSplit(split, Pixels.DYNAMIC_BINARY, seed=0, device=torch.device("cpu"))
    g = torch.Generator().manual_seed(0)
    x1, x2 = on_device.epoch(g).numpy(), on_device.epoch(g).numpy()
    assert not np.array_equal(x1, x2)
    assert_mean_within_standard_error(x1, pixels.scale(u), "torch")


def test_device_dequantization_lies_in_the_bin():
    u = synthetic_uint8()
    u[0] = 255
    split = Split(u.reshape(-1, 1, 28, 28), np.zeros(len(u), dtype=np.int64))
    on_device = DeviceSplit(split, Pixels.DEQUANTIZED, seed=0, device=torch.device("cpu"))
    x = on_device.epoch(torch.Generator().manual_seed(0)).numpy()
    assert np.all(u / 256 <= x)
    assert np.all(x < (u.astype(np.float64) + 1) / 256)


@given(n=st.integers(1, 300), batch=st.integers(1, 64), shuffle=st.booleans())
def test_batches_cover_every_example_once(n, batch, shuffle):
    g = torch.Generator().manual_seed(0) if shuffle else None
    parts = batch_indices(n, batch, g, torch.device("cpu"))
    assert all(len(p) <= batch for p in parts)
    np.testing.assert_array_equal(np.sort(torch.cat(parts).numpy()), np.arange(n))


@pytest.mark.parametrize("pixels", ["grey", "static-binary", "dynamic-binary", "dequantized"])
def test_a_shifted_epoch_moves_each_image_by_its_own_offset(pixels):
    """One bright pixel per image lands where its offset says, in every pixel view, and
    the rest of the image stays background; shift 0 draws exactly the unshifted epoch."""
    n, shift = 40, 2
    images = np.zeros((n, 1, 7, 9), dtype=np.uint8)
    rows, cols = np.arange(n) % 3 + 2, np.arange(n) % 5 + 2  # 2 from every edge
    images[np.arange(n), 0, rows, cols] = 255
    data = DeviceSplit(Split(images, np.zeros(n, dtype=np.int64)), pixels, 0, "cpu")
    generator = torch.Generator().manual_seed(5)
    offsets = data.offsets(shift, torch.Generator().manual_seed(5))
    moved = data.epoch(generator, shift).view(n, 7, 9)
    for i in range(n):
        r, c = rows[i] + shift - offsets[i, 0], cols[i] + shift - offsets[i, 1]
        assert moved[i, r, c] >= 255 / 256  # the bright pixel, in any view
        others = moved[i].clone()
        others[r, c] = 0
        assert others.max() < 1 / 256  # background (dequantized: below the first level)
    assert torch.equal(
        data.epoch(torch.Generator().manual_seed(9), 0),
        data.epoch(torch.Generator().manual_seed(9)),
    )
