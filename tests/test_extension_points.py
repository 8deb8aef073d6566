"""The recipes of CONTRIBUTING.md, run from outside the package.

A toy dataset (8x12 images of stripes, two classes, .npy files), a toy likelihood
(Laplace with a fixed scale), a toy model (linear encoder and decoder) and a toy
figure (mean images) are registered here, through the public registration calls
only, then trained, evaluated and drawn through the package's public functions,
in both backends where the recipe says so. If a recipe stops working, this fails.
"""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from device_under_test import DEVICE
from torch import nn

from vae_numpy.data import DATASETS, Dataset, RawDataset, register_dataset
from vae_numpy.data.dataset import FileCheck, check_splits, sha256
from vae_numpy.data.pixels import Pixels
from vae_numpy.gradcheck import check_gradients
from vae_numpy.likelihoods import LIKELIHOODS, Likelihood, Parameter, register
from vae_numpy.model import MLPVAE as NumpyMLPVAE
from vae_numpy.run.config import TrainConfig
from vae_numpy.run.options import Options
from vae_torch.checkpoint import load_run, read_checkpoint
from vae_torch.evaluation import evaluate
from vae_torch.figures import FIGURES, Context, figure_of, make_figures, pixel_size, register_figure
from vae_torch.likelihoods import TORCH_LIKELIHOODS, make_likelihood
from vae_torch.likelihoods import register as register_torch_likelihood
from vae_torch.models import MODELS, VAE
from vae_torch.models.registry import ModelKind, register_model
from vae_torch.plotting import show_grid
from vae_torch.training import train_torch

HEIGHT, WIDTH = 8, 12  # not 28x28, not square: the shape must come from the data
GRAD_TOLERANCE = 1e-6  # fourth-order central differences in float64 (vae_numpy.gradcheck)


class Stripes(Dataset):
    """Horizontal (class 0) or vertical (class 1) stripes with noise, in two .npy files."""

    name = "stripes"
    classes = ("horizontal", "vertical")
    system_hint = "write them with write_stripes(folder)"
    mirrors = ()

    def file_names(self) -> dict[str, str]:
        return {"images": "stripes-images.npy", "labels": "stripes-labels.npy"}

    def read(self, paths: dict[str, Path], origin: str) -> RawDataset:
        images, labels = np.load(paths["images"])[:, None], np.load(paths["labels"])
        files = tuple(
            FileCheck(p, sha256(p.read_bytes()), "structure only") for p in paths.values()
        )
        return check_splits(
            RawDataset(self.name, self.classes, images[:48], labels[:48], images[48:],
                       labels[48:], origin, files)
        )  # fmt: skip


class OneClassStripes(Stripes):
    """The same images with one label for all: no classes to judge by."""

    name = "one-class"
    classes = ("stripes",)

    def read(self, paths: dict[str, Path], origin: str) -> RawDataset:
        raw = Stripes().read(paths, origin)  # two classes, then one label for all
        zero = np.zeros_like
        return RawDataset(self.name, self.classes, raw.train_images, zero(raw.train_labels),
                          raw.test_images, zero(raw.test_labels), origin, raw.files)  # fmt: skip


def write_stripes(folder: Path) -> None:
    rng = np.random.default_rng(0)
    labels = np.arange(64) % 2
    rows = (np.arange(HEIGHT)[:, None] % 2) * np.ones(WIDTH)
    cols = np.ones(HEIGHT)[:, None] * (np.arange(WIDTH)[None, :] % 2)
    clean = np.where(labels[:, None, None] == 0, rows, cols)
    noisy = np.clip(clean * 200 + rng.integers(0, 56, clean.shape), 0, 255)
    np.save(folder / "stripes-images.npy", noisy.astype(np.uint8))
    np.save(folder / "stripes-labels.npy", labels.astype(np.int64))


class Laplace(Likelihood):
    """log p(x|z) = Σ_d [−|x_d − x̂_d| / b − log 2b], the decoder outputs x̂; b = --scale."""

    name = "laplace"
    check = ""  # a toy: the real recipe names the elbo_math check of its log-density
    pixels = tuple(Pixels)
    default_pixels = Pixels.DEQUANTIZED
    pixels_note = ""
    parameters = (Parameter("scale", 0.1, "the Laplace likelihood's scale b", "b"),)
    scale: float

    def log_prob(self, x, out):
        d = x.shape[-1]
        return -np.abs(x - out).sum(axis=-1) / self.scale - d * math.log(2 * self.scale)

    def grad(self, x, out):
        return np.sign(out - x) / self.scale

    def mean(self, out):
        return out


class TorchLaplace(Laplace):
    """Its torch half: the same log-density and mean on tensors."""

    def log_prob(self, x, out):
        d = x.shape[-1]
        return -(x - out).abs().sum(dim=-1) / self.scale - d * math.log(2 * self.scale)

    def mean(self, out):
        return out


class LinearEncoder(nn.Module):
    def __init__(self, pixels: int, latent_dim: int):
        super().__init__()
        self.mu, self.log_var = nn.Linear(pixels, latent_dim), nn.Linear(pixels, latent_dim)

    def forward(self, x, y=None):
        return self.mu(x), self.log_var(x)


