"""Delta Lake inspection: tables written by deltalake, locally and on the moto S3 server."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from registry.errors import BadInput, TableUnreadable
from registry.inspect import inspect_table

from .conftest import add_deletion_vector, write_delta


def _data_files(root: str) -> dict[str, int]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "_delta_log"]
        for name in filenames:
            if name.endswith(".parquet"):
                full = os.path.join(dirpath, name)
                out[os.path.relpath(full, root)] = os.path.getsize(full)
    return out


def test_latest_version_schema_rows_partitions_files(delta_table):
    got = inspect_table(delta_table.uri, "delta")
    expected = delta_table.versions[-1]
    assert got.table_version == 1
    assert got.fingerprint == "delta:v1"
    assert [c.name for c in got.columns] == expected.schema.names
    types = {c.name: c.type for c in got.columns}
    assert types == {"id": "int64", "pre_pt_root_id": "int64", "score": "float", "split": "int32"}
    assert got.row_count == expected.num_rows
    assert got.partition_columns == ["split"]
    # the manifest is exactly the Parquet files on disk, with their sizes, relative to the location
    assert {f.path: f.size for f in got.files} == _data_files(delta_table.uri)
    assert got.bytes == sum(_data_files(delta_table.uri).values())
    # partition values per file: the rows of each file come from that split only
    per_split: dict[int, int] = {}
    for f in got.files:
        assert f.path.startswith(f"split={f.partition['split']}/")
        per_split[f.partition["split"]] = per_split.get(f.partition["split"], 0) + f.rows
    counts = pa.table({"s": expected.column("split")}).group_by("s").aggregate([("s", "count")]).to_pylist()
    assert per_split == {r["s"]: r["s_count"] for r in counts}
    assert got.reader_features["faithful_file_list"] is True
    assert got.reader_features["deletion_vectors"] is False
    assert got.reader_features["column_mapping"] is None


def test_pin_older_version(delta_table):
    got = inspect_table(delta_table.uri, "delta", table_version=0)
    assert got.table_version == 0 and got.fingerprint == "delta:v0"
    assert got.row_count == delta_table.versions[0].num_rows
    assert got.file_count < inspect_table(delta_table.uri, "delta").file_count


def test_version_that_does_not_exist_names_latest(delta_table):
    with pytest.raises(TableUnreadable) as err:
        inspect_table(delta_table.uri, "delta", table_version=7)
    assert "version 7" in str(err.value) and "latest is 1" in str(err.value)
    assert isinstance(err.value, BadInput)


def test_negative_version_is_bad_input(delta_table):
    with pytest.raises(TableUnreadable, match="non-negative"):
        inspect_table(delta_table.uri, "delta", table_version=-1)


def test_never_reads_data_files(delta_table):
    """Metadata only: with every data file's content replaced by zeros (same names and sizes, so
    the listing that checks they exist still finds them), inspection gives the same answer."""
    before = inspect_table(delta_table.uri, "delta")
    for rel in _data_files(delta_table.uri):
        path = os.path.join(delta_table.uri, rel)
        size = os.path.getsize(path)
        with open(path, "wb") as fh:
            fh.write(b"\0" * size)
    after = inspect_table(delta_table.uri, "delta")
    assert after.files == before.files and after.row_count == before.row_count


def test_version_whose_files_were_vacuumed_is_refused_naming_a_file(delta_table):
    """A pin older than a VACUUM lists files that are gone: exit 2 naming one, not a silent publish."""
    from deltalake import DeltaTable, write_deltalake

    write_deltalake(delta_table.uri, delta_table.versions[-1].slice(0, 5), mode="overwrite", partition_by=["split"])
    DeltaTable(delta_table.uri).vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    assert inspect_table(delta_table.uri, "delta").row_count == 5  # the latest version is fine
    with pytest.raises(TableUnreadable) as err:
        inspect_table(delta_table.uri, "delta", table_version=1)
    text = str(err.value)
    latest = DeltaTable(delta_table.uri).version()  # vacuum commits its own versions
    assert "version 1" in text and "no longer exist" in text and ".parquet" in text and f"latest is {latest}" in text


def test_file_uri_location(delta_table):
    got = inspect_table("file://" + delta_table.uri, "delta")
    assert got.row_count == delta_table.versions[-1].num_rows


def test_partition_values_with_special_characters(tmp_path):
    """Delta URL-encodes paths in the log; the manifest names the real objects."""
    from deltalake import write_deltalake

    uri = str(tmp_path / "labels")
    write_deltalake(uri, pa.table({"id": [1, 2, 3], "cell_type": ["L2/3 IT", "a=b", "5P-ET%"]}), partition_by=["cell_type"])
    got = inspect_table(uri, "delta")
    assert {f.partition["cell_type"] for f in got.files} == {"L2/3 IT", "a=b", "5P-ET%"}
    for f in got.files:
        assert os.path.exists(os.path.join(uri, f.path)), f.path


def test_column_mapping_recorded(tmp_path):
    uri = str(tmp_path / "mapped")
    write_delta(uri, configuration={"delta.columnMapping.mode": "name"})
    got = inspect_table(uri, "delta")
    assert got.reader_features["column_mapping"] == "name"
    assert got.reader_features["faithful_file_list"] is False
    assert [c.name for c in got.columns] == ["id", "pre_pt_root_id", "score", "split"]
    assert {f.partition["split"] for f in got.files} == {0, 1, 2}  # logical names, not physical
    assert any("column mapping" in w for w in got.warnings)


def test_deletion_vector_feature_without_deleted_rows(tmp_path):
    """deltalake enables the feature but its own deletes rewrite files: the list stays faithful."""
    from deltalake import DeltaTable

    uri = str(tmp_path / "dv")
    fixture = write_delta(uri, partition_by=None, configuration={"delta.enableDeletionVectors": "true"})
    DeltaTable(uri).delete("id < 5")
    got = inspect_table(uri, "delta")
    assert got.reader_features["deletion_vectors"] is True
    assert "deletionVectors" in got.reader_features["reader_features"]
    assert got.reader_features["deletion_vector_files"] == 0
    assert got.reader_features["faithful_file_list"] is True
    assert got.row_count == fixture.versions[-1].num_rows - 5


def test_deletion_vectors_counted(tmp_path):
    uri = str(tmp_path / "dv")
    fixture = write_delta(uri, partition_by=None, configuration={"delta.enableDeletionVectors": "true"})
    path = add_deletion_vector(uri, [0, 2, 4])
    got = inspect_table(uri, "delta")
    assert got.table_version == 2
    assert got.reader_features["deletion_vector_files"] == 1
    assert got.reader_features["deleted_rows"] == 3
    assert got.reader_features["faithful_file_list"] is False
    assert got.row_count == fixture.versions[-1].num_rows - 3
    marked = next(f for f in got.files if f.path == path)
    assert marked.rows is not None  # the manifest keeps what the file physically holds
    assert any("deletion vectors" in w for w in got.warnings)


def test_missing_location(tmp_path):
    with pytest.raises(TableUnreadable, match="does not exist"):
        inspect_table(str(tmp_path / "nothing"), "delta")


def test_directory_that_is_not_delta(tmp_path):
    import pyarrow.parquet as pq

    (tmp_path / "plain").mkdir()
    pq.write_table(pa.table({"a": [1]}), tmp_path / "plain" / "part-0.parquet")
    with pytest.raises(TableUnreadable, match="not a Delta table"):
        inspect_table(str(tmp_path / "plain"), "delta")


def test_corrupt_log(delta_table):
    log = Path(delta_table.uri) / "_delta_log" / f"{1:020d}.json"
    log.write_text(log.read_text()[:57])  # truncated mid-JSON
    with pytest.raises(TableUnreadable) as err:
        inspect_table(delta_table.uri, "delta")
    assert delta_table.uri in str(err.value)
    assert "Traceback" not in str(err.value)


def test_empty_log_directory(tmp_path):
    (tmp_path / "t" / "_delta_log").mkdir(parents=True)
    with pytest.raises(TableUnreadable) as err:
        inspect_table(str(tmp_path / "t"), "delta")
    assert str(tmp_path / "t") in str(err.value)


def test_progress_reported(delta_table):
    calls = []
    got = inspect_table(delta_table.uri, "delta", progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (got.file_count, got.file_count)


@pytest.mark.s3
def test_on_s3(s3_bucket):
    uri = f"s3://{s3_bucket}/minnie65_phase3_v1/v1078/synapse_features"
    fixture = write_delta(uri)
    got = inspect_table(uri, "delta")
    assert got.row_count == fixture.versions[-1].num_rows
    assert got.partition_columns == ["split"]
    old = inspect_table(uri, "delta", table_version=0)
    assert old.row_count == fixture.versions[0].num_rows

    import boto3

    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
    listed = s3.list_objects_v2(Bucket=s3_bucket, Prefix="minnie65_phase3_v1/v1078/synapse_features/")["Contents"]
    objects = {o["Key"].split("synapse_features/", 1)[1]: o["Size"] for o in listed if o["Key"].endswith(".parquet")}
    assert {f.path: f.size for f in got.files} == objects


@pytest.mark.s3
def test_missing_on_s3(s3_bucket):
    with pytest.raises(TableUnreadable, match="does not exist"):
        inspect_table(f"s3://{s3_bucket}/nothing/here", "delta")
