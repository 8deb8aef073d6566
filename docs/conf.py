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
    "myst_parser",
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
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "README.md", "node_modules"]

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

# The API reference (api.md) is generated from the package's docstrings and type hints.
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
autodoc_default_options = {"exclude-members": "__init__, __new__"}

html_theme = "sphinx_book_theme"
html_title = "VAEs from first principles"
html_static_path = ["_static", str(KATEX_STATIC)]
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "navigation_with_keys": True,
}
html_last_updated_fmt = None
