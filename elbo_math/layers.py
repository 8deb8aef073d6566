"""The derivatives inside the hand-written layers: what each backward pass multiplies the
upstream gradient by.

A layer maps its input to an output; its backward pass receives G = ∂L/∂(output) for the
scalar loss L and returns ∂L/∂(input) (and the parameters' gradients).

(6.6)  Linear, y = x W + 1 bᵀ, x (B, n_in), W (n_in, n_out), b (n_out,), G = ∂L/∂y (B, n_out):
       with L = Σ_ij G_ij y_ij (any loss, to first order in y),
       ∂L/∂x = G Wᵀ,   ∂L/∂W = xᵀ G,   ∂L/∂b = Σ_batch G = 1ᵀ G

(6.7)  relu(t) = max(t, 0):  relu′(t) = 1 for t > 0, 0 for t < 0. At t = 0 relu has no
       derivative (the one-sided ones are 0 and 1); the code takes 0 there, as torch
       does, which is a subgradient: relu′(t) = H(t) with H(0) = 0.

(6.8)  tanh′(t) = 1 − tanh²(t) = 1 − y²   for the output y = tanh(t)

(6.9)  sigmoid′(t) = sigmoid(t)(1 − sigmoid(t)) = y(1 − y)   for y = sigmoid(t);
       the stable forms the code evaluates are the textbook functions:
       sigmoid(t) = e^{−|t|}/(1 + e^{−|t|}) for t < 0, 1/(1 + e^{−t}) for t >= 0,
       softplus(t) = max(t, 0) + log(1 + e^{−|t|}) = log(1 + eᵗ)

tanh and sigmoid state their derivative in terms of the output y, because that is what
their forward passes keep for backward. (6.6) is verified on matrices of a fixed small size
(B, n_in, n_out) = (2, 3, 2) whose entries are independent real symbols, by differentiating
L entry by entry; the claims themselves are matrix expressions of any size, which
``numeric.linear_backward`` evaluates. (6.7) and the stable forms are verified separately on
a positive and on a negative symbol, where max, |·| and the branches are resolved.
"""

import sympy as sp

from elbo_math.check import Check, CheckResult, combine, equal, is_zero
from elbo_math.symbols import explicit, sigmoid, softplus, t, tex

batch, n_in, n_out = sp.symbols("B n_in n_out", integer=True, positive=True)
X = sp.MatrixSymbol("x", batch, n_in)
W = sp.MatrixSymbol("W", n_in, n_out)
b = sp.MatrixSymbol("b", 1, n_out)  # a row: the bias added to every example
G = sp.MatrixSymbol("G", batch, n_out)  # ∂L/∂y, what backward receives
SIZES = {batch: 2, n_in: 3, n_out: 2}  # where (6.6) is verified

y = sp.Symbol("y", real=True)  # an activation's output, what its forward keeps for backward
t_pos = sp.Symbol("t", positive=True)
t_neg = sp.Symbol("t", negative=True)

# (6.6)
LINEAR = X * W + sp.OneMatrix(batch, 1) * b
DL_DX = G * W.T
DL_DW = X.T * G
DL_DB = sp.OneMatrix(1, batch) * G
# (6.7)
RELU = sp.Max(t, 0)
DRELU = sp.Heaviside(t, 0)  # H(0) = 0
# (6.8)
TANH = sp.tanh(t)
DTANH = 1 - y**2
# (6.9)
SIGMOID = sigmoid(t)
DSIGMOID = y * (1 - y)
SIGMOID_STABLE = sp.Piecewise(
    (sp.exp(-sp.Abs(t)) / (1 + sp.exp(-sp.Abs(t))), t < 0), (1 / (1 + sp.exp(-t)), True)
)
SOFTPLUS_STABLE = sp.Max(t, 0) + sp.log(1 + sp.exp(-sp.Abs(t)))


def entries(name: str, rows: int, cols: int) -> sp.Matrix:
    """A rows × cols matrix of independent real symbols name_ij."""
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i}{j}", real=True))


