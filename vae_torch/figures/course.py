"""The figures the course asks for, each one function registered by name.

================  ====================================================  ========================
name              what it shows                                         asked by (handout key)
================  ====================================================  ========================
elbo-curves       train and validation ELBO per epoch                   conv-vae-exercise
loss-terms        E_q[log p(x|z)] and KL per epoch, train and           conv-vae-exercise
                  validation
reconstructions   10 test images (2x5) beside their reconstructions     elbo-problem-set
                  (2x5)
samples           2x5 images E[x|z], z ~ N(0, I)                        elbo-problem-set,
                                                                        conv-vae-exercise
interpolations    10 points on the line between posterior samples of    conv-vae-exercise
                  two test images of different classes; 3 pairs
latent-hist2d     hist2d (50 bins) of the 2 latent dimensions of        latent-space-problem-set
                  highest variance over the test set, with N(0, I)
                  contours
traversals-1d     decoding norm.ppf(linspace(0.05, 0.95, 7)) along      latent-space-problem-set
                  each of those dimensions, the others at 0 (1x7 each)
traversal-2d      the same values over both (7x7); with a 2-D latent,   latent-space-problem-set
                  a grid over the central 90% of each coordinate (81%
                  of the prior)
class-grid        conditional models: a row per class, a column per z   vae-homework
latent-curves     active units, I_q(n; z), KL(q(z) || p(z)) and         the collapse lab
                  validation ELBO after every epoch (runs trained with
                  latent tracking)
encoder-decoder   2-D latents: each test image's q(z|x) as an ellipse   the notes' intuition
                  in the plane, beside the decoder's E[x|z] on a grid
                  of it
holes-2d          the aggregate posterior against the prior in the      the notes' intuition
                  plane of the 2 dimensions of highest KL, and the
                  prior's mass on its holes
================  ====================================================  ========================

The keys are those of ``elbo_math.handouts``.
The numbers come from ``vae_torch.latent``; these functions only choose and draw.
"""

import math

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Ellipse
from matplotlib.ticker import MaxNLocator

from vae_torch import gaussian, latent
from vae_torch.figures.registry import Context, figure_of, register_figure
from vae_torch.models import VAE
from vae_torch.plotting import latent_curves as draw_latent_curves
from vae_torch.plotting import show_grid
from vae_torch.quality.diagnostics import log_density_ratio, posteriors
from vae_torch.quality.estimate import Estimate

N_INTERPOLATION_PAIRS, INTERPOLATION_STEPS = 3, 10
CLASS_GRID_COLUMNS = 10
HIST_BINS = 50
EPOCH_NOTE = "train: mean over the epoch's batches; validation: after the epoch"


def needs_history(model: VAE, history: list[dict]) -> str | None:
    return None if history else "the run has no per-epoch history"


def needs_two_dims(model: VAE, history: list[dict]) -> str | None:
    if model.latent_dim >= 2:
        return None
    return (
        f"it needs 2 latent dimensions and the model has {model.latent_dim}; "
        "train with --latent-dim 2 or more"
    )


def needs_classes(model: VAE, history: list[dict]) -> str | None:
    if model.n_classes:
        return None
    return (
        "the model has no class labels to condition on; train a conditional model "
        "(--model cvae or conv-cvae)"
    )


def plot_per_epoch(ax, history: list[dict], key: str, ylabel: str, title: str) -> None:
    """Train (solid) and validation (dashed) ``key`` against the epoch."""
    epochs = [r["epoch"] for r in history]
    for split, style in (("train", "-"), ("val", "--")):
        ax.plot(epochs, [r[f"{split}_{key}"] for r in history], style, marker=".", label=split)
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


@register_figure("elbo-curves", (6.4, 4.0), needs_history)
def elbo_curves(ctx: Context) -> Figure:
    fig = figure_of("elbo-curves")
    ax = fig.subplots()
    plot_per_epoch(ax, ctx.history, "elbo", "ELBO (nats per example)", "ELBO (higher is better)")
    ax.legend(title=EPOCH_NOTE, title_fontsize=7, fontsize=8)
    return fig


