"""The text report of ``vae data``: where a dataset came from, its checksums and shapes."""

import numpy as np

from vae_numpy.data.dataset import RawDataset


def describe(raw: RawDataset) -> str:
    lines = [f"{raw.name}: found in {raw.origin}", "", "file checksums (SHA-256 of the file):"]
    width = max(len(f.path.name) for f in raw.files)
    lines += [f"  {f.path.name:<{width}}  {f.sha256}  {f.verified_by}" for f in raw.files]
    lines += ["", "split   images            labels"]
    for split, images, labels in (
        ("train", raw.train_images, raw.train_labels),
        ("test", raw.test_images, raw.test_labels),
    ):
        lines.append(f"{split:<7} {images.shape!s:<17} {labels.shape}  {images.dtype}")
    if not raw.labelled:
        lines += [
            "",
            f"no classes: {len(raw.train_labels)} training and "
            f"{len(raw.test_labels)} test images without labels",
        ]
        return "\n".join([*lines, *pixel_lines(raw)])
    train_counts = np.bincount(raw.train_labels, minlength=len(raw.classes))
    test_counts = np.bincount(raw.test_labels, minlength=len(raw.classes))
    cw = max(len(c) for c in raw.classes) + 4
    lines += ["", f"{'class':<{cw}} {'train':>6} {'test':>6}"]
    for i, name in enumerate(raw.classes):
        lines.append(f"{f'{i} {name}':<{cw}} {train_counts[i]:>6} {test_counts[i]:>6}")
    lines.append(f"{'total':<{cw}} {train_counts.sum():>6} {test_counts.sum():>6}")
    return "\n".join([*lines, *pixel_lines(raw)])


def pixel_lines(raw: RawDataset) -> list[str]:
    c, h, w = raw.image_shape
    mean = raw.train_images.mean(dtype=np.float64) / 255
    kind = {1: "grey", 3: "RGB"}.get(c, f"{c} channels")
    return ["", f"images: {c}x{h}x{w} ({kind}); mean pixel (train, scaled to [0, 1]): {mean:.4f}"]
