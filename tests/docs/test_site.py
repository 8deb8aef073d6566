"""The built lecture notes in a real browser: headless Chromium (Debian's), driven by
Playwright, on a site served from 127.0.0.1. Equations are typeset by KaTeX at build
time with fonts served by the site, figures load, the navigation works, and no
request goes anywhere but 127.0.0.1."""

import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
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
    # JavaScript modules and WebAssembly need their types (the explorer's onnxruntime-web)
    extensions_map = http.server.SimpleHTTPRequestHandler.extensions_map | {
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
    }

    def log_message(self, *args):
        """Log nothing: the default prints every request to stderr, burying pytest's report."""


def build_alone(command: list, log: Path, env: dict | None = None) -> tuple[int, str]:
    """Run the build in its own process group, its output to a file, and kill the group
    when it ends. sphinxcontrib-katex's node server gets 0.1 s to stop when Sphinx exits;
    on a loaded machine it outlives Sphinx, and with the output in pipes the wait for
    their end-of-file would last as long as it does (a hang seen under load)."""
    with open(log, "w") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env
        )
        try:
            returncode = process.wait(timeout=1200)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    return returncode, log.read_text()


class Site(str):
    """The served site's address, which also knows the folder it serves (``.folder``)."""

    folder: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the notes (warnings are errors) and serve them on 127.0.0.1. Every notebook
    runs top to bottom in the build, at its small size (VAE_NOTEBOOK_QUICK): an error in a
    cell fails the build, and with it this fixture."""
    out = tmp_path_factory.mktemp("site")
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "-q",
        "-b",
        "html",
        "-D",
        "nb_execution_mode=force",
        DOCS,
        out,
    ]
    from vae_torch.notebooks import QUICK

    env = os.environ | {QUICK: "1"}
    returncode, log = build_alone(command, out.parent / "sphinx.log", env)
    assert returncode == 0, f"the docs build failed:\n{log[-6000:]}"
    handler = functools.partial(Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = Site(f"http://127.0.0.1:{server.server_address[1]}")
    address.folder = out
    yield address
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
    # the browser fetches the icon on its own and cancels the fetch when the test closes
    # the page first: that abort is no fault (a missing icon is a 404, a response, below)
    page.on(
        "requestfailed",
        lambda r: (
            (r.url.endswith("/favicon.svg") and r.failure == "net::ERR_ABORTED")
            or page.failed.append(r.url)
        ),
    )
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
    # the icon the browser asks for is the site's own (a 404 otherwise, on every page)
    icon = page.evaluate("document.querySelector('link[rel~=icon]')?.href")
    assert icon and icon.startswith(site) and page.request.get(icon).ok, icon


# Every page of the notes (the site's pages are its source files: chapters, reference
# pages, notebooks), at a phone's width and a laptop's.
PAGES = sorted(
    str(p.relative_to(DOCS).with_suffix(".html"))
    for p in [*DOCS.glob("*.md"), *(DOCS / "notebooks").glob("*.md")]
    if p.name != "README.md"
)
WIDTHS = (390, 1280)

# One call per page: every KaTeX display (the exercises' answers opened first), its
# formula and its number, each checked against the boxes that could hide it, from the
# display up to the text column. A box that scrolls (overflow-x auto or scroll) may hold
# a formula wider than itself, to its right, where the scrollbar reaches; a formula that
# starts left of a box, or ends beyond one that does not scroll, is cut. The number's box
# must not meet the formula's; a block of code or output (pre) is held to the same boxes.
# Returns a line for each fault.
DISPLAY_GEOMETRY = r"""() => {
  for (const answer of document.querySelectorAll('details')) answer.open = true;
  const column = document.querySelector('article.bd-article') || document.body;
  const faults = [];
  const span = (rects) => rects.reduce((u, r) => ({
    left: Math.min(u.left, r.left), right: Math.max(u.right, r.right),
    top: Math.min(u.top, r.top), bottom: Math.max(u.bottom, r.bottom),
  }), {left: Infinity, right: -Infinity, top: Infinity, bottom: -Infinity});
  const meet = (a, b) => a.left < b.right - 1 && b.left < a.right - 1
    && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const name = (el) => el.tagName.toLowerCase() + [...el.classList].map((c) => '.' + c).join('');
  const cut = (start, box) => {  // why box, drawn inside start, cannot be seen, or null
    for (let el = start; el; el = el.parentElement) {
      const overflow = getComputedStyle(el).overflowX;
      if (overflow !== 'visible' || el === column) {
        const left = el.getBoundingClientRect().left + el.clientLeft;
        const right = left + el.clientWidth;
        if (box.left < left - 1) {
          return `starts ${Math.round(left - box.left)} px left of ${name(el)}, out of reach`;
        }
        if (box.right > right + 1) {
          if (overflow !== 'auto' && overflow !== 'scroll') {
            return `ends ${Math.round(box.right - right)} px beyond ${name(el)}`
              + ` (overflow-x ${overflow})`;
          }
          box = {...box, right};  // reachable by the scrollbar; what outer boxes see
        }
      }
      if (el === column) return null;
    }
    return null;
  };
  for (const display of document.querySelectorAll('.katex-display')) {
    const html = display.querySelector('.katex-html');
    if (!html || !display.getClientRects().length) continue;
    const tag = html.querySelector(':scope > .tag')
      || display.closest('div.math')?.querySelector(':scope > .eqno');
    const parts = [...html.children].filter((c) => c !== tag)
      .map((c) => c.getBoundingClientRect()).filter((r) => r.width > 0);
    if (!parts.length) continue;
    const tex = display.querySelector('annotation[encoding="application/x-tex"]');
    const number = tag ? tag.textContent.trim() : '';
    const source = tex ? tex.textContent.replace(/\\tag\{[^}]*\}/, '').replace(/\s+/g, ' ') : '';
    const equation = (number ? number + ' ' : '') + source.trim().slice(0, 70);
    const formula = span(parts);
    const formulaCut = cut(html, formula);
    if (formulaCut) faults.push(`${equation}: the formula ${formulaCut}`);
    if (tag) {
      const box = tag.getBoundingClientRect();
      const numberCut = cut(tag.parentElement, box);
      if (numberCut) faults.push(`${equation}: the number ${numberCut}`);
      if (parts.some((part) => meet(part, box))) {
        faults.push(`${equation}: the number is drawn over the formula`);
      }
    }
  }
  // a block of code or of a notebook's output: its text, as wide as it scrolls, is held
  // to the same boxes, from the block itself up
  for (const pre of document.querySelectorAll('pre')) {
    if (!pre.getClientRects().length) continue;
    const box = pre.getBoundingClientRect();
    const text = {...box, right: box.left + pre.clientLeft + pre.scrollWidth};
    const preCut = cut(pre, text);
    if (preCut) faults.push(`the block "${pre.textContent.trim().slice(0, 50)}": ${preCut}`);
  }
  return faults;
}"""


@pytest.mark.slow
@pytest.mark.parametrize("name", PAGES)
def test_every_display_shows_whole_and_apart_from_its_number(page, site, name):
    """At each width of WIDTHS in turn, one load of the page: the layout is redone when
    the window is resized, as a reader's is."""
    faults = []
    for i, width in enumerate(WIDTHS):
        page.set_viewport_size({"width": width, "height": 900})
        if i == 0:
            page.goto(f"{site}/{name}")
            page.evaluate("document.fonts.ready")
        else:  # two frames: the resize laid out and painted
            page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        faults += [f"at {width} px: {f}" for f in page.evaluate(DISPLAY_GEOMETRY)]
    assert not faults, name + "".join(f"\n  {f}" for f in faults)


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
    assert roadmap.locator("tbody tr").count() == len(CHAPTERS) + 2  # and appendices A, B
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


