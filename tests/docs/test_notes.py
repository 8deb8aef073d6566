"""The lecture notes' contract: every numbered equation is an elbo_math check that
passes, every figure and measured number comes from the package's current recipes,
every chapter ends with a summary and exercises. (Their code blocks run through
docs/conftest.py; the built site is tested in a browser by test_site.py.)"""

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from elbo_math import get_check
from vae_numpy.run.config import TrainConfig
from vae_torch.recipes import RECIPES, configs

DOCS = Path(__file__).resolve().parents[2] / "docs"
CHAPTERS = sorted(DOCS.glob("[0-9][0-9]-*.md"))
EQUATION = re.compile(r"^```\{equation\}\s+(\S+)\s*$", re.MULTILINE)
FENCE = re.compile(r"^(`{3,}|~{3,})(\S*)", re.MULTILINE)


def cited() -> dict[str, list[str]]:
    return {p.name: EQUATION.findall(p.read_text()) for p in CHAPTERS}


def test_the_handouts_are_named_never_numbered_or_pointed_to():
    """The course documents are called by their names (elbo_math.handouts), never by the
    numbers of their files, and nothing points to the folder they came from."""
    root = DOCS.parent
    numbered = re.compile(
        r"\b(seeds?|handout|problem\s+set|exercise|lab|homework)\s+(>\s*)?00[0-4]\b", re.I
    )
    folder = re.compile("shared" + "/" + "(seeds|handouts)")
    files = [
        p
        for pattern in ("*.md", "*.py", "*.toml")
        for p in root.rglob(pattern)
        if not {".venv", "_build", "node_modules", ".git"} & set(p.relative_to(root).parts)
    ]
    assert len(files) > 50
    offending = [
        f"{p.relative_to(root)}: {m.group(0)!r}"
        for p in files
        for m in (
            *numbered.finditer(p.read_text(errors="replace")),
            *folder.finditer(p.read_text(errors="replace")),
        )
    ]
    assert offending == []


def test_the_chapters_are_numbered_without_gaps_and_listed_in_order():
    index = (DOCS / "index.md").read_text()
    numbers = [int(chapter.name[:2]) for chapter in CHAPTERS]
    assert numbers == list(range(1, len(CHAPTERS) + 1))
    for n, chapter in zip(numbers, CHAPTERS, strict=True):
        assert chapter.read_text().startswith(f"# {n}. "), chapter.name
    places = [index.find(f"\n{chapter.stem}\n") for chapter in CHAPTERS]
    assert -1 not in places, "a chapter missing from the table of contents"
    assert places == sorted(places), "the table of contents is out of order"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_a_chapter_ends_with_a_summary_and_exercises(chapter):
    headings = re.findall(r"^## (.+)$", chapter.read_text(), re.MULTILINE)
    assert headings[-2:] == ["Summary", "Exercises"], headings


def test_every_cited_check_exists():
    """Each exists; that each passes is the elbo_math table's test (test_checks.py), and
    the build verifies each number it typesets again."""
    ids = sorted({check for checks in cited().values() for check in checks})
    assert len(ids) >= 30  # the notes cite most of elbo_math
    for check_id in ids:
        get_check(check_id)  # KeyError naming the known ones if it does not exist


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_equation_is_numbered_without_its_check(chapter):
    text = chapter.read_text()
    assert r"\tag" not in text, "number equations with ```{equation} CHECK_ID```"
    assert not re.search(r"^```\{math\}", text, re.MULTILINE), "use {equation} or $$ $$"
    assert not re.search(r"^:label:", text, re.MULTILINE)
    assert not re.search(r"\$\$\s*\([\w-]+\)\s*$", text, re.MULTILINE), "a labelled $$ block"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_code_is_python_that_runs_or_a_named_shell_command(chapter):
    languages = {lang for _, lang in FENCE.findall(chapter.read_text())}
    directives = {lang for lang in languages if lang.startswith("{")}
    code_directives = {"{code-block}", "{code}", "{sourcecode}", "{code-cell}", "{math}"}
    assert languages - directives <= {"python", "bash", "text", ""}, languages
    assert not directives & code_directives, "write code as ```python (it runs) or ```bash"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_its_answer_collapsed_under_it(chapter):
    exercises = chapter.read_text().split("\n## Exercises\n", 1)[1]
    items = re.split(r"\n(?=\d+\. )", exercises)[1:]
    assert len(items) >= 2  # every chapter asks something; also guards the split
    unanswered = [i.splitlines()[0] for i in items if ":::{dropdown} Answer" not in i]
    assert unanswered == []


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_printed_result_is_a_doctest(chapter):
    """A block that prints shows its output with >>> prompts, so the build checks it."""
    blocks = re.findall(r"^```python\n(.*?)^```", chapter.read_text(), re.MULTILINE | re.DOTALL)
    unchecked = [b.splitlines()[0] for b in blocks if "print(" in b and ">>>" not in b]
    assert unchecked == [], "turn these blocks into doctests (>>> and the output)"


