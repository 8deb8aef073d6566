"""The reference VAE in numpy: every gradient written by hand, and the shared data layer.

The public data interface (see the API reference):

- ``load_dataset(name)``: a built-in dataset or an import, verified, as a ``RawDataset``
  (uint8 images (N, C, H, W) and labels of the train and test splits);
- ``import_dataset(source, name, settings)``: your own images as a dataset;
- ``ImportSettings``, ``RawDataset``, ``TrainConfig``, ``Options``.

Everything else may change without notice. The names load lazily: importing a part of
the package never imports the rest.
"""

from vae_numpy.run.lazy import lazy_exports

_WHERE = {
    "ImportSettings": "vae_numpy.data.imports",
    "import_dataset": "vae_numpy.data.imports",
    "load_dataset": "vae_numpy.data.load",
    "RawDataset": "vae_numpy.data.dataset",
    "TrainConfig": "vae_numpy.run.config",
    "Options": "vae_numpy.run.options",
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _WHERE)
