"""End to end: real tables on the moto S3 server, the signer served by functions-framework on
loopback, and DuckDB / Polars / Lance reading what it hands out."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import pytest
import requests

from tests.conftest import AWS_TEST_ENV

from .conftest import DATASTACK, TOKENS
from .process import start_signer, stop, wait_ready
from .tables import ROWS, publish_all, region_counts, write_tables
from .verify import verify_sigv4

pytestmark = pytest.mark.s3
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def e2e(s3_server: str, cave_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    tmp = tmp_path_factory.mktemp("signer-e2e")
    env = {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": s3_server}
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    import boto3
    import fsspec

    fsspec.filesystem("s3").clear_instance_cache()
    bucket = f"signer-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=bucket)
    specs = write_tables(bucket, str(tmp))
    registry_uri = f"s3://{bucket}/registry"
    publish_all(specs, registry_uri, DATASTACK)

    log_path = tmp / "signer.log"
    url, proc = start_signer(
        {
            **env,
            "REGISTRY_URI": registry_uri,
            "AUTH_URL": cave_server.auth_url,
            "ALLOWED_LOCATIONS": f"s3://{bucket}/tables",
            "CORS_ORIGINS": "https://catalog.example.org",
        },
        log_path,
    )
    try:
        wait_ready(url, proc, log_path)
        yield SimpleNamespace(url=url, bucket=bucket, specs=specs, log=log_path, proc=proc)
    finally:
        stop(proc)
        mp.undo()


def sign(e2e: SimpleNamespace, name: str, **body: Any) -> dict[str, Any]:
    resp = requests.post(e2e.url + "/sign", json={"dataset": name, **body},
                         headers={"Authorization": f"Bearer {TOKENS['reader']}"}, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def duckdb_connection():
    import duckdb
    import duckdb_extension_httpfs

    ext = Path(duckdb_extension_httpfs.__file__).parent / "extensions" / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"
    if not ext.exists():
        pytest.skip(f"the httpfs wheel has no extension for duckdb {duckdb.__version__} ({ext})")
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    con.execute(f"LOAD '{ext}'")
    return con


def sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def duckdb_query(files: list[dict[str, Any]]) -> str:
    """Partition values come back per file (signed URLs encode '=' so hive discovery fails)."""
    parts = []
    for f in files:
        extra = "".join(f", {sql_literal(v)} AS \"{k}\"" for k, v in f["partition"].items())
        parts.append(f"SELECT *{extra} FROM read_parquet({sql_literal(f['url'])})")
    return " UNION ALL BY NAME ".join(parts)


def polars_frame(files: list[dict[str, Any]]):
    import polars as pl

    frames = [
        pl.scan_parquet(f["url"]).with_columns([pl.lit(v).alias(k) for k, v in f["partition"].items()])
        for f in files
    ]
    return pl.concat(frames, how="diagonal").collect()


URL_TABLES = ["plain", "hive", "delta", "iceberg"]


def test_health(e2e):
    got = requests.get(e2e.url + "/health", timeout=5)
    assert got.status_code == 200 and got.json()["status"] == "ok"


@pytest.mark.parametrize("table", URL_TABLES)
def test_duckdb_and_polars_read_signed_urls(e2e, table):
    body = sign(e2e, f"syn_{table}", version="latest")
    assert body["mode"] == "urls" and body["format"] == e2e.specs[table]["format"]
    files = body["files"]
    assert sum(f["num_rows"] for f in files) == ROWS
    for f in files:
        assert verify_sigv4(f["url"], AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"]).valid
        assert f["url"].startswith(os.environ["AWS_ENDPOINT_URL"] + f"/{e2e.bucket}/tables/")
    expected_parts = e2e.specs[table]["partitions"]
    assert body["partition_columns"] == expected_parts

    con = duckdb_connection()
    query = duckdb_query(files)
    assert con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0] == ROWS
    assert con.execute(f"SELECT sum(id) FROM ({query})").fetchone()[0] == sum(range(ROWS))
    df = polars_frame(files)
    assert df.height == ROWS
    if table != "plain":  # region is a partition column (hive, delta) or a data column (iceberg)
        got = dict(con.execute(f"SELECT region, count(*) FROM ({query}) GROUP BY region").fetchall())
        assert got == region_counts()
        assert dict(df.group_by("region").len().iter_rows()) == region_counts()


def test_lance_reads_with_vended_credentials(e2e):
    import lance

    body = sign(e2e, "syn_lance")
    assert body["mode"] == "credentials" and "Lance" in body["mode_reason"]
    creds = body["credentials"]
    assert creds["method"] == "GetFederationToken" and creds["prefix"].endswith("/tables/vecs.lance/")
    ds = lance.dataset(body["location"], storage_options=creds["storage_options"])
    assert ds.count_rows() == ROWS
    assert ds.to_table(columns=["region"]).group_by("region").aggregate([("region", "count")]).num_rows == 3


def test_http_errors_cors_and_no_token_in_logs(e2e, cave_server):
    url = e2e.url + "/sign"
    assert requests.post(url, json={"dataset": "syn_plain"}, timeout=5).json()["error"] == "no_token"
    bad = requests.post(url, json={"dataset": "syn_plain"}, headers={"Authorization": "Bearer nope-xyz"}, timeout=5)
    assert bad.status_code == 401
    assert requests.post(url, data=b"{oops", headers={"Authorization": f"Bearer {TOKENS['reader']}"}, timeout=5).status_code == 400
    big = requests.post(url, data=b"x" * 100_000, headers={"Authorization": f"Bearer {TOKENS['reader']}"}, timeout=5)
    assert big.status_code == 413 and big.json()["error"] == "payload_too_large"
    other = requests.post(url, json={"dataset": "syn_plain"}, headers={"Authorization": f"Bearer {TOKENS['other']}"}, timeout=5)
    assert other.status_code == 403
    missing = requests.post(url, json={"dataset": "nope"}, headers={"Authorization": f"Bearer {TOKENS['reader']}"}, timeout=5)
    assert missing.status_code == 404
    # Token in the query string and the cookie: still never in any log line.
    assert requests.post(url, params={"middle_auth_token": TOKENS["reader"]}, json={"dataset": "syn_plain"}, timeout=5).status_code == 200
    assert requests.post(url, cookies={"middle_auth_token": TOKENS["reader"]}, json={"dataset": "syn_plain"}, timeout=5).status_code == 200
    pre = requests.options(url, headers={"Origin": "https://catalog.example.org", "Access-Control-Request-Method": "POST",
                                         "Access-Control-Request-Headers": "authorization,content-type"}, timeout=5)
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Origin"] == "https://catalog.example.org"
    time.sleep(0.2)
    log = e2e.log.read_text()
    for token in TOKENS.values():
        assert token not in log
    assert "nope-xyz" not in log
    decisions = [json.loads(l) for l in log.splitlines() if l.startswith('{"ts"')]
    assert {d["outcome"] for d in decisions} >= {"granted", "denied"}
    assert {d.get("token_source") for d in decisions} >= {"header", "query", "cookie"}


def test_hostile_requests_over_http_are_json_errors_and_leave_no_traceback(e2e):
    """Issue 10 through the real server: deep JSON, an impossible token, a forged document in the
    registry bucket and a wildcard location all answer JSON errors; the log has no traceback."""
    import http.client
    from urllib.parse import urlsplit

    import boto3

    from registry.documents import dumps

    from .conftest import document

    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
    manifest = b'{"files": [{"path": "part-0.parquet", "size": 1, "rows": 1, "partition": {}}]}'
    for path, (name, version, location) in {
        "evil/1": ("syn_plain", "1", f"s3://{e2e.bucket}/tables/attacker"),  # claims to be syn_plain@1
        "wild/1": ("wild", "1", f"s3://{e2e.bucket}/tables/*"),
    }.items():
        doc, _ = document(name, version, location, datastack=DATASTACK)
        s3.put_object(Bucket=e2e.bucket, Key=f"registry/datasets/{path}.json", Body=dumps(doc.to_dict()))
        s3.put_object(Bucket=e2e.bucket, Key=f"registry/datasets/{path}.files.json", Body=manifest)
    auth = {"Authorization": f"Bearer {TOKENS['reader']}"}
    post = lambda body: requests.post(e2e.url + "/sign", data=body, headers=auth, timeout=30)  # noqa: E731
    assert post(b"[" * 8000).status_code == 400
    forged = post(json.dumps({"dataset": "evil", "version": "1"}))
    assert forged.status_code == 404 and forged.json()["error"] == "not_found"
    wild = post(json.dumps({"dataset": "wild", "version": "1", "mode": "credentials"}))
    assert wild.status_code == 403 and wild.json()["error"] == "location_not_allowed"
    assert sign(e2e, "syn_plain", version="1")["location"] == f"s3://{e2e.bucket}/tables/plain.parquet"
    # A token with a non-latin-1 character, sent as raw UTF-8 bytes (requests refuses to).
    parts = urlsplit(e2e.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    body = json.dumps({"dataset": "syn_plain"}).encode()
    conn.putrequest("POST", "/sign")
    conn.putheader("Authorization", "Bearer tok-ŝ-reader".encode("utf-8"))
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    got = conn.getresponse()
    assert got.status == 401 and json.loads(got.read())["error"] == "invalid_token"
    conn.close()
    time.sleep(0.2)
    assert "Traceback" not in e2e.log.read_text()
