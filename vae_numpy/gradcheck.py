"""Central-difference gradient checking in float64 (chapter 6).

    (6.10) ∂f/∂θ_i ≈ [8 (f(θ + h e_i) − f(θ − h e_i)) − (f(θ + 2h e_i) − f(θ − 2h e_i))] / (12h)

the fourth-order central difference: its error is O(h⁴) where the two-point
[f(θ + h) − f(θ − h)] / 2h has O(h²), which lets the check demand 1e-6 and
still leave room when σ = 0.1 makes the Gaussian loss steep.

The error of an analytic gradient a of one parameter tensor against the estimate n
is normwise: max_i |a_i − n_i| / max(max_i |a_i|, max_i |n_i|, floor). Entrywise
relative errors would be dominated by round-off in entries that are tiny next to
the tensor's largest (round-off in n is about ε_machine |f| / h whatever n_i is);
``floor`` makes the error absolute for a tensor whose whole gradient is near zero.
"""

from collections.abc import Callable

import numpy as np

STEP = 1e-4  # balances truncation O(h⁴) against round-off O(ε_machine |f| / h) in float64
FLOOR = 1e-4  # a tensor whose gradients are all below this is compared absolutely


def numerical_gradient(f: Callable[[], float], param: np.ndarray, step: float = STEP) -> np.ndarray:
    """∂f/∂param by central differences; ``f`` reads ``param`` in place."""
    if param.dtype != np.float64:
        raise ValueError(f"gradient checks need float64 parameters, got {param.dtype}")
    grad = np.empty_like(param)
    flat, out = param.reshape(-1), grad.reshape(-1)

    def at(i: int, value: float) -> float:
        flat[i] = value
        return f()

    for i in range(flat.size):
        old = flat[i]
        near = at(i, old + step) - at(i, old - step)
        far = at(i, old + 2 * step) - at(i, old - 2 * step)
        flat[i] = old
        out[i] = (8 * near - far) / (12 * step)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = FLOOR) -> float:
    """max_i |a_i − n_i| / max(max_i |a_i|, max_i |n_i|, floor)."""
    scale = max(np.max(np.abs(analytic), initial=0.0), np.max(np.abs(numeric), initial=0.0), floor)
    return float(np.max(np.abs(analytic - numeric), initial=0.0) / scale)


def check_gradients(
    f: Callable[[], float], params: dict[str, np.ndarray], grads: dict[str, np.ndarray]
) -> dict[str, float]:
    """The relative error of every named gradient against central differences."""
    return {
        name: relative_error(grads[name], numerical_gradient(f, p)) for name, p in params.items()
    }
