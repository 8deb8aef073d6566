"""Pictures for intuition: the notes' diagrams that need no trained run.

- ``reparameterization-graph``: the computation of the loss as a graph, the random
  draw ε outside the path the gradient takes (chapter 5);
- ``posterior-vs-diagonal``: in chapter 2's linear Gaussian model, the exact posterior
  p(z|x) against the best diagonal Gaussian q and a poor one, as ellipses of 1 and 2
  standard deviations (chapter 2);
- ``elbo-gap``: for the same three q, log p(x), the ELBO and the gap between them,
  KL(q ‖ p(z|x)) (2.1).

Every number is computed by ``elbo_math.linear_gaussian_numeric`` from the instance the
notes use (``chapter2_instance``); ``draw_all(out)`` writes the PNGs, and
``docs/regenerate_figures.py`` calls it for docs/figures/intuition.
"""

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch

from elbo_math.linear_gaussian_numeric import LinearGaussian
from vae_torch.plotting import new_figure, save

POOR_Q = (np.array([0.3, -0.2]), np.array([-1.0, -0.5]))  # chapter 2's poor guess


def chapter2_instance() -> tuple[LinearGaussian, np.ndarray]:
    """Chapter 2's model and image: W (6x2), b from seed 0, s = 0.5, x drawn from it."""
    rng = np.random.default_rng(0)
    model = LinearGaussian(W=rng.normal(size=(6, 2)), b=rng.normal(size=6), s=0.5)
    x = model.W @ rng.standard_normal(2) + model.b + model.s * rng.standard_normal(6)
    return model, x


