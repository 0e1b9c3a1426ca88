"""Iceberg inspection: tables written by pyiceberg (SQL catalog on sqlite), read with no catalog."""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from registry.errors import TableUnreadable
from registry.inspect import inspect_table

from .conftest import add_position_delete, synapse_like, write_iceberg


def _data_files(location: str) -> dict[str, int]:
    root = os.path.join(location, "data")
    return {
        os.path.relpath(p, location): os.path.getsize(p)
        for p in glob.glob(os.path.join(root, "**", "*.parquet"), recursive=True)
    }


def test_current_snapshot(iceberg_table):
    got = inspect_table(iceberg_table.location, "iceberg")
    assert got.table_version == iceberg_table.snapshots[-1]
    assert got.fingerprint == f"iceberg:snapshot:{iceberg_table.snapshots[-1]}"
    assert got.row_count == iceberg_table.rows[-1]
    assert {c.name: c.type for c in got.columns} == {
        "id": "int64", "pre_pt_root_id": "int64", "score": "float", "split": "int32",
    }
    assert got.partition_columns == ["split"]
    assert got.reader_features["partition_spec"] == [{"field": "split", "source": "split", "transform": "identity"}]
    assert {f.path: f.size for f in got.files} == _data_files(iceberg_table.location)
    assert sum(f.rows for f in got.files) == iceberg_table.rows[-1]
    for f in got.files:
        assert f.path.startswith(f"data/split={f.partition['split']}/")
    assert got.reader_features["delete_files"] == 0
    assert got.reader_features["faithful_file_list"] is True


def test_pin_older_snapshot(iceberg_table):
    got = inspect_table(iceberg_table.location, "iceberg", table_version=iceberg_table.snapshots[0])
    assert got.table_version == iceberg_table.snapshots[0]
    assert got.row_count == iceberg_table.rows[0]
    assert sum(f.rows for f in got.files) == iceberg_table.rows[0]


def test_pinned_snapshot_keeps_its_schema(iceberg_table):
    from pyiceberg.types import StringType

    tbl = iceberg_table.table
    with tbl.update_schema() as update:
        update.add_column("cell_type", StringType())
    data = synapse_like(5, start=100, seed=5).append_column("cell_type", pa.array(["L2/3 IT"] * 5, pa.large_string()))
    tbl.append(data)
    new = inspect_table(iceberg_table.location, "iceberg")
    old = inspect_table(iceberg_table.location, "iceberg", table_version=iceberg_table.snapshots[-1])
    assert "cell_type" in [c.name for c in new.columns]
    assert {c.name: c.type for c in new.columns}["cell_type"] == "string"  # large_string folded
    assert "cell_type" not in [c.name for c in old.columns]
    assert new.row_count == iceberg_table.rows[-1] + 5


def test_snapshot_that_does_not_exist(iceberg_table):
    with pytest.raises(TableUnreadable) as err:
        inspect_table(iceberg_table.location, "iceberg", table_version=12345)
    msg = str(err.value)
    assert "snapshot 12345 does not exist" in msg and str(iceberg_table.snapshots[-1]) in msg


def test_row_delete_observed(iceberg_table):
    """pyiceberg 0.12 deletes copy-on-write (it rewrites the files); no delete file appears."""
    iceberg_table.table.delete("id < 4")
    got = inspect_table(iceberg_table.location, "iceberg")
    assert got.row_count == iceberg_table.rows[-1] - 4
    assert got.reader_features["delete_files"] == 0


def test_position_delete_file_recorded(iceberg_table, tmp_path):
    path = add_position_delete(iceberg_table.table, tmp_path, [0, 1])
    # pyiceberg's own reader honours it: a real delete file, not just a manifest entry
    assert iceberg_table.table.refresh().scan().to_arrow().num_rows == iceberg_table.rows[-1] - 2
    got = inspect_table(iceberg_table.location, "iceberg")
    assert got.reader_features["delete_files"] == 1
    assert got.reader_features["position_delete_files"] == 1
    assert got.reader_features["faithful_file_list"] is False
    assert got.reader_features["row_count_exact"] is False
    assert path.rsplit("/", 1)[-1] not in [f.path.rsplit("/", 1)[-1] for f in got.files]  # data files only
    assert any("delete file" in w for w in got.warnings)


def test_never_reads_data_files(iceberg_table):
    before = inspect_table(iceberg_table.location, "iceberg")
    shutil.rmtree(os.path.join(iceberg_table.location, "data"))
    after = inspect_table(iceberg_table.location, "iceberg")
    assert after.files == before.files and after.row_count == before.row_count


