"""The prior p(z) of a torch VAE: the standard normal, or one the model learns (chapter 13).

A prior is a module of the model (its parameters, if any, are the model's and train
with it) that gives what the ELBO, the IWAE and sampling need of p(z):

    log p(z)                  the IWAE's log w = log p(x|z) + log p(z) − log q(z|x) (8.1)
    the KL term of the ELBO    closed form (4.7) where there is one; else, and with
                               --mc-kl, log q(z|x) − log p(z) at the ELBO's own z,
                               an unbiased one-sample estimate (13.2)
    draws z ~ p(z)             ``vae sample``, the samples' figures and judge

``normal`` is N(0, I), the default, with no parameters. ``vamp`` is the VampPrior
(Tomczak & Welling 2018): the mixture of the encoder's posteriors at K learned
pseudo-inputs u_k, shaped like an image,

    (13.1)  p(z) = (1/K) Σ_k q(z | u_k),   log p(z) = logsumexp_k log q(z | u_k) − log K,

so the prior is pulled towards where the codes of the data are (the aggregate posterior
q̄, chapter 13) instead of the codes being pulled towards N(0, I). Its KL has no closed
form, and its dimensions are not independent: the KL comes as one column, not one per
dimension, which is why free bits (per dimension) refuse it. The pseudo-inputs start at
K training images drawn with the run's seed (``start``), are free parameters after
that, and are saved in the checkpoint as ``prior.pseudo_inputs``.

``PRIORS`` is the registry (``--prior``); a mixture of Gaussians with free means, say,
is one more class here with its own ``log_prob`` and ``sample``.
"""

import math
from abc import ABC, abstractmethod
from typing import ClassVar

import torch
from torch import nn

from vae_numpy.run.config import TrainConfig
from vae_numpy.run.errors import VaeError
from vae_torch import gaussian


class Prior(nn.Module, ABC):
    """p(z) over ``latent_dim`` dimensions. ``encoder`` is the model's: a learned prior may
    be made of it (the VampPrior), the standard normal ignores it."""

    name: ClassVar[str]
    factorises: ClassVar[bool]  # p(z) = Π_d p(z_d): a KL per dimension exists
    # why a conditional model cannot take it ("" where it can), said when it is refused
    unconditional_only: ClassVar[str] = ""

    @classmethod
    def build(cls, config: TrainConfig, x_shape: tuple[int, ...]) -> "Prior":
        """The prior ``config`` asks for, for a model taking examples of ``x_shape``."""
        return cls(config.latent_dim)

    def __init__(self, latent_dim: int):
        super().__init__()
        self.latent_dim = latent_dim

    @abstractmethod
    def log_prob(self, z: torch.Tensor, encoder: nn.Module) -> torch.Tensor:
        """log p(z) for z (..., latent): (...)."""

    @abstractmethod
    def log_prob_dims(self, z: torch.Tensor, encoder: nn.Module) -> torch.Tensor:
        """log p_d(z_d) of each coordinate's marginal, for z (..., latent): (..., latent).
        Their sum is ``log_prob`` only where the prior factorises."""

    @abstractmethod
    def sample(
        self,
        n: int,
        encoder: nn.Module,
        generator: torch.Generator | None,
        device: torch.device,
        dtype: torch.dtype,
    ) -> torch.Tensor:
        """n draws z ~ p(z): (n, latent)."""

    def kl_dims(
        self,
        z: torch.Tensor,
        mu: torch.Tensor,
        log_var: torch.Tensor,
        encoder: nn.Module,
        mc: bool = False,
    ) -> torch.Tensor:
        """The ELBO's KL term of each example at its code z ~ q(z|x) = N(μ, diag σ²): (B,
        latent) split by dimension where the prior factorises, else (B, 1). Monte Carlo
        (13.2): log q(z|x) − log p(z) at z."""
        return (gaussian.log_normal(z, mu, log_var) - self.log_prob(z, encoder))[:, None]

    def start(self, x: torch.Tensor, generator: torch.Generator) -> None:
        """Set the prior's parameters from the training images x before the first step."""

    def describe(self) -> str:
        return self.name


