"""``vae evaluate``: a run's model on the test (or validation) set, as JSON and a table.

The ELBO with its two parts and IWAE_k (chapter 8), the latent diagnostics (KL per
dimension, active units, ELBO surgery: ``vae_torch.quality.diagnostics``) and, with
``samples``, the quality of that many samples as the dataset's judge sees it
(``vae_torch.quality.samples``), of the best checkpoint (default) or the last. The
record is an ``Evaluation``: its JSON, the table ``vae evaluate`` prints and the columns
``vae compare`` and ``vae experiment`` take from it are defined there, once.
"""

import math
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from vae_numpy.run.errors import VaeError
from vae_numpy.run.folder import RunFolder
from vae_numpy.run.io import write_json
from vae_numpy.run.options import DEFAULTS, Options
from vae_torch.checkpoint import LoadedRun, load_run
from vae_torch.data import DeviceSplit, run_splits
from vae_torch.device import device_name, resolve_device
from vae_torch.quality.bounds import dataset_elbo, iw_estimate
from vae_torch.quality.diagnostics import LatentDiagnostics, latent_diagnostics
from vae_torch.quality.estimate import Estimate
from vae_torch.quality.judge import get_judge
from vae_torch.quality.samples import PRIOR, columns, sample_quality
from vae_torch.samplers import Sampler, canonical, check_specs, sampler_for

UNITS = "nats per example (sum over pixels and latent dimensions), mean over examples"


@dataclass(frozen=True)
class Bounds:
    """The ELBO with its two parts and IWAE_k of a set of images, in nats per example and
    bits per dimension (None where the likelihood is no density of the pixels)."""

    elbo: float
    log_px_given_z: float
    kl: float
    elbo_bits_per_dim: float | None
    iwae_k: int
    iwae: float
    iwae_standard_error: float  # of the mean over examples
    iwae_bits_per_dim: float | None

    # (header, key in a comparison row, format): ``vae compare``'s columns of the bounds
    COMPARED = (
        ("test ELBO", "test_elbo", ".2f"),
        ("E_q[log p(x|z)]", "test_log_px_given_z", ".2f"),
        ("KL", "test_kl", ".2f"),
        ("IWAE k={k}", "iwae", ".2f"),
        ("± SE", "iwae_standard_error", ".2f"),
        ("IWAE bits/dim", "iwae_bits_per_dim", ".3f"),
    )

    def json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, record: dict) -> "Bounds":
        return cls(**{f.name: record[f.name] for f in fields(cls)})

    def compared(self) -> dict:
        """The bounds as a comparison row (comparison.json) names them."""
        return {
            "test_elbo": self.elbo,
            "test_log_px_given_z": self.log_px_given_z,
            "test_kl": self.kl,
            "iwae_k": self.iwae_k,
            "iwae": self.iwae,
            "iwae_standard_error": self.iwae_standard_error,
            "iwae_bits_per_dim": self.iwae_bits_per_dim,
        }

    @classmethod
    def compared_cells(cls, row: dict) -> list[str]:
        return ["n/a" if row[key] is None else format(row[key], f) for _, key, f in cls.COMPARED]

    @classmethod
    def compared_headers(cls, k: int) -> list[str]:
        return [header.format(k=k) for header, _, _ in cls.COMPARED]

    def summary(self) -> str:
        """One line: the ELBO, its parts and IWAE_k ± its standard error."""
        return (
            f"test ELBO {self.elbo:.2f} (E_q[log p(x|z)] {self.log_px_given_z:.2f}, KL "
            f"{self.kl:.2f}), IWAE k={self.iwae_k} {self.iwae:.2f} ± {self.iwae_standard_error:.2f}"
        )

    def rows(self) -> list[str]:
        """The lines of ``vae evaluate``'s table, signs stated."""

        def bits(v: float | None) -> str:
            return f"{v:8.4f}" if v is not None else "     n/a"

        return [
            f"{'':32} {'nats/example':>13} {'bits/dim':>9}",
            f"{'ELBO = log p(x|z) - KL':32} {self.elbo:13.2f} {bits(self.elbo_bits_per_dim)}",
            f"{'  E_q[log p(x|z)]':32} {self.log_px_given_z:13.2f}",
            f"{'  KL(q(z|x) || p(z))':32} {self.kl:13.2f}",
            f"{'IWAE k=' + str(self.iwae_k) + ' (estimate of log p(x))':32} {self.iwae:13.2f} "
            f"{bits(self.iwae_bits_per_dim)}   ± {self.iwae_standard_error:.2f} (standard error)",
        ]


