"""The model kinds ``vae train --model`` knows: one entry each, registered by its file.

A ``ModelKind`` says how to build the model from a ``TrainConfig``, the image shape
(C, H, W) of the data and the number of classes, whether it is conditional, and
which config fields beyond the common ones decide its parameters (they go into the
architecture record a checkpoint carries, so a checkpoint only loads into its model).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

from vae_numpy.run.config import TrainConfig
from vae_numpy.run.errors import VaeError
from vae_torch.autoregressive import PixelAutoregression
from vae_torch.models.base import VAE
from vae_torch.priors import make_prior

COMMON_FIELDS = ("hidden", "latent_dim", "activation", "likelihood")  # and its parameters


@dataclass(frozen=True)
class ModelKind:
    name: str
    build: Callable[[TrainConfig, tuple[int, int, int], int], VAE]
    conditional: bool  # q(z|x, c) and p(x|z, c) for a class label c
    help: str
    fields: tuple[str, ...] = ()  # config fields beyond COMMON_FIELDS that shape its parameters


MODELS: dict[str, ModelKind] = {}


def register_model(kind: ModelKind) -> ModelKind:
    """Make ``kind`` a ``--model`` choice."""
    MODELS[kind.name] = kind
    return kind


def model_kind(name: str) -> ModelKind:
    try:
        return MODELS[name]
    except KeyError:
        raise VaeError(f"--model must be one of {', '.join(MODELS)}, got {name!r}") from None


def architecture(config: TrainConfig, image_shape: tuple[int, ...], n_classes: int) -> dict:
    """The record of what decides the parameters' names and shapes."""
    kind = model_kind(config.model)
    record = {"model": config.model, "image_shape": list(image_shape)}
    record |= {f: _plain(getattr(config, f)) for f in (*COMMON_FIELDS, *kind.fields)}
    record |= config.likelihood_params  # flat, by their names: {"sigma": 0.1}
    record |= {"n_classes": n_classes if kind.conditional else 0}
    if config.prior != "normal":  # a learned prior's parameters; N(0, I) has none
        record |= {"prior": config.prior, "components": config.components}
    if config.autoregressive is not None:  # the pixels' autoregressive part (3.14)
        record |= {"autoregressive": config.autoregressive, "context": config.context}
    return record


def build_model(config: TrainConfig, image_shape: tuple[int, ...], n_classes: int) -> VAE:
    """The model ``config`` describes for images of ``image_shape``, float32 on the CPU,
    initialised by torch's default, with the prior ``config`` names (``vae_torch.priors``);
    ``n_classes`` counts only for a conditional kind."""
    kind = model_kind(config.model)
    model = kind.build(config, tuple(image_shape), n_classes if kind.conditional else 0)
    model.prior = make_prior(config, model.x_shape, kind.conditional)
    if config.autoregressive is not None:
        model.visible = PixelAutoregression(
            math.prod(model.x_shape), config.autoregressive, config.context
        )
    return model


def _plain(value):
    return list(value) if isinstance(value, tuple) else value