class LinearDecoder(nn.Module):
    def __init__(self, latent_dim: int, pixels: int):
        super().__init__()
        self.out = nn.Linear(latent_dim, pixels)

    def forward(self, z, y=None):
        return self.out(z)


class LinearVAE(VAE):
    """x̂ = W z + b and μ, log σ² affine in x: probabilistic PCA with a learned encoder."""

    def __init__(self, config: TrainConfig, image_shape: tuple[int, int, int]):
        pixels = math.prod(image_shape)
        likelihood = make_likelihood(config)
        super().__init__(image_shape, (pixels,), config.latent_dim, likelihood, n_classes=0)
        self.encoder = LinearEncoder(pixels, config.latent_dim)
        self.decoder = LinearDecoder(config.latent_dim, pixels)


def mean_images(ctx: Context):
    """The mean test image beside the mean of 100 prior samples."""
    gen = ctx.generators("mean-image")[1]
    pair = torch.stack([ctx.x.mean(0), ctx.model.sample(100, gen).mean(0)])
    ctx.report["mean_image_distance"] = (pair[0] - pair[1]).abs().mean().item()
    fig = figure_of("mean-image")
    show_grid(fig.subplots(), ctx.images(pair), 1, 2, "test mean | sample mean")
    return fig


@pytest.fixture
def toys(tmp_path):
    """The four toys registered; every registry as it was afterwards."""
    registries = (DATASETS, LIKELIHOODS, TORCH_LIKELIHOODS, MODELS, FIGURES)
    saved = [dict(r) for r in registries]
    register_dataset(Stripes())
    register(Laplace)
    register_torch_likelihood(TorchLaplace)
    register_model(ModelKind("linear", lambda c, shape, n: LinearVAE(c, shape), False, "linear"))
    register_figure("mean-image", (4.0, 2.4))(mean_images)
    write_stripes(tmp_path)
    yield Options(data_dir=tmp_path, progress=False, device=DEVICE)
    for registry, before in zip(registries, saved, strict=True):
        registry.clear()
        registry.update(before)


def test_a_toy_dataset_likelihood_model_and_figure_train_evaluate_and_draw(toys, tmp_path):
    config = TrainConfig.from_flags(
        model="linear", likelihood="laplace", scale=0.2, dataset="stripes", latent_dim=2,
        epochs=3, batch_size=8, n_val=8, lr=1e-2,
    )  # fmt: skip
    history = train_torch(config, tmp_path / "run", toys)
    assert len(history) == 3 and history[-1]["val_elbo"] > history[0]["val_elbo"]
    loaded = load_run(tmp_path / "run")  # the parameter is recorded and comes back
    assert loaded.model.likelihood == Laplace(scale=0.2) and loaded.config.record()["scale"] == 0.2
    assert read_checkpoint(tmp_path / "run" / "checkpoint.pt")["architecture"]["scale"] == 0.2

    result = evaluate(tmp_path / "run", k=5, options=toys, samples=20)
    assert result["examples"] == 16 and result["likelihood"] == "laplace"
    judged = result["sample_quality"]  # a judge of the toy dataset, at its own shape
    assert judged["judge"]["image_shape"] == (1, HEIGHT, WIDTH) and judged["samples"] == 20
    assert math.isfinite(result["elbo"]) and math.isfinite(result["iwae"])
    assert result["elbo"] == pytest.approx(result["log_px_given_z"] - result["kl"])

    report = make_figures(tmp_path / "run", only=["mean-image", "samples"], options=toys)
    assert report["mean_image_distance"] >= 0
    png = Path(report["figures"]["mean-image"][0])
    from matplotlib.image import imread

    assert imread(png).shape[:2] == pixel_size("mean-image")[::-1]


def test_a_dataset_without_labels_has_no_judge_and_says_so(toys, tmp_path):
    register_dataset(OneClassStripes())
    config = TrainConfig(model="linear", likelihood="laplace", dataset="one-class", epochs=1)
    train_torch(config, tmp_path / "run", toys)
    result = evaluate(tmp_path / "run", k=2, options=toys, samples=20)
    assert result["sample_quality"] == {"n/a": "one-class has no class labels, so it has no judge"}


def test_the_numpy_backend_trains_with_the_toy_likelihood_and_its_gradient_checks(toys, tmp_path):
    from vae_numpy.train import train_numpy

    config = TrainConfig(
        backend="numpy", likelihood="laplace", dataset="stripes", hidden=(6,), latent_dim=2,
        epochs=2, batch_size=8, n_val=8, dtype="float64",
    )  # fmt: skip
    history = train_numpy(config, tmp_path / "numpy-run", toys)
    assert len(history) == 2

    rng = np.random.default_rng(0)
    model = NumpyMLPVAE.init(config.mlp(x_dim=5), rng)
    eps = rng.standard_normal((3, 2))
    # |x − x̂| has a kink at x = x̂: keep x at least 0.05 from the decoder's output, far
    # beyond the differences' steps, so the central differences see one linear piece
    _, cache = model.loss(np.full((3, 5), 0.5), eps)
    x = cache.out + rng.choice([-1, 1], cache.out.shape) * rng.uniform(0.05, 0.3, cache.out.shape)
    _, cache = model.loss(x, eps)
    errors = check_gradients(
        lambda: model.loss(x, eps)[0].loss, model.params, model.backward(cache)
    )
    assert max(errors.values()) < GRAD_TOLERANCE, errors
