"""The verified download, against an HTTP server on 127.0.0.1 that the tests start.

The server serves the ``tiny`` dataset's files under three paths: /good/ as they
are, /corrupt/ with one byte changed, /cut/ announcing the full length but closing
the connection half way.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from vae_numpy.data import load_dataset
from vae_numpy.data.sources import cache_root, download
from vae_numpy.run.errors import DataError
from vae_numpy.run.options import QUIET, Options


@pytest.fixture
def server(tiny):
    files = {p.name: p.read_bytes() for p in tiny.source.iterdir()}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            mode, _, name = self.path.strip("/").partition("/")
            if name not in files:
                self.send_error(404)
                return
            data = files[name]
            body = {"good": data, "corrupt": data[:-1] + bytes([data[-1] ^ 1]), "cut": data}[mode]
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if mode == "cut" else body)

        def log_message(self, *args):
            """Keep the test output free of the server's access log."""

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_good_download_lands_in_the_cache_and_loads(tiny, server):
    target = cache_root() / "tiny"
    download(tiny.spec, target, [f"{server}/good/"], progress=False)
    assert leftovers(target) == sorted(f.name for f in tiny.spec.files.values())
    raw = load_dataset("tiny")
    assert raw.origin.startswith("user cache")
    np.testing.assert_array_equal(raw.train_images[:, 0], tiny.arrays["train_images"])


@pytest.mark.parametrize(
    ("mode", "message"), [("corrupt", "SHA-256 mismatch"), ("cut", "connection closed after")]
)
def test_bad_download_is_refused_and_leaves_nothing(tiny, server, mode, message):
    target = cache_root() / "tiny"
    with pytest.raises(DataError, match=message) as info:
        download(tiny.spec, target, [f"{server}/{mode}/"], progress=False)
    assert "could not download train-images-idx3-ubyte.gz" in str(info.value)
    assert leftovers(target) == []


def test_next_mirror_is_tried_after_a_bad_one(tiny, server):
    target = cache_root() / "tiny"
    download(tiny.spec, target, [f"{server}/corrupt/", f"{server}/good/"], progress=False)
    assert len(leftovers(target)) == 4
    load_dataset("tiny")


def test_download_only_when_allowed(tiny, server, monkeypatch):
    monkeypatch.setenv("VAE_DATA_MIRROR", f"{server}/good/")
    with pytest.raises(DataError, match="not found"):
        load_dataset("tiny", QUIET)
    assert load_dataset("tiny", Options(allow_download=True, progress=False)).origin.startswith(
        "downloaded"
    )
    monkeypatch.setenv("VAE_ALLOW_DOWNLOAD", "1")
    assert load_dataset("tiny", QUIET).origin.startswith("user cache")


def test_unreachable_mirror_is_a_clear_error(tiny):
    with pytest.raises(DataError, match="download failed"):
        download(tiny.spec, cache_root() / "tiny", ["http://127.0.0.1:9/"], progress=False)
