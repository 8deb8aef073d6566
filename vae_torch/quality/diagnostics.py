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
    kl_per_dim: list[float]  # (1/N) Σ_n KL(q(z_d | x_n) ‖ N(0, 1)), by dimension
    activity: list[float]  # Cov_x E_q[z_d], by dimension
    active_units: int
    active_threshold: float
    average_kl: float  # the sum of kl_per_dim
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

    def line(self) -> str:
        """One line of ``vae evaluate``'s table."""
        return (
            f"latent: {self.active_units} of {len(self.kl_per_dim)} dimensions active "
            f"(Cov_x E_q[z_d] > {self.active_threshold}); ELBO surgery (8.6): average KL "
            f"{self.average_kl:.2f} = I_q(n; z) {self.mutual_information.show(2)} (at most "
            f"log N = {self.mutual_information_bound:.2f}) + KL(q(z) || p(z)) "
            f"{self.marginal_kl.show(2)}"
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
    """KL per dimension, active units and the ELBO surgery of the images x."""
    mu, log_var = posteriors(model, x, c)
    n = len(mu)
    kl_per_dim = gaussian.kl_std_normal_dims(mu, log_var).mean(dim=0)  # (4.7), per d
    activity = mu.var(dim=0) if n > 1 else torch.zeros_like(mu[0])
    marginal, marginal_se = marginal_kl(mu, log_var, draws, seed)
    average = kl_per_dim.sum().item()
    return LatentDiagnostics(
        images=n,
        kl_per_dim=kl_per_dim.tolist(),
        activity=activity.tolist(),
        active_units=int((activity > ACTIVE).sum()),
        active_threshold=ACTIVE,
        average_kl=average,
        marginal_kl=Estimate(marginal, marginal_se),
        mutual_information=Estimate(average - marginal, marginal_se),
        mutual_information_bound=math.log(n),
        surgery_draws=draws,
    )


def dims_by_kl(kl_per_dim: list[float]) -> list[int]:
    """The latent dimensions by their KL, highest first: the most informative first."""
    return sorted(range(len(kl_per_dim)), key=lambda d: -kl_per_dim[d])


def marginal_kl(
    mu: torch.Tensor, log_var: torch.Tensor, draws: int, seed: int, chunk: int = 100
) -> tuple[float, float]:
    """KL(q̄ ‖ N(0, I)) by Monte Carlo, and its standard error (module docstring)."""
    generator = torch.Generator().manual_seed(seed)
    mu, log_var = mu.cpu(), log_var.cpu()
    n = len(mu)
    pick = torch.randint(n, (draws,), generator=generator)
    eps = torch.randn((draws, mu.shape[1]), generator=generator, dtype=mu.dtype)
    z = gaussian.reparameterize(mu[pick], log_var[pick], eps)  # (draws, latent), z ~ q̄
    values = log_density_ratio(z, mu, log_var, chunk)
    se = values.std().item() / math.sqrt(draws) if draws > 1 else math.nan
    return values.mean().item(), se


def log_density_ratio(
    z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor, chunk: int = 100
) -> torch.Tensor:
    """log q̄(z) − log p(z) for each row of z (M, latent), with q̄ the mixture of the N
    posteriors N(μ_n, diag σ_n²) and p = N(0, I): (M,), on the CPU in mu's dtype. Its mean
    under z ~ q̄ is KL(q̄ ‖ p) of the surgery (8.6), check ``surgery.average_kl``; each
    log-density is (4.1)."""
    z, mu, log_var = (t.to("cpu", mu.dtype) for t in (z, mu, log_var))
    terms = []
    for part in z.split(chunk):
        log_q = gaussian.log_normal(part[:, None, :], mu[None], log_var[None])  # (chunk, N)
        log_q_bar = torch.logsumexp(log_q, dim=1) - math.log(len(mu))
        terms.append(log_q_bar - gaussian.log_std_normal(part))
    return torch.cat(terms) if terms else z.new_zeros(0)
