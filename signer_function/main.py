"""Google Cloud Functions / Cloud Run entry point: `functions-framework --target=sign`.

Run locally from the repository root:
    functions-framework --target=sign --source=signer_function/main.py --host=127.0.0.1 --port=8089

functions-framework loads this file by path, so the package's parent is put on `sys.path` first.
Only the light core is imported at cold start; signing clients load on first use.
"""

from __future__ import annotations

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from signer_function.config import Config  # noqa: E402
from signer_function.core import Request, default_signer  # noqa: E402

if Config.from_env().preload:  # SIGNER_PRELOAD=1: SDK imports and clients at cold start
    default_signer().preload()


def to_core(request) -> Request:  # a flask.Request
    limit = default_signer().config.max_body_bytes
    length = request.content_length
    too_large = length is not None and length > limit
    body = None if too_large else request.stream.read(limit + 1)
    if body is not None and len(body) > limit:
        too_large, body = True, None
    return Request(
        method=request.method,
        path=request.path,
        headers={k.lower(): v for k, v in request.headers.items()},
        cookies=dict(request.cookies),
        query={k: v for k, v in request.args.items()},
        body=body,
        too_large=too_large,
    )


def sign(request):
    """HTTP function: POST /sign, GET /health, OPTIONS (CORS preflight)."""
    resp = default_signer().handle(to_core(request))
    headers = dict(resp.headers)
    if resp.body is not None:
        headers["Content-Type"] = "application/json"
    return resp.body_bytes(), resp.status, headers