def at_size(expr: sp.MatrixExpr, values: dict[sp.MatrixSymbol, sp.Matrix]) -> sp.Matrix:
    """A matrix expression at SIZES with its matrix symbols replaced by explicit matrices."""
    sized = {m.subs(SIZES): value for m, value in values.items()}
    return sp.Matrix(sp.sympify(expr).subs(SIZES).subs(sized).doit())


def matrix_equal(name: str, claimed: sp.Matrix, derived: sp.Matrix) -> CheckResult:
    """Pass if the shapes agree and every entry of claimed − derived reduces to 0."""
    if claimed.shape != derived.shape:
        return CheckResult(False, f"{name}: shape {claimed.shape}, derived {derived.shape}")
    pairs = [(i, j) for i in range(claimed.rows) for j in range(claimed.cols)]
    bad = [(i, j) for i, j in pairs if not is_zero(claimed[i, j] - derived[i, j])]
    if bad:
        i, j = bad[0]
        return CheckResult(
            False,
            f"{name}: {len(bad)} of {len(claimed)} entries differ, e.g. [{i},{j}]: "
            f"claimed {claimed[i, j]}, derived {derived[i, j]}",
        )
    return CheckResult(True, f"{name}: residual 0 in all {claimed.rows}×{claimed.cols} entries")


def verify_linear(
    claimed_dx: sp.MatrixExpr = DL_DX,
    claimed_dw: sp.MatrixExpr = DL_DW,
    claimed_db: sp.MatrixExpr = DL_DB,
) -> CheckResult:
    """(6.6) at SIZES: the gradient of L = Σ_ij G_ij y_ij, entry by entry."""
    values = {
        X: entries("x", SIZES[batch], SIZES[n_in]),
        W: entries("W", SIZES[n_in], SIZES[n_out]),
        b: entries("b", 1, SIZES[n_out]),
        G: entries("G", SIZES[batch], SIZES[n_out]),
    }
    out = at_size(LINEAR, values)
    loss = sum(g * v for g, v in zip(values[G], out, strict=True))  # Σ_ij G_ij y_ij

    def gradient(m: sp.MatrixSymbol) -> sp.Matrix:
        return values[m].applyfunc(lambda entry: sp.diff(loss, entry))

    return combine(
        matrix_equal("∂L/∂x", at_size(claimed_dx, values), gradient(X)),
        matrix_equal("∂L/∂W", at_size(claimed_dw, values), gradient(W)),
        matrix_equal("∂L/∂b", at_size(claimed_db, values), gradient(b)),
    )


def verify_relu(claimed: sp.Expr = DRELU) -> CheckResult:
    """(6.7): the derivative on each side of 0, and the convention at 0."""
    h = sp.Symbol("h", positive=True)
    right = sp.limit(RELU.subs(t, h) / h, h, 0, "+")
    left = sp.limit(RELU.subs(t, -h) / (-h), h, 0, "+")
    kink = CheckResult(
        right == 1 and left == 0,
        f"one-sided derivatives at 0: left {left}, right {right} (relu has no derivative there)",
    )
    return combine(
        equal("relu′(t), t > 0", claimed.subs(t, t_pos), sp.diff(RELU.subs(t, t_pos), t_pos)),
        equal("relu′(t), t < 0", claimed.subs(t, t_neg), sp.diff(RELU.subs(t, t_neg), t_neg)),
        kink,
        equal("relu′(0) = 0 by convention (as torch)", claimed.subs(t, 0), sp.Integer(0)),
    )


def verify_tanh(claimed: sp.Expr = DTANH) -> CheckResult:
    return equal("tanh′(t) at y = tanh t", claimed.subs(y, TANH), sp.diff(TANH, t))


