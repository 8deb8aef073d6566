"""The torch models: MLP and convolutional VAEs, each optionally conditional on a class.

Each model file registers its kinds (``registry.register_model``); ``build_model``
makes the one a ``TrainConfig`` names, and ``architecture`` is the record of it that
checkpoints carry, so a checkpoint can only be loaded into the model it was written
from.
"""

from vae_torch.models import conv, mlp  # noqa: F401  (each registers its model kinds)
from vae_torch.models.base import VAE
from vae_torch.models.conv import ConvConfig, ConvVAE
from vae_torch.models.mlp import MLPVAE
from vae_torch.models.registry import MODELS, architecture, build_model, model_kind

__all__ = [
    "MLPVAE",
    "MODELS",
    "VAE",
    "ConvConfig",
    "ConvVAE",
    "architecture",
    "build_model",
    "model_kind",
]