@register_figure("loss-terms", (10.0, 4.0), needs_history)
def loss_terms(ctx: Context) -> Figure:
    fig = figure_of("loss-terms")
    left, right = fig.subplots(1, 2)
    for ax, key, title in (
        (left, "log_px_given_z", "reconstruction term E_q[log p(x|z)]"),
        (right, "kl", "KL(q(z|x) || p(z))"),
    ):
        plot_per_epoch(ax, ctx.history, key, "nats per example", title)
        ax.legend(fontsize=8)
    fig.suptitle(f"ELBO = E_q[log p(x|z)] − KL   ({EPOCH_NOTE})", fontsize=9)
    return fig


@register_figure("reconstructions", (9.0, 2.9))
def reconstructions(ctx: Context) -> Figure:
    cpu, gen = ctx.generators("reconstructions")
    idx = torch.randperm(len(ctx.x), generator=cpu)[:10].to(ctx.x.device)
    rebuilt = ctx.model.reconstruct(ctx.x[idx], ctx.labels_of(idx), generator=gen)
    ctx.report["reconstructed_test_indices"] = idx.tolist()
    fig = figure_of("reconstructions")
    left, right = fig.subplots(1, 2)
    show_grid(left, ctx.images(ctx.x[idx]), 2, 5, "test images")
    show_grid(
        right, ctx.images(rebuilt), 2, 5, f"reconstructions {ctx.model.shown_name}, z ~ q(z|x)"
    )
    loss = -ctx.bound.log_px_given_z
    fig.suptitle(
        f"test reconstruction loss −E_q[log p(x|z)] = {loss:.2f} nats per image", fontsize=10
    )
    return fig


@register_figure("samples", (6.0, 3.2))
def samples(ctx: Context) -> Figure:
    _, gen = ctx.generators("samples")
    c = latent.each_class(ctx.model, 10)
    samples = ctx.model.sample(10, gen, c)
    model = ctx.model
    title = f"{model.shown_name} for z ~ {model.prior.describe()}"
    if c is not None:
        title += ": " + ", ".join(ctx.class_name(v) for v in c.tolist())
    fig = figure_of("samples")
    show_grid(fig.subplots(), ctx.images(samples), 2, 5, title)
    fig.suptitle(ctx.recognised(samples), fontsize=8)
    return fig


FIGURE_SAMPLERS = ("prior", "gmm", "two-stage", "temperature:0.8")


@register_figure("samplers", (7.0, 1.05 * len(FIGURE_SAMPLERS) + 0.5))
def samplers(ctx: Context) -> Figure:
    """Ten samples of each of FIGURE_SAMPLERS (``vae_torch.samplers``), the same classes in
    each row for a conditional model, each row titled with its sampler and the judge's
    recognisable share of its samples (the run's evaluation record's, where it judged
    them): where the prior's samples fail and a sampler fitted to the codes does not,
    the decoder is not to blame."""
    c = latent.each_class(ctx.model, 10)
    fig = figure_of("samplers")
    axes = fig.subplots(len(FIGURE_SAMPLERS), 1)
    for ax, spec in zip(axes, FIGURE_SAMPLERS, strict=True):
        sampler = ctx.sampler(spec)
        _, gen = ctx.generators("samples")  # the same stream in each row
        images = ctx.model.sample(10, gen, c, sampler=sampler)
        share = ctx.share_of(sampler)
        judged = "" if share is None else f": recognisable {Estimate.of(share).show()}"
        where = "" if sampler.is_prior else " (not the model's prior)"
        show_grid(ax, ctx.images(images), 1, 10, f"{sampler.describe(ctx.model)}{where}{judged}")
    return fig


