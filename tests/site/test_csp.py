"""The Content-Security-Policy is a defence, not decoration (issue 10, item 9): pages run no inline
script of their own, so `script-src` can leave out `'unsafe-inline'`, and markup that escaping
failed to stop (simulated here by writing it into a built page) does not run. On the code before
this test the policy allowed inline script and the injected handlers ran."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.site.conftest import _serve
from tests.site.test_browser import Watched, browser, wait_until  # noqa: F401 - `browser` is a fixture

pytestmark = pytest.mark.browser

INJECTED = (
    '<img id="fr-inj-img" src="x-missing.png" onerror="window.__pwned=1">'
    '<script>window.__pwned=2</script>'
    '<a id="fr-inj-a" href="#" onclick="window.__pwned=3;return false">click</a>'
    '<svg onload="window.__pwned=4"></svg>'
    '<div id="fr-inj-mouse" onmouseover="window.__pwned=5" style="width:50px;height:50px">hover</div>'
)


@pytest.fixture(scope="module")
def injected_site(built_site, tmp_path_factory):
    """A copy of the built site with one page whose body carries live inline script."""
    src, _ = built_site
    site = tmp_path_factory.mktemp("csp") / "site"
    shutil.copytree(src, site)
    page = site / "datasets" / "synapse_embeddings" / "v2.html"
    html = page.read_text()
    html = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + INJECTED, html, count=1)
    (page.parent / "injected.html").write_text(html)
    yield from _serve(site)


def _csp_violations(watched: Watched) -> list[str]:
    return [e for e in watched.errors if "Content Security Policy" in e]


def test_policy_forbids_inline_script(built_site):
    out, _ = built_site
    for rel in ("index.html", "search.html", "datasets/synapse_embeddings/v2.html", "404.html"):
        html = (out / rel).read_text()
        policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
        script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, rel
        # every <script> either loads a file or is a data block (JSON-LD, Material's config)
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
            assert "src=" in attrs or re.search(r'type="application/(ld\+)?json"', attrs), (rel, attrs, body[:80])
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), rel


def test_pages_work_under_the_policy(browser, site_server):  # noqa: F811
    w = Watched(browser, site_server)
    try:
        page = w.goto("datasets/synapse_embeddings/v2.html")
        page.wait_for_selector(".fr-mermaid-svg svg", timeout=20_000)
        assert page.evaluate("typeof __md_get === 'function' && __md_scope instanceof URL")
        page = w.goto("search.html")
        page.wait_for_selector("#fr-search[data-ready]")
        page.fill("#fr-q", "synapse_embedding_vec")
        page.press("#fr-q", "Enter")  # was an inline onsubmit; must still not reload the page
        wait_until(page, "document.querySelectorAll('#fr-results li').length > 0")
        assert page.url.endswith("search.html") or "q=" in page.url
        w.goto("index.html")
        assert _csp_violations(w) == [] and w.errors == []
    finally:
        w.page.close()


def test_an_injected_inline_handler_does_not_run(browser, injected_site):  # noqa: F811
    w = Watched(browser, injected_site)
    try:
        page = w.goto("datasets/synapse_embeddings/injected.html")
        page.wait_for_selector(".fr-mermaid-svg svg", timeout=20_000)  # the page's own scripts still run
        page.click("#fr-inj-a")
        page.hover("#fr-inj-mouse")
        page.wait_for_timeout(300)
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert _csp_violations(w), "the browser reports the refused inline script"
    finally:
        w.page.close()
