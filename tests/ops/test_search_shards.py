"""The sharded search index (`catalog/search/`): term shards by vocabulary range, display records
in chunks. A rebuild writes only the files whose bytes changed (the rest are hard links to the
cache), the output equals a full build's, and in Chromium words in every shard are found and hits
from every record chunk are listed."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from registry import search_rules
from registry.model import DatasetDocument
from site_builder import search_index
from site_builder.build import build_site
from site_builder.synthetic import base_document, write_document
from tests.ops.test_incremental import site_equals_full

N_DATASETS = 30


def _doc(k: int, version: str = "v1", published_at: str = "2026-01-01T00:00:00+00:00", title: str = "", description: str = "") -> dict:
    # a column name and a description word found in no dataset name or title
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
    """Term shards of ~300 bytes and 4 datasets per record chunk: 30 datasets make many of each."""
    monkeypatch.setattr(search_rules, "SHARD_BYTES", 300)
    monkeypatch.setattr(search_index, "DATASETS_PER_CHUNK", 4)


def _registry(root: Path) -> Path:
    for k in range(N_DATASETS):
        write_document(str(root), _doc(k))
    return root


def test_rebuild_writes_only_changed_index_files(tmp_path, small_shards):
    reg = _registry(tmp_path / "reg")
    cache = tmp_path / "cache"
    first = build_site(str(reg), str(tmp_path / "inc"), cache_dir=str(cache), progress=False)
    search = tmp_path / "inc" / "catalog" / "search"
    k = first.search.shards
    assert k == len(json.loads((search / "meta.json").read_text())["firsts"]) > 8
    assert len(list((search / "records").iterdir())) == -(-N_DATASETS // 4)
    assert first.search.shards_built == k  # empty cache: every term shard is new

    same = build_site(str(reg), str(tmp_path / "inc"), cache_dir=str(cache), progress=False)
    assert same.search.shards_built == 0

    # a new dataset: its postings go to the tail (terms/tail.json), no term shard is rewritten
    write_document(str(reg), _doc(99, published_at="2026-02-01T00:00:00+00:00"))
    second = build_site(str(reg), str(tmp_path / "inc"), cache_dir=str(cache), progress=False)
    assert second.search.shards_built == 0 and second.search.tail_bytes > 0
    assert json.loads((search / "meta.json").read_text())["tail"] == 1
    assert second.reused == N_DATASETS
    build_site(str(reg), str(tmp_path / "full"), progress=False)
    assert not (tmp_path / "full" / "catalog" / "search" / "terms" / "tail.json").exists()
    site_equals_full(tmp_path / "inc", tmp_path / "full")  # shard boundaries stay put between full builds
    # the cache keeps exactly the files this build used (content-addressed, stale ones pruned)
    contents = {p.read_bytes() for p in search.rglob("*.json")}
    assert len(list((cache / "search" / "files").iterdir())) == len(contents)

    # a new version in the middle: version ids stay stable (the dataset's block moves to the end,
    # its old one becomes a hole whose postings stay in the shards: the dataset still has all
    # those words), so no shard is rewritten, and the index answers every query as a full build's
    write_document(str(reg), _doc(5, "v2", published_at="2026-03-01T00:00:00+00:00", title="Revised probe"))
    third = build_site(str(reg), str(tmp_path / "inc"), cache_dir=str(cache), progress=False)
    assert third.search.shards_built == 0 and third.search.tail_bytes > second.search.tail_bytes
    facets = json.loads((search / "facets.json").read_text())
    names = sorted(f"shard_probe_{k}" for k in [*range(N_DATASETS), 99])
    assert facets["x"] == [names.index("shard_probe_5")]  # one hole, one block moved to the end
    order = search_index.expand_order(facets["or"])
    assert len(order) == N_DATASETS + 2 and order[-1] == names.index("shard_probe_5")
    assert len(facets["or"]) <= 4  # runs: before the hole, the hole, after it, the moved block
    build_site(str(reg), str(tmp_path / "full2"), progress=False)
    site_equals_full(tmp_path / "inc", tmp_path / "full2")


@pytest.mark.browser
def test_search_finds_datasets_in_every_shard(tmp_path, small_shards):
    from tests.site.test_browser import CHROMIUM, _results, shown

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (CI installs it with apt-get)")
    reg = _registry(tmp_path / "reg")
    out = tmp_path / "site"
    report = build_site(str(reg), str(out), progress=False)
    assert report.search.shards > 8
    firsts = json.loads((out / "catalog" / "search" / "meta.json").read_text())["firsts"]
    # the probes' own words sit in different shards
    homes = {max(j for j, f in enumerate(firsts) if f <= f"zqcol{n}x") for n in range(N_DATASETS)}
    assert len(homes) >= 3

    def check(page, base: str) -> None:
        for n in range(N_DATASETS):  # a column name, then a description word
            for q in (f"zqcol{n}x", f"qzdesc{n}y"):
                page.goto(f"{base}/search.html?q={q}")
                shown(page, f"q={q}")
                assert _results(page) == [f"shard_probe_{n}"], q
        page.goto(f"{base}/search.html?q=zqcol")  # a prefix expanding across shards
        shown(page, "q=zqcol")
        assert _results(page) == sorted(f"shard_probe_{i}" for i in range(N_DATASETS))
        page.goto(f"{base}/search.html?q=probe")  # hits from every record chunk
        shown(page, "q=probe")
        assert _results(page) == sorted(f"shard_probe_{i}" for i in range(N_DATASETS))

    _in_chromium(out, check)


def _in_chromium(out: Path, check) -> None:
    """Serve the site `out` on loopback and run `check(page, base_url)` in Chromium; no page
    error may occur."""
    from playwright.sync_api import sync_playwright

    from site_builder.cli import make_server
    from tests.site.test_browser import ARGS, CHROMIUM

    os.environ["SITE_SERVE_QUIET"] = "1"
    server = make_server(str(out), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    def run() -> None:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            check(page, base)
            assert errors == []
            browser.close()

    _in_chromium_thread(run, server)


def _in_chromium_thread(check, server) -> None:
    """Run `check()` (a Playwright session) and stop `server` after it."""
    # Playwright's sync API refuses to start inside the event loop that another test module's
    # session-scoped browser keeps running in this thread: use a thread of our own.
    failures: list[BaseException] = []

    def run() -> None:
        try:
            check()
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


@pytest.mark.browser
def test_page_and_header_box_read_holes_and_the_tail(tmp_path, small_shards):
    """After incremental rebuilds (a new version: a hole and a block in the tail; a removed dataset;
    a new dataset in the tail), the search page and the header box find words of the shards, of
    the tail and of both (a prefix across shards and the tail), never a hole's version, and a word
    only the removed dataset had finds nothing."""
    from tests.site.test_browser import CHROMIUM, _results, shown, wait_until

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (CI installs it with apt-get)")
    import shutil

    reg, cache, out = _registry(tmp_path / "reg"), tmp_path / "cache", tmp_path / "site"
    build_site(str(reg), str(out), cache_dir=str(cache), progress=False)
    write_document(str(reg), _doc(5, "v2", published_at="2026-03-01T00:00:00+00:00", title="Revised probe"))
    shutil.rmtree(reg / "datasets" / "shard_probe_11")
    write_document(str(reg), _doc(99, published_at="2026-02-01T00:00:00+00:00"))
    report = build_site(str(reg), str(out), cache_dir=str(cache), progress=False)
    search = out / "catalog" / "search"
    assert report.search.tail_bytes > 0 and json.loads((search / "meta.json").read_text())["tail"] == 1
    assert json.loads((search / "facets.json").read_text())["x"]  # holes: 5's old block, 11's
    tail = json.loads((search / "terms" / "tail.json").read_text())["k"]
    assert "revised" in tail and "zqcol99x" in tail and "zqcol5x" in tail
    live = sorted(f"shard_probe_{i}" for i in [*range(N_DATASETS), 99] if i != 11)

    def check(page, base: str) -> None:
        for q, want in [("zqcol5x", ["shard_probe_5"]), ("zqcol99x", ["shard_probe_99"]),
                        ("zqcol12x", ["shard_probe_12"]), ("revised", ["shard_probe_5"]),
                        ("zqcol11x", []), ("qzdesc11y", []), ("zqcol", live), ("probe", live)]:
            page.goto(f"{base}/search.html?q={q}")
            shown(page, f"q={q}")
            assert _results(page) == want, q
        versions = page.eval_on_selector_all("#fr-results a.fr-r-version", "els => els.map(e => e.dataset.ref)")
        assert "shard_probe_5@v1" in versions and "shard_probe_5@v2" in versions  # moved, not doubled
        assert len(versions) == len(set(versions))
        page.goto(f"{base}/index.html")
        for q, want in [("zqcol99x", "shard_probe_99"), ("revised", "shard_probe_5")]:
            page.fill("#fr-box-q", "")
            page.click("#fr-box-q")
            page.keyboard.type(q)
            wait_until(page, f"document.querySelector('#fr-box').dataset.shown === {q!r}")
            names = page.eval_on_selector_all("#fr-box-results li", "els => els.map(e => e.dataset.dataset)")
            assert names == [want], q

    _in_chromium(out, check)


def _answers(out: Path) -> dict[str, list[tuple[str, float]]]:
    """Every indexed word's ranked hits as `name@version` and score, read from the files."""
    from registry.client.search import TextIndex

    base = out / "catalog" / "search"
    meta = json.loads((base / "meta.json").read_text())
    index = TextIndex(search_rules.Index(meta["firsts"], lambda j: json.loads((base / "terms" / f"{j}.json").read_text()),
                                 (lambda: json.loads((base / "terms" / "tail.json").read_text())) if meta.get("tail") else None),
                      json.loads((base / "refs.json").read_text()))
    refs = {v: r for r, v in index.vid.items()}
    words = sorted({w for j in range(len(meta["firsts"])) for w in index.index.shard(j)["k"]}
                   | set((index.index.tail() or {"k": []})["k"]))
    out_: dict[str, list[tuple[str, float]]] = {}
    for w in words:
        scores = index.index.scores([w])
        ranked = search_rules.rank(sorted(v for v in scores if v in refs), index.dataset.__getitem__, scores)
        out_[w] = [(refs[v], s) for _d, s, vids in ranked for v in vids]
    return out_


