"""`Store.list_stamps`: the change marker a rebuild compares instead of reading each document
(S3 ETag + last-modified on moto, local inode + mtime_ns + size; GCS in test_gcs.py)."""

from __future__ import annotations

import os

from registry.storage import Store


def _check(store: Store) -> None:
    store.write("datasets/a/v1.json", b'{"x": 1}')
    store.write("datasets/b/v1.json", b'{"x": 2}')
    store.write("datasets/b/notes.txt", b"not listed")
    first = store.list_stamps("datasets", ".json")
    assert sorted(first) == ["datasets/a/v1.json", "datasets/b/v1.json"]
    assert all(size == 8 and stamp for size, stamp in first.values())
    assert store.list_stamps("datasets", ".json") == first
    store.write("datasets/a/v1.json", b'{"x": 9}')  # same size, other bytes
    second = store.list_stamps("datasets", ".json")
    assert second["datasets/a/v1.json"][1] != first["datasets/a/v1.json"][1]
    assert second["datasets/b/v1.json"] == first["datasets/b/v1.json"]
    assert store.list_stamps("nothing-here", ".json") == {}
    # `keep`: only the paths it accepts, with the same stamps (locally the others are not stat'ed)
    store.write("datasets/b/v1.files.json", b"[]")
    kept = store.list_stamps("datasets", ".json", keep=lambda rel: not rel.endswith(".files.json"))
    assert kept == second
    assert "datasets/b/v1.files.json" in store.list_stamps("datasets", ".json")


def test_local_stamps(tmp_path):
    for d in ("a", "b"):
        (tmp_path / "reg" / "datasets" / d).mkdir(parents=True)
    store = Store(str(tmp_path / "reg"))
    _check(store)
    # the same paths and sizes as fsspec's listing, which the full read uses
    assert {p: s for p, (s, _st) in store.list_stamps("datasets", ".json").items()} == \
        store.list_sizes("datasets", ".json")
    before = store.list_stamps("datasets", ".json")["datasets/b/v1.json"]
    path = tmp_path / "reg" / "datasets" / "b" / "v1.json"
    st = path.stat()
    path.write_bytes(b'{"x": 7}')  # rewritten in place, same size, mtime set back: ctime still moves
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert store.list_stamps("datasets", ".json")["datasets/b/v1.json"] != before


def test_s3_stamps(s3_bucket):
    _check(Store(f"s3://{s3_bucket}/reg"))


def test_memory_store_gives_no_stamps():
    store = Store("memory://stamps-test")
    store.write("datasets/a/v1.json", b"{}")
    assert store.list_stamps("datasets", ".json") == {"datasets/a/v1.json": (2, None)}
