"""Pictures for intuition: the notes' diagrams that need no trained run.

- ``graphical-model``: the model as a graph, z -> x inside a plate over the N images,
  the encoder's dashed arrow back (chapter 1);
- ``likelihood-curves``: one pixel's negative log-likelihood against the decoder's
  output, Bernoulli beside Gaussians of three σ_x, and β = 2σ_x², the KL weight that a
  summed squared error implies (3.5) (chapter 3);
- ``overlapping-posteriors``: two 1-D posteriors that overlap, the share r_n(z) of each
  image in the code z, and the decoder's best output, their blend (chapter 13);
- ``reparameterization-graph``: the computation of the loss as a graph, the random
  draw ε outside the path the gradient takes (chapter 5);
- ``posterior-vs-diagonal``: in chapter 2's linear Gaussian model, the exact posterior
  p(z|x) against the best diagonal Gaussian q and a poor one, as ellipses of 1 and 2
  standard deviations (chapter 2);
- ``elbo-gap``: for the same three q, log p(x), the ELBO and the gap between them,
  KL(q ‖ p(z|x)) (2.1).

Chapter 2's numbers are computed by ``elbo_math.linear_gaussian_numeric`` from the
instance the notes use (``chapter2_instance``), the likelihoods by the package's own
``vae_torch.likelihoods``; ``draw_all(out)`` writes the PNGs, and
``docs/regenerate_figures.py`` calls it for docs/figures/intuition.
"""

from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Ellipse, FancyArrowPatch, FancyBboxPatch, Rectangle
from scipy.stats import norm

from elbo_math.linear_gaussian_numeric import LinearGaussian
from vae_numpy.data import load_dataset
from vae_torch.likelihoods import bernoulli_log_likelihood, gaussian_log_likelihood
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


NODES = {  # name: (x, y, label, kind); three rows, the KL between μ and log σ²
    "x": (0.075, 0.55, "x", "data"),
    "enc": (0.22, 0.55, "encoder", "net"),
    "mu": (0.40, 0.88, "μ", "value"),
    "kl": (0.40, 0.55, "KL(q || p(z))", "loss"),
    "lv": (0.40, 0.22, "log σ²", "value"),
    "z": (0.60, 0.55, "z = μ + σ ⊙ ε", "value"),
    "eps": (0.60, 0.22, "ε ~ N(0, I)", "noise"),
    "dec": (0.77, 0.55, "decoder", "net"),
    "rec": (0.92, 0.55, "log p(x|z)", "loss"),
}
HALF = (0.065, 0.06)  # a box's half width and half height
EDGES = [  # (from, its side, to, its side): sides l, r, t, b
    ("x", "r", "enc", "l"),
    ("enc", "r", "mu", "l"),
    ("enc", "r", "lv", "l"),
    ("mu", "b", "kl", "t"),
    ("lv", "t", "kl", "b"),
    ("mu", "r", "z", "l"),
    ("lv", "r", "z", "l"),
    ("eps", "t", "z", "b"),
    ("z", "r", "dec", "l"),
    ("dec", "r", "rec", "l"),
    ("x", "b", "rec", "b"),
]


