"""From uint8 pixels to the floats a model sees (chapter 3 of the notes, "Which pixels
make the Bernoulli a likelihood").

Four representations, each for a likelihood:

- ``grey``: x = u / 255 in [0, 1]. With the Bernoulli likelihood this is the
  usual "BCE on grey levels": a training loss, not a normalized likelihood.
- ``static-binary``: one fixed draw x ~ Bernoulli(u / 255), made once with a seed.
- ``dynamic-binary``: a fresh draw x ~ Bernoulli(u / 255) every epoch (a
  regulariser); evaluation uses one fixed seeded draw so that numbers reproduce.
  With binary x the Bernoulli likelihood is exact.
- ``dequantized``: x = (u + v) / 256 with v uniform on [0, 1), so x lies in
  [u/256, (u+1)/256): a continuous density on [0, 1) whose likelihood in nats
  converts to bits/dim; a fresh v every epoch, a fixed seeded v for evaluation.

``fixed`` gives the one draw used for evaluation (and for training in the static
and grey cases); ``epoch`` gives what one training epoch sees.
"""

from enum import StrEnum

import numpy as np


class Pixels(StrEnum):
    GREY = "grey"
    STATIC_BINARY = "static-binary"
    DYNAMIC_BINARY = "dynamic-binary"
    DEQUANTIZED = "dequantized"

    @property
    def fresh_each_epoch(self) -> bool:
        return self in (Pixels.DYNAMIC_BINARY, Pixels.DEQUANTIZED)


def scale(u: np.ndarray, dtype=np.float32) -> np.ndarray:
    """u / 255: uint8 pixels as grey levels in [0, 1]."""
    return (u / np.asarray(255, dtype=dtype)).astype(dtype, copy=False)


def binarize(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw x_d ~ Bernoulli(p_d), as floats of p's dtype."""
    return (rng.random(p.shape, dtype=p.dtype) < p).astype(p.dtype)


NOISE_LEVELS = 2**16  # v takes NOISE_LEVELS equally spaced values in [0, 1)


def dequantize(u: np.ndarray, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """(u + v) / 256 with v uniform on [0, 1): values in [u/256, (u+1)/256).

    v is drawn on a grid of 2^-16, so u + v needs 8 + 16 = 24 significant bits: it
    is exact in float32 (and the division by 256 too). A float32 ``u + rand()`` would
    round up to u + 1 for v within 2^-17 of 1, a few hundred pixels an epoch.
    """
    r = rng.integers(0, NOISE_LEVELS, u.shape, dtype=np.int32)
    return (u.astype(np.int32) * NOISE_LEVELS + r).astype(dtype) / np.asarray(
        256 * NOISE_LEVELS, dtype=dtype
    )


def epoch(u: np.ndarray, pixels: Pixels, rng: np.random.Generator, dtype=np.float32):
    """A fresh view of uint8 images ``u`` for one training epoch (same shape as u)."""
    pixels = Pixels(pixels)
    if pixels is Pixels.DYNAMIC_BINARY:
        return binarize(scale(u, dtype), rng)
    if pixels is Pixels.DEQUANTIZED:
        return dequantize(u, rng, dtype)
    raise ValueError(f"{pixels} pixels do not change between epochs; use fixed()")


def fixed(u: np.ndarray, pixels: Pixels, seed: int, dtype=np.float32) -> np.ndarray:
    """The one reproducible view of ``u``: the evaluation data, keyed by ``seed``."""
    pixels = Pixels(pixels)
    if pixels is Pixels.GREY:
        return scale(u, dtype)
    rng = np.random.default_rng(seed)
    if pixels is Pixels.DEQUANTIZED:
        return dequantize(u, rng, dtype)
    return binarize(scale(u, dtype), rng)
