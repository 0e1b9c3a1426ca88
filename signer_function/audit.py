"""One JSON line per decision on stdout (Cloud Logging and CloudWatch both parse it).

The line carries who (CAVE user id), what (dataset, version, mode, file count), the outcome and
the latency. It never carries the token: the record is built from an allow-list of fields and the
token object itself redacts its value.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
from typing import Any, Optional, TextIO

_lock = threading.Lock()

FIELDS = (
    "request_id", "outcome", "status", "error", "user_id", "dataset", "version", "format", "mode",
    "signing", "files", "expires_in", "token_source", "latency_ms", "origin", "reason",
)


def record(stream: Optional[TextIO] = None, **fields: Any) -> dict[str, Any]:
    line = {"ts": dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z"), "event": "signer.decision"}
    line.update({k: fields[k] for k in FIELDS if fields.get(k) is not None})
    text = json.dumps(line, separators=(",", ":"), default=str)
    out = stream or sys.stdout
    with _lock:
        out.write(text + "\n")
        out.flush()
    return line
