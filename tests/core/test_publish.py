"""Publishing to a local registry: what is recorded, what is refused, and that refusals write nothing."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from registry.documents import Registry, document_path, manifest_path
from registry.errors import AlreadyPublished, BadInput, NotFound, SpecInvalid, TableUnreadable
from registry.model import Status
from registry.publish import deprecate, publish
from registry.storage import sha256

from .conftest import base_spec, write_hive_parquet


def files_under(path: str) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in Path(path).rglob("*") if p.is_file())


def test_publish_records_schema_rows_partitions_and_manifest(hive_table, tmp_registry):
    location, rows = hive_table
    result = publish(base_spec(location), tmp_registry)
    doc = result.document
    assert result.written and doc.status == Status.PUBLISHED
    assert doc.inspected.row_count == rows == 2000
    assert doc.inspected.file_count == 4
    assert doc.inspected.partition_columns == ["split"]
    types = {c.name: c.type for c in doc.inspected.columns}
    assert types["id"] == "int64" and types["split"] == "int32" and types["cell_type"] == "string"
    assert doc.table_version == 0 and doc.inspected.fingerprint.startswith("parquet:sha256:")
    assert doc.registry_schema == 2 and doc.history[0].action == "published"
    assert any("undocumented columns: cell_type, split" in w for w in result.warnings)

    stored = json.loads(Path(tmp_registry, document_path("synapse_features", "1")).read_text())
    assert stored["registry_schema"] == 2 and stored["inspected"]["row_count"] == 2000
    raw_manifest = Path(tmp_registry, manifest_path("synapse_features", "1")).read_bytes()
    assert sha256(raw_manifest) == stored["inspected"]["manifest_sha256"]
    manifest = json.loads(raw_manifest)["files"]
    assert [f["path"] for f in manifest] == [f"split={s}/part-{i}.parquet" for s in (0, 1) for i in (0, 1)]
    assert all(f["rows"] == 500 and f["size"] > 0 for f in manifest)
    assert manifest[2]["partition"] == {"split": 1}


def test_single_file_location_has_empty_manifest_path(tmp_path, tmp_registry):
    write_hive_parquet(str(tmp_path / "t"), splits=1, files_per_split=1)
    single = str(tmp_path / "t" / "split=0" / "part-0.parquet")
    publish(base_spec(single), tmp_registry)
    files = Registry(tmp_registry).manifest("synapse_features", "1").files
    assert [(f.path, f.rows, f.partition) for f in files] == [("", 500, {})]


def test_dry_run_writes_nothing(hive_table, tmp_registry):
    result = publish(base_spec(hive_table[0]), tmp_registry, dry_run=True)
    assert not result.written and result.document.inspected.row_count == 2000
    assert files_under(tmp_registry) == []


def test_duplicate_publish_is_refused_and_leaves_the_original(hive_table, tmp_registry):
    publish(base_spec(hive_table[0]), tmp_registry)
    before = Path(tmp_registry, document_path("synapse_features", "1")).read_bytes()
    with pytest.raises(AlreadyPublished, match="never overwritten"):
        publish(base_spec(hive_table[0], title="Changed"), tmp_registry)
    assert Path(tmp_registry, document_path("synapse_features", "1")).read_bytes() == before


@pytest.mark.parametrize(
    "change, path, text",
    [
        (lambda s: s["columns"].append({"name": "nope"}), "columns[7].name", "not a column of the table"),
        (lambda s: s["columns"][6].update(type="int64"), "columns[6].type", "declared 'int64' but the table has 'double'"),
        (lambda s: s["columns"][6].update(semantic="root_id"), "columns[6].semantic", "needs an integer column"),
        (lambda s: s["columns"].append({"name": "cell_type", "semantic": "position"}), "columns[7].semantic", "numeric point"),
        (lambda s: s["columns"].append({"name": "cell_type", "semantic": "supervoxel_id"}), "columns[7].semantic", "integer"),
    ],
)
def test_declared_columns_that_contradict_the_table_are_bad_input(hive_table, tmp_registry, change, path, text):
    spec = base_spec(hive_table[0])
    change(spec)
    with pytest.raises(SpecInvalid) as info:
        publish(spec, tmp_registry)
    assert (path, info.value.problems[0][1]) and any(p == path and text in m for p, m in info.value.problems), info.value.problems
    assert files_under(tmp_registry) == []


def test_declared_type_matching_the_table_is_accepted(hive_table, tmp_registry):
    spec = base_spec(hive_table[0])
    spec["columns"][6]["type"] = "float64"  # alias of double
    assert publish(spec, tmp_registry, dry_run=True).document.column("score").type == "float64"


def test_missing_location_is_bad_input(tmp_path, tmp_registry):
    with pytest.raises(TableUnreadable, match="does not exist"):
        publish(base_spec(str(tmp_path / "nowhere")), tmp_registry)
    assert files_under(tmp_registry) == []


def test_truncated_parquet_file_is_bad_input(hive_table, tmp_registry):
    victim = Path(hive_table[0], "split=1", "part-1.parquet")
    victim.write_bytes(victim.read_bytes()[:-100])
    with pytest.raises(TableUnreadable, match="part-1.parquet"):
        publish(base_spec(hive_table[0]), tmp_registry)
    assert files_under(tmp_registry) == []


def test_a_file_that_is_not_parquet_is_bad_input(tmp_path, tmp_registry):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "data.parquet").write_text("id,score\n1,0.5\n")
    with pytest.raises(TableUnreadable, match="not a Parquet file"):
        publish(base_spec(str(tmp_path / "t"), columns=[], references=[]), tmp_registry)


def test_empty_directory_is_bad_input(tmp_path, tmp_registry):
    (tmp_path / "empty").mkdir()
    with pytest.raises(TableUnreadable, match="no Parquet files"):
        publish(base_spec(str(tmp_path / "empty")), tmp_registry)


def test_invalid_yaml_names_the_line(write_spec, tmp_registry):
    path = write_spec("name: a\ntitle: [unclosed\nversion: 1\n")
    with pytest.raises(SpecInvalid) as info:
        publish(path, tmp_registry)
    assert info.value.problems[0][0].startswith("(yaml) line")


def test_yaml_that_is_not_a_mapping_is_refused(write_spec, tmp_registry):
    with pytest.raises(SpecInvalid, match="mapping"):
        publish(write_spec("- just\n- a list\n"), tmp_registry)


def test_no_registry_is_bad_input(hive_table, monkeypatch):
    monkeypatch.delenv("FEATURE_REGISTRY_URI", raising=False)
    with pytest.raises(BadInput, match="no registry"):
        publish(base_spec(hive_table[0]))


def test_publishing_as_deprecated_is_refused(hive_table, tmp_registry):
    with pytest.raises(SpecInvalid, match="status"):
        publish(base_spec(hive_table[0], status="deprecated"), tmp_registry)


def test_draft_is_not_latest_and_can_be_replaced_until_published(hive_table, tmp_registry):
    publish(base_spec(hive_table[0]), tmp_registry)
    publish(base_spec(hive_table[0], version="2", title="first draft"), tmp_registry, draft=True)
    reg = Registry(tmp_registry)
    assert reg.get("synapse_features").version == "1"
    assert reg.get("synapse_features", "2").status == Status.DRAFT
    publish(base_spec(hive_table[0], version="2", title="second draft"), tmp_registry, draft=True)
    assert reg.get("synapse_features", "2").title == "second draft"
    publish(base_spec(hive_table[0], version="2", title="final"), tmp_registry)
    doc = reg.get("synapse_features")
    assert (doc.version, doc.title, doc.status) == ("2", "final", Status.PUBLISHED)
    assert [h.action for h in doc.history] == ["drafted", "drafted", "published"]
    with pytest.raises(AlreadyPublished):
        publish(base_spec(hive_table[0], version="2", title="again"), tmp_registry, draft=True)


def test_latest_without_published_versions_says_what_exists(hive_table, tmp_registry):
    publish(base_spec(hive_table[0]), tmp_registry, draft=True)
    with pytest.raises(NotFound, match="none is published: 1"):
        Registry(tmp_registry).get("synapse_features")


def test_deprecate_records_history_and_successor(hive_table, tmp_registry):
    publish(base_spec(hive_table[0]), tmp_registry)
    publish(base_spec(hive_table[0], version="2", lineage={"supersedes": ["synapse_features@1"]}), tmp_registry)
    doc = deprecate(tmp_registry, "synapse_features@1", reason="wrong voxel size", superseded_by="synapse_features@2", user="bob")
    stored = Registry(tmp_registry).get("synapse_features", "1")
    assert stored == doc
    assert stored.status == Status.DEPRECATED and stored.lineage.superseded_by == "synapse_features@2"
    last = stored.history[-1]
    assert (last.action, last.by, last.reason, last.superseded_by) == ("deprecated", "bob", "wrong voxel size", "synapse_features@2")
    assert Registry(tmp_registry).get("synapse_features").version == "2"
    with pytest.raises(BadInput, match="already deprecated"):
        deprecate(tmp_registry, "synapse_features@1", reason="again")


@pytest.mark.parametrize(
    "ref, kwargs, error, text",
    [
        ("synapse_features", {}, BadInput, "NAME@VERSION"),
        ("synapse_features@9", {}, NotFound, "not in"),
        ("synapse_features@1", {"superseded_by": "other@1"}, NotFound, "other@1"),
        ("synapse_features@1", {"superseded_by": "synapse_features@1"}, BadInput, "itself"),
        ("synapse_features@1", {"reason": "  "}, BadInput, "reason"),
    ],
)
def test_bad_deprecations_are_refused(hive_table, tmp_registry, ref, kwargs, error, text):
    publish(base_spec(hive_table[0]), tmp_registry)
    before = Path(tmp_registry, document_path("synapse_features", "1")).read_bytes()
    with pytest.raises(error, match=text):
        deprecate(tmp_registry, ref, **{"reason": "because", **kwargs})
    assert Path(tmp_registry, document_path("synapse_features", "1")).read_bytes() == before


def test_references_to_registered_datasets_are_checked_as_facts(hive_table, tmp_registry):
    publish(base_spec(hive_table[0]), tmp_registry)
    spec = base_spec(hive_table[0], name="synapse_embeddings", lineage={"derived_from": ["synapse_features@1", "ghost@3"]})
    doc = publish(spec, tmp_registry).document
    facts = {c.subject: c.ok for c in doc.checks if c.check == "referenced_dataset_exists"}
    assert facts == {"synapse_features@1": True, "ghost@3": False}


@pytest.mark.parametrize("registry_kind", ["local", "memory"])
def test_concurrent_publishers_exactly_one_wins(hive_table, tmp_registry, registry_kind):
    import uuid

    uri = tmp_registry if registry_kind == "local" else f"memory://race-{uuid.uuid4().hex}"
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            publish(base_spec(hive_table[0], title=f"publisher {i}"), uri)
            outcomes.append("won")
        except AlreadyPublished:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["won"]
    doc = Registry(uri).get("synapse_features", "1")
    assert doc.title.startswith("publisher ")


def test_concurrent_updates_are_never_lost(hive_table, tmp_registry):
    """Compare-and-swap: 8 writers each append a history entry; all 8 survive."""
    from registry.model import HistoryEntry

    publish(base_spec(hive_table[0]), tmp_registry)
    reg = Registry(tmp_registry)
    barrier = threading.Barrier(8)

    def append(i: int) -> None:
        barrier.wait()
        reg.update("synapse_features", "1", lambda d: d.model_copy(update={
            "history": d.history + [HistoryEntry(action=f"note-{i}", at=d.published_at, by=f"w{i}")]}), retries=50)

    threads = [threading.Thread(target=append, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    actions = sorted(h.action for h in reg.get("synapse_features", "1").history)
    assert actions == sorted(["published"] + [f"note-{i}" for i in range(8)])


def test_interrupted_publish_of_same_table_can_be_retried(hive_table, tmp_registry):
    first = publish(base_spec(hive_table[0]), tmp_registry, dry_run=True)
    reg = Registry(tmp_registry)
    from registry.documents import dumps

    reg.store.create(manifest_path("synapse_features", "1"), dumps(first.manifest.to_dict()))  # crash after manifest
    assert publish(base_spec(hive_table[0]), tmp_registry).written


def test_leftover_manifest_of_another_table_blocks_with_an_explanation(hive_table, tmp_registry):
    reg = Registry(tmp_registry)
    reg.store.create(manifest_path("synapse_features", "1"), b'{"files": []}\n')
    with pytest.raises(AlreadyPublished, match="interrupted"):
        publish(base_spec(hive_table[0]), tmp_registry)
    assert not reg.exists("synapse_features", "1")


def test_if_exists_skip_is_a_no_op_for_the_same_table_and_refuses_a_changed_one(hive_table, tmp_registry):
    publish(base_spec(hive_table[0]), tmp_registry)
    again = publish(base_spec(hive_table[0]), tmp_registry, if_exists="skip")
    assert again.skipped and not again.written
    write_hive_parquet(hive_table[0], splits=3)  # the table changed under the same name@version
    with pytest.raises(AlreadyPublished, match="different table"):
        publish(base_spec(hive_table[0]), tmp_registry, if_exists="skip")


def test_hand_edited_invalid_document_is_reported_not_fatal(hive_table, tmp_registry):
    publish(base_spec(hive_table[0]), tmp_registry)
    publish(base_spec(hive_table[0], name="other"), tmp_registry)
    path = Path(tmp_registry, document_path("other", "1"))
    data = json.loads(path.read_text())
    data["columns"][0]["semantic"] = "rootid"
    path.write_text(json.dumps(data))
    docs, problems = Registry(tmp_registry).load_all()
    assert [d.name for d in docs] == ["synapse_features"]
    assert len(problems) == 1 and "columns[0].semantic" in str(problems[0].error)
    with pytest.raises(SpecInvalid):
        Registry(tmp_registry).get("other", "1")
    with pytest.raises(AlreadyPublished, match="does not validate"):
        publish(base_spec(hive_table[0], name="other"), tmp_registry)


def test_progress_is_reported_while_inspecting(hive_table, tmp_registry):
    calls: list[tuple[int, int]] = []
    publish(base_spec(hive_table[0]), tmp_registry, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (4, 4)


def test_progress_bar_only_on_a_terminal(monkeypatch):
    from registry import output

    monkeypatch.delenv("FEATURE_REGISTRY_QUIET", raising=False)
    monkeypatch.setenv("CI", "true")
    with output.progress("x") as bar:
        assert bar is None
    monkeypatch.delenv("CI")
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    with output.progress("x") as bar:
        assert callable(bar)
        bar(1, 2)


def test_loading_many_documents_pauses_and_restores_the_garbage_collector(tmp_registry, hive_table, monkeypatch):
    """`load_all` parses with the collector off (it walked every parsed document on each full
    collection) and turns it back on afterwards, unless the caller had it off already."""
    import gc

    import registry.documents as documents

    publish(base_spec(hive_table[0]), tmp_registry)
    states = []
    real_parse = documents.parse_document
    monkeypatch.setattr(documents, "parse_document", lambda *a: states.append(gc.isenabled()) or real_parse(*a))
    assert len(Registry(tmp_registry).load_all()[0]) == 1
    assert states == [False] and gc.isenabled()
    gc.disable()
    try:
        Registry(tmp_registry).load_all()
        assert not gc.isenabled()
    finally:
        gc.enable()
