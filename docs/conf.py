"""Sphinx configuration of the lecture notes: MyST Markdown, sphinx-book-theme, KaTeX
rendered at build time (no script or font is fetched from anywhere but the site)."""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(ROOT))

project = "vae-from-scratch: lecture notes"
author = "the vae-from-scratch authors"
copyright = "2026, " + author

extensions = [
    "myst_nb",  # MyST Markdown, and the notebooks of docs/notebooks, executed at build time
    "sphinxcontrib.katex",
    "katex_start",  # its server's start, without a race (docs/_ext/katex_start.py)
    "sphinx.ext.autodoc",
    "sphinx_design",  # {dropdown}: the exercises' answers, collapsed
    "sphinxcontrib.bibtex",
    "checked",
]
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "plain"
bibtex_reference_style = "author_year"
source_suffix = {".md": "myst-nb"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "README.md",
    "figures/**/README.md",
    "node_modules",
    "**/.ipynb_checkpoints",
    "**/*.ipynb",
]

# The notebooks (MyST Markdown paired with .ipynb by jupytext; outputs never committed)
# run top to bottom every time the site is built, so that their outputs are those of the
# package as it is (a cache keyed on the notebooks' text alone would keep outputs of code
# that has since changed); an error in a cell fails the build. VAE_NOTEBOOK_EXECUTION=cache
# reuses the outputs of unchanged notebooks while editing prose, in a cache of each size;
# the test suite builds with VAE_NOTEBOOK_QUICK=1 (vae_torch.notebooks.size: small settings).
nb_execution_mode = os.environ.get("VAE_NOTEBOOK_EXECUTION", "force")
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 1800  # seconds per cell, at full size on a CPU
from vae_torch.notebooks import quick  # noqa: E402  (the package is on sys.path above)

nb_execution_cache_path = str(HERE / "_build" / f".jupyter_cache{'-quick' if quick() else ''}")
nb_merge_streams = True

myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# KaTeX: every formula becomes HTML when the site is built (node runs KaTeX), so the
# pages carry no math script; its stylesheet and fonts come from the katex npm
# package, installed by .ci/docs at the version sphinxcontrib-katex bundles.
katex_prerender = True
KATEX_STATIC = Path(os.environ.get("KATEX_STATIC", ROOT / ".venv" / "katex" / "static"))
if not (KATEX_STATIC / "katex.min.css").is_file():
    raise RuntimeError(f"KaTeX's stylesheet is not in {KATEX_STATIC}: build with bash .ci/docs")
katex_css_path = "katex.min.css"

# onnxruntime-web, which runs the latent-space explorer's decoder in the browser: its
# WebAssembly build, from npm (.ci/onnxruntime-web), served from the site as _static/ort.
ORT_STATIC = Path(os.environ.get("ORT_WEB_STATIC", ROOT / ".venv" / "onnxruntime-web" / "static"))
if not (ORT_STATIC / "ort" / "ort.wasm.min.mjs").is_file():
    raise RuntimeError(f"onnxruntime-web is not in {ORT_STATIC}: build with bash .ci/docs")

# The API reference (api.md) is generated from the package's docstrings and type hints.
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
autodoc_default_options = {"exclude-members": "__init__, __new__"}

html_theme = "sphinx_book_theme"
html_title = "VAEs from first principles"
html_static_path = ["_static", str(KATEX_STATIC), str(ORT_STATIC)]
html_favicon = "_static/favicon.svg"  # browsers ask for one; without it, a 404 on every page
# The explorer's model (decoder.onnx, export.json, examples.json of a run, written by
# docs/regenerate_figures.py with vae export) is served from the site's root: models/.
html_extra_path = ["web"]
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "navigation_with_keys": True,
}
html_last_updated_fmt = None