@register_figure("interpolations", (10.0, 3.6))
def interpolations(ctx: Context) -> Figure:
    """E[x|z] on the lines between posterior samples of test images of different
    classes (of two different images, without classes), one row per pair."""
    cpu, gen = ctx.generators("interpolations")
    pairs = latent.different_class_pairs(ctx.labels, N_INTERPOLATION_PAIRS, cpu)
    conditional = ctx.model.n_classes > 0
    paths, ends, record = [], [], []
    for i, j in pairs:
        idx = torch.tensor([i, j], device=ctx.x.device)
        z0, z1 = latent.posterior_samples(ctx.model, ctx.x[idx], ctx.labels_of(idx), gen)
        ci, cj = int(ctx.labels[i]), int(ctx.labels[j])
        classes = (ci, cj) if conditional else (None, None)
        path = latent.decode_interpolation(ctx.model, z0, z1, INTERPOLATION_STEPS, *classes)
        paths.append(ctx.images(path))
        names = (ctx.class_name(ci), ctx.class_name(cj)) if ctx.classes else (f"#{i}", f"#{j}")
        ends.append(" → ".join(names))
        record.append({"test_indices": [i, j], "classes": [ci, cj]})
    ctx.report["interpolation_pairs"] = record
    fig = figure_of("interpolations")
    cols = [f"{t:.2f}" for t in np.linspace(0, 1, INTERPOLATION_STEPS)]
    show_grid(
        fig.subplots(), np.concatenate(paths), len(ends), INTERPOLATION_STEPS, None, ends, cols
    )
    fig.suptitle(
        "E[x|z] along z = (1 − t) z₁ + t z₂, z₁ and z₂ posterior samples of two test images",
        fontsize=10,
    )
    return fig


@register_figure("latent-hist2d", (5.6, 5.2), needs_two_dims)
def latent_hist2d(ctx: Context) -> Figure:
    dims = ctx.top_dims
    a, b = (ctx.posterior[:, d].double().cpu().numpy() for d in dims)
    fig = figure_of("latent-hist2d")
    ax = fig.subplots()
    reach = max(4.0, float(np.ceil(np.quantile(np.abs(np.concatenate([a, b])), 0.999))))
    ax.hist2d(a, b, bins=HIST_BINS, range=[[-reach, reach], [-reach, reach]], density=True)
    grid = torch.linspace(-reach, reach, 201, dtype=torch.float64)
    gx, gy = torch.meshgrid(grid, grid, indexing="xy")
    density = gaussian.log_std_normal(torch.stack([gx, gy], dim=-1)).exp()  # N(z; 0, I), (4.1)
    radii = (3, 2, 1)  # increasing density
    at_radius = torch.tensor([[r, 0.0] for r in radii], dtype=torch.float64)
    lines = ax.contour(
        gx.numpy(),
        gy.numpy(),
        density.numpy(),
        levels=gaussian.log_std_normal(at_radius).exp().tolist(),
        colors="white",
        linewidths=0.8,
    )
    ax.clabel(lines, fmt={lv: f"{r}σ" for lv, r in zip(lines.levels, radii, strict=True)})
    ax.set_aspect("equal")
    ax.set(xlabel=f"z[{dims[0]}]", ylabel=f"z[{dims[1]}]")
    ax.set_title(
        f"posterior samples over the test set: z[{dims[0]}] mean {a.mean():+.2f} sd {a.std():.2f},"
        f"\nz[{dims[1]}] mean {b.mean():+.2f} sd {b.std():.2f}; white: N(0, I) at 1, 2, 3σ",
        fontsize=9,
    )
    return fig


def probability_range(values: torch.Tensor) -> str:
    """ "p = 0.05..0.95" for values norm.ppf(linspace(0.05, 0.95, n))."""
    low, high = torch.special.ndtr(values[[0, -1]]).tolist()
    return f"p = {low:.3g}..{high:.3g}"


