"""Train / validation / test splits.

The test set is the dataset's official one. The validation set is split off the
training set by a seeded permutation, so a seed names the split exactly.
"""

from dataclasses import dataclass

import numpy as np

from vae_numpy.data.dataset import RawDataset
from vae_numpy.run.errors import DataError


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # (N, C, H, W) uint8
    labels: np.ndarray  # (N,) int64

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Splits:
    train: Split
    val: Split
    test: Split


def validation_indices(n: int, n_val: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, validation) indices of a seeded random partition of range(n)."""
    if not 0 < n_val < n:
        raise DataError(
            f"a validation set of {n_val} examples needs 0 < n_val < {n} (the training set size)"
        )
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def split(raw: RawDataset, n_val: int | None, seed: int, limit: int | None = None) -> Splits:
    """Official test set; ``n_val`` training examples (default a sixth) held out for validation.

    ``limit`` keeps a seeded random subset of ``limit`` examples of the training split
    (after the validation set is removed), for quick experiments: random, not the first
    ones, because a file may be sorted by class (mnist-5k is). Validation and test stay
    whole.
    """
    n = len(raw.train_labels)
    train, val = validation_indices(n, n // 6 if n_val is None else n_val, seed)
    if limit is not None:
        if limit < 1:
            raise DataError(f"--limit must be a positive number of examples, got {limit}")
        subset = np.random.default_rng([seed, limit]).permutation(len(train))[:limit]
        train = train[np.sort(subset)]
    return Splits(
        train=Split(raw.train_images[train], raw.train_labels[train]),
        val=Split(raw.train_images[val], raw.train_labels[val]),
        test=Split(raw.test_images, raw.test_labels),
    )
