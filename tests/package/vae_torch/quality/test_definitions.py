"""The definitions behind the sample and latent scores, computed by hand on a few points.

Each test fixes one number of a definition: the judge's confidence threshold (0.9,
inclusive), the k of the k-NN balls of precision and recall (3, the centre itself not
counted), and the active-unit cut-off (a variance of the posterior means above 0.01).
They compute from probabilities, points and means, never by reading the constant, so a
change of the constant is a failing test."""

import math

import numpy as np
import pytest
import torch

from vae_numpy.architecture import MLPConfig
from vae_torch.models import MLPVAE
from vae_torch.quality.diagnostics import latent_diagnostics
from vae_torch.quality.judge import JudgeRecord
from vae_torch.quality.samples import (
    precision_recall,
    recognisable_share,
    reconstruction_scores,
    sample_quality,
    within_balls,
)

# -- the judge's confidence: probability >= 0.9 --------------------------------------------

# class probabilities of five images; their largest are 0.95, 0.9, 0.89, 0.5 and 0.6, so
# two (0.95 and exactly 0.9) are recognised at 0.9; all five would be at 0.5, and one if
# the threshold were strict. float64, so that 0.9 is the same number on both sides of >=.
PROBS = torch.tensor(
    [
        [0.95, 0.05, 0.00],
        [0.10, 0.90, 0.00],
        [0.89, 0.10, 0.01],
        [0.25, 0.25, 0.50],
        [0.20, 0.60, 0.20],
    ],
    dtype=torch.float64,
)
RECOGNISED = 2 / 5
# the class of each row's largest probability
PREDICTED = np.array([0, 1, 0, 2, 1])


