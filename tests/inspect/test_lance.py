"""Lance inspection: datasets written by pylance, locally and on the moto S3 server."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from registry.errors import TableUnreadable
from registry.inspect import inspect_table

from .conftest import write_lance


def _data_files(root: str) -> dict[str, int]:
    data = os.path.join(root, "data")
    return {f"data/{n}": os.path.getsize(os.path.join(data, n)) for n in os.listdir(data)}


def test_latest_version(lance_table):
    got = inspect_table(lance_table.uri, "lance")
    assert got.table_version == 3 and got.fingerprint == "lance:v3"
    assert got.row_count == lance_table.rows[-1]
    assert {c.name: c.type for c in got.columns} == {"id": "int64", "embedding": "fixed_size_list<float>[8]"}
    assert {f.path: f.size for f in got.files} == _data_files(lance_table.uri)
    assert got.bytes == sum(_data_files(lance_table.uri).values())
    assert sum(f.rows for f in got.files) == lance_table.rows[1]  # physical rows, deletions not applied
    rf = got.reader_features
    assert rf["needs_credentials"] is True
    assert rf["fragments"] == 4
    assert rf["deletion_files"] == 1 and rf["deleted_rows"] == 7
    assert rf["faithful_file_list"] is False
    assert got.partition_columns == []


def test_pin_older_versions(lance_table):
    for version, rows in zip((1, 2), lance_table.rows):
        got = inspect_table(lance_table.uri, "lance", table_version=version)
        assert got.table_version == version and got.row_count == rows
        assert got.reader_features["deletion_files"] == 0
        assert got.reader_features["faithful_file_list"] is True
    assert inspect_table(lance_table.uri, "lance", table_version=1).file_count == 3


def test_row_count_agrees_with_lance(lance_table):
    import lance

    for version in (1, 2, 3):
        got = inspect_table(lance_table.uri, "lance", table_version=version)
        assert got.row_count == lance.dataset(lance_table.uri, version=version).count_rows()


def test_never_reads_data_files(lance_table):
    before = inspect_table(lance_table.uri, "lance")
    shutil.rmtree(os.path.join(lance_table.uri, "data"))
    shutil.rmtree(os.path.join(lance_table.uri, "_deletions"))
    after = inspect_table(lance_table.uri, "lance")
    assert after.files == before.files and after.row_count == before.row_count


def test_version_that_does_not_exist(lance_table):
    with pytest.raises(TableUnreadable) as err:
        inspect_table(lance_table.uri, "lance", table_version=42)
    assert "version 42" in str(err.value) and "latest is 3" in str(err.value)


def test_missing_location(tmp_path):
    with pytest.raises(TableUnreadable, match="does not exist"):
        inspect_table(str(tmp_path / "nothing.lance"), "lance")


def test_directory_that_is_not_lance(delta_table):
    with pytest.raises(TableUnreadable, match="not a Lance dataset"):
        inspect_table(delta_table.uri, "lance")


def test_corrupt_manifest(lance_table):
    versions = Path(lance_table.uri, "_versions")
    for manifest in versions.iterdir():
        manifest.write_bytes(manifest.read_bytes()[:40])
    with pytest.raises(TableUnreadable) as err:
        inspect_table(lance_table.uri, "lance")
    msg = str(err.value)
    assert lance_table.uri in msg and "rust/" not in msg


@pytest.mark.s3
def test_on_s3(s3_bucket):
    uri = f"s3://{s3_bucket}/minnie65_phase3_v1/embeddings.lance"
    fixture = write_lance(uri)
    got = inspect_table(uri, "lance")
    assert got.row_count == fixture.rows[-1]
    assert inspect_table(uri, "lance", table_version=1).row_count == fixture.rows[0]

    import boto3

    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
    listed = s3.list_objects_v2(Bucket=s3_bucket, Prefix="minnie65_phase3_v1/embeddings.lance/data/")["Contents"]
    objects = {o["Key"].split("embeddings.lance/", 1)[1]: o["Size"] for o in listed}
    assert {f.path: f.size for f in got.files} == objects


@pytest.mark.s3
def test_missing_on_s3(s3_bucket):
    with pytest.raises(TableUnreadable, match="does not exist"):
        inspect_table(f"s3://{s3_bucket}/none.lance", "lance")
