"""Your own images as a dataset: ``vae data import SOURCE --name NAME``.

A source is one of

- a folder of image files (PNG, JPEG, BMP, WebP, GIF: the first frame), read with
  Pillow; flat (a dataset without classes) or with one sub-folder per class, whose
  names, sorted, are the classes (torchvision's ``ImageFolder`` convention); hidden
  entries (a name that starts with '.') are skipped and counted, a class folder named
  with spaces only is refused;
- a ``.npy`` or ``.npz`` array of uint8 images (N, H, W) or (N, H, W, C) with C 1 or 3;
  an ``.npz`` holds them under ``images`` (or ``x``) and may hold integer labels
  under ``labels`` (or ``y``); labels of a ``.npy`` come from ``--labels FILE.npy``;
- an IDX pair: the images file as SOURCE, its labels file as ``--labels``.

Every image becomes uint8 (C, H, W) of one common size (``--size H W``: ``resize``
stretches each image to H x W, ``crop`` scales its shorter side to fit and cuts the
centre) and one channel count (``--channels 1|3``; by default 3 when any image has
colour). Conversions are explicit and counted: transparency is composited over black
(the background of the built-in datasets), palette images are expanded, 16-bit grey
levels are scaled to 8 bits (x / 257, rounded), colour to grey uses ITU-R 601 luma.

The test split is a seeded fraction of each class (``--test-fraction``, ``--seed``),
or a second source of the same kind (``--test``).

The result is an immutable folder, in the user cache unless ``--to DIR``:
``train-images.npy`` and ``test-images.npy`` (uint8 (N, C, H, W), memory-mappable),
``train-labels.npy`` and ``test-labels.npy`` (int64; -1 throughout without classes)
and ``manifest.json`` (shape, classes, counts, the source, the split, the conversions
and the SHA-256 of every file, and of the manifest's own content). It is written into
a temporary folder beside its destination (locked while its import runs) and renamed
into place when complete, so a kill at any moment leaves no half-written dataset under
the name, and the next import (or ``vae data clean``) removes the folder a killed one
left; a dataset whose pixels would not fit in memory as float32 (as training holds
them) is refused first; the images stream through a memory-mapped file, so memory
stays bounded whatever their number. On every use the files and the manifest are
checked against their checksums.
"""

from vae_numpy.data.imports.imported import ImportedDataset, find_import
from vae_numpy.data.imports.settings import FILES, MANIFEST, ImportSettings, imports_root
from vae_numpy.data.imports.write import ImportReport, import_dataset

__all__ = [
    "FILES",
    "MANIFEST",
    "ImportReport",
    "ImportSettings",
    "ImportedDataset",
    "find_import",
    "import_dataset",
    "imports_root",
]
