"""The torch models: MLP and convolutional VAEs, each optionally conditional on a class.

``build_model`` makes the one a ``TrainConfig`` names; ``architecture`` is the
record of it that checkpoints carry, so a checkpoint can only be loaded into the
model it was written from.
"""

from vae_numpy.config import TrainConfig
from vae_torch.models.base import VAE
from vae_torch.models.conv import ConvConfig, ConvVAE
from vae_torch.models.mlp import MLPVAE

IMAGE_SHAPE = (1, 28, 28)  # every dataset here: 28x28 grey-level images


def architecture(config: TrainConfig, n_classes: int) -> dict:
    """The fields of ``config`` that decide the parameters' names and shapes."""
    record = {
        "model": config.model,
        "hidden": list(config.hidden),
        "latent_dim": config.latent_dim,
        "activation": config.activation,
        "likelihood": config.likelihood,
        "sigma": config.sigma,
        "n_classes": n_classes if config.conditional else 0,
    }
    if config.convolutional:
        record |= {"channels": list(config.channels), "strides": list(config.strides)}
    return record


def build_model(config: TrainConfig, n_classes: int = 10) -> VAE:
    """The model ``config`` describes, float32 on the CPU, initialised by torch's default."""
    n = n_classes if config.conditional else 0
    if config.convolutional:
        conv = ConvConfig(
            image_shape=IMAGE_SHAPE,
            channels=config.channels,
            strides=config.strides,
            hidden=config.hidden,
            latent_dim=config.latent_dim,
            activation=config.activation,
            likelihood=config.likelihood,
            sigma=config.sigma,
        )
        return ConvVAE(conv, n)
    return MLPVAE(config.mlp(), n)


__all__ = ["MLPVAE", "VAE", "ConvConfig", "ConvVAE", "architecture", "build_model"]
