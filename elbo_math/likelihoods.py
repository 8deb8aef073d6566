"""The two decoders' likelihoods and the losses people call them by.

Bernoulli decoder (binary pixels x_d ∈ {0, 1}; decoder output p_d ∈ (0, 1) or the logit ℓ_d):

(3.1)  Bernoulli(x; p) = pˣ (1 − p)¹⁻ˣ,
       −log ∏_d Bernoulli(x_d; p_d) = −Σ_d [x_d log p_d + (1 − x_d) log(1 − p_d)]
                                     = Σ_d BCE(target x_d, prediction p_d)

(3.2)  with p = sigmoid(ℓ):  log Bernoulli(x; sigmoid(ℓ)) = x ℓ − softplus(ℓ)

(3.2) is the form the code evaluates: softplus(ℓ) = log(1 + e^ℓ) = logaddexp(0, ℓ) never
overflows, and no probability is ever rounded to 0 or 1 before its log is taken (the
"sigmoid, then log" route returns −inf for ℓ beyond about ±37 in float64). For grey-level
x ∈ [0, 1] the same expression is the usual BCE training loss but not a normalized
likelihood; with binarized x it is exact.

Gaussian decoder with fixed σ (decoder output x̂_d, the mean):

(3.3)  log N(x_d; x̂_d, σ²) = −(x_d − x̂_d)²/(2σ²) − ½ log(2πσ²)

(3.4)  −log ∏_d N(x_d; x̂_d, σ²) = ‖x − x̂‖²/(2σ²) + (D/2) log(2πσ²)

(3.5)  2σ² · (−ELBO) = ‖x − x̂‖² + 2σ² · KL(q ‖ p(z)) + D σ² log(2πσ²)

So the Gaussian negative log-likelihood is the summed squared error scaled by 1/(2σ²),
plus a constant: "MSE up to a constant" hides the scale (erratum (11.7)). Training on
"summed squared error + β · KL" is training the ELBO of a Gaussian decoder with
σ² = β/2: σ² is the weight between reconstruction and KL, the β people tune by hand.
(With the squared error *averaged* over the D pixels, β = 2σ²/D.)

Units (dequantized pixels, y = (x + u)/256 with x ∈ {0..255}, u ~ U[0, 1)):

(3.6)  P(x) = ∫ over x's bin of p(y) dy = 256⁻ᴰ E_u[p((x + u)/256)],
       so log P(x) ≥ E_u[log p(y)] − D log 256 (Jensen), and a bound of L nats on
       log p(y) is a bound on the 8-bit image of  −L/(D log 2) + 8  bits per pixel.
       For binarized pixels the likelihood is already of the discrete image: −L/(D log 2).
"""

import sympy as sp

from elbo_math.check import Check, CheckResult, all_zero, combine, equal
from elbo_math.gaussian import density
from elbo_math.kl import KL_STD_NORMAL_LOG_VAR
from elbo_math.symbols import (
    explicit,
    log_var,
    logit,
    mu,
    p,
    sigma,
    sigmoid,
    softplus,
    tex,
    x,
    x_hat,
)

d, D = sp.symbols("d D", integer=True, positive=True)
xs = sp.IndexedBase("x", real=True)
x_hats = sp.IndexedBase(r"\hat{x}", real=True)
ps = sp.IndexedBase("p", positive=True)

# (3.1)
BERNOULLI_PMF = p**x * (1 - p) ** (1 - x)
BCE_SUM = -sp.Sum(xs[d] * sp.log(ps[d]) + (1 - xs[d]) * sp.log(1 - ps[d]), (d, 1, D))
# (3.2)
BERNOULLI_LOG_LIKELIHOOD_LOGITS = x * logit - softplus(logit)
# (3.3)
GAUSSIAN_LOG_LIKELIHOOD = -((x - x_hat) ** 2) / (2 * sigma**2) - sp.log(2 * sp.pi * sigma**2) / 2
# (3.4)
SQUARED_ERROR = sp.Sum((xs[d] - x_hats[d]) ** 2, (d, 1, D))
GAUSSIAN_NLL_SUM = SQUARED_ERROR / (2 * sigma**2) + D * sp.log(2 * sp.pi * sigma**2) / 2
# (3.5)
KL_WEIGHT = 2 * sigma**2
# (3.6)
nats = sp.Symbol("L", positive=True)  # −log p(y), nats per image
BITS_PER_DIM_DEQUANTIZED = nats / (D * sp.log(2)) + 8


