"""The registry and the tables on a real S3 API server (moto, server mode, loopback)."""

from __future__ import annotations

import threading

import fsspec
import pytest

from registry.documents import Registry, document_path
from registry.errors import AlreadyPublished, PreconditionFailed
from registry.model import HistoryEntry, Status
from registry.publish import deprecate, publish
from registry.storage import AlreadyExists, Store

from .conftest import base_spec, write_hive_parquet

pytestmark = pytest.mark.s3


@pytest.fixture
def s3_table(s3_bucket: str) -> str:
    fs = fsspec.filesystem("s3", endpoint_url=__import__("os").environ["AWS_ENDPOINT_URL"])
    write_hive_parquet(f"{s3_bucket}/tables/synapse_features", filesystem=fs)
    return f"s3://{s3_bucket}/tables/synapse_features"


def test_publish_table_and_registry_on_s3(s3_table, s3_bucket):
    registry = f"s3://{s3_bucket}/registry"
    doc = publish(base_spec(s3_table), registry).document
    assert doc.inspected.row_count == 2000 and doc.inspected.file_count == 4
    assert doc.inspected.partition_columns == ["split"]
    stored = Registry(registry).get("synapse_features")
    assert stored == doc
    assert [f.partition for f in Registry(registry).manifest("synapse_features", "1").files] == [
        {"split": 0}, {"split": 0}, {"split": 1}, {"split": 1}]
    with pytest.raises(AlreadyPublished):
        publish(base_spec(s3_table), registry)


def test_s3_create_is_conditional(s3_bucket):
    store = Store(f"s3://{s3_bucket}/reg")
    store.create("a.json", b"1")
    with pytest.raises(AlreadyExists):
        store.create("a.json", b"2")
    assert store.read_bytes("a.json") == b"1"


def test_s3_replace_fails_on_a_stale_etag(s3_bucket):
    store = Store(f"s3://{s3_bucket}/reg")
    store.create("a.json", b"1")
    seen = store.read_versioned("a.json")
    store.replace("a.json", b"2", seen.token)
    with pytest.raises(PreconditionFailed):
        store.replace("a.json", b"3", seen.token)  # someone wrote "2" since we read
    assert store.read_bytes("a.json") == b"2"


def test_concurrent_publishers_on_s3_exactly_one_wins(s3_table, s3_bucket):
    registry = f"s3://{s3_bucket}/registry"
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            publish(base_spec(s3_table, title=f"publisher {i}"), registry)
            outcomes.append("won")
        except AlreadyPublished:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused"] * 5 + ["won"]


def test_deprecate_on_s3_and_concurrent_changes_are_kept(s3_table, s3_bucket):
    registry = f"s3://{s3_bucket}/registry"
    publish(base_spec(s3_table), registry)
    publish(base_spec(s3_table, version="2"), registry)
    reg = Registry(registry)
    barrier = threading.Barrier(4)

    def note(i: int) -> None:
        barrier.wait()
        reg.update("synapse_features", "1", lambda d: d.model_copy(update={
            "history": d.history + [HistoryEntry(action=f"note-{i}", at=d.published_at, by="t")]}), retries=50)

    threads = [threading.Thread(target=note, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deprecate(registry, "synapse_features@1", reason="superseded", superseded_by="synapse_features@2")
    doc = reg.get("synapse_features", "1")
    assert doc.status == Status.DEPRECATED
    assert sorted(h.action for h in doc.history) == sorted(["published", "deprecated"] + [f"note-{i}" for i in range(4)])
    assert reg.store.exists(document_path("synapse_features", "2"))