PRIORS: dict[str, type[Prior]] = {}


def register_prior(cls: type[Prior]) -> type[Prior]:
    """Make ``cls`` a ``--prior`` choice, by its ``name``."""
    PRIORS[cls.name] = cls
    return cls


@register_prior
class StandardNormal(Prior):
    """N(0, I): no parameters, the KL in closed form (4.7)."""

    name, factorises = "normal", True

    def log_prob(self, z, encoder):
        return gaussian.log_std_normal(z)

    def log_prob_dims(self, z, encoder):
        return -0.5 * (gaussian.LOG_2PI + z * z)

    def sample(self, n, encoder, generator, device, dtype):
        shape = (n, self.latent_dim)
        return torch.randn(shape, generator=generator, device=device, dtype=dtype)

    def kl_dims(self, z, mu, log_var, encoder, mc=False):
        if mc:
            return gaussian.kl_monte_carlo_dims(z, mu, log_var)
        return gaussian.kl_std_normal_dims(mu, log_var)

    def describe(self):
        return "N(0, I)"


@register_prior
class VampPrior(Prior):
    """(13.1) p(z) = (1/K) Σ_k q(z | u_k) over K pseudo-inputs u_k of ``x_shape``."""

    name, factorises = "vamp", False
    unconditional_only = (
        "mixes the encoder's posteriors at pseudo-inputs, and a conditional model's encoder "
        "q(z|x, c) needs a class for each"
    )

    @classmethod
    def build(cls, config, x_shape):
        return cls(config.latent_dim, config.components, x_shape)

    def __init__(self, latent_dim: int, components: int, x_shape: tuple[int, ...]):
        super().__init__(latent_dim)
        self.pseudo_inputs = nn.Parameter(torch.full((components, *x_shape), 0.5))

    @property
    def components(self) -> int:
        return len(self.pseudo_inputs)

    def posteriors(self, encoder: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        """μ_k and log σ_k² of q(z | u_k): (K, latent) each."""
        return encoder(self.pseudo_inputs, None)

    def log_prob(self, z, encoder):
        mu, log_var = self.posteriors(encoder)
        return gaussian.log_mixture_normal(z, mu.to(z.dtype), log_var.to(z.dtype))

    def log_prob_dims(self, z, encoder):
        mu, log_var = self.posteriors(encoder)
        return gaussian.log_mixture_normal_dims(z, mu.to(z.dtype), log_var.to(z.dtype))

    @torch.no_grad()
    def sample(self, n, encoder, generator, device, dtype):
        """A component k uniformly, then z = μ_k + σ_k ε (5.1)."""
        mu, log_var = (t.to(dtype) for t in self.posteriors(encoder))
        k = torch.randint(self.components, (n,), generator=generator, device=device)
        eps = torch.randn(mu[k].shape, generator=generator, device=device, dtype=dtype)
        return gaussian.reparameterize(mu[k], log_var[k], eps)

    @torch.no_grad()
    def start(self, x, generator):
        """u_k = K distinct training images, drawn with ``generator``; with fewer images
        than components, each image in turn."""
        order = torch.randperm(len(x), generator=generator)
        pick = order.repeat(math.ceil(self.components / len(x)))[: self.components]
        self.pseudo_inputs.copy_(x[pick.to(x.device)].reshape(self.pseudo_inputs.shape))

    def describe(self):
        return f"VampPrior, K = {self.components}"


def make_prior(config: TrainConfig, x_shape: tuple[int, ...], conditional: bool) -> Prior:
    """The prior ``config`` names (``--prior``, ``--components``) for a model taking
    examples of ``x_shape`` to ``config.latent_dim`` dimensions; refused, in one line,
    where the model cannot take it."""
    if config.prior not in PRIORS:
        raise VaeError(f"--prior must be one of {', '.join(PRIORS)}, got {config.prior!r}")
    cls = PRIORS[config.prior]
    if conditional and cls.unconditional_only:
        raise VaeError(
            f"--prior {cls.name} {cls.unconditional_only}: use --prior normal with "
            f"--model {config.model}, or an unconditional model"
        )
    return cls.build(config, x_shape)