def decode_codes(ctx: Context, codes: torch.Tensor) -> np.ndarray:
    """E[x|z] of latent codes as images; a conditional model decodes its first class."""
    model = ctx.model
    c = torch.zeros(len(codes), dtype=torch.long, device=model.device)
    ctx.report["traversal_values"] = ctx.values.tolist()
    return ctx.images(model.decode(codes.to(model.device), c if model.n_classes else None))


def class_note(ctx: Context) -> str:
    return f" (class {ctx.class_name(0)})" if ctx.model.n_classes else ""


@register_figure("traversals-1d", (8.0, 3.0))
def traversals_1d(ctx: Context) -> Figure:
    """One row per top-variance dimension, that dimension at the traversal values."""
    dims, values = ctx.top_dims, ctx.values
    codes = torch.cat([latent.traversal_codes(ctx.model.latent_dim, [d], values) for d in dims])
    fig = figure_of("traversals-1d")
    rows = [f"z[{d}]" for d in dims]
    cols = [f"{v:+.2f}" for v in values.tolist()]
    show_grid(fig.subplots(), decode_codes(ctx, codes), len(dims), len(values), None, rows, cols)
    fig.suptitle(
        f"E[x|z] with one dimension at norm.ppf(p), {probability_range(values)}, the rest 0"
        f"{class_note(ctx)}",
        fontsize=10,
    )
    return fig


@register_figure("traversal-2d", (6.4, 7.0), needs_two_dims)
def traversal_2d(ctx: Context) -> Figure:
    dims, values, latent_dim = ctx.top_dims, ctx.values, ctx.model.latent_dim
    codes = latent.traversal_codes(latent_dim, dims, values)
    fig = figure_of("traversal-2d")
    ax = fig.subplots()
    labels = [f"{v:+.2f}" for v in values.tolist()]
    n = len(values)
    show_grid(ax, decode_codes(ctx, codes), n, n, None, labels, labels)
    ax.set(ylabel=f"z[{dims[0]}]", xlabel=f"z[{dims[1]}]")
    what = (
        "a 7x7 grid over the square holding 81% of the prior's mass"
        if latent_dim == 2
        else f"2 of {latent_dim} dimensions, the rest 0"
    )
    fig.suptitle(
        f"E[x|z] over norm.ppf(p) x norm.ppf(p), {probability_range(values)}:\n{what}"
        f"{class_note(ctx)}",
        fontsize=10,
    )
    return fig


@register_figure("class-grid", (7.0, 7.9), needs_classes)
def class_grid(ctx: Context) -> Figure:
    """E[x|z, c]: the same CLASS_GRID_COLUMNS codes z down the columns, a class per row."""
    model, dev = ctx.model, ctx.model.device
    _, gen = ctx.generators("class-grid")
    n = model.n_classes
    z = torch.randn((CLASS_GRID_COLUMNS, model.latent_dim), generator=gen, device=dev)
    c = torch.arange(n, device=dev).repeat_interleave(CLASS_GRID_COLUMNS)
    decoded = model.decode(z.repeat(n, 1), c)
    fig = figure_of("class-grid")
    classes = [ctx.class_name(v) for v in range(n)]
    show_grid(fig.subplots(), ctx.images(decoded), n, CLASS_GRID_COLUMNS, None, classes)
    fig.suptitle(
        "E[x|z, c]: one z ~ N(0, I) per column, one class c per row\n"
        + "\n".join(filter(None, (ctx.recognised(decoded), ctx.called(decoded, c)))),
        fontsize=8,
    )
    return fig


