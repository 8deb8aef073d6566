"""``vae data import``: your own images as a dataset, every bad input one clean line.

Everything runs through the CLI users run (``vae_torch.cli.main``), into a temporary
user cache.
"""

import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image

from vae_numpy.data import load_dataset
from vae_numpy.data.idx import encode_idx
from vae_numpy.data.imports import FILES, imports_root
from vae_numpy.data.imports.settings import memory_bytes
from vae_torch import load_run
from vae_torch.cli import main


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def vae(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def error_line(capsys, *argv) -> str:
    """The one line of a refused command (exit 2, nothing on stdout, no traceback)."""
    code, out, err = vae(capsys, *argv)
    assert code == 2, (out, err)
    assert err.startswith("vae: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def png_folder(root, classes=("cat", "dog"), per_class=6, size=(8, 10), mode="L", seed=0):
    """One sub-folder per class (flat if ``classes`` is empty) of random PNG images."""
    rng = np.random.default_rng(seed)
    images = {}
    for label, name in enumerate(classes or ("",)):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            shape = (*size, 3) if mode == "RGB" else size
            pixels = rng.integers(0, 256, shape, dtype=np.uint8)
            Image.fromarray(pixels, mode).save(folder / f"{i:03d}.png")
            images[(label, i)] = pixels
    return images


def test_a_class_folder_is_imported_and_trains(tmp_path, capsys):
    png_folder(tmp_path / "src", per_class=20)
    code, out, _ = vae(capsys, "data", "import", tmp_path / "src", "--name", "pets")
    assert code == 0
    assert "36 training and 4 test images of 1x8x10 (grey)" in out  # 10% of each class
    raw = load_dataset("pets")
    assert raw.classes == ("cat", "dog") and raw.image_shape == (1, 8, 10)
    assert np.bincount(raw.test_labels).tolist() == [2, 2]
    manifest = json.loads((imports_root() / "pets" / "manifest.json").read_text())
    assert manifest["counts"]["train"] == {"cat": 18, "dog": 18}
    code, out, _ = vae(capsys, "data", "pets", "--out", tmp_path / "preview")
    assert code == 0 and "1x8x10 (grey)" in out
    code, out, err = vae(
        capsys,
        "train",
        "--dataset",
        "pets",
        "--model",
        "conv",
        "--channels",
        "4",
        "--strides",
        "2",
        "--hidden",
        "8",
        "--latent-dim",
        "2",
        "--epochs",
        "1",
        "--out",
        tmp_path / "run",
    )
    assert code == 0, err


def test_the_same_seed_gives_the_same_split_and_another_seed_another(tmp_path, capsys):
    png_folder(tmp_path / "src", per_class=20)
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        assert (
            vae(capsys, "data", "import", tmp_path / "src", "--name", name, "--seed", seed)[0] == 0
        )
    a, b, c = (load_dataset(n).test_images for n in "abc")
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_colour_palette_alpha_and_16_bit_images_are_converted_and_counted(tmp_path, capsys):
    src = tmp_path / "src"
    png_folder(src, ("grey",), per_class=2, mode="L")
    png_folder(src, ("rgb",), per_class=2, mode="RGB", seed=1)
    rgba = np.zeros((8, 10, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 128  # red, half transparent
    Image.fromarray(rgba, "RGBA").save(src / "rgb" / "alpha.png")
    Image.fromarray(np.full((8, 10), 51400, np.uint16)).save(src / "grey" / "deep.png")
    Image.fromarray(rgba[..., :3]).convert("P").save(src / "rgb" / "palette.png")
    code, out, _ = vae(capsys, "data", "import", src, "--name", "mixed", "--test-fraction", 0.3)
    assert code == 0
    assert "of 3x8x10 (RGB)" in out  # colour anywhere: RGB by default
    assert "transparency composited over black: 1 image(s)" in out
    assert "16-bit grey scaled to 8 bits: 1 image(s)" in out
    assert "palette expanded: 1 image(s)" in out
    assert "grey repeated to RGB: 3 image(s)" in out
    raw = load_dataset("mixed")
    images = np.concatenate([raw.train_images, raw.test_images])
    assert any((im == [[[100]], [[0]], [[0]]]).all() for im in images)  # 200 * 128/255 over black
    assert any((im == 200).all() for im in images)  # 51400 / 257 = 200, in all three channels
    code, out, _ = vae(capsys, "data", "import", src, "--name", "grey", "--channels", 1)
    assert code == 0 and "colour converted to grey: 4 image(s)" in out


def test_size_resizes_or_crops_and_says_which(tmp_path, capsys):
    src = tmp_path / "src"
    png_folder(src, ("a",), per_class=3, size=(8, 10))
    png_folder(src, ("b",), per_class=3, size=(16, 12))
    assert "different sizes (8x10 (3), 16x12 (3)" in error_line(
        capsys, "data", "import", src, "--name", "x"
    )
    for fit in ("resize", "crop"):
        code, out, _ = vae(
            capsys, "data", "import", src, "--name", fit, "--size", 6, 6, "--fit", fit
        )
        assert code == 0 and f"{fit}d to 6x6: 6 image(s)" in out
        assert load_dataset(fit).image_shape == (1, 6, 6)


def test_crop_keeps_the_centre_where_resize_keeps_everything(tmp_path, capsys):
    """A 16x12 image with bright bands in its top and bottom two rows: scaled by 1/2 to
    8x6, the 6x6 centre crop cuts the bands away; the resize squeezes them in."""
    image = np.zeros((16, 12), np.uint8)
    image[:2], image[-2:] = 255, 255
    for label in ("a", "b"):
        (tmp_path / "src" / label).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(image).save(tmp_path / "src" / label / f"{i}.png")
    for fit in ("resize", "crop"):
        assert (
            vae(
                capsys,
                "data",
                "import",
                tmp_path / "src",
                "--name",
                fit,
                "--size",
                6,
                6,
                "--fit",
                fit,
            )[0]
            == 0
        )
    assert load_dataset("resize").train_images[0, 0, 0].mean() > 150
    assert load_dataset("crop").train_images[0, 0, 0].mean() < 60


def test_arrays_and_idx_pairs_import_with_their_labels(tmp_path, capsys):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 6, 5, 3), dtype=np.uint8)
    labels = np.arange(40) % 4
    np.savez(tmp_path / "data.npz", images=images, labels=labels)
    assert vae(capsys, "data", "import", tmp_path / "data.npz", "--name", "arr")[0] == 0
    raw = load_dataset("arr")
    assert raw.image_shape == (3, 6, 5) and raw.classes == ("0", "1", "2", "3")
    everything = np.concatenate([raw.train_images, raw.test_images]).transpose(0, 2, 3, 1)
    assert sorted(map(bytes, everything)) == sorted(map(bytes, images))
    (tmp_path / "im-idx3-ubyte.gz").write_bytes(gzip.compress(encode_idx(images[..., 0])))
    (tmp_path / "lb-idx1-ubyte").write_bytes(encode_idx(labels.astype(np.uint8)))
    code, out, _ = vae(
        capsys,
        "data",
        "import",
        tmp_path / "im-idx3-ubyte.gz",
        "--labels",
        tmp_path / "lb-idx1-ubyte",
        "--name",
        "idx",
    )
    assert code == 0 and "of 1x6x5 (grey)" in out
    assert len(load_dataset("idx").classes) == 4


def test_fashion_mnist_as_png_folders_comes_back_bit_for_bit(tmp_path, capsys):
    """The real 70,000 images: exported one PNG each with class sub-folders, imported
    back with the test folder given, equal to the originals image for image."""
    assert vae(capsys, "data", "export", "fashion-mnist", tmp_path / "png")[0] == 0
    code, out, _ = vae(
        capsys,
        "data",
        "import",
        tmp_path / "png" / "train",
        "--test",
        tmp_path / "png" / "test",
        "--name",
        "fashion-png",
    )
    assert code == 0, out
    original, imported = load_dataset("fashion-mnist"), load_dataset("fashion-png")
    for split in ("train", "test"):
        labels = getattr(original, f"{split}_labels")
        order = np.argsort(labels, kind="stable")  # the import reads class by class
        assert np.array_equal(
            getattr(original, f"{split}_images")[order], getattr(imported, f"{split}_images")
        )
        assert np.array_equal(labels[order], getattr(imported, f"{split}_labels"))
    assert imported.classes[0] == "0-T-shirt-top"


def test_a_killed_import_leaves_no_dataset_and_the_next_removes_its_leftover(
    tmp_path, cache, capsys
):
    png_folder(tmp_path / "src", per_class=3000, size=(28, 28))
    env = os.environ | {"XDG_CACHE_HOME": str(cache)}
    command = [
        sys.executable,
        "-m",
        "vae_torch",
        "data",
        "import",
        str(tmp_path / "src"),
        "--name",
        "killed",
    ]
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    root = imports_root()
    deadline = time.monotonic() + 120
    while not any(root.glob(".killed.*.part/all-0.npy")) and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (root / "killed").exists()
    with pytest.raises(Exception, match="unknown dataset 'killed'"):
        load_dataset("killed")
    (leftover,) = root.glob(".killed.*.part")
    size = sum(f.stat().st_size for f in leftover.rglob("*"))
    assert size > 1_000_000  # some of the 6,000 images were written
    png_folder(tmp_path / "small")
    code, out, _ = vae(capsys, "data", "import", tmp_path / "small", "--name", "next")
    assert code == 0
    shown = f"{size / 1e6:.1f} MB"
    assert f"removed 1 leftover(s) of interrupted imports in {root}, freeing {shown}" in out
    assert sorted(p.name for p in root.iterdir()) == ["next"]  # no part folder, no lock file


HOLD_AN_IMPORT = """
import sys, time
from pathlib import Path
from vae_numpy.data.imports.write import claim_work_folder
work, lock = claim_work_folder(Path(sys.argv[1]), "running")
(work / "all-0.npy").write_bytes(bytes(1000))
print("ready", flush=True)
time.sleep(120)
"""


def test_leftovers_are_removed_but_never_a_running_imports_folder(tmp_path, capsys):
    """A part folder is a leftover when no live process holds its lock (or, written by
    an older version without one, when it is older than the running process); a
    replaced dataset moved aside by a killed process is one too."""
    root = imports_root()
    root.mkdir(parents=True)
    running = subprocess.Popen(
        [sys.executable, "-c", HOLD_AN_IMPORT, str(root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert running.stdout.readline() == "ready\n"
        old = root / ".legacy.abc123.part"
        old.mkdir()
        (old / "all-0.npy").write_bytes(bytes(3000))
        os.utime(old, (time.time() - 3600, time.time() - 3600))
        moved = root / ".x.999999999.old"  # no such process id
        moved.mkdir()
        (moved / "train-images.npy").write_bytes(bytes(500))
        png_folder(tmp_path / "src")
        code, out, _ = vae(capsys, "data", "import", tmp_path / "src", "--name", "mine")
        assert code == 0
        assert f"removed 2 leftover(s) of interrupted imports in {root}, freeing 3.5 kB" in out
        left = sorted(p.name for p in root.iterdir())
        assert len(left) == 3 and left[2] == "mine"  # and the running one's folder and lock
        assert left[0].startswith(".running.") and left[0].endswith(".lock")
        assert left[1] == left[0].replace(".lock", ".part")
    finally:
        running.kill()
        running.wait()


def test_data_clean_removes_the_leftovers_but_never_a_running_imports_folder(capsys):
    """vae data clean removes what vae data import removes first (remove_leftovers): the
    part folder of an import killed while it held its lock, a lock-less one older than
    the command and a replaced dataset a killed process moved aside; it imports nothing
    and keeps the folder a running import holds."""
    root = imports_root()
    root.mkdir(parents=True)
    killed, running = (
        subprocess.Popen(
            [sys.executable, "-c", HOLD_AN_IMPORT, str(root)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    )
    try:
        assert killed.stdout.readline() == "ready\n" and running.stdout.readline() == "ready\n"
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        old = root / ".legacy.abc123.part"
        old.mkdir()
        (old / "all-0.npy").write_bytes(bytes(3000))
        os.utime(old, (time.time() - 3600, time.time() - 3600))
        moved = root / ".x.999999999.old"  # no such process id
        moved.mkdir()
        (moved / "train-images.npy").write_bytes(bytes(500))
        assert len(list(root.glob(".running.*"))) == 4  # two part folders, two locks

        code, out, err = vae(capsys, "data", "clean")
        assert (code, err) == (0, "")
        assert out == f"removed 3 leftover(s) of interrupted imports in {root}, freeing 4.5 kB\n"
        left = sorted(p.name for p in root.iterdir())
        assert len(left) == 2  # the running import's folder and lock, nothing imported
        assert left[0].startswith(".running.") and left[0].endswith(".lock")
        assert left[1] == left[0].replace(".lock", ".part")

        code, out, _ = vae(capsys, "data", "clean")
        assert code == 0
        assert out == f"nothing to clean in {root}: no leftovers of interrupted imports\n"
    finally:
        running.kill()
        running.wait()


def test_data_clean_cleans_the_folder_given_to_import_with_to(tmp_path, capsys):
    part = tmp_path / "mine" / ".gone.abc123.part"
    part.mkdir(parents=True)
    (part / "all-0.npy").write_bytes(bytes(1234))
    os.utime(part, (time.time() - 3600, time.time() - 3600))
    code, out, _ = vae(capsys, "data", "clean", "--to", tmp_path / "mine")
    assert code == 0
    assert out == (
        f"removed 1 leftover(s) of interrupted imports in {tmp_path / 'mine'}, freeing 1.2 kB\n"
    )
    assert not any((tmp_path / "mine").iterdir())
    assert not imports_root().exists()  # the user cache's imports untouched


# -- bad input: one line each, naming the file and the fix, nothing written -------------


def test_a_size_too_large_for_the_memory_is_refused_with_the_size_that_fits(tmp_path, capsys):
    """Pillow would be asked for 10¹² pixels an image: refused before anything is read or
    written, with the largest size of the same proportions that fits."""
    png_folder(tmp_path / "src")  # 12 grey images
    line = error_line(
        capsys, "data", "import", tmp_path / "src", "--name", "x", "--size", 10**6, 10**6
    )
    match = re.fullmatch(
        r"vae: error: --size 1000000 1000000: 12 images of 1x1000000x1000000 are 12\.0 TB "
        r"as uint8 and 48\.0 TB as the float32 that training holds, more than this "
        r"machine's (\S+ [kMGT]B) of memory; --size (\d+) (\d+) fits \(or import fewer "
        r"images\)\n",
        line,
    )
    assert match, line
    side = int(match[2])
    assert match[3] == match[2] and 12 * 4 * side**2 <= memory_bytes() < 12 * 4 * (side + 1) ** 2
    assert nothing_written()


def test_hidden_entries_are_skipped_with_a_count_and_a_blank_class_name_is_refused(
    tmp_path, capsys
):
    """Hidden folders and files (a name that starts with '.', such as '...' or
    .ipynb_checkpoints, or macOS's ._000.png) are no class and no image: skipped and
    counted. A class folder named with spaces only is refused: rename it."""
    src = tmp_path / "src"
    png_folder(src)
    png_folder(src, ("...", ".ipynb_checkpoints"), per_class=2)
    (src / "cat" / "._000.png").write_bytes(b"macOS resource fork, not an image")
    code, out, _ = vae(capsys, "data", "import", src, "--name", "x")
    assert code == 0
    assert (
        "skipped: 3 hidden folder(s) and image file(s) (a name that starts with '.' is no "
        "class and no image): ..., .ipynb_checkpoints, ._000.png"
    ) in out
    raw = load_dataset("x")
    assert raw.classes == ("cat", "dog") and len(raw.train_labels) + len(raw.test_labels) == 12
    png_folder(tmp_path / "blank", ("cat", " "))
    assert error_line(capsys, "data", "import", tmp_path / "blank", "--name", "y") == (
        f"vae: error: {tmp_path / 'blank'}: a class folder named ' ' (only spaces) is no class "
        "name; rename it to the class it holds\n"
    )
    assert sorted(p.name for p in imports_root().iterdir()) == ["x"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m | {"classes": ["kitten", "dog"]}, "SHA-256 mismatch of the manifest's own"),
        (lambda m: m | {"image_shape": [1, 10, 8]}, "SHA-256 mismatch of the manifest's own"),
        (lambda m: m | {"name": "y", "manifest_sha256": "0" * 64}, "SHA-256 mismatch"),
        (
            lambda m: {k: v for k, v in m.items() if k != "manifest_sha256"},
            "holds no checksum of its own content",
        ),
    ],
    ids=["class name", "image shape", "checksum", "no checksum"],
)
def test_an_edited_manifest_is_refused_on_use(tmp_path, capsys, edit, message):
    png_folder(tmp_path / "src")
    assert vae(capsys, "data", "import", tmp_path / "src", "--name", "x")[0] == 0
    path = imports_root() / "x" / "manifest.json"
    path.write_text(json.dumps(edit(json.loads(path.read_text())), indent=2))
    for argv in (
        ["data", "x", "--out", tmp_path / "preview"],
        ["train", "--dataset", "x", "--hidden", "4", "--latent-dim", "2", "--epochs", "1",
         "--out", tmp_path / "run"],
    ):  # fmt: skip
        line = error_line(capsys, *argv)
        assert line.startswith(f"vae: error: {path}: ") and message in line, line
        assert line.endswith("import the dataset again\n")
    assert not (tmp_path / "preview").exists() and not (tmp_path / "run").exists()


# -- bad input: one line each, naming the file and the fix, nothing written -------------


def nothing_written():
    root = imports_root()
    return not root.exists() or not [p for p in root.iterdir() if not p.name.startswith(".")]


def test_an_empty_folder_or_one_without_images_is_refused(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert "no image files" in error_line(
        capsys, "data", "import", tmp_path / "empty", "--name", "x"
    )
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "notes.txt").write_text("not an image")
    assert "no image files" in error_line(
        capsys, "data", "import", tmp_path / "text", "--name", "x"
    )
    assert nothing_written()


def test_unreadable_images_are_listed_or_skipped_with_a_count(tmp_path, capsys):
    png_folder(tmp_path / "src", per_class=5)
    good = (tmp_path / "src" / "cat" / "000.png").read_bytes()
    (tmp_path / "src" / "cat" / "cut.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "src" / "dog" / "junk.png").write_bytes(b"not a png at all")
    line = error_line(capsys, "data", "import", tmp_path / "src", "--name", "x")
    assert "unreadable image file(s)" in line and "junk.png" in line and "--skip-bad" in line
    assert nothing_written()
    code, out, _ = vae(capsys, "data", "import", tmp_path / "src", "--name", "x", "--skip-bad")
    assert code == 0 and "skipped (--skip-bad): 2 unreadable file(s)" in out
    assert len(load_dataset("x").train_labels) + len(load_dataset("x").test_labels) == 10


@pytest.mark.parametrize(
    "name", ["bad\nname.png", "tab\there.png", os.fsdecode(b"not-utf8-\xff.png")]
)
def test_a_file_name_with_a_newline_or_no_text_stays_on_one_line(tmp_path, capsys, name):
    """Names reach messages escaped as repr escapes them (a newline as \\n, an undecodable
    byte as \\udcff): the error is still one line, and printable."""
    png_folder(tmp_path / "src")
    (tmp_path / "src" / "cat" / name).write_bytes(b"not an image")
    line = error_line(capsys, "data", "import", tmp_path / "src", "--name", "x")
    shown = repr(name)[1:-1]
    assert f"1 unreadable image file(s): {tmp_path}/src/cat/{shown} (UnidentifiedImageError" in line
    assert nothing_written()


def test_one_class_only_is_refused(tmp_path, capsys):
    png_folder(tmp_path / "src", ("only",))
    assert "one class only (only)" in error_line(
        capsys, "data", "import", tmp_path / "src", "--name", "x"
    )
    np.savez(tmp_path / "one.npz", images=np.zeros((5, 4, 4), np.uint8), labels=np.zeros(5, int))
    assert "one class only" in error_line(
        capsys, "data", "import", tmp_path / "one.npz", "--name", "x"
    )


@pytest.mark.parametrize(
    ("images", "labels", "message"),
    [
        (np.zeros((5, 4, 4), np.uint8), np.arange(4) % 2, "4 labels for 5 images"),
        (np.zeros((5, 4, 4), np.float32), None, "images must be uint8"),
        (np.zeros((5, 16), np.uint8), None, "must be (N, H, W) or (N, H, W, C)"),
        (np.zeros((5, 4, 4, 2), np.uint8), None, "must be (N, H, W) or (N, H, W, C)"),
    ],
)
def test_bad_arrays_are_refused(tmp_path, capsys, images, labels, message):
    arrays = {"images": images} | ({} if labels is None else {"labels": labels})
    np.savez(tmp_path / "bad.npz", **arrays)
    assert message in error_line(capsys, "data", "import", tmp_path / "bad.npz", "--name", "x")
    assert nothing_written()


def test_names_collide_with_builtins_and_imports_only_with_force(tmp_path, capsys):
    png_folder(tmp_path / "src")
    assert "is a built-in dataset" in error_line(
        capsys, "data", "import", tmp_path / "src", "--name", "mnist"
    )
    assert "use lower-case letters" in error_line(
        capsys, "data", "import", tmp_path / "src", "--name", "../up"
    )
    assert vae(capsys, "data", "import", tmp_path / "src", "--name", "x")[0] == 0
    assert "already exists" in error_line(capsys, "data", "import", tmp_path / "src", "--name", "x")
    png_folder(tmp_path / "src2", per_class=9)
    assert vae(capsys, "data", "import", tmp_path / "src2", "--name", "x", "--force")[0] == 0
    assert len(load_dataset("x").train_labels) + len(load_dataset("x").test_labels) == 18


def test_an_import_altered_afterwards_is_refused_on_use(tmp_path, capsys):
    png_folder(tmp_path / "src")
    assert vae(capsys, "data", "import", tmp_path / "src", "--name", "x")[0] == 0
    path = imports_root() / "x" / FILES["train_images"]
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    line = error_line(capsys, "data", "x", "--out", tmp_path)
    assert "SHA-256 mismatch with the manifest" in line and "import the dataset again" in line


def test_a_symlink_loop_is_refused(tmp_path, capsys):
    png_folder(tmp_path / "src")
    (tmp_path / "src" / "cat" / "again").symlink_to(tmp_path / "src" / "cat")
    assert "symlink loop" in error_line(capsys, "data", "import", tmp_path / "src", "--name", "x")
    assert nothing_written()


def test_mixed_images_and_folders_and_mismatched_test_classes_are_refused(tmp_path, capsys):
    png_folder(tmp_path / "src")
    png_folder(tmp_path / "src", ("",), per_class=1)
    assert "holds both images and sub-folders" in error_line(
        capsys, "data", "import", tmp_path / "src", "--name", "x"
    )
    png_folder(tmp_path / "a")
    png_folder(tmp_path / "b", ("cat", "cow"))
    assert "are not those of the training images" in error_line(
        capsys, "data", "import", tmp_path / "a", "--test", tmp_path / "b", "--name", "x"
    )


@pytest.mark.parametrize("likelihood", ["bernoulli", "discretized-logistic"])
def test_a_labelled_rgb_import_gets_a_judge_and_its_samples_are_scored(
    tmp_path, capsys, likelihood
):
    """Red and blue squares on black, 24x20: a conv VAE trains on them, binarized or as
    8-bit values (the discretised logistic: [μ, log s] for each of the 3 channels), and
    ``vae evaluate --samples`` scores its samples with a judge of three input channels."""
    rng = np.random.default_rng(0)
    for label, colour in enumerate(("red", "blue")):
        (tmp_path / "src" / colour).mkdir(parents=True)
        for i in range(30):
            image = np.zeros((24, 20, 3), np.uint8)
            top, left = rng.integers(0, 12), rng.integers(0, 10)
            image[top : top + 10, left : left + 8, 2 * label] = 255
            Image.fromarray(image).save(tmp_path / "src" / colour / f"{i}.png")
    assert vae(capsys, "data", "import", tmp_path / "src", "--name", "squares")[0] == 0
    code, _, err = vae(
        capsys,
        "train",
        "--dataset",
        "squares",
        "--model",
        "conv",
        "--channels",
        "4",
        "--strides",
        "2",
        "--hidden",
        "8",
        "--latent-dim",
        "2",
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--likelihood",
        likelihood,
        "--out",
        tmp_path / "run",
    )
    assert code == 0, err
    model = load_run(tmp_path / "run").model
    assert model.decoder(torch.zeros(1, 2)).shape == (1, 3 * model.likelihood.outputs, 24, 20)
    code, _, err = vae(
        capsys, "evaluate", tmp_path / "run", "--k", "2", "--samples", "20", "--device", "cpu"
    )
    assert code == 0, err
    record = json.loads((tmp_path / "run" / "evaluation-test-best-k2.json").read_text())
    assert record["sample_quality"]["judge"]["image_shape"] == [3, 24, 20]
    assert 0 <= record["sample_quality"]["recognisable_share"]["value"] <= 1
    dims = 3 * 24 * 20  # bits per dimension over C·H·W: nats / (D ln 2) for both
    assert record["elbo_bits_per_dim"] == pytest.approx(-record["elbo"] / (dims * np.log(2)))


def test_every_supported_format_is_read_and_a_gif_gives_its_first_frame(tmp_path, capsys):
    """PNG, JPEG, BMP, WebP and GIF in one folder (lossless where the format allows)."""
    rows, cols = np.mgrid[0:6, 0:8]
    pixels = np.stack([rows * 40, cols * 30, 255 - rows * 20 - cols * 10], -1).astype(np.uint8)
    folder = tmp_path / "src"
    folder.mkdir()
    for suffix in ("png", "bmp"):
        Image.fromarray(pixels).save(folder / f"a.{suffix}")
    Image.fromarray(pixels).save(folder / "a.webp", lossless=True)
    Image.fromarray(pixels).save(folder / "b.jpg", quality=95)
    frames = [Image.fromarray(np.full((6, 8), v, np.uint8)) for v in (40, 200)]
    frames[0].save(folder / "c.gif", save_all=True, append_images=frames[1:])
    code, out, _ = vae(
        capsys, "data", "import", folder, "--name", "formats", "--test-fraction", 0.2
    )
    assert code == 0 and "of 3x6x8 (RGB)" in out
    raw = every_image("formats")
    exact = [im for im in raw if np.array_equal(im, pixels.transpose(2, 0, 1))]
    assert len(exact) == 3  # PNG, BMP and lossless WebP bit for bit
    assert any((im == 40).all() for im in raw)  # the GIF's first frame, not its second
    jpeg = [
        im
        for im in raw
        if not np.array_equal(im, pixels.transpose(2, 0, 1)) and not (im == 40).all()
    ]
    assert len(jpeg) == 1 and np.abs(jpeg[0].astype(int) - pixels.transpose(2, 0, 1)).mean() < 10


def every_image(name: str) -> list[np.ndarray]:
    raw = load_dataset(name)
    return list(np.concatenate([raw.train_images, raw.test_images]))
