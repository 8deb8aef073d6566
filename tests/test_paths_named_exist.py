"""Every repository path that a docstring or comment names exists.

The Python files of the packages, the tests, the benchmarks and the notes' build scripts
are searched (their docstrings through ``ast``, their comments through ``tokenize``) for
tokens that start with a top-level folder of the repository, such as
``vae_torch/models/base.py``, ``tests/crosscheck`` or ``docs/figures/``. Not repository
paths, and skipped: glob patterns (``*``), placeholders (``docs/figures/NAME/``,
``{name}``, ``<run>``), the built site under ``docs/_build``, and anything that continues
another path (``/home/me/docs/...``, ``runs/tests/...``)."""

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = ("elbo_math", "vae_numpy", "vae_torch", "tests", "docs", "benchmarks", ".ci")
SEARCHED = ("elbo_math", "vae_numpy", "vae_torch", "tests", "benchmarks")  # all .py below
# a top-level folder, then at least one more component; not inside a longer path or word
PATH = re.compile(
    r"(?<![\w./~-])(" + "|".join(re.escape(t) for t in TOP) + r")/([\w./*?{}<>\[\]-]*)"
)
PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*$|[{}<>]")  # NAME, RUN, {name}, <run>


def searched_files(root: Path) -> list[Path]:
    """The Python files whose docstrings and comments are searched."""
    files = [p for top in SEARCHED for p in sorted((root / top).rglob("*.py"))]
    files += sorted((root / "docs").glob("*.py"))
    return [p for p in files if "_build" not in p.relative_to(root).parts]


def prose(source: str) -> list[tuple[int, str]]:
    """(line, text) of every docstring and comment of a Python source."""
    documented = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    found = [
        (node.body[0].lineno, doc)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, documented) and (doc := ast.get_docstring(node, clean=False))
    ]
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found.append((token.start[0], token.string))
    return found


def named_paths(text: str) -> list[tuple[int, str]]:
    """(lines before it in the text, path) of every repository path the text names,
    without the ones skipped (module docstring)."""
    paths = []
    for match in PATH.finditer(text):
        top, rest = match.group(1), match.group(2).rstrip(".")
        if not rest.strip("/") or any(c in rest for c in "*?[]"):
            continue
        parts = [p for p in rest.split("/") if p]
        if (top, parts[0]) == ("docs", "_build") or any(PLACEHOLDER.search(p) for p in parts):
            continue
        paths.append((text.count("\n", 0, match.start()), f"{top}/{rest}"))
    return paths


def missing_paths(root: Path) -> list[str]:
    """'file:line: path' for every named path that is not in ``root``."""
    missing = []
    for file in searched_files(root):
        for line, text in prose(file.read_text(encoding="utf-8")):
            for below, path in named_paths(text):
                if not (root / path).exists():
                    missing.append(f"{file.relative_to(root)}:{line + below}: {path}")
    return missing


def test_every_path_a_docstring_or_comment_names_exists():
    assert missing_paths(ROOT) == []


def test_the_search_reports_a_made_up_path_and_skips_what_is_no_path(tmp_path):
    (tmp_path / "vae_numpy").mkdir()
    (tmp_path / "vae_numpy" / "real.py").write_text(
        '"""See vae_numpy/real.py, docs/figures/NAME/, docs/figures/{name}, tests/*.py,\n'
        'docs/_build/html, /home/me/tests/x.py and ``vae_numpy/made_up.py``."""\n'
        "\n"
        "x = 'tests/in_code_only.py'  # a comment naming tests/nowhere/.\n",
        encoding="utf-8",
    )
    assert missing_paths(tmp_path) == [
        "vae_numpy/real.py:2: vae_numpy/made_up.py",
        "vae_numpy/real.py:4: tests/nowhere/",
    ]


def test_the_search_sees_the_files_it_should():
    files = {p.relative_to(ROOT).as_posix() for p in searched_files(ROOT)}
    assert {"vae_torch/models/base.py", "tests/conftest.py", "docs/conf.py"} <= files
    assert {"benchmarks/numpy_vs_torch.py", "elbo_math/kl.py"} <= files
    assert sum(len(named_paths(t)) for f in files for _, t in prose((ROOT / f).read_text())) > 10
