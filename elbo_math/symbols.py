"""The symbols every derivation shares, with their assumptions declared.

One name, one quantity, and the same names as the backends' code:

- ``mu`` (μ), ``log_var`` (log σ², any real), ``sigma`` (σ > 0): a diagonal
  Gaussian's mean, log-variance and standard deviation, std = exp(½ log σ²).
- ``eps`` (ε): standard normal noise; ``z``: a latent coordinate.
- ``x``: a data coordinate; ``x_hat`` (x̂): the decoder's Gaussian mean;
  ``logit`` (ℓ): the decoder's Bernoulli logit; ``p``: a Bernoulli probability.
- ``s``: the observation noise scale of the linear Gaussian model (chapter 2).

``softplus`` and ``sigmoid`` are sympy functions whose meaning is a rewrite rule
(softplus(ℓ) = log(1 + e^ℓ), sigmoid(ℓ) = 1/(1 + e^−ℓ)); the checks verify
identities after rewriting, and ``numeric`` evaluates them with numerically stable
numpy code (logaddexp), so the lambdified functions never overflow.
"""

import sympy as sp

mu, mu1, mu2 = sp.symbols("mu mu_1 mu_2", real=True)
log_var, log_var1, log_var2 = sp.symbols("log_var log_var_1 log_var_2", real=True)
sigma, sigma1, sigma2 = sp.symbols("sigma sigma_1 sigma_2", positive=True)
eps = sp.Symbol("epsilon", real=True)
z = sp.Symbol("z", real=True)
t = sp.Symbol("t", real=True)
x = sp.Symbol("x", real=True)
x_hat = sp.Symbol("x_hat", real=True)
logit = sp.Symbol("ell", real=True)
p = sp.Symbol("p", positive=True)
s = sp.Symbol("s", positive=True)


class softplus(sp.Function):
    """softplus(ℓ) = log(1 + e^ℓ)."""

    def _eval_rewrite_as_log(self, arg, **kwargs):
        return sp.log(1 + sp.exp(arg))

    def _eval_is_real(self):
        return self.args[0].is_real


class sigmoid(sp.Function):
    """sigmoid(ℓ) = 1 / (1 + e^−ℓ)."""

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return 1 / (1 + sp.exp(-arg))

    def _eval_is_real(self):
        return self.args[0].is_real


def explicit(expr: sp.Expr) -> sp.Expr:
    """``expr`` with softplus and sigmoid replaced by their definitions."""
    return expr.rewrite(softplus, sp.log).rewrite(sigmoid, sp.exp)


def density(name: str, latex: str):
    """An abstract positive density of z, printed as ``latex`` (e.g. ``p(x \\mid z)``)."""

    def _latex(self, printer, exp=None):
        return latex if exp is None else f"{{{latex}}}^{{{exp}}}"

    return sp.Function(name, positive=True, _latex=_latex)(z)


LATEX_NAMES = {
    log_var: r"\log\sigma^{2}",
    log_var1: r"\log\sigma_1^{2}",
    log_var2: r"\log\sigma_2^{2}",
    x_hat: r"\hat{x}",
    logit: r"\ell",
}


def tex(expr: sp.Expr) -> str:
    """LaTeX of ``expr`` with the package's symbol names (log σ², x̂, ℓ). An integral's
    limits sit beside its sign (``\\int_{-\\infty}^{\\infty}``), not above and below it
    (sympy's ``\\int\\limits``), which stacks them and makes every row of a derivation taller."""
    return sp.latex(expr, symbol_names=LATEX_NAMES).replace(r"\int\limits", r"\int")
