"""Sphinx extension: equations that elbo_math has verified, and numbers from measured runs.

``{equation}`` directive, one argument, the identifier of an elbo_math check::

    ```{equation} kl.std_normal
    ```

renders the check's own LaTeX (the statement sympy verified, not a copy typed into
the notes), tagged with its equation number, with an anchor ``eq-kl-std_normal`` and
a line naming the check. The check runs when the page is built: an identifier that
does not exist, or a check that does not pass, stops the build with an error. An
erratum check renders the course's wrong formula beside the corrected one.

``{metric}`` role: ``{metric}`conv-fashion:runs.latent-20.test.elbo``` is the number
at that key path of docs/figures/conv-fashion/metrics.json (written by
``docs/regenerate_figures.py``), formatted to 2 decimals (integers with thousands
separators), or by a format after a second colon (``...recognisable_share.value:.3f``);
a path whose keys hold dots is written with slashes (``runs/sigma-0.05/test/kl``),
so every measured number the notes quote comes from the run's file.

``{handouts}`` directive, no argument: a section per course handout of
``elbo_math.handouts`` (its name, source, summary, what it asks and where the notes
answer it), so the page and the package name the handouts from one list.
"""

import json
import re
from functools import cache
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective, SphinxRole
from sphinx.util.nodes import nested_parse_with_titles

FIGURES = Path(__file__).resolve().parents[1] / "figures"


@cache
def verified(check_id: str):
    """(check, result) for an elbo_math check, computed once per build."""
    from elbo_math import get_check

    check = get_check(check_id)  # KeyError names the known checks
    return check, check.verify()


def tag(equation: str) -> str:
    """'(3.3), (3.4)' -> '3.3, 3.4'."""
    return ", ".join(part.strip(" ()") for part in equation.split(","))


class Equation(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self):
        check_id = self.arguments[0]
        try:
            check, result = verified(check_id)
        except KeyError as err:
            raise self.error(f"equation cites a check that does not exist: {err.args[0]}") from None
        if not result.passed:
            raise self.error(f"elbo_math check {check_id} does not pass: {result.detail}")
        anchor = "eq-" + check_id.replace(".", "-")
        target = nodes.target("", "", ids=[anchor])
        latex = check.latex
        if check.kind == "erratum":
            latex = (
                r"\begin{aligned}&\text{course: }" + check.wrong_latex + r"\quad\text{(wrong)}"
                r"\\&\text{correct: }" + check.latex + r"\end{aligned}"
            )
        math = nodes.math_block(latex, latex, nowrap=False, number=None, docname=self.env.docname)
        math["latex"] = latex + rf"\tag{{{tag(check.equation)}}}"
        math.children = [nodes.Text(math["latex"])]
        status = "refuted" if check.kind == "erratum" else "verified"
        note = nodes.paragraph(classes=["checked-equation"])
        note += nodes.Text(f"({tag(check.equation)}) {status} by elbo_math: ")
        note += nodes.literal(check_id, check_id)
        note += nodes.Text(f" — {check.title}")
        self.env.note_dependency(__file__)
        return [target, math, note]


@cache
def metrics(experiment: str) -> dict:
    return json.loads((FIGURES / experiment / "metrics.json").read_text())


FORMAT = re.compile(r"[,_]?(\.\d+)?[defg%]")  # the format specs a {metric} may end with


class Metric(SphinxRole):
    def run(self):
        experiment, _, path = self.text.partition(":")
        head, _, tail = path.rpartition(":")  # an optional format after the last colon,
        if head and FORMAT.fullmatch(tail):  # e.g. .3f; a key may hold colons (gmm:50:full)
            path, spec = head, tail
        else:
            spec = ""
        try:
            value = metrics(experiment)
            for key in path.split("/" if "/" in path else "."):
                value = value[int(key)] if isinstance(value, list) else value[key]
        except (FileNotFoundError, KeyError, IndexError, ValueError) as err:
            msg = self.inliner.reporter.error(
                f"metric {self.text!r}: not found in docs/figures/{experiment}/metrics.json "
                f"({type(err).__name__}: {err}); run docs/regenerate_figures.py",
                line=self.lineno,
            )
            return [], [msg]
        if isinstance(value, bool) or not isinstance(value, int | float):
            text = str(value)
        elif spec:
            text = format(value, spec)
        elif isinstance(value, int):
            text = f"{value:,}"
        else:
            text = f"{value:.2f}"
        return [nodes.inline(text, text.replace("-", "−"), classes=["metric"])], []


def chapter_links(text: str) -> str:
    """'chapter 9' -> a link to that chapter's page."""
    pages = {int(p.name[:2]): p.stem for p in FIGURES.parent.glob("[0-9][0-9]-*.md")}
    return re.sub(
        r"\bchapter (\d+)\b",
        lambda m: f"[chapter {m.group(1)}]({pages[int(m.group(1))]}.md)",
        text,
    )


class Handouts(SphinxDirective):
    has_content = False

    def run(self):
        from elbo_math.handouts import HANDOUTS

        lines = []
        for h in HANDOUTS:
            lines += [f"## {h.title}", "", f"*{h.source}.* (key `{h.key}`)", "", h.summary, ""]
            lines += ["It asks for:", ""] + [f"- {ask}" for ask in h.asks] + [""]
            lines += ["Where it is answered:", ""]
            lines += [f"- {chapter_links(where)}" for where in h.answered_in]
            notebook = FIGURES.parent / "notebooks" / f"{h.key}.md"  # named by the key
            if not notebook.is_file():
                raise self.error(f"{h.title} has no notebook {notebook}")
            lines += [f"- the notebook [{h.name}](notebooks/{h.key}.md): its questions in order"]
            lines += [""]
        container = nodes.section()
        content = StringList(lines, source="elbo_math.handouts")
        nested_parse_with_titles(self.state, content, container)
        self.env.note_dependency(__file__)
        return container.children


def setup(app):
    app.add_directive("equation", Equation)
    app.add_directive("handouts", Handouts)
    app.add_role("metric", Metric())
    app.add_css_file("checked.css", priority=600)  # after KaTeX's, which it amends
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
