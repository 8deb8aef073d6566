"""The reference VAE in numpy: every gradient written by hand, and the shared data layer.

The public data interface (see the API reference):

- ``load_dataset(name)``: a built-in dataset or an import, verified, as a ``RawDataset``
  (uint8 images (N, C, H, W) and labels of the train and test splits);
- ``import_dataset(source, name, settings)``: your own images as a dataset;
- ``ImportSettings``, ``RawDataset``, ``TrainConfig``, ``Options``.

Everything else may change without notice. The names load lazily: importing a part of
the package never imports the rest.
"""

import importlib

_WHERE = {
    "ImportSettings": "vae_numpy.data.imports",
    "import_dataset": "vae_numpy.data.imports",
    "load_dataset": "vae_numpy.data.load",
    "RawDataset": "vae_numpy.data.dataset",
    "TrainConfig": "vae_numpy.run.config",
    "Options": "vae_numpy.run.options",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'vae_numpy' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