@dataclass(frozen=True)
class Evaluation:
    """What ``evaluate`` measured of a run's model on a split. ``json`` is the file it
    writes (its keys and their order as they have always been; ``from_json`` reads old
    files too); ``path`` is where that file is, not part of it."""

    run: str
    backend: str
    model: str
    checkpoint: str
    parameters: int
    dataset: str
    examples: int
    pixels: str
    likelihood: str
    epochs_trained: int
    bounds: Bounds
    seconds_elbo: float
    seconds_iwae: float
    split: str
    subset: str | None  # what part of the split, when not all of it
    device: str
    latent: LatentDiagnostics
    bits_per_dim_note: str | None = None  # why there are no bits/dim
    sample_quality: dict | None = None  # ``quality.samples.sample_quality``'s record
    samplers: dict | None = None  # spec -> the same record for samples of another sampler
    path: str | None = None

    def json(self) -> dict:
        record = {f.name: getattr(self, f.name) for f in fields(self)[:10]}
        record |= self.bounds.json() | {
            "seconds_elbo": self.seconds_elbo,
            "seconds_iwae": self.seconds_iwae,
            "units": UNITS,
            "split": self.split,
            "subset": self.subset,
            "device": self.device,
            "latent": self.latent.json(),
        }
        if self.bits_per_dim_note is not None:
            record["bits_per_dim_note"] = self.bits_per_dim_note
        if self.sample_quality is not None:
            record["sample_quality"] = self.sample_quality
        if self.samplers is not None:
            record["samplers"] = self.samplers
        return record

    @classmethod
    def from_json(cls, record: dict, path: str | None = None) -> "Evaluation":
        plain = [f.name for f in fields(cls) if f.name not in ("bounds", "latent", "path")]
        return cls(
            **{name: record.get(name) for name in plain},
            bounds=Bounds.from_json(record),
            latent=LatentDiagnostics.from_json(record["latent"]),
            path=path,
        )

    def table(self) -> str:
        """The evaluation as a small aligned table (``vae evaluate``), signs stated."""
        subset = f" ({self.subset})" if self.subset else ""
        rows = [
            f"{self.run}: {self.model} ({self.parameters:,} parameters, {self.backend}), "
            f"{self.checkpoint} checkpoint; {self.dataset} {self.split} set, {self.examples:,} "
            f"images{subset}, {self.pixels} pixels, {self.likelihood} likelihood",
            *self.bounds.rows(),
        ]
        if self.bits_per_dim_note is not None:
            rows.append(self.bits_per_dim_note)
        rows.append(self.latent.line())
        if self.sample_quality is not None:
            rows += sample_rows(self.sample_quality)
        for record in (self.samplers or {}).values():
            rows.append(sampler_row(record))
        if self.sample_quality is not None and (line := diagnosis(self)):
            rows.append(line)
        return "\n".join(rows)


