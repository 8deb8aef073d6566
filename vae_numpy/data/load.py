"""Load a dataset as uint8 images and integer labels, verified.

Every file is checked twice: its structure by its reader (for IDX: magic number,
dtype, dimensions, exact size) and its identity by SHA-256 against the published
value. A file whose checksum disagrees is not used.
"""

from vae_numpy.data import catalog  # noqa: F401  (registers the built-in datasets)
from vae_numpy.data.dataset import RawDataset, dataset_spec
from vae_numpy.run.options import DEFAULTS, Options


def load_dataset(name: str, options: Options = DEFAULTS) -> RawDataset:
    """Find, verify and read dataset ``name``: a built-in one (see ``sources`` for the
    lookup order) or an import (``imports``)."""
    spec = dataset_spec(name)
    return spec.read(*spec.find(options))