def test_holes_are_compacted(tmp_path, small_shards):
    """Each new version moves its dataset's block to the end; once holes pass a quarter of the ids
    the next build lays every id out densely again. Answers equal a full build's all along."""
    from site_builder.catalog import RegistrySnapshot

    docs = [DatasetDocument.from_dict(_doc(k)) for k in range(N_DATASETS)]
    cache = tmp_path / "cache"
    saw_holes = False
    for step in range(20):
        catalog = RegistrySnapshot.from_documents(docs)
        inc, full = tmp_path / f"inc{step}", tmp_path / f"full{step}"
        search_index.write_search_index(catalog, str(inc), cache_dir=str(cache))
        search_index.write_search_index(catalog, str(full))
        assert _answers(inc) == _answers(full), step
        facets = json.loads((inc / "catalog" / "search" / "facets.json").read_text())
        holes = sum(facets["n"][d] for d in facets.get("x", []))
        assert holes <= search_index.COMPACT_DEAD_FRACTION * sum(facets["n"]) + 1
        saw_holes |= holes > 0
        if step and not facets.get("x"):  # compacted: dense again, the same files as a full build
            assert saw_holes
            assert (inc / "catalog" / "search" / "facets.json").read_bytes() == \
                (full / "catalog" / "search" / "facets.json").read_bytes()
            break
        # one dataset gets a version each step: its block moves, the holes grow 1, 2, 3, ... ids
        docs.append(DatasetDocument.from_dict(_doc(7, f"v{step + 2}", published_at=f"2026-02-{step + 1:02d}T00:00:00+00:00")))
    else:
        raise AssertionError("never compacted")


