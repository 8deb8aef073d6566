"""Formulas in the course material that are wrong, each refuted and corrected (chapter 11).

The course handouts (``elbo_math.handouts``) are requirements, not truth. Each entry
states the formula as written, refutes it with a symbolic or numeric counterexample, and
gives the correct form, which is itself checked. A check here passes (REFUTED) when the
counterexample holds; each verifier takes the wrong formula as its argument, so handing
it the *correct* formula must make it fail: a refutation cannot pass vacuously.

(11.1)  the ELBO problem set, problem 1: "KL >= 0, so L >= log p(x)". Wrong direction:
        L = log p(x) − KL <= log p(x); that is why the ELBO is a *lower* bound.
(11.2)  the latent-space problem set, kl_loss: μ² + σ² − log σ − ½. Correct:
        KL(N(μ, σ²) ‖ N(0, 1)) = (μ² + σ² − 1)/2 − log σ (4.5). The handout's is ½ at the
        prior (μ = 0, σ = 1), not 0, and is smallest at σ = 1/√2: it pulls the posterior
        off the prior's scale.
(11.3)  the latent-space problem set, r_loss(x = output, y = ground truth):
        −[x log y + (1 − x) log(1 − y)] takes the log of the ground truth; at a black pixel
        (y = 0) it is infinite. Correct: −[y log x + (1 − y) log(1 − x)] (3.1), target
        outside the log.
(11.4)  the latent-space problem set, Encoder: flattened size c (d − (k − 1))² after *two*
        unpadded stride-1 convolutions. Each shrinks the side by k − 1
        (o = ⌊(d + 2p − k)/s⌋ + 1), so the size is c (d − 2(k − 1))²: 24·24·c, not 26·26·c,
        for d = 28, k = 3.
(11.5)  the VAE homework, equation (7): ELBO = E_q[p(x, z)] + H[q] lacks a log. Correct:
        ELBO = E_q[log p(x, z)] + H[q] (2.6).
(11.6)  the convolutional VAE exercise: the posterior's parameters come from "mapping the
        output of the decoder". They are the *encoder's* outputs: q(z | x)'s parameters are
        a function of x alone. This is a statement about architecture; it is checked
        structurally (the handout's data flow is cyclic: z would be needed to compute the
        distribution z is drawn from) and in the linear Gaussian model (the exact
        posterior's parameters depend on x, the decoder's output depends on z only).
(11.7)  the VAE homework, problem 3.2: the Gaussian NLL is "the MSE up to a constant". It
        is the summed squared error times 1/(2σ²), plus (D/2) log(2πσ²) (3.4): a scale as
        well (50 for σ = 0.1), which is what makes σ² the weight between reconstruction and
        KL (3.5). Only at σ² = ½ is it the squared error plus a constant.
"""

from collections.abc import Callable, Mapping

import sympy as sp

from elbo_math.check import Check, CheckResult, all_zero, combine, is_zero
from elbo_math.gaussian import log_density
from elbo_math.kl import KL_STD_NORMAL
from elbo_math.likelihoods import BERNOULLI_PMF, GAUSSIAN_LOG_LIKELIHOOD
from elbo_math.linear_gaussian import RATIONAL_1D, SYMBOLIC, derive, log_likelihood, log_prior
from elbo_math.symbols import mu, p, sigma, tex, x, x_hat

Relation = Callable[[sp.Expr, sp.Expr], sp.Basic]


def claimed_direction(elbo: sp.Expr, log_px: sp.Expr) -> sp.Basic:
    """The ELBO problem set: L >= log p(x)."""
    return sp.Ge(elbo, log_px)


