"""Where the codes of generated images come from: the prior, or a sampler fitted after
training (chapter 13).

A VAE's own samples decode z ~ p(z) = N(0, I). Where the aggregate posterior
q̄(z) = (1/N) Σ_n q(z | x_n) leaves holes, prior draws land in them and decode badly (the
quarters of ``quality.samples``' by_aggregate_density show it). A sampler fitted to the
codes of the training images puts its draws where the codes are. It is not the model's
prior: the ELBO and IWAE stay the prior's, and every table and title names the sampler.

- ``prior``: z ~ N(0, I), the model's own samples.
- ``temperature:T``: z ~ N(0, T² I); T < 1 draws nearer the origin, which is not where
  the codes are when q̄ has a hole there.
- ``gmm[:K[:COVARIANCE]]``: a Gaussian mixture of K components (default 10) with full,
  tied, diag or spherical covariances (default full), fitted by EM (scikit-learn's
  ``GaussianMixture``, seeded) to the posterior means μ(x) of at most 20,000 training
  images (Ghosh et al. 2020, "from variational to deterministic autoencoders").
- ``two-stage``: a second, small VAE trained on the same codes (Dai & Wipf 2019): an MLP
  encoder q(u | z) and decoder N(z; g(u), γ² I) with γ learned, u of the codes' size;
  z = g(u), u ~ N(0, I). Where q̄ is not Gaussian, the second VAE's aggregate posterior
  can be, which is what its prior asks.

A fitted sampler is fitted on first use and cached in RUN/samplers/, tied to the
checkpoint file it was fitted to: when that file changes (the run trained on), it is
fitted again.

A spec names a sampler with its arguments: ``temperature:0.8``, ``gmm:50:diag``.
"""

import hashlib
import json
import math
import pickle
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vae_numpy.run.errors import VaeError
from vae_numpy.run.io import atomic_path
from vae_numpy.run.options import DEFAULTS, Options
from vae_torch import gaussian
from vae_torch.checkpoint import LoadedRun
from vae_torch.data import run_split
from vae_torch.models import VAE
from vae_torch.quality.diagnostics import posteriors

FIT_CODES = 20_000  # training images whose codes a mixture is fitted to, at most
SEED = 0
COVARIANCES = ("full", "tied", "diag", "spherical")  # scikit-learn's covariance_type
SPECS = "prior, temperature:T, gmm[:K[:full|tied|diag|spherical]], two-stage"
TWO_STAGE_HIDDEN = 256  # units of each of the second VAE's two hidden layers
TWO_STAGE_EPOCHS = 100  # over the codes, batches of 256, Adam at 1e-3