def _display(out: Path) -> dict[str, tuple]:
    """What the display files say of each live version, read as the page reads them (whatever the
    id layout): facet values, its dataset's record, whether it is the dataset's latest."""
    base = out / "catalog" / "search"
    meta = json.loads((base / "meta.json").read_text())
    facets = json.loads((base / "facets.json").read_text())
    refs = json.loads((base / "refs.json").read_text())
    digit = {ch: i for i, ch in enumerate(search_index.CODE_CHARS)}
    first, v = [], 0
    for n in facets["n"]:
        first.append(v)
        v += n
    got = {}
    for d, n in enumerate(facets["n"]):
        if d in facets.get("x", []):
            assert all(refs[first[d] + i] is None for i in range(n))
            continue
        rec = json.loads((base / "records" / f"{d // meta['chunk']}.json").read_text())[d % meta["chunk"]]
        for i in range(n):
            vid = first[d] + i
            values = []
            for k in search_index.FACETS:
                col = facets["cols"][k]
                at = d if "d" in col else vid
                code = 0
                for ch in (col["d"] if "d" in col else col["v"])[at * col["w"]:(at + 1) * col["w"]]:
                    code = code * len(search_index.CODE_CHARS) + digit[ch]
                values.append(tuple(meta["values"][k][x] for x in col["c"][code]))
            got[refs[vid]] = (tuple(values), json.dumps(rec), facets["l"][d] == i)
    return got