@register_figure("kl-per-dimension", (7.0, 3.6))
def kl_per_dimension(ctx: Context) -> Figure:
    """The test set's average KL of each latent dimension (4.7), active ones marked."""
    d = ctx.diagnostics
    kl, active = np.array(d.kl_per_dim), np.array(d.activity) > d.active_threshold
    fig = figure_of("kl-per-dimension")
    ax = fig.subplots()
    ax.bar(np.arange(len(kl)), kl, color=np.where(active, "tab:blue", "tab:gray"))
    ax.set(xlabel="latent dimension d", ylabel="KL (nats per image)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(
        f"KL(q(z_d|x) || {marginal_name(ctx.model)}) averaged over the test set; blue: active "
        f"({d.active_units} of {len(kl)}, Cov_x E_q[z_d] > {d.active_threshold})\n"
        f"ELBO surgery: average KL {d.average_kl:.2f} = I(n; z) "
        f"{d.mutual_information.value:.2f} + KL(q(z) || p(z)) "
        f"{d.marginal_kl.show(2)}",
        fontsize=8,
    )
    ax.grid(alpha=0.3, axis="y")
    return fig


def marginal_name(model: VAE) -> str:
    """The prior's marginal of one latent dimension, as the figures name it."""
    if model.prior.name == "normal":
        return "N(0, 1)"
    return f"p(z_d), {model.prior.describe()}"


AGGREGATE_PANELS = 6  # the dimensions of highest KL drawn


@register_figure("aggregate-posterior", (10.0, 3.4))
def aggregate_posterior(ctx: Context) -> Figure:
    """Histograms of z_d ~ q(z) = mean over test images of q(z|x), against the prior's
    marginal (N(0, 1), or a learned prior's, e.g. the VampPrior's mixture (13.1)): where
    the prior puts mass that q(z) leaves empty, samples from the prior decode badly."""
    d = ctx.diagnostics
    dims = np.argsort(d.kl_per_dim)[::-1][: min(AGGREGATE_PANELS, ctx.model.latent_dim)]
    z = ctx.posterior.double().cpu().numpy()
    fig = figure_of("aggregate-posterior")
    axes = np.atleast_1d(fig.subplots(1, len(dims), sharey=True))
    grid = torch.linspace(-4, 4, 201, dtype=torch.float64)
    model = ctx.model
    on_grid = grid[:, None].expand(-1, model.latent_dim).to(model.device, model.dtype)
    with torch.no_grad():  # each dimension's marginal at the grid: N(z; 0, 1) (4.1) or (13.1)
        prior = model.prior.log_prob_dims(on_grid, model.encoder).exp().double().cpu().numpy()
    for ax, dim in zip(axes, dims, strict=True):
        ax.hist(z[:, dim], bins=60, range=(-4, 4), density=True, color="tab:blue", alpha=0.7)
        ax.plot(grid.numpy(), prior[:, dim], color="black", linewidth=1)
        ax.set_title(f"z[{dim}], KL {d.kl_per_dim[dim]:.2f}", fontsize=8)
        ax.set_xlabel("z_d", fontsize=8)
    fig.suptitle(
        "the aggregate posterior q(z_d) (one z ~ q(z|x) per test image, blue) against the "
        f"prior's {marginal_name(model)} (black); KL(q(z) || p(z)) = "
        f"{d.marginal_kl.value:.2f} nats",
        fontsize=9,
    )
    return fig


def needs_latent_history(model: VAE, history: list[dict]) -> str | None:
    if not history or "active_units" not in history[-1]:
        return "the run was trained without latent tracking (vae experiment collapse tracks it)"
    return None


@register_figure("latent-curves", (12.0, 3.2), needs_latent_history)
def latent_curves(ctx: Context) -> Figure:
    """The latent diagnostics of the validation images after every epoch: where the
    code collapses, active units and I_q(n; z) fall to 0."""
    fig = figure_of("latent-curves")
    draw_latent_curves(fig, {"": ctx.history})
    return fig


def needs_exactly_two_dims(model: VAE, history: list[dict]) -> str | None:
    if model.latent_dim == 2:
        return None
    return (
        f"it draws the whole latent plane, so it needs exactly 2 latent dimensions and the "
        f"model has {model.latent_dim}; train with --latent-dim 2"
    )