def expand_log_of_product(product: sp.Product) -> sp.Expr:
    """log ∏_d f_d = Σ_d log f_d, each log expanded. Valid because every factor is a
    positive density value (0 < p_d < 1, σ > 0), which ``force`` asserts to sympy."""
    return sp.expand_log(sp.log(product), force=True)


def split_sums(expr: sp.Expr) -> sp.Expr:
    """Σ_d (a_d + b_d) = Σ_d a_d + Σ_d b_d, and Σ_d c = D c for c free of d."""
    return expr.replace(
        lambda a: isinstance(a, sp.Sum), lambda a: sp.Sum(sp.expand(a.function), *a.limits).doit()
    )


def verify_bernoulli_bce(claimed_pmf: sp.Expr = BERNOULLI_PMF, claimed_nll: sp.Expr = BCE_SUM):
    pmf_values = all_zero(
        {
            "Bernoulli(1; p) = p": claimed_pmf.subs(x, 1) - p,
            "Bernoulli(0; p) = 1 − p": claimed_pmf.subs(x, 0) - (1 - p),
        }
    )
    factor = claimed_pmf.subs({x: xs[d], p: ps[d]})
    nll = -expand_log_of_product(sp.Product(factor, (d, 1, D)))
    return combine(
        pmf_values, equal("−log ∏ Bernoulli vs Σ BCE", split_sums(claimed_nll), split_sums(nll))
    )


def verify_bernoulli_logits(claimed: sp.Expr = BERNOULLI_LOG_LIKELIHOOD_LOGITS) -> CheckResult:
    via_probability = sp.log(BERNOULLI_PMF.subs(p, sigmoid(logit)))
    return equal(
        "log Bernoulli(x; sigmoid(ℓ))",
        explicit(claimed),
        sp.expand_log(explicit(via_probability), force=True),
    )


def verify_gaussian_sse(
    claimed_term: sp.Expr = GAUSSIAN_LOG_LIKELIHOOD, claimed_nll: sp.Expr = GAUSSIAN_NLL_SUM
) -> CheckResult:
    term = equal("log N(x; x̂, σ²)", claimed_term, sp.log(density(x, x_hat, sigma)))
    factor = density(xs[d], x_hats[d], sigma)
    nll = -expand_log_of_product(sp.Product(factor, (d, 1, D)))
    return combine(term, equal("−log ∏ N", split_sums(claimed_nll), split_sums(nll)))


def verify_kl_weight(claimed_weight: sp.Expr = KL_WEIGHT, dims: int = 3) -> CheckResult:
    """(3.5) on D = ``dims`` pixels and one latent dimension: 2σ²(−ELBO) minus
    (squared error + weight · KL) must not depend on anything the model outputs."""
    data = sp.symbols(f"x_1:{dims + 1}", real=True)
    means = sp.symbols(f"xhat_1:{dims + 1}", real=True)
    neg_log_lik = -sum(
        GAUSSIAN_LOG_LIKELIHOOD.subs({x: a, x_hat: m}) for a, m in zip(data, means, strict=True)
    )
    neg_elbo = neg_log_lik + KL_STD_NORMAL_LOG_VAR
    squared_error = sum((a - m) ** 2 for a, m in zip(data, means, strict=True))
    rest = 2 * sigma**2 * neg_elbo - (squared_error + claimed_weight * KL_STD_NORMAL_LOG_VAR)
    outputs = (*means, mu, log_var)
    free = all_zero({f"∂/∂{v} of the remainder": sp.diff(rest, v) for v in outputs})
    constant = equal("remainder", dims * sigma**2 * sp.log(2 * sp.pi * sigma**2), rest)
    return combine(free, constant)


