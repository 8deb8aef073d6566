"""Float64 numpy versions of the verified closed forms, for tests and the notes.

Each closed form is ``sympy.lambdify`` of the very expression a check verifies (named in
its docstring, listed in ``FORMS``), compiled on first use and cached, so the numbers cannot
drift from the mathematics. softplus and sigmoid are evaluated as ``logaddexp(0, ℓ)`` and
``exp(−logaddexp(0, −ℓ))``: finite for every finite ℓ, no overflow, no log of 0; and
expm1 as numpy's, so that the KL to N(0, I) is never below 0. The importance-weighted
bound is the max-shifted logsumexp whose identity ``iwae.logsumexp_form`` verifies (8.1).

Shapes. Arrays whose entries pair up (mu with log_var, x with logits or with mean) must
have the same shape; σ may be a scalar or have x's shape. Functions of a vector (a
log-likelihood over pixels, a KL or entropy over latent dimensions) sum over the last
axis, (..., n) -> (...), and return the per-component terms instead with
``elementwise=True``. Gradients are elementwise: the derivative of the summed quantity
with respect to each entry.

The layers' derivatives (6.6)-(6.9) are here too: the activations' as functions of the
input t (tanh′ and sigmoid′ evaluated, as the backward passes do, from the output y), and
the linear layer's backward pass, compiled for each (B, n_in, n_out) it is handed.

Bad input raises ValueError with the argument's name: NaN or ±inf anywhere, σ <= 0,
Bernoulli targets outside [0, 1], shapes that do not match.
"""

from collections.abc import Callable
from functools import cache

import numpy as np
import sympy as sp

from elbo_math import gaussian, gradients, kl, layers, likelihoods, reparam
from elbo_math import symbols as S
from elbo_math.validation import finite, positive, same_shape


def _softplus(t):
    return np.logaddexp(0.0, t)


def _sigmoid(t):
    return np.exp(-np.logaddexp(0.0, -t))


_STABLE = {"softplus": _softplus, "sigmoid": _sigmoid, "expm1": np.expm1}

# name -> (argument symbols, the expression): each expression is the module constant that
# a check verifies (see each function's docstring), never a copy of it
FORMS: dict[str, tuple[tuple[sp.Symbol, ...], sp.Expr]] = {
    "normal_logpdf": ((S.z, S.mu, S.sigma), gaussian.LOG_DENSITY),
    "log_density_log_var": ((S.z, S.mu, S.log_var), gaussian.LOG_DENSITY_LOG_VAR),
    "entropy": ((S.log_var,), gaussian.ENTROPY_LOG_VAR),
    "kl": ((S.mu1, S.log_var1, S.mu2, S.log_var2), kl.KL_LOG_VAR),
    "kl_std_normal": ((S.mu, S.log_var), kl.KL_STD_NORMAL_LOG_VAR_EXPM1),
    "bernoulli": ((S.x, S.logit), likelihoods.BERNOULLI_LOG_LIKELIHOOD_LOGITS),
    "gaussian": ((S.x, S.x_hat, S.sigma), likelihoods.GAUSSIAN_LOG_LIKELIHOOD),
    "bits_per_dim_dequantized": (
        (likelihoods.nats, likelihoods.D),
        likelihoods.BITS_PER_DIM_DEQUANTIZED,
    ),
    "z": ((S.mu, S.log_var, S.eps), reparam.Z),
    "dz_dmu": ((S.mu, S.log_var, S.eps), reparam.DZ_DMU),
    "dz_dlog_var": ((S.mu, S.log_var, S.eps), reparam.DZ_DLOG_VAR),
    "dkl_dmu": ((S.mu, S.log_var), gradients.DKL_DMU),
    "dkl_dlog_var": ((S.mu, S.log_var), gradients.DKL_DLOG_VAR),
    "dbernoulli": ((S.x, S.logit), gradients.DBERNOULLI_DLOGIT),
    "dgaussian": ((S.x, S.x_hat, S.sigma), gradients.DGAUSSIAN_DMEAN),
    "df_dmu": ((gradients.g, S.mu, S.log_var, S.eps), gradients.DF_DMU),
    "df_dlog_var": ((gradients.g, S.mu, S.log_var, S.eps), gradients.DF_DLOG_VAR),
    "std": ((S.log_var,), reparam.STD),
    "drelu": ((S.t,), layers.DRELU),
    "dtanh": ((layers.y,), layers.DTANH),
    "dsigmoid": ((layers.y,), layers.DSIGMOID),
}