ENCODED_SHOWN = 400  # posteriors drawn as ellipses
DECODER_GRID = 9  # decodings per side of the decoder's panel
PLANE = 2.5  # both panels show [-PLANE, PLANE]²


@register_figure("encoder-decoder", (11.0, 5.4), needs_exactly_two_dims)
def encoder_decoder(ctx: Context) -> Figure:
    """The two maps of a VAE with a 2-D code: the encoder takes each test image to a
    Gaussian q(z|x) in the plane (an ellipse of one standard deviation, coloured by
    class), the decoder takes each point z of the plane to an image E[x|z]."""
    cpu, _ = ctx.generators("encoder-decoder")
    pick = torch.randperm(len(ctx.x), generator=cpu)[:ENCODED_SHOWN].to(ctx.x.device)
    mu, log_var = (t.cpu().numpy() for t in posteriors(ctx.model, ctx.x[pick], ctx.labels_of(pick)))
    sd = np.exp(0.5 * log_var)
    labels = ctx.labels[pick].cpu().numpy()
    fig = figure_of("encoder-decoder")
    left, right = fig.subplots(1, 2)
    colours = [f"C{c % 10}" for c in labels]
    for m, s, colour in zip(mu, sd, colours, strict=True):
        left.add_patch(Ellipse(m, 2 * s[0], 2 * s[1], facecolor=colour, alpha=0.25, lw=0))
    left.scatter(mu[:, 0], mu[:, 1], c=colours, s=3)
    for r in (1, 2):
        left.add_patch(Circle((0, 0), r, fill=False, color="black", lw=0.8, ls="--"))
    left.set(xlim=(-PLANE, PLANE), ylim=(-PLANE, PLANE), xlabel="z[0]", ylabel="z[1]")
    left.set_aspect("equal")
    names = sorted({int(c) for c in labels})
    handles = [left.scatter([], [], c=f"C{c % 10}", s=12, label=ctx.class_name(c)) for c in names]
    left.legend(handles=handles, fontsize=6, loc="upper right", ncol=2, framealpha=0.7)
    left.set_title(
        f"encoder: {ENCODED_SHOWN} test images x → q(z|x), μ ± σ;\ndashed: the prior at 1 and 2σ",
        fontsize=9,
    )
    side = torch.linspace(-PLANE, PLANE, DECODER_GRID, dtype=torch.float64)
    gy, gx = torch.meshgrid(side.flip(0), side, indexing="ij")  # row 0 at the top
    codes = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1).to(ctx.model.dtype)
    images = decode_codes(ctx, codes).clip(0, 1).transpose(0, 2, 3, 1)  # (N, H, W, C)
    h, w, channels = images.shape[1:]
    mosaic = images.reshape(DECODER_GRID, DECODER_GRID, h, w, channels).transpose(0, 2, 1, 3, 4)
    mosaic = mosaic.reshape(DECODER_GRID * h, DECODER_GRID * w, channels).squeeze(-1)
    step = 2 * PLANE / (DECODER_GRID - 1)
    extent = (-PLANE - step / 2, PLANE + step / 2, -PLANE - step / 2, PLANE + step / 2)
    right.imshow(mosaic, extent=extent, cmap="gray", vmin=0, vmax=1)
    right.set(xlabel="z[0]", ylabel="z[1]")
    right.set_title(
        f"decoder: z → E[x|z] on a {DECODER_GRID}x{DECODER_GRID} grid of the same plane"
        f"{class_note(ctx)}",
        fontsize=9,
    )
    ctx.report["encoder_decoder"] = {"images": ENCODED_SHOWN, "grid": DECODER_GRID}
    return fig


HOLE_RATIO = 10.0  # a hole: the prior's density more than 10 times the aggregate posterior's
HOLE_IMAGES = 1000  # posteriors in q̄ (a seeded subset of the test set)
HOLE_DRAWS = 4000  # prior draws behind the share of prior mass on holes


