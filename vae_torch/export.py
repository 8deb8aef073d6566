"""``vae export RUN --format onnx``: the encoder and the decoder as ONNX files.

Two graphs, each with a dynamic batch axis B, float32 throughout:

    encoder.onnx   images (B, C, H, W) in the pixel view the run trained on,
                   [labels (B,) int64, conditional models only]
                   -> mu (B, latent), log_var (B, latent)         q(z|x) = N(mu, exp(log_var))
    decoder.onnx   z (B, latent), [labels (B,) int64]
                   -> mean (B, C, H, W)                           E[x|z], in [0, 1] for grey
                                                                  levels (the likelihood's mean)

Both are exported by ``torch.onnx.export`` (the ``torch.export`` based exporter) and then
run by onnxruntime on the CPU against torch on the same inputs: real test images for the
encoder, draws from the prior for the decoder. The largest difference of each output,
|onnx − torch| / max(1, |torch|) (absolute for values up to 1, relative above: float32
sums in another order differ relatively), is printed and written to ``export.json``
beside the files with the largest absolute one; above TOLERANCE the export is refused.

``export.json`` also describes the model for programs that load the files: its latent
size, image shape and class names, and the average KL of each latent dimension over the
test split (the dimensions of largest KL first in ``dims_by_kl``); ``examples.json``
holds EXAMPLES test images (in the pixel view, as 0..255 for display), their labels and
their posteriors from the encoder, and under ``codes`` the posteriors (μ, log σ², to
four decimals) and labels of the first CODES test images: the aggregate posterior. The
latent-space explorer of the notes loads both graphs with these two files.
"""

import contextlib
import io
import json
import logging
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vae_numpy.run.errors import VaeError
from vae_numpy.run.io import atomic_path, folder_beside, replace_folder
from vae_numpy.run.options import DEFAULTS, Options
from vae_torch.checkpoint import load_run
from vae_torch.data import run_split
from vae_torch.gaussian import kl_std_normal_dims
from vae_torch.models import VAE
from vae_torch.quality.diagnostics import dims_by_kl, posteriors

TOLERANCE = 1e-5  # largest difference accepted, absolute for |values| <= 1, else relative
CHECK_EXAMPLES = 64  # test images (and prior draws) of the check
EXAMPLES = 20  # test images in examples.json: two of each class where there are ten
CODES = 1000  # test images whose posteriors examples.json holds, the aggregate posterior
OPSET = 18
FORMATS = ("onnx",)


class EncoderGraph(nn.Module):
    """images (B, C, H, W) [, labels (B,)] -> (mu, log_var)."""

    def __init__(self, model: VAE):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None):
        x = images.reshape(images.shape[0], *self.model.x_shape)
        return self.model.encoder(x, self.model.one_hot(labels))


class DecoderGraph(nn.Module):
    """z (B, latent) [, labels (B,)] -> E[x|z] (B, C, H, W)."""

    def __init__(self, model: VAE):
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None):
        out = self.model.decoder(z, self.model.one_hot(labels))
        return self.model.mean(out).reshape(z.shape[0], *self.model.image_shape)


@dataclass(frozen=True)
class Exported:
    name: str  # "encoder" or "decoder"
    path: Path
    inputs: dict[str, list]  # name -> shape, "B" for the batch axis
    outputs: dict[str, list]
    max_abs_difference: dict[str, float]  # per output, onnxruntime against torch
    max_difference: dict[str, float]  # the same, relative where |torch| > 1: the criterion


