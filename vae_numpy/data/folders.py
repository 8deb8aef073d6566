"""Datasets as folders of image files, and real colour images drawn offline.

``write_png_folder`` writes a dataset the way people keep their own images, one PNG per
image and one sub-folder per class (``OUT/train/03-Dress/00017.png``); importing that
folder back gives the same arrays bit for bit (the tests check it on Fashion-MNIST).

``write_emoji_folder`` draws the colour emoji of Google's Noto Color Emoji font, which
Debian ships (``fonts-noto-color-emoji``), with Pillow: some thousand real RGBA images
that need no download, the package's offline stand-in for a folder of photographs.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm  # text bars: the same in a terminal, a notebook and the docs

from vae_numpy.data.dataset import RawDataset
from vae_numpy.run.errors import DataError

EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
EMOJI_PACKAGE = "fonts-noto-color-emoji"
EMOJI_SIZE = 109  # the one size of the font's bitmaps
EMOJI_CANVAS = 160  # a square that holds every glyph at that size
# the Unicode blocks of pictographs: symbols and pictographs, emoticons, transport and
# map, supplemental symbols and pictographs
EMOJI_BLOCKS = ((0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F900, 0x1F9FF))


def class_folder(index: int, name: str, n_classes: int) -> str:
    """``07-Sneaker``: sorted like the labels; a '/' in a name becomes '-'."""
    return f"{index:0{len(str(n_classes - 1))}d}-{name.replace('/', '-')}"


def write_png_folder(raw: RawDataset, out: Path, progress: bool = True) -> int:
    """Every image of ``raw`` as OUT/SPLIT/CLASS/INDEX.png (flat OUT/SPLIT/ without
    classes); returns the number of files. ``out`` must not exist yet."""
    out = Path(out)
    if out.exists():
        raise DataError(f"{out} already exists; give a new folder")
    total = 0
    for split in ("train", "test"):
        images, labels = getattr(raw, f"{split}_images"), getattr(raw, f"{split}_labels")
        folders = [
            out / split / class_folder(i, name, len(raw.classes))
            for i, name in enumerate(raw.classes)
        ] or [out / split]
        for folder in folders:
            folder.mkdir(parents=True)
        width = len(str(len(images) - 1))
        for i in tqdm(
            range(len(images)), desc=f"{raw.name} {split}", disable=None if progress else True
        ):
            image = images[i]
            pixels = image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
            folder = folders[labels[i]] if raw.classes else folders[0]
            Image.fromarray(np.ascontiguousarray(pixels)).save(folder / f"{i:0{width}d}.png")
        total += len(images)
    return total


def write_emoji_folder(out: Path, progress: bool = True) -> int:
    """Each emoji of the font's pictograph blocks as a PNG named by its code point in
    hex (U+1F600 as OUT/u1F600.png): RGBA on a
    transparent background, centred on a square as wide as the glyph's larger side
    (about 128 pixels); returns the number drawn. Code points the font has no picture
    for (an empty drawing) are left out."""
    if not EMOJI_FONT.is_file():
        raise DataError(
            f"{EMOJI_FONT} not found; install Debian's colour emoji font: "
            f"apt-get install {EMOJI_PACKAGE} (.ci/setup does)"
        )
    out = Path(out)
    if out.exists():
        raise DataError(f"{out} already exists; give a new folder")
    out.mkdir(parents=True)
    font = ImageFont.truetype(str(EMOJI_FONT), EMOJI_SIZE)
    drawn = 0
    points = [cp for low, high in EMOJI_BLOCKS for cp in range(low, high + 1)]
    for cp in tqdm(points, desc="drawing emoji", disable=None if progress else True):
        canvas = Image.new("RGBA", (EMOJI_CANVAS, EMOJI_CANVAS), (0, 0, 0, 0))
        ImageDraw.Draw(canvas).text((0, 0), chr(cp), font=font, embedded_color=True)
        if (box := canvas.getbbox()) is None:
            continue
        glyph = canvas.crop(box)
        side = max(glyph.size)
        square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        square.paste(glyph, ((side - glyph.width) // 2, (side - glyph.height) // 2))
        square.save(out / f"u{cp:05X}.png")
        drawn += 1
    return drawn