def three_q(model: LinearGaussian, x: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The exact posterior (1.1), the best diagonal q (the posterior's mean, variances
    1/A_ii with A the precision of (2.8), as chapter 2 derives and its doctest checks) and
    the poor guess, each as (mean, covariance)."""
    mean, cov = model.posterior(x)
    best = np.diag(1 / np.diag(model.precision()))
    mu, log_var = POOR_Q
    return {
        "p(z|x)": (mean, cov),
        "best diagonal q": (mean, best),
        "a poor q": (mu, np.diag(np.exp(log_var))),
    }


COLOURS = {"p(z|x)": "black", "best diagonal q": "tab:blue", "a poor q": "tab:orange"}


def ellipse(mean: np.ndarray, cov: np.ndarray, radius: float, **style) -> Ellipse:
    """The contour of N(mean, cov) at ``radius`` standard deviations."""
    values, vectors = np.linalg.eigh(cov)
    angle = np.degrees(np.arctan2(vectors[1, -1], vectors[0, -1]))
    width, height = 2 * radius * np.sqrt(values[::-1])
    return Ellipse(mean, width, height, angle=angle, fill=False, **style)


def posterior_vs_diagonal() -> Figure:
    model, x = chapter2_instance()
    fig = new_figure((5.6, 5.0))
    ax = fig.subplots()
    for name, (mean, cov) in three_q(model, x).items():
        for radius, style in ((1, "-"), (2, "--")):
            label = name if radius == 1 else None
            ax.add_patch(ellipse(mean, cov, radius, color=COLOURS[name], ls=style, label=label))
        ax.plot(*mean, "o", color=COLOURS[name], ms=3)
    mean, cov = model.posterior(x)
    reach = 2.6 * np.sqrt(cov.diagonal().max())
    ax.set(xlim=(mean[0] - reach, mean[0] + reach), ylim=(mean[1] - reach, mean[1] + reach))
    ax.set_aspect("equal")
    ax.set(xlabel="z[0]", ylabel="z[1]")
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(
        "chapter 2's linear Gaussian model: the posterior is correlated, the best\n"
        "diagonal q is narrower in both coordinates (1 and 2 standard deviations)",
        fontsize=9,
    )
    return fig


def elbo_gap() -> Figure:
    model, x = chapter2_instance()
    log_px = float(model.log_evidence(x))
    fig = new_figure((6.4, 4.2))
    ax = fig.subplots()
    terms = {
        name: (float(model.elbo_full_cov(x, m, c)), float(model.kl_to_posterior_full_cov(x, m, c)))
        for name, (m, c) in three_q(model, x).items()
    }
    for i, (name, (elbo, gap)) in enumerate(terms.items()):
        ax.bar(i, gap, bottom=elbo, color=COLOURS[name], alpha=0.35, width=0.6)
        ax.plot([i - 0.3, i + 0.3], [elbo, elbo], color=COLOURS[name], lw=2)
        ax.annotate(
            f"ELBO {elbo:.2f}\nKL(q || p(z|x)) {gap:.2f}",
            (i, elbo),
            textcoords="offset points",
            xytext=(0, -26),
            ha="center",
            fontsize=8,
        )
    ax.axhline(log_px, color="black", lw=1, ls="--")
    ax.annotate(f"log p(x) = {log_px:.2f}", (2.45, log_px), va="bottom", ha="right", fontsize=8)
    ax.set_xticks(range(len(terms)), list(terms))
    ax.set_ylabel("nats")
    ax.set_ylim(min(elbo for elbo, _ in terms.values()) - 4, log_px + 2)
    ax.set_title(
        "log p(x) = ELBO + KL(q || p(z|x)) (2.1): the bar is the gap, the line the ELBO",
        fontsize=9,
    )
    return fig


NODES = {  # name: (x, y, label, kind)
    "x": (0.06, 0.55, "x", "data"),
    "enc": (0.22, 0.55, "encoder", "net"),
    "mu": (0.40, 0.72, "μ", "value"),
    "lv": (0.40, 0.38, "log σ²", "value"),
    "eps": (0.58, 0.26, "ε ~ N(0, I)", "noise"),
    "z": (0.58, 0.55, "z = μ + σ ⊙ ε", "value"),
    "dec": (0.75, 0.55, "decoder", "net"),
    "rec": (0.92, 0.55, "log p(x|z)", "loss"),
    "kl": (0.75, 0.88, "KL(q || p(z))", "loss"),
}
EDGES = [
    ("x", "enc"),
    ("enc", "mu"),
    ("enc", "lv"),
    ("mu", "z"),
    ("lv", "z"),
    ("eps", "z"),
    ("z", "dec"),
    ("dec", "rec"),
    ("mu", "kl"),
    ("lv", "kl"),
    ("x", "rec"),
]
FILL = {
    "data": "#eeeeee",
    "net": "#cfe2f3",
    "value": "white",
    "noise": "#fce5cd",
    "loss": "#d9ead3",
}


def reparameterization_graph() -> Figure:
    fig = new_figure((9.0, 3.8))
    fig.set_layout_engine("none")  # one axes spanning the figure, placed by hand
    ax = fig.add_axes((0, 0, 1, 0.86))
    ax.set(xlim=(0, 1), ylim=(-0.12, 1))
    ax.set_axis_off()
    for x0, y0, label, kind in NODES.values():
        ax.add_patch(
            FancyBboxPatch(
                (x0 - 0.065, y0 - 0.06),
                0.13,
                0.12,
                boxstyle="round,pad=0.01",
                facecolor=FILL[kind],
                edgecolor="black",
                lw=1,
            )
        )
        ax.text(x0, y0, label, ha="center", va="center", fontsize=9)
    for a, b in EDGES:
        (xa, ya, *_), (xb, yb, *_) = NODES[a], NODES[b]
        random = a == "eps"
        if random:  # from below
            start, end, bend = (xa, ya + 0.061), (xb, yb - 0.061), "arc3"
        elif (a, b) == ("x", "rec"):  # the data enters the likelihood: around the bottom
            start, end, bend = (xa, ya - 0.061), (xb, yb - 0.061), "arc3,rad=0.42"
        else:
            start, end, bend = (xa + 0.066, ya), (xb - 0.066, yb), "arc3"
        ax.add_patch(
            FancyArrowPatch(
                start,
                end,
                arrowstyle="-|>",
                mutation_scale=10,
                color="tab:orange" if random else "black",
                ls="--" if random else "-",
                connectionstyle=bend,
                lw=1,
            )
        )
    fig.suptitle(
        "the loss as a graph: gradients flow back along the black arrows to the encoder; "
        "the draw ε (orange)\nis an input with no parameters behind it, so "
        "∂z/∂μ = 1 and ∂z/∂log σ² = ½ σ ⊙ ε (5.2)",
        fontsize=9,
    )
    return fig


PICTURES = {
    "reparameterization-graph": reparameterization_graph,
    "posterior-vs-diagonal": posterior_vs_diagonal,
    "elbo-gap": elbo_gap,
}


def draw_all(out: Path) -> dict[str, Path]:
    """Every picture as OUT/NAME.png; returns their paths by name."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, draw in PICTURES.items():
        files = save(draw(), out, name)
        paths[name] = next(f for f in files if f.suffix == ".png")
    return paths