def test_rebuild_reads_only_changed_datasets(tmp_path, small_shards, monkeypatch):
    """A rebuild's index step on the catalog as a rebuild sees it (unchanged datasets unloaded,
    their parts cached): it loads only the changed datasets, rewrites no term shard for a new
    version (the tail takes its postings), drops from the shards exactly the words a dataset lost
    (an edited text, a removed dataset), merges the tail once it outgrows its bound, keeps the
    record chunks of unchanged datasets without computing them, and answers every word, prefix and
    facet exactly as a clean full build of the same documents."""
    from site_builder.catalog import RegistrySnapshot
    from site_builder.parts import PartStore, content_id
    from tests.site.lazy import lazy_copy

    monkeypatch.setattr(search_index, "TAIL_SHARDS", 2)  # a tail of 600 bytes: merged within the steps
    docs = {f"shard_probe_{k}": [_doc(k)] for k in range(N_DATASETS)}

    def snapshot() -> RegistrySnapshot:
        snap = RegistrySnapshot.from_documents([DatasetDocument.from_dict(d) for vs in docs.values() for d in vs])
        for name, ds in snap.datasets.items():
            ds.cid = content_id([json.dumps(d, sort_keys=True) for d in docs[name]])
        return snap

    store, cache = PartStore(), tmp_path / "cache"
    first = snapshot()
    first.parts = store
    search_index.write_search_index(first, str(tmp_path / "s0"), cache_dir=str(cache))
    cids = {n: ds.cid for n, ds in first.datasets.items()}
    steps = [
        ("a new version", lambda: docs["shard_probe_7"].append(_doc(7, "v2", published_at="2026-02-01T00:00:00+00:00"))),
        ("an edited text loses a word", lambda: docs.__setitem__("shard_probe_7", [
            _doc(7, description="Measured by hand."),
            _doc(7, "v2", published_at="2026-02-01T00:00:00+00:00", description="Measured by hand.")])),
        ("a removed dataset", lambda: docs.pop("shard_probe_11")),
        ("a new dataset", lambda: docs.__setitem__("shard_probe_99", [_doc(99)])),
        ("a deprecation", lambda: docs["shard_probe_2"].__setitem__(0, {**_doc(2), "status": "deprecated"})),
        ("a new version of 13", lambda: docs["shard_probe_13"].append(
            _doc(13, "v2", published_at="2026-03-01T00:00:00+00:00", title="Second probe"))),
        *[(f"new dataset {k}", lambda k=k: docs.__setitem__(f"shard_probe_{k}", [_doc(k)])) for k in range(100, 106)],
    ]
    merged = False
    for step, (what, change) in enumerate(steps, 1):
        change()
        full = snapshot()
        changed = {n for n, ds in full.datasets.items() if cids.get(n) != ds.cid}
        lazy, loads = lazy_copy(full, store, changed)
        before = json.loads((cache / "layout.json").read_text())
        inc = search_index.write_search_index(lazy, str(tmp_path / f"inc{step}"), cache_dir=str(cache))
        clean = tmp_path / f"full{step}"
        search_index.write_search_index(snapshot(), str(clean))
        assert loads == [], what  # every unchanged dataset came from its parts
        assert _answers(tmp_path / f"inc{step}") == _answers(clean), what
        assert _display(tmp_path / f"inc{step}") == _display(clean), what
        after = json.loads((cache / "layout.json").read_text())
        reused = sum(a == b for a, b in zip(before["records"], after["records"]))
        assert reused >= len(after["records"]) - 2, what  # only chunks with a hole or a new block change
        if what == "a new version":
            assert inc.shards_built == 0 and inc.tail_bytes > 0
        if what == "an edited text loses a word":  # the word of the old text is gone from the shards
            assert "qzdesc7y" not in _answers(tmp_path / f"inc{step}")
            assert 0 < inc.shards_built <= 4  # the shards of "with", "the", "qzdesc7y", "protocol"
        if what == "a removed dataset":
            assert not any("11" in w for w in _answers(tmp_path / f"inc{step}")) and inc.shards_built > 0
        if before["tail"] and not after["tail"]:
            merged = True
            assert inc.shards_built > 0 and inc.tail_bytes == 0
        cids = {n: ds.cid for n, ds in full.datasets.items()}
    assert merged, "the tail never outgrew its bound"


