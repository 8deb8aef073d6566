"""The latent space of a trained model: the numbers behind the course's figures.

Each function computes what a figure shows and nothing else, so it can be checked
by hand (tests/package/vae_torch/test_figures.py) apart from the drawing (``vae_torch.figures``):

- ``posterior_samples``: one z ~ q(z|x) per image (the "embedding" of the latent-space problem set).
- ``top_variance_dims``: the latent dimensions along which those samples vary most.
- ``quantiles``: norm.ppf(linspace(low, high, n)), the inverse of the standard normal
  CDF, so that decoded values are spread like the prior's probability mass.
- ``traversal_codes``: latent codes that vary one or two dimensions over those
  values and hold the others at the prior's mean, 0.
- ``interpolate``: the straight line between two codes, endpoints included.
- ``different_class_pairs``: pairs of test images whose classes differ.
- ``each_class``: labels 0, 1, 2, ... for the images of a conditional model.
"""

import torch

from vae_numpy.run.errors import VaeError
from vae_torch import gaussian
from vae_torch.models import VAE


@torch.no_grad()
def posterior_samples(
    model: VAE,
    x: torch.Tensor,
    c: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    batch_size: int = 1000,
) -> torch.Tensor:
    """One sample z = μ + σ ε from q(z|x) for each image: (N, latent)."""
    model.check_input(x, c)
    eps = torch.randn(
        (len(x), model.latent_dim), generator=generator, device=x.device, dtype=model.dtype
    )
    parts = []
    for start in range(0, len(x), batch_size):
        part = slice(start, start + batch_size)
        mu, log_var = model.encoder(x[part], model.one_hot(None if c is None else c[part]))
        parts.append(gaussian.reparameterize(mu, log_var, eps[part]))
    return torch.cat(parts) if parts else eps


def top_variance_dims(z: torch.Tensor, n: int = 2) -> list[int]:
    """The ``n`` latent dimensions of largest sample variance over the rows of z,
    largest first."""
    if z.dim() != 2:
        raise VaeError(f"expected latent codes of shape (N, latent), got {tuple(z.shape)}")
    if n > z.shape[1]:
        raise VaeError(
            f"asked for the {n} latent dimensions of highest variance, but the model has "
            f"{z.shape[1]}; train with --latent-dim {n} or more"
        )
    if len(z) < 2:
        raise VaeError(f"a variance needs at least 2 codes, got {len(z)}")
    return torch.argsort(z.var(dim=0), descending=True)[:n].tolist()


def quantiles(n: int = 7, low: float = 0.05, high: float = 0.95) -> torch.Tensor:
    """norm.ppf(linspace(low, high, n)) in float64: Φ⁻¹ at n evenly spaced probabilities."""
    if n < 1:
        raise VaeError(f"need at least 1 value, got {n}")
    if not 0 < low <= high < 1:
        raise VaeError(
            f"the probabilities must satisfy 0 < low <= high < 1, got low={low}, high={high}: "
            "norm.ppf(0) = -inf and norm.ppf(1) = +inf decode nothing"
        )
    return torch.special.ndtri(torch.linspace(low, high, n, dtype=torch.float64))


def traversal_codes(latent_dim: int, dims: list[int], values: torch.Tensor) -> torch.Tensor:
    """Codes that are 0 except in ``dims``: for one dim (n, latent), z[i, d] = values[i];
    for two (n*n, latent), row-major: z[i*n + j] has values[i] in dims[0], values[j]
    in dims[1]."""
    if len(dims) not in (1, 2):
        raise VaeError(f"a traversal varies 1 or 2 latent dimensions, got {len(dims)}")
    if len(set(dims)) != len(dims) or not all(0 <= d < latent_dim for d in dims):
        raise VaeError(f"latent dimensions must be distinct and in 0..{latent_dim - 1}, got {dims}")
    n = len(values)
    grids = torch.meshgrid(*[values] * len(dims), indexing="ij")
    z = torch.zeros((n ** len(dims), latent_dim), dtype=values.dtype)
    for d, grid in zip(dims, grids, strict=True):
        z[:, d] = grid.reshape(-1)
    return z


def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int = 10) -> torch.Tensor:
    """(steps, latent): (1 − t) z0 + t z1 for t = 0, 1/(steps−1), ..., 1."""
    if steps < 2:
        raise VaeError(f"an interpolation needs at least its 2 endpoints, got steps={steps}")
    if z0.shape != z1.shape or z0.dim() != 1:
        raise VaeError(
            f"interpolate two codes of shape (latent,), got {tuple(z0.shape)} and {tuple(z1.shape)}"
        )
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device)[:, None]
    return torch.lerp(z0, z1, t)


def different_class_pairs(
    labels: torch.Tensor, n_pairs: int, generator: torch.Generator | None = None
) -> list[tuple[int, int]]:
    """``n_pairs`` pairs (i, j) of indices whose labels differ, drawn at random; the
    pairs use distinct classes where there are enough of them. Images of one class or
    of none (a dataset without labels) give pairs of two different images."""
    labels = labels.cpu()
    classes = torch.unique(labels)
    if len(classes) < 2:
        if len(labels) < 2:
            raise VaeError("an interpolation needs at least 2 images")
        picks = [torch.randperm(len(labels), generator=generator)[:2] for _ in range(n_pairs)]
        return [(int(a), int(b)) for a, b in picks]
    order = classes[torch.randperm(len(classes), generator=generator)]
    pairs = []
    for p in range(n_pairs):
        a, b = order[(2 * p) % len(order)], order[(2 * p + 1) % len(order)]
        if a == b:  # an odd number of classes wrapped around
            b = order[(2 * p + 2) % len(order)]
        pick = []
        for cls in (a, b):
            members = torch.nonzero(labels == cls).flatten()
            pick.append(members[torch.randint(len(members), (1,), generator=generator)].item())
        pairs.append((pick[0], pick[1]))
    return pairs


@torch.no_grad()
def decode_interpolation(
    model: VAE,
    z0: torch.Tensor,
    z1: torch.Tensor,
    steps: int = 10,
    c0: int | None = None,
    c1: int | None = None,
) -> torch.Tensor:
    """E[x|z] along the line from z0 to z1: (steps, *x_shape). A conditional model
    takes the two classes; its one-hot label moves along the line with z."""
    z = interpolate(z0.to(model.dtype), z1.to(model.dtype), steps)
    y = None
    if model.n_classes:
        if c0 is None or c1 is None:
            raise VaeError("a conditional model needs the classes of both endpoints")
        labels = torch.tensor([c0, c1], device=z.device)
        model.check_labels(labels, 2)
        y0, y1 = model.one_hot(labels)
        y = interpolate(y0, y1, steps)
    return model.shown(model.decoder(z, y))


def each_class(model: VAE, n: int) -> torch.Tensor | None:
    """Labels 0, 1, 2, ... (wrapping) for n images of a conditional model; None otherwise."""
    if not model.n_classes:
        return None
    return torch.arange(n, device=model.device) % model.n_classes
