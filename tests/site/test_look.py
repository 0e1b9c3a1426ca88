"""The site as a person sees it (issue 15), measured in Chromium at 1400 px: no diagram source on
screen, generated tables styled like Material's own (padding, rules, identifiers on one line,
wide tables scrolling inside the page), dark mode readable, snippets that work when pasted, the
home page's button, the local server's 404 page, the Access wording and the diagram legends."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from tests.site.conftest import _serve
from tests.site.test_browser import wait_until

pytestmark = pytest.mark.browser

WIDTH = 1400


@pytest.fixture
def page(browser, site_server):
    ctx = browser.new_context(viewport={"width": WIDTH, "height": 900})
    p = ctx.new_page()
    p.errors = []
    p.on("pageerror", lambda e: p.errors.append(str(e)))
    p.base = site_server
    yield p
    ctx.close()


def _go(page, rel: str):
    page.goto(f"{page.base}/{rel}")
    page.wait_for_load_state("networkidle")
    return page


# Relative luminance and contrast (WCAG 2), computed from the colours the browser resolved:
# the text colour composited over the first opaque background found walking up from the element.
CONTRAST_JS = """(sel) => {
  const el = document.querySelector(sel);
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
  let layers = [], n = el;
  while (n && n.nodeType === 1) { const b = parse(getComputedStyle(n).backgroundColor); if (b && b[3] > 0) { layers.push(b); if (b[3] >= 1) break; } n = n.parentElement; }
  let bg = [255, 255, 255, 1];
  if (!layers.length || layers[layers.length - 1][3] < 1) layers.push(bg);
  bg = layers.pop(); while (layers.length) bg = over(layers.pop(), bg);
  const fg = over(parse(getComputedStyle(el).color), bg);
  const lum = c => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def test_no_mermaid_source_on_screen_after_render(page):
    _go(page, "datasets/synapse_embeddings/v2.html")
    page.wait_for_selector(".fr-mermaid-svg svg", timeout=20_000)
    wait_until(page, "document.querySelectorAll('.fr-mermaid-svg svg').length === 2")
    assert page.locator("pre.fr-mermaid").count() == 2
    assert page.locator("pre.fr-mermaid:visible").count() == 0
    assert "flowchart LR" not in page.inner_text("article")
    # each diagram is followed by a legend that says what its lines and boxes mean
    legends = page.locator(".fr-diagram .fr-legend")
    assert legends.count() == 2 and legends.first.is_visible()
    assert "changes with proofreading" in legends.first.inner_text()
    assert "superseded by" in legends.nth(1).inner_text()
    assert page.errors == []


STYLED_TABLES = [
    ("datasets/synapse_embeddings/v2.html", ["table.fr-facts", "table.fr-schema", "table.fr-refs"]),
    ("datasets/synapse_embeddings.html", ["table.fr-versions"]),
    ("materialization/minnie65_phase3_v1.html", ["table.fr-matrix"]),
    ("index.html", ["table.fr-versions", "table.fr-count"]),
]


@pytest.mark.parametrize("rel,tables", STYLED_TABLES, ids=[r for r, _ in STYLED_TABLES])
def test_generated_tables_are_styled_like_materials(page, rel, tables):
    _go(page, rel)
    for sel in tables:
        st = page.evaluate("""(sel) => { const t = document.querySelector(sel);
            const td = t.querySelector('tbody td'), th = t.querySelector('th'), cs = getComputedStyle(td);
            return {pad: parseFloat(cs.paddingLeft), padTop: parseFloat(cs.paddingTop), rule: parseFloat(cs.borderTopWidth),
                    frame: parseFloat(getComputedStyle(t).borderTopWidth), thWeight: getComputedStyle(th).fontWeight,
                    font: parseFloat(getComputedStyle(t).fontSize)}; }""", sel)
        assert st["pad"] >= 10 and st["padTop"] >= 8, (sel, st)  # browser default is 1 px
        assert st["rule"] > 0 and st["frame"] > 0, (sel, st)
        assert int(st["thWeight"]) >= 700, (sel, st)
        assert 11 <= st["font"] <= 14, (sel, st)  # Material's .64rem


def test_identifiers_and_dates_stay_on_one_line(page):
    _go(page, "datasets/synapse_embeddings/v2.html")
    for text in ("synapse_embedding_vec", "pre_pt_root_id", "post_pt_root_id"):
        lines = page.evaluate("""(text) => { const c = [...document.querySelectorAll('table.fr-schema td code')].find(e => e.textContent === text);
            const lh = parseFloat(getComputedStyle(c).lineHeight) || parseFloat(getComputedStyle(c).fontSize) * 1.6;
            return {rects: c.getClientRects().length, height: c.getBoundingClientRect().height, lh}; }""", text)
        assert lines["rects"] == 1 and lines["height"] <= lines["lh"] * 1.3, (text, lines)
    _go(page, "datasets/synapse_embeddings.html")
    dates = page.evaluate("[...document.querySelectorAll('table.fr-versions time')].map(t => t.getClientRects().length)")
    assert dates and set(dates) == {1}
    # header cells do not run together: each has its own padding
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('table.fr-versions th')).paddingRight)") >= 10


