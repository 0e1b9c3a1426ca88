"""The signer as an attacker sees it (issue 10): one end-to-end test per attack, each through the
signer's real request path against the CAVE / Google stand-ins and a local registry. Each of
these failed against the signer before the fixes (docs/security.md lists them)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from registry.documents import dumps
from signer_function.config import Config
from signer_function.core import Signer

from .conftest import CAVE_DATASET, TOKENS, call, document
from .standins import Trickle
from .test_lambda import event

LOC = "s3://lab-tables/features/synapses"
GLOC = "gs://lab-tables/features/synapses"
ONE = [{"path": "part-0.parquet", "size": 10, "rows": 3, "partition": {}}]


def write_raw(registry: str, rel: str, data: bytes) -> None:
    path = Path(registry) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def forged(name: str, version: str, location: str, **fields) -> bytes:
    doc, _ = document(name, version, location, **fields)
    return dumps(doc.to_dict())


@pytest.fixture
def minnie_only(cave):
    """A user with `view` on the datastack's dataset and nothing else."""
    token = "tok-minnie-only-91c2"
    cave.add_user(token, 201, {CAVE_DATASET: ["view"]})
    return token


# ---- 1. CEL injection in the GCS Credential Access Boundary --------------------------------------


def test_quote_in_a_gcs_location_never_reaches_the_access_boundary(make_signer, put_doc, google_sa):
    apis = google_sa["apis"]
    evil = "gs://lab-tables/features/x') || resource.name.startsWith('projects/_/buckets/lab-tables/objects/"
    put_doc("evil", "1", evil, files=ONE)
    signer = make_signer(gcs_key_file=google_sa["path"], gcs_sts_url=apis.url + "/v1/token")
    before = len(apis.boundaries)
    resp = call(signer, {"dataset": "evil", "mode": "credentials"})
    assert resp.status == 403 and resp.body["error"] == "location_not_allowed", resp.body
    assert "'" in resp.body["message"]  # says which character was refused
    assert len(apis.boundaries) == before  # no token was ever exchanged


# ---- 2. IAM wildcards in S3 session policies, and non-canonical locations -------------------------


@pytest.mark.parametrize(
    "location",
    [
        "s3://lab-tables/features/syn*",
        "s3://lab-tables/features/syn?/t",
        "s3://lab-tables/features/${aws:username}",
        "s3://lab-tables/features/../private/t",
        "s3://lab-tables/features/./t",
        "s3://lab-tables/features//t",
        "s3://lab-tables/features/t%2F..%2Fprivate",
        "s3://lab-tables/features/t?x=1",
        "s3://lab-tables/features/t#frag",
        "s3://lab-tables/features/t\n",
        "s3://lab-tables/features/t\\u",
        "s3://user@lab-tables/features/t",
        "s3://lab-tables:443/features/t",
        "s3://lab-tables/features/t é",
    ],
)
def test_non_canonical_or_wildcard_locations_are_refused(make_signer, put_doc, location):
    put_doc("wild", "1", location, files=ONE)
    resp = call(make_signer(), {"dataset": "wild", "mode": "urls"})
    assert resp.status == 403 and resp.body["error"] == "location_not_allowed", resp.body
    assert all(f.get("url") is None for f in resp.body.get("files", []))


@pytest.mark.parametrize("location", ["gs://lab-tables/features-other/t", "gs://lab-tables/featuresX", "gs://lab-tables2/features/t"])
def test_allowlist_is_per_segment(make_signer, put_doc, location):
    put_doc("near", "1", location, files=ONE)
    resp = call(make_signer(allowed_locations=("gs://lab-tables/features/",)), {"dataset": "near"})
    assert resp.status == 403 and resp.body["error"] == "location_not_allowed"


def test_invalid_allowed_locations_fail_closed(make_signer, put_doc):
    put_doc("syn", "1", LOC, files=ONE)
    signer = make_signer(allowed_locations=("s3://lab-tables/features*",))
    assert call(signer, {"dataset": "syn"}).status == 503
    health = call(signer, method="GET", path="/health", token=None)
    assert health.status == 503 and "ALLOWED_LOCATIONS" in health.body["problem"]


