"""The data layer shared by both backends: IDX files, dataset lookup, pixels, splits."""

from vae_numpy.data.dataset import DATASETS, Dataset, RawDataset, register_dataset
from vae_numpy.data.idx import read_idx, write_idx
from vae_numpy.data.load import load_dataset
from vae_numpy.data.pixels import Pixels
from vae_numpy.data.splits import Split, Splits, split

__all__ = [
    "DATASETS",
    "Dataset",
    "Pixels",
    "RawDataset",
    "Split",
    "Splits",
    "load_dataset",
    "read_idx",
    "register_dataset",
    "split",
    "write_idx",
]