def verify_direction(claimed: Relation = claimed_direction) -> CheckResult:
    derived = derive(RATIONAL_1D)
    elbo, log_px = derived.elbo, derived.marginal
    verdict = claimed(elbo, log_px)
    correct = bool(elbo <= log_px) and is_zero(log_px - elbo - derived.kl_posterior)
    numbers = f"ELBO = {sp.N(elbo, 6)}, log p(x) = {sp.N(log_px, 6)} [{RATIONAL_1D.name}]"
    return CheckResult(
        verdict == sp.false and correct,
        f"claim is {verdict} at {numbers}; log p(x) − ELBO = KL(q ‖ p(z|x)) = "
        f"{sp.N(derived.kl_posterior, 6)} >= 0",
    )


HANDOUT_KL = mu**2 + sigma**2 - sp.log(sigma) - sp.Rational(1, 2)


def verify_kl_loss(wrong: sp.Expr = HANDOUT_KL) -> CheckResult:
    at_prior = wrong.subs({mu: 0, sigma: 1})
    argmin = sp.solve(sp.diff(wrong.subs(mu, 0), sigma), sigma)
    correct_at_prior = KL_STD_NORMAL.subs({mu: 0, sigma: 1})
    correct_argmin = sp.solve(sp.diff(KL_STD_NORMAL.subs(mu, 0), sigma), sigma)
    refuted = at_prior != 0 or argmin != [1]
    return CheckResult(
        refuted and correct_at_prior == 0 and correct_argmin == [1],
        f"handout: {at_prior} at μ = 0, σ = 1, minimised at σ = {argmin}; "
        f"KL (4.5): {correct_at_prior}, minimised at σ = {correct_argmin}",
    )


y_true = sp.Symbol("y", nonnegative=True)  # ground truth
x_out = sp.Symbol("x", positive=True)  # the network's output, in (0, 1)
HANDOUT_BCE = -(x_out * sp.log(y_true) + (1 - x_out) * sp.log(1 - y_true))
CORRECT_BCE = -(y_true * sp.log(x_out) + (1 - y_true) * sp.log(1 - x_out))


def verify_bce(wrong: sp.Expr = HANDOUT_BCE) -> CheckResult:
    output = sp.Rational(1, 2)
    at_black = sp.limit(wrong.subs(x_out, output), y_true, 0, "+")
    correct_at_black = sp.limit(CORRECT_BCE.subs(x_out, output), y_true, 0, "+")
    is_bernoulli = all_zero(
        {
            f"BCE − (−log Bernoulli(y; x)) at y = {v}": (
                CORRECT_BCE + sp.log(BERNOULLI_PMF.subs({x: y_true, p: x_out}))
            ).subs(y_true, v)
            for v in (0, 1)
        }
    )
    return combine(
        CheckResult(
            at_black.is_infinite is True and correct_at_black.is_finite is True,
            f"at a black pixel (y = 0) with output {output}: handout {at_black}, "
            f"BCE {correct_at_black}",
        ),
        is_bernoulli,
    )


def conv_side(d: sp.Expr, k: sp.Expr, padding: int = 0, stride: int = 1) -> sp.Expr:
    """Output side of a convolution: ⌊(d + 2p − k)/s⌋ + 1."""
    return sp.floor((d + 2 * padding - k) / stride) + 1


def handout_flat_size(c: sp.Expr, d: sp.Expr, k: sp.Expr) -> sp.Expr:
    """The latent-space problem set: c (d − (k − 1))²."""
    return c * (d - (k - 1)) ** 2


def verify_flat_size(wrong: Callable = handout_flat_size) -> CheckResult:
    c, d, k = 32, 28, 3
    true_size = c * conv_side(conv_side(d, k), k) ** 2
    claimed = wrong(c, d, k)
    cs, ds, ks = sp.symbols("c d k", integer=True, positive=True)
    general = all_zero(
        {
            "c · side(side(d))² − c (d − 2(k − 1))²": cs * conv_side(conv_side(ds, ks), ks) ** 2
            - cs * (ds - 2 * (ks - 1)) ** 2
        }
    )
    return combine(
        CheckResult(
            claimed != true_size,
            f"d = {d}, k = {k}, c = {c}: handout {claimed}, two convolutions give "
            f"{true_size} = {c}·{conv_side(conv_side(d, k), k)}²",
        ),
        general,
    )