def test_wide_tables_scroll_inside_the_page(browser, site_server):
    ctx = browser.new_context(viewport={"width": 800, "height": 900})
    try:
        p = ctx.new_page()
        p.goto(f"{site_server}/index.html")
        p.wait_for_load_state("load")
        got = p.evaluate("""() => { const t = document.querySelector('table.fr-versions');
            return {overflow: getComputedStyle(t).overflowX, wider: t.scrollWidth > t.clientWidth,
                    page: document.documentElement.scrollWidth, vw: window.innerWidth, tab: t.getAttribute('tabindex')}; }""")
        assert got["overflow"] == "auto" and got["wider"], got
        assert got["page"] <= got["vw"], got  # the page itself does not scroll sideways
        assert got["tab"] == "0", got  # reachable from the keyboard (site.js)
    finally:
        ctx.close()


def test_reader_features_are_a_readable_list(page):
    _go(page, "datasets/xss_probe/v1.html")
    row = page.locator("table.fr-facts tr", has=page.locator("th", has_text="Reader features"))
    assert row.locator("ul.fr-kv li").count() == 1
    assert row.locator("td").inner_text().startswith("x:")
    assert "{" not in row.locator("td").inner_text()


def test_fact_words():
    from site_builder.pages import _fact

    assert [_fact(v) for v in (True, False, None, [], ["deletionVectors", "v2Checkpoint"], 12345, "name")] == [
        "yes", "no", "–", "none", "deletionVectors, v2Checkpoint", "12,345", "name"]
    assert _fact({"a": [1]}) == '{"a": [1]}'


def test_dark_mode_tables_and_badges_are_readable(browser, site_server):
    ctx = browser.new_context(viewport={"width": WIDTH, "height": 900}, color_scheme="dark")
    try:
        p = ctx.new_page()
        p.goto(f"{site_server}/datasets/synapse_embeddings/v2.html")
        p.wait_for_load_state("networkidle")
        assert p.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate"
        for sel in (".fr-status-published", ".fr-latest-badge", "table.fr-schema td", "table.fr-schema th",
                    "table.fr-facts th", ".fr-legend li"):
            ratio = p.evaluate(CONTRAST_JS, sel)
            assert ratio >= 4.5, (sel, ratio)
        bg = p.evaluate("getComputedStyle(document.body).backgroundColor")
        assert bg != "rgb(255, 255, 255)"
        p.goto(f"{site_server}/datasets/synapse_embeddings/v1.html")
        p.wait_for_load_state("load")
        assert p.evaluate(CONTRAST_JS, ".fr-status-deprecated") >= 4.5
    finally:
        ctx.close()


def test_palette_toggle_switches_to_dark_and_redraws_diagrams(page):
    _go(page, "datasets/synapse_embeddings/v2.html")
    page.wait_for_selector(".fr-mermaid-svg svg", timeout=20_000)
    assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "default"
    page.locator("label[for='__palette_1']").first.click()
    wait_until(page, "document.body.getAttribute('data-md-color-scheme') === 'slate'")
    wait_until(page, "document.querySelectorAll('.fr-mermaid-svg svg').length === 2")
    assert page.locator("pre.fr-mermaid:visible").count() == 0
    assert page.evaluate(CONTRAST_JS, ".fr-status-published") >= 4.5
    assert page.errors == []


