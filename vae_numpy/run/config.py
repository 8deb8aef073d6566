"""What defines a training run: ``TrainConfig``, saved as the run's config.json.

The ``vae train`` flags are made from its fields: the default and the help text
come from here and, for a field backed by a registry (models, likelihoods,
datasets), the choices from the registry; none is retyped in the command line.
A likelihood's own parameters (the Gaussian's σ) are declared by the likelihood
(``vae_numpy.likelihoods.Parameter``), given as flags of their own names, and kept
in ``likelihood_params``; the run's record writes them as flat keys after the
likelihood's name, as it always has.
"""

import dataclasses
from dataclasses import dataclass, field

from vae_numpy.architecture import MLPConfig
from vae_numpy.data.pixels import Pixels
from vae_numpy.likelihoods import LIKELIHOODS, likelihood_class, sort_parameters
from vae_numpy.run.errors import VaeError

OBJECTIVES = ("elbo", "iwae", "iwae-dreg")
BACKENDS = ("torch", "numpy")
AMP = ("none", "bf16")
LR_SCHEDULES = ("constant", "cosine")
DTYPES = ("float32", "float64")
VAMP_COMPONENTS = 500  # Tomczak & Welling's K for MNIST


def option(
    default, help: str, registry: str | None = None, torch_only: bool = False, term: bool = False
):
    """A TrainConfig field with its command-line help; ``registry`` names where its
    choices come from (listed by the CLI). ``torch_only``: the numpy backend refuses it
    away from its default; ``term``: it changes the ELBO's terms (an objective term of
    vae_torch.objectives, or β), so the IWAE objective refuses it too."""
    metadata = {"help": help, "registry": registry, "torch_only": torch_only, "term": term}
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Option:
    """A training option that an extension registers (the weight of an objective term of
    its own): a number with a default that switches it off. It becomes a ``vae train``
    flag, a key of the run's record and an entry of ``TrainConfig.options``; its
    ``torch_only`` and ``term`` say what ``option``'s metadata says of a field."""

    name: str
    default: float
    help: str
    torch_only: bool = True
    term: bool = True
    minimum: float = 0.0

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


OPTIONS: dict[str, Option] = {}


def register_option(entry: Option) -> Option:
    """Make ``entry`` an option of every TrainConfig, and a flag of ``vae train``."""
    OPTIONS[entry.name] = entry
    return entry


