"""The sitemap lists every page of the site once, at its real path (a dataset or version named
`index` has an encoded one), and past the protocol's 50,000 URLs becomes a sitemap index."""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from pathlib import Path

from site_builder import shell
from site_builder.build import build_site
from site_builder.synthetic import base_document, write_document, write_synthetic_registry

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
SITE_URL = "https://catalog.example/"


def _pages(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() for p in site.rglob("*.html") if p.name != "404.html"}


def _locs(xml_path: Path) -> list[str]:
    root = ET.parse(xml_path).getroot()
    return [e.text or "" for e in root.findall("s:url/s:loc", NS)]


def _registry(tmp_path: Path) -> Path:
    reg = tmp_path / "reg"
    write_synthetic_registry(str(reg), 9, seed=11)
    write_document(str(reg), base_document("index", "index", title="A dataset named index"))
    write_document(str(reg), base_document("index", "v2", title="Its second version",
                                           published_at="2026-02-01T00:00:00+00:00"))
    return reg


def test_sitemap_lists_every_page_once_at_its_path(tmp_path):
    site = tmp_path / "site"
    build_site(str(_registry(tmp_path)), str(site), site_url=SITE_URL, progress=False)
    locs = _locs(site / "sitemap.xml")
    assert len(locs) == len(set(locs))
    assert {loc.removeprefix(SITE_URL) for loc in locs} == _pages(site)
    assert gzip.decompress((site / "sitemap.xml.gz").read_bytes()) == (site / "sitemap.xml").read_bytes()
    assert not list(site.glob("sitemap-*.xml"))


def test_a_large_sitemap_becomes_an_index(tmp_path, monkeypatch):
    monkeypatch.setattr(shell, "SITEMAP_MAX_URLS", 7)
    site = tmp_path / "site"
    build_site(str(_registry(tmp_path)), str(site), site_url=SITE_URL, progress=False)
    root = ET.parse(site / "sitemap.xml").getroot()
    assert root.tag == "{%s}sitemapindex" % NS["s"]
    parts = [e.text or "" for e in root.findall("s:sitemap/s:loc", NS)]
    assert len(parts) > 1
    locs: list[str] = []
    for url in parts:
        name = url.removeprefix(SITE_URL)
        assert (site / (name + ".gz")).is_file()
        got = _locs(site / name)
        assert 0 < len(got) <= 7
        locs += got
    assert sorted(loc.removeprefix(SITE_URL) for loc in locs) == sorted(_pages(site))

    monkeypatch.setattr(shell, "SITEMAP_MAX_URLS", 50_000)  # rebuilt smaller into the same folder
    build_site(str(_registry(tmp_path)), str(site), site_url=SITE_URL, progress=False)
    assert not list(site.glob("sitemap-*.xml*"))
