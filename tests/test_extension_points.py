"""The recipes of CONTRIBUTING.md, run from outside the package.

A toy dataset (8x12 images of stripes, two classes, .npy files), a toy likelihood
(Laplace with a scale of its own), a toy model (linear encoder and decoder), a toy
figure (mean images), a toy objective term (a penalty on the codes' size, with its own
flag), a toy sample metric (the samples' mean brightness) and a toy prior (a normal with
a learned mean) are registered here,
through the public registration calls only, then trained, evaluated, compared and drawn
through the package's public functions and its command line, in both backends where the
recipe says so. If a recipe stops working, this fails.
"""

import json
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
from vae_numpy.run.config import OPTIONS, Option, TrainConfig, register_option
from vae_numpy.run.errors import VaeError
from vae_numpy.run.options import Options
from vae_torch.checkpoint import load_run, read_checkpoint
from vae_torch.cli import main
from vae_torch.evaluation import evaluate
from vae_torch.figures import FIGURES, Context, figure_of, make_figures, pixel_size, register_figure
from vae_torch.likelihoods import TORCH_LIKELIHOODS, make_likelihood
from vae_torch.likelihoods import register as register_torch_likelihood
from vae_torch.models import MODELS, VAE
from vae_torch.models.registry import ModelKind, register_model
from vae_torch.objectives import TERMS, Term, register_term
from vae_torch.plotting import show_grid
from vae_torch.priors import PRIORS, Prior, register_prior
from vae_torch.quality.estimate import Estimate
from vae_torch.quality.samples import (
    SAMPLE_METRICS,
    Column,
    SampleMetric,
    SampleSet,
    register_metric,
)
from vae_torch.training import train_torch

HEIGHT, WIDTH = 8, 12  # not 28x28, not square: the shape must come from the data


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
            RawDataset(
                self.name,
                self.classes,
                images[:48],
                labels[:48],
                images[48:],
                labels[48:],
                origin,
                files,
            )
        )


class OneClassStripes(Stripes):
    """The same images with one label for all: no classes to judge by."""

    name = "one-class"
    classes = ("stripes",)

    def read(self, paths: dict[str, Path], origin: str) -> RawDataset:
        raw = Stripes().read(paths, origin)  # two classes, then one label for all
        zero = np.zeros_like
        return RawDataset(
            self.name,
            self.classes,
            raw.train_images,
            zero(raw.train_labels),
            raw.test_images,
            zero(raw.test_labels),
            origin,
            raw.files,
        )


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


class CodePenalty(Term):
    """λ · mean ‖z‖²: a toy term pulling the codes towards 0, switched on by --code-penalty."""

    name, field = "code penalty", "code_penalty"

    def penalty(self, z, batch):
        return self.weight * z.square().sum(dim=-1).mean()


def mean_brightness(samples: SampleSet) -> dict:
    """The samples' mean pixel, with the standard error of a mean over the samples."""
    per_sample = samples.images.flatten(1).mean(dim=1).double()
    se = per_sample.std().item() / math.sqrt(len(per_sample))
    return {"mean_brightness": Estimate(per_sample.mean().item(), se)}


BRIGHTNESS = Column("mean_brightness", "brightness", "mean brightness of the samples")


class ShiftedNormal(Prior):
    """N(m, I) with a learned mean m: no closed-form KL here, so the Monte Carlo one."""

    name, factorises = "shifted", False

    def __init__(self, latent_dim: int):
        super().__init__(latent_dim)
        self.m = nn.Parameter(torch.zeros(latent_dim))

    def log_prob(self, z, encoder):
        return self.log_prob_dims(z, encoder).sum(dim=-1)

    def log_prob_dims(self, z, encoder):
        return -0.5 * (math.log(2 * math.pi) + (z - self.m) ** 2)

    def sample(self, n, encoder, generator, device, dtype):
        eps = torch.randn((n, self.latent_dim), generator=generator, device=device, dtype=dtype)
        return self.m.detach().to(dtype) + eps


