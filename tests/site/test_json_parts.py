"""The JSON API and the join indexes from per-dataset parts: a rebuild's catalog (unchanged
datasets unloaded, `tests/site/lazy.py`) gives byte for byte what a full read gives, and parses
only the datasets it rewrites (plus, for `referenced_by`, the sources of a changed target)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from registry.joins import document_join_facts, export_index, referenced_by_index
from site_builder.catalog import RegistrySnapshot
from site_builder.incremental import code_hash, dataset_keys
from site_builder.jsonout import index_document, summary, write_json
from site_builder.pages import templates_dir
from site_builder.parts import PartStore
from site_builder.synthetic import base_document, write_document, write_synthetic_registry
from tests.site.conftest import example_documents
from tests.site.lazy import lazy_copy

WHEN = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
URL = "https://catalog.example/"
EXPORT = {"pipeline": "materialization export", "parameters": {"annotation_table": "nucleus_detection_v0"}}


def _registry(root: Path) -> str:
    """Example documents (references between datasets and to annotation tables), registered
    exports of an annotation table, a reference to a dataset that is not in the registry, and
    synthetic datasets nobody references."""
    for doc in example_documents():
        write_document(str(root), doc)
    for v, mat in (("v1", 943), ("v2", 1078)):
        write_document(str(root), base_document("nucleus_export", v, materialization={"version": mat},
                                                provenance=EXPORT, published_at=f"2026-0{v[1]}-01T00:00:00+00:00"))
    write_document(str(root), base_document(
        "ghost_user", "v1", references=[{"column": "id", "dataset": "ghost@v1", "target_column": "id"},
                                        {"column": "id", "dataset": "cell_types", "target_column": "id"}]))
    write_synthetic_registry(str(root), 12, seed=5)
    return str(root)


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _dumps(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _sources_of(catalog: RegistrySnapshot, target: str) -> set[str]:
    return {ds.name for ds in catalog.datasets.values() for v in ds.versions
            for r in v.references if r.dataset and r.dataset.partition("@")[0] == target}


def _keys(catalog: RegistrySnapshot) -> dict[str, str]:
    return dataset_keys(catalog, {"site_url": URL}, code_hash(templates_dir()))


def test_write_json_writes_what_the_whole_documents_say(tmp_path):
    reg = _registry(tmp_path / "reg")
    full = RegistrySnapshot.read(reg)
    full.parts = PartStore()
    n = write_json(full, str(tmp_path / "out"), URL, WHEN)
    files = _files(tmp_path / "out")
    assert n == len(files)
    # index.json is spliced from per-dataset texts: the same bytes as dumping the one dict
    assert files["index.json"] == _dumps(index_document(full, URL, WHEN))
    refs_to = referenced_by_index({name: ds.versions for name, ds in full.datasets.items()})
    assert [e["name"] for e in refs_to["cell_types"]] == ["ghost_user", "synapse_embeddings", "synapse_embeddings", "xss_probe"]
    assert refs_to["ghost"][0]["verdict"] == "target_missing"
    for name, ds in full.datasets.items():
        want = {"name": name, "latest": ds.latest.version if ds.latest else None,
                "versions": [summary(v, full) for v in ds.versions], "referenced_by": refs_to.get(name, [])}
        assert files[f"api/datasets/{name}.json"] == _dumps(want), name


def test_join_indexes_equal_the_walk_of_every_document(tmp_path):
    reg = _registry(tmp_path / "reg")
    plain = RegistrySnapshot.read(reg)
    by_name = {name: ds.versions for name, ds in plain.datasets.items()}
    exports = export_index(by_name)
    assert exports[("minnie65_phase3_v1", "nucleus_detection_v0")] == {943: "nucleus_export@v1", 1078: "nucleus_export@v2"}
    assert plain.exports() == exports and plain.referenced_by() == referenced_by_index(by_name)  # without a store

    full = RegistrySnapshot.read(reg)
    store = PartStore()
    full.parts = store
    assert full.exports() == exports
    assert full.referenced_by() == referenced_by_index(by_name)
    lazy, loads = lazy_copy(full, store, changed={"nucleus_export"})
    assert lazy.exports() == exports and lazy.referenced_by() == referenced_by_index(by_name)
    assert loads == []  # nothing parsed but the changed dataset

    # the parts survive the cache files of a build (another process reads them)
    disk = PartStore(str(tmp_path / "parts"), code="c")
    full2 = RegistrySnapshot.read(reg)
    full2.parts = disk
    full2.exports(), full2.referenced_by(), [full2.join_facts(ds) for ds in full2.datasets.values()]
    disk.save()
    again = PartStore(str(tmp_path / "parts"), code="c")
    lazy, loads = lazy_copy(full2, again)
    assert lazy.exports() == exports and lazy.referenced_by() == referenced_by_index(by_name)
    assert loads == [] and again.computed == {}


def test_a_changed_target_recomputes_its_sources_only(tmp_path):
    reg = _registry(tmp_path / "reg")
    before = RegistrySnapshot.read(reg)
    store = PartStore()
    before.parts = store
    before.referenced_by(), before.exports()

    # a new version of a referenced dataset changes the join facts of the versions that point at it
    write_document(reg, base_document("cell_types", "v2", materialization={"versions": [943, 1078, 1412]},
                                      published_at="2026-11-01T00:00:00+00:00"))
    after = RegistrySnapshot.read(reg)
    by_name = {name: ds.versions for name, ds in after.datasets.items()}
    want_refs = referenced_by_index(by_name)
    assert want_refs["cell_types"] != referenced_by_index(
        {name: ds.versions for name, ds in before.datasets.items()})["cell_types"]  # the test can fail
    lazy, loads = lazy_copy(after, store, changed={"cell_types"})
    assert lazy.referenced_by() == want_refs and lazy.exports() == export_index(by_name)
    assert sorted(set(loads)) == sorted(_sources_of(after, "cell_types")) == ["ghost_user", "synapse_embeddings", "xss_probe"]

    # a referenced dataset that was absent appears: the facts of its sources are computed again
    write_document(reg, base_document("ghost", "v1", published_at="2026-11-02T00:00:00+00:00"))
    ghost = RegistrySnapshot.read(reg)
    want = referenced_by_index({name: ds.versions for name, ds in ghost.datasets.items()})
    assert want["ghost"][0]["verdict"] == "ok"
    lazy, loads = lazy_copy(ghost, store, changed={"ghost"})
    # only ghost_user's references to ghost are computed again (its other target is not parsed)
    assert lazy.referenced_by() == want and loads == ["ghost_user"]


def test_a_rebuild_writes_the_full_builds_bytes_and_parses_only_what_it_rewrites(tmp_path):
    reg = _registry(tmp_path / "reg")
    before = RegistrySnapshot.read(reg)
    store = PartStore()
    before.parts = store
    write_json(before, str(tmp_path / "inc"), URL, WHEN)
    keys = _keys(before)
    for changed, doc in (
        ("cell_types", base_document("cell_types", "v2", materialization={"version": 1078},
                                     published_at="2026-11-01T00:00:00+00:00")),
        ("synapse_embeddings", base_document("synapse_embeddings", "v9", references=[
            {"column": "id", "dataset": "cell_types", "target_column": "id"}], published_at="2026-11-03T00:00:00+00:00")),
        ("zzz_new", base_document("zzz_new", "v1", provenance=EXPORT, materialization={"version": 1412})),
        # ghost_user is rewritten (its reference to ghost now resolves); its other target,
        # cell_types, is not, and is not parsed for ghost_user's join facts either
        ("ghost", base_document("ghost", "v1", published_at="2026-11-04T00:00:00+00:00")),
    ):
        write_document(reg, doc)
        after = RegistrySnapshot.read(reg)
        new_keys = _keys(after)  # what an incremental build re-renders: the datasets whose key changed
        rewritten = {name for name, key in new_keys.items() if keys.get(name) != key}
        keys = new_keys
        assert changed in rewritten
        shutil.rmtree(tmp_path / "full", ignore_errors=True)
        write_json(after, str(tmp_path / "full"), URL, WHEN)
        lazy, loads = lazy_copy(after, store, changed={changed})
        n = write_json(lazy, str(tmp_path / "inc"), URL, WHEN, reuse=lambda name, skip=frozenset(rewritten): name not in skip)
        assert _files(tmp_path / "inc") == _files(tmp_path / "full"), changed
        assert n == len(_files(tmp_path / "full"))
        assert set(loads) <= rewritten, (changed, loads)
        assert len(rewritten) < len(after.datasets) // 2
    assert rewritten == {"ghost", "ghost_user"}

    # a reused dataset whose file is missing from the previous output is written again
    (tmp_path / "inc" / "api" / "datasets" / "cell_types.json").unlink()
    lazy, loads = lazy_copy(after, store)
    write_json(lazy, str(tmp_path / "inc"), URL, WHEN, reuse=lambda name: True)
    assert _files(tmp_path / "inc") == _files(tmp_path / "full") and loads == ["cell_types"]


def test_join_facts_of_a_dataset_equal_the_documents_facts(tmp_path):
    reg = _registry(tmp_path / "reg")
    full = RegistrySnapshot.read(reg)
    by_name = {name: ds.versions for name, ds in full.datasets.items()}
    exports = export_index(by_name)
    want = {name: {v.version: document_join_facts(v, by_name, exports) for v in ds.versions}
            for name, ds in full.datasets.items()}
    assert any(f.verdict == "ok" and f.target_kind == "dataset" for vs in want.values() for fs in vs.values() for f in fs)
    assert any(f.exports for vs in want.values() for fs in vs.values() for f in fs)
    store = PartStore()
    full.parts = store
    assert {name: full.join_facts(ds) for name, ds in full.datasets.items()} == want

    write_document(reg, base_document("cell_types", "v2", materialization={"version": 1078},
                                      published_at="2026-11-01T00:00:00+00:00"))
    after = RegistrySnapshot.read(reg)
    by_name = {name: ds.versions for name, ds in after.datasets.items()}
    lazy, loads = lazy_copy(after, store, changed={"cell_types"})
    ghost_user = lazy.datasets["ghost_user"].versions  # rewritten: loaded by its writer
    got = lazy.join_facts(lazy.datasets["ghost_user"])
    assert got == {v.version: document_join_facts(v, by_name, export_index(by_name)) for v in ghost_user}
    assert loads == ["ghost_user"]  # not ghost (absent) nor any other dataset
