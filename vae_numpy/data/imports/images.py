"""One image file to uint8 (C, H, W): its mode converted, its size fitted."""

from pathlib import Path

import numpy as np
from PIL import Image

from vae_numpy.data.imports.settings import GREY_MODES, Conversions


def read_image(path: Path):
    """The first frame of an image file, fully decoded (a truncated file fails here)."""
    im = Image.open(path)
    im.seek(0)
    im.load()
    return im


def has_colour(mode: str) -> bool:
    return mode not in GREY_MODES


def to_array(im, channels: int, size, fit: str, done: Conversions) -> np.ndarray:
    """A Pillow image as uint8 (C, H, W), every conversion counted in ``done``."""
    if im.mode.startswith("I") or im.mode == "F":
        grey = np.asarray(im, dtype=np.float64)
        if grey.max(initial=0) > 255 or im.mode.startswith("I;16"):
            done.add("16-bit grey scaled to 8 bits")
            grey = grey / 257
        im = Image.fromarray(np.clip(grey.round(), 0, 255).astype(np.uint8), "L")
    if im.mode == "P":
        done.add("palette expanded")
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "La", "RGBa", "PA"):
        done.add("transparency composited over black")
        rgba = im.convert("RGBA")
        im = Image.new("RGB", rgba.size)
        im.paste(rgba, mask=rgba.getchannel("A"))
    if im.mode not in ("L", "RGB"):
        done.add(f"{im.mode} converted to {'RGB' if has_colour(im.mode) else 'L'}")
        im = im.convert("RGB" if has_colour(im.mode) else "L")
    if channels == 1 and im.mode == "RGB":
        done.add("colour converted to grey")
        im = im.convert("L")
    elif channels == 3 and im.mode == "L":
        done.add("grey repeated to RGB")
        im = im.convert("RGB")
    if size is not None and im.size != (size[1], size[0]):
        done.add(f"{fit}d to {size[0]}x{size[1]}")
        im = fitted(im, size, fit)
    array = np.asarray(im, dtype=np.uint8)
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def fitted(im, size: tuple[int, int], fit: str):
    """``im`` at (H, W) = ``size``: stretched (resize), or scaled to cover and centre-cut."""
    height, width = size
    if fit == "resize":
        return im.resize((width, height), Image.Resampling.LANCZOS)
    scale = max(width / im.width, height / im.height)
    w, h = max(width, round(im.width * scale)), max(height, round(im.height * scale))
    im = im.resize((w, h), Image.Resampling.LANCZOS)
    left, top = (w - width) // 2, (h - height) // 2
    return im.crop((left, top, left + width, top + height))
