"""The architecture of an MLP VAE, shared by both backends.

Layer names are the same in numpy and torch (``encoder.hidden.0.weight``,
``encoder.mu.bias``, ``decoder.out.weight``, ...), so one checkpoint converter
moves a model across (vae_torch.convert).
"""

from dataclasses import dataclass, field
from itertools import pairwise

from vae_numpy.likelihoods import likelihood_class, sort_parameters
from vae_numpy.run.errors import VaeError

ACTIVATION_NAMES = ("relu", "tanh", "sigmoid")


@dataclass(frozen=True)
class MLPConfig:
    x_dim: int  # pixels per image, flattened: C·H·W of the dataset
    hidden: tuple[int, ...] = (400,)  # hidden widths of the encoder; the decoder mirrors them
    latent_dim: int = 20  # size of z
    activation: str = "relu"  # after every hidden layer
    # a registered name (vae_numpy.likelihoods): what the decoder's outputs parameterise,
    # logits, means, or [μ, log s] of the discretised logistic (twice the outputs)
    likelihood: str = "bernoulli"
    likelihood_params: dict[str, float] = field(default_factory=dict)  # e.g. {"sigma": 0.1}

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if self.x_dim < 1 or any(h < 1 for h in self.hidden):
            raise VaeError(
                f"layer widths must be positive, got x_dim={self.x_dim}, hidden={self.hidden}"
            )
        if self.latent_dim < 1:
            raise VaeError(f"the latent size must be at least 1, got {self.latent_dim}")
        if self.activation not in ACTIVATION_NAMES:
            raise VaeError(
                f"unknown activation {self.activation!r}; choose one of "
                f"{', '.join(ACTIVATION_NAMES)}"
            )
        # an unknown likelihood or parameter, or a bad value, raises; the defaults filled in
        params = likelihood_class(self.likelihood)(**self.likelihood_params).params()
        object.__setattr__(self, "likelihood_params", params)

    @classmethod
    def from_record(cls, record: dict) -> "MLPConfig":
        """The config of a saved record, whose likelihood parameters are flat keys (files
        written before they had their own field recorded σ for every likelihood)."""
        record = dict(record)
        nested = record.pop("likelihood_params", {})
        rest, flat = sort_parameters(record.get("likelihood", "bernoulli"), record, strict=False)
        return cls(**rest, likelihood_params=flat | nested)

    def layer_shapes(self) -> dict[str, tuple[int, int]]:
        """(in, out) of every Linear layer, by name, in forward order."""
        widths = (self.x_dim, *self.hidden)
        shapes = {f"encoder.hidden.{i}": pair for i, pair in enumerate(pairwise(widths))}
        last = widths[-1]
        shapes["encoder.mu"] = (last, self.latent_dim)
        shapes["encoder.log_var"] = (last, self.latent_dim)
        back = (self.latent_dim, *reversed(self.hidden))
        shapes |= {f"decoder.hidden.{i}": pair for i, pair in enumerate(pairwise(back))}
        outputs = likelihood_class(self.likelihood).outputs  # per pixel: 2 for [μ, log s]
        shapes["decoder.out"] = (back[-1], outputs * self.x_dim)
        return shapes