def test_metadata_location_option(iceberg_table):
    metas = sorted(glob.glob(os.path.join(iceberg_table.location, "metadata", "*.metadata.json")))
    # the metadata file written with the first append knows only the first snapshot
    first = next(m for m in metas if _snapshot_count(m) == 1)
    got = inspect_table(iceberg_table.location, "iceberg", format_options={"metadata_location": first})
    assert got.table_version == iceberg_table.snapshots[0]
    relative = "metadata/" + os.path.basename(first)
    again = inspect_table(iceberg_table.location, "iceberg", format_options={"metadata_location": relative})
    assert again.table_version == iceberg_table.snapshots[0]


def _snapshot_count(path: str) -> int:
    import json

    return len(json.loads(Path(path).read_text()).get("snapshots", []))


def test_version_hint(iceberg_table):
    metas = glob.glob(os.path.join(iceberg_table.location, "metadata", "*.metadata.json"))
    first = next(m for m in metas if _snapshot_count(m) == 1)
    number = int(os.path.basename(first).split("-", 1)[0])
    Path(iceberg_table.location, "metadata", "version-hint.text").write_text(f"{number}\n")
    got = inspect_table(iceberg_table.location, "iceberg")
    assert got.table_version == iceberg_table.snapshots[0]


def test_missing_metadata_location_option(iceberg_table):
    with pytest.raises(TableUnreadable, match="metadata_location .* does not exist"):
        inspect_table(iceberg_table.location, "iceberg", format_options={"metadata_location": "metadata/nope.metadata.json"})


def test_missing_location(tmp_path):
    with pytest.raises(TableUnreadable, match="does not exist"):
        inspect_table(str(tmp_path / "nothing"), "iceberg")


def test_directory_that_is_not_iceberg(tmp_path, delta_table):
    with pytest.raises(TableUnreadable, match="not an Iceberg table"):
        inspect_table(delta_table.uri, "iceberg")
    (tmp_path / "t" / "metadata").mkdir(parents=True)
    (tmp_path / "t" / "metadata" / "notes.txt").write_text("hello")
    with pytest.raises(TableUnreadable, match="not an Iceberg table"):
        inspect_table(str(tmp_path / "t"), "iceberg")


def test_corrupt_metadata(iceberg_table):
    metas = glob.glob(os.path.join(iceberg_table.location, "metadata", "*.metadata.json"))
    newest = max(metas, key=lambda m: int(os.path.basename(m).split("-", 1)[0]))
    Path(newest).write_text(Path(newest).read_text()[:200])
    with pytest.raises(TableUnreadable) as err:
        inspect_table(iceberg_table.location, "iceberg")
    assert iceberg_table.location in str(err.value) and "corrupt" in str(err.value)


def test_missing_manifest_list(iceberg_table):
    for p in glob.glob(os.path.join(iceberg_table.location, "metadata", "snap-*.avro")):
        os.remove(p)
    with pytest.raises(TableUnreadable, match="manifests"):
        inspect_table(iceberg_table.location, "iceberg")


def test_data_file_outside_location(iceberg_table, tmp_path):
    metas = glob.glob(os.path.join(iceberg_table.location, "metadata", "*.metadata.json"))
    newest = max(metas, key=lambda m: int(os.path.basename(m).split("-", 1)[0]))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(TableUnreadable, match="outside the table location") as err:
        inspect_table(str(elsewhere), "iceberg", format_options={"metadata_location": newest})
    assert ".parquet" in str(err.value)


@pytest.mark.s3
def test_on_s3(s3_bucket, tmp_path):
    fixture = write_iceberg(f"s3://{s3_bucket}/warehouse", tmp_path)
    assert fixture.location.startswith(f"s3://{s3_bucket}/")
    got = inspect_table(fixture.location, "iceberg")
    assert got.table_version == fixture.snapshots[-1]
    assert got.row_count == fixture.rows[-1]
    assert got.partition_columns == ["split"]
    old = inspect_table(fixture.location, "iceberg", table_version=fixture.snapshots[0])
    assert old.row_count == fixture.rows[0]

    import boto3

    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
    prefix = fixture.location.split(f"{s3_bucket}/", 1)[1] + "/"
    listed = s3.list_objects_v2(Bucket=s3_bucket, Prefix=prefix + "data/")["Contents"]
    assert {f.path: f.size for f in got.files} == {o["Key"][len(prefix):]: o["Size"] for o in listed}


@pytest.mark.s3
def test_missing_on_s3(s3_bucket):
    with pytest.raises(TableUnreadable, match="does not exist"):
        inspect_table(f"s3://{s3_bucket}/warehouse/minnie/none", "iceberg")