def verify_sigmoid(
    claimed: sp.Expr = DSIGMOID,
    claimed_sigmoid: sp.Expr = SIGMOID_STABLE,
    claimed_softplus: sp.Expr = SOFTPLUS_STABLE,
) -> CheckResult:
    textbook_sigmoid, textbook_softplus = explicit(SIGMOID), explicit(softplus(t))
    results = [
        equal(
            "sigmoid′(t) at y = sigmoid t",
            explicit(claimed.subs(y, SIGMOID)),
            sp.diff(textbook_sigmoid, t),
        )
    ]
    for side, value in (("t > 0", t_pos), ("t < 0", t_neg), ("t = 0", sp.Integer(0))):
        results += [
            equal(
                f"stable sigmoid, {side}",
                claimed_sigmoid.subs(t, value),
                textbook_sigmoid.subs(t, value),
            ),
            equal(
                f"stable softplus, {side}",
                claimed_softplus.subs(t, value),
                textbook_softplus.subs(t, value),
            ),
        ]
    return combine(*results)


def matrix_tex(expr: sp.MatrixExpr) -> str:
    """LaTeX of a matrix expression, with the all-ones matrices written 1 and 1ᵀ."""
    ones = {
        sp.OneMatrix(batch, 1): sp.MatrixSymbol(r"\mathbf{1}", batch, 1),
        sp.OneMatrix(1, batch): sp.MatrixSymbol(r"\mathbf{1}^{\top}", 1, batch),
    }
    return tex(sp.sympify(expr).subs(ones))


def linear_check(
    claimed_dx: sp.MatrixExpr = DL_DX,
    claimed_dw: sp.MatrixExpr = DL_DW,
    claimed_db: sp.MatrixExpr = DL_DB,
) -> Check:
    return Check(
        id="layer.linear_backward",
        title="Backward pass of the linear layer y = x W + b",
        equation="(6.6)",
        latex=r"y = "
        + matrix_tex(LINEAR)
        + r",\ G = \frac{\partial L}{\partial y}:\quad \frac{\partial L}{\partial x} = "
        + matrix_tex(claimed_dx)
        + r",\quad \frac{\partial L}{\partial W} = "
        + matrix_tex(claimed_dw)
        + r",\quad \frac{\partial L}{\partial b} = "
        + matrix_tex(claimed_db),
        run=lambda: verify_linear(claimed_dx, claimed_dw, claimed_db),
    )


def relu_check(claimed: sp.Expr = DRELU) -> Check:
    return Check(
        id="layer.relu_derivative",
        title="relu′(t) = 1 for t > 0, 0 for t < 0, and 0 at t = 0 by convention (as torch)",
        equation="(6.7)",
        latex=r"\frac{d}{dt}\max(t, 0) = " + tex(claimed.rewrite(sp.Piecewise)),
        run=lambda: verify_relu(claimed),
    )


def tanh_check(claimed: sp.Expr = DTANH) -> Check:
    return Check(
        id="layer.tanh_derivative",
        title="tanh′(t) = 1 − tanh²(t), from the output y = tanh(t)",
        equation="(6.8)",
        latex=r"\frac{d}{dt}\tanh t = " + tex(claimed) + r",\quad y = \tanh t",
        run=lambda: verify_tanh(claimed),
    )


def sigmoid_check(
    claimed: sp.Expr = DSIGMOID,
    claimed_sigmoid: sp.Expr = SIGMOID_STABLE,
    claimed_softplus: sp.Expr = SOFTPLUS_STABLE,
) -> Check:
    return Check(
        id="layer.sigmoid_derivative",
        title="sigmoid′ = y(1 − y), and the stable sigmoid and softplus equal the textbook ones",
        equation="(6.9)",
        latex=r"\begin{aligned}\frac{d}{dt}\operatorname{sigmoid}(t) &= "
        + tex(claimed)
        + r",\ y = \operatorname{sigmoid}(t); \\ \operatorname{sigmoid}(t) &= "
        + tex(claimed_sigmoid)
        + r", \\ \operatorname{softplus}(t) &= "
        + tex(claimed_softplus)
        + r"\end{aligned}",
        run=lambda: verify_sigmoid(claimed, claimed_sigmoid, claimed_softplus),
    )


CHECKS = (linear_check(), relu_check(), tanh_check(), sigmoid_check())