# ---- 3. A document that lies about its name ---------------------------------------------------


def test_a_document_that_claims_another_name_is_not_found_and_poisons_nothing(make_signer, put_doc, tmp_registry, audit_lines):
    put_doc("victim", "1", LOC, files=ONE)
    # The attacker's document sits at evil@1 but says it is victim@1, with the attacker's table.
    write_raw(tmp_registry, "datasets/evil/1.json", forged("victim", "1", "s3://lab-tables/features/attacker"))
    write_raw(tmp_registry, "datasets/evil/1.files.json", b'{"files": [{"path": "a.parquet", "size": 1, "rows": 1, "partition": {}}]}')
    signer = make_signer()
    lied = call(signer, {"dataset": "evil", "version": "1"})
    assert lied.status == 404 and lied.body["error"] == "not_found"
    honest = call(signer, {"dataset": "victim", "version": "1"})  # same signer: same cache
    assert honest.status == 200 and honest.body["location"] == LOC
    lines = audit_lines()
    assert lines[0]["reason"] == "document_mismatch" and lines[1]["outcome"] == "granted"


def test_latest_skips_lying_unreadable_and_deep_documents(make_signer, put_doc, tmp_registry):
    put_doc("victim", "1", LOC, files=ONE)
    later = "2099-01-01T00:00:00+00:00"
    write_raw(tmp_registry, "datasets/victim/9.json", forged("victim", "1", "s3://lab-tables/features/attacker", published_at=later))
    write_raw(tmp_registry, "datasets/victim/8.json", b'{"name": "victim", "version": "8", "title": "\xff\xfe"}')
    write_raw(tmp_registry, "datasets/victim/7.json", b"[" * 100_000)
    write_raw(tmp_registry, "datasets/victim/6.json", b" " * (2 << 20))
    resp = call(make_signer(), {"dataset": "victim"})
    assert resp.status == 200, resp.body
    assert resp.body["version"] == "1" and resp.body["location"] == LOC


def test_manifest_label_is_not_a_version(make_signer, put_doc):
    put_doc("syn", "1", LOC, files=ONE)
    resp = call(make_signer(), {"dataset": "syn", "version": "1.files"})
    assert resp.status == 404


# ---- 4. Authorization the document cannot lower --------------------------------------------------


RULES = {"s3://lab-tables/features/private": {"dataset": "flywire", "permission": "edit"}}


def test_location_permissions_bind_a_prefix_to_a_permission(make_signer, put_doc, minnie_only):
    # The publisher says "anyone with view on minnie" for a table the lab bound to flywire/edit.
    put_doc("moved", "1", "s3://lab-tables/features/private/t", files=ONE, access={"dataset": CAVE_DATASET, "permission": "view"})
    put_doc("open", "1", "s3://lab-tables/features/open/t", files=ONE)
    signer = make_signer(location_permissions=json.dumps({**RULES, "s3://lab-tables/features": {"dataset": CAVE_DATASET}}))
    denied = call(signer, {"dataset": "moved"}, token=minnie_only)
    assert denied.status == 403 and denied.body["error"] == "no_permission" and "flywire" in denied.body["message"]
    assert call(signer, {"dataset": "moved"}, token=TOKENS["reader"]).status == 200  # holds flywire/edit
    assert call(signer, {"dataset": "open"}, token=minnie_only).status == 200


def test_a_location_no_rule_covers_is_refused(make_signer, put_doc):
    put_doc("stray", "1", "s3://lab-tables/features/elsewhere/t", files=ONE)
    signer = make_signer(location_permissions=RULES)
    resp = call(signer, {"dataset": "stray"})
    assert resp.status == 403 and resp.body["error"] == "location_not_allowed"
    assert "LOCATION_PERMISSIONS" in resp.body["message"]


