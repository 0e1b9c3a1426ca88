"""The signer's decisions, in-process, against the CAVE auth stand-in and a local registry."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from signer_function.config import Config, SEVEN_DAYS
from signer_function.core import Signer

from .conftest import CAVE_DATASET, TOKENS, call
from .verify import verify_sigv4

LOC = "s3://lab-tables/features/synapses"
PARTS = [
    {"path": "region=a/part-0.parquet", "size": 100, "rows": 3, "partition": {"region": "a"}},
    {"path": "region=b/part-0.parquet", "size": 120, "rows": 4, "partition": {"region": "b"}},
]


@pytest.fixture
def synapses(put_doc):
    return put_doc("synapses", "1", LOC, files=PARTS)


def test_grants_signed_urls_with_partitions_and_rows(make_signer, synapses, audit_lines, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-example")
    resp = call(make_signer(), {"dataset": "synapses", "version": "1", "expires_in": 600})
    assert resp.status == 200, resp.body
    body = resp.body
    assert body["mode"] == "urls" and body["signing"] == "sigv4" and body["credentials"] is None
    assert [f["partition"] for f in body["files"]] == [{"region": "a"}, {"region": "b"}]
    assert [f["num_rows"] for f in body["files"]] == [3, 4]
    assert body["files"][0]["uri"] == LOC + "/region=a/part-0.parquet"
    for f in body["files"]:
        verdict = verify_sigv4(f["url"], "secret-example")
        assert verdict.valid and not verdict.expired and verdict.credential == "AKIDEXAMPLE"
    expires_at = dt.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert abs((expires_at - dt.datetime.now(dt.timezone.utc)).total_seconds() - 600) < 5
    (line,) = audit_lines()
    assert line["outcome"] == "granted" and line["user_id"] == 101 and line["files"] == 2
    assert line["token_source"] == "header" and line["mode"] == "urls"


def test_latest_resolves_to_newest_published_and_skips_drafts(make_signer, put_doc):
    put_doc("syn", "1", LOC)
    put_doc("syn", "2", LOC)
    put_doc("syn", "3", LOC, status="draft")
    signer = make_signer()
    assert call(signer, {"dataset": "syn"}).body["version"] == "2"
    resp = call(signer, {"dataset": "syn", "version": "3"})
    assert resp.status == 404 and resp.body["error"] == "not_found" and "draft" in resp.body["message"]


def test_deprecated_version_is_signed_with_a_warning(make_signer, put_doc):
    put_doc(
        "syn", "1", LOC, status="deprecated",
        lineage={"superseded_by": "syn@2"},
        history=[{"action": "deprecated", "at": "2026-01-01T00:00:00Z", "by": "x", "reason": "bad alignment", "superseded_by": "syn@2"}],
    )
    resp = call(make_signer(), {"dataset": "syn", "version": "1"})
    assert resp.status == 200
    assert resp.body["deprecated"] == {"superseded_by": "syn@2"}
    assert any("bad alignment" in w and "syn@2" in w for w in resp.body["warnings"])
    assert "Warning" in resp.headers


def test_past_retention_is_said(make_signer, put_doc):
    put_doc("syn", "1", LOC, retention={"expires_on": "2020-01-01"})
    resp = call(make_signer(), {"dataset": "syn", "version": "1"})
    assert resp.status == 200 and any("retention" in w for w in resp.body["warnings"])


@pytest.mark.parametrize("via", ["header", "cookie", "query"])
def test_token_from_header_cookie_or_query(make_signer, synapses, via, audit_lines):
    resp = call(make_signer(), {"dataset": "synapses", "version": "1"}, via=via)
    assert resp.status == 200
    assert audit_lines()[-1]["token_source"] == via


def test_no_token_401(make_signer, synapses, cave):
    resp = call(make_signer(), {"dataset": "synapses"}, token=None)
    assert resp.status == 401 and resp.body["error"] == "no_token"
    assert cave.calls == {}


def test_non_bearer_authorization_is_400(make_signer, synapses):
    resp = call(make_signer(), {"dataset": "synapses"}, token=None, headers={"Authorization": "Basic abc"})
    assert resp.status == 400


def test_invalid_token_401_and_cached(make_signer, synapses, cave):
    signer = make_signer()
    for _ in range(3):
        resp = call(signer, {"dataset": "synapses"}, token="not-a-real-token")
        assert resp.status == 401 and resp.body["error"] == "invalid_token"
    assert cave.calls["GET /auth/api/v1/user/cache"] == 1


def test_valid_user_and_datastack_lookup_cached(make_signer, synapses, cave):
    signer = make_signer()
    for _ in range(5):
        assert call(signer, {"dataset": "synapses", "version": "1"}).status == 200
    assert cave.calls["GET /auth/api/v1/user/cache"] == 1
    assert cave.calls["GET /auth/api/v1/service/datastack/table/minnie65_phase3_v1/dataset"] == 1


def test_cache_expires(make_signer, synapses, cave):
    signer = make_signer(auth_cache_ttl=0.01)
    call(signer, {"dataset": "synapses", "version": "1"})
    import time

    time.sleep(0.05)
    call(signer, {"dataset": "synapses", "version": "1"})
    assert cave.calls["GET /auth/api/v1/user/cache"] == 2


def test_no_permission_403(make_signer, synapses):
    resp = call(make_signer(), {"dataset": "synapses"}, token=TOKENS["other"])
    assert resp.status == 403 and resp.body["error"] == "no_permission"
    assert CAVE_DATASET in resp.body["message"]


def test_missing_tos_403_names_the_terms(make_signer, synapses):
    resp = call(make_signer(), {"dataset": "synapses"}, token=TOKENS["tos"])
    assert resp.status == 403 and resp.body["error"] == "missing_tos"
    assert resp.body["tos"] == [{"tos_id": 7, "tos_name": "MICrONS public ToS", "dataset_id": 1, "dataset_name": CAVE_DATASET}]


def test_access_field_overrides_dataset_and_permission(make_signer, put_doc):
    put_doc("syn", "1", LOC, access={"dataset": "flywire", "permission": "edit"})
    signer = make_signer()
    assert call(signer, {"dataset": "syn"}, token=TOKENS["reader"]).status == 200
    assert call(signer, {"dataset": "syn"}, token=TOKENS["other"]).status == 403  # view only


def test_admin_may_read(make_signer, synapses):
    assert call(make_signer(), {"dataset": "synapses"}, token=TOKENS["admin"]).status == 200


def test_auth_down_503_never_grants(make_signer, synapses, cave):
    cave.failing = True
    resp = call(make_signer(), {"dataset": "synapses"})
    assert resp.status == 503 and resp.body["error"] == "auth_unavailable"


def test_auth_unreachable_503(make_signer, synapses):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once we leave: nothing listens there
    signer = make_signer(auth_url=f"http://127.0.0.1:{port}/auth", auth_timeout=2)
    resp = call(signer, {"dataset": "synapses"})
    assert resp.status == 503 and resp.body["error"] == "auth_unavailable"


def test_auth_outage_is_not_cached(make_signer, synapses, cave):
    signer = make_signer()
    cave.failing = True
    assert call(signer, {"dataset": "synapses"}).status == 503
    cave.failing = False
    assert call(signer, {"dataset": "synapses"}).status == 200


def test_unknown_dataset_404(make_signer, synapses):
    assert call(make_signer(), {"dataset": "nope"}).status == 404
    resp = call(make_signer(), {"dataset": "synapses", "version": "9"})
    assert resp.status == 404 and resp.body["error"] == "not_found"


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[]", b'{"dataset": "Bad Name"}', b'{"dataset": "synapses", "mode": "ftp"}',
     b'{"dataset": "synapses", "expires_in": -5}', b'{"dataset": "synapses", "expires_in": "1h"}',
     b'{"dataset": "synapses", "extra": 1}', b'{"dataset": "synapses", "version": "../x"}', b""],
)
def test_malformed_body_400(make_signer, synapses, raw):
    resp = call(make_signer(), raw=raw)
    assert resp.status == 400 and resp.body["error"] == "bad_request"


def test_oversized_body_413(make_signer, synapses, cave):
    resp = call(make_signer(max_body_bytes=1024), raw=b'{"dataset": "' + b"a" * 2000 + b'"}')
    assert resp.status == 413 and resp.body["error"] == "payload_too_large"
    assert cave.calls == {}


@pytest.mark.parametrize(
    "path", ["../other/part.parquet", "a/../../x.parquet", "/etc/passwd", "s3://other-bucket/x.parquet", "a//b", "./a"]
)
def test_manifest_path_escape_400(make_signer, put_doc, path):
    put_doc("evil", "1", LOC, files=[{"path": path, "size": 1, "rows": 1, "partition": {}}])
    resp = call(make_signer(), {"dataset": "evil", "version": "1"})
    assert resp.status == 400 and resp.body["error"] == "bad_request"
    assert "url" not in json.dumps(resp.body)


def test_location_outside_allowed_403(make_signer, put_doc):
    put_doc("elsewhere", "1", "s3://lab-tables/features_private/t")  # shares a prefix, not a directory
    resp = call(make_signer(), {"dataset": "elsewhere"})
    assert resp.status == 403 and resp.body["error"] == "location_not_allowed"


def test_no_allowed_locations_signs_nothing(make_signer, synapses):
    resp = call(make_signer(allowed_locations=()), {"dataset": "synapses"})
    assert resp.status == 403 and resp.body["error"] == "location_not_allowed"


def test_expiry_clamped_never_above_seven_days(make_signer, synapses, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    resp = call(make_signer(max_expires=3600), {"dataset": "synapses", "expires_in": 999999})
    assert resp.status == 200 and resp.body["expires_in"] == 3600
    assert any("clamped" in w for w in resp.body["warnings"])
    assert verify_sigv4(resp.body["files"][0]["url"], "s").expires_at - dt.datetime.now(dt.timezone.utc) < dt.timedelta(seconds=3601)
    resp = call(make_signer(max_expires=10 * SEVEN_DAYS), {"dataset": "synapses", "expires_in": 10 * SEVEN_DAYS})
    assert resp.body["expires_in"] == SEVEN_DAYS
    assert Config(max_expires=10 * SEVEN_DAYS).effective_max_expires == SEVEN_DAYS


def test_token_never_logged_or_echoed(make_signer, synapses, capsys, caplog):
    secret = TOKENS["reader"]
    signer = make_signer()
    answers = [call(signer, {"dataset": "synapses"}, via=v) for v in ("header", "cookie", "query")]
    answers.append(call(signer, {"dataset": "nope"}))
    answers.append(call(signer, {"dataset": "synapses"}, token="bad-" + secret))
    out = capsys.readouterr()
    text = out.out + out.err + caplog.text + "".join(json.dumps(a.body) for a in answers)
    assert len([l for l in out.out.splitlines() if l.startswith("{")]) == 5
    assert secret not in text


def test_dev_authenticator_refused_unless_enabled(tmp_registry, synapses, tmp_path):
    tokens = tmp_path / "dev-tokens.json"
    tokens.write_text(json.dumps({"dev-token": {"id": 9, "permissions_v2": {CAVE_DATASET: ["view"]}}, "datastacks": {"minnie65_phase3_v1": CAVE_DATASET}}))
    base = dict(registry_uri=tmp_registry, allowed_locations=("s3://lab-tables",), auth_mode="dev", dev_tokens_file=str(tokens))
    refused = Signer(Config(**base))
    resp = call(refused, {"dataset": "synapses"}, token="dev-token")
    assert resp.status == 503 and "SIGNER_ALLOW_DEV_AUTH" in resp.body["message"]
    assert call(refused, method="GET", path="/health", token=None).status == 503
    enabled = Signer(Config(**base, allow_dev_auth=True))
    assert call(enabled, {"dataset": "synapses"}, token="dev-token").status == 200
    assert call(enabled, {"dataset": "synapses"}, token="other").status == 401


def test_config_from_env_refuses_dev_without_flag(monkeypatch):
    cfg = Config.from_env({"SIGNER_AUTH": "dev", "SIGNER_DEV_TOKENS": "/x", "MAX_EXPIRES": "99999999"})
    assert cfg.auth_mode == "dev" and not cfg.allow_dev_auth
    assert cfg.effective_max_expires == SEVEN_DAYS


def test_health_and_routes(make_signer):
    signer = make_signer()
    resp = call(signer, method="GET", path="/health", token=None)
    assert resp.status == 200 and resp.body["status"] == "ok"
    assert call(signer, method="GET", path="/sign", token=None).status == 405
    assert call(signer, method="GET", path="/elsewhere", token=None).status == 404


def test_cors_preflight_and_headers(make_signer, synapses):
    signer = make_signer(cors_origins=("https://catalog.example.org",))
    pre = call(signer, method="OPTIONS", token=None, headers={"Origin": "https://catalog.example.org", "Access-Control-Request-Method": "POST"})
    assert pre.status == 204
    assert pre.headers["Access-Control-Allow-Origin"] == "https://catalog.example.org"
    assert "Authorization" in pre.headers["Access-Control-Allow-Headers"]
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    resp = call(signer, {"dataset": "synapses"}, headers={"Origin": "https://catalog.example.org"})
    assert resp.headers["Access-Control-Allow-Origin"] == "https://catalog.example.org"
    evil = call(signer, method="OPTIONS", token=None, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in evil.headers


def test_registry_reads_cached(make_signer, synapses, tmp_registry):
    import shutil

    signer = make_signer()
    assert call(signer, {"dataset": "synapses", "version": "1"}).status == 200
    shutil.rmtree(tmp_registry + "/datasets")
    assert call(signer, {"dataset": "synapses", "version": "1"}).status == 200  # served from the TTL cache
    assert call(make_signer(), {"dataset": "synapses", "version": "1"}).status == 404


def test_lance_auto_mode_says_why(make_signer, put_doc, monkeypatch):
    put_doc("vecs", "1", "s3://lab-tables/features/vecs.lance", fmt="lance",
            files=[{"path": "data/a.lance", "size": 1, "rows": 1, "partition": {}}])
    signer = make_signer()
    # Ask for URLs explicitly: honoured, with a warning that Lance cannot read them.
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    resp = call(signer, {"dataset": "vecs", "mode": "urls"})
    assert resp.body["mode"] == "urls" and any("Lance" in w for w in resp.body["warnings"])


def test_no_aws_credentials_is_a_clean_502(make_signer, synapses, monkeypatch):
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    resp = call(make_signer(), {"dataset": "synapses"})
    assert resp.status == 502 and resp.body["error"] == "signing_failed"
