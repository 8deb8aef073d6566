"""``vae data import`` of random small folders, a property test: each import either
gives arrays equal to Pillow's own decode of each file after the documented conversion,
or fails with one line that names the bad file; never a traceback, never a half-written
dataset.

The documented conversions (``vae_numpy.data.imports``), applied here in numpy to what
Pillow decodes: 16-bit grey x → round(x / 257); transparency over black, c → round(c·α /
255); a palette expanded by Pillow (to RGBA where it has transparency); grey repeated to
RGB when any image has colour (read off the headers). Hidden files (a name that starts
with '.') are skipped; a link is followed, and a link to nothing is an unreadable file.
"""

import contextlib
import io
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from vae_numpy.data.imports import FILES, MANIFEST, ImportedDataset
from vae_torch.cli import main

MODES = ("L", "RGB", "RGBA", "P", "PA-transparent", "I;16")
NAME_CHARACTERS = st.characters(
    codec="utf-8", exclude_characters="/\x00", exclude_categories=("Cs",)
)


@st.composite
def image_files(draw):
    """(name, kind, mode, seed): kind is good, junk, truncated, link or dangling."""
    n = draw(st.integers(1, 6))
    names = draw(
        st.lists(
            st.text(NAME_CHARACTERS, min_size=1, max_size=8), min_size=n, max_size=n, unique=True
        )
    )
    kinds = st.sampled_from(["good"] * 6 + ["junk", "truncated", "link", "dangling"])
    return [
        (name, draw(kinds), draw(st.sampled_from(MODES)), draw(st.integers(0, 2**16)))
        for name in names
    ]


def make_image(mode: str, size: tuple[int, int], seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    h, w = size
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65536, (h, w), dtype=np.uint16))
    if mode.startswith("P"):
        im = Image.fromarray(rng.integers(0, 4, (h, w), dtype=np.uint8), "L").convert("P")
        im.putpalette(rng.integers(0, 256, 12, dtype=np.uint8).tolist())
        if mode == "PA-transparent":
            im.info["transparency"] = 1
        return im
    channels = {"L": (), "RGB": (3,), "RGBA": (4,)}[mode]
    return Image.fromarray(rng.integers(0, 256, (h, w, *channels), dtype=np.uint8), mode)


def reference(path: Path, channels: int) -> np.ndarray:
    """Pillow's decode of the file, then the documented conversion, as uint8 (C, H, W)."""
    with Image.open(path) as im:
        if im.mode == "P":
            im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        if im.mode.startswith("I;16"):
            grey = np.round(np.asarray(im, np.float64) / 257).astype(np.uint8)[..., None]
        elif im.mode == "RGBA":
            rgba = np.asarray(im, np.int64)
            grey = ((rgba[..., :3] * rgba[..., 3:] + 127) // 255).astype(np.uint8)
        else:
            grey = np.asarray(im, np.uint8).reshape(im.height, im.width, -1)
    if grey.shape[2] == 1 and channels == 3:
        grey = np.repeat(grey, 3, axis=2)
    return grey.transpose(2, 0, 1)


def has_colour(path: Path) -> bool:
    """What the import reads off a header: colour, unless grey or a palette of greys."""
    try:
        with Image.open(path) as im:
            if im.mode == "P":
                rgb = np.asarray(im.getpalette(), np.uint8).reshape(-1, 3)
                return not (rgb == rgb[:, :1]).all()
            return im.mode in ("RGB", "RGBA")
    except Exception:
        return False


def write_folder(root: Path, files, size) -> tuple[list[Path], list[Path]]:
    """The files in ``root`` (links point into a sibling store); (good ones, bad ones),
    hidden ones in neither."""
    store = root.parent / "store"
    store.mkdir()
    good, bad = [], []
    for i, (name, kind, mode, seed) in enumerate(files):
        path = root / f"{name}.png"
        image = make_image(mode, size, seed)
        if kind == "junk":
            path.write_bytes(b"not an image at all")
        elif kind == "truncated":
            full = io.BytesIO()
            image.save(full, "PNG")
            path.write_bytes(full.getvalue()[: len(full.getvalue()) // 2])
        elif kind == "link":
            image.save(store / f"{i}.png")
            path.symlink_to(store / f"{i}.png")
        elif kind == "dangling":
            path.symlink_to(store / f"gone-{i}.png")
        else:
            image.save(path)
        if not name.startswith("."):
            (good if kind in ("good", "link") else bad).append(path)
    return good, bad


def run(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    files=image_files(),
    size=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    skip_bad=st.booleans(),
)
def test_an_import_is_pillows_decode_converted_or_one_line_that_names_the_file(
    files, size, skip_bad
):
    with tempfile.TemporaryDirectory() as tmp:
        root, to = Path(tmp) / "src", Path(tmp) / "imports"
        root.mkdir()
        good, bad = write_folder(root, files, size)
        argv = ["data", "import", root, "--name", "x", "--to", to, "--test-fraction", 0.5]
        code, out, err = run(*argv, *(["--skip-bad"] if skip_bad else []))
        assert "Traceback" not in err
        event("imported" if code == 0 else "refused")
        if code != 0:
            assert code == 2 and out == "", (out, err)
            assert err.startswith("vae: error: ") and err.count("\n") == 1, err
            if bad and not skip_bad:  # the bad files are named, escaped (up to ten)
                assert "unreadable image file(s)" in err or "can be read" in err
                assert repr(str(sorted(bad)[0]))[1:-1] in err, err
            else:  # too few images to split, or none readable
                assert len(good) < 2, err
            assert not to.exists() or list(to.iterdir()) == []  # nothing, not even a part
            return
        assert not bad or skip_bad
        assert sorted(p.name for p in to.iterdir()) == ["x"]  # no part folder, no lock
        assert sorted(p.name for p in (to / "x").iterdir()) == sorted([*FILES.values(), MANIFEST])
        dataset = ImportedDataset("x", to / "x")
        raw = dataset.read(*dataset.find(None))
        shown = [p for p in root.iterdir() if not p.name.startswith(".")]
        channels = 3 if any(has_colour(p) for p in shown) else 1
        imported = sorted(map(bytes, np.concatenate([raw.train_images, raw.test_images])))
        expected = sorted(bytes(reference(p, channels)) for p in good)
        assert raw.image_shape == (channels, *size)
        assert imported == expected