@pytest.fixture
def toys(tmp_path):
    """The toys registered; every registry as it was afterwards."""
    registries = (
        DATASETS,
        LIKELIHOODS,
        TORCH_LIKELIHOODS,
        MODELS,
        FIGURES,
        TERMS,
        OPTIONS,
        SAMPLE_METRICS,
        PRIORS,
    )
    saved = [dict(r) for r in registries]
    register_dataset(Stripes())
    register(Laplace)
    register_torch_likelihood(TorchLaplace)
    register_model(ModelKind("linear", lambda c, shape, n: LinearVAE(c, shape), False, "linear"))
    register_figure("mean-image", (4.0, 2.4))(mean_images)
    register_option(Option("code_penalty", 0.0, "torch: λ of a penalty λ · mean ‖z‖²"))
    register_term(CodePenalty)
    register_metric(SampleMetric("brightness", mean_brightness, (BRIGHTNESS,)))
    register_prior(ShiftedNormal)
    write_stripes(tmp_path)
    yield Options(data_dir=tmp_path, progress=False, device=DEVICE)
    for registry, before in zip(registries, saved, strict=True):
        registry.clear()
        registry.update(before)


def test_a_toy_dataset_likelihood_model_and_figure_train_evaluate_and_draw(toys, tmp_path):
    config = TrainConfig.from_flags(
        model="linear",
        likelihood="laplace",
        scale=0.2,
        dataset="stripes",
        latent_dim=2,
        epochs=3,
        batch_size=8,
        n_val=8,
        lr=1e-2,
    )
    history = train_torch(config, tmp_path / "run", options=toys)
    assert len(history) == 3 and history[-1]["val_elbo"] > history[0]["val_elbo"]
    loaded = load_run(tmp_path / "run")  # the parameter is recorded and comes back
    assert loaded.model.likelihood == Laplace(scale=0.2) and loaded.config.record()["scale"] == 0.2
    assert read_checkpoint(tmp_path / "run" / "checkpoint.pt")["architecture"]["scale"] == 0.2

    result = evaluate(tmp_path / "run", k=5, options=toys, samples=20)
    assert result.examples == 16 and result.likelihood == "laplace"
    judged = result.sample_quality  # a judge of the toy dataset, at its own shape
    assert judged["judge"]["image_shape"] == (1, HEIGHT, WIDTH) and judged["samples"] == 20
    assert math.isfinite(result.bounds.elbo) and math.isfinite(result.bounds.iwae)
    bounds = result.bounds
    assert bounds.elbo == pytest.approx(bounds.log_px_given_z - bounds.kl)

    report = make_figures(tmp_path / "run", only=["mean-image", "samples"], options=toys)
    assert report["mean_image_distance"] >= 0
    png = Path(report["figures"]["mean-image"][0])
    from matplotlib.image import imread

    assert imread(png).shape[:2] == pixel_size("mean-image")[::-1]


def test_a_toy_prior_trains_with_the_model_is_saved_and_evaluated(toys, tmp_path):
    """--prior shifted: its mean learns with the model, comes back from the checkpoint, and
    the IWAE and the samples use it."""
    config = TrainConfig.from_flags(
        dataset="stripes", prior="shifted", latent_dim=2, epochs=2, batch_size=8, n_val=8, lr=1e-2
    )
    train_torch(config, tmp_path / "run", options=toys)
    prior = load_run(tmp_path / "run").model.prior
    assert isinstance(prior, ShiftedNormal) and prior.m.abs().sum() > 0
    result = evaluate(tmp_path / "run", k=5, options=toys)
    assert math.isfinite(result.bounds.iwae) and result.bounds.iwae >= result.bounds.elbo - 5


