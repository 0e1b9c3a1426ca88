"""Inspection reads footers, never the data: proven by counting every byte read."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest

import registry.inspect.parquet as parquet_inspector
from registry.inspect import inspect_table
from registry.inspect.counting import CountingFileSystem

from .conftest import write_hive_parquet


@pytest.fixture
def counted(monkeypatch):
    """Route the Parquet inspector's storage through a byte counter."""
    seen: list[CountingFileSystem] = []
    real = parquet_inspector.range_read_filesystem

    def counting_filesystem(uri: str, **kw):
        fs, path = real(uri, **kw)
        wrapped = CountingFileSystem(fs)
        seen.append(wrapped)
        return wrapped, path

    monkeypatch.setattr(parquet_inspector, "range_read_filesystem", counting_filesystem)
    return seen


def test_multi_file_parquet_inspection_reads_only_footers(tmp_path, counted):
    root = tmp_path / "t"
    rows = write_hive_parquet(str(root), splits=4, files_per_split=15, rows=10000)
    data_bytes = sum(p.stat().st_size for p in Path(root).rglob("*.parquet"))
    found = inspect_table(str(root), "parquet")
    assert found.row_count == rows and found.file_count == 60
    read = counted[0].bytes_read
    assert 0 < read < 0.02 * data_bytes, f"read {read} of {data_bytes} bytes"
    # One tail read per file (two for the first), not one per column chunk or page.
    assert counted[0].requests <= 60 + 1


@pytest.mark.s3
def test_metadata_only_on_s3(s3_bucket, counted):
    import os

    fs = fsspec.filesystem("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    rows = write_hive_parquet(f"{s3_bucket}/t", filesystem=fs, splits=2, files_per_split=10, rows=20000)
    data_bytes = sum(fs.du(f"{s3_bucket}/t", total=False).values())
    found = inspect_table(f"s3://{s3_bucket}/t", "parquet")
    assert found.row_count == rows and found.file_count == 20
    assert 0 < counted[0].bytes_read < 0.02 * data_bytes


def test_large_footer_is_fetched_exactly(tmp_path, counted):
    """A footer bigger than the 64 KiB tail (wide schema) is re-read at its exact size."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    wide = pa.table({f"feature_{i:04d}_with_a_long_descriptive_name": pa.array([1.0, 2.0]) for i in range(1500)})
    pq.write_table(wide, tmp_path / "wide.parquet")
    found = inspect_table(str(tmp_path / "wide.parquet"), "parquet")
    assert len(found.columns) == 1500 and found.row_count == 2
    assert counted[0].requests == 2  # the 8-byte trailer, then exactly the footer
