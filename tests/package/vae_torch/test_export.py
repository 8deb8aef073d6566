"""``vae export RUN --format onnx``: onnxruntime agrees with torch, at any batch size."""

import json
import re

import numpy as np
import onnxruntime
import pytest
import torch

from vae_numpy.run.config import TrainConfig
from vae_numpy.run.options import QUIET
from vae_torch import export
from vae_torch.checkpoint import load_run
from vae_torch.cli import main
from vae_torch.training import train_torch

SMALL = {"dataset": "mnist-5k", "limit": 64, "epochs": 1, "latent_dim": 3, "device": "cpu"}
MODELS = {
    "mlp": {"model": "mlp", "hidden": (16,)},
    "conv-cvae": {"model": "conv-cvae", "channels": (4,), "strides": (2,), "hidden": (8,)},
}


@pytest.fixture(scope="module", params=list(MODELS))
def run(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export") / request.param
    train_torch(TrainConfig(**SMALL | MODELS[request.param]), folder, options=QUIET)
    return folder


def test_the_cli_exports_both_graphs_within_the_tolerance(run, capsys):
    assert main(["export", str(run), "--format", "onnx"]) == 0
    out = capsys.readouterr().out
    assert "encoder.onnx: images ('B', 1, 28, 28)" in out and "decoder.onnx: z ('B', 3)" in out
    record = json.loads((run / "onnx" / "export.json").read_text())
    differences = [d for g in record["graphs"].values() for d in g["max_difference"].values()]
    assert len(differences) == 3 and max(differences) <= 1e-5
    assert record["checkpoint"].startswith("best")


def test_the_onnx_graphs_take_any_batch_and_equal_the_models_methods(run, capsys):
    """Five examples (the export saw 64): the decoder gives model.decode, the encoder
    model.encode, with labels where the model is conditional."""
    assert main(["export", str(run), "--force"]) == 0  # RUN/onnx may hold an export
    model = load_run(run, "cpu").model
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    labels = torch.arange(5) if model.n_classes else None
    extra = {} if labels is None else {"labels": labels.numpy()}
    decoder = onnxruntime.InferenceSession(str(run / "onnx" / "decoder.onnx"))
    (mean,) = decoder.run(None, {"z": z.numpy()} | extra)
    np.testing.assert_allclose(mean, model.decode(z, labels).view(5, 1, 28, 28), atol=1e-5)
    encoder = onnxruntime.InferenceSession(str(run / "onnx" / "encoder.onnx"))
    images = torch.from_numpy(mean)
    mu, log_var = encoder.run(None, {"images": mean} | extra)
    x = images.view(5, -1) if model.x_shape == (784,) else images
    want_mu, want_log_var = model.encode(x, labels)
    np.testing.assert_allclose(mu, want_mu, atol=1e-5)
    np.testing.assert_allclose(log_var, want_log_var, atol=1e-5)


def test_the_export_describes_the_latent_space_and_carries_encoded_examples(run):
    """export.json's KL per dimension is (4.7) averaged over the test split, the order of
    dims_by_kl follows it, and examples.json's posteriors are the encoder's, for test
    images spread over the classes and for the first 1,000 of them."""
    from vae_torch.data import run_split
    from vae_torch.gaussian import kl_std_normal_dims

    assert main(["export", str(run), "--force"]) == 0  # RUN/onnx may hold an export
    record = json.loads((run / "onnx" / "export.json").read_text())
    examples = json.loads((run / "onnx" / "examples.json").read_text())
    loaded = load_run(run, "cpu")
    model = loaded.model.eval()
    test = run_split(loaded.config, "test", torch.device("cpu"), torch.float32)
    c = test.labels if model.n_classes else None
    with torch.no_grad():
        mu, log_var = model.encode(test.fixed.view(len(test), *model.x_shape), c)
    kl = kl_std_normal_dims(mu, log_var).mean(0)
    np.testing.assert_allclose(record["kl_per_dim"], kl, rtol=1e-4)
    assert record["dims_by_kl"] == kl.argsort(descending=True).tolist()
    assert record["latent_dim"] == 3 and record["image_shape"] == [1, 28, 28]
    assert record["classes"] == ([str(d) for d in range(10)] if model.n_classes else None)
    picked = examples["test_indices"]
    assert examples["labels"] == test.labels[picked].tolist()
    assert sorted(examples["labels"]) == sorted(list(range(10)) * 2)  # two of each digit
    np.testing.assert_allclose(examples["mu"], mu[picked], atol=1e-5)
    np.testing.assert_allclose(examples["log_var"], log_var[picked], atol=1e-5)
    shown = np.array(examples["images"]) / 255
    np.testing.assert_allclose(shown, test.fixed[picked].view(len(picked), -1), atol=0.5 / 255)
    # the aggregate posterior the explorer draws: the first 1,000 test images' posteriors
    codes, n = examples["codes"], min(1000, len(test))
    assert codes["labels"] == test.labels[:n].tolist()
    np.testing.assert_allclose(codes["mu"], mu[:n], atol=6e-5)  # four decimals
    np.testing.assert_allclose(codes["log_var"], log_var[:n], atol=6e-5)


def test_a_missing_run_is_one_line(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vae: error: ") and err.count("\n") == 1


def test_a_folder_that_holds_files_is_replaced_only_with_force_and_whole(run, tmp_path, capsys):
    """An export never replaces files unasked, and never half: it is written beside the
    folder and renamed into place once every file is written and checked."""
    out = tmp_path / "onnx"
    out.mkdir()
    (out / "encoder.onnx").write_bytes(b"mine")
    assert main(["export", str(run), "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"vae: error: {out} already holds encoder.onnx; pass --force to replace that folder, "
        "or give another --out\n"
    )
    assert (out / "encoder.onnx").read_bytes() == b"mine"
    with pytest.MonkeyPatch.context() as patch:  # every check fails: nothing may change
        patch.setattr(export, "TOLERANCE", -1.0)
        assert main(["export", str(run), "--out", str(out), "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.fullmatch(
        rf"vae: error: {out}/encoder\.onnx: onnxruntime differs from torch by \S+ \(> -1e\+00\); "
        "nothing was written; please report it with the run's config\n",
        err,
    ), err
    assert [p.name for p in tmp_path.iterdir()] == ["onnx"]  # no folder left beside it
    assert [p.name for p in out.iterdir()] == ["encoder.onnx"]
    assert (out / "encoder.onnx").read_bytes() == b"mine"
    assert main(["export", str(run), "--out", str(out), "--force"]) == 0
    files = ["decoder.onnx", "encoder.onnx", "examples.json", "export.json"]
    assert sorted(p.name for p in out.iterdir()) == files
    assert [p.name for p in tmp_path.iterdir()] == ["onnx"]
    assert (out / "encoder.onnx").read_bytes() != b"mine"