NOTEBOOKS = sorted(p.stem for p in (DOCS / "notebooks").glob("*.md") if p.stem != "index")


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_a_notebook_is_rendered_with_its_outputs_and_linked_from_its_chapters(page, site, notebook):
    page.goto(f"{site}/notebooks/{notebook}.html")
    page.wait_for_load_state("load")
    cells = page.locator("div.cell")
    assert cells.count() >= 5
    assert page.locator("div.cell_output").count() >= 3, "the notebook shows no outputs"
    assert page.locator("div.cell_output img").count() >= 1, "the notebook shows no figure"
    assert page.locator(".output.traceback, .output.error").count() == 0
    # linked from the notebooks' page, which the landing page links, and from each chapter
    # the notebooks' page names for it
    index = (DOCS / "notebooks" / "index.md").read_text()
    row = next(line for line in index.splitlines() if f"]({notebook}.md)" in line)
    chapters = [int(n) for n in re.findall(r"\d+", row.rsplit("|", 2)[1])]
    assert chapters, row
    for number in chapters:
        stem = next(p.stem for p in DOCS.glob(f"{number:02d}-*.md"))
        page.goto(f"{site}/{stem}.html")
        assert page.locator(f"a[href$='notebooks/{notebook}.html']").count() >= 1, stem
    page.goto(f"{site}/index.html")
    page.locator("a[href$='notebooks/index.html']").first.click()
    page.wait_for_load_state("load")
    assert page.locator(f"a[href$='{notebook}.html']").count() >= 1


