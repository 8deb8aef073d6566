"""What the latent space of a trained model is used for (chapter 8).

Over a set of N images with posteriors q(z | x_n) = N(μ_n, diag σ_n²):

- KL per dimension: (1/N) Σ_n ½ (μ_nd² + σ_nd² − 1 − log σ_nd²), (4.7) split by
  dimension; their sum is the ELBO's average KL term.
- active units (Burda et al. 2016): dimension d is active when Cov_x E_q[z_d], the
  variance of μ_nd over the images, exceeds 0.01; an inactive one is ignored by the
  encoder (its posterior is the same for every image) and so by the decoder.
- ELBO surgery (8.6): average KL = I_q(n; z) + KL(q̄ ‖ p) with q̄ = (1/N) Σ_n q(z | x_n).
  KL(q̄ ‖ p) = E_q̄[log q̄(z) − log p(z)] is estimated by Monte Carlo from M draws
  z ~ q̄ (an image at random, then its posterior), log q̄(z) computed exactly as the
  logsumexp over all N posteriors minus log N; the mutual information is the rest,
  and is at most log N. Both come with the standard error of the Monte Carlo mean.

Against a learned prior that does not factorise (the VampPrior, ``vae_torch.priors``)
there is no closed form: on the same draws, the average KL is the mean of
log q(z | x_n) − log p(z), I_q(n; z) the mean of log q(z | x_n) − log q̄(z) (each term at
most log N), and a dimension's KL is against the prior's marginal in that dimension,
log q(z_d | x_n) − log p_d(z_d); those no longer add up to the average KL.
"""

import math
from dataclasses import asdict, dataclass, fields

import torch

from vae_numpy.run.errors import VaeError
from vae_torch import gaussian
from vae_torch.models import VAE
from vae_torch.quality.estimate import Estimate

ACTIVE = 0.01  # Burda et al.'s threshold on Cov_x E_q[z_d]
SURGERY_DRAWS = 2000  # Monte Carlo draws of z ~ q̄
SEED = 0


@torch.no_grad()
def posteriors(
    model: VAE, x: torch.Tensor, c: torch.Tensor | None = None, batch: int = 1000
) -> tuple[torch.Tensor, torch.Tensor]:
    """μ and log σ² of q(z | x_n) for every image, float64: (N, latent) each."""
    model.check_input(x, c)
    parts = [
        model.encoder(x[i : i + batch], model.one_hot(None if c is None else c[i : i + batch]))
        for i in range(0, len(x), batch)
    ]
    if not parts:
        raise VaeError("latent diagnostics need at least one image")
    return tuple(torch.cat([p[j] for p in parts]).double() for j in (0, 1))


@dataclass(frozen=True)
class LatentDiagnostics:
    """What the latent space is used for over a set of images (module docstring); its JSON
    (``json``, read back by ``from_json``) is the ``latent`` record of an evaluation."""

    images: int
    kl_per_dim: list[float]  # (1/N) Σ_n KL(q(z_d | x_n) ‖ p(z_d)), by dimension
    activity: list[float]  # Cov_x E_q[z_d], by dimension
    active_units: int
    active_threshold: float
    average_kl: float  # (1/N) Σ_n KL(q(z | x_n) ‖ p(z)): the sum of kl_per_dim under N(0, I)
    marginal_kl: Estimate  # KL(q̄ ‖ p), Monte Carlo
    mutual_information: Estimate  # I_q(n; z) = average KL − KL(q̄ ‖ p)
    mutual_information_bound: float  # log N
    surgery_draws: int

    def json(self) -> dict:
        return asdict(self) | {
            "marginal_kl": self.marginal_kl.json(),
            "mutual_information": self.mutual_information.json(),
        }

    @classmethod
    def from_json(cls, record: dict) -> "LatentDiagnostics":
        values = {f.name: record[f.name] for f in fields(cls)}
        estimates = {k: Estimate.of(values[k]) for k in ("marginal_kl", "mutual_information")}
        return cls(**values | estimates)

    @property
    def saturated(self) -> bool:
        """I_q(n; z) within two standard errors of its bound log N: each image's code
        picks it out among the N (the posteriors barely overlap)."""
        mi = self.mutual_information
        return mi.value + 2 * mi.standard_error >= self.mutual_information_bound

    def line(self) -> str:
        """One line of ``vae evaluate``'s table."""
        full = "; at its bound, each image's code tells it from the other N − 1"
        return (
            f"latent: {self.active_units} of {len(self.kl_per_dim)} dimensions active "
            f"(Cov_x E_q[z_d] > {self.active_threshold}); ELBO surgery (8.6): average KL "
            f"{self.average_kl:.2f} = I_q(n; z) {self.mutual_information.show(2)} (at most "
            f"log N = {self.mutual_information_bound:.2f}{full if self.saturated else ''}) "
            f"+ KL(q(z) || p(z)) {self.marginal_kl.show(2)}"
        )


