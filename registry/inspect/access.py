"""Storage access for inspection: bounded remote calls, and the one place errors are classified.

Three libraries with their own object-store clients (delta-rs, lance, pyiceberg over fsspec) and
fsspec itself fail in their own words. A table cannot be called "truncated or corrupt" when the
real cause is that the store was never reached (no `AWS_ENDPOINT_URL`, a dead endpoint) or refused
us (no or wrong credentials). `classify` recognises those causes in any of the libraries' messages
and says which setting to look at; `summary` turns a Rust error (ANSI colours, `↳` cause chains,
backtraces, source paths, debug dumps of structs) into one readable line.

`bounded_object_store_options` adds timeouts and a retry budget to the `object_store` options
(delta-rs, lance): their default is 10 retries within 3 minutes per request, which looks like a hang.
"""

from __future__ import annotations

import os
import re
from typing import Any, Optional

from .. import storage
from ..env import aws_endpoint
from ..errors import TableUnreadable

MAX_MESSAGE = 300

# object_store (delta-rs) reads `max_retries` / `retry_timeout`; lance spells them with `client_`.
_BOUNDS_DELTA = {"timeout": "60s", "connect_timeout": "10s", "max_retries": "3", "retry_timeout": "30s"}
_BOUNDS_LANCE = {"timeout": "60s", "connect_timeout": "10s", "client_max_retries": "3", "client_retry_timeout": "30"}

_CREDENTIALS = re.compile(
    r"loading credentials|NoCredentials|Unable to locate credentials|InvalidAccessKeyId|"
    r"SignatureDoesNotMatch|ExpiredToken|InvalidToken|AccessDenied|Access Denied|Forbidden|"
    r"\b403\b|\b401\b|Unauthenticated|PermissionDenied|permission denied|Missing credentials|"
    r"invalid_grant|DefaultCredentialsError|credentials were not found|169\.254\.169\.254|IMDS",
    re.IGNORECASE,
)
_ENDPOINT = re.compile(
    r"dns error|Name or service not known|Temporary failure in name resolution|nodename nor servname|"
    r"Connection refused|tcp connect error|EndpointConnectionError|Could not connect to the endpoint|"
    r"Cannot connect to host|ConnectTimeout|connect timeout|timed out|ClientConnectorError|"
    r"Connection reset|error sending request|No route to host|Network is unreachable",
    re.IGNORECASE,
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_FRAME = re.compile(r"^\s*(\d+: |at \S+:\d+)")
_SOURCE = re.compile(r",?\s*/\S+\.rs:\d+:\d+")


def bounded_object_store_options(location: str, library: str) -> dict[str, str]:
    """`storage.object_store_options(location)` with timeouts and a retry budget for `library`
    (`"delta"` or `"lance"`), so no request of an inspection can stall for minutes."""
    options = storage.object_store_options(location)
    if storage.protocol_of(location) in ("s3", "gs", "az", "abfs", "abfss"):
        for k, v in (_BOUNDS_DELTA if library == "delta" else _BOUNDS_LANCE).items():
            options.setdefault(k, v)
    return options


def _chain(exc: BaseException) -> str:
    """The text of an exception and its causes, for pattern matching."""
    parts = []
    seen = set()
    cur: Optional[BaseException] = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        parts.append(f"{type(cur).__name__}: {cur}")
        cur = cur.__cause__ or cur.__context__
    return "\n".join(parts)


def summary(exc: BaseException | str, limit: int = MAX_MESSAGE) -> str:
    """One readable line from a library's error: no colours, backtrace frames, source paths or
    struct dumps; a Rust cause chain (`a ↳ b ↳ c`) joined as `a: b: c`."""
    text = exc if isinstance(exc, str) else (str(exc).strip() or type(exc).__name__)
    text = _ANSI.sub("", text)
    lines = []
    for line in text.splitlines():
        if _FRAME.match(line):
            continue
        line = line.strip().lstrip("↳").strip()
        if line:
            lines.append(line)
    out = ": ".join(lines)
    out = _SOURCE.sub("", out)
    # A Rust debug dump (`Error { kind: ..., source: Some(...) }`) says nothing a person needs.
    dump = re.search(r"\s*\b[A-Z][A-Za-z]*\s*\{\s*[a-z_]+:", out)
    if dump:
        names = list(dict.fromkeys(re.findall(r'filename: "([^"]+)"', out[dump.start() :])))
        out = out[: dump.start()].rstrip(" :(,") + (f" ({', '.join(names)})" if names else " (details omitted)")
    out = re.sub(r"\s+", " ", out).strip()
    return out if len(out) <= limit else out[: limit - 1].rstrip() + "…"


def _settings(location: str) -> str:
    proto = storage.protocol_of(location)
    if proto == "s3":
        endpoint = aws_endpoint()
        keys = "set" if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY") else "not set"
        where = f"AWS_ENDPOINT_URL={endpoint}" if endpoint else "AWS_ENDPOINT_URL not set (so: AWS itself)"
        return f"{where}; AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY {keys}"
    if proto == "gs":
        emulator = os.environ.get("STORAGE_EMULATOR_HOST")
        creds = "set" if os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") else "not set (Application Default Credentials)"
        return (f"STORAGE_EMULATOR_HOST={emulator}; " if emulator else "") + f"GOOGLE_APPLICATION_CREDENTIALS {creds}"
    return ""


def classify(location: str, exc: BaseException) -> Optional[TableUnreadable]:
    """A `TableUnreadable` naming an unreachable store or refused credentials, or None when the
    error is about the table itself (then the caller says what is wrong with the table)."""
    if isinstance(exc, TableUnreadable):
        return exc
    if storage.protocol_of(location) == "file":
        return None
    text = _chain(exc)
    if isinstance(exc, PermissionError) or _CREDENTIALS.search(text):
        what = "the object store refused the request: missing or wrong credentials"
    elif isinstance(exc, (ConnectionError, TimeoutError)) or _ENDPOINT.search(text):
        what = "the object store cannot be reached: check the endpoint"
    else:
        return None
    hint = _settings(location)
    return TableUnreadable(f"{location}: {what} ({hint}): {summary(exc)}")


def unreadable(location: str, what: str, exc: BaseException) -> TableUnreadable:
    """The error to raise for `exc` while doing `what`: a storage-access error when that is the
    cause, else `location: what: <summary of exc>`."""
    return classify(location, exc) or TableUnreadable(f"{location}: {what}: {summary(exc)}")


def probe(location: str, fs: Any, path: str) -> bool:
    """`fs.exists(path)`, with a storage-access failure raised as such (never taken for absence)."""
    try:
        return bool(fs.exists(path))
    except Exception as exc:  # noqa: BLE001 - classified below
        raise classify(location, exc) or TableUnreadable(
            f"{location}: cannot check whether {path} exists: {summary(exc)}"
        ) from None


def missing_table(location: str, uri: str, marker: str, what: str) -> Optional[TableUnreadable]:
    """The first thing a Rust table library's failure can mean: the location is absent, or holds
    no `marker` directory (`_delta_log`, `_versions`), said as such; None when both are there.
    `uri` is the library's form of the location (a plain path for local tables)."""
    fs, path = storage.filesystem(location if storage.protocol_of(location) != "file" else uri)
    if not probe(location, fs, path):
        return TableUnreadable(f"{location}: location does not exist")
    if not probe(location, fs, path.rstrip("/") + "/" + marker):
        return TableUnreadable(f"{location}: not a {what} (no {marker}/ directory)")
    return None