def canvas_png(page, selector: str) -> str:
    return page.evaluate(f"document.querySelector('{selector}').toDataURL()")


def explorer_ready(page) -> None:
    page.wait_for_function(
        "window.vaeExplorer && (window.vaeExplorer.error"
        " || document.getElementById('vae-explorer').dataset.decoded)",
        timeout=60_000,
    )


@pytest.mark.slow
def test_the_explorer_decodes_in_the_browser_and_a_slider_changes_the_image(page, site):
    page.goto(f"{site}/explorer.html")
    explorer_ready(page)
    assert page.evaluate("window.vaeExplorer.error") is None
    meta = json.loads((DOCS / "web" / "models" / "conditional" / "export.json").read_text())
    sliders = page.locator("#vae-explorer input[type=range]")
    assert sliders.count() == meta["latent_dim"]
    assert page.locator("#explorer-class option").count() == len(meta["classes"])
    before = canvas_png(page, "#explorer-image")
    decoded = int(page.locator("#vae-explorer").get_attribute("data-decoded"))
    sliders.first.fill("2.5")
    page.wait_for_function(
        f"Number(document.getElementById('vae-explorer').dataset.decoded) > {decoded}"
    )
    assert canvas_png(page, "#explorer-image") != before
    # a test image as the start: its posterior mean becomes z, its label the class
    page.locator(".explorer-example").nth(3).click()
    page.wait_for_function(
        "document.querySelector('#vae-explorer input[type=range]').value !== '2.5'"
    )
    examples = json.loads((DOCS / "web" / "models" / "conditional" / "examples.json").read_text())
    assert float(sliders.first.input_value()) == pytest.approx(examples["mu"][3][0], abs=0.01)
    assert page.locator("#explorer-class").input_value() == str(examples["labels"][3])


