"""``vae evaluate``: a run's model on the test (or validation) set, as JSON and a table.

The ELBO with its two parts and IWAE_k (chapter 8), the latent diagnostics (KL per
dimension, active units, ELBO surgery: ``vae_torch.quality.diagnostics``) and, with
``samples``, the quality of that many samples as the dataset's judge sees it
(``vae_torch.quality.samples``), of the best checkpoint (default) or the last.
"""

import time
from pathlib import Path

from vae_numpy.run.errors import VaeError
from vae_numpy.run.io import write_json
from vae_numpy.run.options import DEFAULTS, Options
from vae_torch.checkpoint import LoadedRun, load_run
from vae_torch.data import DeviceSplit, run_splits
from vae_torch.device import device_name, resolve_device
from vae_torch.quality.bounds import dataset_elbo, iw_estimate
from vae_torch.quality.diagnostics import latent_diagnostics
from vae_torch.quality.estimate import Estimate
from vae_torch.quality.judge import get_judge
from vae_torch.quality.samples import columns, sample_quality


def evaluate(
    run: Path,
    *,
    k: int = 100,
    split: str = "test",
    checkpoint: str = "best",
    samples: int | None = None,
    options: Options = DEFAULTS,
    limit: int | None = None,
) -> dict:
    """Evaluate a run's model on the ``split`` ("test" or "val") and write the result into
    the run folder as JSON (``evaluation-SPLIT-CHECKPOINT-kK.json``); returns it.
    ``limit``: a seeded random subset of this many images of the split instead of all of
    them (a quick look; written as ``...-kK-nLIMIT.json``, and its record says so).

    The record holds the ELBO with its parts and bits/dim, IWAE_k (``k`` importance
    samples per image) with its standard error, the latent diagnostics (active units,
    KL per dimension, the ELBO surgery) and, when ``samples`` is given, the quality of
    that many prior samples as the dataset's judge sees it. ``checkpoint``: "best" (the
    best validation ELBO) or "last"."""
    if samples is not None and samples < 2:
        raise VaeError(f"--samples must be at least 2 samples to judge, got {samples}")
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

    result = (
        {"run": str(run)}
        | bounds(loaded, x, c, k, options.progress)
        | {
            "split": split,
            "subset": f"a seeded random {limit:,} of the split" if limit else None,
            "device": device_name(dev),
            "latent": latent_diagnostics(model, x, c),
        }
    )
    if result["elbo_bits_per_dim"] is None:
        result["bits_per_dim_note"] = model.likelihood.no_bits_note(config.pixels)
    if samples:
        result["sample_quality"] = judged_samples(loaded, data, train[0], samples, options)
    path = loaded.folder.evaluation(split, k, loaded.which, limit)
    write_json(path, result)
    return result | {"path": str(path)}


def bounds(loaded: LoadedRun, x, c, k: int, progress: bool) -> dict:
    """The test ELBO with its parts and IWAE_k, timed, in nats and bits per dimension."""
    model, config = loaded.model, loaded.config
    start = time.perf_counter()
    bound = dataset_elbo(model, x, c)
    elbo_seconds = time.perf_counter() - start
    start = time.perf_counter()
    iw = iw_estimate(model, x, k, c=c, progress=progress)
    iw_seconds = time.perf_counter() - start
    bits = model.likelihood.bits_per_dim
    dims = x[0].numel()
    return {
        "backend": loaded.backend,
        "model": config.model,
        "checkpoint": loaded.checkpoint,
        "parameters": model.count_parameters(),
        "dataset": config.dataset,
        "examples": len(x),
        "pixels": config.pixels,
        "likelihood": config.likelihood,
        "epochs_trained": len(loaded.history),
        "elbo": bound.elbo,
        "log_px_given_z": bound.log_px_given_z,
        "kl": bound.kl,
        "elbo_bits_per_dim": bits(-bound.elbo, config.pixels, dims),
        "iwae_k": k,
        "iwae": iw.mean,
        "iwae_standard_error": iw.standard_error,
        "iwae_bits_per_dim": bits(-iw.mean, config.pixels, dims),
        "seconds_elbo": elbo_seconds,
        "seconds_iwae": iw_seconds,
        "units": "nats per example (sum over pixels and latent dimensions), mean over examples",
    }


def judged_samples(
    loaded: LoadedRun, test: DeviceSplit, train: DeviceSplit, n: int, options: Options
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
    )


def evaluation_table(r: dict) -> str:
    """The evaluation as a small aligned table, signs stated."""

    def bits(v: float | None) -> str:
        return f"{v:8.4f}" if v is not None else "     n/a"

    rows = [
        f"{r['run']}: {r['model']} ({r['parameters']:,} parameters, {r['backend']}), "
        f"{r['checkpoint']} checkpoint; {r['dataset']} {r['split']} set, {r['examples']:,} "
        f"images{' (' + r['subset'] + ')' if r.get('subset') else ''}, {r['pixels']} pixels, "
        f"{r['likelihood']} likelihood",
        f"{'':32} {'nats/example':>13} {'bits/dim':>9}",
        f"{'ELBO = log p(x|z) - KL':32} {r['elbo']:13.2f} {bits(r['elbo_bits_per_dim'])}",
        f"{'  E_q[log p(x|z)]':32} {r['log_px_given_z']:13.2f}",
        f"{'  KL(q(z|x) || p(z))':32} {r['kl']:13.2f}",
        f"{'IWAE k=' + str(r['iwae_k']) + ' (estimate of log p(x))':32} {r['iwae']:13.2f} "
        f"{bits(r['iwae_bits_per_dim'])}   ± {r['iwae_standard_error']:.2f} (standard error)",
    ]
    if "bits_per_dim_note" in r:
        rows.append(r["bits_per_dim_note"])
    rows += latent_rows(r["latent"])
    if "sample_quality" in r:
        rows += sample_rows(r["sample_quality"])
    return "\n".join(rows)


def latent_rows(d: dict) -> list[str]:
    mi, marginal = Estimate.of(d["mutual_information"]), Estimate.of(d["marginal_kl"])
    return [
        f"latent: {d['active_units']} of {len(d['kl_per_dim'])} dimensions active "
        f"(Cov_x E_q[z_d] > {d['active_threshold']}); ELBO surgery (8.6): average KL "
        f"{d['average_kl']:.2f} = I_q(n; z) {mi.show(2)} (at most log N = "
        f"{d['mutual_information_bound']:.2f}) + KL(q(z) || p(z)) {marginal.show(2)}",
    ]


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
