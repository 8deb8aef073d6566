"""A decoder whose pixels are not independent: the autoregressive Bernoulli (chapter 3).

Each pixel's logit adds to the decoder's ℓ_i(z) a function of the pixels before it:

(3.14)  p(x|z) = Π_i Bernoulli(x_i; sigmoid(a_i)),   a_i = ℓ_i(z) + g_i(x_1, …, x_{i−1}),
        log p(x|z) = Σ_i x_i a_i − softplus(a_i)   (each factor (3.2)).

Checked for D = 3 with g_2, g_3 arbitrary functions (sympy's undefined functions, so
nothing about the MADE that computes them is assumed): the product, built from the
code's per-pixel form (3.2), sums to 1 over the 2³ binary images, so it is a
distribution for every z and every g, and the log of the product is the sum of the
per-pixel terms. The condition is that g_i sees only x_<i: the same sum with g_2 also
taking x_2 is not 1 (a test perturbs it), which is why the code masks the weights.
"""

import sympy as sp

from elbo_math.check import Check, CheckResult, combine, equal
from elbo_math.likelihoods import BERNOULLI_LOG_LIKELIHOOD_LOGITS
from elbo_math.symbols import explicit, logit, x

PIXELS = 3
ELL = sp.symbols("ell_1:4", real=True)  # ℓ_i(z): the decoder's logits at a fixed z
G2, G3 = sp.Function("g_2", real=True), sp.Function("g_3", real=True)


def code_logits(xs) -> list[sp.Expr]:
    """a_i = ℓ_i + g_i(x_<i), as ``PixelAutoregression`` adds them (its masks keep j < i)."""
    return [ELL[0], ELL[1] + G2(xs[0]), ELL[2] + G3(xs[0], xs[1])]


def log_likelihood(xs, logits=code_logits) -> sp.Expr:
    """Σ_i x_i a_i − softplus(a_i): (3.2) at each pixel, with (3.14)'s logits."""
    return sum(
        BERNOULLI_LOG_LIKELIHOOD_LOGITS.subs({x: xi, logit: ai}, simultaneous=True)
        for xi, ai in zip(xs, logits(xs), strict=True)
    )


def verify_autoregressive(logits=code_logits) -> CheckResult:
    """(3.14) sums to 1 over {0, 1}³, and its log is the sum of the pixels' (3.2)."""

    def mass_after(prefix: tuple) -> sp.Expr:
        """Σ over the pixels after ``prefix`` of their factors, the last pixel innermost."""
        i = len(prefix)
        if i == PIXELS:
            return sp.Integer(1)
        total = 0
        for xi in (0, 1):
            xs = (*prefix, xi, *(0,) * (PIXELS - i - 1))  # later pixels do not enter a_i
            term = BERNOULLI_LOG_LIKELIHOOD_LOGITS.subs({x: xi, logit: logits(xs)[i]})
            total += sp.exp(explicit(term)) * mass_after((*prefix, xi))
        return sp.simplify(total)

    mass = equal("Σ_x p(x|z) over the 8 binary images", mass_after(()), sp.Integer(1))
    xs = sp.symbols("x_1:4", real=True)
    product = sp.Mul(
        *(
            sp.exp(BERNOULLI_LOG_LIKELIHOOD_LOGITS.subs({x: xi, logit: ai}, simultaneous=True))
            for xi, ai in zip(xs, logits(xs), strict=True)
        )
    )
    log_form = equal(
        "log Π_i = Σ_i", sp.expand_log(sp.log(product), force=True), log_likelihood(xs, logits)
    )
    return combine(mass, log_form)


CHECKS = (
    Check(
        id="likelihood.autoregressive_bernoulli",
        title="Pixels that depend on the pixels before them: still a distribution over images",
        equation="(3.14)",
        latex=r"\begin{aligned}p(x \mid z) &= \prod_{i=1}^{D} \mathrm{Bernoulli}\bigl(x_i;"
        r" \operatorname{sigmoid}(a_i)\bigr), \quad a_i = \ell_i(z) + g_i(x_{<i})"
        r" \\ \log p(x \mid z) &= \sum_{i=1}^{D} x_i a_i - \operatorname{softplus}(a_i)"
        r"\end{aligned}",
        run=verify_autoregressive,
    ),
)