def test_a_toy_objective_term_trains_with_its_own_flag_and_shows_in_the_history(toys, tmp_path):
    """--code-penalty, a flag the term registered, switches it on: the run trains on
    −ELBO + λ mean ‖z‖², its history records that objective beside the true ELBO, and
    the codes end up smaller than without it. The numpy backend refuses it."""
    base = [
        "train",
        "--model",
        "linear",
        "--likelihood",
        "laplace",
        "--dataset",
        "stripes",
        "--latent-dim",
        "2",
        "--epochs",
        "3",
        "--batch-size",
        "8",
        "--n-val",
        "8",
        "--data-dir",
        str(tmp_path),
        "--device",
        DEVICE,
    ]
    assert main([*base, "--out", str(tmp_path / "plain")]) == 0
    assert main([*base, "--code-penalty", "10", "--out", str(tmp_path / "pulled")]) == 0
    plain = load_run(tmp_path / "plain", which="last")
    pulled = load_run(tmp_path / "pulled", which="last")
    assert pulled.config.value("code_penalty") == 10.0
    record = pulled.history[-1]
    assert record["train_elbo"] == pytest.approx(
        record["train_log_px_given_z"] - record["train_kl"]
    )
    assert record["train_objective"] > -record["train_elbo"]  # the penalty on top of −ELBO
    assert "train_objective" not in plain.history[-1]  # no term, no objective column
    x = torch.from_numpy(np.load(tmp_path / "stripes-images.npy")[48:, None] / 255).float()
    sizes = [
        run.model.encode(x.flatten(1).to(run.model.device))[0].square().sum(1).mean().item()
        for run in (plain, pulled)
    ]
    assert sizes[1] < sizes[0]
    with pytest.raises(VaeError, match="--code-penalty belongs to the torch backend"):
        TrainConfig.from_flags(backend="numpy", code_penalty=1.0)


def test_a_toy_metric_shows_in_evaluate_and_compare(toys, tmp_path, capsys):
    """A registered sample metric: in vae evaluate's table and JSON, and a column of
    vae compare's table."""
    for seed in (0, 1):
        config = TrainConfig.from_flags(
            model="linear",
            likelihood="laplace",
            dataset="stripes",
            latent_dim=2,
            epochs=1,
            batch_size=8,
            n_val=8,
            seed=seed,
        )
        train_torch(config, tmp_path / f"run{seed}", options=toys)
    data = ["--data-dir", str(tmp_path), "--device", DEVICE]
    assert main(["evaluate", str(tmp_path / "run0"), "--k", "2", "--samples", "20", *data]) == 0
    out = capsys.readouterr().out
    written = json.loads(Path(out.split("written: ")[1].strip()).read_text())
    brightness = Estimate.of(written["sample_quality"]["mean_brightness"])
    assert 0 <= brightness.value <= 1 and brightness.standard_error > 0
    assert f"mean brightness of the samples {brightness.show()}" in out
    runs = [str(tmp_path / "run0"), str(tmp_path / "run1")]
    assert main(["compare", *runs, "--k", "2", "--samples", "20", *data]) == 0
    table = capsys.readouterr().out
    header = next(line for line in table.splitlines() if line.startswith("| run |"))
    assert "| brightness |" in header


def test_a_dataset_without_labels_has_no_judge_and_says_so(toys, tmp_path):
    register_dataset(OneClassStripes())
    config = TrainConfig(model="linear", likelihood="laplace", dataset="one-class", epochs=1)
    train_torch(config, tmp_path / "run", options=toys)
    result = evaluate(tmp_path / "run", k=2, options=toys, samples=20)
    assert result.sample_quality == {"n/a": "one-class has no class labels, so it has no judge"}


def test_the_numpy_backend_trains_with_the_toy_likelihood_and_its_gradient_checks(toys, tmp_path):
    from vae_numpy.train import train_numpy

    config = TrainConfig(
        backend="numpy",
        likelihood="laplace",
        dataset="stripes",
        hidden=(6,),
        latent_dim=2,
        epochs=2,
        batch_size=8,
        n_val=8,
        dtype="float64",
    )
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
    assert max(errors.values()) <= 1, errors  # in units of (6.10)'s tolerance