def export_onnx(
    run: Path,
    *,
    out: Path | None = None,
    which: str = "best",
    options: Options = DEFAULTS,
    force: bool = False,
) -> list[Exported]:
    """Export the run's model (the ``which`` checkpoint) into ``out`` (default RUN/onnx)
    and check each graph with onnxruntime; see the module docstring.

    The files are written into a folder beside ``out`` and renamed into place when all
    are checked: a failed or killed export leaves ``out`` as it was. A folder ``out``
    that holds anything is replaced only with ``force``."""
    out = Path(out) if out is not None else Path(run) / "onnx"
    check_target(out, force)
    try:
        import onnxruntime
    except ImportError:
        raise VaeError(
            "vae export needs onnxruntime and onnxscript: pip install 'vae-from-scratch[onnx]'"
        ) from None
    loaded = load_run(run, "cpu", which)
    model = loaded.model.float().eval()
    if model.visible is not None:
        raise VaeError(
            f"{run} decodes pixel by pixel (--autoregressive): its decoder is a loop over "
            "the pixels, not one graph, and the explorer cannot run it; export a model "
            "trained without --autoregressive"
        )
    test = run_split(loaded.config, "test", torch.device("cpu"), torch.float32, options)
    n = min(CHECK_EXAMPLES, len(test))
    images = test.fixed[:n].reshape(n, *model.image_shape)
    z = torch.randn(n, model.latent_dim, generator=torch.Generator().manual_seed(0))
    labels = (test.labels[:n],) if model.n_classes else ()
    label_spec = {"labels": ["B"]} if model.n_classes else {}
    graphs = (
        (
            "encoder",
            EncoderGraph(model),
            (images, *labels),
            {"images": ["B", *model.image_shape]} | label_spec,
            {"mu": ["B", model.latent_dim], "log_var": ["B", model.latent_dim]},
        ),
        (
            "decoder",
            DecoderGraph(model),
            (z, *labels),
            {"z": ["B", model.latent_dim]} | label_spec,
            {"mean": ["B", *model.image_shape]},
        ),
    )
    results = []
    work = folder_beside(out)  # renamed to out once every file is written and checked
    try:
        for name, graph, inputs, input_spec, output_spec in graphs:
            path = work / f"{name}.onnx"
            with torch.no_grad():
                expected = graph(*inputs)
            expected = expected if isinstance(expected, tuple) else (expected,)
            write_graph(graph, inputs, input_spec, output_spec, path)
            session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            feed = {k: v.numpy() for k, v in zip(input_spec, inputs, strict=True)}
            got = session.run(list(output_spec), feed)
            pairs = list(zip(output_spec, got, (e.numpy() for e in expected), strict=True))
            absolute = {k: float(np.abs(g - e).max()) for k, g, e in pairs}
            scaled = {
                k: float((np.abs(g - e) / np.maximum(1, np.abs(e))).max()) for k, g, e in pairs
            }
            results.append(
                Exported(name, out / path.name, input_spec, output_spec, absolute, scaled)
            )
            worst = max(scaled.values())
            if not worst <= TOLERANCE:
                raise VaeError(
                    f"{out / path.name}: onnxruntime differs from torch by {worst:.2e} "
                    f"(> {TOLERANCE:.0e}); nothing was written; please report it with the "
                    "run's config"
                )
        kl_per_dim, examples = describe_latents(model, test)
        record = {
            "run": str(run),
            "checkpoint": loaded.checkpoint,
            "format": "onnx",
            "opset": OPSET,
            "torch": str(torch.__version__),
            "onnxruntime": onnxruntime.__version__,
            "check_examples": n,
            "tolerance": TOLERANCE,
            "pixels": loaded.config.pixels,
            "likelihood": loaded.config.likelihood,
            "dataset": loaded.config.dataset,
            "latent_dim": model.latent_dim,
            "image_shape": list(model.image_shape),
            "classes": list(test.classes) if model.n_classes else None,
            "kl_per_dim": kl_per_dim,
            "dims_by_kl": dims_by_kl(kl_per_dim),
            "graphs": {
                r.name: {
                    "file": r.path.name,
                    "inputs": r.inputs,
                    "outputs": r.outputs,
                    "max_abs_difference": r.max_abs_difference,
                    "max_difference": r.max_difference,
                }
                for r in results
            },
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (work / "examples.json").write_text(json.dumps(examples) + "\n")
        (work / "export.json").write_text(json.dumps(record, indent=2) + "\n")
        replace_folder(work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def check_target(out: Path, force: bool) -> None:
    """``out`` may be new or empty; one that holds files is replaced only with ``force``."""
    if out.exists() and not out.is_dir():
        raise VaeError(f"--out {out} is a file; give a folder for the ONNX files")
    held = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    if held and not force:
        shown = ", ".join(held[:4]) + (f" and {len(held) - 4} more" if len(held) > 4 else "")
        raise VaeError(
            f"{out} already holds {shown}; pass --force to replace that folder, or give "
            "another --out"
        )


def describe_latents(model: VAE, test) -> tuple[list[float], dict]:
    """The average KL (4.7) of each latent dimension over the test split, EXAMPLES test
    images (spread over the classes where there are labels) with their posteriors, and
    the posteriors of the first CODES."""
    x = test.fixed.view(len(test), *model.x_shape)
    mu, log_var = posteriors(model, x, test.labels if model.n_classes else None)
    labels = test.labels.numpy()
    if (labels >= 0).all():  # the first image of each class, then the second, ...
        rank = np.zeros(len(labels), dtype=np.int64)
        for c in np.unique(labels):
            where = np.flatnonzero(labels == c)
            rank[where] = np.arange(len(where))
        pick = np.lexsort((labels, rank))[:EXAMPLES]
    else:
        pick = np.arange(min(EXAMPLES, len(labels)))
    examples = {
        "test_indices": pick.tolist(),
        "labels": labels[pick].tolist(),
        "images": (x[pick].clamp(0, 1) * 255).round().to(torch.uint8).flatten(1).tolist(),
        "mu": mu[pick].float().tolist(),
        "log_var": log_var[pick].float().tolist(),
        "codes": {
            "labels": labels[:CODES].tolist(),
            "mu": mu[:CODES].round(decimals=4).tolist(),
            "log_var": log_var[:CODES].round(decimals=4).tolist(),
        },
    }
    return kl_std_normal_dims(mu, log_var).mean(dim=0).tolist(), examples


def write_graph(graph: nn.Module, inputs: tuple, input_spec: dict, output_spec: dict, path: Path):
    """``torch.onnx.export`` into ``path``, atomically, with the batch axis dynamic."""
    batch = torch.export.Dim("B", min=1)
    shapes = tuple({0: batch} for _ in inputs)
    with (
        atomic_path(path) as tmp,
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        warnings.simplefilter("ignore")
        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        program = torch.onnx.export(
            graph,
            inputs,
            input_names=list(input_spec),
            output_names=list(output_spec),
            dynamic_shapes=shapes,
            opset_version=OPSET,
            dynamo=True,
            verbose=False,
        )
        program.save(str(tmp))


def describe(results: list[Exported]) -> list[str]:
    lines = []
    for r in results:
        ins = ", ".join(f"{k} {tuple(v)}" for k, v in r.inputs.items())
        outs = ", ".join(f"{k} {tuple(v)}" for k, v in r.outputs.items())
        diff = ", ".join(
            f"{k} {r.max_abs_difference[k]:.1e} ({v:.1e} relative to max(1, |value|))"
            for k, v in r.max_difference.items()
        )
        lines.append(f"{r.path}: {ins} -> {outs}; onnxruntime vs torch, max |difference|: {diff}")
    return lines
