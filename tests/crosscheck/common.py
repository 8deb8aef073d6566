"""What the cross-checks share: tolerances with their reasons, value ranges, and the
discrepancy every comparison reports (so a broken implementation can be shown to fail)."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

# Two float64 arrangements of one formula: rounding is a few ulp of the largest term
# (e^{log σ²} ≈ 1e13 at log σ² = 30, logits 100), ~1e-14 of the scale each discrepancy
# divides by. 1e-12 leaves a margin of 100 and is far below any wrong constant or factor.
SAME_FORMULA_TOL = 1e-12
# Standard errors a statistical comparison allows; with fixed seeds it is deterministic,
# and a correct implementation would exceed it with probability ~6e-7 per comparison.
Z = 5.0

MEANS = st.floats(-10, 10)
LOG_VARS = st.floats(-30, 30)
NOISE = st.floats(-5, 5)
LATENTS = st.floats(-10, 10)
LOGITS = st.floats(-100, 100)
DATA = st.floats(-10, 10)
PIXELS = st.floats(0, 1)
SIGMAS = st.floats(0.05, 5)


def batches(*elements: st.SearchStrategy[float]):
    """Float64 arrays of one shape (B, n), B in 1..4, n in 1..6, one per strategy."""
    shapes = st.tuples(st.integers(1, 4), st.integers(1, 6))
    return shapes.flatmap(
        lambda s: st.tuples(*(arrays(np.float64, s, elements=e) for e in elements))
    )


def discrepancy(ours, reference, scale) -> float:
    """max |ours − reference| / scale; inf if ours is not finite or has another shape."""
    ours, reference = np.asarray(ours, dtype=np.float64), np.asarray(reference)
    if ours.shape != reference.shape or not np.isfinite(ours).all():
        return np.inf
    return float(np.max(np.abs(ours - reference) / scale, initial=0.0))


def summed(terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A sum over the last axis and its scale, 1 + Σ |term|: what rounding is relative to."""
    return terms.sum(-1), 1 + np.abs(terms).sum(-1)


def elementwise(reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return reference, 1 + np.abs(reference)


def cli(capsys, *argv) -> tuple[int, str, str]:
    """``vae ARGV`` in this process, as a user runs it: (exit code, stdout, stderr)."""
    from vae_torch.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def refused_in_one_line(capsys, out, message: str, *argv) -> None:
    """``vae ARGV`` refuses with exit code 2 and one line ``vae: error: ...`` matching the
    regular expression ``message``, prints nothing else, and leaves no folder ``out``."""
    import re

    code, stdout, err = cli(capsys, *argv)
    assert code == 2 and stdout == "", err
    assert err.startswith("vae: error: ") and err.count("\n") == 1, err
    assert re.search(message, err), err
    assert not out.exists()