@pytest.mark.slow
def test_the_explorer_draws_the_posterior_and_samples_z_from_it(page, site):
    """A test image's posterior on the pad, and "draw ε": z = μ + σ ⊙ ε, a new ε each time."""
    page.goto(f"{site}/explorer.html")
    explorer_ready(page)
    assert page.locator("#explorer-epsilon").is_disabled()  # no posterior chosen yet
    before = canvas_png(page, "#explorer-pad")
    page.locator(".explorer-example").nth(3).click()
    page.wait_for_function("window.vaeExplorer.state().posterior !== null")
    examples = json.loads((DOCS / "web" / "models" / "conditional" / "examples.json").read_text())
    posterior = page.evaluate("window.vaeExplorer.state().posterior")
    assert posterior["mu"] == pytest.approx(examples["mu"][3])
    assert canvas_png(page, "#explorer-pad") != before  # its ellipse, around the new z
    mu, sd = np.array(posterior["mu"]), np.exp(0.5 * np.array(posterior["logVar"]))
    draws = []
    for _ in range(5):
        page.locator("#explorer-epsilon").click()
        draws.append(np.array(page.evaluate("window.vaeExplorer.state().z")))
    eps = (np.array(draws) - mu) / sd
    assert np.isfinite(eps).all() and len({tuple(d) for d in draws}) == 5
    assert np.abs(eps).max() < 6  # a draw of N(0, 1) each, not a draw of the prior


@pytest.mark.slow
def test_the_pad_shades_the_density_chosen_and_shows_the_test_codes(page, site):
    page.goto(f"{site}/explorer.html")
    explorer_ready(page)
    prior = canvas_png(page, "#explorer-pad")
    page.locator("#explorer-shading").select_option("aggregate")
    aggregate = canvas_png(page, "#explorer-pad")
    page.locator("#explorer-codes").uncheck()
    bare = canvas_png(page, "#explorer-pad")
    assert len({prior, aggregate, bare}) == 3
    option = page.locator("#explorer-shading option[value=aggregate]").text_content()
    assert "1,000 test images" in option


@pytest.mark.slow
def test_the_interpolation_of_a_conditional_model_shows_each_images_class(page, site):
    page.goto(f"{site}/explorer.html")
    explorer_ready(page)
    examples = json.loads((DOCS / "web" / "models" / "conditional" / "examples.json").read_text())
    labels = examples["labels"]
    a, b = 0, max(i for i, c in enumerate(labels) if c != labels[0])  # not the page's pair
    page.wait_for_function("document.getElementById('vae-explorer').dataset.lines === '1'")
    page.locator("#explorer-a").select_option(str(a))
    page.locator("#explorer-b").select_option(str(b))
    page.locator("#explorer-interpolate").click()
    page.wait_for_function("document.getElementById('vae-explorer').dataset.lines === '2'")
    captions = page.locator(".explorer-line .explorer-caption")
    assert captions.count() == 2
    assert captions.nth(1).text_content() == f"class {labels[b]}"
    assert captions.nth(0).text_content() == f"class {labels[a]}"
    first = [canvas_png(page, f'.explorer-line[data-row="{r}"] canvas') for r in (0, 1)]
    assert first[0] != first[1]  # the same code under two classes: two digits


@pytest.fixture(scope="module")
def tiny_export(site, tmp_path_factory):
    """A conditional model of three latent dimensions, trained for one epoch and exported
    with the CLI into the served site, as a user would export their own run."""
    from vae_torch.cli import main

    run = tmp_path_factory.mktemp("tiny") / "run"
    train = [
        "train",
        "--model",
        "cvae",
        "--dataset",
        "mnist-5k",
        "--latent-dim",
        "3",
        "--hidden",
        "32",
        "--epochs",
        "1",
        "--limit",
        "256",
        "--device",
        "cpu",
        "--out",
        str(run),
    ]
    assert main(train) == 0
    assert (
        main(
            ["export", str(run), "--format", "onnx", "--out", str(site.folder / "models" / "tiny")]
        )
        == 0
    )
    return run