class FixedJudge:
    """A stand-in judge: image i, whose pixels all hold the number i, gets row i % 5 of
    PROBS and the features (i, i² mod 7)."""

    record = JudgeRecord(
        dataset="stand-in",
        content_sha256="0" * 64,
        version=0,
        image_shape=(1, 1, 1),
        classes=("a", "b", "c"),
        test_accuracy=1.0,
        test_confident_share=1.0,
        test_examples=5,
        train_seconds=0.0,
    )

    def outputs(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        i = images.reshape(len(images), -1)[:, 0].round().long()
        features = torch.stack([i, i**2 % 7], dim=1).double()
        return PROBS[i % len(PROBS)], features


def score(entry) -> tuple[float, float]:
    """(value, standard error) of a score, whether reported as an ``Estimate`` or its JSON."""
    if isinstance(entry, dict):
        return entry["value"], entry["standard_error"]
    return entry.value, entry.standard_error


def numbered(n: int) -> torch.Tensor:
    """n one-pixel images holding 0, 1, ..., n − 1: (n, 1, 1, 1)."""
    return torch.arange(n, dtype=torch.float64).reshape(n, 1, 1, 1)


class Copier(torch.nn.Module):
    """A stand-in model of one-pixel images: it reconstructs an image as itself, and its
    samples are the numbered images 0, 1, ..., n − 1."""

    n_classes = 0
    image_shape = (1, 1, 1)
    device = torch.device("cpu")

    def reconstruct(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return x

    def prior_codes(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.zeros(n, 1, dtype=torch.float64)

    def decode(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        return numbered(len(z))


def test_the_recognisable_share_counts_probabilities_of_at_least_0_9():
    share = recognisable_share(FixedJudge(), numbered(5))
    assert score(share) == (RECOGNISED, math.sqrt(RECOGNISED * (1 - RECOGNISED) / 5))


def test_the_reconstructions_are_recognised_at_0_9_too():
    labels = np.array([0, 1, 1, 2, 0])  # rows 0, 1 and 3 are predicted as their label
    scores = reconstruction_scores(Copier(), FixedJudge(), numbered(5), labels)
    assert score(scores["recognisable_share"])[0] == RECOGNISED
    assert score(scores["own_class_share"])[0] == np.mean(labels == PREDICTED) == 3 / 5


def test_the_samples_are_recognised_at_0_9_too():
    result = sample_quality(
        Copier(),
        FixedJudge(),
        test_images=numbered(5),
        test_labels=np.arange(5) % 3,
        train_images=numbered(5),
        n=5,
    )
    assert score(result["recognisable_share"])[0] == RECOGNISED
    assert result["class_histogram"] == pytest.approx(np.bincount(PREDICTED) / 5)


# -- precision and recall: k-NN balls, k = 3, the centre not its own neighbour ------------


def hand_within(points: list[float], centres: list[float], k: int) -> list[bool]:
    """Kynkäänniemi et al. (2019) on a line: the ball of a centre reaches to its k-th
    nearest other centre; a point counts when some ball holds it (boundary included)."""
    radii = [
        sorted(abs(c - other) for j, other in enumerate(centres) if j != i)[k - 1]
        for i, c in enumerate(centres)
    ]
    return [any(abs(p - c) <= r for c, r in zip(centres, radii, strict=True)) for p in points]


def column(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)[:, None]


# Centres on a line, and the balls they make with k nearest others:
#   k = 2: [-3, 3] [-1, 3] [0, 6] [2, 10] [3, 17]   union [-3, 17]
#   k = 3: [-6, 6] [-4, 6] [0, 6] [1, 11] [1, 19]   union [-6, 19]
#   k = 4: [-10, 10] [-8, 10] [-4, 10] [0, 12] [0, 20]   union [-10, 20]
# Counting each centre as its own neighbour makes k = 3 the k = 2 balls.
CENTRES = [0.0, 1.0, 3.0, 6.0, 10.0]
POINTS = [-7.0, -5.0, 18.0, 19.0, 19.5]  # 19 is on the boundary of the ball of 10


def test_the_balls_reach_the_third_nearest_other_centre():
    expected = [False, True, True, True, False]
    assert hand_within(POINTS, CENTRES, 3) == expected
    assert within_balls(column(POINTS), column(CENTRES)).tolist() == expected
    # the cases differ from k = 2 (the centre counted as its own neighbour) and k = 4
    assert hand_within(POINTS, CENTRES, 2) == [False] * 5
    assert hand_within(POINTS, CENTRES, 4) == [True] * 5


# Eight samples: four near the real points, four far away. Their balls (k = 3) are
#   [-8, -2] [-6, -2] [-5, -1] [-5, 1] and [27, 33] [28, 34] [28, 34] [27, 36],
# which hold the real points 0 and 1 (the boundary of the ball of -2) only.
SAMPLES = [-5.0, -4.0, -3.0, -2.0, 30.0, 31.0, 32.0, 33.0]


def test_precision_and_recall_are_the_shares_inside_the_other_sides_balls():
    result = precision_recall(column(SAMPLES), column(CENTRES), n=len(SAMPLES), seed=0)
    precision = np.mean(hand_within(SAMPLES, CENTRES, 3))  # samples in the real balls
    recall = np.mean(hand_within(CENTRES, SAMPLES, 3))  # real points in the sample balls
    assert (precision, recall) == (4 / 8, 2 / 5)
    assert score(result["precision"]) == (precision, math.sqrt(0.5 * 0.5 / 8))
    assert score(result["recall"]) == (recall, math.sqrt(0.4 * 0.6 / 5))
    # another k gives other shares, so the two above pin k = 3
    assert np.mean(hand_within(SAMPLES, CENTRES, 2)) == 2 / 8
    assert np.mean(hand_within(CENTRES, SAMPLES, 4)) == 1


# -- active units: Var_n μ_nd > 0.01 ------------------------------------------------------


def test_a_unit_is_active_when_its_posterior_means_vary_by_more_than_0_01():
    """A linear encoder whose mean of dimension d is w_d x_0: three images with x_0 = 0, 1,
    2 have Var x_0 = 1 (divisor N − 1 = 2, as torch.var's), so Var μ_d = w_d².

    Variances 0.02, 0.012 and 0.008: the first two are active at 0.01. The middle one pins
    the divisor too: with N = 3 it is 0.008 (inactive) when divided by N."""
    variances = np.array([0.02, 0.012, 0.008])
    config = MLPConfig(x_dim=2, hidden=(), latent_dim=3, likelihood="gaussian")
    model = MLPVAE(config).double()
    with torch.no_grad():
        model.encoder.mu.weight.zero_()
        model.encoder.mu.weight[:, 0] = torch.from_numpy(np.sqrt(variances))
        model.encoder.mu.bias.fill_(0.3)  # a shift changes no variance
    x = torch.tensor([[0.0, 0.5], [1.0, 0.5], [2.0, 0.5]], dtype=torch.float64)
    d = latent_diagnostics(model, x, draws=10)
    mu = model.encoder(x)[0].detach().numpy()
    by_hand = mu.var(axis=0, ddof=1)
    assert by_hand == pytest.approx(variances, rel=1e-12)
    assert d.activity == pytest.approx(by_hand, rel=1e-12)
    assert d.active_units == int((by_hand > 0.01).sum()) == 2
