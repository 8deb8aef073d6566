"""The data layer shared by both backends: IDX files, dataset lookup, pixels, splits."""

from vae_numpy.data.catalog import DATASETS
from vae_numpy.data.idx import read_idx, write_idx
from vae_numpy.data.load import RawDataset, load_raw
from vae_numpy.data.pixels import Pixels
from vae_numpy.data.splits import Split, Splits, split

__all__ = [
    "DATASETS",
    "Pixels",
    "RawDataset",
    "Split",
    "Splits",
    "load_raw",
    "read_idx",
    "split",
    "write_idx",
]