# (6.6): ∂L/∂x, ∂L/∂W, ∂L/∂b of the linear layer, matrix expressions of any size, which
# ``linear_backward`` compiles for the sizes it is handed
LINEAR_BACKWARD: dict[str, sp.MatrixExpr] = {
    "dx": layers.DL_DX,
    "dweight": layers.DL_DW,
    "dbias": layers.DL_DB,
}


@cache
def compiled(name: str) -> Callable[..., np.ndarray]:
    """The lambdified form ``name`` (compiled once per process)."""
    args, expr = FORMS[name]
    return sp.lambdify(args, expr, modules=[_STABLE, "numpy"])


@cache
def compiled_linear_backward(batch: int, n_in: int, n_out: int) -> tuple[Callable, ...]:
    """The lambdified (6.6) forms for these sizes, each a function of (x, W, G)."""
    sizes = {layers.batch: batch, layers.n_in: n_in, layers.n_out: n_out}
    args = [m.subs(sizes) for m in (layers.X, layers.W, layers.G)]
    return tuple(sp.lambdify(args, e.subs(sizes), "numpy") for e in LINEAR_BACKWARD.values())


def _evaluate(name: str, *arrays: np.ndarray) -> np.ndarray:
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    out = compiled(name)(*arrays)
    return np.array(np.broadcast_to(out, shape), dtype=np.float64)


def _reduce(terms: np.ndarray, elementwise: bool) -> np.ndarray:
    if elementwise or terms.ndim == 0:
        return terms
    return terms.sum(axis=-1)


def std_from_log_var(log_var) -> np.ndarray:
    """σ = exp(½ log σ²), elementwise (5.1)."""
    return _evaluate("std", finite("log_var", log_var))


def softplus(t) -> np.ndarray:
    """softplus(t) = log(1 + eᵗ), evaluated as logaddexp(0, t) (3.2)."""
    return _softplus(finite("t", t))


def sigmoid(t) -> np.ndarray:
    """sigmoid(t) = 1/(1 + e⁻ᵗ), evaluated as exp(−logaddexp(0, −t)) (6.3)."""
    return _sigmoid(finite("t", t))


def relu_derivative(t) -> np.ndarray:
    """relu′(t) = 1 for t > 0, 0 for t <= 0 (0 at the kink, as torch), elementwise;
    check ``layer.relu_derivative`` (6.7)."""
    return _evaluate("drelu", finite("t", t))


def tanh_derivative(t) -> np.ndarray:
    """tanh′(t) = 1 − y², y = tanh t, elementwise; check ``layer.tanh_derivative`` (6.8)."""
    return _evaluate("dtanh", np.tanh(finite("t", t)))


def sigmoid_derivative(t) -> np.ndarray:
    """sigmoid′(t) = y (1 − y), y = sigmoid(t), elementwise; check
    ``layer.sigmoid_derivative`` (6.9)."""
    return _evaluate("dsigmoid", sigmoid(t))


