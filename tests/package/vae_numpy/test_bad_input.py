"""Bad input to the numpy VAE: a clear error, never a silent NaN."""

import numpy as np
import pytest

from vae_numpy.architecture import MLPConfig
from vae_numpy.checkpoint import load_model, save_model
from vae_numpy.model import MLPVAE
from vae_numpy.run.errors import VaeError


@pytest.fixture
def model():
    return MLPVAE.init(MLPConfig(x_dim=6, hidden=(4,), latent_dim=2), np.random.default_rng(0))


def eps(n=3, latent=2):
    return np.zeros((n, latent))


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.zeros((3, 5)), r"this model takes \(batch, 6\)"),
        (np.zeros(6), r"this model takes \(batch, 6\)"),
        (np.full((3, 6), 1.5), r"needs pixels in \[0, 1\]"),
        (np.full((3, 6), -0.1), r"needs pixels in \[0, 1\]"),
        (np.full((3, 6), np.nan), "NaN or inf"),
        (np.full((3, 6), np.inf), "NaN or inf"),
    ],
    ids=["width", "1-d", "above-1", "below-0", "nan", "inf"],
)
def test_bad_batch_is_refused(model, x, message):
    with pytest.raises(VaeError, match=message):
        model.loss(x, eps())


def test_wrong_noise_shape_is_refused(model):
    with pytest.raises(VaeError, match=r"eps has shape \(3, 3\)"):
        model.loss(np.zeros((3, 6)), eps(latent=3))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"likelihood": "gaussian", "likelihood_params": {"sigma": -0.1}},
            "sigma must be positive",
        ),
        (
            {"likelihood": "gaussian", "likelihood_params": {"sigma": float("nan")}},
            "sigma must be positive",
        ),
        ({"likelihood_params": {"sigma": 0.1}}, "bernoulli likelihood has no such parameter"),
        ({"latent_dim": 0}, "latent size must be at least 1"),
        ({"hidden": (4, 0)}, "widths must be positive"),
        ({"likelihood": "poisson"}, "unknown likelihood"),
    ],
)
def test_bad_architecture_is_refused(fields, message):
    with pytest.raises(VaeError, match=message):
        MLPConfig(x_dim=784, **fields)


def test_parameter_file_of_another_architecture_is_refused(tmp_path, model):
    save_model(tmp_path / "m.npz", model)
    other = MLPConfig(x_dim=6, hidden=(5,), latent_dim=2)
    with pytest.raises(VaeError, match="another architecture"):
        load_model(tmp_path / "m.npz", other)


def test_parameters_that_do_not_fit_are_refused(model):
    params = dict(model.params)
    params["encoder.mu.weight"] = params["encoder.mu.weight"].T
    with pytest.raises(VaeError, match=r"parameter encoder\.mu has shapes"):
        MLPVAE(model.config, params)
    del params["encoder.mu.weight"]
    with pytest.raises(VaeError, match="missing"):
        MLPVAE(model.config, params)


def test_save_then_load_is_the_identity(tmp_path, model):
    save_model(tmp_path / "m.npz", model)
    back = load_model(tmp_path / "m.npz")
    assert back.config == model.config
    for name, p in model.params.items():
        np.testing.assert_array_equal(back.params[name], p)


def test_a_file_that_is_not_npz_is_a_clear_error(tmp_path):
    (tmp_path / "m.npz").write_text("hello")
    with pytest.raises(VaeError, match=r"not a readable \.npz"):
        load_model(tmp_path / "m.npz")
