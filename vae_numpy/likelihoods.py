"""The decoder's likelihoods p(x|z), each one registered object (chapter 3).

    (3.2) Bernoulli from logits ℓ:  log p(x|z) = Σ_d [x_d ℓ_d − softplus(ℓ_d)]
    (6.3) its gradient:             ∂(−log p)/∂ℓ = sigmoid(ℓ) − x
    (3.4) Gaussian, fixed σ:        log p(x|z) = −‖x − x̂‖²/(2σ²) − (D/2) log(2πσ²)
    (6.4) its gradient:             ∂(−log p)/∂x̂ = (x̂ − x) / σ²

verified by the elbo_math checks likelihood.bernoulli_logits, grad.bernoulli_logits,
likelihood.gaussian_is_scaled_sse and grad.gaussian_mean.

softplus(ℓ) = log(1 + e^ℓ) = max(ℓ, 0) + log1p(e^{−|ℓ|}) is finite for any ℓ, so the
Bernoulli term never takes the log of a sigmoid that rounded to 0 or 1.

A ``Likelihood`` is everything the reference knows of one p(x|z): its log-density, its
gradient and its mean image in numpy, its own parameters (``Parameter``: σ of the
Gaussian), which pixel views it is a likelihood of, and how its nats become bits per
dimension. ``@register`` makes a subclass a ``--likelihood`` choice; no code branches
on a name. The production backend completes each entry with its torch half, registered
under the same name in ``vae_torch.likelihoods``; this module never imports torch.

One rule for the formulas written twice (here in numpy, there in torch): the numpy
function is the reference, cited by its equation; the torch one cites the same
equation, imports its constants (series coefficients, floors) from here, and a
cross-check in ``tests/crosscheck`` holds the two equal on the same inputs.
"""

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from vae_numpy.data.pixels import Pixels
from vae_numpy.gaussian import LOG_2PI
from vae_numpy.layers import sigmoid, softplus
from vae_numpy.run.errors import VaeError


