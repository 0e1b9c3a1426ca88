"""Client benchmarks: Catalog open + search over a 10,000-version index.json served over HTTP on
127.0.0.1 (cold: empty disk cache; cached: a new Catalog revalidating, answered 304), and time to
first row for a 100-file signed Parquet dataset (moto S3 + the signer's S3 presigning in-process
behind a local HTTP stand-in). Prints figures; run with `.venv/bin/python bench/catalog_client.py`."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def synthetic_index(n: int) -> dict:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    versions = []
    for i in range(n):
        name = f"feature_{i // 4:05d}"
        versions.append({
            "name": name, "version": str(i % 4), "ref": f"{name}@{i % 4}", "title": f"Feature table {i} synapse embeddings",
            "summary": "Per-synapse features computed against the PNI synapse table " * 3,
            "datastack": ["minnie65_phase3_v1", "flywire_fafb_public"][i % 2], "aligned_volume": None,
            "materialization_version": 943 + i % 7, "materialization_versions": [943 + i % 7],
            "format": ["parquet", "delta", "iceberg", "lance"][i % 4], "table_version": i, "location": f"s3://b/{name}",
            "status": "deprecated" if i % 10 == 0 else "published", "latest": i % 4 == 3, "tags": ["synapses", f"t{i % 20}"],
            "owners": ["Ada Lovelace"], "columns": ["id", "pre_pt_root_id", "post_pt_root_id", f"score_{i % 50}", "ctr_pt_position"],
            "row_count": 1000, "bytes": 10000, "published_at": (now + dt.timedelta(minutes=i)).isoformat(),
            "superseded_by": None, "deprecated_reason": None, "page": "", "document": "",
        })
    return {"index_format": 1, "registry_schema": 1, "generated_at": now.isoformat(), "site_url": None,
            "dataset_count": n // 4, "version_count": n, "versions": versions}


def serve(directory: str):
    from site_builder.cli import make_server

    os.environ["SITE_SERVE_QUIET"] = "1"
    server = make_server(directory, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def bench_search(n: int = 10_000) -> None:
    from registry import Catalog
    from registry.client import httpcache

    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        (site / "index.json").write_text(json.dumps(synthetic_index(n)))
        os.environ["FEATURE_REGISTRY_CACHE"] = str(Path(tmp) / "cache")
        server, url = serve(str(site))
        try:
            size = (site / "index.json").stat().st_size
            t0 = time.perf_counter()
            cat = Catalog(url)
            hits = cat.search("synapse score_7", mat_version=945)
            cold = time.perf_counter() - t0
            httpcache._MEMO.clear()  # a new process: nothing parsed yet, disk cache warm
            t0 = time.perf_counter()
            cat = Catalog(url)
            cat.search("synapse score_7", mat_version=945)
            disk = time.perf_counter() - t0
            t0 = time.perf_counter()
            cat = Catalog(url)
            cat.search("synapse score_7", mat_version=945)
            warm = time.perf_counter() - t0
            t0 = time.perf_counter()
            cat.search("embeddings", datastack="minnie65_phase3_v1")
            again = time.perf_counter() - t0
            proc = _in_new_process(url)
        finally:
            server.shutdown()
    print(f"index.json: {n} versions, {size / 1e6:.1f} MB; {len(hits)} hits")
    print(f"Catalog open + search, cold (full GET, parse):             {cold * 1000:7.1f} ms")
    print(f"Catalog open + search, disk cache (304, sidecar, _MEMO cleared): {disk * 1000:7.1f} ms")
    print(f"Catalog open + search, disk cache, really a new process (imports excluded): {proc:7.1f} ms")
    print(f"Catalog open + search, cached in process (304, no parse):  {warm * 1000:7.1f} ms")
    print(f"second search on an open Catalog:                           {again * 1000:7.1f} ms")


def _in_new_process(url: str) -> float:
    """Catalog open + search in a fresh interpreter with the warm disk cache (ms, imports excluded)."""
    import subprocess

    code = (
        "import sys, time; sys.path.insert(0, %r)\n"
        "from registry import Catalog\n"
        "t0 = time.perf_counter(); Catalog(%r).search('synapse score_7', mat_version=945)\n"
        "print((time.perf_counter() - t0) * 1000)\n"
    ) % (str(Path(__file__).resolve().parents[1]), url)
    runs = [float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                                 env=dict(os.environ)).stdout.split()[-1]) for _ in range(3)]
    return min(runs)


def bench_first_row(files: int = 100) -> None:
    """100 Parquet files on moto; signed URLs from the signer core (in-process, real SigV4)."""
    import boto3
    import pyarrow as pa
    import pyarrow.parquet as pq
    from registry.client.engines import duckdb_connection, polars_scan, urls_sql
    from registry.client.signer import SignedTable
    from tests.s3_server import S3Server

    server = S3Server().start()  # moto, as the test suite runs it
    ep = server.url
    s3 = boto3.client("s3", endpoint_url=ep, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    s3.create_bucket(Bucket="bench-client")
    out = []
    for i in range(files):
        t = pa.table({"id": range(i * 1000, (i + 1) * 1000), "score": [0.5] * 1000})
        buf = pa.BufferOutputStream()
        pq.write_table(t, buf)
        key = f"t/part={i % 10}/f{i}.parquet"
        s3.put_object(Bucket="bench-client", Key=key, Body=buf.getvalue().to_pybytes())
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "bench-client", "Key": key}, ExpiresIn=3600)
        out.append({"url": url, "size": None, "num_rows": 1000, "partition": {"part": str(i % 10)}})
    files_ = SignedTable({"files": out}).files
    try:
        t0 = time.perf_counter()
        con = duckdb_connection()
        row = con.sql(urls_sql(files_, {"part": "int32"}, True, None, None)).limit(1).fetchone()
        duck = time.perf_counter() - t0
        t0 = time.perf_counter()
        first = polars_scan(files_, {"part": "int32"}, True).head(1).collect()
        pol = time.perf_counter() - t0
        t0 = time.perf_counter()
        total = con.sql(urls_sql(files_, {"part": "int32"}, True, ["id"], None)).aggregate("count(*)").fetchone()[0]
        full = time.perf_counter() - t0
    finally:
        server.stop()
    assert row is not None and first.height == 1 and total == files * 1000
    print(f"{files}-file signed Parquet: time to first row DuckDB {duck * 1000:.0f} ms, Polars {pol * 1000:.0f} ms; "
          f"count(*) over all files (DuckDB) {full * 1000:.0f} ms")


if __name__ == "__main__":
    bench_search()
    bench_first_row()
