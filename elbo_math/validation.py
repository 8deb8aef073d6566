"""Input validation for the numeric functions: a clear ValueError instead of a NaN later."""

import numpy as np


def finite(name: str, value) -> np.ndarray:
    """``value`` as a float64 array; ValueError if it is not real, has NaN or ±inf."""
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be an array of real numbers: {error}") from None
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN")
    if np.isinf(a).any():
        raise ValueError(f"{name} contains ±inf")
    return a


def same_shape(**arrays: np.ndarray) -> None:
    """ValueError naming every shape unless all are equal."""
    shapes = {name: a.shape for name, a in arrays.items()}
    if len(set(shapes.values())) > 1:
        listing = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(f"shapes must match: {listing}")


def positive(name: str, a: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``a`` if all entries are > 0 and it is a scalar or has ``like``'s shape."""
    if (a <= 0).any():
        raise ValueError(f"{name} must be > 0; smallest given is {a.min()}")
    if a.ndim and a.shape != like.shape:
        raise ValueError(f"{name} must be a scalar or have shape {like.shape}; got {a.shape}")
    return a
