"""Central-difference gradient checking in float64 (chapter 6).

    (6.10) ∂f/∂θ_i ≈ D_i(h)
             = [8 (f(θ + h e_i) − f(θ − h e_i)) − (f(θ + 2h e_i) − f(θ − 2h e_i))] / 12h

the fourth-order central difference. An analytic gradient a is right when every entry
lies within what D(h) may miss the true derivative by, the sum of two bounds:

- truncation: D(h) − f′ = −h⁴ f⁽⁵⁾/30 + O(h⁶), the error term elbo_math.gradcheck
  verifies. f⁽⁵⁾ is unknown, but the same stencil at step 2h has 2⁴ = 16 times that
  error, so |D(2h) − D(h)| / 15 is its size (Richardson), for two more evaluations of f
  per entry, at θ ± 4h. That size misses the O(h⁶) rest, a factor O(h²) smaller: twice
  it bounds the error while that factor is below 1/2.
- round-off: each computed f carries an error of at most δ_f, so the stencil's
  coefficients, whose absolute values sum to (8 + 8 + 1 + 1)/12 = 3/2, give D(h) at most
  3δ_f / 2h. The difference at 2h is off by at most half that, so the truncation
  bound carries at most 2 (3/2h + 3/4h) δ_f / 15 = 0.3 δ_f / h of round-off; it only
  widens the sum.

δ_f is not ε_machine |f|: a loss is a sum of terms that may cancel (the continuous
Bernoulli's log-normaliser against its cross entropy leaves |f| ~ 1e-3 from terms ~ 1),
and each term is rounded on its own scale. It is measured instead, as the noise level
σ_f of f (Moré & Wild 2011, "Estimating computational noise"): along a step δ so small
that f is a polynomial of degree < k to round-off, the k-th differences Δᵏf are noise
alone, of variance C(2k, k) σ_f² for independent errors. The step moves every
parameter at once, so every operation's rounding varies (moving one entry varies only
the operations downstream of it: its noise is no larger). A rounding error is taken to
be at most NOISE_BOUND σ_f, and never below ε_machine |f| / 2, the rounding of f's value
itself. The analytic gradient's own round-off, ~ε_machine times the
terms backward adds, is a factor h below the bound and left out.

``relative_error`` compares two analytic gradients (numpy's against torch's autograd),
normwise: max_i |a_i − n_i| / max(max_i |a_i|, max_i |n_i|, floor).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

STEP = 1e-4  # truncation h⁴ |f⁽⁵⁾| / 30 ~ 3e-18 |f⁽⁵⁾|, far below round-off 3δ_f / 2h
STENCIL = {1: 8 / 12, 2: -1 / 12}  # (6.10): D(h) = Σ_k c_k (f(θ + kh) − f(θ − kh)) / h
RICHARDSON = 2**4 - 1  # D(2h) − D(h) = 15 × (D(h) − f′) + O(h⁶), by (6.10)'s h⁴ term
TRUNCATION_MARGIN = 2  # for the O(h⁶) rest (for sin, 0.5 h² of the h⁴ term)
NOISE_STEP = 1e-9  # δ (relative above 1) for Δᵏf: δ⁴ f⁽⁴⁾ ~ 1e-36 f⁽⁴⁾, far below rounding
NOISE_POINTS = 32  # f at θ + jδ, j < 32: 28 fourth differences
NOISE_ORDER = 4
# a rounding error of f is at most NOISE_BOUND σ_f: σ_f is estimated from 28 correlated
# differences; the VAE's check reached 2.8 σ_f (times 3/2h) in ~900 hypothesis-targeted cases
NOISE_BOUND = 8
FLOOR = 1e-4  # relative_error: a tensor whose gradients are all below this is compared absolutely


@dataclass(frozen=True)
class Differences:
    """(6.10) for every entry of one tensor, and how far from ∂f/∂θ_i it may lie."""

    estimate: np.ndarray  # D_i(h), the tensor's shape
    truncation: np.ndarray  # 2 |D_i(2h) − D_i(h)| / 15, the tensor's shape
    rounding: float  # 3δ_f / 2h, the same for every entry

    @property
    def tolerance(self) -> np.ndarray:
        return self.truncation + self.rounding

    def error(self, analytic: np.ndarray) -> float:
        """max_i |a_i − D_i(h)| / tolerance_i: at most 1 for a right gradient."""
        return float(np.max(np.abs(analytic - self.estimate) / self.tolerance, initial=0.0))


def shifted(f: Callable[[], float], param: np.ndarray, multiples: tuple[int, ...], step: float):
    """{k: f(θ + k·step e_i) for every entry i}, each the tensor's shape, for ±k in
    ``multiples``; ``f`` reads ``param`` in place, which is left as it was."""
    if param.dtype != np.float64:
        raise ValueError(f"gradient checks need float64 parameters, got {param.dtype}")
    values = {s * k: np.empty_like(param) for k in multiples for s in (1, -1)}
    flat = param.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        for k, out in values.items():
            flat[i] = old + k * step
            out.reshape(-1)[i] = f()
        flat[i] = old
    return values


def four_point(values: dict, step: float, k: int = 1) -> np.ndarray:
    """(6.10) at step k·h from ``shifted``'s values at ±kh and ±2kh."""
    return sum(c * (values[j * k] - values[-j * k]) for j, c in STENCIL.items()) / (k * step)


