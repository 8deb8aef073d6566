"""The importance-weighted bound (Burda, Grosse & Salakhutdinov 2016): the log-likelihood
estimate of chapter 8.

With weights wᵢ = p(x, zᵢ) / q(zᵢ | x) and z₁, ..., z_k drawn independently from q(z | x):

(8.1)  IWAE_k(x) = E[log (1/k) Σᵢ wᵢ] = E[logsumexp_i(log wᵢ) − log k],
       logsumexp(a) = M + log Σᵢ e^{aᵢ − M} for any M (the code takes M = maxᵢ aᵢ)

(8.2)  IWAE_1(x) = E_q[log p(x, z) − log q(z | x)] = ELBO(x)

(8.3)  E_q[w] = ∫ p(x, z) dz = p(x), so by Jensen (log is concave)
       IWAE_k(x) <= log E[(1/k) Σᵢ wᵢ] = log p(x)

(8.4)  IWAE_{k+1}(x) >= IWAE_k(x) (Burda et al., Theorem 1): the mean of k + 1 weights is
       the average, over the k + 1 subsets of size k, of the subsets' means; log of an
       average >= average of the logs (Jensen), and each subset's log-mean has the
       expectation IWAE_k because the draws are exchangeable. It holds for the
       expectations, not draw by draw: log((1 + 0.01)/2) < log 1.

(8.5)  at q = p(z | x) every weight equals p(x), so IWAE_k(x) = log p(x) for every k.

What sympy settles exactly: (8.1) the shift identity, (8.2) and (8.5) in the linear
Gaussian model, (8.3)'s E_q[w] = p(x) by integration, (8.4)'s subset identity for
k + 1 = 2, ..., 6. For 2 <= k the expectation of a log of a sum has no closed form even in
the linear Gaussian model, so the values of IWAE_1..4 are computed numerically, by tensor
Gauss–Hermite quadrature over (z₁, ..., z_k), in three one-dimensional instances (q too
wide, q too narrow, q on the other side of the posterior), and shown to
increase toward log p(x) by margins far larger than the quadrature error (estimated by
comparing two node counts).
"""

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from functools import cache

import numpy as np
import sympy as sp

from elbo_math.check import Check, CheckResult, all_zero, combine, equal
from elbo_math.evidence import minimum_is_zero_only_at
from elbo_math.gaussian import expect_gaussian, log_density, log_density_mv
from elbo_math.linear_gaussian import (
    RATIONAL,
    RATIONAL_1D,
    SYMBOLIC,
    Instance,
    at_posterior,
    derive,
    log_likelihood,
    log_prior,
)

K_MAX = 4
QUADRATURE_NODES = (24, 32)  # the error estimate compares these two
QUADRATURE_TOLERANCE = 1e-3  # largest accepted disagreement between the two node counts
# One model, three approximate posteriors; its true posterior is N(7/18, 1/18).
IWAE_INSTANCES = (
    RATIONAL_1D,
    dataclasses.replace(
        RATIONAL_1D,
        name="rational D=2, L=1, q too narrow",
        q_mean=sp.ImmutableMatrix([sp.Rational(1, 2)]),
        q_chol=sp.ImmutableMatrix([sp.Rational(1, 8)]),
    ),
    dataclasses.replace(
        RATIONAL_1D,
        name="rational D=2, L=1, q on the other side",
        q_mean=sp.ImmutableMatrix([0]),
        q_chol=sp.ImmutableMatrix([sp.Rational(1, 3)]),
    ),
)


def log_weight(inst: Instance) -> sp.Expr:
    """log w(z) = log p(x, z) − log q(z | x) for the instance's q."""
    zs = sp.Matrix(inst.latents)
    log_q = log_density_mv(zs, inst.q_mean, inst.q_cov)
    return log_likelihood(inst, zs) + log_prior(zs) - log_q


