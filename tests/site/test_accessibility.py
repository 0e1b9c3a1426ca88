"""axe-core in Chromium on every page kind of the catalog site, light and dark: no serious or
critical violation. axe-core comes from its npm package (`make site-test-vendor`, part of
`make test`), never from a CDN; it is injected through the DevTools protocol, so the site's
Content-Security-Policy need not allow it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]


def axe_source() -> str:
    base = Path(os.environ.get("SITE_TEST_VENDOR_DIR") or REPO / ".cache" / "test-vendor")
    path = base / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file():
        message = f"axe-core is not installed at {path}: run `make site-test-vendor` (npm install axe-core)"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(message)
        pytest.skip(message)
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


PAGES = {
    "home": "index.html",
    "search": "search.html?q=synapse",
    "dataset list": "datasets/index.html",
    "dataset": "datasets/synapse_embeddings.html",
    "version": "datasets/synapse_embeddings/v2.html",
    "deprecated version": "datasets/synapse_embeddings/v1.html",
    "hostile version": "datasets/xss_probe/v1.html",
    "datastack": "datastacks/minnie65_phase3_v1.html",
    "materialization index": "materialization/index.html",
    "matrix": "materialization/minnie65_phase3_v1.html",
    "tag": "tags/synapses.html",
    "tag index": "tags/index.html",
    "owner": "owners/index.html",
    "404": "no/such/page.html",
}

RUN = """() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' -> ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("kind", list(PAGES))
def test_no_serious_or_critical_axe_violations(browser, site_server, axe, kind, scheme):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme=scheme)
    try:
        page = ctx.new_page()
        page.goto(f"{site_server}/{PAGES[kind]}")
        page.wait_for_load_state("networkidle")
        if kind in ("version", "deprecated version", "hostile version"):
            page.wait_for_selector(".fr-mermaid-svg svg", timeout=20_000)  # judge the drawn diagrams too
        if kind == "search":
            page.wait_for_selector("#fr-results li")
        expected = "slate" if scheme == "dark" else "default"
        assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == expected
        page.evaluate(axe)
        assert page.evaluate("typeof axe.run") == "function"
        violations = page.evaluate(RUN)
        assert violations == [], f"{kind} ({scheme}): " + "\n".join(violations)
    finally:
        ctx.close()


def test_axe_finds_what_it_should(browser, site_server, axe):
    """The check can fail: the same run on a page with a known serious problem reports it."""
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(f"{site_server}/index.html")
        page.wait_for_load_state("load")
        page.evaluate("""() => { const b = document.createElement('button');
            b.style.color = '#777'; b.style.background = '#888'; b.textContent = 'low contrast';
            document.querySelector('article').appendChild(b);
            const i = document.createElement('img'); i.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
            document.querySelector('article').appendChild(i); }""")
        page.evaluate(axe)
        ids = {v.split(":")[0].split(" ")[1] for v in page.evaluate(RUN)}
        assert {"color-contrast", "image-alt"} <= ids, ids
    finally:
        ctx.close()
