"""What a check is: a named, citable statement and the sympy computation that settles it.

A ``Check`` pairs a stable identifier (cited by the lecture notes, e.g.
``kl.univariate_closed_form``) and an equation number (e.g. ``(4.3)``) with a
``verify()`` that recomputes the statement from scratch and reports a
``CheckResult``. The verification functions take the *claimed* expression as an
argument, so a perturbed claim (a dropped factor, a wrong sign) can be handed to the
same verifier and must come back as a failure: no check can pass vacuously.

Two kinds:

- ``identity``: the statement holds. PASS when sympy confirms it.
- ``erratum``: a formula from the course handouts (``elbo_math.handouts``) that is wrong.
  ``verify()`` passes when the refutation holds (a counterexample is found and the
  correct form checks out); the table then says REFUTED.

Zero tests are one-sided on purpose: ``is_zero`` returns True only when sympy
reduces an expression to exactly 0. An identity sympy cannot reduce is reported as
FAIL, never as PASS.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import sympy as sp

from elbo_math.symbols import tex

Kind = Literal["identity", "erratum"]


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    detail: str


@dataclass(frozen=True)
class Check:
    id: str  # stable; the lecture notes cite it
    title: str
    equation: str  # e.g. "(4.3)"
    latex: str  # the statement (for an erratum: the correct form)
    run: Callable[[], CheckResult]
    kind: Kind = "identity"
    wrong_latex: str = ""  # erratum only: the formula as the course material states it
    source: str = ""  # erratum only: where it appears

    def verify(self) -> CheckResult:
        """Run the verification; an exception is a failure, with its message as detail."""
        try:
            return self.run()
        except Exception as error:  # a check that cannot be computed has not passed
            return CheckResult(False, f"raised {type(error).__name__}: {error}")


def is_zero(expr: sp.Expr) -> bool:
    """True only if sympy reduces ``expr`` to exactly 0 (logs expanded under the
    symbols' assumptions, sums evaluated where sympy can)."""
    e = sp.sympify(expr).replace(lambda a: isinstance(a, sp.Sum), lambda a: a.doit())
    e = sp.expand(sp.expand_log(e, deep=True))
    if e == 0:
        return True
    e = sp.simplify(e)
    if e == 0:
        return True
    return sp.expand(sp.logcombine(sp.expand_log(e, deep=True), force=False)) == 0


def all_zero(residuals: dict[str, sp.Expr]) -> CheckResult:
    """Pass if every named residual is 0; the detail names those that are not."""
    bad = {name: r for name, r in residuals.items() if not is_zero(r)}
    if bad:
        listing = "; ".join(f"{name}: residual {_short(sp.simplify(r))}" for name, r in bad.items())
        return CheckResult(False, f"not zero: {listing}")
    return CheckResult(True, "residual 0: " + ", ".join(residuals))


def equal(name: str, claimed: sp.Expr, derived: sp.Expr) -> CheckResult:
    """Pass if claimed − derived reduces to 0."""
    return all_zero({f"{name} (claimed − derived)": claimed - derived})


def combine(*results: CheckResult) -> CheckResult:
    """All must pass; details are joined in order."""
    return CheckResult(all(r.passed for r in results), " | ".join(r.detail for r in results))


def latex_chain(lhs: str, steps: Sequence[sp.Expr], result: str = "") -> str:
    """An aligned derivation, a row a step: lhs = step_0 = step_1 = ... = result. A step
    that is a sum of integrals gets a row an integral (a display of two side by side is
    wider than the notes' text column)."""
    rows = [row for step in steps for row in _step_rows(step)]
    rows += [f"&= {result}"] if result else []
    return "\\begin{aligned}\n" + lhs + " " + " \\\\\n".join(rows) + "\n\\end{aligned}"


def _step_rows(step: sp.Expr) -> list[str]:
    """'&= a + b' as one row, or, for a sum of integrals, 'a' then '+ b' on a row below,
    in the order and with the signs sympy prints them."""
    if not (step.is_Add and sum(term.has(sp.Integral) for term in step.args) > 1):
        return [f"&= {tex(step)}"]
    first, *rest = step.as_ordered_terms()
    rows = [f"&= {tex(first)}"]
    for term in rest:
        sign, term = ("-", -term) if term.could_extract_minus_sign() else ("+", term)
        rows.append(f"&\\quad {sign} {tex(term)}")
    return rows


def _short(expr: sp.Expr, limit: int = 160) -> str:
    text = str(expr)
    return text if len(text) <= limit else text[: limit - 3] + "..."