def test_location_permissions_from_env_and_file(tmp_path):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(RULES))
    cfg = Config.from_env({"LOCATION_PERMISSIONS_FILE": str(path), "LOCATION_PERMISSIONS": '{"gs://lab-tables/x": {"dataset": "d"}}'})
    signer = Signer(cfg)
    assert signer.problem is None
    assert sorted((r.prefix.uri, r.dataset, r.permission) for r in signer.rules) == [
        ("gs://lab-tables/x", "d", "view"), ("s3://lab-tables/features/private", "flywire", "edit")]


@pytest.mark.parametrize("raw", ["{not json", '["s3://a/b"]', '{"s3://lab-tables/x*": {"dataset": "d"}}', '{"s3://lab-tables/x": {"dataset": "d", "perm": "view"}}'])
def test_bad_location_permissions_fail_closed(make_signer, put_doc, raw):
    put_doc("syn", "1", LOC, files=ONE)
    signer = make_signer(location_permissions=raw)
    resp = call(signer, {"dataset": "syn"})
    assert resp.status == 503 and "LOCATION_PERMISSIONS" in resp.body["message"]


# ---- 7. Nothing revealed before the permission check; 404s never name the registry ---------------


def test_draft_labels_are_not_revealed_without_permission(make_signer, put_doc):
    put_doc("secret", "3", LOC, files=ONE, status="draft")
    signer = make_signer()
    draft = call(signer, {"dataset": "secret", "version": "3"}, token=TOKENS["other"])
    missing = call(signer, {"dataset": "secret", "version": "4"}, token=TOKENS["other"])
    assert draft.status == missing.status == 404
    assert draft.body["message"].replace("@3", "@4") == missing.body["message"]
    latest = call(signer, {"dataset": "secret"}, token=TOKENS["other"])
    assert latest.status == 404 and "3" not in latest.body["message"]
    # Someone who may read the dataset is told why.
    assert "draft" in call(signer, {"dataset": "secret", "version": "3"}).body["message"]


@pytest.mark.parametrize("spelling", ["{}", "{}/", "file://{}", "file://{}/"])
def test_not_found_never_names_the_registry(make_signer, put_doc, tmp_registry, spelling):
    uri = spelling.format(tmp_registry)
    put_doc("syn", "1", LOC, files=ONE)
    write_raw(tmp_registry, "datasets/bad/1.json", b"\xff not json")
    signer = make_signer(registry_uri=uri)
    assert call(signer, {"dataset": "syn", "version": "1"}).status == 200
    for body in ({"dataset": "nope"}, {"dataset": "syn", "version": "9"}, {"dataset": "bad", "version": "1"}, {"dataset": "nope", "version": "1"}):
        resp = call(signer, body)
        assert resp.status == 404, resp.body
        text = json.dumps(resp.body)
        assert tmp_registry not in text and Path(tmp_registry).parent.name not in text and "file:" not in text and "/tmp" not in text


# ---- 6. Limits: URL mode capped, answers bounded -------------------------------------------------


def many(n: int, width: int = 40) -> list[dict]:
    return [{"path": f"split={i % 8}/part-{i:06d}-{'x' * width}.parquet", "size": 1, "rows": 1, "partition": {"split": str(i % 8)}} for i in range(n)]


def test_url_mode_is_capped_with_a_hint_to_use_credentials(make_signer, put_doc):
    put_doc("big", "1", LOC, files=many(6))
    resp = call(make_signer(max_url_files=5), {"dataset": "big", "mode": "urls"})
    assert resp.status == 400 and resp.body["use_mode"] == "credentials"
    assert "credentials" in resp.body["message"]


def test_lambda_sized_answer_is_refused_not_sent(make_signer, put_doc, monkeypatch):
    """Session credentials (as a Lambda has) put a long token in every URL: 10,000 files would
    make an answer far over API Gateway's 6 MB; URL mode refuses before signing them all."""
    monkeypatch.setenv("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjE" + "A" * 1100)
    put_doc("big", "1", LOC, files=many(10_000))
    started = time.perf_counter()
    resp = call(make_signer(), {"dataset": "big", "mode": "urls"})
    assert resp.status == 400 and resp.body["use_mode"] == "credentials", resp.status
    assert len(resp.body_bytes()) < 6_000_000
    assert time.perf_counter() - started < 20


