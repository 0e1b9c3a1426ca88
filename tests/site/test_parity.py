"""One ranking everywhere: the same queries through the site's search page (Chromium) and the
Python client (over the built site's HTTP index, and over the registry itself) give the same
versions in the same order, and the same matched fields."""

from __future__ import annotations

from urllib.parse import urlencode

import os
import threading

import pytest

from registry import Catalog
from tests.site.test_browser import ARGS, CHROMIUM, Watched, shown

pytestmark = pytest.mark.browser

# (text, client filters): multi-word, identifiers, prefixes, hyphens, facets, nothing found
QUERIES = [
    ("", {}),
    ("cell type", {}),
    ("cell", {}),
    ("synapse", {}),
    ("synapse embeddings", {}),
    ("pre_pt_root_id", {}),
    ("root", {}),
    ("pt_root", {}),
    ("syn", {}),
    ("cell-types", {}),
    ("neurotransmitter column", {}),
    ("grace", {}),
    ("probe", {}),
    ("embed", {}),
    ("pt_root_id", {}),
    ("nothing_like_this", {}),
    ("", {"datastack": "flywire_fafb_public"}),
    ("", {"mat_version": 943}),
    ("synapse", {"mat_version": 1078}),
    ("", {"status": "deprecated"}),
    ("embedding", {"status": "deprecated"}),
    ("", {"tag": "cell-types"}),
    ("root", {"format": "lance"}),
]
PARAM = {"datastack": "s", "mat_version": "m", "format": "f", "status": "st", "tag": "t"}


def _site_refs(page, base: str, text: str, filters: dict) -> tuple[list[str], list[str]]:
    params = ([("q", text)] if text else []) + [(PARAM[k], str(v)) for k, v in filters.items()]
    qs = urlencode(params)
    page.goto(f"{base}/search.html" + (f"?{qs}" if qs else ""))
    shown(page, qs)
    refs = page.eval_on_selector_all("#fr-results a.fr-r-version", "els => els.map(e => e.dataset.ref)")
    why = page.eval_on_selector_all("#fr-results li", "els => els.map(e => { const w = e.querySelector('.fr-r-why');"
                                    " return e.dataset.dataset + ':' + (w ? w.dataset.fields + '|' + w.textContent : ''); })")
    return refs, why


def _client_refs(results) -> tuple[list[str], list[str]]:
    refs = [r.ref for r in results]
    why, seen = [], set()
    for r in results:  # the site explains the dataset's shown (latest, else newest) version
        if r.name in seen:
            continue
        seen.add(r.name)
        best = next((x for x in results if x.name == r.name and x._data.get("latest")), r)
        text = "|matched " + ", ".join(f"{f} \u201c{w}\u201d" for f, w in best.matched) if best.matched else ""
        why.append(f"{r.name}:" + ",".join(f for f, _ in best.matched) + text)  # what matched too: a column by its name
    return refs, why


def _in_chromium(base: str, queries: list) -> list:
    """(refs, matched fields) per query from the search page. Playwright's sync API refuses to start
    inside the event loop another module's session browser keeps running in this thread: so a
    thread of its own (as tests/ops/test_search_shards.py does)."""
    from playwright.sync_api import sync_playwright

    out: list = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                w = Watched(browser, base)
                for text, filters in queries:
                    out.append(_site_refs(w.page, base, text, filters))
                assert w.errors == [] and w.foreign() == [], (w.errors, w.foreign())
                browser.close()
        except BaseException as exc:  # re-raised in the test's thread
            failures.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=300)
    assert not worker.is_alive(), "the Chromium part did not finish in 300 s"
    if failures:
        raise failures[0]
    return out


def test_site_and_client_rank_and_filter_alike(site_server, example_registry):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (CI installs it with apt-get)")
    over_http = Catalog(site_server, cache=False)
    over_registry = Catalog(str(example_registry), cache=False)
    site_answers = _in_chromium(site_server, QUERIES)
    nonempty = 0
    for (text, filters), (site, site_why) in zip(QUERIES, site_answers):
        client, client_why = _client_refs(over_http.search(text, **filters))
        direct = [r.ref for r in over_registry.search(text, **filters)]
        assert site == client == direct, (text, filters, site, client, direct)
        if text:
            assert site_why == client_why, (text, filters)
        nonempty += bool(site)
    assert nonempty >= len(QUERIES) - 2  # the list really exercises hits


def test_incremental_site_with_holes_ranks_like_a_full_one(tmp_path):
    """An incremental rebuild keeps version ids stable: a dataset with a new version moves to a new
    block at the end, a deprecation keeps its ids, a deleted dataset leaves a hole. The search page
    over that site (holes filtered, ties by name through `facets.json` `or`) gives the same answers
    as the client over it, over a full build of the same registry, and over the registry."""
    import json
    import shutil

    from registry.publish import deprecate
    from site_builder.build import build_site
    from site_builder.synthetic import base_document, write_document
    from tests.conftest import serving
    from tests.site.conftest import write_example_registry

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (CI installs it with apt-get)")
    from site_builder.cli import make_server

    reg, cache, inc = tmp_path / "reg", tmp_path / "cache", tmp_path / "inc"
    write_example_registry(reg)
    build_site(str(reg), str(inc), cache_dir=str(cache), progress=False)
    names = sorted(p.name for p in (reg / "datasets").iterdir() if p.is_dir())
    assert len(names) >= 4
    moved, gone = names[0], names[len(names) // 2]
    write_document(str(reg), base_document(moved, "v9", title="A synapse cell table, revised",
                                           published_at="2027-01-01T00:00:00+00:00"))
    shutil.rmtree(reg / "datasets" / gone)
    victim = next(s for s in Catalog(str(reg), cache=False).search("") if s.name not in (moved, gone))
    deprecate(str(reg), victim.ref, reason="superseded in a test")
    build_site(str(reg), str(inc), cache_dir=str(cache), progress=False)
    facets = json.loads((inc / "catalog" / "search" / "facets.json").read_text())
    assert facets.get("x") and facets.get("or")  # the site really has holes and moved blocks
    meta = json.loads((inc / "catalog" / "search" / "meta.json").read_text())
    assert meta.get("tail") == 1  # and a tail: the moved block's postings, read beside the shards
    build_site(str(reg), str(tmp_path / "full"), progress=False)

    os.environ["SITE_SERVE_QUIET"] = "1"
    queries = QUERIES + [("synapse cell", {}), ("revised", {}), ("", {"status": "published"})]
    with serving(make_server(str(inc), "127.0.0.1", 0)) as url, \
            serving(make_server(str(tmp_path / "full"), "127.0.0.1", 0)) as full_url:
        site_answers = _in_chromium(url, queries)
        over_inc, over_full = Catalog(url, cache=False), Catalog(full_url, cache=False)
        over_registry = Catalog(str(reg), cache=False)
        for (text, filters), (site, site_why) in zip(queries, site_answers):
            client, client_why = _client_refs(over_inc.search(text, **filters))
            full = [r.ref for r in over_full.search(text, **filters)]
            direct = [r.ref for r in over_registry.search(text, **filters)]
            assert site == client == full == direct, (text, filters, site, client, full, direct)
            assert not any(r.startswith(gone + "@") for r in site)
            if text:
                assert site_why == client_why, (text, filters)