def test_snippet_names_the_site_url_given_at_build(page):
    _go(page, "datasets/synapse_embeddings/v2.html")
    code = page.inner_text(".fr-howto pre code")
    assert 'Catalog("https://catalog.lab.example/", signer_url="https://signer.lab.example")' in code
    assert "YOUR-CATALOG-SITE" not in page.content()


@pytest.fixture(scope="module")
def no_url_site_server(example_registry: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example registry built without --site-url: the page must work out its own address."""
    from site_builder.build import build_site

    out = tmp_path_factory.mktemp("site-no-url") / "site"
    build_site(str(example_registry), str(out), progress=False)
    yield from _serve(out)


def test_snippet_without_site_url_uses_where_the_page_is_served(browser, no_url_site_server):
    ctx = browser.new_context()
    try:
        p = ctx.new_page()
        p.goto(f"{no_url_site_server}/datasets/synapse_embeddings/v2.html")
        p.wait_for_load_state("load")
        code = p.inner_text(".fr-howto pre code")
        assert f'Catalog("{no_url_site_server}/",' in code, code
        assert "YOUR-CATALOG-SITE" not in code
        # the snippet is an asset script's work (no inline script): the page carries only the data
        assert p.locator(".fr-site-url[data-fr-root='../../']").count() == 1
    finally:
        ctx.close()


def test_home_search_button_is_a_material_button_and_searches(page):
    _go(page, "index.html")
    button = page.locator(".fr-home-search button")
    assert "md-button" in (button.get_attribute("class") or "")
    st = page.evaluate("""() => { const cs = getComputedStyle(document.querySelector('.fr-home-search button'));
        return {bg: cs.backgroundColor, radius: parseFloat(cs.borderTopLeftRadius), pad: parseFloat(cs.paddingLeft)}; }""")
    primary = page.evaluate("getComputedStyle(document.body).getPropertyValue('--md-primary-fg-color').trim()")
    assert st["bg"] not in ("rgba(0, 0, 0, 0)", "rgb(239, 239, 239)") and st["pad"] >= 10, st
    assert primary and page.evaluate(CONTRAST_JS, ".fr-home-search button") >= 4.5
    page.fill(".fr-home-search input", "cell")
    button.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/search.html?q=cell")


def test_serve_answers_404_with_the_sites_404_page(page, site_server):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{site_server}/datasets/no_such_thing/v9.html", timeout=10)
    assert err.value.code == 404
    body = err.value.read().decode()
    assert "404 - Not found" in body and "md-header" in body  # Material's page, not Python's
    response = page.goto(f"{page.base}/no/such/page.html")
    assert response.status == 404
    page.wait_for_load_state("load")
    assert page.evaluate("getComputedStyle(document.querySelector('.md-header')).position") == "sticky"


def test_access_says_which_cave_dataset_and_permission(page):
    _go(page, "datasets/synapse_embeddings/v2.html")
    row = page.locator("table.fr-facts tr", has=page.locator("th", has_text="Access")).locator("td").inner_text()
    assert "view permission on the CAVE dataset of datastack minnie65_phase3_v1" in row
    assert "the datastack's" not in row
    _go(page, "datasets/xss_probe/v1.html")
    row = page.locator("table.fr-facts tr", has=page.locator("th", has_text="Access")).locator("td").inner_text()
    assert row.startswith("view permission on CAVE dataset <script>")


def test_every_generated_table_gets_the_styles(built_site):
    """site.css styles tables by an `fr-` class (Material styles only unclassed ones): a table
    added to a template with some other class would be unstyled again."""
    import re

    out, _ = built_site
    bad = {}
    for page in out.rglob("*.html"):
        article = page.read_text(encoding="utf-8").split('<article', 1)[-1].split("</article>", 1)[0]
        for cls in re.findall(r'<table class="([^"]*)"', article):
            if "fr-" not in cls:
                bad.setdefault(str(page.relative_to(out)), []).append(cls)
    assert bad == {}