def test_the_pictures_for_intuition_are_the_packages_and_shown(tmp_path):
    import matplotlib.image

    from vae_torch.figures.intuition import draw_all

    drawn = draw_all(tmp_path)
    committed = sorted(p.name for p in (DOCS / "figures" / "intuition").glob("*.png"))
    assert committed == sorted(p.name for p in drawn.values())
    notes = "".join(c.read_text() for c in CHAPTERS)
    for name, png in drawn.items():
        assert f"figures/intuition/{name}.png" in notes
        shown = matplotlib.image.imread(DOCS / "figures" / "intuition" / png.name)
        assert shown.shape == matplotlib.image.imread(png).shape, name


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_figure_the_notes_show_exists(chapter):
    for target in re.findall(
        r"!\[[^\]]*\]\(([^)]+)\)|```\{(?:figure|image)\}\s+(\S+)", chapter.read_text()
    ):
        path = next(t for t in target if t)
        assert (DOCS / path).is_file(), f"{chapter.name} shows {path}, which is not there"


@pytest.mark.parametrize("name", RECIPES)
def test_the_figures_come_from_the_current_recipes(name):
    record = json.loads((DOCS / "figures" / name / "metrics.json").read_text())
    runs = record["runs"]
    current = configs(RECIPES[name], record["dataset"])
    assert set(runs) == set(current), "regenerate: python docs/regenerate_figures.py"
    for run, config in current.items():
        saved = TrainConfig.from_record(runs[run]["config"])
        assert dataclasses.replace(saved, device="auto") == config, (
            f"docs/figures/{name}/{run} was made by another config; "
            "regenerate: python docs/regenerate_figures.py"
        )
        for figure in RECIPES[name].figures_of(run):
            assert (DOCS / "figures" / name / run / f"{figure}.png").is_file(), figure


# -- the {equation} directive refuses what it cannot verify -----------------------------


def build(tmp_path, page: str, conf: str = "") -> subprocess.CompletedProcess:
    """sphinx-build -W of a one-page project using the notes' extension."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(DOCS / '_ext')!r})\n"
        "extensions = ['myst_parser', 'checked']\n" + conf
    )
    (src / "index.md").write_text(page)
    command = [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", src, tmp_path / "out"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_an_equation_renders_its_checks_latex_and_names_it(tmp_path):
    done = build(tmp_path, "# T\n\n```{equation} kl.std_normal\n```\n")
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "out" / "index.html").read_text()
    assert 'id="eq-kl-std_normal"' in html
    assert r"\tag{4.5}" in html and "verified by elbo_math" in html


def test_an_equation_citing_a_missing_check_stops_the_build(tmp_path):
    done = build(tmp_path, "# T\n\n```{equation} kl.nope\n```\n")
    assert done.returncode != 0
    assert "cites a check that does not exist: no check 'kl.nope'" in done.stderr


def test_an_equation_whose_check_fails_stops_the_build(tmp_path):
    # the check is replaced, inside the build, by one whose verification fails
    conf = (
        "import dataclasses, elbo_math.registry as r\n"
        "from elbo_math.check import CheckResult\n"
        "bad = dataclasses.replace(r.get_check('kl.std_normal'),\n"
        "                          run=lambda: CheckResult(False, 'residual 1/2'))\n"
        "r._BY_ID['kl.std_normal'] = bad\n"
    )
    done = build(tmp_path, "# T\n\n```{equation} kl.std_normal\n```\n", conf)
    assert done.returncode != 0
    assert "elbo_math check kl.std_normal does not pass: residual 1/2" in done.stderr


def test_the_explorers_model_is_the_conditional_experiments_run():
    """The explorer page quotes the conditional run's numbers from metrics.json: the
    decoder it serves must be that run's (regenerate_figures.py exports both)."""
    exported = json.loads((DOCS / "web" / "models" / "conditional" / "export.json").read_text())
    metrics = json.loads((DOCS / "figures" / "conditional" / "metrics.json").read_text())
    run = metrics["runs"]["conv-cvae"]
    assert exported["run"] == "conditional/conv-cvae"
    assert exported["checkpoint"] == run["checkpoint"]
    assert exported["latent_dim"] == run["config"]["latent_dim"]
    assert max(max(g["max_difference"].values()) for g in exported["graphs"].values()) <= 1e-5


NOTEBOOKS = sorted(p for p in (DOCS / "notebooks").glob("*.md") if p.stem != "index")


def first_cell(notebook: Path) -> str:
    return notebook.read_text().split("```{code-cell} ipython3\n", 1)[1].split("\n```", 1)[0]


def test_every_notebook_starts_with_the_one_install_cell():
    assert len(NOTEBOOKS) == 6
    cells = {first_cell(n) for n in NOTEBOOKS}
    assert len(cells) == 1, "the notebooks' first cells differ"
    assert "pip" in cells.pop()


def test_the_install_cell_says_how_to_install_where_there_is_no_clone(tmp_path):
    """Run in a kernel without the package (no site-packages) outside any clone, the
    first cell stops with the instructions, not with an ImportError later."""
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", first_cell(NOTEBOOKS[0])],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "needs the package vae-from-scratch" in result.stderr
    assert "pip install -e <the clone>" in result.stderr and "restart the kernel" in result.stderr
