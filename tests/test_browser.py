"""The built site in a real browser: Debian's chromium driven by Playwright for Python.

Every page of the book built once per session (:func:`repocopy.built`, the synthetic export) is
opened at a phone width (390 px) and a desktop width (1280 px), served over HTTP on the loopback
interface, and checked: no horizontal overflow, every image loaded, no console error nor failed
request, no serious or critical accessibility violation found by axe-core. Screenshots of the
home page and of a chapter are kept as test output in ``tests/browser/output/`` (git-ignored).

What it needs beside the Python environment is installed by ``make browser-deps`` (called by
``make test``): the ``chromium`` Debian package and axe-core from npm (tests/browser/). A test
skips, saying why, only when they are missing (a machine where neither apt nor npm can be used).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest
from conftest import ROOT
from repocopy import built

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
#: Flags for a headless chromium on a machine without display, GPU or network (GUIDE.md).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
OUTPUT = ROOT / "tests" / "browser" / "output"
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
SCREENSHOTS = ("index", "01-motivations")

_IMAGES = """async () => {
  const bad = [];
  for (const img of Array.from(document.images)) {
    img.scrollIntoView();
    try { await img.decode(); } catch (e) { bad.push(img.getAttribute('src')); continue; }
    if (!img.naturalWidth) bad.push(img.getAttribute('src'));
  }
  window.scrollTo(0, 0);
  return [document.images.length, bad];
}"""

_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > width + 1 && !el.closest('.table-scroll, pre')) {
      wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' ' + Math.round(r.right));
    }
  }
  return [document.documentElement.scrollWidth, width, wide.slice(0, 5)];
}"""

_AXE = """async () => {
  const res = await axe.run(document, {resultTypes: ['violations']});
  return res.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no request log in the test output
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built book's ``_book/``, served on 127.0.0.1 (an ephemeral port) for the module."""
    # BAROMETRE_TEST_BOOK=<dir>: check an already built book instead (while working on the site)
    given = os.environ.get("BAROMETRE_TEST_BOOK")
    book = Path(given) if given else built(tmp_path_factory).repo / "_book"
    handler = functools.partial(_Quiet, directory=str(book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield book, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: `make browser-deps` installs Debian's chromium as root")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python missing")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def _pages(book: Path) -> list[str]:
    names = sorted(p.name for p in book.glob("*.html"))
    assert "index.html" in names and len(names) >= 5, names
    return names


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_fits_loads_its_images_and_logs_no_error(site, browser, width):
    book, base = site
    w, h = WIDTHS[width]
    OUTPUT.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(viewport={"width": w, "height": h}, locale="fr-FR")
    problems: list[str] = []
    n_images = 0
    for name in _pages(book):
        page = ctx.new_page()
        errors: list[str] = []
        page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
        page.on("requestfailed", lambda r, e=errors: e.append(f"request failed: {r.url}"))
        page.on(
            "response",
            lambda r, e=errors: e.append(f"{r.status}: {r.url}") if r.status >= 400 else None,
        )
        page.goto(f"{base}/{name}", wait_until="load")
        scroll_width, client_width, wide = page.evaluate(_OVERFLOW)
        if scroll_width > client_width:
            problems.append(f"{name}: {scroll_width} px wide in a {client_width} px window {wide}")
        count, broken = page.evaluate(_IMAGES)
        n_images += count
        if broken:
            problems.append(f"{name}: images not loaded {broken[:5]}")
        page.wait_for_load_state("networkidle")
        if errors:
            problems.append(f"{name}: console errors {errors[:5]}")
        if Path(name).stem in SCREENSHOTS:
            page.screenshot(path=str(OUTPUT / f"{Path(name).stem}-{w}.png"), full_page=True)
        page.close()
    ctx.close()
    assert not problems, "\n".join(problems)
    assert n_images >= 8, f"only {n_images} images in the whole site"
    for stem in SCREENSHOTS:
        assert (OUTPUT / f"{stem}-{w}.png").stat().st_size > 10_000


def test_phone_width_collapses_the_sidebar(site, browser):
    """At 390 px the chapter list does not take the width of the text."""
    _, base = site
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    page.goto(f"{base}/01-motivations.html")
    main = page.locator("main").bounding_box()
    assert main["width"] >= 340, f"the text gets {main['width']:.0f} px of 390"
    ctx.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_no_serious_accessibility_violation(site, browser, width):
    if not AXE.is_file():
        reason = "npm missing" if shutil.which("npm") is None else "`make browser-deps` not run"
        pytest.skip(f"axe-core not installed ({reason}): {AXE}")
    book, base = site
    w, h = WIDTHS[width]
    ctx = browser.new_context(viewport={"width": w, "height": h})
    found: list[str] = []
    for name in _pages(book):
        page = ctx.new_page()
        page.goto(f"{base}/{name}")
        assert page.evaluate("document.documentElement.lang") == "fr", name
        page.add_script_tag(path=str(AXE))
        for v in page.evaluate(_AXE):
            if v["impact"] in ("serious", "critical"):
                found.append(f"{name}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}")
        page.close()
    ctx.close()
    assert not found, "\n".join(found)
