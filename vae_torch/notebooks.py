"""The notebooks' sizes: full when a student or the docs build runs them, small in the
test suite.

Every notebook in ``docs/notebooks`` takes its epochs and sample counts from ``size``,
so the suite executes each one top to bottom in seconds (it sets ``VAE_NOTEBOOK_QUICK=1``
for the docs build it tests) while ``bash .ci/docs`` and a student's Jupyter run the
full size. Only the amount of work changes, never the code that runs.
"""

import os
from typing import TypeVar

T = TypeVar("T")

QUICK = "VAE_NOTEBOOK_QUICK"


def quick() -> bool:
    """Whether the notebooks run at their small, test-suite size."""
    return os.environ.get(QUICK, "") not in ("", "0")


def size(full: T, small: T) -> T:
    """``full``, or ``small`` when ``VAE_NOTEBOOK_QUICK`` is set (and not 0)."""
    return small if quick() else full
