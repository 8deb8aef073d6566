"""CIFAR-10: the verified download of its tarball, against a server on 127.0.0.1, and
the archives that must be refused. The archive is a small one in the real layout,
registered with its own checksums, as the ``tiny`` IDX dataset is.
"""

import collections
import dataclasses
import functools
import hashlib
import io
import pickle
import tarfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from vae_numpy.data import catalog, load_dataset
from vae_numpy.data.catalog import CIFAR10, RemoteFile
from vae_torch.cli import main

BATCH = 4  # images per batch: 20 training, 4 test


def batch(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        b"data": rng.integers(0, 256, (BATCH, 3072), dtype=np.uint8),
        b"labels": [int(v) for v in rng.integers(0, 10, BATCH)],
    }


def tarball(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def cifar_members(extra: dict[str, bytes] | None = None) -> tuple[dict, dict[str, bytes]]:
    names = [*CIFAR10.train_batches, CIFAR10.test_batch]
    batches = {name: batch(i) for i, name in enumerate(names)}
    members = {f"{CIFAR10.folder}/{n}": pickle.dumps(b) for n, b in batches.items()}
    return batches, members | (extra or {})


@pytest.fixture
def serve(tmp_path, monkeypatch):
    """serve(archive bytes): registers ``cifar-test`` with the archive's checksums, serves
    it on 127.0.0.1 as the first mirror, and uses an empty user cache."""
    served = tmp_path / "served"
    served.mkdir()

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            """Keep the test output free of the server's access log."""

    handler = functools.partial(Quiet, directory=str(served))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("VAE_DATA_MIRROR", f"http://127.0.0.1:{httpd.server_address[1]}/")
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)

    def register(data: bytes):
        (served / CIFAR10.archive.name).write_bytes(data)
        spec = dataclasses.replace(
            CIFAR10,
            name="cifar-test",
            archive=RemoteFile(CIFAR10.archive.name, hashlib.sha256(data).hexdigest(), None),
            archive_md5=hashlib.md5(data).hexdigest(),
            mirrors=(),
        )
        monkeypatch.setitem(catalog.DATASETS, "cifar-test", spec)

    yield register
    httpd.shutdown()
    httpd.server_close()


def test_the_tarball_downloads_verified_and_reads_as_rgb(serve, tmp_path, capsys):
    batches, members = cifar_members()
    serve(tarball(members))
    assert main(["data", "cifar-test", "--download", "--out", str(tmp_path / "p")]) == 0
    assert "3x32x32 (RGB)" in capsys.readouterr().out
    raw = load_dataset("cifar-test")
    assert raw.train_images.shape == (5 * BATCH, 3, 32, 32)
    first = batches["data_batch_1"][b"data"][0]
    assert np.array_equal(raw.train_images[0], first.reshape(3, 32, 32))
    assert raw.test_labels.tolist() == batches["test_batch"][b"labels"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"../evil": b"x"}, "unsafe archive member '../evil'"),
        ({"/etc/evil": b"x"}, "unsafe archive member '/etc/evil'"),
        (
            {f"{CIFAR10.folder}/data_batch_1": pickle.dumps(collections.Counter())},
            "refusing to load",
        ),
    ],
)
def test_unsafe_archives_are_refused_and_write_nothing(serve, tmp_path, capsys, extra, message):
    _, members = cifar_members(extra)
    serve(tarball(members))
    before = set(tmp_path.parent.iterdir())
    assert main(["data", "cifar-test", "--download", "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vae: error: ") and message in err and err.count("\n") == 1
    assert set(tmp_path.parent.iterdir()) == before  # nothing extracted beside the test folder
    assert not (tmp_path / "p").exists()