def evaluate(
    run: Path,
    *,
    k: int = 100,
    split: str = "test",
    checkpoint: str = "best",
    samples: int | None = None,
    options: Options = DEFAULTS,
    limit: int | None = None,
    samplers: tuple[str, ...] = (),
) -> Evaluation:
    """Evaluate a run's model on the ``split`` ("test" or "val") and write the result into
    the run folder as JSON (``evaluation-SPLIT-CHECKPOINT-kK.json``); returns it.
    ``limit``: a seeded random subset of this many images of the split instead of all of
    them (a quick look; written as ``...-kK-nLIMIT.json``, and its record says so).

    The record holds the ELBO with its parts and bits/dim, IWAE_k (``k`` importance
    samples per image) with its standard error, the latent diagnostics (active units,
    KL per dimension, the ELBO surgery) and, when ``samples`` is given, the quality of
    that many prior samples as the dataset's judge sees it, and as many of each of the
    ``samplers`` (``vae_torch.samplers``: "gmm", "temperature:0.8"...). ``checkpoint``:
    "best" (the best validation ELBO) or "last"."""
    if samples is not None and samples < 2:
        raise VaeError(f"--samples must be at least 2 samples to judge, got {samples}")
    check_specs(list(samplers))
    if samplers and not samples:
        raise VaeError("--samplers needs --samples N, the number of samples each is judged on")
    if limit is not None and limit < 2:
        raise VaeError(f"--limit must be at least 2 images, got {limit}")
    dev = resolve_device(options.device or "auto")
    loaded = load_run(run, dev, checkpoint)
    model, config = loaded.model.eval(), loaded.config
    wanted = (split, "train") if samples else (split,)  # training images: the FID floor
    data, *train = run_splits(config, wanted, dev, model.dtype, options)
    if limit is not None and limit < len(data):
        data = data.subset(limit, config.seed)
    else:
        limit = None  # the whole split: named and cached as the whole split
    x = data.fixed.view(-1, *model.x_shape)
    c = data.labels if model.n_classes else None

    start = time.perf_counter()
    bound = dataset_elbo(model, x, c)
    elbo_seconds = time.perf_counter() - start
    start = time.perf_counter()
    iw = iw_estimate(model, x, k, c=c, progress=options.progress)
    iw_seconds = time.perf_counter() - start
    bits, dims = model.likelihood.bits_per_dim, x[0].numel()
    bounds = Bounds(
        elbo=bound.elbo,
        log_px_given_z=bound.log_px_given_z,
        kl=bound.kl,
        elbo_bits_per_dim=bits(-bound.elbo, config.pixels, dims),
        iwae_k=k,
        iwae=iw.mean,
        iwae_standard_error=iw.standard_error,
        iwae_bits_per_dim=bits(-iw.mean, config.pixels, dims),
    )
    path = loaded.folder.evaluation(split, k, loaded.which, limit)
    dims_in_bits = bounds.elbo_bits_per_dim is not None
    result = Evaluation(
        run=str(run),
        backend=loaded.backend,
        model=config.model,
        checkpoint=loaded.checkpoint,
        parameters=model.count_parameters(),
        dataset=config.dataset,
        examples=len(x),
        pixels=config.pixels,
        likelihood=config.likelihood,
        epochs_trained=len(loaded.history),
        bounds=bounds,
        seconds_elbo=elbo_seconds,
        seconds_iwae=iw_seconds,
        split=split,
        subset=f"a seeded random {limit:,} of the split" if limit else None,
        device=device_name(dev),
        latent=latent_diagnostics(model, x, c),
        bits_per_dim_note=None if dims_in_bits else model.likelihood.no_bits_note(config.pixels),
        sample_quality=samples and judged_samples(loaded, data, train[0], samples, options),
        samplers=samples and samplers_judged(loaded, data, train[0], samples, samplers, options),
        path=str(path),
    )
    write_json(path, result.json())
    return result


def evaluation_of(
    run: RunFolder,
    *,
    k: int,
    samples: int | None,
    checkpoint: str = "best",
    options: Options = DEFAULTS,
    reuse: bool = True,
    samplers: tuple[str, ...] = (),
) -> tuple[Evaluation, bool]:
    """The test evaluation of ``run``'s ``checkpoint`` with this k (and at least
    ``samples`` judged samples, of the prior and of each of ``samplers``): the one in the
    folder when it is of the run as it is now (and ``reuse``), else measured now; and
    whether it was reused."""
    epochs = len(run.history())
    cached = reuse and run.cached_evaluation(k, epochs, checkpoint, samples)
    if cached and set(specs_judged(samplers)) <= set(cached.get("samplers") or {}):
        return Evaluation.from_json(cached, cached["path"]), True
    evaluation = evaluate(
        run.path,
        k=k,
        split="test",
        checkpoint=checkpoint,
        samples=samples,
        options=options,
        samplers=samplers,
    )
    return evaluation, False


def specs_judged(samplers: tuple[str, ...]) -> list[str]:
    """The keys an evaluation's "samplers" record gives these samplers (the prior: none)."""
    return [spec for spec in map(canonical, samplers) if spec != "prior"]


def samplers_judged(
    loaded: LoadedRun,
    test: DeviceSplit,
    train: DeviceSplit | None,
    n: int | None,
    specs: tuple[str, ...],
    options: Options,
) -> dict | None:
    """The sample scores of each sampler but the prior (whose are the evaluation's own)."""
    if not specs or len(test.classes) < 2:
        return None
    chosen = [sampler_for(loaded, spec, options) for spec in specs]
    return {
        s.spec: judged_samples(loaded, test, train, n, options, s) for s in chosen if not s.is_prior
    } or None


