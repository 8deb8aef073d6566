"""The convolutional VAE: convolutions then fully connected layers, and back.

encoder: x (B, 1, 28, 28) -> Conv2d + activation, per entry of ``channels``
         -> flatten -> [h, y] -> hidden (Linear + activation)* -> μ, log σ²
decoder: [z, y] -> hidden (Linear + activation)* -> Linear to the flattened size
         -> unflatten -> ConvTranspose2d per convolution, in reverse -> (B, 1, 28, 28)

A stride-1 convolution has kernel 3, a stride-2 one kernel 4; both pad by 1, so
28 -> 28 and 28 -> 14 -> 7 with the default strides (1, 2, 2). Every size is
read off the layers by passing an empty image through them, never typed from a
formula (the latent-space problem set's formula for the flattened size is wrong, erratum
11.4). Each transposed convolution gets the ``output_padding`` that brings it
back to exactly the size its convolution received, so odd sizes work too.
"""

import math
from dataclasses import dataclass, field
from itertools import pairwise

import torch
from torch import nn

from vae_numpy.likelihoods import likelihood_class
from vae_numpy.run.config import TrainConfig
from vae_numpy.run.errors import VaeError
from vae_torch.likelihoods import make_likelihood
from vae_torch.models.base import VAE
from vae_torch.models.mlp import ACTIVATIONS, with_label
from vae_torch.models.registry import ModelKind, register_model

KERNEL = {1: 3, 2: 4}  # kernel size by stride; padding is always 1


@dataclass(frozen=True)
class ConvConfig:
    image_shape: tuple[int, int, int]  # (channels, height, width), from the dataset
    channels: tuple[int, ...] = (32, 32, 64)  # output channels of each convolution
    strides: tuple[int, ...] = (1, 2, 2)
    hidden: tuple[int, ...] = (400,)  # fully connected widths after the convolutions
    latent_dim: int = 20
    activation: str = "relu"
    likelihood: str = "bernoulli"
    likelihood_params: dict[str, float] = field(default_factory=dict)  # e.g. {"sigma": 0.1}


def feature_shapes(convs: nn.ModuleList, image_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The shape entering each convolution, then the one leaving the last, from the layers."""
    h = torch.zeros(1, *image_shape)
    shapes = [tuple(h.shape[1:])]
    with torch.no_grad():
        for i, conv in enumerate(convs):
            if min(h.shape[-2:]) < 2 and conv.stride[0] > 1:
                raise VaeError(
                    f"images of shape {tuple(image_shape)} are too small for convolution {i}: "
                    f"it would halve a side of {min(h.shape[-2:])}; use fewer stride-2 layers"
                )
            h = conv(h)
            shapes.append(tuple(h.shape[1:]))
    return shapes


class ConvEncoder(nn.Module):
    def __init__(self, config: ConvConfig, n_classes: int = 0):
        super().__init__()
        ins = (config.image_shape[0], *config.channels)
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, KERNEL[s], stride=s, padding=1)
            for (a, b), s in zip(pairwise(ins), config.strides, strict=True)
        )
        self.shapes = feature_shapes(self.convs, config.image_shape)
        widths = (math.prod(self.shapes[-1]) + n_classes, *config.hidden)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(widths))
        self.mu = nn.Linear(widths[-1], config.latent_dim)
        self.log_var = nn.Linear(widths[-1], config.latent_dim)
        self.activation = ACTIVATIONS[config.activation]

    def forward(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = x
        for conv in self.convs:
            h = self.activation(conv(h))
        h = with_label(h.flatten(start_dim=1), y)
        for layer in self.hidden:
            h = self.activation(layer(h))
        return self.mu(h), self.log_var(h)


class ConvDecoder(nn.Module):
    def __init__(self, config: ConvConfig, shapes: list[tuple[int, ...]], n_classes: int = 0):
        super().__init__()
        self.feature_shape = shapes[-1]
        widths = (
            config.latent_dim + n_classes,
            *reversed(config.hidden),
            math.prod(self.feature_shape),
        )
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(widths))
        outputs = likelihood_class(config.likelihood).outputs  # parameters per pixel
        deconvs = []
        for i in reversed(range(len(config.strides))):
            s, k = config.strides[i], KERNEL[config.strides[i]]
            width = shapes[i][0] * (outputs if i == 0 else 1)
            deconv = nn.ConvTranspose2d(shapes[i + 1][0], width, k, stride=s, padding=1)
            with torch.no_grad():  # the size it gives unpadded, read off the layer
                size = deconv(torch.zeros(1, *shapes[i + 1])).shape[2:]
            padding = tuple(t - n for n, t in zip(size, shapes[i][1:], strict=True))
            if not all(0 <= p < s for p in padding):  # cannot happen with KERNEL's sizes
                raise VaeError(f"cannot invert convolution {i}: {shapes[i]} -> {shapes[i + 1]}")
            deconv.output_padding = padding
            deconvs.append(deconv)
        self.deconvs = nn.ModuleList(deconvs)
        self.activation = ACTIVATIONS[config.activation]

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = with_label(z, y)
        for layer in self.hidden:
            h = self.activation(layer(h))
        h = h.view(-1, *self.feature_shape)
        for i, deconv in enumerate(self.deconvs):
            h = deconv(h)
            if i < len(self.deconvs) - 1:
                h = self.activation(h)
        return h  # (B, outputs·C, H, W): the likelihood's parameters


class ConvVAE(VAE):
    def __init__(self, config: ConvConfig, n_classes: int = 0):
        shape, likelihood = config.image_shape, make_likelihood(config)
        super().__init__(shape, shape, config.latent_dim, likelihood, n_classes)
        self.config = config
        self.encoder = ConvEncoder(config, n_classes)
        self.decoder = ConvDecoder(config, self.encoder.shapes, n_classes)
        with torch.no_grad():  # the decoder must give back exactly the image shape
            y = self.one_hot(torch.zeros(1, dtype=torch.long))
            out = self.decoder(torch.zeros(1, config.latent_dim), y)
        if tuple(out.shape[1:]) != self.out_shape:
            raise VaeError(f"decoder output {tuple(out.shape[1:])} != {self.out_shape}")


def build(config: TrainConfig, image_shape: tuple[int, int, int], n_classes: int) -> ConvVAE:
    conv = ConvConfig(
        image_shape=image_shape,
        channels=config.channels,
        strides=config.strides,
        hidden=config.hidden,
        latent_dim=config.latent_dim,
        activation=config.activation,
        likelihood=config.likelihood,
        likelihood_params=config.likelihood_params,
    )
    return ConvVAE(conv, n_classes)


FIELDS = ("channels", "strides")  # what decides a conv model's parameters beyond an MLP's
register_model(ModelKind("conv", build, conditional=False, help="convolutional", fields=FIELDS))
register_model(
    ModelKind("conv-cvae", build, conditional=True, help="conditional convolutional", fields=FIELDS)
)
