"""The production VAE in PyTorch, and the ``vae`` command line.

The public Python interface (see ``vae_torch.api`` and the API reference):

- ``TrainConfig``, ``Options``: what to train, and how to run (data folder, device);
- ``train(config, out)``: train a run into a folder; returns it loaded;
- ``load_run(run, device, which)``: a run's model (best or last checkpoint), config and
  history; the model has ``encode``, ``decode``, ``sample``, ``reconstruct``, ``iwae``;
- ``evaluate(run, ...)``: ELBO, IWAE, latent diagnostics and sample quality, an
  ``Evaluation``;
- ``sampler_for(run, spec)``: a sampler of codes other than the prior (``model.sample(n,
  sampler=...)``): a temperature, or a Gaussian mixture fitted to the training codes;
- ``export_onnx(run, out)``: the encoder and decoder as ONNX files;
- ``load_dataset(name)``, ``import_dataset(source, name)``: the data (from ``vae_numpy``).

Everything else may change without notice. The names load lazily, so that
``import vae_torch`` costs nothing until one is used.
"""

from vae_numpy.run.lazy import lazy_exports

_WHERE = {
    "TrainConfig": "vae_numpy.run.config",
    "Options": "vae_numpy.run.options",
    "train": "vae_torch.api",
    "load_run": "vae_torch.checkpoint",
    "LoadedRun": "vae_torch.checkpoint",
    "VAE": "vae_torch.models",
    "evaluate": "vae_torch.evaluation",
    "Evaluation": "vae_torch.evaluation",
    "sampler_for": "vae_torch.samplers",
    "export_onnx": "vae_torch.export",
    "load_dataset": "vae_numpy.data.load",
    "import_dataset": "vae_numpy.data.imports",
    "ImportSettings": "vae_numpy.data.imports",
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _WHERE)
