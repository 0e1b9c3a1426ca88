"""The Lambda entry point with API Gateway HTTP API (payload 2.0) event shapes."""

from __future__ import annotations

import base64
import json


from signer_function import aws_lambda

from .conftest import TOKENS
from .verify import verify_sigv4


def event(method: str, path: str, *, body: str | None = None, headers: dict | None = None, cookies: list | None = None,
          query: dict | None = None, b64: bool = False, stage: str = "$default") -> dict:
    """An API Gateway HTTP API v2 event, as documented (fields a real event carries)."""
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    hdrs = {"accept": "*/*", "content-length": str(len(body or "")), "host": "abc123.execute-api.us-east-1.amazonaws.com",
            "user-agent": "python-requests/2.32", "x-amzn-trace-id": "Root=1-5e1b7f3c-1", "x-forwarded-for": "198.51.100.7",
            "x-forwarded-port": "443", "x-forwarded-proto": "https", **(headers or {})}
    ev = {
        "version": "2.0",
        "routeKey": f"{method} {path}" if stage == "$default" else "$default",
        "rawPath": raw_path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": hdrs,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7", "userAgent": "python-requests/2.32"},
            "requestId": "JKJaXmPLvHcESHA=", "routeKey": f"{method} {path}", "stage": stage,
            "time": "24/Nov/2026:08:30:00 +0000", "timeEpoch": 1795509000000,
        },
        "isBase64Encoded": b64,
    }
    if cookies:
        ev["cookies"] = cookies
    if query:
        ev["queryStringParameters"] = query
    if body is not None:
        ev["body"] = base64.b64encode(body.encode()).decode() if b64 else body
    return ev


def test_sign_with_bearer(lambda_env):
    out = aws_lambda.handler(event("POST", "/sign", body=json.dumps({"dataset": "syn"}),
                                   headers={"authorization": f"Bearer {TOKENS['reader']}", "content-type": "application/json"}), None)
    assert out["statusCode"] == 200 and out["headers"]["Content-Type"] == "application/json"
    body = json.loads(out["body"])
    assert body["files"][0]["partition"] == {"region": "a"}
    assert verify_sigv4(body["files"][0]["url"], "lambda-secret").valid


def test_cookie_base64_body_and_stage_prefix(lambda_env):
    ev = event("POST", "/sign", body=json.dumps({"dataset": "syn"}), b64=True, stage="prod",
               cookies=[f"middle_auth_token={TOKENS['reader']}", "other=1"])
    assert aws_lambda.handler(ev, None)["statusCode"] == 200


def test_query_token(lambda_env):
    ev = event("POST", "/sign", body=json.dumps({"dataset": "syn"}), query={"middle_auth_token": TOKENS["reader"]})
    assert aws_lambda.handler(ev, None)["statusCode"] == 200


def test_errors_and_health(lambda_env):
    out = aws_lambda.handler(event("POST", "/sign", body="{}"), None)
    assert out["statusCode"] == 401 and json.loads(out["body"])["error"] == "no_token"
    big = aws_lambda.handler(event("POST", "/sign", body="x" * 20000, headers={"authorization": "Bearer t"}), None)
    assert big["statusCode"] == 413
    health = aws_lambda.handler(event("GET", "/health"), None)
    assert health["statusCode"] == 200 and json.loads(health["body"])["status"] == "ok"


def test_cors_preflight(lambda_env):
    out = aws_lambda.handler(event("OPTIONS", "/sign", headers={"origin": "https://catalog.example.org",
                                                                "access-control-request-method": "POST",
                                                                "access-control-request-headers": "authorization,content-type"}), None)
    assert out["statusCode"] == 204
    assert out["headers"]["Access-Control-Allow-Origin"] == "https://catalog.example.org"
    assert out["headers"]["Access-Control-Allow-Credentials"] == "true"
