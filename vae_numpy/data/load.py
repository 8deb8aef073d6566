"""Load a dataset as uint8 images and integer labels, verified.

Every file is checked twice: its structure by its reader (for IDX: magic number,
dtype, dimensions, exact size) and its identity by SHA-256 against the published
value. A file whose checksum disagrees is not used.
"""

from pathlib import Path

from vae_numpy.data import catalog  # noqa: F401  (registers the built-in datasets)
from vae_numpy.data.dataset import DATASETS, Dataset, RawDataset
from vae_numpy.data.imports import find_import, imports_root
from vae_numpy.data.sources import locate
from vae_numpy.run.errors import DataError
from vae_numpy.run.options import DEFAULTS, Options


def load_dataset(name: str, options: Options = DEFAULTS) -> RawDataset:
    """Find, verify and read dataset ``name``: a built-in one (see ``sources`` for the
    lookup order) or an import (``imports``)."""
    spec = dataset_spec(name)
    return spec.read(*find_files(spec, options))


def dataset_spec(name: str) -> Dataset:
    """The built-in dataset ``name``, else the import of that name (or at that path)."""
    if name in DATASETS:
        return DATASETS[name]
    if (imported := find_import(name)) is not None:
        return imported
    raise DataError(
        f"unknown dataset {name!r}; choose one of: {', '.join(sorted(DATASETS))}, an import "
        f"in {imports_root()} or the folder of one; import your own images with "
        "vae data import SOURCE --name NAME"
    )


def find_files(spec: Dataset, options: Options) -> tuple[dict[str, Path], str]:
    """The dataset's files and where they were found: its own folder (an import) or the
    standard lookup of ``sources``."""
    own = spec.find(options)
    if own is not None:
        return own
    located = locate(spec, options.data_dir, options.allow_download, progress=options.progress)
    return located.paths, located.origin
