"""Tables written by other tools, one test per way they differ from ours (issue 11), plus storage
errors named as such for every format (issue 12, item 6). Each test failed on the code before
(the audit is in tests/inspect/corpus/README.md). Helpers added by the fixes are imported inside the
tests that use them, so this module also imports on the pre-fix inspector and that audit can run."""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import re
import shutil
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from registry.errors import TableUnreadable
from registry.inspect import inspect_table

from .conftest import write_delta, write_iceberg, write_lance
from .corpus.writers import LANCE_07, gzip_metadata, set_footer_num_rows

# ---- Lance before 0.8 --------------------------------------------------------------------------


def test_lance_written_before_0_8_is_counted_from_its_own_metadata(tmp_path):
    import lance

    root = tmp_path / "old.lance"
    shutil.copytree(LANCE_07, root)
    assert all(f.metadata.physical_rows is None for f in lance.dataset(str(root)).get_fragments())  # the quirk
    got = inspect_table(str(root), "lance")
    assert got.row_count == lance.dataset(str(root)).to_table().num_rows == 87
    assert [f.rows for f in got.files] == [20, 20, 10, 42]  # physical rows, deletions not applied
    assert got.reader_features["row_count_source"] == "fragment_footers"
    assert got.reader_features["deleted_rows"] == 5
    assert any("before Lance 0.8" in w for w in got.warnings)


def test_lance_migrated_from_0_7_agrees_with_lance(tmp_path):
    import lance

    root = tmp_path / "mig.lance"
    shutil.copytree(LANCE_07, root)
    lance.write_dataset(pa.table({"id": pa.array(range(100, 105), pa.int64()), "label": ["x"] * 5}), root, mode="append")
    lance.dataset(str(root)).delete("id = 60")
    got = inspect_table(str(root), "lance")
    assert got.row_count == lance.dataset(str(root)).to_table().num_rows == 91


def test_lance_deleted_from_by_0_8_0_is_counted_from_the_data_files(tmp_path):
    """Issue item 2, reproduced: a 0.7.5 dataset (62 rows, 5 deleted) from which Lance 0.8.0 deleted
    one more row. 0.8.0 wrote fragment 0's live rows (14) as its physical_rows though its file still
    holds 20, and counted 50 itself; Lance 14 and a scan count 56."""
    import lance

    from .corpus.writers import LANCE_08_MIGRATED

    root = tmp_path / "mig.lance"
    shutil.copytree(LANCE_08_MIGRATED, root)
    ds = lance.dataset(str(root))
    frag0 = ds.get_fragments()[0]
    assert (frag0.metadata.physical_rows, frag0.physical_rows, frag0.num_deletions) == (14, 20, 6)  # the quirk
    got = inspect_table(str(root), "lance")
    assert got.row_count == ds.count_rows() == ds.to_table().num_rows == 56
    assert [f.rows for f in got.files] == [20, 20, 10, 8, 4]  # what each file holds, deletions not applied
    assert got.reader_features["deleted_rows"] == 6 and got.reader_features["manifest_row_counts_wrong"] == 1
    assert any("give 50 rows but Lance counts 56" in w for w in got.warnings)


# ---- Parquet ------------------------------------------------------------------------------------