def judged_samples(
    loaded: LoadedRun,
    test: DeviceSplit,
    train: DeviceSplit,
    n: int,
    options: Options,
    sampler: Sampler = PRIOR,
) -> dict:
    """The sample scores of ``vae_torch.quality.samples``, or why there are none."""
    if len(test.classes) < 2:
        return {"n/a": f"{loaded.config.dataset} has no class labels, so it has no judge"}
    judge = get_judge(loaded.config.dataset, options)
    inputs = test.fixed.view(-1, *loaded.model.x_shape)
    return sample_quality(
        loaded.model,
        judge,
        test_images=test.grey(),
        test_labels=test.labels.cpu().numpy(),
        train_images=train.grey(),
        n=n,
        test_inputs=inputs,
        sampler=sampler,
    )


def sampler_row(q: dict) -> str:
    """One line: a sampler's compared scores."""
    cells = ", ".join(
        f"{column.header} {Estimate.of(q[column.key]).show(column.digits)}"
        for column in columns()
        if column.compared and column.key in q
    )
    return f"sampler {q['sampler']} ({q['sampler_label']}; not the model's prior): {cells}"


GAP = 3  # standard errors by which the prior's samples must trail the reconstructions


def diagnosis(evaluation: "Evaluation") -> str | None:
    """Why the prior's samples are poor, when they are judged clearly worse than what the
    decoder makes of real codes: the two shares, KL(q̄ ‖ p) from the surgery (8.6) and the
    sampler that did best here, if any was measured; None when they are not."""
    q = evaluation.sample_quality
    if "n/a" in q or "reconstructions" not in q:
        return None
    prior = Estimate.of(q["recognisable_share"])
    real = Estimate.of(q["reconstructions"]["recognisable_share"])
    gap = real.value - prior.value
    if gap <= GAP * math.hypot(prior.standard_error, real.standard_error):
        return None
    line = (
        f"diagnosis: the prior's samples are recognised {prior.show()} of the time, the "
        f"decoder's reconstructions of real codes {real.show()}: the decoder is good where "
        f"the codes are, and N(0, I) puts mass where they are not (KL(q(z) || p(z)) = "
        f"{evaluation.latent.marginal_kl.show(2)} nats, the ELBO surgery above)"
    )
    measured = {
        spec: Estimate.of(r["recognisable_share"])
        for spec, r in (evaluation.samplers or {}).items()
    }
    if not measured:
        return line + "; a sampler fitted to the codes may close it: --samplers gmm"
    best = max(measured, key=lambda spec: measured[spec].value)
    return line + f"; of the samplers, {best} closes most of the gap: {measured[best].show()}"


def sample_rows(q: dict) -> list[str]:
    """The judge, then one line per registered score (``quality.samples.columns``), then
    the decoder on real codes and where the samples fail."""
    if "n/a" in q:
        return [f"samples: n/a, {q['n/a']}"]
    j = q["judge"]
    rows = [
        f"samples: {q['samples']:,} draws E[x|z], z ~ N(0, I); judged by a CNN with test "
        f"accuracy {j['test_accuracy']:.3f}, {j['test_confident_share']:.3f} of real test "
        f"images recognised",
    ]
    rows += [
        f"  {column.label} {Estimate.of(q[column.key]).show(column.digits)}"
        for column in columns()
        if column.key in q
    ]
    if "frechet_floor_train_vs_test" in q:
        rows.append(
            f"  Fréchet distance of training images: {q['frechet_floor_train_vs_test']:.2f}"
        )
    if "reconstructions" in q:
        r = q["reconstructions"]
        rows.append(
            f"  the decoder on real codes: reconstructions E[x|mu(x)] of the {r['images']:,} test "
            f"images recognisable {Estimate.of(r['recognisable_share']).show()}, judged as "
            f"their own class {Estimate.of(r['own_class_share']).show()}"
        )
    if "by_aggregate_density" in q:
        shares = ", ".join(
            Estimate.of(s).show() for s in q["by_aggregate_density"]["recognisable_share"]
        )
        rows.append(
            "  recognisable share by quarter of log q(z)/p(z), q the test images' aggregate "
            f"posterior, lowest first: {shares}"
        )
    return rows
