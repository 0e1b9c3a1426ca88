"""GCS V4 URLs (key signing) read by DuckDB from the GCS emulator on loopback.

The emulator checks no signature (FIELD-NOTES), so each URL is also verified against the test
key's public key; the read proves the URL shape (path, `=` encoding, query) is one a reader follows.
"""

from __future__ import annotations

import io
import uuid

import pytest

from .conftest import call
from .test_e2e import duckdb_connection, duckdb_query
from .verify import verify_gcs_v4

pytestmark = pytest.mark.gcs


def test_duckdb_reads_gcs_v4_urls_from_the_emulator(gcs_env, make_signer, put_doc, google_sa):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project="test", credentials=AnonymousCredentials())
    bucket = client.create_bucket(f"lab-{uuid.uuid4().hex[:10]}")
    files = []
    for region, n in (("a", 30), ("b", 20)):
        buf = io.BytesIO()
        pq.write_table(pa.table({"id": pa.array(range(n), pa.int64())}), buf)
        path = f"region={region}/part-0.parquet"
        bucket.blob(f"features/syn/{path}").upload_from_string(buf.getvalue())
        files.append({"path": path, "size": len(buf.getvalue()), "rows": n, "partition": {"region": region}})
    put_doc("syn", "1", f"gs://{bucket.name}/features/syn", files=files)
    signer = make_signer(
        gcs_key_file=google_sa["path"], gcs_signing="key", gcs_api_endpoint=gcs_env,
        allowed_locations=(f"gs://{bucket.name}/features",),
    )
    resp = call(signer, {"dataset": "syn"})
    assert resp.status == 200, resp.body
    for f in resp.body["files"]:
        assert verify_gcs_v4(f["url"], google_sa["public_key"]).valid
    con = duckdb_connection()
    got = dict(con.execute(f"SELECT region, count(*) FROM ({duckdb_query(resp.body['files'])}) GROUP BY region").fetchall())
    assert got == {"a": 30, "b": 20}
