"""``vae figures RUN``: every figure the course asks for, drawn from a trained run.

It writes RUN/figures/NAME.png and NAME.svg for each registered figure that applies
to the model, and RUN/figures/figures.json with the numbers behind them (test ELBO
and reconstruction loss, the chosen latent dimensions, ...). The course's figures
are in ``vae_torch.figures.course``; a figure is one function there (or anywhere)
with the ``@register_figure`` decorator, which gives its name, its size in inches,
and what it needs of the model. Every random choice of a figure draws from
generators seeded by (``seed``, the figure's name), so a figure does not change
when others are added or left out.
"""

from vae_torch.figures import course  # noqa: F401  (registers the course's figures)
from vae_torch.figures.registry import (
    FIGURES,
    QUALITY_SAMPLES,
    TRAVERSAL_VALUES,
    Context,
    FigureKind,
    always,
    figure_of,
    make_figures,
    pixel_size,
    register_figure,
    report_head,
    why_not,
)

__all__ = [
    "FIGURES",
    "QUALITY_SAMPLES",
    "TRAVERSAL_VALUES",
    "Context",
    "FigureKind",
    "always",
    "figure_of",
    "make_figures",
    "pixel_size",
    "register_figure",
    "report_head",
    "why_not",
]
