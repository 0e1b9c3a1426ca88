"""Incremental site builds (a cache dir) give the same site as a full build, reuse unchanged
datasets, and drop pages of removed documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from site_builder.build import build_site
from site_builder.catalog import RegistrySnapshot
from site_builder.synthetic import base_document, write_document, write_synthetic_registry
from tests.site.conftest import example_documents

_VOLATILE = [
    re.compile(rb"Built \d{4}-\d\d-\d\d \d\d:\d\d UTC"),
    re.compile(rb'"generated_at": ?"[^"]+"'),
    re.compile(rb"<lastmod>[^<]*</lastmod>"),
]


def snapshot(out: Path) -> dict[str, bytes]:
    files = {}
    for p in sorted(out.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            for rx in _VOLATILE:
                data = rx.sub(b"~", data)
            files[p.relative_to(out).as_posix()] = data
    return files


SEARCH = "catalog/search/"


def search_answers(site: Path, extra: tuple[str, ...] = ()) -> dict:
    """What the site's search index answers, read as the Python client and the search page read
    it: for every word of its vocabulary, each word's 1-3 letter prefixes, `extra` queries, and
    the facets (deprecated left out unless asked), the ranked `name@version` list with scores and
    matched fields. Two indexes that lay version ids out differently must answer alike."""
    import json

    from registry import search_rules as rules
    from registry.client.search import TextIndex, ranked

    base = site / "catalog" / "search"
    meta = json.loads((base / "meta.json").read_text())
    refs = json.loads((base / "refs.json").read_text())
    index = TextIndex(rules.Index(meta["firsts"], lambda j: json.loads((base / "terms" / f"{j}.json").read_text()),
                                 (lambda: json.loads((base / "terms" / "tail.json").read_text())) if meta.get("tail") else None),
                      refs)
    summaries = json.loads((site / "index.json").read_text())["versions"]
    words: set[str] = set()
    for j in range(len(meta["firsts"])):
        words.update(index.index.shard(j)["k"])
    words.update((index.index.tail() or {"k": []})["k"])  # the vocabulary is the shards' and the tail's
    queries = sorted(words | {w[:k] for w in words for k in (1, 2, 3)} | set(extra)) + [""]
    filters = [{}, {"status": "deprecated"}, {"status": "published"}]
    out = {}
    for q in queries:
        for f in filters if q in ("", "v1", "c", "s") else [{}]:
            out[(q, tuple(f.items()))] = [(r.ref, r.score, tuple(r.matched)) for r in ranked(summaries, q, f, None, index)]
    return out


def site_equals_full(inc: Path, full: Path) -> None:
    """An incremental build's site is a full build's: every file byte for byte but the search
    index (whose version ids an incremental build keeps stable), which answers every query alike."""
    a, b = snapshot(inc), snapshot(full)
    a = {k: v for k, v in a.items() if not k.startswith(SEARCH + "terms/") and not k.startswith(SEARCH + "records/")}
    b = {k: v for k, v in b.items() if not k.startswith(SEARCH + "terms/") and not k.startswith(SEARCH + "records/")}
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k] and not k.startswith(SEARCH)] == []
    assert search_answers(inc) == search_answers(full)


def test_incremental_equals_full_and_reuses(tmp_path):
    reg = tmp_path / "reg"
    for doc in example_documents():
        write_document(str(reg), doc)
    write_synthetic_registry(str(reg), 12, seed=3)
    cache = tmp_path / "cache"

    first = build_site(str(reg), str(tmp_path / "inc"), cache_dir=str(cache), progress=False)
    assert first.reused == 0
    full0 = build_site(str(reg), str(tmp_path / "full0"), progress=False)
    assert snapshot(tmp_path / "inc") == snapshot(tmp_path / "full0")

    # one new version of an existing dataset: only that dataset (and those linked to it) re-render
    write_document(str(reg), base_document("cell_types", "v2", title="Cell types v2",
                                           published_at="2026-03-01T00:00:00+00:00"))
    second = build_site(str(reg), str(tmp_path / "inc"), cache_dir=str(cache), progress=False)
    assert 0 < second.reused < second.datasets
    assert second.datasets - second.reused <= 3  # cell_types and the datasets that reference it
    full1 = build_site(str(reg), str(tmp_path / "full1"), progress=False)
    site_equals_full(tmp_path / "inc", tmp_path / "full1")
    assert second.pages == full1.pages and second.versions == full1.versions == full0.versions + 1

    # a removed document (registries never delete, but an operator may): its pages disappear
    victim = next(p for p in (reg / "datasets").glob("*/v1.json") if "cell_types" not in str(p))
    name = victim.parent.name
    for p in victim.parent.glob("*"):
        p.unlink()
    victim.parent.rmdir()
    third = build_site(str(reg), str(tmp_path / "inc"), cache_dir=str(cache), progress=False)
    assert not (tmp_path / "inc" / "datasets" / name).exists()
    assert not (tmp_path / "inc" / "datasets" / f"{name}.html").exists()
    build_site(str(reg), str(tmp_path / "full2"), progress=False)
    site_equals_full(tmp_path / "inc", tmp_path / "full2")
    assert third.reused > 0


def test_interrupted_build_forces_a_full_one(tmp_path):
    reg = tmp_path / "reg"
    write_synthetic_registry(str(reg), 6, seed=4)
    cache = tmp_path / "cache"
    build_site(str(reg), str(tmp_path / "out"), cache_dir=str(cache), progress=False)
    state = cache / "state.json"
    state.write_text(state.read_text().replace('"complete": true', '"complete": false'))
    again = build_site(str(reg), str(tmp_path / "out"), cache_dir=str(cache), progress=False)
    assert again.reused == 0
    ok = build_site(str(reg), str(tmp_path / "out"), cache_dir=str(cache), progress=False)
    assert ok.reused == ok.datasets


# The forked half of this comparison forks on purpose in a process that has lance loaded.
@pytest.mark.filterwarnings("ignore:lance is not fork-safe")
def test_inline_side_outputs_equal_the_forked_child(tmp_path, monkeypatch):
    """With a fork-unsafe runtime loaded (lance, obstore, deltalake) the JSON API and search index
    are written inline instead of in a forked child; the site must not differ by a byte."""
    import site_builder.build as build

    reg = tmp_path / "reg"
    for doc in example_documents():
        write_document(str(reg), doc)
    write_synthetic_registry(str(reg), 12, seed=5)
    monkeypatch.setattr(build, "FORK_UNSAFE_MODULES", ())
    assert build.can_fork()
    build_site(str(reg), str(tmp_path / "forked"), progress=False)
    monkeypatch.setattr(build, "FORK_UNSAFE_MODULES", ("site_builder.build",))
    assert not build.can_fork()
    build_site(str(reg), str(tmp_path / "inline"), progress=False)
    assert snapshot(tmp_path / "inline") == snapshot(tmp_path / "forked")


def test_shared_parts_read_the_same_documents(tmp_path):
    """A site build reads documents with equal parts shared between a dataset's versions
    (`registry.documents.PartMemo`): the documents are equal to those read one by one, and a
    column repeated across versions is one object."""
    from registry.documents import Registry

    reg = tmp_path / "reg"
    for doc in example_documents():
        write_document(str(reg), doc)
    write_synthetic_registry(str(reg), 12, seed=3)
    shared, _ = Registry(str(reg)).load_all(share=True)
    plain, _ = Registry(str(reg)).load_all()
    assert [d.model_dump_json() for d in shared] == [d.model_dump_json() for d in plain]
    assert shared == plain
    pairs = [(a, b) for a, b in zip(shared, shared[1:]) if a.name == b.name]
    assert pairs
    same = [(x, y) for a, b in pairs for x, y in zip(a.inspected.columns, b.inspected.columns) if x == y]
    assert same and all(x is y for x, y in same)
    assert all(x is not y for a, b in zip(plain, plain[1:]) for x, y in zip(a.inspected.columns, b.inspected.columns))


def test_rebuild_after_deprecation_and_an_edited_body(tmp_path):
    """A deprecation (ids kept: only facets change) and a document whose bytes changed under the
    same name (a draft replaced, an operator's fix) are picked up: the rebuilt site is a full
    build's, and the edited text is found by search and shown on the page."""
    import json

    from registry.publish import deprecate

    reg = tmp_path / "reg"
    write_synthetic_registry(str(reg), 12, seed=6)
    cache, inc = tmp_path / "cache", tmp_path / "inc"
    build_site(str(reg), str(inc), cache_dir=str(cache), progress=False)
    names = sorted(p.name for p in (reg / "datasets").iterdir())
    published = [json.loads(p.read_text()) for p in sorted((reg / "datasets" / names[1]).glob("v*.json"))
                 if not p.name.endswith(".files.json")]
    ref = next(f"{d['name']}@{d['version']}" for d in published if d["status"] == "published")
    deprecate(str(reg), ref, reason="replaced in a test")
    first = build_site(str(reg), str(inc), cache_dir=str(cache), progress=False)
    assert first.search.shards_built == 0  # a deprecation changes no words: no term shard rewritten
    build_site(str(reg), str(tmp_path / "full1"), progress=False)
    site_equals_full(inc, tmp_path / "full1")

    path = reg / "datasets" / names[2] / "v1.json"
    doc = json.loads(path.read_text())
    doc["title"] = "Zanzibar quokka table"
    path.write_text(json.dumps(doc, indent=2))
    build_site(str(reg), str(inc), cache_dir=str(cache), progress=False)
    build_site(str(reg), str(tmp_path / "full2"), progress=False)
    site_equals_full(inc, tmp_path / "full2")
    assert "Zanzibar quokka table" in (inc / "datasets" / names[2] / "v1.html").read_text()
    assert [r for (q, _f), r in search_answers(inc).items() if q == "quokka"][0][0][0] == f"{names[2]}@v1"


def test_rebuild_reads_only_changed_documents_and_keeps_invalid_ones_listed(tmp_path):
    """The read phase of a rebuild parses only the datasets whose documents' listing stamps
    changed (`site_builder.doc_cache`); an invalid document of an unchanged dataset is still
    reported (from the cache, not read again); an invalid document that becomes valid is read."""
    from site_builder.doc_cache import ReadCache

    reg = tmp_path / "reg"
    write_synthetic_registry(str(reg), 12, seed=7)
    names = sorted(p.name for p in (reg / "datasets").iterdir())
    broken = reg / "datasets" / names[0] / "v7.json"
    broken.write_text('{"name": "' + names[0] + '", "version": "v7"')  # truncated JSON
    cache, inc = tmp_path / "cache", tmp_path / "inc"
    first = build_site(str(reg), str(inc), cache_dir=str(cache), progress=False)
    assert [s.path for s in first.skipped] == [f"datasets/{names[0]}/v7.json"]

    reader = ReadCache(cache, str(reg))
    again = reader.read()
    assert reader.read_paths == 0 and not any(ds.loaded for ds in again.datasets.values())
    assert [(s.path, s.message) for s in again.skipped] == [(s.path, s.message) for s in first.skipped]
    assert sum(ds.count for ds in again.datasets.values()) == first.versions
    full = RegistrySnapshot.read(str(reg))
    assert {n: ds.cid for n, ds in again.datasets.items()} == {n: ds.cid for n, ds in full.datasets.items()}
    assert again.digests == full.digests
    lazy = again.datasets[names[2]]
    assert [v.model_dump_json() for v in lazy.versions] == [v.model_dump_json() for v in full.datasets[names[2]].versions]

    write_document(str(reg), base_document(names[3], "v99", title="new", published_at="2027-01-01T00:00:00+00:00"))
    broken.unlink()
    reader = ReadCache(cache, str(reg))
    snap = reader.read()
    loaded = {n for n, ds in snap.datasets.items() if ds.loaded}
    assert loaded == {names[3]} | ({names[0]} if names[0] in snap.datasets else set())
    assert snap.skipped == []


def test_rebuild_into_another_output_folder_is_complete(tmp_path):
    """The output sync skips reused datasets' pages only when syncing into the folder it synced
    into last time: a rebuild with the same cache into a new folder writes the whole site."""
    reg = tmp_path / "reg"
    write_synthetic_registry(str(reg), 12, seed=8)
    cache = tmp_path / "cache"
    build_site(str(reg), str(tmp_path / "one"), cache_dir=str(cache), progress=False)
    names = sorted(p.name for p in (reg / "datasets").iterdir())
    write_document(str(reg), base_document(names[2], "v99", title="new", published_at="2027-01-01T00:00:00+00:00"))
    second = build_site(str(reg), str(tmp_path / "two"), cache_dir=str(cache), progress=False)
    assert second.reused > 0
    build_site(str(reg), str(tmp_path / "full"), progress=False)
    site_equals_full(tmp_path / "two", tmp_path / "full")
    write_document(str(reg), base_document(names[3], "v99", title="newer", published_at="2027-01-02T00:00:00+00:00"))
    third = build_site(str(reg), str(tmp_path / "two"), cache_dir=str(cache), progress=False)
    assert third.reused > 0
    build_site(str(reg), str(tmp_path / "full2"), progress=False)
    site_equals_full(tmp_path / "two", tmp_path / "full2")


def test_rebuild_when_a_referenced_dataset_appears_or_exports_change(tmp_path):
    """Join facts read other datasets: a reference to a dataset that was not registered yet, and a
    new registered export of an annotation table, change the JSON and pages of the datasets that
    point at them; the rebuilt site is a full build's (tests/site/test_json_parts.py checks that
    the JSON of a rebuild is computed from parts without parsing unchanged datasets)."""
    import json

    reg = tmp_path / "reg"
    for doc in example_documents():
        write_document(str(reg), doc)
    write_document(str(reg), base_document("ghost_user", "v1", references=[
        {"column": "id", "dataset": "ghost@v1", "target_column": "id"},
        {"column": "id", "annotation_table": "nucleus_detection_v0", "target_column": "id"}]))
    write_synthetic_registry(str(reg), 6, seed=8)
    cache, inc = tmp_path / "cache", tmp_path / "inc"
    build_site(str(reg), str(inc), cache_dir=str(cache), progress=False)

    write_document(str(reg), base_document("ghost", "v1", published_at="2026-04-01T00:00:00+00:00"))
    write_document(str(reg), base_document(
        "nucleus_export", "v1", published_at="2026-04-02T00:00:00+00:00",
        provenance={"pipeline": "materialization export", "parameters": {"annotation_table": "nucleus_detection_v0"}}))
    again = build_site(str(reg), str(inc), cache_dir=str(cache), progress=False)
    assert again.reused > 0
    build_site(str(reg), str(tmp_path / "full"), progress=False)
    site_equals_full(inc, tmp_path / "full")
    joins = [r["join"] for r in json.loads((inc / "api" / "datasets" / "ghost_user" / "v1.json").read_text())["references"]]
    assert joins[0]["verdict"] == "ok" and joins[1]["exports"] == {"1078": "nucleus_export@v1"}
    assert json.loads((inc / "api" / "datasets" / "ghost.json").read_text())["referenced_by"][0]["name"] == "ghost_user"
