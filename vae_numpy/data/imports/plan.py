"""The plan of an import, made before anything is written: the common size and channels,
and the bad files."""

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm  # text bars: the same in a terminal, a notebook and the docs

from vae_numpy.data.imports.images import has_colour
from vae_numpy.data.imports.readers import Source
from vae_numpy.data.imports.settings import LISTED, ImportSettings, memory_bytes, shown_bytes
from vae_numpy.run.errors import DataError

FLOAT_BYTES = 4  # a pixel as training holds it (float32)


@dataclass(frozen=True)
class Plan:
    shape: tuple[int, int, int]  # (C, H, W) of every imported image


def plan(sources: list[Source], settings: ImportSettings, progress: bool) -> Plan:
    """The common shape, read off the headers (folders) or the arrays; a file whose
    header cannot be read is left to ``read_into``, which lists it."""
    sizes, colour, unreadable = Counter(), False, []
    for source in sources:
        if source.array is not None:
            a = source.array
            sizes[a.shape[1:3]] += len(a)
            colour |= a.ndim == 4 and a.shape[3] == 3
            continue
        for path in tqdm(
            source.files, desc="reading headers", unit="img", disable=None if progress else True
        ):
            try:
                with Image.open(path) as im:
                    sizes[(im.height, im.width)] += 1
                    colour |= has_colour(im.mode) and not grey_palette(im)
            except (UnidentifiedImageError, OSError, ValueError) as err:
                unreadable.append((path, f"{type(err).__name__}: {err}"))
    if not sizes:
        raise DataError(
            f"none of the {sum(map(len, sources))} image files can be read: "
            f"{listed(unreadable)}; check that they are images"
        )
    if settings.size is not None:
        size = tuple(settings.size)
    elif len(sizes) == 1:
        size = next(iter(sizes))
    else:
        common = ", ".join(f"{h}x{w} ({n})" for (h, w), n in sizes.most_common(4))
        raise DataError(
            f"the images have {len(sizes)} different sizes ({common}, ...); give one with "
            "--size H W (and --fit resize or crop)"
        )
    channels = settings.channels or (3 if colour else 1)
    check_fits(sum(map(len, sources)), (channels, *size), settings)
    return Plan((channels, *size))


def check_fits(n: int, shape: tuple[int, int, int], settings: ImportSettings) -> None:
    """Refuse, before anything is read or written, a dataset that this machine cannot
    hold: training keeps all N·C·H·W pixels in memory as float32 (4 bytes each); say
    the largest size of the same proportions that fits."""
    pixels = n * math.prod(shape)
    memory = memory_bytes()
    if FLOAT_BYTES * pixels <= memory:
        return
    c, h, w = shape
    scale = math.sqrt(memory / (FLOAT_BYTES * pixels))
    fits = (max(1, math.floor(h * scale)), max(1, math.floor(w * scale)))
    given = f"--size {h} {w}" if settings.size is not None else f"at their size {h}x{w}"
    raise DataError(
        f"{given}: {n} images of {c}x{h}x{w} are {shown_bytes(pixels)} as uint8 and "
        f"{shown_bytes(FLOAT_BYTES * pixels)} as the float32 that training holds, more than "
        f"this machine's {shown_bytes(memory)} of memory; --size {fits[0]} {fits[1]} fits "
        "(or import fewer images)"
    )


def grey_palette(im) -> bool:
    """A palette image whose every colour is a grey."""
    palette = im.getpalette() if im.mode == "P" else None
    if not palette:
        return False
    rgb = np.asarray(palette, np.uint8).reshape(-1, 3)
    return bool((rgb == rgb[:, :1]).all())


def check_bad(bad: list[tuple[Path, str]], skip_bad: bool) -> None:
    if bad and not skip_bad:
        raise DataError(
            f"{len(bad)} unreadable image file(s): {listed(bad)}; fix or remove them, or "
            "pass --skip-bad to import the rest"
        )


def listed(bad: list[tuple[Path, str]]) -> str:
    """The first LISTED bad files with why, and how many more."""
    shown = "; ".join(f"{p} ({why})" for p, why in bad[:LISTED])
    return shown + (f" and {len(bad) - LISTED} more" if len(bad) > LISTED else "")