def anchor(name: str, side: str) -> tuple[float, float]:
    """The middle of a side of node ``name``'s box, just outside it."""
    x0, y0, *_ = NODES[name]
    dx, dy = HALF[0] + 0.002, HALF[1] + 0.002
    return {"l": (x0 - dx, y0), "r": (x0 + dx, y0), "t": (x0, y0 + dy), "b": (x0, y0 - dy)}[side]


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
    ax.set(xlim=(0, 1), ylim=(0.02, 1))
    ax.set_axis_off()
    for x0, y0, label, kind in NODES.values():
        ax.add_patch(
            FancyBboxPatch(
                (x0 - HALF[0], y0 - HALF[1]),
                2 * HALF[0],
                2 * HALF[1],
                boxstyle="round,pad=0.01",
                facecolor=FILL[kind],
                edgecolor="black",
                lw=1,
            )
        )
        ax.text(x0, y0, label, ha="center", va="center", fontsize=9)
    for a, side_a, b, side_b in EDGES:
        random = a == "eps"
        # the data enters the likelihood too: under every box, as a bracket
        bend = "bar,fraction=0.15" if (a, b) == ("x", "rec") else "arc3"
        ax.add_patch(
            FancyArrowPatch(
                anchor(a, side_a),
                anchor(b, side_b),
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


def graphical_model() -> Figure:
    """z -> x in a plate over the N images; θ and φ outside it, the encoder's q dashed."""
    fig = new_figure((5.2, 3.2))
    fig.set_layout_engine("none")
    ax = fig.add_axes((0, 0, 1, 0.84))
    ax.set(xlim=(0, 1.93), ylim=(0, 1))  # equal units across and up at this axes' size
    ax.set_axis_off()
    z, x, radius = (0.85, 0.72), (0.85, 0.26), 0.09
    ax.add_patch(Rectangle((0.46, 0.05), 0.96, 0.80, fill=False, lw=1))
    ax.text(1.39, 0.08, "n = 1, …, N", ha="right", va="bottom", fontsize=9)
    for (cx, cy), label, fill in ((z, "$z_n$", "white"), (x, "$x_n$", "#cccccc")):
        ax.add_patch(Circle((cx, cy), radius, facecolor=fill, edgecolor="black", lw=1.2))
        ax.text(cx, cy, label, ha="center", va="center", fontsize=12)
    decoder = FancyArrowPatch(
        (z[0] - 0.03, z[1] - radius),
        (x[0] - 0.03, x[1] + radius),
        arrowstyle="-|>",
        mutation_scale=12,
        lw=1.2,
    )
    encoder = FancyArrowPatch(
        (x[0] + 0.04, x[1] + radius),
        (z[0] + 0.04, z[1] - radius),
        arrowstyle="-|>",
        mutation_scale=12,
        lw=1.2,
        ls="--",
        color="tab:blue",
        connectionstyle="arc3,rad=0.5",
    )
    ax.add_patch(decoder)
    ax.add_patch(encoder)
    ax.text(0.78, 0.49, "$p_\\theta(x \\mid z)$", ha="right", va="center", fontsize=10)
    ax.text(
        1.04, 0.36, "$q_\\phi(z \\mid x)$", color="tab:blue", ha="left", va="center", fontsize=10
    )
    ax.text(0.02, 0.93, "$p(z) = \\mathcal{N}(0, I)$", fontsize=9, va="center")
    ax.add_patch(
        FancyArrowPatch(
            (0.40, 0.87),
            (z[0] - radius, z[1] + 0.03),
            arrowstyle="-|>",
            mutation_scale=10,
            color="0.4",
            lw=0.8,
        )
    )
    for (cx, cy), label, target, colour in (
        ((1.70, 0.26), "$\\theta$", (x[0] + radius + 0.01, x[1]), "0.4"),
        ((1.70, 0.55), "$\\phi$", (1.0, 0.50), "tab:blue"),
    ):
        ax.plot(cx, cy, "o", color=colour, ms=4)
        ax.text(cx + 0.04, cy, label, fontsize=11, va="center", color=colour)
        ax.add_patch(
            FancyArrowPatch(
                (cx - 0.02, cy), target, arrowstyle="-|>", mutation_scale=10, color=colour, lw=0.8
            )
        )
    fig.suptitle(
        "the model: each image $x_n$ is drawn from $p_\\theta(x \\mid z_n)$ with its own code\n"
        "$z_n \\sim p(z)$ (grey: observed); the encoder's $q_\\phi(z \\mid x)$ (dashed) "
        "guesses $z_n$ back",
        fontsize=9,
    )
    return fig


SIGMAS_X = (0.05, 0.1, 0.3)  # the σ sweep's range, and the package's default


def likelihood_curves() -> Figure:
    """Left: -log p(x_i = 1 | output) against the decoder's output, for a black-and-white
    pixel, Bernoulli and Gaussian of three σ_x. Right: β = 2σ_x² (3.5)."""
    fig = new_figure((9.0, 3.6))
    left, right = fig.subplots(1, 2, width_ratios=(3, 2))
    xhat = torch.linspace(0.005, 0.995, 397, dtype=torch.float64)
    one = torch.ones_like(xhat)
    bernoulli = -bernoulli_log_likelihood(one[:, None], torch.logit(xhat)[:, None])
    left.plot(xhat, bernoulli, color="black", lw=2, label="Bernoulli: −log x̂")
    for sigma, colour in zip(SIGMAS_X, ("tab:red", "tab:orange", "tab:green"), strict=True):
        nll = -gaussian_log_likelihood(one[:, None], xhat[:, None], sigma)
        left.plot(xhat, nll - nll[-1], color=colour, label=f"Gaussian, σ_x = {sigma}")
    left.set(
        xlabel="the decoder's output x̂ for a pixel whose value is 1",
        ylabel="−log p(x = 1 | x̂), nats (Gaussians\nshifted to 0 at x̂ = 1)",
        ylim=(0, 12),
    )
    left.legend(fontsize=8)
    left.set_title(
        "one pixel's loss: the Bernoulli's log barrier, the Gaussians' parabolas", fontsize=9
    )
    sigmas = np.geomspace(0.03, 1.5, 200)
    right.loglog(sigmas, 2 * sigmas**2, color="black")
    for sigma in (*SIGMAS_X, 2**-0.5):
        beta = 2 * sigma**2
        right.plot(sigma, beta, "o", color="black", ms=4)
        label = "MSE(sum) + KL" if sigma == 2**-0.5 else f"β = {beta:g}"
        right.annotate(
            label, (sigma, beta), textcoords="offset points", xytext=(6, -10), fontsize=8
        )
    right.axhline(1, color="0.6", lw=0.8, ls="--")
    right.set(xlabel="σ_x", ylabel="β, the KL's weight against the\nsummed squared error")
    right.set_title("(3.5): the Gaussian ELBO is squared error + 2σ_x² KL", fontsize=9)
    return fig


def overlapping_posteriors() -> Figure:
    """Chapter 13's two images in one dimension: q(z|x_1), q(z|x_2), the shares
    r_n(z) and the best decoder's output at z, the blend r_1 x_1 + r_2 x_2."""
    raw = load_dataset("mnist-5k")  # the two digits of chapter 13's doctest
    images = raw.train_images.reshape(-1, 28, 28) / 255.0
    x1 = images[np.flatnonzero(raw.train_labels == 3)[0]]
    x2 = images[np.flatnonzero(raw.train_labels == 5)[0]]
    means, s = (-0.6, 0.6), 0.5
    z = np.linspace(-2.5, 2.5, 501)
    q1, q2 = norm.pdf(z, means[0], s), norm.pdf(z, means[1], s)
    r1 = q1 / (q1 + q2)
    fig = new_figure((8.0, 4.6))
    top, middle, bottom = fig.subplots(3, 1, height_ratios=(2, 1.3, 1.2), sharex=False)
    for q, name, colour in ((q1, "q(z | x₁), a 3", "tab:blue"), (q2, "q(z | x₂), a 5", "tab:red")):
        top.fill_between(z, q, alpha=0.3, color=colour, label=name)
    top.set(ylabel="density", xlim=(z[0], z[-1]))
    top.legend(fontsize=8, loc="upper left")
    top.set_title(
        "two posteriors that overlap: a code z near 0 could have come from either image", fontsize=9
    )
    middle.plot(z, r1, color="tab:blue", label="r₁(z)")
    middle.plot(z, 1 - r1, color="tab:red", label="r₂(z) = 1 − r₁(z)")
    middle.set(ylabel="share", xlim=(z[0], z[-1]), ylim=(-0.05, 1.05))
    middle.legend(fontsize=8, loc="center right")
    shown = np.linspace(-1.6, 1.6, 9)
    share = norm.pdf(shown, means[0], s) / (
        norm.pdf(shown, means[0], s) + norm.pdf(shown, means[1], s)
    )
    strip = np.concatenate([w * x1 + (1 - w) * x2 for w in share], axis=1)
    bottom.imshow(strip, cmap="gray", vmin=0, vmax=1, aspect="equal")
    bottom.set_xticks(14 + 28 * np.arange(len(shown)), [f"{v:.1f}" for v in shown], fontsize=7)
    bottom.set_yticks([])
    bottom.set_xlabel(
        "z: the best decoder's output r₁(z) x₁ + r₂(z) x₂, a blend where the posteriors overlap",
        fontsize=8,
    )
    return fig


PICTURES = {
    "graphical-model": graphical_model,
    "likelihood-curves": likelihood_curves,
    "overlapping-posteriors": overlapping_posteriors,
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
