"""The built lecture notes in a real browser: headless Chromium (Debian's), driven by
Playwright, on a site served from 127.0.0.1. Equations are typeset by KaTeX at build
time with fonts served by the site, figures load, the navigation works, and no
request goes anywhere but 127.0.0.1."""

import contextlib
import functools
import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [  # no background traffic: this machine's network is closed
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        """Log nothing: the default prints every request to stderr, burying pytest's report."""


def build_alone(command: list, log: Path) -> tuple[int, str]:
    """Run the build in its own process group, its output to a file, and kill the group
    when it ends. sphinxcontrib-katex's node server gets 0.1 s to stop when Sphinx exits;
    on a loaded machine it outlives Sphinx, and with the output in pipes the wait for
    their end-of-file would last as long as it does (a hang seen under load)."""
    with open(log, "w") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            returncode = process.wait(timeout=600)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    return returncode, log.read_text()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the notes (warnings are errors) and serve them on 127.0.0.1."""
    out = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", DOCS, out]
    returncode, log = build_alone(command, out.parent / "sphinx.log")
    assert returncode == 0, f"the docs build failed:\n{log[-4000:]}"
    handler = functools.partial(Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).is_file(), "the browser test needs Debian's chromium (.ci/setup)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, site):
    """A page that records every request and lets only those to the site through."""
    context = browser.new_context()
    page = context.new_page()
    page.requests = []
    page.failed = []

    def route(route):
        page.requests.append(route.request.url)
        if route.request.url.startswith(site + "/") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", route)
    page.on("requestfailed", lambda request: page.failed.append(request.url))
    page.on("response", lambda r: r.status >= 400 and page.failed.append(f"{r.status} {r.url}"))
    yield page
    outside = [url for url in page.requests if not url.startswith((site, "data:"))]
    assert not outside, f"requests left 127.0.0.1: {outside}"
    assert not page.failed, f"failed requests: {page.failed}"
    context.close()


CHAPTERS = sorted(p.stem for p in DOCS.glob("[0-9][0-9]-*.md"))


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_chapter_typesets_its_equations_and_loads_its_figures(page, site, chapter):
    page.goto(f"{site}/{chapter}.html")
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready")
    assert page.locator(".katex").count() > 0, "no typeset math"
    assert page.locator(".katex-error").count() == 0, "KaTeX could not parse a formula"
    # an unknown macro is drawn in KaTeX's error colour rather than raising
    assert page.locator("[style*='#cc0000']").count() == 0, "KaTeX drew an unknown command"
    assert page.evaluate("document.fonts.check('16px KaTeX_Main')"), "KaTeX's font did not load"
    broken = page.evaluate(
        "[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )
    assert not broken, f"figures that did not load: {broken}"
    checked = page.locator("p.checked-equation")
    displays = page.locator(".katex-display")
    assert displays.count() >= checked.count()


@pytest.mark.slow
def test_the_navigation_leads_through_the_chapters(page, site):
    page.goto(f"{site}/index.html")
    links = page.locator(".bd-sidebar-primary a.reference.internal")
    assert links.count() >= 11
    page.locator("a.right-next").click()
    page.wait_for_url(f"**/{CHAPTERS[0]}.html")
    page.locator("a.right-next").click()
    page.wait_for_url(f"**/{CHAPTERS[1]}.html")
    page.locator("a.left-prev").click()
    page.wait_for_url(f"**/{CHAPTERS[0]}.html")
    page.locator(".bd-sidebar-primary a.reference.internal", has_text="Errata").click()
    page.wait_for_url("**/11-errata.html")
    assert "Errata" in page.title()


@pytest.mark.slow
def test_figures_on_the_experiments_page_are_the_packages(page, site):
    page.goto(f"{site}/09-experiments.html")
    sources = page.evaluate("[...document.images].map(i => i.currentSrc)")
    figures = (DOCS / "09-experiments.md").read_text().count("```{figure}")
    assert len(sources) == figures >= 6
    assert all(src.startswith(site + "/_images/") for src in sources), sources


@pytest.mark.slow
def test_the_landing_page_has_the_roadmap_and_the_reference_pages(page, site):
    page.goto(f"{site}/index.html")
    roadmap = page.locator("table").first
    assert roadmap.locator("tbody tr").count() == len(CHAPTERS) + 1  # and appendix A
    for title in ("The five handouts", "Glossary", "References"):
        page.goto(f"{site}/index.html")
        page.locator(".bd-sidebar-primary a.reference.internal", has_text=title).click()
        page.wait_for_load_state("load")
        assert title in page.title()


@pytest.mark.slow
def test_the_handouts_page_names_each_handout_from_the_package(page, site):
    from elbo_math.handouts import HANDOUTS

    page.goto(f"{site}/handouts.html")
    headings = page.locator("section h2").all_inner_texts()
    assert [h.rstrip("#").strip() for h in headings] == [h.title for h in HANDOUTS]
    assert page.locator("a[href$='09-experiments.html']").count() >= 4


@pytest.mark.slow
def test_an_answer_opens_on_a_click_and_the_bibliography_resolves(page, site):
    page.goto(f"{site}/04-gaussian-kl.html")
    answer = page.locator("details.sd-dropdown").first
    assert answer.get_attribute("open") is None
    body = answer.locator(".sd-summary-content")
    assert not body.is_visible()
    answer.locator("summary").click()
    assert body.is_visible() and body.locator(".katex").count() > 0
    page.goto(f"{site}/references.html")
    assert page.locator(".citation, dl.citation > dt, div.citation").count() >= 30
    page.goto(f"{site}/08-evaluation.html")
    assert page.locator("a[href*='references.html#']").count() >= 5
