"""How good a model's samples are, measured by the dataset's judge (chapter 8).

n samples x = E[x|z], z ~ N(0, I) (for a conditional model, an equal number of each
class), are shown to the judge (``vae_torch.quality.judge``); each score comes with its standard
error, and the judge's own accuracy and confidence on real test images stand beside them.

- recognisable share: samples the judge classifies with probability >= 0.9; binomial
  standard error √(s(1 − s)/n).
- class coverage: the histogram h of the judge's classes over the samples, its smallest
  share, and KL(h ‖ t) to the test set's label histogram t (0 when the classes come in
  the data's proportions); standard errors by bootstrap over the samples.
- judge score (the Inception Score of Salimans et al. 2016 with the judge in place of
  Inception): exp(E_x KL(p(y|x) ‖ p(y))), p(y) the mean of p(y|x) over the samples;
  between 1 and the number of classes; bootstrap standard error.
- Fréchet distance (the FID recipe of Heusel et al. 2017, in the judge's 128 features):
  ‖μ_s − μ_t‖² + tr(Σ_s + Σ_t − 2 (Σ_s Σ_t)^{1/2}) between samples and test images;
  the same distance from n training images to the test images is printed as its floor
  (what real data of the same size scores); bootstrap standard error.
- precision and recall (Kynkäänniemi et al. 2019): in the same features, the share of
  samples inside the union of the test images' k-NN balls (k = 3), and the share of test
  images inside the samples'; binomial standard errors.
- conditional models: the share of class-c samples that the judge calls c.
- the decoder on real codes: the reconstructions E[x|z = μ(x)] of the test images (with
  their labels, for a conditional model), judged the same way: their recognisable share
  and the share judged as their own class, binomial standard errors. Samples cannot be
  expected to beat what the decoder makes of codes it was trained on.
- where the samples fail: the samples in four quarters by log q̄(z) − log p(z), q̄ the
  aggregate posterior of the test images (``diagnostics.log_density_ratio``), lowest
  first, and the recognisable share of each quarter (binomial standard errors). If the
  prior's mass on the holes of q̄ is why samples fail, the lowest quarter, whose codes
  no test image's posterior covers, is recognised least.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import scipy.linalg
import torch

from vae_numpy.run.errors import VaeError
from vae_torch.models import VAE
from vae_torch.quality.diagnostics import log_density_ratio, posteriors, prior_log_density
from vae_torch.quality.estimate import Estimate
from vae_torch.quality.judge import CONFIDENT, Judge
from vae_torch.samplers import Prior, Sampler

BOOTSTRAP = 200  # resamples for the bootstrap standard errors
FRECHET_BOOTSTRAP = 30  # fewer: each needs a matrix square root
NEIGHBOURS = 3  # k of the k-NN balls (Kynkäänniemi et al. 2019 use 3)
SEED = 0
PRIOR = Prior()


def bootstrap(statistic, n: int, generator: np.random.Generator, reps: int = BOOTSTRAP) -> float:
    """The standard deviation of ``statistic(indices)`` over resamples of range(n)."""
    values = [statistic(generator.integers(0, n, n)) for _ in range(reps)]
    return float(np.std(values, ddof=1))


def class_histogram(labels: np.ndarray, n_classes: int) -> np.ndarray:
    return np.bincount(labels, minlength=n_classes) / max(len(labels), 1)


def kl_histograms(h: np.ndarray, t: np.ndarray) -> float:
    """KL(h ‖ t) in nats, 0 log 0 = 0."""
    nonzero = h > 0
    return float(np.sum(h[nonzero] * np.log(h[nonzero] / t[nonzero])))


def judge_score(probs: np.ndarray) -> float:
    """exp(E_x KL(p(y|x) ‖ p(y))), with p(y) the samples' mean prediction."""
    marginal = probs.mean(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(probs > 0, probs * (np.log(probs) - np.log(marginal)), 0.0)
    return float(np.exp(terms.sum(axis=1).mean()))


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^{1/2}) of two sets of feature rows.

    Σ_a Σ_b is similar to the symmetric PSD S = Σ_a^{1/2} Σ_b Σ_a^{1/2}, so the trace of
    its square root is Σ √λ over S's eigenvalues: symmetric eigendecompositions only,
    exact for the singular covariances of ReLU features, where a general matrix square
    root (scipy.linalg.sqrtm) warns and loses accuracy."""
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    values, vectors = scipy.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T  # Σ_a^{1/2}
    s = scipy.linalg.eigvalsh(root_a @ cov_b @ root_a)
    root_trace = np.sqrt(np.clip(s, 0, None)).sum()
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * root_trace)


def within_balls(points: torch.Tensor, centres: torch.Tensor, k: int = NEIGHBOURS) -> np.ndarray:
    """For each point, whether it lies within the distance from some centre to that
    centre's k-th nearest other centre."""
    own = torch.cdist(centres, centres)
    radii = own.kthvalue(k + 1, dim=1).values  # the 0th neighbour is the centre itself
    return (torch.cdist(points, centres) <= radii[None, :]).any(dim=1).numpy()