def verify_bits_per_dim(claimed: sp.Expr = BITS_PER_DIM_DEQUANTIZED) -> CheckResult:
    """(3.6) in one dimension for the density family p(y) ∝ exp(a y): the bin's
    probability is 1/256 times the mean over u of p((x + u)/256); then the units."""
    a, y, u, k = sp.symbols("a y u k", positive=True)
    p_y = sp.exp(a * y)
    bin_mass = sp.integrate(p_y, (y, k / 256, (k + 1) / 256))
    over_u = sp.integrate(p_y.subs(y, (k + u) / 256), (u, 0, 1)) / 256
    change = equal("∫_bin p(y) dy vs E_u[p((x+u)/256)] / 256", bin_mass, over_u)
    # −log P ≤ L + D log 256 nats for the image, in bits per pixel:
    units = equal("bits/dim", claimed, (nats + D * sp.log(256)) / (D * sp.log(2)))
    return combine(change, units)


def bits_per_dim_check(claimed: sp.Expr = BITS_PER_DIM_DEQUANTIZED) -> Check:
    return Check(
        id="likelihood.dequantized_bits_per_dim",
        title="a density on dequantized pixels bounds the 8-bit image: nats to bits/dim",
        equation="(3.6)",
        latex=r"\mathrm{bits/dim} = " + tex(claimed) + r", \quad L = -\log p(y)",
        run=lambda: verify_bits_per_dim(claimed),
    )


def bernoulli_bce_check(claimed_nll: sp.Expr = BCE_SUM) -> Check:
    return Check(
        id="likelihood.bernoulli_is_bce",
        title="−log of a product of Bernoullis is the summed binary cross entropy",
        equation="(3.1)",
        latex=r"-\log \prod_{d=1}^{D} \mathrm{Bernoulli}(x_d; p_d) = " + tex(claimed_nll),
        run=lambda: verify_bernoulli_bce(BERNOULLI_PMF, claimed_nll),
    )


def bernoulli_logits_check(claimed: sp.Expr = BERNOULLI_LOG_LIKELIHOOD_LOGITS) -> Check:
    return Check(
        id="likelihood.bernoulli_logits",
        title="Bernoulli log-likelihood from logits: x ℓ − softplus(ℓ)",
        equation="(3.2)",
        latex=r"\log \mathrm{Bernoulli}(x; \operatorname{sigmoid}(\ell)) = " + tex(claimed),
        run=lambda: verify_bernoulli_logits(claimed),
    )


def gaussian_sse_check(claimed_nll: sp.Expr = GAUSSIAN_NLL_SUM) -> Check:
    return Check(
        id="likelihood.gaussian_is_scaled_sse",
        title="Gaussian NLL with fixed σ: squared error / (2σ²) + (D/2) log(2πσ²)",
        equation="(3.3), (3.4)",
        latex=r"-\log \prod_{d=1}^{D} \mathcal{N}(x_d; \hat{x}_d, \sigma^2) = " + tex(claimed_nll),
        run=lambda: verify_gaussian_sse(GAUSSIAN_LOG_LIKELIHOOD, claimed_nll),
    )


def kl_weight_check(claimed_weight: sp.Expr = KL_WEIGHT) -> Check:
    return Check(
        id="likelihood.gaussian_sigma_weights_kl",
        title="σ² is the weight between reconstruction and KL: β = 2σ²",
        equation="(3.5)",
        latex=r"2\sigma^2 \, (-\mathrm{ELBO}) = \|x - \hat{x}\|^2 + "
        + tex(claimed_weight)
        + r" \, \mathrm{KL}(q \,\|\, p(z)) + D \sigma^2 \log(2\pi\sigma^2)",
        run=lambda: verify_kl_weight(claimed_weight),
    )


CHECKS = (
    bernoulli_bce_check(),
    bernoulli_logits_check(),
    gaussian_sse_check(),
    kl_weight_check(),
    bits_per_dim_check(),
)