def numerical_gradient(f: Callable[[], float], param: np.ndarray, step: float = STEP) -> np.ndarray:
    """∂f/∂param by (6.10); ``f`` reads ``param`` in place."""
    return four_point(shifted(f, param, (1, 2), step), step)


def rounding_bound(f: Callable[[], float], params: list[np.ndarray]) -> float:
    """δ_f, the most one computed f near the current parameters is off by: NOISE_BOUND σ_f,
    and never below the rounding of f's own value, ε_machine |f| / 2."""
    sigma, size = noise_level(f, params)
    return max(NOISE_BOUND * sigma, np.finfo(np.float64).eps / 2 * size)


def noise_level(f: Callable[[], float], params: list[np.ndarray]) -> tuple[float, float]:
    """σ_f, the standard deviation of f's rounding errors near the current parameters,
    from the NOISE_ORDER-th differences of f along a step that moves them all; and the
    largest |f| seen there."""
    saved = [p.copy() for p in params]
    values = []
    for j in range(NOISE_POINTS):
        for p, old in zip(params, saved, strict=True):
            p[...] = old + j * NOISE_STEP * np.maximum(1.0, np.abs(old))  # moves every entry
        values.append(f())
    for p, old in zip(params, saved, strict=True):
        p[...] = old
    k = NOISE_ORDER
    gamma = math.factorial(k) ** 2 / math.factorial(2 * k)  # 1 / C(2k, k)
    return math.sqrt(gamma * np.mean(np.diff(values, n=k) ** 2)), float(np.max(np.abs(values)))


def differences(
    f: Callable[[], float], params: dict[str, np.ndarray], step: float = STEP
) -> dict[str, Differences]:
    """(6.10) and its tolerance for every named tensor; ``f`` reads them in place."""
    coefficients = 2 * sum(abs(c) for c in STENCIL.values())  # of ±kh: 3/2
    rounding = coefficients * rounding_bound(f, list(params.values())) / step
    out = {}
    for name, p in params.items():
        values = shifted(f, p, (1, 2, 4), step)
        near, far = four_point(values, step), four_point(values, step, k=2)
        truncation = TRUNCATION_MARGIN * np.abs(far - near) / RICHARDSON
        out[name] = Differences(near, truncation, rounding)
    return out


def check_gradients(
    f: Callable[[], float], params: dict[str, np.ndarray], grads: dict[str, np.ndarray]
) -> dict[str, float]:
    """Every named gradient's error in units of its tolerance (``Differences.error``):
    at most 1 where the analytic gradient is right."""
    return {name: d.error(grads[name]) for name, d in differences(f, params).items()}


def relative_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = FLOOR) -> float:
    """max_i |a_i − n_i| / max(max_i |a_i|, max_i |n_i|, floor)."""
    scale = max(np.max(np.abs(analytic), initial=0.0), np.max(np.abs(numeric), initial=0.0), floor)
    return float(np.max(np.abs(analytic - numeric), initial=0.0) / scale)