def test_a_cache_without_the_tails_blocks_is_not_used(tmp_path, small_shards):
    """The tail is rebuilt from each block's kept postings: with those gone (a cache cut short),
    the next build lays the index out again (dense, no tail) instead of losing postings."""
    import shutil

    from site_builder.catalog import RegistrySnapshot

    docs = [DatasetDocument.from_dict(_doc(k)) for k in range(N_DATASETS)]
    cache = tmp_path / "cache"
    search_index.write_search_index(RegistrySnapshot.from_documents(docs), str(tmp_path / "a"), cache_dir=str(cache))
    docs.append(DatasetDocument.from_dict(_doc(3, "v2", published_at="2026-02-01T00:00:00+00:00")))
    docs.append(DatasetDocument.from_dict(_doc(4, "v2", published_at="2026-02-01T00:00:00+00:00")))
    search_index.write_search_index(RegistrySnapshot.from_documents(docs[:-1]), str(tmp_path / "b"), cache_dir=str(cache))
    assert json.loads((cache / "layout.json").read_text())["tail"] and list((cache / "blocks").iterdir())
    shutil.rmtree(cache / "blocks")
    size = search_index.write_search_index(RegistrySnapshot.from_documents(docs), str(tmp_path / "c"), cache_dir=str(cache))
    assert size.tail_bytes == 0 and size.shards_built > 0  # (a shard with the bytes of a kept one is not new)
    assert "x" not in json.loads((tmp_path / "c" / "catalog" / "search" / "facets.json").read_text())
    search_index.write_search_index(RegistrySnapshot.from_documents(docs), str(tmp_path / "full"))
    assert _answers(tmp_path / "c") == _answers(tmp_path / "full")


def test_order_runs_round_trip():
    """`facets.json` `or`: a dataset id's place in name order as runs; holes are -1."""
    from hypothesis import given, strategies as st

    @given(st.lists(st.integers(min_value=-1, max_value=40), max_size=60))
    def check(order):
        runs = search_index.order_runs(order)
        assert search_index.expand_order(runs) == order
        assert all(r[2] >= 1 for r in runs)

    check()
    layout = list(range(10)) + [-1, -1] + list(range(12, 30)) + [10, 11]  # a hole, a moved block
    assert search_index.order_runs(layout) == [[0, 0, 10], [10, -1, 2], [12, 12, 18], [30, 10, 2]]
