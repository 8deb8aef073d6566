"""What every torch VAE shares: likelihood, objective, importance weighting, sampling.

A model is an ``encoder`` (x, y) -> (μ, log σ²) and a ``decoder`` (z, y) -> the
likelihood's parameters (logits for the Bernoulli and the continuous Bernoulli, means
for the Gaussian: shaped like x; the discretised logistic's [μ, log s]: twice as many
channels; see vae_numpy.likelihoods), where y is the one-hot class label of a
conditional model and None otherwise. With them, per example:

    (2.5) ELBO = log p(x|z) − KL(q(z|x) ‖ p(z)),  z = μ + σ ε  (5.1)
          KL analytic (4.7), or log q(z|x) − log p(z) at the same z (Monte Carlo)
    (8.1) IWAE_k = logsumexp_i log w_i − log k,
          log w_i = log p(x|z_i) + log p(z_i) − log q(z_i|x)

p(z) is the model's ``prior`` (``vae_torch.priors``): N(0, I) unless the model was built
with a learned one (the VampPrior), whose KL is always the Monte Carlo one. A Bernoulli
model built with ``--autoregressive`` has a ``visible`` part (``vae_torch.autoregressive``):
each pixel's logit also takes the pixels before it (3.14), and ``decode`` draws pixel by
pixel.

The methods used by training (``terms``, ``loss``, ``log_weights``) take tensors
as they are; the public ones (``encode``, ``reconstruct``, ``iwae``, ``sample``)
check their input first and say what is wrong with it. ``iwae`` is the one
importance-weighted estimate in the package: ``vae evaluate`` computes it through
``vae_torch.quality.bounds.iw_estimate``, which only splits the examples into batches.
"""

import math

import torch
from torch import nn

from vae_numpy.likelihoods import Likelihood
from vae_numpy.run.errors import VaeError
from vae_torch import gaussian
from vae_torch.autoregressive import PixelAutoregression
from vae_torch.objectives import elbo_loss
from vae_torch.priors import Prior, StandardNormal

IWAE_ROWS = 4096  # decoder rows per pass of the IWAE: keeps its outputs in cache (measured)


