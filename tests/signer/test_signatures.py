"""Signed URLs proven by independent verifiers (emulators check nothing), and scoped credentials."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from signer_function.credentials import s3_session_policy
from signer_function.lookup import TableLocation

from .conftest import call
from .verify import tamper, verify_gcs_v4, verify_sigv4

GLOC = "gs://lab-tables/features/synapses"


def hive_files(n: int) -> list[dict]:
    return [
        {"path": f"region=r{i % 3}/part-{i:05d}.parquet", "size": 10 + i, "rows": i, "partition": {"region": f"r{i % 3}"}}
        for i in range(n)
    ]


def later(seconds: int) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)


def test_gcs_v4_with_key_verifies_against_public_key(make_signer, put_doc, google_sa):
    put_doc("syn", "1", GLOC, files=hive_files(3))
    signer = make_signer(gcs_key_file=google_sa["path"], gcs_signing="key")
    resp = call(signer, {"dataset": "syn", "expires_in": 900})
    assert resp.status == 200, resp.body
    assert resp.body["signing"] == "gcs_v4_key"
    pub = google_sa["public_key"]
    for f in resp.body["files"]:
        url = f["url"]
        assert url.startswith("https://storage.googleapis.com/lab-tables/features/synapses/region%3Dr")
        v = verify_gcs_v4(url, pub)
        assert v.valid and not v.expired and v.credential == google_sa["info"]["client_email"]
        assert verify_gcs_v4(url, pub, now=later(901)).expired
        # Any change to what was signed breaks the signature.
        assert not verify_gcs_v4(tamper(url, "part-0000", "part-9999"), pub).valid
        assert not verify_gcs_v4(tamper(url, "X-Goog-Expires=900", "X-Goog-Expires=9000"), pub).valid
        assert not verify_gcs_v4(tamper(url, "/lab-tables/", "/other-bucket/"), pub).valid


def test_gcs_keyless_signblob_reuses_one_session_with_bounded_concurrency(make_signer, put_doc, google_sa):
    apis = google_sa["apis"]
    put_doc("syn", "1", GLOC, files=hive_files(40))
    signer = make_signer(
        gcs_key_file=google_sa["path"],  # only used to obtain an access token, as ADC would
        gcs_signing="iam",
        iam_credentials_url=apis.url,
        iam_concurrency=4,
    )
    apis.reset_counts()
    apis.max_in_flight = 0
    apis.signblob_delay = 0.01
    try:
        resp = call(signer, {"dataset": "syn"})
    finally:
        apis.signblob_delay = 0.0
    assert resp.status == 200, resp.body
    assert resp.body["signing"] == "gcs_v4_iam"
    path = f"/v1/projects/-/serviceAccounts/{google_sa['info']['client_email']}:signBlob"
    assert apis.calls[f"POST {path}"] == 40
    assert 1 < apis.max_in_flight <= 4  # concurrent, and bounded
    assert len(apis.clients[path]) <= 4  # connections reused across 40 signatures
    assert apis.calls["POST /token"] == 1  # one access token for the lot
    for f in resp.body["files"]:
        assert verify_gcs_v4(f["url"], google_sa["public_key"]).valid


def test_sigv4_tamper_and_expiry(make_signer, put_doc, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI")
    put_doc("syn", "1", "s3://lab-tables/features/synapses", files=hive_files(2))
    resp = call(make_signer(aws_region="eu-west-1"), {"dataset": "syn", "expires_in": 120})
    url = resp.body["files"][0]["url"]
    q = parse_qs(urlsplit(url).query)
    assert q["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]  # never SigV2
    assert "/eu-west-1/s3/aws4_request" in q["X-Amz-Credential"][0]
    assert verify_sigv4(url, "wJalrXUtnFEMI").valid
    assert not verify_sigv4(url, "another-secret").valid
    assert not verify_sigv4(tamper(url, "part-00000", "part-00001"), "wJalrXUtnFEMI").valid
    assert not verify_sigv4(tamper(url, "X-Amz-Expires=120", "X-Amz-Expires=99999"), "wJalrXUtnFEMI").valid
    assert verify_sigv4(url, "wJalrXUtnFEMI", now=later(121)).expired
    assert not verify_sigv4(url, "wJalrXUtnFEMI", now=later(100)).expired


def test_gcs_downscoped_token_boundary(make_signer, put_doc, google_sa):
    apis = google_sa["apis"]
    put_doc("syn", "1", GLOC, files=hive_files(2))
    signer = make_signer(gcs_key_file=google_sa["path"], gcs_sts_url=apis.url + "/v1/token")
    before = len(apis.boundaries)
    resp = call(signer, {"dataset": "syn", "mode": "credentials"})
    assert resp.status == 200, resp.body
    creds = resp.body["credentials"]
    assert resp.body["mode"] == "credentials" and resp.body["mode_reason"] == "requested"
    assert creds["provider"] == "gcp" and creds["access_token"] in apis.downscoped
    assert all(f["url"] is None for f in resp.body["files"])
    assert len(apis.boundaries) == before + 1  # one exchange per request, not per file
    (rule,) = apis.downscoped[creds["access_token"]]["accessBoundaryRules"]
    assert rule["availableResource"] == "//storage.googleapis.com/projects/_/buckets/lab-tables"
    assert rule["availablePermissions"] == ["inRole:roles/storage.objectViewer"]
    expr = rule["availabilityCondition"]["expression"]
    # The trailing slash is the boundary: synapses/ does not open synapses_v2/.
    assert "startsWith('projects/_/buckets/lab-tables/objects/features/synapses/')" in expr
    assert "objectListPrefix" in expr and "startsWith('features/synapses/')" in expr
    assert creds["prefix"] == GLOC + "/"


def test_s3_session_policy_is_prefix_bounded():
    pol = s3_session_policy(TableLocation("s3", "lab", "features/synapses"), single_file=False)
    read, listing = pol["Statement"]
    assert read["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert read["Resource"] == ["arn:aws:s3:::lab/features/synapses/*"]
    assert listing["Condition"]["StringLike"]["s3:prefix"] == ["features/synapses/", "features/synapses/*"]
    single = s3_session_policy(TableLocation("s3", "lab", "t/one.parquet"), single_file=True)
    assert single["Statement"][0]["Resource"] == ["arn:aws:s3:::lab/t/one.parquet"]
    assert not any("Put" in a or "Delete" in a for s in pol["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))


@pytest.mark.s3
@pytest.mark.parametrize("role", ["", "arn:aws:iam::123456789012:role/feature-reader"])
def test_sts_credentials_on_moto(make_signer, put_doc, s3_env, role):
    put_doc("syn", "1", "s3://lab-tables/features/synapses", files=hive_files(2))
    signer = make_signer(role_arn=role, aws_endpoint_url=s3_env)
    resp = call(signer, {"dataset": "syn", "mode": "credentials", "expires_in": 60})
    assert resp.status == 200, resp.body
    creds = resp.body["credentials"]
    assert creds["method"] == ("AssumeRole" if role else "GetFederationToken")
    assert creds["access_key_id"] and creds["secret_access_key"] and creds["session_token"]
    assert creds["storage_options"]["aws_endpoint"] == s3_env
    assert creds["prefix"] == "s3://lab-tables/features/synapses/"
    # STS's minimum session is 900 s: the clamp goes up, and the answer says so.
    exp = dt.datetime.fromisoformat(creds["expires_at"].replace("Z", "+00:00"))
    assert dt.timedelta(seconds=850) < exp - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(seconds=905)
    assert resp.body["expires_at"] == creds["expires_at"]


def test_auto_gcs_signing_uses_a_key_only_when_there_is_one(google_sa):
    from signer_function.config import Config
    from signer_function.signing_gcs import GcsSigner

    assert GcsSigner(Config(gcs_key_file=google_sa["path"])).mode() == "key"
    assert GcsSigner(Config(gcs_key_file=google_sa["path"], gcs_signing="iam")).mode() == "iam"


@pytest.mark.s3
def test_auto_mode_vends_credentials_when_the_file_list_is_not_the_table(make_signer, put_doc, s3_env):
    rf = {"faithful_file_list": False, "deletion_vectors": True, "deletion_vector_files": 1}
    put_doc("dv", "1", "s3://lab-tables/features/dv", fmt="delta", files=hive_files(2),
            inspected={"columns": [{"name": "id", "type": "int64"}], "file_count": 2, "fingerprint": "delta:v1",
                       "reader_features": rf})
    signer = make_signer(aws_endpoint_url=s3_env)
    resp = call(signer, {"dataset": "dv"})
    assert resp.body["mode"] == "credentials" and "deletion vectors" in resp.body["mode_reason"]
    forced = call(signer, {"dataset": "dv", "mode": "urls"})
    assert forced.body["mode"] == "urls" and any("may not read" in w for w in forced.body["warnings"])
