"""Dataset-level numbers: the ELBO with its two parts, and the importance-weighted estimate.

Both are in nats per example (sums over pixels and latent dimensions, averaged
over the examples), with fixed noise, so a number reproduces:

- ``dataset_elbo``: the one-sample ELBO with the analytic KL (4.7). The noise of
  example i is row i of one draw for the whole set, so the result does not depend
  on the batch size (only the order of a float sum does).
- ``iw_estimate``: IWAE_k (8.1) of every example by ``VAE.iwae``, the examples in
  batches of about ``rows`` decoder rows, reported with the standard error of the
  dataset mean.

Where nats become bits per dimension is the likelihood's to say
(``Likelihood.bits_per_dim``).
"""

import math
from dataclasses import dataclass

import torch
from tqdm import tqdm  # text bars: the same in a terminal, a notebook and the docs

from vae_numpy.run.errors import VaeError
from vae_numpy.run.records import EVAL_NOISE_SEED, Bound
from vae_torch.distributed import SINGLE, World, all_sum, shard
from vae_torch.models import VAE
from vae_torch.models.base import IWAE_ROWS


@torch.no_grad()
def dataset_elbo(
    model: VAE,
    x: torch.Tensor,
    c: torch.Tensor | None = None,
    *,
    batch_size: int = 1000,
    world: World = SINGLE,
) -> Bound:
    """Means over x of the one-sample ELBO and its parts, with fixed noise (example n's
    noise is the n-th draw, whoever computes it). Under torchrun each rank sums its
    share of the examples and the sums are added across ranks."""
    model.check_input(x, c)
    n = len(x)
    if n == 0:
        raise VaeError("cannot evaluate on an empty set of images")
    generator = torch.Generator(x.device).manual_seed(EVAL_NOISE_SEED)
    eps = torch.randn((n, model.latent_dim), generator=generator, device=x.device, dtype=x.dtype)
    mine = shard(n, world)
    x, eps, c = x[mine], eps[mine], None if c is None else c[mine]
    totals = torch.zeros(2, dtype=torch.float64, device=x.device)
    for start in range(0, len(x), batch_size):
        part = slice(start, start + batch_size)
        rec, kl = model.terms(x[part], eps[part], None if c is None else c[part])
        totals += torch.stack([rec.sum(), kl.sum()]).double()
    rec, kl = (all_sum(totals, world) / n).tolist()
    return Bound(rec, kl)


@dataclass(frozen=True)
class IWEstimate:
    k: int
    mean: float  # mean over examples of IWAE_k, nats per example
    standard_error: float  # of that mean, over examples
    values: torch.Tensor  # (N,) per example


@torch.no_grad()
def iw_estimate(
    model: VAE,
    x: torch.Tensor,
    k: int,
    *,
    c: torch.Tensor | None = None,
    rows: int = IWAE_ROWS,
    seed: int = EVAL_NOISE_SEED,
    progress: bool = False,
) -> IWEstimate:
    """(8.1) IWAE_k of every example of x by ``VAE.iwae``, about ``rows`` decoder
    evaluations at a time, with one generator seeded by ``seed``."""
    if k < 1:
        raise VaeError(f"k must be at least 1 importance sample, got {k}")
    model.check_input(x, c)
    n = len(x)
    if n == 0:
        raise VaeError("cannot evaluate on an empty set of images")
    generator = torch.Generator(x.device).manual_seed(seed)
    per_batch = max(1, rows // k)
    values = torch.empty(n, dtype=torch.float64, device=x.device)
    starts = range(0, n, per_batch)
    for start in tqdm(starts, desc=f"IWAE k={k}", disable=None if progress else True, leave=False):
        part = slice(start, start + per_batch)
        values[part] = model.iwae(x[part], k, generator, None if c is None else c[part], rows)
    se = values.std().item() / math.sqrt(n) if n > 1 else math.nan
    return IWEstimate(k, values.mean().item(), se, values)
