"""``vae data``: the real report, and one clean line for every bad input."""

import dataclasses
import gzip
import hashlib
import re
import subprocess
import sys

import matplotlib.image
import pytest

from vae_numpy.data.catalog import DATASETS, RemoteFile
from vae_torch.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_vae_data_prints_the_real_figures_and_writes_a_preview(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "vae_torch", "data", "fashion-mnist", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "(60000, 1, 28, 28)" in result.stdout
    assert re.search(r"9 Ankle boot +6000 +1000", result.stdout)
    image = matplotlib.image.imread(tmp_path / "fashion-mnist-preview.png")
    assert image.shape[0] > 280 and image.shape[1] > 280  # 10 rows of 28-pixel tiles


def replace_file(tiny, monkeypatch, key, data, publish):
    """Overwrite one file of tiny; with ``publish``, its damaged bytes become the published ones
    (as for a file with no known checksum), so that the structural checks must catch it."""
    remote = tiny.spec.files[key]
    (tiny.source / remote.name).write_bytes(data)
    if publish:
        files = dict(tiny.spec.files)
        files[key] = RemoteFile(remote.name, hashlib.sha256(data).hexdigest(), None)
        monkeypatch.setitem(DATASETS, "tiny", dataclasses.replace(tiny.spec, files=files))


@pytest.fixture
def broken(tiny, request, monkeypatch):
    """The tiny dataset with one of its files damaged in the way the test names."""
    images = (tiny.source / tiny.spec.files["train_images"].name).read_bytes()
    content = gzip.decompress(images)
    if request.param == "truncated-gzip":
        replace_file(tiny, monkeypatch, "train_images", images[: len(images) // 2], False)
    elif request.param == "checksum":
        damaged = content[:-1] + bytes([content[-1] ^ 1])
        replace_file(tiny, monkeypatch, "train_images", gzip.compress(damaged), False)
    elif request.param == "wrong-magic":
        damaged = b"\x00\x01" + content[2:]
        replace_file(tiny, monkeypatch, "train_images", gzip.compress(damaged), True)
    elif request.param == "label-count":
        test_labels = (tiny.source / tiny.spec.files["test_labels"].name).read_bytes()
        replace_file(tiny, monkeypatch, "train_labels", test_labels, True)
    return tiny.source


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("truncated-gzip", "truncated or corrupt"),
        ("checksum", "SHA-256 mismatch"),
        ("wrong-magic", "wrong magic number"),
        ("label-count", "20 labels for 30 images"),
    ],
    indirect=["broken"],
)
def test_bad_files_are_one_line_errors(capsys, broken, message):
    code, _, err = run_cli(capsys, "data", "tiny", "--data-dir", str(broken))
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("vae: error: ")
    assert re.search(message, err), err


def test_missing_dataset_names_every_way_to_get_it(capsys, tiny):
    code, _, err = run_cli(capsys, "data", "tiny")
    assert code == 2
    assert "--data-dir" in err and "VAE_DATA_DIR" in err and "--download" in err


def test_data_dir_that_is_a_file(capsys, tmp_path):
    (tmp_path / "f").write_text("")
    code, _, err = run_cli(capsys, "data", "fashion-mnist", "--data-dir", str(tmp_path / "f"))
    assert code == 2 and "is a file, not a directory" in err


def test_unwritable_output_is_a_clear_error(capsys, tmp_path):
    (tmp_path / "f").write_text("")
    code, _, err = run_cli(capsys, "data", "mnist-5k", "--out", str(tmp_path / "f"))
    assert code == 2
    assert err.startswith("vae: error: ") and "Traceback" not in err


def test_unknown_dataset_from_the_installed_command_has_no_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "vae_torch", "data", "cifar100"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(
        "vae: error: unknown dataset 'cifar100'; choose one of: cifar10, fashion-mnist, mnist, "
        "mnist-5k, an import in "
    )
    assert result.stderr.endswith("vae data import SOURCE --name NAME\n")
    assert result.stderr.count("\n") == 1