def test_auto_mode_answers_with_credentials_when_urls_would_be_too_big(make_signer, put_doc, google_sa):
    apis = google_sa["apis"]
    put_doc("big", "1", GLOC, files=many(60))
    signer = make_signer(gcs_key_file=google_sa["path"], gcs_sts_url=apis.url + "/v1/token", max_answer_bytes=20_000)
    resp = call(signer, {"dataset": "big"})
    assert resp.status == 200 and resp.body["mode"] == "credentials", resp.body
    assert "answer" in resp.body["mode_reason"]
    assert len(resp.body_bytes()) <= 20_000 or resp.body.get("files_omitted") == 60


def test_credentials_answer_drops_the_file_list_to_stay_in_bounds(make_signer, put_doc, google_sa):
    apis = google_sa["apis"]
    put_doc("huge", "1", GLOC, files=many(400))
    signer = make_signer(gcs_key_file=google_sa["path"], gcs_sts_url=apis.url + "/v1/token", max_answer_bytes=30_000)
    resp = call(signer, {"dataset": "huge", "mode": "credentials"})
    assert resp.status == 200 and resp.body["files"] == [] and resp.body["files_omitted"] == 400
    assert len(resp.body_bytes()) < 30_000 and any("left out" in w for w in resp.body["warnings"])


# ---- 5/6. A deadline on every outbound call -----------------------------------------------------


@pytest.fixture
def trickle():
    server = Trickle(interval=0.1, limit=80).start()  # 8 s of trickling per connection
    try:
        yield server
    finally:
        server.stop()


def test_auth_that_trickles_bytes_is_cut_at_the_deadline(make_signer, put_doc, trickle):
    put_doc("syn", "1", LOC, files=ONE)
    signer = make_signer(auth_url=trickle.url + "/auth", auth_timeout=1.0)
    started = time.perf_counter()
    resp = call(signer, {"dataset": "syn"})
    took = time.perf_counter() - started
    assert resp.status == 503 and resp.body["error"] == "auth_unavailable"
    assert took < 3.0, f"held {took:.1f} s by a trickling auth service"


def test_signblob_that_trickles_is_cut_at_the_deadline(make_signer, put_doc, google_sa, trickle):
    put_doc("syn", "1", GLOC, files=ONE)
    signer = make_signer(gcs_key_file=google_sa["path"], gcs_signing="iam", iam_credentials_url=trickle.url, outbound_deadline=1.0)
    started = time.perf_counter()
    resp = call(signer, {"dataset": "syn", "mode": "urls"})
    assert resp.status == 502 and resp.body["error"] == "signing_failed", resp.body
    assert time.perf_counter() - started < 3.0


def test_sts_that_trickles_is_cut_at_the_deadline(make_signer, put_doc, google_sa, trickle):
    put_doc("syn", "1", GLOC, files=ONE)
    signer = make_signer(gcs_key_file=google_sa["path"], gcs_sts_url=trickle.url + "/v1/token", outbound_deadline=1.0)
    started = time.perf_counter()
    resp = call(signer, {"dataset": "syn", "mode": "credentials"})
    assert resp.status == 502 and resp.body["error"] == "signing_failed", resp.body
    assert time.perf_counter() - started < 3.0


def test_an_auth_blip_is_retried_within_the_deadline(make_signer, put_doc, cave):
    put_doc("syn", "1", LOC, files=ONE)
    cave.unavailable_next = 1
    resp = call(make_signer(), {"dataset": "syn"})
    assert resp.status == 200, resp.body
    assert cave.calls["GET /auth/api/v1/user/cache"] == 2


# ---- 8. The edges: bodies, tokens, anchors, Lambda events ---------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"[" * 8000, b'{"dataset": ' + b"[" * 8000 + b"}", b'{"dataset": "synapses\\n"}', b'{"dataset": "synapses", "version": "1\\n"}', b"\xff\xfe"],
)
def test_hostile_bodies_are_json_400(make_signer, put_doc, raw):
    put_doc("synapses", "1", LOC, files=ONE)
    resp = call(make_signer(max_body_bytes=16 * 1024), raw=raw)
    assert resp.status == 400 and resp.body["error"] == "bad_request", resp.body


