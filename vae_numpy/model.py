"""An MLP VAE in numpy: forward pass, negative ELBO, and its backward pass by hand.

For a batch x of B examples and noise ε (drawn by the caller, so that both
backends can be fed the same noise):

    (2.5) ELBO(x) = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z))          elbo.reconstruction_minus_kl
    loss = (1/B) Σ_b [ −log p(x_b | z_b) + β KL_b ],   z_b = μ_b + σ_b ε_b   (5.1)

a one-sample estimate of the negative ELBO in nats per example (β = 1; other
values give the β-weighted objective). Backward applies the chain rule through
the decoder, the reparameterization (5.2) and the encoder, adding the KL
gradients (6.1), (6.2) at μ and log σ²; the layers' own derivatives are (6.6)-(6.9).
"""

from dataclasses import dataclass

import numpy as np

from vae_numpy import gaussian
from vae_numpy.architecture import MLPConfig
from vae_numpy.layers import ACTIVATIONS, Linear
from vae_numpy.likelihoods import make_likelihood
from vae_numpy.run.errors import VaeError
from vae_numpy.run.records import LossParts


@dataclass
class ForwardCache:
    """What backward needs from forward: per-layer caches and the tensors at the seams."""

    x: np.ndarray  # (B, x_dim)
    eps: np.ndarray  # (B, latent)
    mu: np.ndarray  # (B, latent)
    log_var: np.ndarray  # (B, latent)
    out: np.ndarray  # (B, outputs·x_dim): the likelihood's parameters
    encoder: list  # [(linear cache, activation cache)] per hidden layer
    mu_head: np.ndarray  # the mu head's cache, as Linear.forward returns it
    log_var_head: np.ndarray  # the log_var head's cache
    decoder: list  # [(linear cache, activation cache)] per hidden layer
    out_layer: np.ndarray  # the output layer's cache
    kl_weight: float