@pytest.mark.slow
def test_the_explorer_equals_the_packages_torch_decoder(page, site, tiny_export):
    import torch

    from vae_torch import load_run

    page.goto(f"{site}/explorer.html?model=models/tiny/")
    explorer_ready(page)
    assert page.evaluate("window.vaeExplorer.error") is None
    assert page.locator("#vae-explorer input[type=range]").count() == 3  # any latent size
    model = load_run(tiny_export, "cpu").model.float().eval()
    codes = torch.randn(5, 3, generator=torch.Generator().manual_seed(0)) * 1.5
    for i, z in enumerate(codes):
        label = i % 10
        browser = page.evaluate(
            "async ([z, c]) => Array.from(await window.vaeExplorer.decode(z, c))",
            [z.tolist(), label],
        )
        with torch.no_grad():
            expected = model.decode(z[None], torch.tensor([label])).flatten()
        assert torch.allclose(torch.tensor(browser), expected, atol=1e-4, rtol=0)


@pytest.mark.slow
def test_a_drawing_is_encoded_in_the_browser_as_the_package_encodes_it(page, site, tiny_export):
    """Drawn with the mouse, encoded by encoder.onnx in the page: the posterior equals the
    package's torch encoder's for the same pixels and class, and z is set to its mean."""
    import torch

    from vae_torch import load_run

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{site}/explorer.html?model=models/tiny/")
    explorer_ready(page)
    page.locator("#explorer-class").select_option("7")
    page.locator("#explorer-sketch").scroll_into_view_if_needed()
    box = page.locator("#explorer-sketch").bounding_box()
    page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.2 * box["height"])
    page.mouse.down()
    stroke = [(0.3 + 0.4 * t, 0.2) for t in np.linspace(0, 1, 12)]  # a 7: across, then down
    stroke += [(0.7 - 0.2 * t, 0.2 + 0.6 * t) for t in np.linspace(0, 1, 12)]
    for u, v in stroke:
        page.mouse.move(box["x"] + u * box["width"], box["y"] + v * box["height"])
    page.mouse.up()
    pixels = page.evaluate("window.vaeExplorer.drawing()")
    assert 20 < sum(v > 0.5 for v in pixels) < 300  # a stroke, not an empty or full canvas
    page.locator("#explorer-encode").click()
    page.wait_for_function("window.vaeExplorer.state().posterior?.source === 'your drawing'")
    state = page.evaluate("window.vaeExplorer.state()")
    model = load_run(tiny_export, "cpu").model.float().eval()
    x = torch.tensor(pixels, dtype=torch.float32).view(1, 1, 28, 28)
    with torch.no_grad():
        mu, log_var = model.encode(x.view(1, *model.x_shape), torch.tensor([7]))
    assert state["posterior"]["mu"] == pytest.approx(mu[0].tolist(), abs=1e-4)
    assert state["posterior"]["logVar"] == pytest.approx(log_var[0].tolist(), abs=1e-4)
    assert state["z"] == pytest.approx(np.clip(mu[0].numpy(), -3, 3).tolist(), abs=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["missing", "corrupt decoder", "corrupt description"])
def test_the_explorer_says_what_is_wrong_with_a_bad_model_folder(page, site, tiny_export, damage):
    folder = site.folder / "models" / damage.replace(" ", "-")
    if damage != "missing":
        shutil.copytree(site.folder / "models" / "tiny", folder, dirs_exist_ok=True)
        if damage == "corrupt decoder":
            (folder / "decoder.onnx").write_bytes(b"not an ONNX file")
        else:
            (folder / "export.json").write_text("{ truncated")
    page.goto(f"{site}/explorer.html?model=models/{folder.name}/")
    explorer_ready(page)
    message = page.locator(".explorer-status.explorer-error").inner_text()
    assert message == page.evaluate("window.vaeExplorer.error")
    expected = {
        "missing": "HTTP 404",
        "corrupt decoder": "could not be loaded",
        "corrupt description": "not valid JSON",
    }[damage]
    assert expected in message and "export" in message
    assert page.locator("#explorer-image").count() == 0  # a message, not a blank canvas
    page.failed.clear()  # the 404 of the missing folder is the point of this test
