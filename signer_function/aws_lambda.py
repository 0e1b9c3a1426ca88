"""AWS Lambda entry point for API Gateway HTTP API (payload format 2.0): `handler(event, context)`.

Routes: `POST /sign`, `GET /health`, `OPTIONS` (or `$default` with everything). A stage prefix in
the path (`/prod/sign`) is tolerated: routing uses the last path segment.
"""

from __future__ import annotations

import base64
from http.cookies import SimpleCookie
from typing import Any

from .core import Request, default_signer


def _cookies(event: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in event.get("cookies") or []:
        jar = SimpleCookie()
        try:
            jar.load(raw)
        except Exception:
            continue
        out.update({k: m.value for k, m in jar.items()})
    return out


def to_core(event: dict[str, Any], limit: int) -> Request:
    http = (event.get("requestContext") or {}).get("http") or {}
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    cookies = _cookies(event)
    if not cookies and headers.get("cookie"):
        cookies = _cookies({"cookies": [headers["cookie"]]})
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    return Request(
        method=http.get("method") or event.get("httpMethod") or "GET",
        path=event.get("rawPath") or http.get("path") or "/",
        headers=headers,
        cookies=cookies,
        query=dict(event.get("queryStringParameters") or {}),
        body=None if len(body) > limit else body,
        too_large=len(body) > limit,
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
