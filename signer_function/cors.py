"""CORS for browser callers: allowed origins come from `CORS_ORIGINS` (comma-separated, or `*`).

An explicitly listed origin may send credentials (the `middle_auth_token` cookie); `*` allows any
origin but, as browsers require, without credentials. Unlisted origins get no CORS headers at all,
so the browser blocks the read.
"""

from __future__ import annotations

from typing import Optional

from .config import Config

ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type"
MAX_AGE = "600"


def cors_headers(config: Config, origin: Optional[str]) -> dict[str, str]:
    if not origin or not config.cors_origins:
        return {}
    if origin in config.cors_origins:
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin",
        }
    if "*" in config.cors_origins:
        return {"Access-Control-Allow-Origin": "*"}
    return {}


def preflight_headers(config: Config, origin: Optional[str]) -> dict[str, str]:
    base = cors_headers(config, origin)
    if not base:
        return {"Vary": "Origin"}
    return {
        **base,
        "Access-Control-Allow-Methods": ALLOW_METHODS,
        "Access-Control-Allow-Headers": ALLOW_HEADERS,
        "Access-Control-Max-Age": MAX_AGE,
    }
