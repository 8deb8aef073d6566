"""A split on the device, in one piece; batches are drawn by indexing.

The uint8 images go to the device once (47 MB for 60,000 images). The evaluation
view is made by the shared numpy code (``vae_numpy.data.pixels.fixed``), so both
backends evaluate on identical data; the per-epoch views of dynamic binarization
and dequantization are drawn on the device from a ``torch.Generator``. A batch is
``x[idx]`` for a tensor of indices: no DataLoader, no per-item Python.
"""

import copy

import torch

from vae_numpy.data import load_dataset, split
from vae_numpy.data import pixels as np_pixels
from vae_numpy.data.pixels import Pixels
from vae_numpy.data.splits import Split
from vae_numpy.run.config import TrainConfig
from vae_numpy.run.options import DEFAULTS, Options


class DeviceSplit:
    """Images (N, C·H·W) and labels (N,) of one split, resident on ``device``."""

    def __init__(
        self,
        split: Split,
        pixels: Pixels,
        seed: int,
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        classes: tuple[str, ...] = (),
    ):
        flat = split.images.reshape(len(split), -1)
        if not flat.flags.writeable:  # a memory-mapped import: torch wants its own copy
            flat = flat.copy()
        np_dtype = torch.empty((), dtype=dtype).numpy().dtype
        self.pixels = Pixels(pixels)
        self.dtype = dtype
        self.classes = classes  # names of the labels, where known
        self.image_shape = tuple(split.images.shape[1:])  # (C, H, W)
        self.uint8 = torch.from_numpy(flat).to(device)  # (N, C·H·W)
        self.labels = torch.from_numpy(split.labels).to(device)  # (N,)
        self.fixed = torch.from_numpy(np_pixels.fixed(flat, self.pixels, seed, np_dtype)).to(
            device
        )  # (N, C·H·W)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, n: int, seed: int) -> "DeviceSplit":
        """A seeded random ``n`` of the images (in their original order), the same view."""
        generator = torch.Generator().manual_seed(seed)
        rows = torch.randperm(len(self), generator=generator)[:n].sort().values.to(self.device)
        part = copy.copy(self)
        part.uint8, part.labels, part.fixed = self.uint8[rows], self.labels[rows], self.fixed[rows]
        return part

    @property
    def device(self) -> torch.device:
        return self.uint8.device

    def grey(self) -> torch.Tensor:
        """The images as grey levels u/255, (N, C, H, W) float32: what a judge sees."""
        return self.uint8.float().div(255).view(-1, *self.image_shape)

    def epoch(self, generator: torch.Generator, shift: int = 0) -> torch.Tensor:
        """What one training epoch sees (N, C·H·W): fresh noise for the dynamic kinds;
        with ``shift``, each image moved by its own random offset of up to ``shift``
        pixels along each axis (augmentation; the uncovered border is background, 0).
        The offsets are drawn first, and only when ``shift`` > 0, so an unshifted
        epoch draws exactly what it did before shifts existed."""
        offsets = self.offsets(shift, generator) if shift else None
        if not self.pixels.fresh_each_epoch:
            return self.fixed if offsets is None else self.shifted(self.fixed, shift, offsets)
        u = self.uint8 if offsets is None else self.shifted(self.uint8, shift, offsets)
        if self.pixels is Pixels.DYNAMIC_BINARY:
            return torch.bernoulli(u.to(self.dtype) / 255, generator=generator)
        levels = np_pixels.NOISE_LEVELS  # see vae_numpy.data.pixels.dequantize
        r = torch.randint(
            0, levels, u.shape, generator=generator, device=self.device, dtype=torch.int32
        )
        return (u.to(torch.int32) * levels + r).to(self.dtype) / (256 * levels)

    def offsets(self, shift: int, generator: torch.Generator) -> torch.Tensor:
        """(N, 2) offsets in 0..2·shift, one (row, column) pair per image."""
        return torch.randint(
            0, 2 * shift + 1, (len(self), 2), generator=generator, device=generator.device
        ).to(self.device)

    def shifted(self, flat: torch.Tensor, shift: int, offsets: torch.Tensor) -> torch.Tensor:
        """Images (N, C·H·W) moved by shift − offsets: windows of the zero-padded images."""
        n, (c, h, w) = len(flat), self.image_shape
        padded = torch.nn.functional.pad(flat.view(n, c, h, w), (shift,) * 4)
        rows = offsets[:, 0, None] + torch.arange(h, device=self.device)  # (N, H)
        cols = offsets[:, 1, None] + torch.arange(w, device=self.device)  # (N, W)
        images = torch.arange(n, device=self.device)[:, None, None, None]
        channels = torch.arange(c, device=self.device)[None, :, None, None]
        return padded[images, channels, rows[:, None, :, None], cols[:, None, None, :]].reshape(
            n, -1
        )


def batch_indices(
    n: int, batch_size: int, generator: torch.Generator | None, device: torch.device
) -> tuple[torch.Tensor, ...]:
    """Index tensors of the batches of one pass: shuffled with ``generator``, else in order."""
    if generator is None:
        order = torch.arange(n, device=device)
    else:
        order = torch.randperm(n, generator=generator, device=generator.device).to(device)
    return order.split(batch_size)


def run_splits(
    config: TrainConfig,
    which: tuple[str, ...],
    device: torch.device,
    dtype: torch.dtype,
    options: Options = DEFAULTS,
) -> tuple[DeviceSplit, ...]:
    """The ``which`` splits ("train", "val", "test") of a run's data, as the run saw them:
    same dataset, validation split, limit and pixel view."""
    raw = load_dataset(config.dataset, options)
    splits = split(raw, config.n_val, config.seed, config.limit)
    return tuple(
        DeviceSplit(getattr(splits, w), config.pixels, config.seed, device, dtype, raw.classes)
        for w in which
    )


def run_split(
    config: TrainConfig,
    which: str,
    device: torch.device,
    dtype: torch.dtype,
    options: Options = DEFAULTS,
) -> DeviceSplit:
    """One split of a run's data (see ``run_splits``)."""
    return run_splits(config, (which,), device, dtype, options)[0]