def shifted_log_mean_exp(a: Sequence[sp.Expr], shift: sp.Expr) -> sp.Expr:
    """(8.1) M + log Σᵢ e^{aᵢ − M} − log k: the form the code evaluates."""
    return shift + sp.log(sum(sp.exp(ai - shift) for ai in a)) - sp.log(len(a))


def verify_logsumexp(claimed: Callable = shifted_log_mean_exp, k: int = 3) -> CheckResult:
    a = sp.symbols(f"a_1:{k + 1}", real=True)
    shift = sp.Symbol("M", real=True)
    direct = sp.log(sum(sp.exp(ai) for ai in a) / k)
    return equal(f"log mean exp, k = {k}", claimed(a, shift), direct)


def verify_k1_is_elbo(inst: Instance = RATIONAL_1D) -> CheckResult:
    iwae_1 = expect_gaussian(log_weight(inst), inst.latents, inst.q_mean, inst.q_chol)
    return equal(f"[{inst.name}] IWAE_1 vs ELBO", derive(inst).elbo, iwae_1)


def verify_bounded_by_evidence(inst: Instance = RATIONAL_1D) -> CheckResult:
    (z1,) = inst.latents
    q_density = sp.exp(log_density(z1, inst.q_mean[0], inst.q_chol[0]))
    mean_weight = sp.integrate(
        q_density * sp.exp(sp.expand(log_weight(inst))), (z1, -sp.oo, sp.oo), conds="none"
    )
    unbiased = equal(
        f"[{inst.name}] log E_q[w] vs log p(x)", derive(inst).marginal, sp.log(mean_weight)
    )
    y, m = sp.symbols("y m", positive=True)
    jensen = minimum_is_zero_only_at(sp.log(m) + (y - m) / m - sp.log(y), y, m)
    log_px = float(derive(inst).marginal)
    below = [
        CheckResult(
            all(v < log_px for v in iwae_by_quadrature(each).values()),
            f"[{each.name}] IWAE_1..{K_MAX} < log p(x) = {log_px:.6f}",
        )
        for each in IWAE_INSTANCES
    ]
    return combine(unbiased, jensen, *below)


def verify_subset_average(k_max: int = 6) -> CheckResult:
    """(1/k) Σᵢ wᵢ = mean over the k subsets of size k − 1 of the subset means."""
    residuals = {}
    for k in range(2, k_max + 1):
        w = sp.symbols(f"w_1:{k + 1}", positive=True)
        subsets = list(itertools.combinations(w, k - 1))
        average_of_means = sum(sum(sub) / (k - 1) for sub in subsets) / len(subsets)
        residuals[f"k = {k}"] = sum(w) / k - average_of_means
    return all_zero(residuals)


def log_mean_exp(a: np.ndarray) -> np.ndarray:
    """(8.1) over the first axis: log (1/k) Σᵢ e^{aᵢ}, shifted by the maximum."""
    top = a.max(axis=0)
    return top + np.log(np.exp(a - top).mean(axis=0))


def verify_nondecreasing(log_mean: Callable = log_mean_exp) -> CheckResult:
    """(8.4) in every instance of IWAE_INSTANCES, with ``log_mean`` as the bound's inner
    function (a perturbed one, e.g. the mean of the logs, must fail)."""
    increasing = []
    for inst in IWAE_INSTANCES:
        values = _quadrature(inst, QUADRATURE_NODES[-1], log_mean)
        coarse = _quadrature(inst, QUADRATURE_NODES[0], log_mean)
        error = max(abs(coarse[k] - values[k]) for k in values)
        ks = sorted(values)
        steps = [values[k + 1] - values[k] for k in ks[:-1]]
        table = ", ".join(f"IWAE_{k} = {values[k]:.6f}" for k in ks)
        increasing.append(
            CheckResult(
                error < QUADRATURE_TOLERANCE and all(step > 10 * error for step in steps),
                f"[{inst.name}] {table}; quadrature error <= {error:.1e}",
            )
        )
    return combine(verify_subset_average(), *increasing)


