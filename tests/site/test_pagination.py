"""The paginated dataset list and datastack / tag / owner pages in a real build (issue 16): every
dataset on exactly one page, pager links that resolve to files (a private bucket, no JavaScript),
page paths no hostile name can take, and a rebuild that keeps, rewrites and removes list pages as
a full build would."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from site_builder import pagination, paths
from site_builder.synthetic import base_document, write_document

SIZE = 2
HREF = re.compile(r'<nav class="fr-pager".*?</nav>', re.S)


def _docs() -> list[dict]:
    docs = [base_document(f"d{i}", "1", tags=["t"], owners=[{"name": "index"}]) for i in range(5)]
    docs += [
        # a dataset called `index` whose version `2` would be page 2 of the list, were it not reserved
        base_document("index", "1", title="Dataset called index", tags=["t", "index"]),
        base_document("index", "2", title="Its version 2", tags=["t"], published_at="2026-02-01T00:00:00+00:00"),
        base_document("victim", "1", tags=["t/2", "t"]),  # a tag spelled like page 2 of tag t
    ]
    return docs


def _build(reg: Path, out: Path, cache: Path):
    from site_builder.build import build_site

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pagination, "PAGE_SIZE", SIZE)
        return build_site(str(reg), str(out), cache_dir=str(cache), progress=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("paged")
    reg = root / "reg"
    for doc in _docs():
        write_document(str(reg), doc)
    _build(reg, root / "site", root / "cache")
    return root


def _listed(html: str) -> list[str]:
    """Dataset names in the table rows of a list page."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<tr(?: [^>]*)?><td><a href="[^"]*">([^<]+)</a>', body)


def _pages(out: Path, first: str) -> list[str]:
    got, n = [], 1
    while (out / paths.list_page(first, n)).is_file():
        got.append(paths.list_page(first, n))
        n += 1
    return got


def test_every_dataset_is_on_exactly_one_list_page(site):
    out = site / "site"
    pages = _pages(out, "datasets/index.html")
    assert len(pages) == 4  # 7 datasets, 2 a page
    names = [n for p in pages for n in _listed((out / p).read_text())]
    assert names == sorted(names) and sorted(names) == sorted({d["name"] for d in _docs()})
    assert "Datasets 3–4 of 7" in (out / pages[1]).read_text()


def test_pager_links_resolve_and_mark_the_current_page(site):
    out = site / "site"
    for first in ("datasets/index.html", f"tags/{paths.slug('t')}.html", f"owners/{paths.slug('index')}.html"):
        pages = _pages(out, first)
        assert len(pages) >= 3, first
        for i, rel in enumerate(pages, start=1):
            html = (out / rel).read_text()
            navs = HREF.findall(html)
            assert len(navs) == 2, rel  # above and below the table
            for href in re.findall(r'href="([^"]+)"', navs[0]):
                assert (out / rel).parent.joinpath(href).resolve().is_file(), (rel, href)
            assert re.search(rf'aria-current="page" href="[^"]*">{i}</a>', navs[0]), rel
            assert ('rel="prev"' in navs[0]) == (i > 1) and ('rel="next"' in navs[0]) == (i < len(pages))


def test_hostile_names_do_not_take_list_pages(site):
    out = site / "site"
    assert "Dataset called index" not in (out / "datasets/index/2.html").read_text()
    version_page = out / paths.version_page("index", "2")
    assert version_page.is_file() and "Its version 2" in version_page.read_text()
    assert version_page != out / "datasets/index/2.html"
    # the tag "t/2" has its own page; page 2 of tag t lists datasets of t
    assert (out / f"tags/{paths.slug('t/2')}.html").is_file()
    assert _listed((out / "tags/t/2.html").read_text())


def test_group_rows_are_datasets_with_their_latest_version(site):
    out = site / "site"
    html = (out / "tags/t.html").read_text() + (out / "tags/t/2.html").read_text() + (out / "tags/t/3.html").read_text()
    assert 'data-dataset="index"' in html
    row = re.search(r'<tr data-dataset="index"[^>]*>.*?</tr>', html, re.S).group(0)
    assert ">2</a>" in row and "latest" in row and ">2</a></td></tr>" in row  # version 2 shown; 2 versions here


def test_a_rebuild_rewrites_and_removes_list_pages_as_a_full_build_would(site, tmp_path):
    reg, out, cache = tmp_path / "reg", tmp_path / "site", tmp_path / "cache"
    shutil.copytree(site / "reg", reg)
    shutil.copytree(site / "cache", cache)
    shutil.copytree(site / "site", out)
    before = {p: (out / p).read_bytes() for p in _pages(out, "datasets/index.html")}
    write_document(str(reg), base_document("d3", "2", tags=["t"], published_at="2026-03-01T00:00:00+00:00"))
    _build(reg, out, cache)
    full = tmp_path / "full"
    _build(reg, full, tmp_path / "cache2")
    for first in ("datasets/index.html", "tags/t.html"):
        assert _pages(out, first) == _pages(full, first)
        for rel in _pages(out, first):
            assert _listed((out / rel).read_text()) == _listed((full / rel).read_text()), rel
    after = {p: (out / p).read_bytes() for p in _pages(out, "datasets/index.html")}
    changed = [p for p in after if after[p] != before[p]]
    assert changed == [paths.list_page("datasets/index.html", 2)]  # d0 d1 | d2 d3 | d4 index | victim

    for name in ("d0", "d1", "d2", "d3"):  # the list shrinks to 2 pages: pages 3 and 4 go
        shutil.rmtree(reg / "datasets" / name)
    _build(reg, out, cache)
    assert _pages(out, "datasets/index.html") == ["datasets/index.html", "datasets/index/2.html"]
    assert not (out / "datasets/index/3.html").exists() and not (out / "datasets/index/4.html").exists()
    assert not (cache / "docs/datasets/index/3.md").exists()


# ---- in Chromium: the pager as a person uses it (no JavaScript), and axe-core on list pages

@pytest.fixture(scope="module")
def paged_server(site):
    from tests.site.conftest import _serve

    yield from _serve(site / "site")


@pytest.mark.browser
def test_pager_works_without_javascript_and_looks_like_buttons(browser, paged_server, tmp_path):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto(f"{paged_server}/datasets/index.html")
        pager = page.locator("nav.fr-pager").first
        assert pager.is_visible()
        style = page.evaluate("""() => { const cs = e => getComputedStyle(e);
            const cur = document.querySelector('nav.fr-pager a[aria-current=page]');
            const other = document.querySelector('nav.fr-pager a[aria-label="page 2"]');
            return {cur: cs(cur).backgroundColor, other: cs(other).backgroundColor, pad: parseFloat(cs(other).paddingLeft),
                    border: parseFloat(cs(other).borderTopWidth)}; }""")
        assert style["cur"] != style["other"] and style["pad"] >= 6 and style["border"] > 0, style
        page.screenshot(path=str(tmp_path / "list-1.png"))
        pager.locator("a[rel=next]").click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/datasets/index/2.html")
        assert page.locator("nav.fr-pager a[aria-current=page]").first.inner_text() == "2"
        page.locator("nav.fr-pager").first.locator("a", has_text="4").click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/datasets/index/4.html") and page.locator("tbody tr").count() == 1
        page.locator("nav.fr-pager").first.locator("a[rel=prev]").click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/datasets/index/3.html")
        page.goto(f"{paged_server}/tags/t/2.html")
        page.screenshot(path=str(tmp_path / "tag-2.png"), full_page=True)
        assert page.locator("table.fr-group-datasets tbody tr").count() == SIZE
    finally:
        ctx.close()


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("rel", ["datasets/index/2.html", "tags/t/2.html"])
def test_list_pages_have_no_serious_axe_violations(browser, paged_server, rel, scheme):
    from tests.site.test_accessibility import RUN, axe_source

    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme=scheme)
    try:
        page = ctx.new_page()
        page.goto(f"{paged_server}/{rel}")
        page.wait_for_load_state("networkidle")
        page.evaluate(axe_source())
        assert page.evaluate(RUN) == []
    finally:
        ctx.close()