@pytest.mark.parametrize("token", ["tok-ŝ-reader", "tok reader", "tok\u2028x", "a" * 5000])
@pytest.mark.parametrize("via", ["header", "cookie", "query"])
def test_tokens_outside_the_token_grammar_are_401(make_signer, put_doc, cave, token, via):
    put_doc("syn", "1", LOC, files=ONE)
    resp = call(make_signer(), {"dataset": "syn"}, token=token, via=via)
    assert resp.status == 401 and resp.body["error"] == "invalid_token"
    assert cave.calls == {}


def rest_v1_event(method: str, path: str, body=None, headers=None, b64=False) -> dict:
    """An API Gateway REST API (payload format 1.0) proxy event."""
    return {
        "resource": "/{proxy+}", "path": path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": None, "queryStringParameters": None,
        "multiValueQueryStringParameters": None, "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {"resourcePath": "/{proxy+}", "httpMethod": method, "path": f"/prod{path}", "stage": "prod",
                           "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "identity": {"sourceIp": "198.51.100.7"}},
        "body": body, "isBase64Encoded": b64,
    }


@pytest.fixture
def lambda_signer(lambda_env):
    from signer_function import aws_lambda

    return aws_lambda.handler


def test_lambda_rest_api_v1_events_are_routed_by_path(lambda_signer):
    health = lambda_signer(rest_v1_event("GET", "/health"), None)
    assert health["statusCode"] == 200 and json.loads(health["body"])["status"] == "ok"
    auth = {"Authorization": f"Bearer {TOKENS['reader']}"}
    nosuch = lambda_signer(rest_v1_event("POST", "/nosuch", json.dumps({"dataset": "syn"}), auth), None)
    assert nosuch["statusCode"] == 404
    ok = lambda_signer(rest_v1_event("POST", "/sign", json.dumps({"dataset": "syn"}), auth), None)
    assert ok["statusCode"] == 200 and json.loads(ok["body"])["files"]


@pytest.mark.parametrize("mutate", [
    lambda ev: ev.update(body="%%% not base64 %%%", isBase64Encoded=True),
    lambda ev: ev.update(body={"dataset": "syn"}),
    lambda ev: ev.update(body=12),
    lambda ev: ev.update(headers=None, cookies="middle_auth_token=x"),
])
def test_lambda_unreadable_events_are_json_400(lambda_signer, mutate):
    ev = event("POST", "/sign", body="{}", headers={"authorization": f"Bearer {TOKENS['reader']}"})
    mutate(ev)
    out = lambda_signer(ev, None)
    assert out["statusCode"] in (400, 401) and json.loads(out["body"])["error"] in ("bad_request", "no_token")


def test_lambda_base64_body_still_works(lambda_signer):
    body = base64.b64encode(json.dumps({"dataset": "syn"}).encode()).decode()
    ev = rest_v1_event("POST", "/sign", body, {"Authorization": f"Bearer {TOKENS['reader']}"}, b64=True)
    assert lambda_signer(ev, None)["statusCode"] == 200


@pytest.mark.parametrize("key,value", [("AUTH_TIMEOUT", "soon"), ("MAX_EXPIRES", "-1"), ("SIGNER_MAX_URL_FILES", "1e9x"), ("SIGNER_OUTBOUND_DEADLINE", "nan")])
def test_unreadable_numbers_in_the_environment_fail_closed(tmp_registry, key, value):
    signer = Signer(Config.from_env({"REGISTRY_URI": tmp_registry, "AUTH_URL": "http://127.0.0.1:9/auth",
                                     "ALLOWED_LOCATIONS": "s3://lab-tables", key: value}))
    health = call(signer, method="GET", path="/health", token=None)
    assert health.status == 503 and key in health.body["problem"]
    resp = call(signer, {"dataset": "syn"})
    assert resp.status == 503 and key in resp.body["message"]
