"""Footer reads on S3 go through obstore, give the same answers as s3fs, and fall back to it."""

from __future__ import annotations

import asyncio
import os

import fsspec
import pytest

from registry.errors import TableUnreadable
from registry.inspect import inspect_table
from registry.range_reads import FastRangeReads
from registry.storage import object_store_options, range_read_filesystem

from .conftest import write_hive_parquet

pytestmark = pytest.mark.s3


@pytest.fixture
def s3fs_fs(s3_env):
    return fsspec.filesystem("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def _forbid_s3fs_reads(monkeypatch, fs) -> None:
    """Make s3fs unable to serve range reads, so any success must have come from obstore."""

    def refuse(*args, **kwargs):
        raise AssertionError("s3fs was asked for a range read")

    monkeypatch.setattr(type(fs), "cat_ranges", refuse)
    monkeypatch.setattr(type(fs), "cat_file", refuse)


def test_s3_uses_obstore_and_agrees_with_s3fs(s3_bucket, s3fs_fs, monkeypatch):
    write_hive_parquet(f"{s3_bucket}/t", filesystem=s3fs_fs, splits=3, files_per_split=4, rows=700)
    uri = f"s3://{s3_bucket}/t"

    monkeypatch.setenv("FEATURE_REGISTRY_RANGE_READS", "fsspec")
    fs, _ = range_read_filesystem(uri)
    assert not isinstance(fs, FastRangeReads)
    through_s3fs = inspect_table(uri, "parquet")

    monkeypatch.delenv("FEATURE_REGISTRY_RANGE_READS")
    fs, _ = range_read_filesystem(uri)
    assert isinstance(fs, FastRangeReads)
    with monkeypatch.context() as m:
        _forbid_s3fs_reads(m, fs._fs)
        through_obstore = inspect_table(uri, "parquet")

    assert through_obstore.row_count == through_s3fs.row_count == 12 * 700
    assert through_obstore.files == through_s3fs.files
    assert through_obstore.fingerprint == through_s3fs.fingerprint
    assert [c.name for c in through_obstore.columns] == [c.name for c in through_s3fs.columns]


def test_ranges_match_the_bytes(s3_bucket, s3fs_fs):
    payload = bytes(range(256)) * 40
    s3fs_fs.pipe(f"{s3_bucket}/blob.bin", payload)
    fs = FastRangeReads(s3fs_fs, object_store_options(f"s3://{s3_bucket}"))
    paths = [f"{s3_bucket}/blob.bin", f"s3://{s3_bucket}/blob.bin", f"{s3_bucket}/blob.bin"]
    out = fs.cat_ranges(paths, [0, 100, 5000], [10, 356, 10240])
    assert out == [payload[0:10], payload[100:356], payload[5000:10240]]
    assert fs.cat_file(f"{s3_bucket}/blob.bin", start=10230, end=10240) == payload[-10:]
    assert fs.fallback_reason is None


def test_missing_object_is_file_not_found_not_a_fallback(s3_bucket, s3fs_fs):
    s3fs_fs.pipe(f"{s3_bucket}/here.bin", b"x" * 100)
    fs = FastRangeReads(s3fs_fs, object_store_options(f"s3://{s3_bucket}"))
    out = fs.cat_ranges([f"{s3_bucket}/here.bin", f"{s3_bucket}/gone.bin"], [0, 0], [10, 10])
    assert out[0] == b"x" * 10 and isinstance(out[1], FileNotFoundError)
    with pytest.raises(FileNotFoundError):
        fs.cat_file(f"{s3_bucket}/gone.bin", start=0, end=10)
    assert fs.fallback_reason is None


def test_unreachable_obstore_falls_back_to_s3fs(s3_bucket, s3fs_fs):
    """A store obstore cannot reach (here: a closed port) is read by s3fs, with the same bytes."""
    s3fs_fs.pipe(f"{s3_bucket}/blob.bin", b"0123456789")
    options = {**object_store_options(f"s3://{s3_bucket}"), "aws_endpoint": "http://127.0.0.1:9"}
    fs = FastRangeReads(s3fs_fs, options)
    assert fs.cat_file(f"{s3_bucket}/blob.bin", start=2, end=5) == b"234"
    assert fs.fallback_reason is not None
    # Once fallen back, it stays with s3fs.
    assert fs.cat_ranges([f"{s3_bucket}/blob.bin"], [0], [3]) == [b"012"]


def test_works_inside_a_running_event_loop(s3_bucket, s3fs_fs):
    """Notebooks run an event loop: publishing from one must not fail with 'loop is running'."""
    s3fs_fs.pipe(f"{s3_bucket}/blob.bin", b"abcdef")
    fs = FastRangeReads(s3fs_fs, object_store_options(f"s3://{s3_bucket}"))

    async def inside() -> bytes:
        return fs.cat_file(f"{s3_bucket}/blob.bin", start=1, end=4)

    assert asyncio.run(inside()) == b"bcd"
    assert fs.fallback_reason is None


def test_truncated_file_on_s3_names_the_file(s3_bucket, s3fs_fs):
    write_hive_parquet(f"{s3_bucket}/t", filesystem=s3fs_fs, splits=1, files_per_split=3, rows=300)
    victim = f"{s3_bucket}/t/split=0/part-1.parquet"
    s3fs_fs.pipe(victim, s3fs_fs.cat_file(victim)[:-100])
    with pytest.raises(TableUnreadable, match="part-1.parquet"):
        inspect_table(f"s3://{s3_bucket}/t", "parquet")


def test_credentials_from_a_profile_reach_obstore(s3_bucket, s3fs_fs, tmp_path, monkeypatch):
    """No keys in the environment: obstore asks boto3's chain (here a shared credentials file)."""
    s3fs_fs.pipe(f"{s3_bucket}/blob.bin", b"profile-read")
    (tmp_path / "credentials").write_text("[lab]\naws_access_key_id = fromprofile\naws_secret_access_key = s\n")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_PROFILE", "lab")
    options = object_store_options(f"s3://{s3_bucket}")
    assert "aws_access_key_id" not in options
    fs = FastRangeReads(s3fs_fs, options)
    assert fs.cat_file(f"{s3_bucket}/blob.bin", start=0, end=7) == b"profile"
    assert fs.fallback_reason is None
    provider = fs._stores[s3_bucket].credential_provider
    assert provider()["access_key_id"] == "fromprofile"
