#!/usr/bin/env python
"""Inspection cost: time and bytes read for a 1,000-file Parquet dataset and a Delta table with
1,000 add actions, on the local disk and on an S3 API server (moto, loopback).

    python bench/inspect_tables.py [--files 1000] [--rows 5000] [--repeat 3]

Targets (issue 2): under 3 s for 1,000 files on the S3 server, bytes read under 2% of the data.
Prints a Markdown table to paste into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import registry.inspect.parquet as parquet_inspector  # noqa: E402
from registry.inspect import inspect_table  # noqa: E402
from registry.inspect.counting import CountingFileSystem  # noqa: E402


def table(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({
        "id": np.arange(n, dtype="int64") + seed * n,
        "pre_pt_root_id": rng.integers(10**17, 10**18, n),
        "post_pt_root_id": rng.integers(10**17, 10**18, n),
        "ctr_pt_position_x": rng.integers(0, 400_000, n, dtype="int32"),
        "ctr_pt_position_y": rng.integers(0, 300_000, n, dtype="int32"),
        "ctr_pt_position_z": rng.integers(0, 30_000, n, dtype="int32"),
        "score": rng.random(n),
        "size": rng.integers(10, 5000, n, dtype="int32"),
    })


def write_parquet(fs, root: str, files: int, rows: int) -> int:
    total = 0
    for i in range(files):
        path = f"{root}/split={i % 10}/part-{i:05d}.parquet"
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        with fs.open(path, "wb") as fh:
            pq.write_table(table(rows, i), fh)
        total += fs.size(path)
    return total


def write_delta(uri: str, files: int, rows: int, storage_options: dict) -> int:
    from deltalake import write_deltalake

    # One partition value per chunk: 1,000 add actions in a single commit.
    parts = [table(rows, i).append_column("chunk", pa.array([i] * rows, pa.int32())) for i in range(files)]
    t = pa.concat_tables(parts)
    write_deltalake(uri, t, storage_options=storage_options, partition_by=["chunk"])
    return t.nbytes


def timed(fn, repeat: int):
    """Median of `repeat` runs (the range is printed too: a shared 2-core machine is noisy)."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def measure_parquet(uri: str, repeat: int):
    """Wall times, plus bytes read and requests made (through a counting wrapper)."""
    counters = []
    real = parquet_inspector.range_read_filesystem

    def counting(u, **kw):
        fs, p = real(u, **kw)
        counters.append(CountingFileSystem(fs))
        return counters[-1], p

    parquet_inspector.range_read_filesystem = counting
    try:
        seconds, found = timed(lambda: inspect_table(uri, "parquet"), repeat)
        if hasattr(counters[-1]._fs, "fallback_reason") and counters[-1]._fs.fallback_reason:
            raise SystemExit(f"obstore fell back to s3fs: {counters[-1]._fs.fallback_reason}")
    finally:
        parquet_inspector.range_read_filesystem = real
    return seconds, found, counters[-1].bytes_read, counters[-1].requests


def start_s3_server(stock: bool) -> tuple[subprocess.Popen, str]:
    """moto in its own process (in ours it would share the GIL with the code being measured)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "tests.s3_server", "--port", str(port)] + (["--stock"] if stock else [])
    server = subprocess.Popen(cmd, cwd=REPO)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return server, f"http://127.0.0.1:{port}"


def measure_s3(args: argparse.Namespace, stock: bool) -> list[tuple]:
    """Parquet through obstore and through s3fs, and Delta, on one moto server."""
    import boto3
    import fsspec

    from registry.storage import object_store_options

    server, endpoint = start_s3_server(stock)
    label = "S3 server (stock moto)" if stock else "S3 server"
    os.environ.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench",
                       "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"})
    fsspec.filesystem("s3").clear_instance_cache()
    out = []
    try:
        boto3.client("s3").create_bucket(Bucket="bench")
        s3 = fsspec.filesystem("s3", endpoint_url=endpoint)
        data = write_parquet(s3, "bench/pq", args.files, args.rows)
        for reader in ("obstore", "fsspec"):
            os.environ["FEATURE_REGISTRY_RANGE_READS"] = reader
            s, found, read, reqs = measure_parquet("s3://bench/pq", args.repeat)
            out.append((f"Parquet, {label}, footers via {'obstore' if reader == 'obstore' else 's3fs'}",
                        args.files, data, s, read, found.row_count))
        os.environ.pop("FEATURE_REGISTRY_RANGE_READS")
        delta_bytes = write_delta("s3://bench/delta", args.files, args.rows, object_store_options("s3://bench/delta"))
        s, found = timed(lambda: inspect_table("s3://bench/delta", "delta"), args.repeat)
        log = sum(s3.du("bench/delta/_delta_log", total=False).values())
        out.append((f"Delta, {label}", found.file_count, delta_bytes, s, log, found.row_count))
    finally:
        server.kill()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import fsspec

    rows_out = []
    with tempfile.TemporaryDirectory() as tmp:
        local = fsspec.filesystem("file")
        data = write_parquet(local, f"{tmp}/pq", args.files, args.rows)
        s, found, read, reqs = measure_parquet(f"{tmp}/pq", args.repeat)
        rows_out.append(("Parquet, local", args.files, data, s, read, found.row_count))
        delta_bytes = write_delta(f"{tmp}/delta", args.files, args.rows, {})
        s, found = timed(lambda: inspect_table(f"{tmp}/delta", "delta"), args.repeat)
        log = sum(p.stat().st_size for p in Path(tmp, "delta", "_delta_log").rglob("*") if p.is_file())
        rows_out.append(("Delta, local", found.file_count, delta_bytes, s, log, found.row_count))

    for stock in (False, True):
        rows_out.extend(measure_s3(args, stock=stock))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"date {time.strftime('%Y-%m-%d')}; median of {args.repeat}")
    print("| table | files | data bytes | inspect time, median (range) | bytes read | read / data | rows |")
    print("|---|---|---|---|---|---|---|")
    for name, files, data, s, read, rows in rows_out:
        spread = f"{statistics.median(s):.2f} s ({min(s):.2f}–{max(s):.2f})"
        print(f"| {name} | {files} | {data / 1e6:.1f} MB | {spread} | {read / 1e6:.2f} MB | {100 * read / data:.2f}% | {rows:,} |")
    print("(Delta: bytes read is the size of the _delta_log, all that delta-rs reads; data bytes are Arrow bytes.)")


if __name__ == "__main__":
    main()
