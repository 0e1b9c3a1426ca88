"""Layouts and pruning at scale: "all synapses onto one root id" through the client, with the
layout ordered by `post_pt_root_id` and per-file min/max pruning vs the id-ordered copy without
pruning; plus time to first row for DuckDB, Spark and Ray on the same table.

Everything runs on 127.0.0.1: the moto S3 server (as the tests run it), the CAVE auth stand-in, the
signer under functions-framework. The synthetic table has `--rows` rows in `--files` Parquet files
per copy; row (r, j) has post root r and id j*R + r, so the id-ordered copy holds every root in
every file (a full scan), while the root-ordered copy holds each root in one file.

    .venv/bin/python bench/layouts.py                       # 50M rows, 256 files per copy
    .venv/bin/python bench/layouts.py --rows 2000000 --no-engines
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BASE_ROOT = 864691136000000000


def columns(ids, roots):
    import numpy as np
    import pyarrow as pa

    h = (ids * 2654435761) % (2**31)
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "pre_pt_root_id": pa.array(BASE_ROOT - 10**9 + h % 1_000_003, pa.int64()),
        "post_pt_root_id": pa.array(BASE_ROOT + roots, pa.int64()),
        "size": pa.array((h % 5000).astype(np.int32), pa.int32()),
        "ctr_pt_position_x": pa.array((h % 300_000).astype(np.int32), pa.int32()),
        "ctr_pt_position_y": pa.array((h // 7 % 250_000).astype(np.int32), pa.int32()),
        "ctr_pt_position_z": pa.array((h // 13 % 25_000).astype(np.int32), pa.int32()),
    })


def write_copies(s3, bucket: str, rows: int, files: int, n_roots: int) -> tuple[int, int]:
    """Both copies as Parquet prefixes; returns (bytes of one copy, rows per root)."""
    import numpy as np
    import pyarrow.parquet as pq

    per_root = rows // n_roots
    rows = per_root * n_roots
    step = rows // files
    total = 0
    for k in range(files):
        ids = np.arange(k * step, rows if k == files - 1 else (k + 1) * step, dtype=np.int64)
        buf = io.BytesIO()
        pq.write_table(columns(ids, ids % n_roots), buf, row_group_size=1 << 20)
        s3.put_object(Bucket=bucket, Key=f"syn/by_id/part-{k:05d}.parquet", Body=buf.getvalue())
        total += buf.tell()
    roots_per_file = n_roots // files
    for k in range(files):
        lo, hi = k * roots_per_file, n_roots if k == files - 1 else (k + 1) * roots_per_file
        r = np.repeat(np.arange(lo, hi, dtype=np.int64), per_root)
        j = np.tile(np.arange(per_root, dtype=np.int64), hi - lo)
        buf = io.BytesIO()
        pq.write_table(columns(j * n_roots + r, r), buf, row_group_size=1 << 20)
        s3.put_object(Bucket=bucket, Key=f"syn/by_post_root/part-{k:05d}.parquet", Body=buf.getvalue())
    return total, per_root


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000_000)
    ap.add_argument("--files", type=int, default=256)
    ap.add_argument("--roots", type=int, default=100_000)
    ap.add_argument("--no-engines", action="store_true", help="skip the Spark / Ray time-to-first-row")
    args = ap.parse_args()

    import boto3

    from tests.conftest import AWS_TEST_ENV
    from tests.s3_server import S3Server
    from tests.signer.process import start_signer, stop, wait_ready
    from tests.signer.standins import CaveAuth

    server = S3Server().start()
    env = {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": server.url}
    os.environ.update(env)
    cave = CaveAuth().start()
    cave.add_user("bench-token", 1, {"bench": ["view"]})
    cave.datastacks["minnie65_phase3_v1"] = "bench"
    tmp = Path(tempfile.mkdtemp(prefix="bench-layouts-"))
    proc = None
    try:
        s3 = boto3.client("s3", endpoint_url=server.url, region_name="us-east-1")
        s3.create_bucket(Bucket="bench")
        t0 = time.perf_counter()
        copy_bytes, per_root = write_copies(s3, "bench", args.rows, args.files, args.roots)
        print(f"wrote 2 copies x {args.files} files, {args.rows:,} rows, {copy_bytes / 1e6:,.0f} MB per copy "
              f"({per_root} synapses per root) in {time.perf_counter() - t0:.1f} s")

        from registry.publish import publish

        t0 = time.perf_counter()
        publish({"name": "synapses", "version": "1", "title": "synthetic synapses", "datastack": "minnie65_phase3_v1",
                 "materialization": {"version": 1078}, "location": "s3://bench/syn/by_id", "format": "parquet",
                 "layouts": [{"name": "by_post_pt_root_id", "location": "s3://bench/syn/by_post_root",
                              "ordering": ["post_pt_root_id"]}]}, "s3://bench/registry")
        print(f"publish (main + 1 layout, {2 * args.files} footers): {time.perf_counter() - t0:.1f} s")

        log = tmp / "signer.log"
        url, proc = start_signer({**env, "REGISTRY_URI": "s3://bench/registry", "AUTH_URL": cave.auth_url,
                                  "ALLOWED_LOCATIONS": "s3://bench/syn"}, log)
        wait_ready(url, proc, log)
        from registry import Catalog

        cat = Catalog("s3://bench/registry", signer_url=url, token="bench-token")
        ds = cat.get("synapses")
        root = BASE_ROOT + args.roots // 3
        filt = f"post_pt_root_id = {root}"

        with_plan = ds.read_plan(filt)
        t0 = time.perf_counter()
        got = ds.to_duckdb(filter=filt).aggregate("count(*)").fetchone()[0]
        with_s = time.perf_counter() - t0
        assert got == per_root, (got, per_root)

        # without: the id-ordered copy, every file (what a reader without layouts or stats does)
        from registry.client import engines

        signed = ds.sign(mode="urls")
        t0 = time.perf_counter()
        con = engines.duckdb_connection()
        sql = engines.urls_sql(signed.files, ds._partition_types(), ds._restore_partitions(), None, filt)
        got_full = con.sql(sql).aggregate("count(*)").fetchone()[0]
        without_s = time.perf_counter() - t0
        assert got_full == per_root
        without_files = len(signed.files)
        without_bytes = sum(f.size or 0 for f in signed.files)
        print(f"all synapses onto one root id ({per_root} rows):")
        print(f"  with layout + pruning: layout {with_plan['layout']}, {with_plan['files']} file(s), "
              f"{with_plan['bytes'] / 1e6:,.2f} MB, {with_s:.2f} s")
        print(f"  without (id-ordered copy, no pruning): {without_files} files, {without_bytes / 1e6:,.0f} MB, "
              f"{without_s:.2f} s")
        print(f"  -> {without_files / max(with_plan['files'], 1):.0f}x fewer files, "
              f"{without_bytes / max(with_plan['bytes'], 1):.0f}x fewer bytes (whole files; DuckDB fetches "
              f"only the column chunks it needs of those)")

        t0 = time.perf_counter()
        ds.to_duckdb().limit(1).fetchone()
        print(f"time to first row, DuckDB (whole table, {without_files} files): {time.perf_counter() - t0:.2f} s")
        if not args.no_engines:
            engines_first_row(ds)
    finally:
        if proc is not None:
            stop(proc)
        cave.stop()
        server.stop()


def engines_first_row(ds) -> None:
    import warnings

    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
                 .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    start = time.perf_counter() - t0
    t0 = time.perf_counter()
    ds.to_spark(spark).limit(1).collect()
    print(f"time to first row, Spark local[2]: {time.perf_counter() - t0:.2f} s (+ {start:.1f} s session start)")
    spark.stop()

    import ray

    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=300 * 1024 * 1024, log_to_driver=False,
             configure_logging=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    start = time.perf_counter() - t0
    t0 = time.perf_counter()
    ds.to_ray().take(1)
    print(f"time to first row, Ray (2 CPUs): {time.perf_counter() - t0:.2f} s (+ {start:.1f} s ray.init)")
    ray.shutdown()


if __name__ == "__main__":
    main()