def bernoulli_log_likelihood(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """(3.2) (B, D), (B, D) -> (B,)."""
    return np.sum(x * logits - softplus(logits), axis=-1)


def bernoulli_grad(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """(6.3) ∂(−log p(x|z))/∂ℓ, elementwise."""
    return sigmoid(logits) - x


def gaussian_log_likelihood(x: np.ndarray, mean: np.ndarray, sigma: float) -> np.ndarray:
    """(3.4) (B, D), (B, D) -> (B,), the constant kept: a density in nats."""
    d = x.shape[-1]
    return -np.sum((x - mean) ** 2, axis=-1) / (2 * sigma**2) - 0.5 * d * (
        LOG_2PI + 2 * np.log(sigma)
    )


def gaussian_grad(x: np.ndarray, mean: np.ndarray, sigma: float) -> np.ndarray:
    """(6.4) ∂(−log p(x|z))/∂x̂, elementwise."""
    return (mean - x) / sigma**2


# The continuous Bernoulli (3.7)-(3.9), from the decoder's logit η, with the series that
# elbo_math verifies where the closed forms fail: log C below |η| = 0.01 (0/0 at η = 0),
# the mean below |η| = 1 (−1/η + 1/sinh η cancels); each series' error there < 1e-12.
CB_LOG_C_SERIES_BELOW, CB_MEAN_SERIES_BELOW = 0.01, 1.0
CB_LOG_C = (math.log(2), 1 / 12, -7 / 1440, 31 / 90720, -127 / 4838400)  # × η^0, η^2, ..., η^8
CB_MEAN = (
    1 / 2,
    1 / 12,
    -1 / 720,
    1 / 30240,
    -1 / 1209600,
    1 / 47900160,
    -691 / 1307674368000,
    1 / 74724249600,
)  # × η^0, η^1, η^3, ..., η^13


def cb_log_normaliser(eta: np.ndarray) -> np.ndarray:
    """(3.7), (3.8) log C(η) = log(η / tanh(η/2)), even in η: for |η| = a >= 0.01,
    log a − log tanh(a/2) with log tanh(a/2) = log(−expm1(−a)) − log1p(e^−a)."""
    a = np.abs(eta)
    big = np.maximum(a, CB_LOG_C_SERIES_BELOW)
    closed = np.log(big) - np.log(-np.expm1(-big)) + np.log1p(np.exp(-big))
    e2 = a * a
    series = sum(c * e2**i for i, c in enumerate(CB_LOG_C))
    return np.where(a < CB_LOG_C_SERIES_BELOW, series, closed)


def cb_mean(eta: np.ndarray) -> np.ndarray:
    """(3.9) E[x] = sigmoid(η) − 1/η + 1/sinh(η), with E(−η) = 1 − E(η); for a = |η| >= 1,
    1/sinh(a) = 2e^−a / (1 − e^−2a), which never overflows."""
    a = np.abs(eta)
    big = np.maximum(a, CB_MEAN_SERIES_BELOW)
    closed = sigmoid(big) - 1 / big - 2 * np.exp(-big) / np.expm1(-2 * big)
    odd = 0.5 + sum(c * a ** (2 * i - 1) for i, c in enumerate(CB_MEAN) if i)
    upper = np.where(a < CB_MEAN_SERIES_BELOW, odd, closed)  # E at |η|
    return np.where(eta < 0, 1 - upper, upper)


def cb_log_likelihood(x: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """(3.7) (B, D), (B, D) -> (B,): the Bernoulli form (3.2) plus log C(η)."""
    return np.sum(x * eta - softplus(eta) + cb_log_normaliser(eta), axis=-1)


def cb_grad(x: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """(3.9) ∂(−log p(x|z))/∂η = E[x] − x, elementwise."""
    return cb_mean(eta) - x


# The discretised logistic (3.10)-(3.13) of 8-bit values k = 255 x: the decoder gives a
# mean μ on [−1, 1] and a log-scale ℓ per pixel, ``out`` = [μ, ℓ] along the last axis.
# The scale is s = e^max(ℓ, −7), the floor of PixelCNN++: it keeps 1/s finite in float32
# (e^88 overflows); at s = e^−7 a bin centred on μ still has mass tanh(255^−1 e^7 / 2) = 0.97.
DL_HALF_BIN = 1 / 255  # half a bin's width on [−1, 1]
DL_LOG_SCALE_MIN = -7.0


def dl_split(out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[μ, ℓ] (..., 2D) -> μ, ℓ, each (..., D)."""
    d = out.shape[-1] // 2
    return out[..., :d], out[..., d:]


def dl_terms(x, out, backend=np):
    """(a, b, δ = a − b, lower edge, upper edge) of (3.12) for grey levels x = k/255."""
    d = out.shape[-1] // 2
    mu, log_s = out[..., :d], out[..., d:]
    inv_s = backend.exp(-backend.clip(log_s, DL_LOG_SCALE_MIN, None))
    centred = 2 * x - 1 - mu
    a, b = (centred + DL_HALF_BIN) * inv_s, (centred - DL_HALF_BIN) * inv_s
    k = backend.round(x * 255)
    return a, b, 2 * DL_HALF_BIN * inv_s, k <= 0, k >= 255


def dl_log_likelihood(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """(3.10) in the stable form (3.12): (B, D), (B, 2D) -> (B,). The lower edge bin keeps
    log sigmoid(a), the upper log sigmoid(−b), the interior all three terms."""
    a, b, delta, lower, upper = dl_terms(x, out)
    with np.errstate(divide="ignore"):  # s beyond e^700: δ = 0, an honest log 0 = −inf
        width = np.log(-np.expm1(-delta))
    log_p = (
        np.where(upper, 0.0, -softplus(-a))
        + np.where(lower, 0.0, -softplus(b))
        + np.where(lower | upper, 0.0, width)
    )
    return np.sum(log_p, axis=-1)


def dl_grad(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """∂(−log p(x|z))/∂[μ, ℓ] of (3.12), elementwise, with s = e^ℓ:
    ∂ log p/∂μ = (sigmoid(b) − sigmoid(−a)) / s  and
    ∂ log p/∂ℓ = b sigmoid(b) − a sigmoid(−a) − δ/(e^δ − 1)  (0 below the floor),
    each term dropped where its factor of (3.12) is (the edges)."""
    a, b, delta, lower, upper = dl_terms(x, out)
    floored = dl_split(out)[1] < DL_LOG_SCALE_MIN  # s does not move with ℓ there
    up_a = np.where(upper, 0.0, sigmoid(-a))  # ∂/∂a of log sigmoid(a)
    down_b = np.where(lower, 0.0, sigmoid(b))  # −∂/∂b of log sigmoid(−b)
    # δ/(e^δ − 1) = δ e^−δ / (1 − e^−δ): no overflow for large δ; its limit 1 at δ = 0
    delta = np.maximum(delta, np.finfo(delta.dtype).tiny)
    width = np.where(lower | upper, 0.0, delta * np.exp(-delta) / -np.expm1(-delta))
    d_mu = (down_b - up_a) * np.exp(-np.maximum(dl_split(out)[1], DL_LOG_SCALE_MIN))
    d_log_s = np.where(floored, 0.0, b * down_b - a * up_a - width)
    return -np.concatenate(np.broadcast_arrays(d_mu, d_log_s), axis=-1)


def dl_mean(out: np.ndarray) -> np.ndarray:
    """(3.13) E[k/255] = (1/255) Σ_{j=1}^{255} sigmoid((μ − t_j)/s): (..., 2D) -> (..., D)."""
    mu, log_s = dl_split(out)
    inv_s = np.exp(-np.maximum(log_s, DL_LOG_SCALE_MIN))
    total = np.zeros_like(mu)
    for j in range(1, 256):
        total += sigmoid((mu - (2 * j - 1) / 255 + 1) * inv_s)
    return total / 255


@dataclass(frozen=True)
class Parameter:
    """A likelihood's own parameter, such as the Gaussian's σ: a positive number with a
    default. Its name is the ``vae train`` flag (``--sigma``), the key under which runs
    record it and the attribute of the likelihood that holds it."""

    name: str
    default: float
    help: str
    symbol: str = ""  # how tables show it (σ); its name where empty

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def value(self, given: float | None) -> float:
        """``given`` (None: the default), checked: a positive, finite number."""
        value = self.default if given is None else given
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise VaeError(f"{self.flag} must be positive, got {value!r}")
        return float(value)


class Likelihood(ABC):
    """p(x|z) given the decoder's output ``out``; x and out are (..., D) arrays, summed
    over the last axis. Subclasses set the class attributes and implement the abstract
    methods; a likelihood with parameters declares them in ``parameters`` and finds
    them as attributes of the same names."""

    name: ClassVar[str]
    check: ClassVar[str]  # the elbo_math check its log-density implements
    pixels: ClassVar[tuple[Pixels, ...]]  # the views of the data it accepts
    default_pixels: ClassVar[Pixels]
    pixels_note: ClassVar[str]  # why the other views are refused
    outputs: ClassVar[int] = 1  # decoder outputs per pixel, stacked: [all firsts, all seconds]
    parameters: ClassVar[tuple[Parameter, ...]] = ()

    def __init__(self, **values: float):
        if unknown := sorted(set(values) - {p.name for p in self.parameters}):
            raise VaeError(
                f"{', '.join(f'--{u}' for u in unknown)}: the {self.name} likelihood has no "
                f"such parameter{parameter_list(self.parameters)}"
            )
        for p in self.parameters:
            setattr(self, p.name, p.value(values.get(p.name)))

    def params(self) -> dict[str, float]:
        """Its parameters by name, as runs record them and comparisons require equal."""
        return {p.name: getattr(self, p.name) for p in self.parameters}

    @abstractmethod
    def log_prob(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """log p(x|z) per example: (..., D), (..., outputs·D) -> (...)."""

    @abstractmethod
    def grad(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """∂(−log p(x|z))/∂out, elementwise."""

    @abstractmethod
    def mean(self, out: np.ndarray) -> np.ndarray:
        """E[x|z] from the decoder's output: (..., outputs·D) -> (..., D)."""

    # data and units
    def input_error(self, low: float, high: float) -> str | None:
        """What is wrong with data whose values span [low, high], or None."""
        return None

    def bits_per_dim(self, nats: float, pixels: Pixels, dims: int) -> float | None:
        """−log p(x) in nats per example -> bits per dimension; None where the number
        is no likelihood of the images (``no_bits_note`` says why)."""
        return None

    def no_bits_note(self, pixels: Pixels) -> str:
        return f"bits/dim n/a: the {self.name} likelihood of {pixels} pixels is no likelihood"

    def __eq__(self, other) -> bool:
        return self.name == getattr(other, "name", None) and self.params() == other.params()

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.params().items()))))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


def parameter_list(parameters: tuple[Parameter, ...]) -> str:
    """ "; its parameters: --a, --b" for a message, or "" where there are none."""
    if not parameters:
        return "; it has none"
    return "; its parameters: " + ", ".join(p.flag for p in parameters)


def outside_unit_interval(low: float, high: float, needs: str) -> str | None:
    """``Likelihood.input_error`` of a likelihood of values in [0, 1]."""
    if low < 0 or high > 1:
        return f"{needs}; got values from {low:g} to {high:g} (divide by 255?)"
    return None


LIKELIHOODS: dict[str, type[Likelihood]] = {}


def register(cls: type[Likelihood]) -> type[Likelihood]:
    """Make ``cls`` a likelihood the package knows, by ``cls.name``."""
    LIKELIHOODS[cls.name] = cls
    return cls


def likelihood_class(name: str) -> type[Likelihood]:
    try:
        return LIKELIHOODS[name]
    except KeyError:
        raise VaeError(
            f"unknown likelihood {name!r}; choose one of {', '.join(LIKELIHOODS)}"
        ) from None


def make_likelihood(config) -> Likelihood:
    """The likelihood that a TrainConfig or MLPConfig names, with its parameters."""
    return likelihood_class(config.likelihood)(**config.likelihood_params)


def all_parameters() -> dict[str, Parameter]:
    """Every registered likelihood's parameters by name: the flags of ``vae train``."""
    found: dict[str, Parameter] = {}
    for cls in LIKELIHOODS.values():
        for p in cls.parameters:
            found.setdefault(p.name, p)
    return found


def sort_parameters(name: str, flat: dict, strict: bool) -> tuple[dict, dict[str, float]]:
    """Split a flat mapping (flags, a recipe, a saved record) into the rest and the
    parameters of likelihood ``name``. A parameter of another likelihood is refused when
    ``strict`` (a flag the user gave) and dropped otherwise (an old record's σ)."""
    known = all_parameters()
    rest = {key: value for key, value in flat.items() if key not in known}
    given = {key: value for key, value in flat.items() if key in known}
    if name not in LIKELIHOODS:  # the config says what is wrong with the name
        return rest, given
    mine = {p.name for p in likelihood_class(name).parameters}
    if strict and (foreign := sorted(set(given) - mine)):
        owners = sorted(
            {cls.name for cls in LIKELIHOODS.values() for p in cls.parameters if p.name in foreign}
        )
        raise VaeError(
            f"{', '.join(known[f].flag for f in foreign)} belongs to --likelihood "
            f"{' or '.join(owners)}, not {name}{parameter_list(likelihood_class(name).parameters)}"
        )
    return rest, {key: value for key, value in given.items() if key in mine}


@register
class Bernoulli(Likelihood):
    """The decoder outputs logits ℓ; exact for binary pixels, the "BCE loss" for grey ones."""

    name = "bernoulli"
    check = "likelihood.bernoulli_logits"
    pixels = (Pixels.GREY, Pixels.STATIC_BINARY, Pixels.DYNAMIC_BINARY)
    default_pixels = Pixels.DYNAMIC_BINARY
    pixels_note = "dequantized pixels are continuous; use --likelihood gaussian"

    def log_prob(self, x, out):
        return bernoulli_log_likelihood(x, out)  # (3.2)

    def grad(self, x, out):
        return bernoulli_grad(x, out)  # (6.3)

    def mean(self, out):
        return sigmoid(out)

    def input_error(self, low, high):
        return outside_unit_interval(low, high, "the Bernoulli likelihood needs pixels in [0, 1]")

    def bits_per_dim(self, nats, pixels, dims):
        """Binary pixels: a probability of the image, nats / (D ln 2)."""
        if Pixels(pixels) in (Pixels.STATIC_BINARY, Pixels.DYNAMIC_BINARY):
            return nats / (dims * math.log(2))
        return None

    def no_bits_note(self, pixels):
        return (
            "bits/dim n/a: a Bernoulli likelihood of grey levels (the BCE convention) is not a "
            "distribution over images; train on binarized pixels for a likelihood"
        )


@register
class ContinuousBernoulli(Likelihood):
    """The decoder outputs logits η; a density on [0, 1] for grey levels (3.7), where the
    Bernoulli is only the "BCE loss" (Loaiza-Ganem & Cunningham 2019). Its mean (3.9) is
    not sigmoid(η)."""

    name = "continuous-bernoulli"
    check = "likelihood.continuous_bernoulli"
    pixels = (Pixels.GREY, Pixels.DEQUANTIZED)
    default_pixels = Pixels.GREY
    pixels_note = "binary pixels have the exact Bernoulli likelihood; use --likelihood bernoulli"

    def log_prob(self, x, out):
        return cb_log_likelihood(x, out)  # (3.7)

    def grad(self, x, out):
        return cb_grad(x, out)  # (3.9)

    def mean(self, out):
        return cb_mean(out)

    def input_error(self, low, high):
        return outside_unit_interval(low, high, "the continuous Bernoulli is a density on [0, 1]")

    def bits_per_dim(self, nats, pixels, dims):
        """Dequantized pixels: as for any density on [0, 1)^D, nats / (D ln 2) + 8 (3.6)."""
        if Pixels(pixels) is Pixels.DEQUANTIZED:
            return nats / (dims * math.log(2)) + 8
        return None

    def no_bits_note(self, pixels):
        return (
            "bits/dim n/a: a density of grey levels, in nats, but no probability of the 8-bit "
            "images; train on dequantized pixels for bits per pixel"
        )


@register
class Gaussian(Likelihood):
    """The decoder outputs the mean x̂; σ is fixed. A density: for dequantized pixels a
    bound on the probability of the 8-bit image; binarized pixels are refused (a density
    at 0 and 1 is no likelihood of them, and its nats would pass for one)."""

    name = "gaussian"
    check = "likelihood.gaussian_is_scaled_sse"
    pixels = (Pixels.GREY, Pixels.DEQUANTIZED)
    default_pixels = Pixels.DEQUANTIZED
    pixels_note = (
        "a Gaussian is a density on the real line, no likelihood of pixels that are 0 or 1; "
        "use --likelihood bernoulli (exact for binarized pixels), or --pixels dequantized"
    )

    parameters = (
        Parameter("sigma", 0.1, "the Gaussian likelihood's fixed standard deviation", "σ"),
    )
    sigma: float

    def log_prob(self, x, out):
        return gaussian_log_likelihood(x, out, self.sigma)  # (3.4)

    def grad(self, x, out):
        return gaussian_grad(x, out, self.sigma)  # (6.4)

    def mean(self, out):
        return out

    def bits_per_dim(self, nats, pixels, dims):
        """Dequantized pixels y = (x + u)/256 have a density on [0, 1)^D; the probability
        of the 8-bit image is at least exp(ELBO − D ln 256), so bits/dim =
        nats / (D ln 2) + 8 (3.6, likelihood.dequantized_bits_per_dim)."""
        if Pixels(pixels) is Pixels.DEQUANTIZED:
            return nats / (dims * math.log(2)) + 8
        return None

    def no_bits_note(self, pixels):
        return (
            f"bits/dim n/a: a Gaussian density of {pixels} pixels is no probability of the "
            "images; train on dequantized pixels for a likelihood"
        )


@register
class DiscretizedLogistic(Likelihood):
    """The decoder outputs a mean μ on [−1, 1] and a log-scale ℓ for every pixel; each 8-bit
    value gets the logistic's mass of its bin, the edge bins open (3.10): a probability of
    the 8-bit image, grey or colour (Salimans et al. 2017), in the stable form (3.12). Its
    mean (3.13) is not (μ + 1)/2 near the edges."""

    name = "discretized-logistic"
    check = "likelihood.discretized_logistic"
    pixels = (Pixels.GREY,)
    default_pixels = Pixels.GREY
    pixels_note = "it is a distribution over the 8-bit values themselves, u/255: use --pixels grey"
    outputs = 2

    def log_prob(self, x, out):
        return dl_log_likelihood(x, out)  # (3.10), (3.12)

    def grad(self, x, out):
        return dl_grad(x, out)

    def mean(self, out):
        return dl_mean(out)  # (3.13)

    def input_error(self, low, high):
        return outside_unit_interval(
            low, high, "the discretised logistic takes 8-bit values as grey levels u/255 in [0, 1]"
        )

    def bits_per_dim(self, nats, pixels, dims):
        """A probability of the 8-bit image: nats / (D ln 2), grey or colour."""
        if Pixels(pixels) is Pixels.GREY:
            return nats / (dims * math.log(2))
        return None
