"""What defines a training run: ``TrainConfig``, saved as the run's config.json.

The ``vae train`` flags are made from its fields: the default and the help text
come from here and, for a field backed by a registry (models, likelihoods,
datasets), the choices from the registry; none is retyped in the command line.
"""

from dataclasses import dataclass, field

from vae_numpy.config import MLPConfig
from vae_numpy.data.pixels import Pixels
from vae_numpy.likelihoods import LIKELIHOODS, likelihood_class
from vae_numpy.run.errors import VaeError

OBJECTIVES = ("elbo", "iwae", "iwae-dreg")
BACKENDS = ("torch", "numpy")
AMP = ("none", "bf16")
LR_SCHEDULES = ("constant", "cosine")
DTYPES = ("float32", "float64")


def option(default, help: str, registry: str | None = None):
    """A TrainConfig field with its command-line help; ``registry`` names where its
    choices come from (listed by the CLI)."""
    return field(default=default, metadata={"help": help, "registry": registry})


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; saved as the run's config.json. Its
    fields are the flags of ``vae train`` (``vae train --help`` lists them with their
    defaults and meanings); an inconsistent combination raises ``VaeError``."""

    backend: str = option("torch", "torch: autograd, CPU or GPU; numpy: hand-written, MLP only")
    model: str = option("mlp", "the architecture", registry="models")
    dataset: str = option("fashion-mnist", "the data", registry="datasets")
    pixels: str = option(
        "", "the view of the uint8 pixels; default: the likelihood's", registry="pixels"
    )
    likelihood: str = option("bernoulli", "p(x|z)", registry="likelihoods")
    sigma: float = option(0.1, "the Gaussian likelihood's fixed standard deviation")
    hidden: tuple[int, ...] = option(
        (400,), "fully connected widths, e.g. 400 or 512,256; none for no hidden layer"
    )
    channels: tuple[int, ...] = option((32, 32, 64), "conv models: channels of each convolution")
    strides: tuple[int, ...] = option((1, 2, 2), "conv models: 1 (kernel 3) or 2 (kernel 4) each")
    latent_dim: int = option(20, "the size of z")
    activation: str = option("relu", "after every hidden layer", registry="activations")
    epochs: int = option(10, "passes over the training set")
    batch_size: int = option(128, "examples per step")
    lr: float = option(1e-3, "Adam's step size")
    weight_decay: float = option(
        0.0, "torch: AdamW's decoupled weight decay (0: plain Adam), against overfitting"
    )
    lr_schedule: str = option(
        "constant",
        "torch: constant; cosine, the step size falling from --lr to 0 over the run's steps "
        "on half a cosine (Loshchilov & Hutter 2017)",
    )
    objective: str = option(
        "elbo",
        "torch: elbo; iwae, the k-sample bound (8.1); iwae-dreg, the same with the doubly "
        "reparameterised gradient",
    )
    k: int = option(1, "torch: importance samples per example of the iwae objectives")
    kl_weight: float = option(1.0, "beta in -log p(x|z) + beta KL; 1 is the ELBO")
    warmup: int = option(
        0, "torch: KL warm-up, beta rising linearly from 0 to --kl-weight over this many epochs"
    )
    free_bits: float = option(
        0.0, "torch: free bits, each latent dimension's batch-average KL floored at this (nats)"
    )
    mmd: float = option(
        0.0,
        "torch: λ of an MMD penalty, training on −ELBO + λ MMD² between the batch's codes "
        "and as many draws of N(0, I) (12.3); 0 is the ELBO",
    )
    mc_kl: bool = option(False, "torch: a one-sample Monte Carlo KL instead of the closed form")
    n_val: int | None = option(None, "training examples held out for validation; a sixth")
    limit: int | None = option(None, "train on a seeded random subset of this many examples")
    shift: int = option(
        0, "torch: move each training image by up to this many pixels per axis, every epoch"
    )
    seed: int = option(0, "initialisation, noise, batch order, validation split")
    device: str = option("auto", "torch: auto (CUDA when present), cpu or cuda")
    dtype: str = option("float32", "float32 or float64")
    amp: str = option("none", "torch: bf16 runs the forward pass under bfloat16 autocast")

    def __post_init__(self):
        for name in ("hidden", "channels", "strides"):
            object.__setattr__(self, name, tuple(int(v) for v in getattr(self, name)))
        if self.likelihood not in LIKELIHOODS:
            raise VaeError(
                f"--likelihood must be one of {', '.join(LIKELIHOODS)}, got {self.likelihood!r}"
            )
        kind = likelihood_class(self.likelihood)
        if not self.pixels:
            object.__setattr__(self, "pixels", str(kind.default_pixels))
        for ok, message in self._checks():
            if not ok:
                raise VaeError(message)
        if self.pixels not in kind.pixels:
            raise VaeError(
                f"{self.pixels} pixels do not suit --likelihood {self.likelihood}: "
                f"{kind.pixels_note}"
            )
        self.mlp(x_dim=1)  # validates the architecture fields

    def _checks(self) -> list[tuple[bool, str]]:
        return [
            (self.backend in BACKENDS, f"--backend must be one of {', '.join(BACKENDS)}"),
            (
                self.backend != "numpy" or self.model == "mlp",
                "the numpy backend has only the MLP model; use --backend torch for "
                f"--model {self.model}",
            ),
            (
                self.pixels in set(Pixels),
                f"--pixels must be one of {', '.join(Pixels)}, got {self.pixels!r}",
            ),
            (self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}"),
            (self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}"),
            (self.lr > 0, f"--lr must be positive, got {self.lr}"),
            (
                self.weight_decay >= 0,
                f"--weight-decay must be non-negative, got {self.weight_decay}",
            ),
            (
                self.backend != "numpy" or not self.weight_decay,
                "--weight-decay belongs to the torch backend; use --backend torch",
            ),
            (self.kl_weight >= 0, f"--kl-weight must be non-negative, got {self.kl_weight}"),
            (self.dtype in DTYPES, "--dtype must be float32 or float64"),
            (self.amp in AMP, f"--amp must be one of {', '.join(AMP)}, got {self.amp!r}"),
            (
                self.backend != "numpy"
                or (self.amp == "none" and not self.mc_kl and not self.shift),
                "--amp, --mc-kl and --shift belong to the torch backend; use --backend torch",
            ),
            (self.shift >= 0, f"--shift must be a number of pixels >= 0, got {self.shift}"),
            (
                0 <= self.warmup <= self.epochs,
                f"--warmup must lie in 0..--epochs ({self.epochs}) epochs, got {self.warmup}; "
                "a warm-up longer than the run never reaches the ELBO",
            ),
            (self.free_bits >= 0, f"--free-bits must be >= 0 nats, got {self.free_bits}"),
            (self.mmd >= 0, f"--mmd must be a weight >= 0, got {self.mmd}"),
            (
                self.lr_schedule in LR_SCHEDULES,
                f"--lr-schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}",
            ),
            (
                self.backend != "numpy" or self.lr_schedule == "constant",
                "--lr-schedule cosine belongs to the torch backend; use --backend torch",
            ),
            (
                self.objective in OBJECTIVES,
                f"--objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}",
            ),
            (self.k >= 1, f"--k must be at least 1 importance sample, got {self.k}"),
            (
                self.objective != "elbo" or self.k == 1,
                f"--k {self.k} is the number of importance samples of --objective iwae; give it",
            ),
            (
                self.objective == "elbo"
                or (
                    not self.mc_kl
                    and not self.warmup
                    and not self.free_bits
                    and not self.mmd
                    and self.kl_weight == 1
                ),
                "--mc-kl, --warmup, --free-bits, --mmd and --kl-weight are added to the ELBO's "
                "terms; the IWAE objective has none: drop them or use --objective elbo",
            ),
            (
                self.backend != "numpy" or self.objective == "elbo",
                "--objective iwae belongs to the torch backend; use --backend torch",
            ),
            (
                self.backend != "numpy" or not (self.warmup or self.free_bits or self.mmd),
                "--warmup, --free-bits and --mmd belong to the torch backend; use --backend torch",
            ),
            (
                self.amp == "none" or self.dtype == "float32",
                "--amp bf16 autocasts a float32 model; drop --dtype float64",
            ),
            (
                len(self.channels) == len(self.strides) >= 1,
                f"--channels and --strides need one entry per convolution, got "
                f"{len(self.channels)} and {len(self.strides)}",
            ),
            (
                all(c >= 1 for c in self.channels) and set(self.strides) <= {1, 2},
                f"--channels must be positive and --strides 1 or 2, got {self.channels} "
                f"and {self.strides}",
            ),
        ]

    def mlp(self, x_dim: int) -> MLPConfig:
        """The MLP architecture of this config for images of ``x_dim`` = C·H·W pixels."""
        return MLPConfig(
            x_dim=x_dim,
            hidden=self.hidden,
            latent_dim=self.latent_dim,
            activation=self.activation,
            likelihood=self.likelihood,
            sigma=self.sigma,
        )