def prior_in_plane(model, dims: list[int], generator: torch.Generator):
    """The model's prior in the plane of ``dims``: its log-density there (a function of
    z (M, 2), float64 on the CPU) and HOLE_DRAWS draws of it. N(0, I) stays N(0, I); the
    VampPrior's marginal is the mixture of its components' marginals (13.1)."""
    if model.prior.factorises:
        draws = torch.randn((HOLE_DRAWS, 2), generator=generator, dtype=torch.float64)
        return gaussian.log_std_normal, draws
    mu, log_var = (
        t.detach().cpu().double()[:, dims] for t in model.prior.posteriors(model.encoder)
    )
    k = torch.randint(len(mu), (HOLE_DRAWS,), generator=generator)
    eps = torch.randn((HOLE_DRAWS, 2), generator=generator, dtype=torch.float64)
    draws = gaussian.reparameterize(mu[k], log_var[k], eps)
    return (lambda z: gaussian.log_mixture_normal(z, mu, log_var)), draws


@register_figure("holes-2d", (6.2, 5.6), needs_two_dims)
def holes_2d(ctx: Context) -> Figure:
    """The prior against the aggregate posterior q̄ of the test images in the plane of the
    two dimensions of highest KL: log₁₀ q̄(z)/p(z), the prior's 1, 2, 3σ circles, and the
    holes, where the prior's density is more than 10 times q̄'s."""
    dims = ctx.by_kl[:2]
    cpu, _ = ctx.generators("holes-2d")
    pick = torch.randperm(len(ctx.x), generator=cpu)[:HOLE_IMAGES].to(ctx.x.device)
    mu, log_var = (t[:, dims] for t in posteriors(ctx.model, ctx.x[pick], ctx.labels_of(pick)))
    grid = torch.linspace(-3.5, 3.5, 281, dtype=torch.float64)
    gy, gx = torch.meshgrid(grid, grid, indexing="ij")
    plane = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    log_prior, draws = prior_in_plane(ctx.model, dims, cpu)
    log_ratio = log_density_ratio(plane, mu, log_var, log_prior).reshape(gx.shape) / math.log(10)
    in_hole = (log_density_ratio(draws, mu, log_var, log_prior) < -math.log(HOLE_RATIO)).double()
    share = in_hole.mean().item()
    se = math.sqrt(share * (1 - share) / HOLE_DRAWS)
    fig = figure_of("holes-2d")
    ax = fig.subplots()
    shown = ax.imshow(
        log_ratio.clamp(-3, 1).numpy(),
        extent=(-3.5, 3.5, -3.5, 3.5),
        origin="lower",
        cmap="RdBu",
        vmin=-3,
        vmax=3,
    )
    fig.colorbar(shown, ax=ax, shrink=0.8, label="log₁₀ q̄(z) / p(z)")
    ax.contour(
        gx.numpy(), gy.numpy(), log_ratio.numpy(), levels=[-1.0], colors="black", linewidths=1
    )
    standard = ctx.model.prior.factorises
    if standard:
        for r in (1, 2, 3):
            ax.add_patch(Circle((0, 0), r, fill=False, color="gray", lw=0.8, ls="--"))
    ax.set_aspect("equal")
    ax.set(xlabel=f"z[{dims[0]}]", ylabel=f"z[{dims[1]}]")
    ax.set_title(
        f"red: holes, where p(z) > {HOLE_RATIO:g} q̄(z) (black line); q̄ of {HOLE_IMAGES} test "
        f"images;\nthey hold {share:.3f} ± {se:.3f} of the prior's mass in this plane; "
        + ("dashed: p at 1, 2, 3σ" if standard else f"p: the {ctx.model.prior.describe()}"),
        fontsize=8,
    )
    ctx.report["holes"] = {
        "dims": dims,
        "ratio": HOLE_RATIO,
        "images": HOLE_IMAGES,
        "prior_mass": Estimate(share, se).json(),
    }
    return fig
