"""How accurate the central differences of the gradient check are.

For f smooth at θ, with step h > 0:

(6.10)  [f(θ + h) − f(θ − h)] / 2h = f′(θ) + h² f‴(θ)/6 + O(h⁴)

        [8 (f(θ + h) − f(θ − h)) − (f(θ + 2h) − f(θ − 2h))] / 12h
            = f′(θ) − h⁴ f⁽⁵⁾(θ)/30 + O(h⁶)

the second is the stencil ``vae_numpy.gradcheck`` evaluates: its truncation error falls as
h⁴ where the two-point form's falls as h², so at h = 1e-4 it is ~1e-16 |f⁽⁵⁾| and the
check's error is set by round-off, ~δ_f / h, instead (δ_f the rounding error of one computed
f: ε_machine |f| where f's terms do not cancel; vae_numpy.gradcheck measures it).

Verified by substituting for every f(θ + δ) in a stencil its Taylor polynomial
Σ_{k <= N} f⁽ᵏ⁾(θ) δᵏ/k! with N = 8 and the derivatives f⁽ᵏ⁾(θ) left symbolic: the terms
of degree above N contribute only h^N and higher to the stencil (it divides by h once), so
every power of h below N comes out exactly. The claimed error must then match the
stencil − f′(θ) in every power of h up to its own (its leading term), and nothing of lower
order may remain.
"""

import sympy as sp

from elbo_math.check import Check, CheckResult, combine
from elbo_math.symbols import tex

theta = sp.Symbol("theta", real=True)
h = sp.Symbol("h", positive=True)
f = sp.Function("f")
TAYLOR_DEGREE = 8


def derivative(k: int) -> sp.Expr:
    """f⁽ᵏ⁾(θ), left unevaluated."""
    return sp.Derivative(f(theta), (theta, k)) if k else f(theta)


# (6.10)
TWO_POINT = (f(theta + h) - f(theta - h)) / (2 * h)
TWO_POINT_ERROR = h**2 * derivative(3) / 6
FOUR_POINT = (8 * (f(theta + h) - f(theta - h)) - (f(theta + 2 * h) - f(theta - 2 * h))) / (12 * h)
FOUR_POINT_ERROR = -(h**4) * derivative(5) / 30


def taylor(at: sp.Expr) -> sp.Expr:
    """Σ_{k <= TAYLOR_DEGREE} f⁽ᵏ⁾(θ) (at − θ)ᵏ / k!."""
    return sum(
        derivative(k) * (at - theta) ** k / sp.factorial(k) for k in range(TAYLOR_DEGREE + 1)
    )


def verify_stencil(name: str, claimed_stencil: sp.Expr, claimed_error: sp.Expr) -> CheckResult:
    """stencil = f′(θ) + claimed_error + O(h^{n+2}), n the degree in h of claimed_error: no
    term of the difference up to h^{n+1} (a central stencil is even in h, so the term after
    the leading one is two orders higher)."""
    error = sp.expand(claimed_stencil.replace(f, taylor) - derivative(1))
    order = sp.degree(claimed_error, h) if claimed_error != 0 else TAYLOR_DEGREE - 2
    if not 0 <= order <= TAYLOR_DEGREE - 2:
        return CheckResult(False, f"{name}: claimed error of order h^{order} is out of range")
    remainder = sp.Poly(sp.expand((error - claimed_error) * h), h)  # a polynomial: ÷h once
    low = {k - 1: c for (k,), c in remainder.terms() if k - 1 <= order + 1 and c != 0}
    if low:
        k = min(low)
        return CheckResult(False, f"{name}: stencil − f′(θ) − claimed has the term {low[k]} h^{k}")
    return CheckResult(True, f"{name}: stencil − f′(θ) = {claimed_error} + O(h^{order + 2})")


def statement(stencil: sp.Expr, error: sp.Expr) -> str:
    """stencil = f′(θ) + error + O(h^{n+2}) in LaTeX, as two rows of an aligned block (the
    stencil, then the expansion), so that the two statements of (6.10) fit the notes' column."""
    order = sp.degree(error, h) if error != 0 else TAYLOR_DEGREE - 2
    expansion = tex(derivative(1) + error) + f" + O(h^{{{order + 2}}})"
    return f"&{tex(stencil)} \\\\ &\\qquad = {expansion}"


def verify_central_differences(
    claimed_four_point: sp.Expr = FOUR_POINT,
    claimed_four_point_error: sp.Expr = FOUR_POINT_ERROR,
    claimed_two_point: sp.Expr = TWO_POINT,
    claimed_two_point_error: sp.Expr = TWO_POINT_ERROR,
) -> CheckResult:
    return combine(
        verify_stencil("four-point", claimed_four_point, claimed_four_point_error),
        verify_stencil("two-point", claimed_two_point, claimed_two_point_error),
    )


def central_difference_check(
    claimed_four_point: sp.Expr = FOUR_POINT,
    claimed_four_point_error: sp.Expr = FOUR_POINT_ERROR,
    claimed_two_point: sp.Expr = TWO_POINT,
    claimed_two_point_error: sp.Expr = TWO_POINT_ERROR,
) -> Check:
    return Check(
        id="gradcheck.fourth_order_central_difference",
        title="The gradient check's four-point central difference is f′ + O(h⁴); two-point: O(h²)",
        equation="(6.10)",
        latex=r"\begin{aligned}"
        + statement(claimed_four_point, claimed_four_point_error)
        + r", \\ "
        + statement(claimed_two_point, claimed_two_point_error)
        + r"\end{aligned}",
        run=lambda: verify_central_differences(
            claimed_four_point,
            claimed_four_point_error,
            claimed_two_point,
            claimed_two_point_error,
        ),
    )


CHECKS = (central_difference_check(),)