class MLPVAE:
    """Encoder x -> (μ, log σ²), decoder z -> the likelihood's parameters: logits
    (Bernoulli, continuous Bernoulli), means (Gaussian), or [μ, log s] (discretised
    logistic); see vae_numpy.likelihoods."""

    def __init__(self, config: MLPConfig, params: dict[str, np.ndarray]):
        expected = {f"{n}.{p}" for n in config.layer_shapes() for p in ("weight", "bias")}
        if set(params) != expected:
            raise VaeError(
                "the parameters do not fit this architecture: missing "
                f"{sorted(expected - set(params))}, unexpected {sorted(set(params) - expected)}"
            )
        for name, (n_in, n_out) in config.layer_shapes().items():
            w, b = params[f"{name}.weight"], params[f"{name}.bias"]
            if w.shape != (n_in, n_out) or b.shape != (n_out,):
                raise VaeError(
                    f"parameter {name} has shapes {w.shape}, {b.shape}; the architecture "
                    f"needs ({n_in}, {n_out}), ({n_out},)"
                )
        self.config = config
        self.params = params
        self.likelihood = make_likelihood(config)
        self.activation = ACTIVATIONS[config.activation]
        layer = lambda n: Linear(params[f"{n}.weight"], params[f"{n}.bias"])  # noqa: E731
        names = config.layer_shapes()
        self.encoder_hidden = [layer(n) for n in names if n.startswith("encoder.hidden.")]
        self.decoder_hidden = [layer(n) for n in names if n.startswith("decoder.hidden.")]
        self.mu_head, self.log_var_head = layer("encoder.mu"), layer("encoder.log_var")
        self.out_layer = layer("decoder.out")

    @classmethod
    def init(cls, config: MLPConfig, rng: np.random.Generator, dtype=np.float64) -> "MLPVAE":
        params = {}
        for name, (n_in, n_out) in config.layer_shapes().items():
            linear = Linear.init(n_in, n_out, rng, dtype)
            params[f"{name}.weight"], params[f"{name}.bias"] = linear.weight, linear.bias
        return cls(config, params)

    @property
    def dtype(self) -> np.dtype:
        return self.out_layer.weight.dtype

    # -- forward ---------------------------------------------------------------

    def _mlp(self, layers: list[Linear], h: np.ndarray) -> tuple[np.ndarray, list]:
        caches = []
        for linear in layers:
            h, c_linear = linear.forward(h)
            h, c_act = self.activation.forward(h)
            caches.append((c_linear, c_act))
        return h, caches

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, x_dim) -> μ, log σ², each (B, latent)."""
        h, _ = self._mlp(self.encoder_hidden, self.check_input(x))
        return self.mu_head.forward(h)[0], self.log_var_head.forward(h)[0]

    def decode(self, z: np.ndarray) -> np.ndarray:
        """(B, latent) -> the likelihood's parameters, (B, outputs·x_dim): logits, means,
        or all μ then all log s for the discretised logistic."""
        h, _ = self._mlp(self.decoder_hidden, z)
        return self.out_layer.forward(h)[0]

    def mean_image(self, z: np.ndarray) -> np.ndarray:
        """E[x|z], the likelihood's mean of the decoder output: (B, x_dim)."""
        return self.likelihood.mean(self.decode(z))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n images decoded from z ~ N(0, I), the prior: their means E[x|z], (n, x_dim)."""
        z = rng.standard_normal((n, self.config.latent_dim), dtype=self.dtype)
        return self.mean_image(z)

    def log_px_given_z(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """log p(x|z) per example from the decoder output: (3.2), (3.4), (3.7) or (3.10)."""
        return self.likelihood.log_prob(x, out)

    def loss(
        self, x: np.ndarray, eps: np.ndarray, kl_weight: float = 1.0
    ) -> tuple[LossParts, ForwardCache]:
        """The negative ELBO of the batch for noise ``eps`` (B, latent), and the cache."""
        x = self.check_input(x)
        if eps.shape != (x.shape[0], self.config.latent_dim):
            raise VaeError(
                f"eps has shape {eps.shape}; expected ({x.shape[0]}, {self.config.latent_dim})"
            )
        h, enc = self._mlp(self.encoder_hidden, x)
        mu, c_mu = self.mu_head.forward(h)
        log_var, c_log_var = self.log_var_head.forward(h)
        z = gaussian.reparameterize(mu, log_var, eps)  # (5.1)
        g, dec = self._mlp(self.decoder_hidden, z)
        out, c_out = self.out_layer.forward(g)
        rec = self.log_px_given_z(x, out)  # (B,)
        kl = gaussian.kl_std_normal(mu, log_var)  # (4.7) (B,)
        parts = LossParts(
            log_px_given_z=float(np.mean(rec)),
            kl=float(np.mean(kl)),
            loss=float(np.mean(-rec + kl_weight * kl)),
        )
        return parts, ForwardCache(
            x, eps, mu, log_var, out, enc, c_mu, c_log_var, dec, c_out, kl_weight
        )

    # -- backward --------------------------------------------------------------

    def _mlp_backward(self, layers, caches, dh, grads, prefix, need_dx=True) -> np.ndarray:
        for i in reversed(range(len(layers))):
            c_linear, c_act = caches[i]
            dh = self.activation.backward(dh, c_act)
            dh, g = layers[i].backward(dh, c_linear, need_dx=need_dx or i > 0)
            grads[f"{prefix}.{i}.weight"], grads[f"{prefix}.{i}.bias"] = g["weight"], g["bias"]
        return dh

    def backward(self, cache: ForwardCache) -> dict[str, np.ndarray]:
        """∂loss/∂θ for every parameter, by name (same keys as ``params``)."""
        c = cache
        batch = c.x.shape[0]
        grads: dict[str, np.ndarray] = {}
        d_out = self.likelihood.grad(c.x, c.out) / batch  # ∂(−log p(x|z))/∂out, e.g. (6.3), (6.4)
        dg, g = self.out_layer.backward(d_out, c.out_layer)
        grads["decoder.out.weight"], grads["decoder.out.bias"] = g["weight"], g["bias"]
        dz = self._mlp_backward(self.decoder_hidden, c.decoder, dg, grads, "decoder.hidden")
        kl_mu, kl_log_var = gaussian.kl_std_normal_grad(c.mu, c.log_var)  # (6.1), (6.2)
        d_mu = dz + c.kl_weight * kl_mu / batch  # (5.2) ∂z/∂μ = 1
        d_log_var = dz * 0.5 * gaussian.std(c.log_var) * c.eps  # (5.2)
        d_log_var += c.kl_weight * kl_log_var / batch
        has_hidden = bool(self.encoder_hidden)  # else the heads' input is the data itself
        dh_mu, g_mu = self.mu_head.backward(d_mu, c.mu_head, need_dx=has_hidden)
        dh_lv, g_lv = self.log_var_head.backward(d_log_var, c.log_var_head, need_dx=has_hidden)
        for head, g in (("mu", g_mu), ("log_var", g_lv)):
            grads[f"encoder.{head}.weight"], grads[f"encoder.{head}.bias"] = g["weight"], g["bias"]
        if has_hidden:
            dh = dh_mu + dh_lv
            self._mlp_backward(self.encoder_hidden, c.encoder, dh, grads, "encoder.hidden", False)
        return grads

    # -- input checks ----------------------------------------------------------

    def check_input(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != self.config.x_dim:
            raise VaeError(
                f"input of shape {x.shape}; this model takes (batch, {self.config.x_dim}): "
                "flatten images to rows of pixels"
            )
        if not np.isfinite(x).all():
            raise VaeError("the input contains NaN or inf; check the data's preprocessing")
        if x.size and (problem := self.likelihood.input_error(x.min(), x.max())):
            raise VaeError(problem)
        return x
