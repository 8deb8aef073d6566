"""ELBO surgery (Hoffman & Johnson 2016): where the KL term of the ELBO goes (chapter 8).

Over a dataset of N points x_n, each equally likely, with encoder q(z | n) and the
aggregate posterior q̄(z) = (1/N) Σ_n q(z | n), the average KL term splits in two:

(8.6)  (1/N) Σ_n KL(q(z|n) ‖ p(z)) = I_q(n; z) + KL(q̄(z) ‖ p(z)),
       I_q(n; z) = (1/N) Σ_n KL(q(z|n) ‖ q̄(z)),

the mutual information between the index of a data point and its code under q, which is
at most log N, and how far the codes as a whole fall from the prior. A model can pay KL
for information (useful) or for a q̄ unlike p(z) (then samples from p(z) fall where no
data point's code lies).

Proof: log(q/p) = log(q/q̄) + log(q̄/p); average over n and z ~ q(z|n); the second term
averages to Σ_z q̄ log(q̄/p). The algebra is the same for sums and for integrals, so
sympy verifies it for a latent with K states and N data points, every probability a
free positive symbol (rows normalised by their last entry).
"""

import sympy as sp

from elbo_math.check import Check, CheckResult, equal

N_POINTS, N_STATES = 2, 3


def _distribution(name: str) -> list[sp.Expr]:
    """K positive probabilities summing to 1: K − 1 free symbols, the last their rest."""
    free = sp.symbols(f"{name}_0:{N_STATES - 1}", positive=True)
    return [*free, 1 - sum(free)]


Q = [_distribution(f"q{n}") for n in range(N_POINTS)]  # q(z | n)
P = _distribution("p")  # the prior p(z)
Q_BAR = [sum(Q[n][z] for n in range(N_POINTS)) / N_POINTS for z in range(N_STATES)]


def kl(a: list[sp.Expr], b: list[sp.Expr]) -> sp.Expr:
    return sum(ai * (sp.log(ai) - sp.log(bi)) for ai, bi in zip(a, b, strict=True))


AVERAGE_KL = sum(kl(Q[n], P) for n in range(N_POINTS)) / N_POINTS
MUTUAL_INFORMATION = sum(kl(Q[n], Q_BAR) for n in range(N_POINTS)) / N_POINTS
MARGINAL_KL = kl(Q_BAR, P)


def verify_surgery(claimed: sp.Expr) -> CheckResult:
    """``claimed`` must equal the average KL to the prior."""
    return equal("average KL", claimed, AVERAGE_KL)


CHECKS = (
    Check(
        id="surgery.average_kl",
        title="ELBO surgery: the average KL is mutual information plus the marginal KL",
        equation="(8.6)",
        latex=r"\begin{gathered}\frac1N \sum_n \mathrm{KL}(q(z \mid x_n) \,\|\, p(z)) = I_q(n; z)"
        r" + \mathrm{KL}(\bar q(z) \,\|\, p(z)), \\ \bar q(z) = \frac1N \sum_n q(z \mid x_n)"
        r"\end{gathered}",
        run=lambda: verify_surgery(MUTUAL_INFORMATION + MARGINAL_KL),
    ),
)
