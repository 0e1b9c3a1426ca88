"""Outbound calls made like the SDKs make them: IAM signBlob through `google.auth.iam.Signer` and
CAVE auth on urllib3, each retried on dropped connections / 429 / 5xx and cut at one total
deadline. The stand-ins speak the real protocols (signBlob: POST
`/v1/projects/-/serviceAccounts/EMAIL:signBlob` with a bearer token, answering `signedBlob`
signed with the service account's key) and drop, refuse or hang on the requests scripted."""

from __future__ import annotations

import json
import time
from typing import Any, Iterator

import pytest

from .conftest import call
from .standins import GoogleApis, new_service_account
from .verify import verify_gcs_v4

LOC = "s3://lab-tables/features/synapses"
GLOC = "gs://lab-tables/features/synapses"
ONE = [{"path": "part-0.parquet", "size": 10, "rows": 3, "partition": {}}]
EMAIL = "retrier@test-project.iam.gserviceaccount.com"
SIGN_BLOB = ":signBlob"
USER = "/api/v1/user/cache"


@pytest.fixture
def iam(tmp_path) -> Iterator[dict[str, Any]]:
    """Its own Google stand-in (token endpoint + signBlob), so scripted faults touch no other test."""
    key, info = new_service_account(EMAIL)
    apis = GoogleApis(key, EMAIL).start()
    info["token_uri"] = apis.url + "/token"
    path = tmp_path / "key.json"
    path.write_text(json.dumps(info))
    try:
        yield {"apis": apis, "path": str(path), "public_key": key.public_key()}
    finally:
        apis.stop()


def _iam_signer(make_signer, iam, deadline: float = 10.0):
    return make_signer(gcs_key_file=iam["path"], gcs_signing="iam", iam_credentials_url=iam["apis"].url,
                       outbound_deadline=deadline)


def _sign_blob_calls(iam) -> int:
    return sum(n for k, n in iam["apis"].calls.items() if k.endswith(SIGN_BLOB))


def test_signblob_rides_out_a_dropped_connection_a_503_and_a_429(make_signer, put_doc, iam):
    put_doc("syn", "1", GLOC, files=ONE)
    signer = _iam_signer(make_signer, iam)
    iam["apis"].script(SIGN_BLOB, "drop", 503, 429)
    resp = call(signer, {"dataset": "syn", "mode": "urls"})
    assert resp.status == 200, resp.body
    assert resp.body["signing"] == "gcs_v4_iam"
    # dropped -> transport retry; 503 -> google.auth.iam.Signer's own backoff; 429 -> transport retry
    assert _sign_blob_calls(iam) == 4
    check = verify_gcs_v4(resp.body["files"][0]["url"], iam["public_key"])
    assert check.valid and check.credential == EMAIL  # the signature really came from signBlob


def test_signblob_that_hangs_is_a_502_at_the_deadline(make_signer, put_doc, iam):
    put_doc("syn", "1", GLOC, files=ONE)
    signer = _iam_signer(make_signer, iam, deadline=1.0)
    signer.gcs.identity.access_token()  # the token endpoint is not what is being tested
    iam["apis"].script(SIGN_BLOB, 4.0, 4.0, 4.0)
    started = time.perf_counter()
    resp = call(signer, {"dataset": "syn", "mode": "urls"})
    took = time.perf_counter() - started
    assert resp.status == 502 and resp.body["error"] == "signing_failed", resp.body
    assert "within 1 s" in resp.body["message"]
    assert took < 2.5, f"held {took:.1f} s by a hanging signBlob"


def test_signblob_that_keeps_failing_stops_at_the_deadline(make_signer, put_doc, iam):
    put_doc("syn", "1", GLOC, files=ONE)
    signer = _iam_signer(make_signer, iam, deadline=1.5)
    signer.gcs.identity.access_token()
    iam["apis"].script(SIGN_BLOB, *([503] * 20))
    started = time.perf_counter()
    resp = call(signer, {"dataset": "syn", "mode": "urls"})
    took = time.perf_counter() - started
    assert resp.status == 502 and resp.body["error"] == "signing_failed", resp.body
    # attempts stop at the deadline (plus at most one of google-auth's backoff sleeps, ~1-2 s)
    assert 2 <= _sign_blob_calls(iam) <= 3
    assert took < 4.5


def test_signblob_refusal_is_not_retried(make_signer, put_doc, iam):
    put_doc("syn", "1", GLOC, files=ONE)
    signer = _iam_signer(make_signer, iam)
    iam["apis"].script(SIGN_BLOB, 403)
    resp = call(signer, {"dataset": "syn", "mode": "urls"})
    assert resp.status == 502 and resp.body["error"] == "signing_failed", resp.body
    assert _sign_blob_calls(iam) == 1


def test_auth_rides_out_a_dropped_connection_and_a_503(make_signer, put_doc, cave):
    put_doc("syn", "1", LOC, files=ONE)
    cave.script(USER, "drop", 503)
    resp = call(make_signer(), {"dataset": "syn"})
    assert resp.status == 200, resp.body
    assert cave.calls[f"GET /auth{USER}"] == 3


def test_auth_that_hangs_is_a_503_at_the_deadline(make_signer, put_doc, cave):
    put_doc("syn", "1", LOC, files=ONE)
    cave.script(USER, 4.0, 4.0, 4.0)
    started = time.perf_counter()
    resp = call(make_signer(auth_timeout=1.0), {"dataset": "syn"})
    took = time.perf_counter() - started
    assert resp.status == 503 and resp.body["error"] == "auth_unavailable", resp.body
    assert "within 1 s" in resp.body["message"]
    assert took < 2.5, f"held {took:.1f} s by a hanging auth service"


def test_auth_that_refuses_connections_is_a_503(make_signer, put_doc):
    import socket

    put_doc("syn", "1", LOC, files=ONE)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    resp = call(make_signer(auth_url=f"http://127.0.0.1:{port}/auth", auth_timeout=2.0), {"dataset": "syn"})
    assert resp.status == 503 and resp.body["error"] == "auth_unavailable", resp.body
    assert "unreachable" in resp.body["message"]
