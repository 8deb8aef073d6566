"""The architecture of an MLP VAE, shared by both backends.

Layer names are the same in numpy and torch (``encoder.hidden.0.weight``,
``encoder.mu.bias``, ``decoder.out.weight``, ...), so one checkpoint converter
moves a model across (vae_torch.convert).
"""

from dataclasses import dataclass
from itertools import pairwise

from vae_numpy.errors import VaeError

LIKELIHOODS = ("bernoulli", "gaussian")
ACTIVATION_NAMES = ("relu", "tanh", "sigmoid")


@dataclass(frozen=True)
class MLPConfig:
    x_dim: int = 784  # pixels per image, flattened
    hidden: tuple[int, ...] = (400,)  # hidden widths of the encoder; the decoder mirrors them
    latent_dim: int = 20  # size of z
    activation: str = "relu"  # after every hidden layer
    likelihood: str = "bernoulli"  # "bernoulli": decoder outputs logits; "gaussian": means
    sigma: float = 0.1  # the fixed standard deviation of the Gaussian likelihood

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if self.x_dim < 1 or any(h < 1 for h in self.hidden):
            raise VaeError(
                f"layer widths must be positive, got x_dim={self.x_dim}, hidden={self.hidden}"
            )
        if self.latent_dim < 1:
            raise VaeError(f"the latent size must be at least 1, got {self.latent_dim}")
        if self.activation not in ACTIVATION_NAMES:
            raise VaeError(
                f"unknown activation {self.activation!r}; choose one of "
                f"{', '.join(ACTIVATION_NAMES)}"
            )
        if self.likelihood not in LIKELIHOODS:
            raise VaeError(
                f"unknown likelihood {self.likelihood!r}; choose one of {', '.join(LIKELIHOODS)}"
            )
        if not self.sigma > 0:  # also catches NaN
            raise VaeError(f"the Gaussian likelihood's sigma must be positive, got {self.sigma}")

    def layer_shapes(self) -> dict[str, tuple[int, int]]:
        """(in, out) of every Linear layer, by name, in forward order."""
        widths = (self.x_dim, *self.hidden)
        shapes = {f"encoder.hidden.{i}": pair for i, pair in enumerate(pairwise(widths))}
        last = widths[-1]
        shapes["encoder.mu"] = (last, self.latent_dim)
        shapes["encoder.log_var"] = (last, self.latent_dim)
        back = (self.latent_dim, *reversed(self.hidden))
        shapes |= {f"decoder.hidden.{i}": pair for i, pair in enumerate(pairwise(back))}
        shapes["decoder.out"] = (back[-1], self.x_dim)
        return shapes


BACKENDS = ("torch", "numpy")
MODELS = ("mlp", "conv", "cvae", "conv-cvae")  # cvae: conditional MLP; conv-cvae: conditional conv
CONDITIONAL = ("cvae", "conv-cvae")
AMP = ("none", "bf16")
DEFAULT_PIXELS = {"bernoulli": "dynamic-binary", "gaussian": "dequantized"}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; saved as the run's config.json."""

    backend: str = "torch"  # "torch": autograd, CPU or GPU; "numpy": hand-written, MLP only
    model: str = "mlp"  # "mlp", "conv", "cvae" (conditional MLP) or "conv-cvae"
    dataset: str = "fashion-mnist"  # "fashion-mnist", "mnist" or "mnist-5k"
    pixels: str = ""  # grey | static-binary | dynamic-binary | dequantized; "" = likelihood's
    likelihood: str = "bernoulli"
    sigma: float = 0.1  # Gaussian likelihood's fixed standard deviation
    hidden: tuple[int, ...] = (400,)  # fully connected widths (encoder; the decoder mirrors them)
    channels: tuple[int, ...] = (32, 32, 64)  # conv models: channels of each convolution
    strides: tuple[int, ...] = (1, 2, 2)  # conv models: 1 (kernel 3) or 2 (kernel 4) per conv
    latent_dim: int = 20
    activation: str = "relu"
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3  # Adam's step size
    kl_weight: float = 1.0  # β in loss = −log p(x|z) + β KL; 1 is the ELBO
    mc_kl: bool = False  # torch only: one-sample Monte Carlo KL instead of the closed form
    n_val: int | None = None  # held out for validation (seeded); None: a sixth (10,000 of 60,000)
    limit: int | None = None  # train on only this many examples (quick runs)
    seed: int = 0  # initialisation, noise, batch order, validation split
    device: str = "auto"  # torch only: auto | cpu | cuda
    dtype: str = "float32"
    amp: str = "none"  # torch only: "bf16" runs the forward pass under bf16 autocast

    def __post_init__(self):
        for name in ("hidden", "channels", "strides"):
            object.__setattr__(self, name, tuple(int(v) for v in getattr(self, name)))
        if not self.pixels:
            object.__setattr__(self, "pixels", DEFAULT_PIXELS.get(self.likelihood, "grey"))
        checks = [
            (self.backend in BACKENDS, f"--backend must be one of {', '.join(BACKENDS)}"),
            (self.model in MODELS, f"--model must be one of {', '.join(MODELS)}"),
            (
                self.backend != "numpy" or self.model == "mlp",
                "the numpy backend has only the MLP model; use --backend torch for "
                f"--model {self.model}",
            ),
            (self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}"),
            (self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}"),
            (self.lr > 0, f"--lr must be positive, got {self.lr}"),
            (self.kl_weight >= 0, f"--kl-weight must be non-negative, got {self.kl_weight}"),
            (self.dtype in ("float32", "float64"), "--dtype must be float32 or float64"),
            (self.amp in AMP, f"--amp must be one of {', '.join(AMP)}, got {self.amp!r}"),
            (
                self.backend != "numpy" or (self.amp == "none" and not self.mc_kl),
                "--amp and --mc-kl belong to the torch backend; use --backend torch",
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
        for ok, message in checks:
            if not ok:
                raise VaeError(message)
        from vae_numpy.data.pixels import Pixels

        if self.pixels not in set(Pixels):
            raise VaeError(f"--pixels must be one of {', '.join(Pixels)}, got {self.pixels!r}")
        if self.likelihood == "bernoulli" and self.pixels == "dequantized":
            raise VaeError("dequantized pixels need --likelihood gaussian (they are continuous)")
        self.mlp()  # validates the architecture fields

    @property
    def conditional(self) -> bool:
        return self.model in CONDITIONAL

    @property
    def convolutional(self) -> bool:
        return self.model in ("conv", "conv-cvae")

    def mlp(self) -> MLPConfig:
        return MLPConfig(
            hidden=self.hidden,
            latent_dim=self.latent_dim,
            activation=self.activation,
            likelihood=self.likelihood,
            sigma=self.sigma,
        )