def verify_missing_log(wrong_integrand: Callable = sp.exp) -> CheckResult:
    """E_q[wrong_integrand(log p(x, z))] + H[q] against the ELBO, exactly, in a rational
    linear Gaussian instance (the VAE homework writes wrong_integrand = exp, i.e. p(x, z)
    itself)."""
    inst = RATIONAL_1D
    (z1,) = inst.latents
    zs = sp.Matrix([z1])
    log_joint = sp.expand(log_likelihood(inst, zs) + log_prior(zs))
    q_density = sp.exp(log_density(z1, inst.q_mean[0], inst.q_chol[0]))
    expectation = sp.integrate(
        q_density * wrong_integrand(log_joint), (z1, -sp.oo, sp.oo), conds="none"
    )
    derived = derive(inst)
    claimed = expectation + derived.entropy
    correct = is_zero(derived.expected_log_joint + derived.entropy - derived.elbo)
    return CheckResult(
        not is_zero(claimed - derived.elbo) and correct,
        f"[{inst.name}] handout: {sp.N(claimed, 6)}, ELBO = E_q[log p(x,z)] + H[q] = "
        f"{sp.N(derived.elbo, 6)}",
    )


Wiring = Mapping[str, tuple[str, ...]]  # node -> the nodes it is computed from
HANDOUT_WIRING: Wiring = {
    "decoder": ("z",),
    "posterior_params": ("decoder",),
    "z": ("posterior_params", "eps"),
}
CORRECT_WIRING: Wiring = {
    "encoder": ("x",),
    "posterior_params": ("encoder",),
    "z": ("posterior_params", "eps"),
    "decoder": ("z",),
}


def ancestors(wiring: Wiring, node: str) -> set[str]:
    seen: set[str] = set()
    stack = list(wiring.get(node, ()))
    while stack:
        parent = stack.pop()
        if parent not in seen:
            seen.add(parent)
            stack.extend(wiring.get(parent, ()))
    return seen


def verify_encoder_outputs(wrong: Wiring = HANDOUT_WIRING) -> CheckResult:
    cyclic = "posterior_params" in ancestors(wrong, "posterior_params")
    correct_from_x = not ({"z", "decoder"} & ancestors(CORRECT_WIRING, "posterior_params"))
    derived = derive(SYMBOLIC)
    x_symbols = set(SYMBOLIC.x)
    posterior_uses_x = bool(derived.posterior_mean.free_symbols & x_symbols)
    decoder_mean = SYMBOLIC.W * sp.Matrix(SYMBOLIC.latents) + SYMBOLIC.b
    decoder_ignores_x = not (decoder_mean.free_symbols & x_symbols)
    return CheckResult(
        cyclic and correct_from_x and posterior_uses_x and decoder_ignores_x,
        f"handout's data flow has a cycle through z: {cyclic}; encoder wiring computes q's "
        f"parameters from x alone: {correct_from_x}; exact posterior mean depends on x: "
        f"{posterior_uses_x}; decoder mean Wz + b is free of x: {decoder_ignores_x}",
    )


def handout_gaussian_nll(data, means, constant) -> sp.Expr:
    """The VAE homework, 3.2: the squared error plus a constant."""
    return sum((a - m) ** 2 for a, m in zip(data, means, strict=True)) + constant