class Sampler(ABC):
    """Draws codes z for a model's decoder."""

    spec: str  # as a command takes it, e.g. "gmm:10:full"
    label: str  # what a table or a figure's title says it is
    is_prior: bool = False  # whether its samples are the model's own

    @abstractmethod
    def codes(self, model: VAE, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n codes (n, latent) on the model's device, in its dtype."""

    def describe(self, model: VAE) -> str:
        """What it is for ``model``: its label."""
        return self.label


@dataclass(frozen=True)
class Prior(Sampler):
    spec: str = "prior"
    label: str = "z ~ p(z), the model's prior"
    is_prior: bool = True

    def codes(self, model: VAE, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return model.prior_codes(n, generator)

    def describe(self, model: VAE) -> str:
        return f"z ~ {model.prior.describe()}, the prior"


@dataclass(frozen=True)
class Temperature(Sampler):
    temperature: float

    @property
    def spec(self) -> str:
        return f"temperature:{self.temperature:g}"

    @property
    def label(self) -> str:
        return f"z ~ N(0, {self.temperature:g}² I), temperature {self.temperature:g}"

    def codes(self, model: VAE, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        shape, device, dtype = (n, model.latent_dim), model.device, model.dtype
        return self.temperature * torch.randn(
            shape, generator=generator, device=device, dtype=dtype
        )


@dataclass(frozen=True, eq=False)
class Mixture(Sampler):
    """A Gaussian mixture: weights (K,), means (K, L), covariances (K, L, L), float64, and
    the record of its fit (``record``: what it was fitted to, how well)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    covariance: str  # the type it was fitted with
    record: dict

    @property
    def spec(self) -> str:
        return f"gmm:{len(self.weights)}:{self.covariance}"

    @property
    def label(self) -> str:
        return (
            f"z ~ a {len(self.weights)}-component Gaussian mixture ({self.covariance} "
            f"covariances) fitted to {self.record['codes']:,} training codes"
        )

    def codes(self, model: VAE, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Component k with probability weights[k], then z = means[k] + L_k ε, L_k L_kᵀ the
        k-th covariance; drawn on the CPU from a stream seeded by ``generator``."""
        cpu = cpu_stream(generator)
        weights, means = torch.from_numpy(self.weights), torch.from_numpy(self.means)
        chol = torch.linalg.cholesky(torch.from_numpy(self.covariances))
        pick = torch.multinomial(weights, n, replacement=True, generator=cpu)
        eps = torch.randn((n, means.shape[1]), generator=cpu, dtype=torch.float64)
        z = means[pick] + (chol[pick] @ eps[..., None])[..., 0]
        return z.to(model.device, model.dtype)

    def log_density(self, z: torch.Tensor) -> torch.Tensor:
        """log of the mixture's density at each row of z (M, L): (M,), float64 on the CPU."""
        components = torch.distributions.MultivariateNormal(
            torch.from_numpy(self.means), covariance_matrix=torch.from_numpy(self.covariances)
        )
        log_p = components.log_prob(z.detach().cpu().double()[:, None, :])  # (M, K)
        return torch.logsumexp(log_p + torch.from_numpy(self.weights).log(), dim=1)


def cpu_stream(generator: torch.Generator | None) -> torch.Generator:
    """A CPU generator seeded from ``generator`` (on any device; SEED without one): a
    fitted sampler draws on the CPU in float64, wherever the model is."""
    seed = SEED
    if generator is not None:
        seed = int(torch.randint(2**62, (1,), generator=generator, device=generator.device))
    return torch.Generator().manual_seed(seed)


def parse_sampler(spec: str) -> tuple[str, list[str]]:
    """("prior" | "temperature" | "gmm", its arguments) of a spec, or a one-line error."""
    name, *args = spec.strip().split(":")
    most = {"prior": 0, "temperature": 1, "gmm": 2, "two-stage": 0}
    if name not in most:
        raise VaeError(f"unknown sampler {spec!r}; the samplers: {SPECS}")
    if len(args) > most[name] or (name == "temperature" and not args):
        raise VaeError(f"sampler {spec!r} is not of the form {SPECS}")
    return name, args


def temperature_of(spec: str, text: str) -> Temperature:
    try:
        t = float(text)
    except ValueError:
        t = math.nan
    if not (math.isfinite(t) and t > 0):
        raise VaeError(f"sampler {spec!r}: the temperature must be a number above 0")
    return Temperature(t)


def mixture_args(spec: str, args: list[str]) -> tuple[int, str]:
    """(components, covariance type) of a gmm spec."""
    components, covariance = (args + ["10", "full"][len(args) :])[:2]
    if not components.isdigit() or int(components) < 1:
        raise VaeError(f"sampler {spec!r}: the number of components must be at least 1")
    if covariance not in COVARIANCES:
        raise VaeError(f"sampler {spec!r}: the covariance is one of {', '.join(COVARIANCES)}")
    return int(components), covariance


def canonical(spec: str) -> str:
    """The spec as records key it ("gmm" -> "gmm:10:full"), or a one-line error."""
    name, args = parse_sampler(spec)
    if name == "temperature":
        return temperature_of(spec, args[0]).spec
    if name == "gmm":
        components, covariance = mixture_args(spec, args)
        return f"gmm:{components}:{covariance}"
    return name


def check_specs(specs: list[str]) -> None:
    """Every spec parses (before any work is done)."""
    for spec in specs:
        canonical(spec)


def sampler_for(loaded: LoadedRun, spec: str, options: Options = DEFAULTS) -> Sampler:
    """The sampler ``spec`` for the run's model: a mixture is read from the run folder, or
    fitted now (and cached) when it is missing or of another checkpoint."""
    name, args = parse_sampler(spec)
    if name == "prior":
        return Prior()
    if name == "temperature":
        return temperature_of(spec, args[0])
    if name == "two-stage":
        path = loaded.folder.path / "samplers" / f"two-stage-{loaded.which}.pt"
        return cached(loaded, spec, path, read_two_stage, fit_two_stage, write_two_stage, options)
    components, covariance = mixture_args(spec, args)
    path = loaded.folder.path / "samplers" / f"gmm-{components}-{covariance}-{loaded.which}.npz"
    return cached(
        loaded,
        spec,
        path,
        lambda p: read_mixture(p, covariance),
        lambda run, opts: fit_mixture(run, components, covariance, opts),
        write_mixture,
        options,
    )


def cached(loaded: LoadedRun, spec: str, path: Path, read, fit, write, options: Options):
    """The sampler in ``path`` when it was fitted to the run's checkpoint as it is now,
    else ``fit`` now and ``write`` it there (a line says so)."""
    if path.is_file():
        sampler = read(path)
        if sampler.record["checkpoint_sha256"] == checkpoint_sha256(loaded):
            return sampler
        why = f"the {loaded.which} checkpoint changed since it was fitted: fitting it again"
    else:
        why = "once; cached"
    if options.progress:
        print(f"fitting the sampler {spec} to the run's training codes ({why} in {path})")
    sampler = fit(loaded, options)
    write(path, sampler)
    return sampler


def checkpoint_sha256(loaded: LoadedRun) -> str:
    data = loaded.folder.model_file(loaded.backend, loaded.which).read_bytes()
    return hashlib.sha256(data).hexdigest()


@torch.no_grad()
def training_codes(loaded: LoadedRun, options: Options) -> np.ndarray:
    """μ(x) of at most FIT_CODES training images (a seeded random subset): (N, L) float64."""
    model = loaded.model
    data = run_split(loaded.config, "train", model.device, model.dtype, options)
    if len(data) > FIT_CODES:
        data = data.subset(FIT_CODES, SEED)
    c = data.labels if model.n_classes else None
    mu, _ = posteriors(model, data.fixed.view(-1, *model.x_shape), c)
    return mu.cpu().numpy()


def fit_mixture(loaded: LoadedRun, components: int, covariance: str, options: Options) -> Mixture:
    """EM on the run's training codes (scikit-learn, seeded); covariances made full."""
    from sklearn.mixture import GaussianMixture  # heavy, and only this sampler needs it

    codes = training_codes(loaded, options)
    if components > len(codes):
        raise VaeError(
            f"a mixture of {components} components needs at least as many codes; the run has "
            f"{len(codes)} training images"
        )
    start = time.perf_counter()
    gm = GaussianMixture(components, covariance_type=covariance, random_state=SEED, max_iter=500)
    gm.fit(codes)
    record = {
        "checkpoint": loaded.checkpoint,
        "checkpoint_sha256": checkpoint_sha256(loaded),
        "codes": len(codes),
        "seed": SEED,
        "converged": bool(gm.converged_),
        "iterations": int(gm.n_iter_),
        "mean_log_density_of_codes": float(gm.score(codes)),
        "seconds": time.perf_counter() - start,
    }
    return Mixture(gm.weights_, gm.means_, full_covariances(gm, covariance), covariance, record)


def full_covariances(gm, covariance: str) -> np.ndarray:
    """scikit-learn's covariances_ of any type as (K, L, L) matrices."""
    k, latent = gm.means_.shape
    c = gm.covariances_
    if covariance == "full":
        return c
    if covariance == "tied":
        return np.broadcast_to(c, (k, latent, latent)).copy()
    if covariance == "diag":
        return np.stack([np.diag(row) for row in c])
    return c[:, None, None] * np.eye(latent)  # spherical


def write_mixture(path: Path, mixture: Mixture) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        np.savez(
            out,
            weights=mixture.weights,
            means=mixture.means,
            covariances=mixture.covariances,
            record=np.array(json.dumps(mixture.record)),
        )


def read_mixture(path: Path, covariance: str) -> Mixture:
    fix = f"delete {path} and it is fitted again"
    try:
        with np.load(path, allow_pickle=False) as saved:
            arrays = [np.asarray(saved[k], dtype=np.float64) for k in ("weights", "means")]
            covariances = np.asarray(saved["covariances"], dtype=np.float64)
            record = json.loads(str(saved["record"]))
        weights, means = arrays
        k, latent = means.shape
        if weights.shape != (k,) or covariances.shape != (k, latent, latent):
            raise ValueError("arrays of mismatched shapes")
        if "checkpoint_sha256" not in record:
            raise ValueError("no record of the checkpoint it was fitted to")
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as err:
        raise VaeError(f"the sampler file {path} is corrupt ({err}); {fix}") from None
    return Mixture(weights, means, covariances, covariance, record)


class CodeVAE(nn.Module):
    """The second stage: a VAE of codes z (L,) with a code u (L,): q(u | z) = N(μ, diag σ²)
    by an MLP, p(z | u) = N(g(u), γ² I) with log γ learned (Dai & Wipf 2019)."""

    def __init__(self, latent: int, hidden: int = TWO_STAGE_HIDDEN):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(latent, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * latent),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, latent),
        )
        self.log_gamma = nn.Parameter(torch.zeros(()))

    def loss(self, z: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """The negative ELBO (2.5) of the codes z (B, L), mean over the batch: the Gaussian
        log-likelihood (4.1) of z under N(g(u), γ² I) at u = μ + σ ε (5.1), minus (4.7)."""
        mu, log_var = self.encoder(z).chunk(2, dim=-1)
        u = gaussian.reparameterize(mu, log_var, eps)
        log_var_z = (2 * self.log_gamma).expand_as(z)
        rec = gaussian.log_normal(z, self.decoder(u), log_var_z)
        return (gaussian.kl_std_normal(mu, log_var) - rec).mean()


@dataclass(frozen=True, eq=False)
class TwoStage(Sampler):
    net: CodeVAE
    record: dict
    spec: str = "two-stage"

    @property
    def label(self) -> str:
        codes = self.record["codes"]
        return f"z = g(u), u ~ N(0, I), g the decoder of a second VAE fitted to {codes:,} codes"

    @torch.no_grad()
    def codes(self, model: VAE, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        cpu = cpu_stream(generator)
        u = torch.randn((n, model.latent_dim), generator=cpu)
        return self.net.decoder(u).to(model.device, model.dtype)


def fit_two_stage(loaded: LoadedRun, options: Options) -> TwoStage:
    """TWO_STAGE_EPOCHS of Adam on the run's training codes, seeded, on the CPU."""
    codes = torch.from_numpy(training_codes(loaded, options)).float()
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        net = CodeVAE(codes.shape[1])
    generator = torch.Generator().manual_seed(SEED)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(TWO_STAGE_EPOCHS):
        for rows in torch.randperm(len(codes), generator=generator).split(256):
            eps = torch.randn(len(rows), codes.shape[1], generator=generator)
            loss = net.loss(codes[rows], eps)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    net.eval()
    with torch.no_grad():
        eps = torch.randn(codes.shape, generator=generator)
        final = net.loss(codes, eps).item()
    record = {
        "checkpoint": loaded.checkpoint,
        "checkpoint_sha256": checkpoint_sha256(loaded),
        "codes": len(codes),
        "seed": SEED,
        "epochs": TWO_STAGE_EPOCHS,
        "hidden": TWO_STAGE_HIDDEN,
        "negative_elbo_of_codes": final,
        "gamma": net.log_gamma.exp().item(),
        "seconds": time.perf_counter() - start,
    }
    return TwoStage(net, record)


def write_two_stage(path: Path, sampler: TwoStage) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    latent = sampler.net.decoder[-1].out_features
    state = {"latent": latent, "model": sampler.net.state_dict(), "record": sampler.record}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def read_two_stage(path: Path) -> TwoStage:
    fix = f"delete {path} and it is fitted again"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        net = CodeVAE(int(state["latent"]), int(state["record"]["hidden"]))
        net.load_state_dict(state["model"])
        record = dict(state["record"])
        if "checkpoint_sha256" not in record:
            raise ValueError("no record of the checkpoint it was fitted to")
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, KeyError, TypeError) as err:
        raise VaeError(
            f"the sampler file {path} is corrupt ({type(err).__name__}); {fix}"
        ) from None
    return TwoStage(net.eval(), record)
