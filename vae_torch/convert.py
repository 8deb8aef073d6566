"""Moving an MLP VAE between vae_numpy and vae_torch, both ways.

The names are the same in both; numpy's Linear keeps W as (in, out) and computes
x W + b, torch's keeps (out, in) and computes x Wᵀ + b, so weights are transposed
and biases copied. Nothing else differs.
"""

import numpy as np
import torch

from vae_numpy.model import MLPVAE as NumpyVAE
from vae_numpy.run.errors import VaeError
from vae_torch.models.mlp import MLPVAE as TorchVAE


def to_torch(
    model: NumpyVAE,
    dtype: torch.dtype | None = None,
    image_shape: tuple[int, int, int] | None = None,
) -> TorchVAE:
    """The torch twin of ``model``; ``image_shape`` (C, H, W) says how its x_dim pixels
    form an image (see MLPVAE)."""
    state = {
        name: torch.from_numpy(np.ascontiguousarray(p.T if name.endswith(".weight") else p))
        for name, p in model.params.items()
    }
    # Cast the module first: load_state_dict copies into the existing dtype.
    torch_model = TorchVAE(model.config, image_shape=image_shape).to(
        dtype or state["decoder.out.weight"].dtype
    )
    torch_model.load_state_dict(state, strict=True)
    return torch_model


def to_numpy(model: TorchVAE) -> NumpyVAE:
    """The numpy twin of ``model``, whose prior must be N(0, I): the reference has no other."""
    if model.prior.name != "normal":
        raise VaeError(
            f"this model's prior is the {model.prior.describe()}; vae_numpy has only N(0, I), "
            "so it has no numpy twin"
        )
    if model.visible is not None:
        raise VaeError(
            "this model's pixels are autoregressive (--autoregressive); vae_numpy's decoder "
            "has independent pixels only, so it has no numpy twin"
        )
    params = {
        name: np.ascontiguousarray((t.T if name.endswith(".weight") else t).detach().cpu().numpy())
        for name, t in model.state_dict().items()
    }
    return NumpyVAE(model.config, params)