def verify_exact_at_posterior() -> CheckResult:
    """(8.5): log w(z) − log p(x) is identically 0 in z when q = p(z|x)."""
    results = []
    for inst in (SYMBOLIC, RATIONAL, RATIONAL_1D):
        tight = at_posterior(inst)
        results.append(
            all_zero(
                {f"[{tight.name}] log w(z) − log p(x)": log_weight(tight) - derive(inst).marginal}
            )
        )
    return combine(*results)


@cache
def _quadrature(inst: Instance, nodes: int, log_mean: Callable = log_mean_exp) -> dict[int, float]:
    """IWAE_k for k = 1..K_MAX, one latent dimension: z = m + c t, t on Gauss–Hermite
    nodes (weight e^{−t²/2}), the k-fold tensor grid for (z₁, ..., z_k)."""
    (z1,) = inst.latents
    log_w = sp.lambdify(z1, log_weight(inst), "numpy")
    t, weights = np.polynomial.hermite_e.hermegauss(nodes)
    weights = weights / np.sqrt(2 * np.pi)
    a = log_w(float(inst.q_mean[0]) + float(inst.q_chol[0]) * t)  # (nodes,)
    values = {}
    for k in range(1, K_MAX + 1):
        axes = [np.reshape(a, (-1,) + (1,) * (k - 1 - i)) for i in range(k)]
        grid = np.stack(np.broadcast_arrays(*axes))  # (k, nodes, ..., nodes)
        log_mean_w = log_mean(grid)
        prob = np.ones(())
        for i in range(k):
            prob = prob * np.reshape(weights, (-1,) + (1,) * (k - 1 - i))
        values[k] = float((prob * log_mean_w).sum())
    return values


def iwae_by_quadrature(inst: Instance = RATIONAL_1D) -> dict[int, float]:
    """IWAE_k(x), k = 1..K_MAX, with the larger node count."""
    return _quadrature(inst, QUADRATURE_NODES[-1])


CHECKS = (
    Check(
        id="iwae.logsumexp_form",
        title="IWAE: log of the mean weight as a shifted logsumexp",
        equation="(8.1)",
        latex=r"\log \frac1k \sum_i e^{a_i} = M + \log \sum_i e^{a_i - M} - \log k",
        run=lambda: verify_logsumexp(shifted_log_mean_exp),
    ),
    Check(
        id="iwae.k1_equals_elbo",
        title="IWAE with one sample is the ELBO",
        equation="(8.2)",
        latex=r"\mathrm{IWAE}_1(x) = \mathbb{E}_q\left[\log \frac{p(x, z)}{q(z \mid x)}\right]"
        r" = \mathrm{ELBO}(x)",
        run=verify_k1_is_elbo,
    ),
    Check(
        id="iwae.bounded_by_evidence",
        title="IWAE_k <= log p(x): the weights are unbiased for p(x), log is concave",
        equation="(8.3)",
        latex=r"\mathrm{IWAE}_k(x) \le \log \mathbb{E}\Big[\frac1k \sum_i w_i\Big] = \log p(x)",
        run=verify_bounded_by_evidence,
    ),
    Check(
        id="iwae.nondecreasing_in_k",
        title="IWAE_k does not decrease with k",
        equation="(8.4)",
        latex=r"\mathrm{IWAE}_{k+1}(x) \ge \mathrm{IWAE}_k(x)",
        run=verify_nondecreasing,
    ),
    Check(
        id="iwae.exact_at_posterior",
        title="At q = p(z|x) every weight is p(x): IWAE_k = log p(x) for all k",
        equation="(8.5)",
        latex=r"q = p(z \mid x) \Rightarrow w_i = p(x) \Rightarrow \mathrm{IWAE}_k(x) = \log p(x)",
        run=verify_exact_at_posterior,
    ),
)