def verify_gaussian_nll(wrong: Callable = handout_gaussian_nll, dims: int = 3) -> CheckResult:
    data = sp.symbols(f"x_1:{dims + 1}", real=True)
    means = sp.symbols(f"xhat_1:{dims + 1}", real=True)
    constant = sp.Symbol("C", real=True)
    std = sp.Rational(1, 10)
    nll = -sum(
        GAUSSIAN_LOG_LIKELIHOOD.subs({x: a, x_hat: m}) for a, m in zip(data, means, strict=True)
    )
    rest = (nll - wrong(data, means, constant)).subs(sigma, std)
    depends = [m for m in means if not is_zero(sp.diff(rest, m))]
    squared_error = sum((a - m) ** 2 for a, m in zip(data, means, strict=True))
    correct = nll - squared_error / (2 * sigma**2) - dims * sp.log(2 * sp.pi * sigma**2) / 2
    scale = sp.simplify(sp.diff(nll, means[0], 2) / 2).subs(sigma, std)
    return CheckResult(
        bool(depends) and is_zero(correct),
        f"σ = {std}: NLL − claim depends on {[str(m) for m in depends]}; "
        f"NLL = {scale} · squared error + (D/2) log(2πσ²)",
    )


def _erratum(id_, title, equation, source, wrong_latex, correct_latex, run) -> Check:
    return Check(
        id=id_,
        title=title,
        equation=equation,
        latex=correct_latex,
        run=run,
        kind="erratum",
        wrong_latex=wrong_latex,
        source=source,
    )


CHECKS = (
    _erratum(
        "erratum.elbo_bound_direction",
        "The ELBO is a lower bound, not an upper bound",
        "(11.1)",
        "the ELBO problem set, problem 1",
        r"\mathcal{L} \ge \log p(x)",
        r"\mathcal{L} = \log p(x) - \mathrm{KL}(q \,\|\, p(z \mid x)) \le \log p(x)",
        verify_direction,
    ),
    _erratum(
        "erratum.kl_loss",
        "The handout's KL to N(0, 1) is not zero at the prior",
        "(11.2)",
        "the latent-space problem set, kl_loss",
        tex(HANDOUT_KL),
        tex(KL_STD_NORMAL),
        verify_kl_loss,
    ),
    _erratum(
        "erratum.bce_log_of_target",
        "Binary cross entropy takes the log of the prediction, not of the target",
        "(11.3)",
        "the latent-space problem set, r_loss",
        tex(HANDOUT_BCE),
        tex(CORRECT_BCE) + r"\quad (y \text{ target}, x \text{ prediction})",
        verify_bce,
    ),
    _erratum(
        "erratum.conv_flatten_size",
        "Two unpadded stride-1 convolutions shrink the side by 2(k − 1)",
        "(11.4)",
        "the latent-space problem set, Encoder",
        r"c\,(d - (k - 1))^2",
        r"c\,(d - 2(k - 1))^2",
        verify_flat_size,
    ),
    _erratum(
        "erratum.elbo_missing_log",
        "ELBO = E_q[log p(x,z)] + H[q]: the handout drops the log",
        "(11.5)",
        "the VAE homework, equation (7)",
        r"\mathbb{E}_q[p(x, z)] + \mathbb{H}[q]",
        r"\mathbb{E}_q[\log p(x, z)] + \mathbb{H}[q]",
        verify_missing_log,
    ),
    _erratum(
        "erratum.posterior_from_encoder",
        "The posterior's parameters are the encoder's outputs (architecture statement)",
        "(11.6)",
        "the convolutional VAE exercise, the posterior",
        r"(\mu, \log\sigma) = g(\mathrm{decoder}(z))",
        r"(\mu, \log\sigma^2) = \mathrm{encoder}(x)",
        verify_encoder_outputs,
    ),
    _erratum(
        "erratum.gaussian_nll_scale",
        "The Gaussian NLL is the squared error scaled by 1/(2σ²), plus a constant",
        "(11.7)",
        "the VAE homework, problem 3.2",
        r"-\log p(x \mid z) = \|x - \hat{x}\|^2 + C",
        r"-\log p(x \mid z) = \frac{\|x - \hat{x}\|^2}{2\sigma^2} + \frac{D}{2}\log(2\pi\sigma^2)",
        verify_gaussian_nll,
    ),
)
