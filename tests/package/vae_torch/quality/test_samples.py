"""The sample scores of vae_torch.quality.samples against hand computations and closed
forms."""

import math

import numpy as np
import pytest
import torch

from vae_torch.quality.estimate import Estimate
from vae_torch.quality.samples import (
    frechet_distance,
    judge_score,
    kl_histograms,
    within_balls,
)


def test_frechet_distance_is_the_closed_form_of_two_gaussians_fits():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((400, 5)) @ rng.standard_normal((5, 5))
    b = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 5)) + 1.5
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # tr (Σ_a Σ_b)^{1/2} = Σ √λ over the eigenvalues λ >= 0 of Σ_a Σ_b (similar to a PSD matrix)
    root_trace = np.sqrt(np.clip(np.linalg.eigvals(cov_a @ cov_b).real, 0, None)).sum()
    expected = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * root_trace
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)


def test_judge_score_is_the_number_of_classes_for_confident_balanced_predictions():
    k = 7
    confident_balanced = np.eye(k)[np.arange(70) % k]
    assert judge_score(confident_balanced) == pytest.approx(k)
    assert judge_score(np.tile(np.eye(k)[2], (50, 1))) == pytest.approx(1.0)  # one class only
    assert judge_score(np.full((50, k), 1 / k)) == pytest.approx(1.0)  # no confidence


def test_class_kl_is_zero_only_for_equal_histograms():
    t = np.full(4, 0.25)
    assert kl_histograms(t, t) == 0
    h = np.array([0.5, 0.5, 0.0, 0.0])
    assert kl_histograms(h, t) == pytest.approx(math.log(2))  # 0 log 0 = 0


def test_precision_and_recall_balls():
    rng = np.random.default_rng(1)
    real = torch.from_numpy(rng.standard_normal((200, 3)))
    assert within_balls(real, real).all()  # every point lies in its own ball
    far = real + 100.0
    assert not within_balls(far, real).any() and not within_balls(real, far).any()
    # just inside the ball of centre 0, whose radius is its 3rd-nearest neighbour's distance
    d = torch.cdist(real, real)[0].sort().values
    point = real[0] + torch.tensor([d[3].item() * 0.999, 0, 0], dtype=real.dtype)
    assert within_balls(point[None], real)[0]


def test_binomial_standard_error():
    assert Estimate.binomial(0.25, 100).json() == {
        "value": 0.25,
        "standard_error": math.sqrt(0.25 * 0.75 / 100),
    }
