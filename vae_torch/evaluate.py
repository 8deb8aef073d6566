"""``vae evaluate``: a run's model on the test (or validation) set, as JSON and a table."""

import time
from pathlib import Path

from vae_numpy.run.io import write_json
from vae_numpy.run.options import DEFAULTS, Options
from vae_torch.checkpoint import load_run
from vae_torch.data import run_split
from vae_torch.device import device_name, resolve_device
from vae_torch.metrics import dataset_elbo, iw_estimate


def evaluate_run(run: Path, k: int = 100, which: str = "test", options: Options = DEFAULTS) -> dict:
    """ELBO (with its parts) and IWAE_k of the run's model; written to the run folder."""
    dev = resolve_device(options.device or "auto")
    loaded = load_run(run, dev)
    model, config = loaded.model.eval(), loaded.config
    data = run_split(config, which, dev, model.dtype, options)
    x = data.fixed.view(-1, *model.x_shape)
    c = data.labels if model.n_classes else None
    dims = x[0].numel()

    start = time.perf_counter()
    bound = dataset_elbo(model, x, c)
    elbo_seconds = time.perf_counter() - start
    start = time.perf_counter()
    iw = iw_estimate(model, x, k, c, progress=options.progress)
    iw_seconds = time.perf_counter() - start

    bits = model.likelihood.bits_per_dim
    result = {
        "run": str(run),
        "backend": loaded.backend,
        "model": config.model,
        "parameters": model.count_parameters(),
        "dataset": config.dataset,
        "split": which,
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
        "device": device_name(dev),
        "units": "nats per example (sum over pixels and latent dimensions), mean over examples",
    }
    if result["elbo_bits_per_dim"] is None:
        result["bits_per_dim_note"] = model.likelihood.no_bits_note(config.pixels)
    path = loaded.folder.evaluation(which, k)
    write_json(path, result)
    return result | {"path": str(path)}


def evaluation_table(r: dict) -> str:
    """The evaluation as a small aligned table, signs stated."""

    def bits(v: float | None) -> str:
        return f"{v:8.4f}" if v is not None else "     n/a"

    rows = [
        f"{r['run']}: {r['model']} ({r['parameters']:,} parameters, {r['backend']}), "
        f"{r['epochs_trained']} epochs; {r['dataset']} {r['split']} set, {r['examples']:,} "
        f"images, {r['pixels']} pixels, {r['likelihood']} likelihood",
        f"{'':32} {'nats/example':>13} {'bits/dim':>9}",
        f"{'ELBO = log p(x|z) - KL':32} {r['elbo']:13.2f} {bits(r['elbo_bits_per_dim'])}",
        f"{'  E_q[log p(x|z)]':32} {r['log_px_given_z']:13.2f}",
        f"{'  KL(q(z|x) || p(z))':32} {r['kl']:13.2f}",
        f"{'IWAE k=' + str(r['iwae_k']) + ' (estimate of log p(x))':32} {r['iwae']:13.2f} "
        f"{bits(r['iwae_bits_per_dim'])}   ± {r['iwae_standard_error']:.2f} (standard error)",
    ]
    if "bits_per_dim_note" in r:
        rows.append(r["bits_per_dim_note"])
    return "\n".join(rows)