def test_footer_num_rows_that_disagrees_with_row_groups(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": pa.array(range(6), pa.int64())}), path)
    set_footer_num_rows(path, 0)
    assert pq.read_metadata(path).num_rows == 0 and pq.read_table(path).num_rows == 6  # the quirk
    got = inspect_table(str(path), "parquet")
    assert got.row_count == 6 and got.files[0].rows == 6
    assert any("footer says 0, row groups hold 6" in w for w in got.warnings)
    assert got.reader_features["footer_row_count_mismatch"] == 1


def test_hive_default_partition_is_null_and_keeps_the_integer_type(tmp_path):
    import pyarrow.dataset as ds

    for key in ("1", "2", "__HIVE_DEFAULT_PARTITION__"):
        (tmp_path / "t" / f"split={key}").mkdir(parents=True)
        pq.write_table(pa.table({"id": pa.array([1, 2], pa.int64())}), tmp_path / "t" / f"split={key}" / "part-0.parquet")
    got = inspect_table(str(tmp_path / "t"), "parquet")
    assert {c.name: c.type for c in got.columns}["split"] == "int32"
    assert sorted((f.partition["split"] is None, f.partition["split"]) for f in got.files) == [
        (False, 1), (False, 2), (True, None)
    ]
    reader = ds.dataset(str(tmp_path / "t"), partitioning="hive").to_table()
    assert str(reader.schema.field("split").type) == "int32" and reader.column("split").null_count == 2


def test_encrypted_footer_is_named_as_such(tmp_path):
    import base64

    import pyarrow.parquet.encryption as pe

    class Kms(pe.KmsClient):  # an in-memory KMS: wrapping is base64 of the key, enough to write
        def __init__(self, _config):
            pe.KmsClient.__init__(self)

        def wrap_key(self, key_bytes, master_key_identifier):
            return base64.b64encode(key_bytes)

        def unwrap_key(self, wrapped_key, master_key_identifier):
            return base64.b64decode(wrapped_key)

    factory = pe.CryptoFactory(lambda config: Kms(config))
    config = pe.EncryptionConfiguration(footer_key="footer", column_keys={"col": ["id"]}, plaintext_footer=False)
    props = factory.file_encryption_properties(pe.KmsConnectionConfig(), config)
    path = tmp_path / "secret.parquet"
    with pq.ParquetWriter(path, pa.schema([("id", pa.int64())]), encryption_properties=props) as w:
        w.write_table(pa.table({"id": pa.array([1, 2, 3], pa.int64())}))
    assert path.read_bytes()[-4:] == b"PARE"
    with pytest.raises(TableUnreadable) as err:
        inspect_table(str(path), "parquet")
    assert "encrypted Parquet" in str(err.value) and "truncated" not in str(err.value)
    assert str(path) in str(err.value)


# ---- Iceberg --------------------------------------------------------------------------------------


@pytest.fixture
def iceberg(tmp_path):
    (tmp_path / "wh").mkdir()
    return write_iceberg(str(tmp_path / "wh"), tmp_path)


def test_gzip_metadata_with_iceberg_java_names(iceberg):
    gzip_metadata(iceberg.location)
    names = sorted(os.listdir(os.path.join(iceberg.location, "metadata")))
    assert any(re.match(r"v\d+\.gz\.metadata\.json$", n) for n in names)
    got = inspect_table(iceberg.location, "iceberg")
    assert got.table_version == iceberg.snapshots[-1] and got.row_count == iceberg.rows[-1]
    assert re.search(r"/v\d+\.gz\.metadata\.json$", got.reader_features["metadata_location"])


def test_version_hint_number_with_gzip_java_names(iceberg):
    gzip_metadata(iceberg.location)
    meta = Path(iceberg.location, "metadata")
    numbers = sorted(int(p.name[1:].split(".")[0]) for p in meta.glob("v*.gz.metadata.json"))
    (meta / "version-hint.text").write_text(str(numbers[-2]))  # the one before the last
    got = inspect_table(iceberg.location, "iceberg")
    assert got.reader_features["metadata_location"].endswith(f"/v{numbers[-2]}.gz.metadata.json")
    assert got.table_version == iceberg.snapshots[0]


def test_version_hint_naming_a_missing_file_says_so(iceberg):
    Path(iceberg.location, "metadata", "version-hint.text").write_text("v99.metadata.json")
    with pytest.raises(TableUnreadable) as err:
        inspect_table(iceberg.location, "iceberg")
    assert "version-hint.text names 'v99.metadata.json', which does not exist" in str(err.value)
    assert "corrupt" not in str(err.value)


def test_version_hint_holding_a_file_name(iceberg):
    metas = sorted(glob.glob(os.path.join(iceberg.location, "metadata", "*.metadata.json")))
    first = next(m for m in metas if len(json.loads(Path(m).read_text()).get("snapshots", [])) == 1)
    Path(iceberg.location, "metadata", "version-hint.text").write_text(os.path.basename(first) + "\n")
    got = inspect_table(iceberg.location, "iceberg")
    assert got.table_version == iceberg.snapshots[0]


def test_version_hint_holding_a_file_name_without_its_suffix(iceberg):
    """Iceberg Java's Hadoop tables (duckdb-iceberg's `uuid` table) write the metadata file's stem,
    `00001-<uuid>`, into the hint: it names `00001-<uuid>.metadata.json`."""
    metas = sorted(glob.glob(os.path.join(iceberg.location, "metadata", "*.metadata.json")))
    first = next(m for m in metas if len(json.loads(Path(m).read_text()).get("snapshots", [])) == 1)
    stem = os.path.basename(first)[: -len(".metadata.json")]
    Path(iceberg.location, "metadata", "version-hint.text").write_text(stem)
    got = inspect_table(iceberg.location, "iceberg")
    assert got.table_version == iceberg.snapshots[0]
    assert got.reader_features["metadata_location"].endswith(os.path.basename(first))


def test_iceberg_v1_snapshots_listing_manifests_inline_are_read(tmp_path):
    """Iceberg spec v1 lets a snapshot list `manifests` instead of a `manifest-list` (Spark/Iceberg
    Java still write it; pyiceberg refuses it). The same v1 table, partition evolution included
    (manifests of two specs), inspected through its manifest lists and then through inline lists,
    gives the same document, at the current and at an older snapshot."""
    from pyiceberg.table import StaticTable
    from pyiceberg.transforms import DayTransform, IdentityTransform

    from .conftest import iceberg_catalog

    (tmp_path / "wh").mkdir()
    catalog = iceberg_catalog(str(tmp_path / "wh"), tmp_path)
    rows = pa.table({"id": pa.array(range(6), pa.int64()), "cls": ["a", "b", "a", "c", "b", "a"],
                     "ts": pa.array([dt.datetime(2024, 1, 31, 10) + dt.timedelta(hours=9 * i) for i in range(6)], pa.timestamp("us"))})
    tbl = catalog.create_table("minnie.v1", schema=rows.schema, properties={"format-version": "1"})
    tbl.append(rows.slice(0, 2))
    with tbl.update_spec() as spec:
        spec.add_field("cls", IdentityTransform(), "cls")
    tbl.append(rows.slice(2, 2))
    with tbl.update_spec() as spec:
        spec.add_field("ts", DayTransform(), "ts_day")
    tbl.append(rows.slice(4, 2))
    location = tbl.location()[len("file://"):]
    metadata = tbl.metadata_location[len("file://"):]
    before = [inspect_table(location, "iceberg", table_version=v, format_options={"metadata_location": metadata})
              for v in (None, tbl.metadata.snapshots[0].snapshot_id)]

    static = StaticTable.from_metadata(metadata)
    doc = json.loads(Path(metadata).read_text())
    assert doc["format-version"] == 1
    for snap in doc["snapshots"]:
        manifests = static.metadata.snapshot_by_id(snap["snapshot-id"]).manifests(static.io)
        snap["manifests"] = [m.manifest_path for m in manifests]
        del snap["manifest-list"]
    inline = Path(location, "metadata", "v99.metadata.json")
    inline.write_text(json.dumps(doc))
    from pyiceberg.exceptions import ValidationError

    with pytest.raises((ValueError, ValidationError)):  # the quirk: pyiceberg refuses the v1 inline layout
        StaticTable.from_metadata(str(inline))
    after = [inspect_table(location, "iceberg", table_version=v, format_options={"metadata_location": str(inline)})
             for v in (None, tbl.metadata.snapshots[0].snapshot_id)]
    for b, a in zip(before, after):
        assert (a.table_version, a.row_count, a.columns, a.partition_columns) == (b.table_version, b.row_count, b.columns, b.partition_columns)
        assert [(f.path, f.rows, f.size, f.partition) for f in a.files] == [(f.path, f.rows, f.size, f.partition) for f in b.files]
        assert a.reader_features["inline_manifests"] is True and "inline_manifests" not in b.reader_features
    assert after[0].row_count == 6 and after[1].row_count == 2
    assert {tuple(sorted(f.partition)) for f in after[0].files} == {(), ("cls",), ("cls", "ts_day")}  # three specs
    assert {"cls": "a", "ts_day": "2024-02-02"} in [f.partition for f in after[0].files]


def test_bigquery_manifest_is_read_by_the_specs_field_ids(tmp_path, monkeypatch):
    """duckdb-iceberg's BigQuery-written table, placed where its relative paths
    (`data/persistent/big_query_error/...`) resolve from the working directory, so every inspector
    reaches the manifest: its Avro metrics maps are not the spec's (pyiceberg: "list indices must be
    integers or slices, not str"). The fields read carry the spec's ids, so it is read."""
    import pyarrow.parquet as pq

    from .corpus.writers import DUCKDB_ICEBERG

    shutil.copytree(DUCKDB_ICEBERG / "big_query_error", tmp_path / "data" / "persistent" / "big_query_error")
    monkeypatch.chdir(tmp_path)
    got = inspect_table("data/persistent/big_query_error", "iceberg")
    assert [f.path for f in got.files] == [
        "data/bc12018c-b4ed-4ed8-adcb-a41cea51206d-3175699a3a6392ba-f-00000-of-00001.parquet"]
    content = pq.read_table(Path("data/persistent/big_query_error", got.files[0].path))
    assert got.row_count == got.files[0].rows == content.num_rows == 2
    assert [c.name for c in got.columns] == content.column_names
    assert got.reader_features["nonstandard_manifests"] == 1
    assert any("BigQuery" in w and "-f-00000-of-00001.avro" in w for w in got.warnings)


def test_manifest_without_the_specs_field_ids_is_refused_naming_it(tmp_path):
    """The same BigQuery manifest with `file_path` carrying another field id: reading by name would
    be a guess, so it is refused (exit 2) naming the manifest and why."""
    from .corpus.writers import DUCKDB_ICEBERG

    root = tmp_path / "bq"
    shutil.copytree(DUCKDB_ICEBERG / "big_query_error", root)
    manifest = next(root.glob("metadata/*-f-00000-of-00001.avro"))
    raw = manifest.read_bytes()
    old = b'"name":"file_path","type":["null",{"type":"string"}],"field-id":100'
    assert raw.count(old) == 1
    manifest.write_bytes(raw.replace(old, old[:-3] + b"107"))  # same length: the header stays valid
    with pytest.raises(TableUnreadable) as err:
        inspect_table(str(root), "iceberg")
    text = str(err.value)
    assert manifest.name in text and "Avro schema" in text and "BigQuery" in text, text


def test_temporal_partition_values_are_iso_strings_in_every_format(tmp_path):
    """The same date/timestamp partition in Delta, Iceberg and Hive Parquet has one JSON shape."""
    from deltalake import write_deltalake
    from pyiceberg.transforms import DayTransform, IdentityTransform

    from .conftest import iceberg_catalog

    data = pa.table({
        "id": pa.array([1, 2], pa.int64()),
        "day": pa.array([dt.date(2024, 1, 31), dt.date(2024, 2, 1)], pa.date32()),
        "ts": pa.array([dt.datetime(2024, 1, 31, 10, 30), dt.datetime(2024, 2, 1, 0, 0)], pa.timestamp("us")),
    })
    write_deltalake(str(tmp_path / "delta"), data, partition_by=["day"])
    (tmp_path / "wh").mkdir()
    catalog = iceberg_catalog(str(tmp_path / "wh"), tmp_path)
    tbl = catalog.create_table("minnie.t", schema=data.schema)
    with tbl.update_spec() as spec:
        spec.add_field("day", IdentityTransform(), "day")
        spec.add_field("ts", DayTransform(), "ts_day")
    tbl.append(data)
    delta = inspect_table(str(tmp_path / "delta"), "delta")
    ice = inspect_table(tbl.location()[len("file://"):], "iceberg")
    assert sorted(f.partition["day"] for f in delta.files) == ["2024-01-31", "2024-02-01"]
    assert sorted(f.partition["day"] for f in ice.files) == ["2024-01-31", "2024-02-01"]
    assert sorted(f.partition["ts_day"] for f in ice.files) == ["2024-01-31", "2024-02-01"]


def test_iceberg_value_rules():
    from registry.inspect.partitions import iceberg_value, normalise

    assert iceberg_value(19753, "date") == "2024-01-31"
    assert iceberg_value(-1, "int", "month") == "1969-12"
    assert iceberg_value(54, "int", "year") == "2024"
    assert iceberg_value(474082, "int", "hour") == "2024-01-31T10:00:00"
    assert iceberg_value(1706695500000000, "timestamptz") == "2024-01-31T10:05:00+00:00"
    assert iceberg_value(1706695500000000, "timestamp") == "2024-01-31T10:05:00"
    assert iceberg_value(36000000000, "time") == "10:00:00"
    assert iceberg_value(7, "int", "bucket[4]") == 7
    assert normalise("__HIVE_DEFAULT_PARTITION__") is None and normalise(b"\x01\xff") == "01ff"


# ---- Delta ----------------------------------------------------------------------------------------


def test_delta_log_without_statistics_is_counted_from_footers(tmp_path):
    from .corpus.writers import strip_delta_stats

    fixture = write_delta(str(tmp_path / "d"))
    strip_delta_stats(fixture.uri)
    got = inspect_table(fixture.uri, "delta")
    assert got.row_count == fixture.versions[-1].num_rows
    assert all(f.rows is not None for f in got.files) and sum(f.rows for f in got.files) == got.row_count
    assert got.reader_features["row_count_source"] == "footers"


def test_delta_log_error_is_one_readable_line(tmp_path):
    fixture = write_delta(str(tmp_path / "d"))
    log = Path(fixture.uri, "_delta_log", f"{1:020d}.json")
    log.write_text('{"add": {"path": 5, "size": "x"}}\n')
    with pytest.raises(TableUnreadable) as err:
        inspect_table(fixture.uri, "delta")
    text = str(err.value)
    assert "\n" not in text and "\x1b[" not in text and "<unknown>" not in text and ".rs:" not in text
    assert "failed to parse" in text and len(text) < 300 + len(fixture.uri) + 100


def test_delta_log_gap_is_summarised_without_the_debug_dump(tmp_path):
    """delta-kernel describes a missing commit with two `ParsedLogPath { location: Url { ... } }`
    debug dumps (~1 kB); the message keeps the sentence and the file names."""
    fixture = write_delta(str(tmp_path / "d"))
    from deltalake import write_deltalake

    write_deltalake(fixture.uri, fixture.versions[0].slice(0, 2), mode="append", partition_by=["split"])
    os.remove(os.path.join(fixture.uri, "_delta_log", f"{1:020d}.json"))
    with pytest.raises(TableUnreadable) as err:
        inspect_table(fixture.uri, "delta")
    text = str(err.value)
    assert "{" not in text and "cannot_be_a_base" not in text, text
    assert "gap" in text and f"{0:020d}.json" in text and f"{2:020d}.json" in text


def test_summary_drops_rust_debug_dumps():
    from registry.inspect.access import summary

    raw = (
        "Generic error: Kernel error -> Generic S3 error\n   \x1b[31m↳\x1b[0m 403 Forbidden\n"
        "   0: <unknown>\n  12: start_thread\n             at ./nptl/pthread_create.c:442:8\n"
        "ObjectStore { source: Generic { store: \"S3\", source: Error { retries: 10 } } }"
    )
    text = summary(raw)
    assert text.startswith("Generic error: Kernel error -> Generic S3 error: 403 Forbidden")
    assert "{" not in text and "<unknown>" not in text and "pthread" not in text


def test_unexpected_layout_is_bad_input_naming_the_metadata(iceberg):
    """A writer quirk a library trips over (here: a snapshot summary that is a list, not a map)
    is exit 2 with the file named, not a traceback."""
    metas = sorted(glob.glob(os.path.join(iceberg.location, "metadata", "*.metadata.json")))
    newest = metas[-1]
    doc = json.loads(Path(newest).read_text())
    doc["snapshots"][-1]["summary"] = [["operation", "append"]]
    Path(newest).write_text(json.dumps(doc))
    with pytest.raises(TableUnreadable) as err:
        inspect_table(iceberg.location, "iceberg", format_options={"metadata_location": newest})
    assert iceberg.location in str(err.value) and os.path.basename(newest) in str(err.value)
    assert "layout" in str(err.value) and "corrupt" not in str(err.value), str(err.value)


# ---- storage access errors, every format (issue 12 item 6) ------------------------------------------


def _write(fmt: str, uri: str, tmp_path: Path) -> None:
    if fmt == "parquet":
        import fsspec

        fs = fsspec.filesystem("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
        with fs.open(uri[len("s3://"):] + "/part-0.parquet", "wb") as fh:
            pq.write_table(pa.table({"id": [1, 2]}), fh)
    elif fmt == "delta":
        write_delta(uri)
    elif fmt == "iceberg":
        write_iceberg(uri.rsplit("/", 1)[0], tmp_path)
    else:
        write_lance(uri)


def _location(fmt: str, bucket: str) -> str:
    return f"s3://{bucket}/wh/minnie.db/synapses" if fmt == "iceberg" else f"s3://{bucket}/t"


@pytest.mark.s3
@pytest.mark.parametrize("fmt", ["parquet", "delta", "iceberg", "lance"])
@pytest.mark.parametrize("missing", ["endpoint", "credentials"])
def test_missing_endpoint_or_credentials_is_reported_as_such(fmt, missing, s3_bucket, tmp_path, monkeypatch):
    import fsspec

    uri = _location(fmt, s3_bucket)
    _write(fmt, uri, tmp_path)
    if missing == "endpoint":
        monkeypatch.delenv("AWS_ENDPOINT_URL")  # requests then go to AWS itself, unreachable here
    else:
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    fsspec.filesystem("s3").clear_instance_cache()
    started = time.monotonic()
    with pytest.raises(TableUnreadable) as err:
        inspect_table(uri, fmt)
    text = str(err.value)
    assert time.monotonic() - started < 60, "bounded: no minutes of retries"
    assert "corrupt" not in text and "truncated" not in text and "not a " not in text, text
    if missing == "endpoint":
        assert "cannot be reached" in text and "AWS_ENDPOINT_URL not set" in text, text
    else:
        assert "credentials" in text and "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set" in text, text


# ---- what publish writes --------------------------------------------------------------------------


def _spec(location: str, fmt: str) -> dict:
    return {
        "name": "t", "version": "1", "title": "T", "description": "d", "datastack": "minnie65_phase3_v1",
        "aligned_volume": "minnie65_phase3", "materialization": {"version": 1078}, "location": location,
        "format": fmt,
    }


def test_published_manifest_carries_the_normalised_partition_values(tmp_path):
    """The manifest (which the signer returns as is) holds ISO dates for Iceberg's day transform and
    null for a Hive default partition, with the integer type kept."""
    from pyiceberg.transforms import DayTransform

    from registry.documents import Registry
    from registry.publish import publish

    from .conftest import iceberg_catalog

    (tmp_path / "wh").mkdir()
    catalog = iceberg_catalog(str(tmp_path / "wh"), tmp_path)
    data = pa.table({"id": pa.array([1, 2], pa.int64()),
                     "ts": pa.array([dt.datetime(2024, 1, 31, 10), dt.datetime(2024, 2, 1, 9)], pa.timestamp("us"))})
    tbl = catalog.create_table("minnie.t", schema=data.schema)
    with tbl.update_spec() as spec:
        spec.add_field("ts", DayTransform(), "ts_day")
    tbl.append(data)
    registry = str(tmp_path / "registry")
    publish(_spec(tbl.location()[len("file://"):], "iceberg"), registry)
    manifest = Registry(registry).manifest("t", "1")
    assert sorted(f.partition["ts_day"] for f in manifest.files) == ["2024-01-31", "2024-02-01"]

    hive = tmp_path / "hive"
    for key in ("7", "__HIVE_DEFAULT_PARTITION__"):
        (hive / f"k={key}").mkdir(parents=True)
        pq.write_table(pa.table({"id": [1]}), hive / f"k={key}" / "p.parquet")
    spec = dict(_spec(str(hive), "parquet"), name="h")
    publish(spec, registry)
    raw = json.loads(Path(registry, "datasets", "h", "1.files.json").read_text())
    assert sorted(json.dumps(f["partition"]) for f in raw["files"]) == ['{"k": 7}', '{"k": null}']


def test_delta_footer_counts_read_footers_only(tmp_path, monkeypatch):
    """Logs without statistics: rows come from footers, and the bytes read stay a small fraction."""
    import registry.storage as storage_module
    from registry.inspect.counting import CountingFileSystem

    from .corpus.writers import strip_delta_stats

    big = pa.table({"id": pa.array(range(200_000), pa.int64()), "split": pa.array([i % 2 for i in range(200_000)], pa.int32()),
                    "v": pa.array([float(i) for i in range(200_000)])})
    from deltalake import write_deltalake

    uri = str(tmp_path / "d")
    write_deltalake(uri, big, partition_by=["split"])
    strip_delta_stats(uri)
    data_bytes = sum(p.stat().st_size for p in Path(uri).rglob("*.parquet"))
    seen: list[CountingFileSystem] = []
    real = storage_module.range_read_filesystem

    def counting(u: str):
        fs, path = real(u)
        seen.append(CountingFileSystem(fs))
        return seen[-1], path

    monkeypatch.setattr(storage_module, "range_read_filesystem", counting)
    got = inspect_table(uri, "delta")
    assert got.row_count == 200_000 and got.reader_features["row_count_source"] == "footers"
    read = sum(c.bytes_read for c in seen)
    assert 0 < read < 0.02 * data_bytes, f"read {read} of {data_bytes} bytes"


def test_cli_publish_of_an_uninspectable_table_is_exit_2_naming_the_file(tmp_path):
    """In a real process: a pin whose files were vacuumed gives exit 2, a message naming a missing
    file, no traceback, nothing written."""
    import subprocess
    import sys

    import yaml
    from deltalake import DeltaTable, write_deltalake

    fixture = write_delta(str(tmp_path / "d"))
    write_deltalake(fixture.uri, fixture.versions[0].slice(0, 3), mode="overwrite", partition_by=["split"])
    DeltaTable(fixture.uri).vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    spec = dict(_spec(fixture.uri, "delta"), table_version=0)
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    registry = tmp_path / "registry"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    done = subprocess.run(
        [sys.executable, "-m", "registry.cli", "publish", str(tmp_path / "spec.yaml"), "--registry", str(registry)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "no longer exist" in done.stderr and ".parquet" in done.stderr
    assert not (registry / "datasets").exists()


def test_gzip_metadata_under_a_name_pyiceberg_cannot_read_is_refused_clearly(iceberg):
    import gzip

    meta = Path(iceberg.location, "metadata")
    newest = max(meta.glob("*.metadata.json"), key=lambda p: int(p.name.split("-", 1)[0]))
    Path(str(newest) + ".gz").write_bytes(gzip.compress(newest.read_bytes()))
    newest.unlink()
    with pytest.raises(TableUnreadable) as err:
        inspect_table(iceberg.location, "iceberg")
    assert newest.name + ".gz" in str(err.value) and ".gz.metadata.json" in str(err.value)