def flag_list(flags: list[str]) -> str:
    """--a; --a and --b; --a, --b and --c."""
    return " and ".join([", ".join(flags[:-1]), flags[-1]] if len(flags) > 1 else flags)


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
    likelihood_params: dict[str, float] = field(
        default_factory=dict,
        metadata={"help": "the likelihood's own parameters, by name", "registry": None},
    )
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
        0.0,
        "torch: AdamW's decoupled weight decay (0: plain Adam), against overfitting",
        torch_only=True,
    )
    lr_schedule: str = option(
        "constant",
        "torch: constant; cosine, the step size falling from --lr to 0 over the run's steps "
        "on half a cosine (Loshchilov & Hutter 2017)",
        torch_only=True,
    )
    objective: str = option(
        "elbo",
        "torch: elbo; iwae, the k-sample bound (8.1); iwae-dreg, the same with the doubly "
        "reparameterised gradient",
        torch_only=True,
    )
    k: int = option(1, "torch: importance samples per example of the iwae objectives")
    kl_weight: float = option(1.0, "beta in -log p(x|z) + beta KL; 1 is the ELBO", term=True)
    warmup: int = option(
        0,
        "torch: KL warm-up, beta rising linearly from 0 to --kl-weight over this many epochs",
        torch_only=True,
        term=True,
    )
    free_bits: float = option(
        0.0,
        "torch: free bits, each latent dimension's batch-average KL floored at this (nats)",
        torch_only=True,
        term=True,
    )
    mmd: float = option(
        0.0,
        "torch: λ of an MMD penalty, training on −ELBO + λ MMD² between the batch's codes "
        "and as many draws of N(0, I) (12.3); 0 is the ELBO",
        torch_only=True,
        term=True,
    )
    mc_kl: bool = option(
        False,
        "torch: a one-sample Monte Carlo KL instead of the closed form",
        torch_only=True,
        term=True,
    )
    prior: str = option(
        "normal",
        "torch: p(z); normal is N(0, I), vamp the VampPrior (13.1), a mixture of the "
        "encoder's posteriors at --components learned pseudo-inputs",
        registry="priors",
        torch_only=True,
    )
    components: int = option(
        VAMP_COMPONENTS, "torch: K, the pseudo-inputs of --prior vamp", torch_only=True
    )
    autoregressive: int | None = option(
        None,
        "torch, Bernoulli: each pixel's logit also takes the pixels before it (3.14), "
        "through a MADE with this many hidden units (0: direct connections alone)",
        torch_only=True,
    )
    context: int | None = option(
        None,
        "torch: with --autoregressive, each pixel's logit takes only the last CONTEXT pixels "
        "before it in raster order (28 is a row of MNIST); default: all of them",
        torch_only=True,
    )
    n_val: int | None = option(None, "training examples held out for validation; a sixth")
    limit: int | None = option(None, "train on a seeded random subset of this many examples")
    shift: int = option(
        0,
        "torch: move each training image by up to this many pixels per axis, every epoch",
        torch_only=True,
    )
    seed: int = option(0, "initialisation, noise, batch order, validation split")
    device: str = option("auto", "torch: auto (CUDA when present), cpu or cuda")
    dtype: str = option("float32", "float32 or float64")
    amp: str = option(
        "none", "torch: bf16 runs the forward pass under bfloat16 autocast", torch_only=True
    )
    options: dict[str, float] = field(
        default_factory=dict,
        metadata={"help": "the registered options (OPTIONS) by name", "registry": None},
    )

    def __post_init__(self):
        for name in ("hidden", "channels", "strides"):
            object.__setattr__(self, name, tuple(int(v) for v in getattr(self, name)))
        if self.likelihood not in LIKELIHOODS:
            raise VaeError(
                f"--likelihood must be one of {', '.join(LIKELIHOODS)}, got {self.likelihood!r}"
            )
        kind = likelihood_class(self.likelihood)
        # an unknown parameter or a bad value raises; the defaults are filled in
        object.__setattr__(self, "likelihood_params", kind(**self.likelihood_params).params())
        object.__setattr__(self, "options", checked_options(self.options))
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

    def changed(self, kind: str) -> list[str]:
        """The flags of the fields and registered options marked ``kind`` (torch_only,
        term) that are set away from their defaults."""
        fields = [
            "--" + f.name.replace("_", "-")
            for f in dataclasses.fields(self)
            if f.metadata.get(kind) and getattr(self, f.name) != f.default
        ]
        options = [
            OPTIONS[name].flag
            for name, value in self.options.items()
            if getattr(OPTIONS[name], kind) and value != OPTIONS[name].default
        ]
        return fields + options

    def value(self, name: str):
        """The field ``name``, or the registered option of that name."""
        return self.options[name] if name in OPTIONS else getattr(self, name)

    def _checks(self) -> list[tuple[bool, str]]:
        torch_only, terms = self.changed("torch_only"), self.changed("term")
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
                self.backend != "numpy" or not torch_only,
                f"{flag_list(torch_only)} belong{'s' * (len(torch_only) == 1)} to the torch "
                "backend; use --backend torch",
            ),
            (self.kl_weight >= 0, f"--kl-weight must be non-negative, got {self.kl_weight}"),
            (self.dtype in DTYPES, "--dtype must be float32 or float64"),
            (self.amp in AMP, f"--amp must be one of {', '.join(AMP)}, got {self.amp!r}"),
            (self.shift >= 0, f"--shift must be a number of pixels >= 0, got {self.shift}"),
            (
                0 <= self.warmup <= self.epochs,
                f"--warmup must lie in 0..--epochs ({self.epochs}) epochs, got {self.warmup}; "
                "a warm-up longer than the run never reaches the ELBO",
            ),
            (self.free_bits >= 0, f"--free-bits must be >= 0 nats, got {self.free_bits}"),
            (self.mmd >= 0, f"--mmd must be a weight >= 0, got {self.mmd}"),
            (self.components >= 1, f"--components must be at least 1, got {self.components}"),
            (
                self.prior != "normal" or self.components == VAMP_COMPONENTS,
                "--components counts the VampPrior's pseudo-inputs; add --prior vamp",
            ),
            (
                self.prior == "normal" or not (self.free_bits or self.mmd),
                f"--free-bits floors a KL per dimension, which --prior {self.prior} (not a "
                "product over dimensions) does not have, and --mmd pulls the codes to N(0, I), "
                "not to a learned prior: drop them, or use --prior normal",
            ),
            (
                self.autoregressive is None or self.autoregressive >= 0,
                f"--autoregressive counts hidden units, >= 0, got {self.autoregressive}",
            ),
            (
                self.autoregressive is None or self.likelihood == "bernoulli",
                "--autoregressive adds the pixels before each pixel to its Bernoulli logit; "
                f"--likelihood {self.likelihood} has no such logit: use --likelihood bernoulli",
            ),
            (
                self.context is None or (self.autoregressive is not None and self.context >= 1),
                f"--context counts the pixels before each pixel that --autoregressive lets its "
                f"logit take, >= 1; got --context {self.context} with --autoregressive "
                f"{self.autoregressive}",
            ),
            (
                self.lr_schedule in LR_SCHEDULES,
                f"--lr-schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}",
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
                self.objective == "elbo" or not terms,
                f"{flag_list(terms)} change{'s' * (len(terms) == 1)} the ELBO's terms; the IWAE "
                f"objective has none: drop {'it' if len(terms) == 1 else 'them'} or use "
                "--objective elbo",
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

    @classmethod
    def from_flags(cls, **flags) -> "TrainConfig":
        """The config of ``vae train``'s flags or a recipe: the likelihood's parameters
        among them by name (``sigma=0.05``); one of another likelihood is refused."""
        rest, params = sort_parameters(flags.get("likelihood", "bernoulli"), flags, strict=True)
        rest, options = sort_options(rest)
        return cls(**rest, likelihood_params=params, options=options)

    @classmethod
    def from_record(cls, record: dict) -> "TrainConfig":
        """The config of a run's saved record (``record()``); a parameter of another
        likelihood, which older records kept for every run (σ), is dropped."""
        name = record.get("likelihood", "bernoulli")
        rest, params = sort_parameters(name, record, strict=False)
        rest, options = sort_options(rest)
        return cls(**rest, likelihood_params=params, options=options)

    def record(self) -> dict:
        """Its fields as plain JSON values, the likelihood's parameters flat after its name."""
        record = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("likelihood_params", "options"):
                record |= value
            else:
                record[f.name] = list(value) if isinstance(value, tuple) else value
        return record

    def mlp(self, x_dim: int) -> MLPConfig:
        """The MLP architecture of this config for images of ``x_dim`` = C·H·W pixels."""
        return MLPConfig(
            x_dim=x_dim,
            hidden=self.hidden,
            latent_dim=self.latent_dim,
            activation=self.activation,
            likelihood=self.likelihood,
            likelihood_params=self.likelihood_params,
        )


def sort_options(flat: dict) -> tuple[dict, dict[str, float]]:
    """Split flags or a record into the rest and the registered options among them."""
    rest = {key: value for key, value in flat.items() if key not in OPTIONS}
    return rest, {key: value for key, value in flat.items() if key in OPTIONS}


def checked_options(given: dict) -> dict[str, float]:
    """Every registered option's value: the given one, checked, or its default."""
    if unknown := sorted(set(given) - set(OPTIONS)):
        raise VaeError(f"unknown option {', '.join(unknown)}; registered: {', '.join(OPTIONS)}")
    values = {}
    for name, entry in OPTIONS.items():
        value = given.get(name, entry.default)
        if not (isinstance(value, int | float) and value >= entry.minimum):
            raise VaeError(f"{entry.flag} must be a number >= {entry.minimum:g}, got {value!r}")
        values[name] = value
    return values