def linear_backward(x, weight, grad_y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For y = x W + b: (∂L/∂x, ∂L/∂W, ∂L/∂b) = (G Wᵀ, xᵀ G, Σ_batch G), G = ∂L/∂y;
    check ``layer.linear_backward`` (6.6). x (B, n_in), W (n_in, n_out), G (B, n_out) ->
    (B, n_in), (n_in, n_out), (n_out,)."""
    x, weight, grad_y = finite("x", x), finite("weight", weight), finite("grad_y", grad_y)
    if x.ndim != 2 or weight.ndim != 2 or grad_y.shape != (x.shape[0], weight.shape[1]):
        raise ValueError(
            f"need x (B, n_in), weight (n_in, n_out), grad_y (B, n_out); got x {x.shape}, "
            f"weight {weight.shape}, grad_y {grad_y.shape}"
        )
    if weight.shape[0] != x.shape[1]:
        raise ValueError(f"x {x.shape} and weight {weight.shape} do not chain")
    dx, dweight, dbias = compiled_linear_backward(*x.shape, weight.shape[1])
    args = (x, weight, grad_y)
    return (
        np.asarray(dx(*args), dtype=np.float64),
        np.asarray(dweight(*args), dtype=np.float64),
        np.asarray(dbias(*args), dtype=np.float64).reshape(-1),
    )


def normal_logpdf(x, mean, std) -> np.ndarray:
    """log N(x; mean, std²), elementwise; check ``gaussian.log_density`` (4.1).
    x and mean: same shape; std > 0: scalar or that shape."""
    x, mean = finite("x", x), finite("mean", mean)
    same_shape(x=x, mean=mean)
    std = positive("std", finite("std", std), x)
    return _evaluate("normal_logpdf", x, mean, std)


def diag_gaussian_log_density(z, mu, log_var, *, elementwise: bool = False) -> np.ndarray:
    """log N(z; μ, diag(e^{log σ²})): (..., L) -> (...); check ``gaussian.log_density`` (4.1).
    This is log q(z | x) for importance weights."""
    z, mu, log_var = finite("z", z), finite("mu", mu), finite("log_var", log_var)
    same_shape(z=z, mu=mu, log_var=log_var)
    return _reduce(_evaluate("log_density_log_var", z, mu, log_var), elementwise)


def gaussian_entropy(log_var, *, elementwise: bool = False) -> np.ndarray:
    """H[N(μ, diag(e^{log σ²}))] = Σ ½ (1 + log 2π + log σ²): (..., L) -> (...);
    check ``gaussian.entropy`` (4.3)."""
    return _reduce(_evaluate("entropy", finite("log_var", log_var)), elementwise)


def gaussian_kl(mu1, log_var1, mu2, log_var2, *, elementwise: bool = False) -> np.ndarray:
    """KL(N(μ₁, e^{log σ₁²}) ‖ N(μ₂, e^{log σ₂²})) over diagonal dimensions: (..., L) ->
    (...); check ``kl.log_var_form`` (4.7), derived from the integral (4.4)."""
    arrays = {
        "mu1": finite("mu1", mu1),
        "log_var1": finite("log_var1", log_var1),
        "mu2": finite("mu2", mu2),
        "log_var2": finite("log_var2", log_var2),
    }
    same_shape(**arrays)
    return _reduce(_evaluate("kl", *arrays.values()), elementwise)


def gaussian_kl_std_normal(mu, log_var, *, elementwise: bool = False) -> np.ndarray:
    """KL(N(μ, diag(e^{log σ²})) ‖ N(0, I)) = Σ ½ (μ² + expm1(log σ²) − log σ²): (..., L)
    -> (...), each term >= 0 in floating point too; check ``kl.log_var_form`` (4.7)."""
    mu, log_var = finite("mu", mu), finite("log_var", log_var)
    same_shape(mu=mu, log_var=log_var)
    return _reduce(_evaluate("kl_std_normal", mu, log_var), elementwise)


def _bernoulli_inputs(x, logits) -> tuple[np.ndarray, np.ndarray]:
    x, logits = finite("x", x), finite("logits", logits)
    same_shape(x=x, logits=logits)
    if ((x < 0) | (x > 1)).any():
        raise ValueError(f"x must lie in [0, 1]; got values in [{x.min()}, {x.max()}]")
    return x, logits


def bernoulli_log_likelihood_from_logits(x, logits, *, elementwise: bool = False) -> np.ndarray:
    """Σ_d [x_d ℓ_d − softplus(ℓ_d)]: (..., D) -> (...); check
    ``likelihood.bernoulli_logits`` (3.2). x in [0, 1] (exact likelihood for binary x)."""
    return _reduce(_evaluate("bernoulli", *_bernoulli_inputs(x, logits)), elementwise)


def _gaussian_inputs(x, mean, sigma) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, mean = finite("x", x), finite("mean", mean)
    same_shape(x=x, mean=mean)
    return x, mean, positive("sigma", finite("sigma", sigma), x)


def gaussian_log_likelihood(x, mean, sigma, *, elementwise: bool = False) -> np.ndarray:
    """Σ_d log N(x_d; x̂_d, σ²) = −‖x − x̂‖²/(2σ²) − (D/2) log 2πσ²: (..., D) -> (...);
    checks ``likelihood.gaussian_is_scaled_sse`` (3.3), (3.4)."""
    return _reduce(_evaluate("gaussian", *_gaussian_inputs(x, mean, sigma)), elementwise)


def bits_per_dim_dequantized(nats, dims: int) -> np.ndarray:
    """−log p(y) in nats per image of ``dims`` dequantized pixels -> bits per pixel of the
    8-bit image, nats/(D log 2) + 8; checks ``likelihood.dequantized_bits_per_dim`` (3.6)."""
    if dims < 1:
        raise ValueError(f"dims must be a positive number of pixels, got {dims}")
    return _evaluate("bits_per_dim_dequantized", finite("nats", nats), np.asarray(float(dims)))


def _reparam_inputs(mu, log_var, eps) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arrays = {
        "mu": finite("mu", mu),
        "log_var": finite("log_var", log_var),
        "eps": finite("eps", eps),
    }
    same_shape(**arrays)
    return tuple(arrays.values())


def reparameterize(mu, log_var, eps) -> np.ndarray:
    """z = μ + exp(½ log σ²) ε, elementwise; check ``reparam.distribution`` (5.1)."""
    return _evaluate("z", *_reparam_inputs(mu, log_var, eps))


def grad_reparameterize(mu, log_var, eps) -> tuple[np.ndarray, np.ndarray]:
    """(∂z/∂μ, ∂z/∂log σ²) = (1, ½ exp(½ log σ²) ε); check ``reparam.derivatives`` (5.2)."""
    arrays = _reparam_inputs(mu, log_var, eps)
    return _evaluate("dz_dmu", *arrays), _evaluate("dz_dlog_var", *arrays)


def grad_gaussian_kl_std_normal(mu, log_var) -> tuple[np.ndarray, np.ndarray]:
    """(∂KL/∂μ, ∂KL/∂log σ²) = (μ, ½ (e^{log σ²} − 1)); check ``grad.kl`` (6.1), (6.2)."""
    mu, log_var = finite("mu", mu), finite("log_var", log_var)
    same_shape(mu=mu, log_var=log_var)
    return _evaluate("dkl_dmu", mu, log_var), _evaluate("dkl_dlog_var", mu, log_var)


def grad_bernoulli_log_likelihood_from_logits(x, logits) -> np.ndarray:
    """∂/∂ℓ_d Σ [x ℓ − softplus(ℓ)] = x_d − sigmoid(ℓ_d); check ``grad.bernoulli_logits`` (6.3)."""
    return _evaluate("dbernoulli", *_bernoulli_inputs(x, logits))


def grad_gaussian_log_likelihood(x, mean, sigma) -> np.ndarray:
    """∂/∂x̂_d Σ log N(x; x̂, σ²) = (x_d − x̂_d)/σ²; check ``grad.gaussian_mean`` (6.4)."""
    return _evaluate("dgaussian", *_gaussian_inputs(x, mean, sigma))


def grad_through_reparameterization(grad_z, mu, log_var, eps) -> tuple[np.ndarray, np.ndarray]:
    """Given g = ∂f/∂z at z = μ + σε, return (∂f/∂μ, ∂f/∂log σ²) = (g, g · ½ σ ε);
    check ``grad.through_reparameterization`` (6.5)."""
    arrays = (finite("grad_z", grad_z), *_reparam_inputs(mu, log_var, eps))
    same_shape(grad_z=arrays[0], mu=arrays[1])
    return _evaluate("df_dmu", *arrays), _evaluate("df_dlog_var", *arrays)


def iwae_bound(log_weights, axis: int = -1) -> np.ndarray:
    """logsumexp_i(log wᵢ) − log k over ``axis`` (k = its length), shifted by the maximum
    so no exponential overflows; check ``iwae.logsumexp_form`` (8.1). With one weight it
    is that weight: the single-sample ELBO (8.2)."""
    a = finite("log_weights", log_weights)
    if a.ndim == 0 or a.shape[axis] == 0:
        raise ValueError(
            f"log_weights needs at least one weight along axis {axis}; shape {a.shape}"
        )
    top = a.max(axis=axis, keepdims=True)
    # (8.1)
    out = top + np.log(np.exp(a - top).sum(axis=axis, keepdims=True)) - np.log(a.shape[axis])
    return np.squeeze(out, axis=axis)