class VAE(nn.Module):
    """A VAE: ``encoder`` (x, y) -> (μ, log σ²) and ``decoder`` (z, y) -> the likelihood's
    parameters, for images of ``image_shape`` (C, H, W) and a ``latent_dim``-dimensional
    code; conditional when ``n_classes`` > 0. Its public methods check their input and
    run without gradients: ``encode``, ``decode``, ``reconstruct``, ``sample``, ``iwae``."""

    encoder: nn.Module
    decoder: nn.Module

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        x_shape: tuple[int, ...],
        latent_dim: int,
        likelihood: Likelihood,
        n_classes: int,
    ):
        super().__init__()
        self.image_shape = tuple(image_shape)  # one image: (C, H, W)
        self.x_shape = tuple(x_shape)  # one example as the model takes it: (C·H·W,) or (C, H, W)
        # the decoder's output for one example: x_shape with the likelihood's parameters
        # stacked along its first axis ([μ, log s] of the discretised logistic: 2C channels)
        self.out_shape = (likelihood.outputs * self.x_shape[0], *self.x_shape[1:])
        self.latent_dim = latent_dim
        self.likelihood = likelihood
        self.n_classes = n_classes  # 0: unconditional
        self.prior: Prior = StandardNormal(latent_dim)  # build_model sets the config's
        self.visible: PixelAutoregression | None = None  # build_model, for --autoregressive

    # -- the mathematics ------------------------------------------------------------

    def one_hot(self, c: torch.Tensor | None) -> torch.Tensor | None:
        if not self.n_classes:
            return None
        dtype = next(self.parameters()).dtype
        return nn.functional.one_hot(c, self.n_classes).to(dtype)

    def log_px_given_z(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """log p(x|z), summed over the pixels of each example: (3.2), (3.4), (3.7), (3.10),
        or (3.14) with the ``visible`` part, g(x_<i) added to the logits (once per image).

        ``out`` may carry extra leading axes (k samples); x broadcasts against it.
        """
        x = x.flatten(start_dim=x.dim() - len(self.x_shape))
        out = out.flatten(start_dim=out.dim() - len(self.x_shape)).to(x.dtype)
        if self.visible is not None:
            out = out + self.visible(x)
        return self.likelihood.log_prob(x, out)

    def mean(self, out: torch.Tensor) -> torch.Tensor:
        """E[x|z] from the decoder output, shaped like x: the sigmoid of the logits
        (Bernoulli), the mean itself (Gaussian), (3.9) (continuous Bernoulli) or (3.13)
        (discretised logistic)."""
        lead = out.shape[: out.dim() - len(self.out_shape)]
        flat = self.likelihood.mean(out.flatten(start_dim=len(lead)))
        return flat.view(*lead, *self.x_shape)

    def terms(
        self,
        x: torch.Tensor,
        eps: torch.Tensor,
        c: torch.Tensor | None = None,
        *,
        mc_kl: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(log p(x|z), KL) per example (B,) each, for noise ``eps`` (B, latent)."""
        rec, kl, _ = self.terms_per_dim(x, eps, c, mc_kl=mc_kl)
        return rec, kl.sum(dim=-1)

    def terms_per_dim(
        self,
        x: torch.Tensor,
        eps: torch.Tensor,
        c: torch.Tensor | None = None,
        *,
        mc_kl: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(log p(x|z) (B,), the KL of each latent dimension (B, latent), the codes z
        (B, latent) it decoded); a prior that does not factorise gives the KL as one
        column (B, 1) (``Prior.kl_dims``)."""
        y = self.one_hot(c)
        mu, log_var = self.encoder(x, y)
        mu, log_var = mu.to(x.dtype), log_var.to(x.dtype)  # float32 under bf16 autocast
        z = gaussian.reparameterize(mu, log_var, eps)
        rec = self.log_px_given_z(x, self.decoder(z, y))
        return rec, self.prior.kl_dims(z, mu, log_var, self.encoder, mc=mc_kl), z

    def loss(
        self,
        x: torch.Tensor,
        eps: torch.Tensor,
        c: torch.Tensor | None = None,
        *,
        kl_weight: float = 1.0,
        mc_kl: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(−mean log p(x|z) + β · mean KL, mean log p(x|z), mean KL) of the batch for
        noise ``eps`` (B, latent); β = ``kl_weight``, 1: the negative ELBO (2.5). Training
        adds its objective terms (warm-up, free bits, MMD) through
        ``vae_torch.objectives.Objective``, on the same terms."""
        return elbo_loss(*self.terms_per_dim(x, eps, c, mc_kl=mc_kl), beta=kl_weight)

    def log_weights(
        self, x: torch.Tensor, eps: torch.Tensor, c: torch.Tensor | None = None
    ) -> torch.Tensor:
        """log w for x (B, ...) and noise eps (k, B, latent): (k, B), all k in one pass."""
        rec, log_prior, log_q, _ = self.weight_terms(x, eps, c)
        return rec + log_prior - log_q

    def weight_terms(
        self,
        x: torch.Tensor,
        eps: torch.Tensor,
        c: torch.Tensor | None = None,
        fixed_q: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(log p(x|z), log p(z), log q(z|x), z) at z = μ + σ ε for noise eps (k, B, latent),
        each (k, B) (z (k, B, latent)); ``fixed_q``: log q with its parameters held fixed."""
        k, batch, latent = eps.shape
        y = self.one_hot(c)
        mu, log_var = self.encoder(x, y)
        mu, log_var = mu.to(x.dtype), log_var.to(x.dtype)  # float32 under bf16 autocast
        z = gaussian.reparameterize(mu, log_var, eps)  # (k, B, latent)
        y_k = None if y is None else y.expand(k, *y.shape).reshape(k * batch, -1)
        out = self.decoder(z.reshape(k * batch, latent), y_k).reshape(k, batch, *self.out_shape)
        q_mu, q_log_var = (mu.detach(), log_var.detach()) if fixed_q else (mu, log_var)
        return (
            self.log_px_given_z(x, out),
            self.log_prior(z),
            gaussian.log_normal(z, q_mu, q_log_var),
            z,
        )

    def iwae_loss(
        self,
        x: torch.Tensor,
        eps: torch.Tensor,
        c: torch.Tensor | None = None,
        dreg: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(−IWAE_k (8.1) averaged over the batch, mean log p(x|z), mean log q(z|x) − log p(z))
        for noise ``eps`` (k, B, latent), all k samples in one pass (Burda et al. 2015); the
        last two average over the k samples: their difference is the one-sample ELBO.

        ``dreg``: the doubly reparameterised gradient (Tucker et al. 2018). log q(z|x) is
        evaluated with its parameters held fixed, so the encoder's gradient flows through
        z alone, and that gradient is reweighted from w̃ to w̃² (w̃ the normalised weights)
        by a hook on z; the decoder's gradient is the IWAE's. Same value, same expectation,
        less variance for the encoder."""
        k = eps.shape[0]
        rec, log_prior, log_q, z = self.weight_terms(x, eps, c, fixed_q=dreg)
        kl = log_q - log_prior  # (k, B)
        log_w = rec - kl
        bound = torch.logsumexp(log_w, dim=0) - math.log(k)  # (B,)  (8.1)
        if dreg and z.requires_grad:
            weights = torch.softmax(log_w.detach(), dim=0)  # w̃, (k, B)
            z.register_hook(lambda grad: grad * weights[..., None])
        return -bound.mean(), rec.mean(), kl.mean()

    # -- the public interface, with its input checked -----------------------------

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def check_input(self, x: torch.Tensor, c: torch.Tensor | None = None) -> None:
        """Raise VaeError saying what is wrong with images x and labels c, if anything."""
        if not isinstance(x, torch.Tensor):
            raise VaeError(f"images must be a torch.Tensor, got {type(x).__name__}")
        want = "(B, " + ", ".join(map(str, self.x_shape)) + ")"
        if x.dim() != len(self.x_shape) + 1 or tuple(x.shape[1:]) != self.x_shape:
            hint = f"; reshape with x.view(-1, {', '.join(map(str, self.x_shape))})"
            raise VaeError(
                f"this {type(self).__name__} takes images of shape {want}, "
                f"got {tuple(x.shape)}{hint if x.numel() % math.prod(self.x_shape) == 0 else ''}"
            )
        if not torch.isfinite(x).all():
            raise VaeError("the images contain NaN or infinite values")
        if x.numel() and (problem := self.likelihood.input_error(x.min().item(), x.max().item())):
            raise VaeError(problem)
        self.check_labels(c, len(x))

    def check_labels(self, c: torch.Tensor | None, n: int) -> None:
        if not self.n_classes:
            if c is not None:
                raise VaeError("this model is not conditional; call it without labels")
            return
        if c is None:
            raise VaeError(
                f"this conditional model needs the class labels (integers 0..{self.n_classes - 1})"
            )
        if not isinstance(c, torch.Tensor) or c.dtype.is_floating_point or c.dtype == torch.bool:
            raise VaeError("labels must be an integer tensor of class indices")
        if c.shape != (n,):
            raise VaeError(f"expected {n} labels, one per example, got shape {tuple(c.shape)}")
        if n and (c.min() < 0 or c.max() >= self.n_classes):
            raise VaeError(
                f"labels must lie in 0..{self.n_classes - 1}, got values from "
                f"{c.min().item()} to {c.max().item()}"
            )

    @torch.no_grad()
    def encode(
        self, x: torch.Tensor, c: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """μ and log σ² of q(z|x) (or q(z|x, c)), each (B, latent)."""
        self.check_input(x, c)
        return self.encoder(x, self.one_hot(c))

    @torch.no_grad()
    def decode(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """E[x|z] (or E[x|z, c]) for latent codes z (B, latent), shaped like the images.
        With the ``visible`` part E[x|z] has no closed form: each pixel's probability of 1
        given z and the pixels before it, along one draw of the image (``generator``)."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise VaeError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        self.check_labels(c, len(z))
        return self.shown(self.decoder(z.to(self.dtype), self.one_hot(c)), generator)

    @property
    def shown_name(self) -> str:
        """What ``shown`` draws, as figures title it."""
        return "E[x|z]" if self.visible is None else "p(x_i = 1 | z, x_<i) along a draw"

    def shown(self, out: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The image of decoder outputs ``out`` (B, ...), shaped like x: E[x|z] (``mean``);
        with the ``visible`` part, each pixel's probability along one draw (3.14)."""
        if self.visible is None:
            return self.mean(out)
        probs, _ = self.visible.draw(out.flatten(start_dim=1), generator)
        return probs.view(-1, *self.x_shape)

    @torch.no_grad()
    def reconstruct(
        self,
        x: torch.Tensor,
        c: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """E[x|z] at z = μ(x), or at one z ~ q(z|x) when a generator is given."""
        mu, log_var = self.encode(x, c)
        z = mu
        if generator is not None:
            eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
            z = gaussian.reparameterize(mu, log_var, eps)
        return self.decode(z, c, generator)

    @torch.no_grad()
    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        c: int | torch.Tensor | None = None,
        *,
        sampler=None,
    ) -> torch.Tensor:
        """n images E[x|z], z ~ p(z) (the model's prior), or z drawn by ``sampler`` (a
        ``vae_torch.samplers.Sampler``, e.g. ``sampler_for(run, "gmm")``); a conditional
        model takes a class or n labels."""
        if n < 0:
            raise VaeError(f"cannot draw {n} samples")
        if isinstance(c, int):
            c = torch.full((n,), c, dtype=torch.long, device=self.device)
        z = self.prior_codes(n, generator) if sampler is None else sampler.codes(self, n, generator)
        return self.decode(z, c, generator)

    def prior_codes(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n codes z ~ p(z), the model's prior: (n, latent), the draws behind ``sample``."""
        return self.prior.sample(n, self.encoder, generator, self.device, self.dtype)

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) under the model's prior for z (..., latent): (...)."""
        return self.prior.log_prob(z, self.encoder)

    @torch.no_grad()
    def iwae(
        self,
        x: torch.Tensor,
        k: int,
        generator: torch.Generator | None = None,
        c: torch.Tensor | None = None,
        rows: int = IWAE_ROWS,
    ) -> torch.Tensor:
        """(8.1) IWAE_k, the importance-weighted estimate of log p(x), per example: (B,)
        in float64. The samples are drawn at most ``rows`` at a time (all at once when
        k <= rows) and combined by logsumexp, so memory stays bounded for any k."""
        if k < 1:
            raise VaeError(f"k must be at least 1 importance sample, got {k}")
        self.check_input(x, c)
        chunk = min(k, rows)
        pieces = []
        for done in range(0, k, chunk):
            shape = (min(chunk, k - done), len(x), self.latent_dim)
            eps = torch.randn(shape, generator=generator, device=x.device, dtype=x.dtype)
            pieces.append(torch.logsumexp(self.log_weights(x, eps, c).double(), dim=0))
        return torch.logsumexp(torch.stack(pieces), dim=0) - math.log(k)  # (8.1)

    def count_parameters(self, part: str | None = None) -> int:
        """Trainable parameters of the whole model, or of its "encoder" or "decoder"."""
        module = self if part is None else getattr(self, part)
        return sum(p.numel() for p in module.parameters() if p.requires_grad)