def recognisable_share(judge: Judge, images: torch.Tensor) -> dict:
    """The share of images the judge classifies with probability >= 0.9, ± its binomial
    standard error."""
    probs, _ = judge.outputs(images)
    share = float((probs.max(dim=-1).values >= CONFIDENT).double().mean())
    return Estimate.binomial(share, len(images)).json()


def draw_samples(
    model: VAE, n: int, seed: int, sampler: Sampler = PRIOR
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """n samples E[x|z] as images (n, C, H, W), with their classes for a conditional model
    (an equal number of each, in turn), and their codes z, drawn by ``sampler`` (the
    prior's N(0, I) by default)."""
    generator = torch.Generator(model.device).manual_seed(seed)
    c = None
    if model.n_classes:
        c = torch.arange(n, device=model.device) % model.n_classes
    z = sampler.codes(model, n, generator)
    return model.decode(z, c, generator).reshape(n, *model.image_shape), c, z


@dataclass
class SampleSet:
    """What the sample metrics see: n samples of ``model`` judged by ``judge``, the real
    test images' features and labels, and one generator for every bootstrap (the metrics
    draw from it in the registry's order, so each number is reproducible)."""

    model: VAE
    judge: Judge
    n: int
    seed: int
    images: torch.Tensor  # the samples E[x|z], (n, C, H, W)
    classes: torch.Tensor | None  # the class each was drawn for (a conditional model)
    z: torch.Tensor  # their codes
    probs: np.ndarray  # the judge's class probabilities, (n, classes)
    features: torch.Tensor  # the judge's features, (n, 128)
    real: torch.Tensor  # the test images' features
    test_labels: np.ndarray
    train_images: torch.Tensor  # grey levels, for the Fréchet floor
    test_inputs: torch.Tensor | None  # the test images as the model takes them
    rng: np.random.Generator

    @property
    def predicted(self) -> np.ndarray:
        return self.probs.argmax(axis=1)

    @property
    def confident(self) -> np.ndarray:
        return self.probs.max(axis=1) >= CONFIDENT


@dataclass(frozen=True)
class Column:
    """A score shown in tables: its key in the record, its short header (``vae compare``),
    its label (``vae evaluate``) and its decimals."""

    key: str
    header: str
    label: str
    digits: int = 3
    compared: bool = True  # a column of vae compare's table


@dataclass(frozen=True)
class SampleMetric:
    """One registered measurement of the samples: ``measure`` returns its entries of the
    record (an ``Estimate`` for each score, plain JSON for the rest), ``columns`` say which
    of them tables show, ``applies`` whether it applies to this set (a conditional model,
    test images as the model takes them)."""

    name: str
    measure: Callable[[SampleSet], dict]
    columns: tuple[Column, ...] = ()
    applies: Callable[[SampleSet], bool] = lambda s: True


SAMPLE_METRICS: dict[str, SampleMetric] = {}


def register_metric(metric: SampleMetric) -> SampleMetric:
    """Make ``metric`` part of every sample evaluation, after those registered before it."""
    SAMPLE_METRICS[metric.name] = metric
    return metric


def columns() -> list[Column]:
    """Every registered metric's table columns, in the registry's order."""
    return [column for metric in SAMPLE_METRICS.values() for column in metric.columns]


def sample_quality(
    model: VAE,
    judge: Judge,
    *,
    test_images: torch.Tensor,
    test_labels: np.ndarray,
    train_images: torch.Tensor,
    n: int = 1000,
    seed: int = SEED,
    test_inputs: torch.Tensor | None = None,
    sampler: Sampler = PRIOR,
) -> dict:
    """The scores of the module docstring, and of every registered metric, for n samples
    of ``model`` drawn by ``sampler`` (the prior by default; another is named in the
    record). Real images are grey levels in [0, 1], (N, C, H, W); ``test_inputs``, the same
    images as the model takes them (its pixel view), give the reconstructions' scores.
    Scores are JSON {"value", "standard_error"} (``Estimate``)."""
    if n < 2:
        raise VaeError(f"--samples must be at least 2 to measure samples, got {n}")
    images, classes, z = draw_samples(model, n, seed, sampler)
    probs, features = judge.outputs(images)
    _, real = judge.outputs(test_images)
    samples = SampleSet(
        model,
        judge,
        n,
        seed,
        images,
        classes,
        z,
        probs.double().numpy(),
        features,
        real,
        test_labels,
        train_images,
        test_inputs,
        np.random.default_rng(seed),
    )
    result = {"samples": n, "seed": seed, "judge": asdict(judge.record) | {"confident": CONFIDENT}}
    if not sampler.is_prior:
        result = {"sampler": sampler.spec, "sampler_label": sampler.label} | result
    for metric in SAMPLE_METRICS.values():
        if metric.applies(samples):
            entries = metric.measure(samples)
            result |= {k: v.json() if isinstance(v, Estimate) else v for k, v in entries.items()}
    return result


def recognisable(s: SampleSet) -> dict:
    return {"recognisable_share": Estimate.binomial(float(s.confident.mean()), s.n)}


def class_coverage(s: SampleSet) -> dict:
    k = s.probs.shape[1]
    predicted, target = s.predicted, class_histogram(s.test_labels, k)
    histogram = class_histogram(predicted, k)
    smallest = bootstrap(lambda i: class_histogram(predicted[i], k).min(), s.n, s.rng)
    kl = bootstrap(lambda i: kl_histograms(class_histogram(predicted[i], k), target), s.n, s.rng)
    return {
        "class_histogram": histogram.tolist(),
        "smallest_class_share": Estimate(float(histogram.min()), smallest),
        "class_kl_to_test": Estimate(kl_histograms(histogram, target), kl),
    }


def judged_score(s: SampleSet) -> dict:
    se = bootstrap(lambda i: judge_score(s.probs[i]), s.n, s.rng)
    return {"judge_score": Estimate(judge_score(s.probs), se)}


def frechet(s: SampleSet) -> dict:
    return distances(
        s.features.double().numpy(), s.real.double().numpy(), s.judge, s.train_images, s.rng
    )


def precision_and_recall(s: SampleSet) -> dict:
    return precision_recall(s.features, s.real, s.n, s.seed)


def conditional(s: SampleSet) -> dict:
    hits = float((s.predicted == s.classes.cpu().numpy()).mean())
    return {"conditional_accuracy": Estimate.binomial(hits, s.n)}


def real_codes(s: SampleSet) -> dict:
    """The decoder on real codes, and where the samples fail (module docstring)."""
    model, inputs, labels = s.model, s.test_inputs, s.test_labels
    return {
        "reconstructions": reconstruction_scores(model, s.judge, inputs, labels),
        "by_aggregate_density": by_aggregate_density(model, s.confident, s.z, inputs, labels),
    }


register_metric(
    SampleMetric(
        "recognisable",
        recognisable,
        (
            Column(
                "recognisable_share",
                "recognisable",
                f"recognisable share (confidence >= {CONFIDENT})",
            ),
        ),
    )
)
register_metric(
    SampleMetric(
        "class coverage",
        class_coverage,
        (
            Column("smallest_class_share", "smallest class", "smallest class share"),
            Column("class_kl_to_test", "class KL", "KL(classes || test)", compared=False),
        ),
    )
)
register_metric(
    SampleMetric(
        "judge score",
        judged_score,
        (Column("judge_score", "judge score", "judge score", 2, compared=False),),
    )
)
register_metric(
    SampleMetric(
        "Fréchet", frechet, (Column("frechet_distance", "Fréchet", "Fréchet distance", 2),)
    )
)
register_metric(
    SampleMetric(
        "precision and recall",
        precision_and_recall,
        (Column("precision", "precision", "precision"), Column("recall", "recall", "recall")),
    )
)
register_metric(
    SampleMetric(
        "conditional",
        conditional,
        (
            Column(
                "conditional_accuracy",
                "class-c judged c",
                "class-c samples judged c",
                compared=False,
            ),
        ),
        applies=lambda s: s.classes is not None,
    )
)
register_metric(SampleMetric("real codes", real_codes, applies=lambda s: s.test_inputs is not None))


def by_aggregate_density(
    model: VAE, confident: np.ndarray, z: torch.Tensor, inputs: torch.Tensor, labels: np.ndarray
) -> dict:
    """The recognisable share of the samples in each quarter of log q̄(z) − log p(z), lowest
    first, q̄ the aggregate posterior of the test images, p the model's prior (module
    docstring)."""
    c = torch.as_tensor(labels, device=model.device) if model.n_classes else None
    mu, log_var = posteriors(model, inputs, c)
    ratio = log_density_ratio(z, mu, log_var, prior_log_density(model)).numpy()
    quarters = np.array_split(np.argsort(ratio, kind="stable"), 4)
    return {
        "log_ratio_ranges": [[float(ratio[q].min()), float(ratio[q].max())] for q in quarters],
        "recognisable_share": [
            Estimate.binomial(float(confident[q].mean()), len(q)).json() for q in quarters
        ],
    }


def reconstruction_scores(
    model: VAE, judge: Judge, inputs: torch.Tensor, labels: np.ndarray, batch: int = 1000
) -> dict:
    """The judge on E[x|z = μ(x)] of every test image: recognisable share and the share
    judged as the image's own class."""
    c_all = torch.as_tensor(labels, device=model.device) if model.n_classes else None
    parts = [
        model.reconstruct(inputs[i : i + batch], None if c_all is None else c_all[i : i + batch])
        for i in range(0, len(inputs), batch)
    ]
    images = torch.cat(parts).reshape(len(inputs), *model.image_shape)
    probs, _ = judge.outputs(images)
    confident = float((probs.max(dim=-1).values >= CONFIDENT).double().mean())
    own = float((probs.argmax(dim=-1).numpy() == labels).mean())
    return {
        "images": len(inputs),
        "recognisable_share": Estimate.binomial(confident, len(inputs)).json(),
        "own_class_share": Estimate.binomial(own, len(inputs)).json(),
    }


def distances(
    feats: np.ndarray, real: np.ndarray, judge: Judge, train_images: torch.Tensor, rng
) -> dict:
    """The Fréchet distance of samples to test images, and of as many training images."""
    n = len(feats)
    pick = rng.choice(len(train_images), min(n, len(train_images)), replace=False)
    _, train = judge.outputs(train_images[torch.from_numpy(np.sort(pick))])
    return {
        "frechet_distance": Estimate(
            frechet_distance(feats, real),
            bootstrap(lambda i: frechet_distance(feats[i], real), n, rng, FRECHET_BOOTSTRAP),
        ),
        "frechet_floor_train_vs_test": frechet_distance(train.double().numpy(), real),
    }


def precision_recall(feats: torch.Tensor, real: torch.Tensor, n: int, seed: int) -> dict:
    """Precision and recall with k-NN balls, on at most n test images (a random subset)."""
    generator = torch.Generator().manual_seed(seed)
    real = real[torch.randperm(len(real), generator=generator)[:n]]
    precision = float(within_balls(feats, real).mean())
    recall = float(within_balls(real, feats).mean())
    return {
        "precision": Estimate.binomial(precision, len(feats)),
        "recall": Estimate.binomial(recall, len(real)),
        "neighbours": NEIGHBOURS,
    }
