"""The warm-cache path of a site Catalog: what is derived from `index.json` (adapted summaries and
the search index) is kept beside the cached body and reused by a new process without parsing JSON,
ranks exactly like the per-summary scoring, and is never trusted when stale, corrupt or foreign."""

from __future__ import annotations

import json
import os
import pickle
import threading
from pathlib import Path

import pytest

from registry import Catalog
from registry.client import httpcache
from registry.client.catalog import adapt_site_summary
from registry.client.search import WordIndex, search

pytestmark = pytest.mark.timeout(60)


def _index(n: int, word: str = "synapse") -> dict:
    versions = []
    for i in range(n):
        name = f"feat_{i // 3:03d}"
        versions.append({
            "name": name, "version": str(i % 3), "ref": f"{name}@{i % 3}", "title": f"Feature {i} {word} embeddings",
            "summary": ["Per-synapse scores", "cell types per root id", "Mitochondria near synapses"][i % 3],
            "datastack": ["minnie65_phase3_v1", "flywire"][i % 2], "materialization_version": 943 + i % 4,
            "materialization_versions": [943 + i % 4], "format": ["parquet", "delta"][i % 2],
            "status": "deprecated" if i % 7 == 0 else "published", "latest": i % 3 == 2,
            "tags": ["synapses", f"t{i % 5}"], "owners": ["Ada Lovelace"] if i % 2 else ["Grace Hopper"],
            "columns": ["id", "pre_pt_root_id", f"score_{i % 9}"], "published_at": f"2026-01-01T00:{i % 60:02d}:00",
        })
    return {"index_format": 1, "versions": versions, "signer_url": "http://127.0.0.1:1/signer"}


QUERIES = ["", "synapse", "syn", "root", "pre_pt_root_id", "score_3 synapse", "ada", "feat_01", "t3 mito",
           "synapse synapse", "nothing-here", "s"]


@pytest.mark.parametrize("query", QUERIES)
def test_word_index_ranks_exactly_like_per_summary_scoring(query):
    rows = [adapt_site_summary(s) for s in _index(60)["versions"]]
    words = WordIndex.from_plain(pickle.loads(pickle.dumps(WordIndex.build(rows).to_plain())))
    for filters in ({}, {"datastack": "flywire"}, {"status": "deprecated"}, {"mat_version": 944, "format": "delta"}):
        slow = search(rows, query, dict(filters), None)
        fast = search(rows, query, dict(filters), None, words)
        assert [(r.ref, r.score) for r in fast] == [(r.ref, r.score) for r in slow]
    if query == "synapse":
        assert len(fast) > 0


@pytest.fixture
def site(tmp_path: Path):
    from site_builder.cli import make_server

    root = tmp_path / "site"
    root.mkdir()
    (root / "index.json").write_text(json.dumps(_index(60)))
    os.environ["SITE_SERVE_QUIET"] = "1"
    server = make_server(str(root), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _new_process() -> None:
    httpcache._MEMO.clear()


def _refs(cat: Catalog, text: str = "synapse", **kw) -> list[tuple[str, float]]:
    return [(r.ref, r.score) for r in cat.search(text, **kw)]


def test_new_process_reuses_the_sidecar_without_parsing(site, client_cache, monkeypatch):
    root, url = site
    first = Catalog(url)
    want, summaries = _refs(first, mat_version=944), first.summaries()
    sidecars = list(client_cache.glob("*.pickle"))
    assert len(sidecars) == 1
    _new_process()

    def no_parse(*a, **k):
        raise AssertionError("index.json parsed again")

    monkeypatch.setattr(httpcache.Fetched, "json", no_parse)
    again = Catalog(url)
    assert _refs(again, mat_version=944) == want and again.summaries() == summaries
    assert again.signer_url == "http://127.0.0.1:1/signer"


def test_corrupt_or_foreign_sidecars_are_rebuilt(site, client_cache):
    root, url = site
    want = _refs(Catalog(url))
    sidecar = next(client_cache.glob("*.pickle"))
    good = sidecar.read_bytes()
    header = pickle.loads(good)  # the first pickle in the file is the header
    for bad in (b"garbage", good[: len(good) // 2],
                pickle.dumps(header) + pickle.dumps(Path("/etc/passwd")),  # a class: refused
                pickle.dumps(("other-format",) + tuple(header[1:])) + good):
        sidecar.write_bytes(bad)
        _new_process()
        assert _refs(Catalog(url)) == want
        assert sidecar.read_bytes() != bad  # rewritten from the body


def test_a_changed_index_is_never_answered_from_a_stale_sidecar(site, client_cache):
    root, url = site
    assert _refs(Catalog(url), "mitochondria")
    (root / "index.json").write_text(json.dumps(_index(30, word="vesicle")))
    st = (root / "index.json").stat()
    os.utime(root / "index.json", (st.st_atime + 10, st.st_mtime + 10))  # a later Last-Modified
    _new_process()
    cat = Catalog(url)
    assert len(cat.summaries()) == 30 and len(_refs(cat, "vesicle")) == 30 - 30 // 7 - 1  # deprecated left out
    assert all("vesicle" in r.title for r in cat.search("embeddings", status="published"))
