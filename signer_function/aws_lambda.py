"""AWS Lambda entry point for API Gateway: `handler(event, context)`.

Both event shapes are read: HTTP API (payload format 2.0: `rawPath`, `requestContext.http`,
`cookies`) and REST API / payload 1.0 (`path`, `httpMethod`, `multiValueHeaders`, a `Cookie`
header). Routes: `POST /sign`, `GET /health`, `OPTIONS` (or `$default` / `{proxy+}` with
everything). A stage prefix in the path (`/prod/sign`) is tolerated: routing uses the last path
segment. An event the adapter cannot read (invalid base64, a body that is not a string) is a JSON
400, never an exception.
"""

from __future__ import annotations

import base64
import binascii
from http.cookies import CookieError, SimpleCookie
from typing import Any

from .config import Config
from .core import Request, default_signer

if Config.from_env().preload:  # SIGNER_PRELOAD=1: SDK imports and clients during init
    default_signer().preload()


def _cookies(raw_cookies: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in raw_cookies if isinstance(raw_cookies, list) else []:
        if not isinstance(raw, str):
            continue
        jar = SimpleCookie()
        try:
            jar.load(raw)
        except CookieError:
            continue
        out.update({k: m.value for k, m in jar.items()})
    return out


def _strings(mapping: Any) -> dict[str, str]:
    """A header/query map with only string keys and values (API Gateway sends null for none)."""
    if not isinstance(mapping, dict):
        return {}
    return {k: v for k, v in mapping.items() if isinstance(k, str) and isinstance(v, str)}


def _body(event: dict[str, Any]) -> tuple[bytes, str | None]:
    raw = event.get("body")
    if raw is None:
        return b"", None
    if not isinstance(raw, str):
        return b"", "the request body must be a JSON text"
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(raw, validate=True), None
        except (binascii.Error, ValueError):
            return b"", "the request body is not valid base64"
    try:
        return raw.encode("utf-8"), None
    except UnicodeEncodeError:
        return b"", "the request body is not valid UTF-8"


def to_core(event: dict[str, Any], limit: int) -> Request:
    if not isinstance(event, dict):
        return Request(method="POST", path="/", malformed="the event is not an API Gateway request")
    context: dict[str, Any] = raw if isinstance(raw := event.get("requestContext"), dict) else {}
    http: dict[str, Any] = raw if isinstance(raw := context.get("http"), dict) else {}
    headers = {k.lower(): v for k, v in _strings(event.get("headers")).items()}
    cookies = _cookies(event.get("cookies"))
    if not cookies and headers.get("cookie"):
        cookies = _cookies([headers["cookie"]])
    body, malformed = _body(event)
    method = http.get("method") or event.get("httpMethod") or "GET"
    path = event.get("rawPath") or http.get("path") or event.get("path") or "/"
    return Request(
        method=method if isinstance(method, str) else "GET",
        path=path if isinstance(path, str) else "/",
        headers=headers,
        cookies=cookies,
        query=_strings(event.get("queryStringParameters")),
        body=None if len(body) > limit else body,
        too_large=len(body) > limit,
        malformed=malformed,
    )


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    signer = default_signer()
    resp = signer.handle(to_core(event, signer.config.max_body_bytes))
    headers = dict(resp.headers)
    if resp.body is not None:
        headers["Content-Type"] = "application/json"
    return {
        "statusCode": resp.status,
        "headers": headers,
        "body": resp.body_bytes().decode("utf-8"),
        "isBase64Encoded": False,
    }