@torch.no_grad()
def latent_diagnostics(
    model: VAE,
    x: torch.Tensor,
    c: torch.Tensor | None = None,
    *,
    draws: int = SURGERY_DRAWS,
    seed: int = SEED,
) -> LatentDiagnostics:
    """KL per dimension, active units and the ELBO surgery of the images x, against the
    model's prior: N(0, I) in closed form; a learned prior (the VampPrior) by Monte Carlo
    on the surgery's draws (module docstring)."""
    mu, log_var = posteriors(model, x, c)
    n = len(mu)
    activity = mu.var(dim=0) if n > 1 else torch.zeros_like(mu[0])
    z, pick = aggregate_draws(mu, log_var, draws, seed)
    prior = model.prior
    log_p = prior_log_density(model)
    log_q_bar = gaussian.log_mixture_normal(z, mu, log_var)  # (draws,), log q̄(z)
    marginal = Estimate.mean_of(log_q_bar - log_p(z))
    if prior.factorises:  # the KL of each dimension and their sum in closed form (4.7)
        kl_per_dim = prior.kl_dims(None, mu, log_var, model.encoder).mean(dim=0).tolist()
        average = sum(kl_per_dim)
        information = Estimate(average - marginal.value, marginal.standard_error)
    else:  # one draw of each KL at the same z: log q(z | x_n) − log p(z), by dimension too
        log_q = gaussian.log_normal(z, mu[pick], log_var[pick])
        information = Estimate.mean_of(log_q - log_q_bar)
        average = information.value + marginal.value
        log_q_dims = gaussian.log_normal_dims(z, mu[pick], log_var[pick])
        log_p_dims = prior.log_prob_dims(z.to(model.dtype), model.encoder).double()
        kl_per_dim = (log_q_dims - log_p_dims).mean(dim=0).tolist()
    return LatentDiagnostics(
        images=n,
        kl_per_dim=kl_per_dim,
        activity=activity.tolist(),
        active_units=int((activity > ACTIVE).sum()),
        active_threshold=ACTIVE,
        average_kl=average,
        marginal_kl=marginal,
        mutual_information=information,
        mutual_information_bound=math.log(n),
        surgery_draws=draws,
    )


def prior_log_density(model: VAE):
    """z (M, latent) float64 -> log p(z) (M,) float64 under the model's prior."""
    if model.prior.factorises:
        return lambda z: model.prior.log_prob(z, model.encoder)  # closed form, in float64

    @torch.no_grad()  # a learned prior runs the encoder on its pseudo-inputs: a measurement
    def log_prior(z: torch.Tensor) -> torch.Tensor:
        return model.log_prior(z.to(model.device, model.dtype)).double().cpu()

    return log_prior


def aggregate_draws(
    mu: torch.Tensor, log_var: torch.Tensor, draws: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``draws`` codes z ~ q̄ (an image n at random, then z ~ q(z | x_n)), on the CPU in
    mu's dtype, and the images n drawn: (draws, latent), (draws,)."""
    generator = torch.Generator().manual_seed(seed)
    mu, log_var = mu.cpu(), log_var.cpu()
    pick = torch.randint(len(mu), (draws,), generator=generator)
    eps = torch.randn((draws, mu.shape[1]), generator=generator, dtype=mu.dtype)
    return gaussian.reparameterize(mu[pick], log_var[pick], eps), pick


def dims_by_kl(kl_per_dim: list[float]) -> list[int]:
    """The latent dimensions by their KL, highest first: the most informative first."""
    return sorted(range(len(kl_per_dim)), key=lambda d: -kl_per_dim[d])


def log_density_ratio(
    z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor, log_prior=gaussian.log_std_normal
) -> torch.Tensor:
    """log q̄(z) − log p(z) for each row of z (M, latent), with q̄ the mixture of the N
    posteriors N(μ_n, diag σ_n²) (13.1) and p = N(0, I) unless ``log_prior`` says
    otherwise: (M,), on the CPU in mu's dtype. Its mean under z ~ q̄ is KL(q̄ ‖ p) of the
    surgery (8.6), check ``surgery.average_kl``."""
    z, mu, log_var = (t.to("cpu", mu.dtype) for t in (z, mu, log_var))
    return gaussian.log_mixture_normal(z, mu, log_var) - log_prior(z)
