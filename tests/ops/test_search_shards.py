"""The sharded search index: a rebuild after one new document runs lunr only for the shard of the
changed dataset (the rest come from the cache), the output equals a full build's, and in
Chromium every shard answers queries (merged into one result list)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from site_builder import search_index
from site_builder.build import build_site
from site_builder.synthetic import base_document, write_document
from tests.ops.test_incremental import snapshot

N_DATASETS = 30


def _doc(k: int, version: str = "v1", published_at: str = "2026-01-01T00:00:00+00:00", title: str = "", description: str = "") -> dict:
    # a column name and a description word found in no dataset name or title: only the lunr
    # shards (primary, then columns) can answer them
    col = f"zqcol{k}x"
    return base_document(
        f"shard_probe_{k}", version, title=title or f"Shard probe number {k}", published_at=published_at,
        description=description or f"Measured with the qzdesc{k}y protocol.",
        columns=[{"name": "id", "semantic": "annotation_id", "description": "annotation id"},
                 {"name": col, "semantic": "feature", "description": "a feature"}],
        inspected={"columns": [{"name": "id", "type": "int64", "nullable": False},
                               {"name": col, "type": "double", "nullable": True}],
                   "row_count": 10, "file_count": 1, "bytes": 1000, "fingerprint": "delta:3"},
    )


@pytest.fixture
def small_shards(monkeypatch):
    """4 datasets per shard, so 30 (or 31) datasets make K = 8 shards."""
    monkeypatch.setattr(search_index, "DATASETS_PER_SHARD", 4)


def _registry(root: Path) -> Path:
    for k in range(N_DATASETS):
        write_document(str(root), _doc(k))
    return root


def test_rebuild_after_one_document_builds_only_its_shards(tmp_path, small_shards):
    reg = _registry(tmp_path / "reg")
    cache = tmp_path / "cache"
    first = build_site(str(reg), str(tmp_path / "inc"), cache_dir=str(cache), progress=False)
    k = first.search.shards
    assert k == 8
    facets = json.loads((tmp_path / "inc" / "catalog" / "versions.json").read_text())
    assert facets["shards"] == k
    shard_ids = []
    for j in range(k):
        shard = json.loads((tmp_path / "inc" / "catalog" / "search-index" / f"{j}.json").read_text())
        cols = json.loads((tmp_path / "inc" / "catalog" / "search-columns" / f"{j}.json").read_text())
        assert shard["d"] == cols["d"]
        shard_ids += shard["d"]
    assert sorted(shard_ids) == list(range(N_DATASETS))  # every dataset in exactly one shard
    assert first.search.shards_built == 2 * k  # empty cache: every shard of both indexes

    same = build_site(str(reg), str(tmp_path / "inc"), cache_dir=str(cache), progress=False)
    assert same.search.shards_built == 0

    # same searchable text (a new version with the same title and columns): no lunr at all
    write_document(str(reg), _doc(7, "v2", published_at="2026-02-01T00:00:00+00:00"))
    quiet = build_site(str(reg), str(tmp_path / "inc"), cache_dir=str(cache), progress=False)
    assert quiet.search.shards_built == 0 and quiet.reused == N_DATASETS - 1
    write_document(str(reg), _doc(5, "v2", published_at="2026-03-01T00:00:00+00:00", title="Revised probe",
                                     description="Measured again with the qzdesc5y protocol."))
    second = build_site(str(reg), str(tmp_path / "inc"), cache_dir=str(cache), progress=False)
    assert second.search.shards_built == 2  # the changed dataset's shard, in both indexes
    assert second.reused == N_DATASETS - 1
    assert len(list((cache / "search" / "search-index").glob("*.json"))) == k  # stale one pruned
    full = build_site(str(reg), str(tmp_path / "full"), progress=False)
    assert full.search.shards_built == 2 * k
    inc_files, full_files = snapshot(tmp_path / "inc"), snapshot(tmp_path / "full")
    assert sorted(inc_files) == sorted(full_files)
    assert [p for p in inc_files if inc_files[p] != full_files[p]] == []
    assert (tmp_path / "inc" / "api" / "datasets" / "shard_probe_5" / "v2.json").is_file()

    # a new dataset shifts later dataset ids: shards keep their lunr index, only `d` changes
    write_document(str(reg), base_document("aaa_first", "v1", published_at="2026-04-01T00:00:00+00:00"))
    third = build_site(str(reg), str(tmp_path / "inc"), cache_dir=str(cache), progress=False)
    assert third.search.shards_built == 2  # the new dataset's shard, in both indexes
    full = build_site(str(reg), str(tmp_path / "full2"), progress=False)
    assert snapshot(tmp_path / "inc") == snapshot(tmp_path / "full2")


@pytest.mark.browser
def test_search_finds_datasets_in_every_shard(tmp_path, small_shards):
    from tests.site.test_browser import ARGS, CHROMIUM, _results, wait_until

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (CI installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    from site_builder.cli import make_server

    reg = _registry(tmp_path / "reg")
    out = tmp_path / "site"
    report = build_site(str(reg), str(out), progress=False)
    k = report.search.shards
    names = json.loads((out / "catalog" / "versions.json").read_text())["datasets"]
    one_per_shard = []
    for j in range(k):
        d = json.loads((out / "catalog" / "search-index" / f"{j}.json").read_text())["d"]
        assert d, f"shard {j} is empty: choose other probe names"
        one_per_shard.append(int(names[d[0]]["n"].rsplit("_", 1)[1]))

    os.environ["SITE_SERVE_QUIET"] = "1"
    server = make_server(str(out), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    def in_chromium() -> None:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            for n in one_per_shard:  # a column name: answered by the primary shards
                page.goto(f"{base}/search.html?q=zqcol{n}x")
                wait_until(page, "document.querySelector('#fr-search').dataset.indexReady === '1'")
                assert _results(page) == [f"shard_probe_{n}"]
            for n in one_per_shard:  # a description word: answered by the column shards
                page.goto(f"{base}/search.html?q=qzdesc{n}y")
                wait_until(page, "document.querySelector('#fr-search').dataset.columnsReady === '1'")
                assert _results(page) == [f"shard_probe_{n}"]
            page.goto(f"{base}/search.html?q=probe")  # hits from every shard, merged
            wait_until(page, "document.querySelector('#fr-search').dataset.columnsReady === '1'")
            assert sorted(_results(page)) == sorted(f"shard_probe_{i}" for i in range(N_DATASETS))
            assert errors == []
            browser.close()

    # Playwright's sync API refuses to start inside the event loop that another test module's
    # session-scoped browser keeps running in this thread: use a thread of our own.
    failures: list[BaseException] = []

    def run() -> None:
        try:
            in_chromium()
        except BaseException as exc:  # re-raised in the test's thread below
            failures.append(exc)

    try:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(timeout=180)
        assert not worker.is_alive(), "the Chromium check did not finish in 180 s"
        if failures:
            raise failures[0]
    finally:
        server.shutdown()
        server.server_close()
