"""Facts from CAVE for `publish --verify-cave`: recorded under `checks`, never blocking.

We speak CAVE's public REST API directly (the same endpoints CAVEclient calls: the info service
for the datastack, the materialization service for versions and tables) with `requests`, instead
of importing CAVEclient: it drags in a large dependency tree for four GET requests, and talking
HTTP keeps this testable against a local stand-in. Tokens are found the way CAVEclient finds them.

Anything that cannot be checked (no network, no token, service error) is recorded as
`ok: null` with the reason, so a reader can tell "checked and false" from "not checked".
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlparse

import requests

from .model import (
    CHECK_ANNOTATION_TABLE_EXISTS,
    CHECK_DATASTACK_EXISTS,
    CHECK_MAT_EXPIRES_ON,
    CHECK_MAT_VERSION_EXISTS,
    CHECK_MAT_VERSION_VALID,
    Check,
    DatasetSpec,
)

DEFAULT_SERVER = "https://global.daf-apis.com"
TIMEOUT = 10


def find_token(server: str = DEFAULT_SERVER, explicit: Optional[str] = None) -> Optional[str]:
    """Explicit, env CAVE_TOKEN, then CAVEclient's secret files (server-specific one first)."""
    if explicit:
        return explicit
    if os.environ.get("CAVE_TOKEN"):
        return os.environ["CAVE_TOKEN"]
    secrets = Path(os.environ.get("CAVE_SECRETS_DIR", Path.home() / ".cloudvolume" / "secrets"))
    host = urlparse(server).netloc
    for name in (f"{host}-cave-secret.json", "cave-secret.json"):
        path = secrets / name
        try:
            token = json.loads(path.read_text()).get("token")
        except (OSError, ValueError, AttributeError):
            continue
        if token:
            return token
    return None


class _NotChecked(Exception):
    pass


class CaveFacts:
    """The few GETs we need, with one session and one error policy."""

    def __init__(self, server: str, token: Optional[str]):
        self.server = server.rstrip("/")
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def _get(self, path: str, **params: Any) -> Any:
        url = f"{self.server}{path}"
        try:
            resp = self.session.get(url, params=params or None, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise _NotChecked(f"cannot reach {self.server} ({type(exc).__name__})") from None
        if resp.status_code == 404:
            return None
        if resp.status_code in (401, 403):
            raise _NotChecked(f"{self.server} refused our token ({resp.status_code}); set CAVE_TOKEN")
        if resp.status_code >= 400:
            raise _NotChecked(f"{url} answered {resp.status_code}")
        return resp.json()

    def datastack(self, name: str) -> Optional[dict]:
        return self._get(f"/info/api/v2/datastack/full/{name}")

    def versions_metadata(self, datastack: str) -> list[dict]:
        return self._get(f"/materialize/api/v3/datastack/{datastack}/metadata", expired="true") or []

    def tables(self, datastack: str, version: int) -> Optional[list[str]]:
        return self._get(f"/materialize/api/v2/datastack/{datastack}/version/{version}/tables")


def verify(
    spec: DatasetSpec,
    *,
    at: dt.datetime,
    server: Optional[str] = None,
    token: Optional[str] = None,
) -> list[Check]:
    server = server or os.environ.get("CAVE_SERVER") or DEFAULT_SERVER
    facts = CaveFacts(server, find_token(server, token))
    checks: list[Check] = []

    def record(check: str, ok: Optional[bool], detail: str, subject: Optional[str] = None) -> None:
        checks.append(Check(check=check, ok=ok, detail=detail, checked_at=at, subject=subject))

    versions = spec.materialization.all_versions
    tables = sorted({r.annotation_table for r in spec.references if r.annotation_table})
    try:
        info = facts.datastack(spec.datastack)
        record(CHECK_DATASTACK_EXISTS, info is not None, "found" if info else "not found", spec.datastack)
        if info is None:
            return checks
        known = {int(m["version"]): m for m in facts.versions_metadata(spec.datastack)}
        for v in versions:
            meta = known.get(v)
            record(CHECK_MAT_VERSION_EXISTS, meta is not None, "found" if meta else "not in CAVE", str(v))
            if meta is None:
                continue
            valid = bool(meta.get("valid"))
            record(CHECK_MAT_VERSION_VALID, valid, f"valid={valid} status={meta.get('status', '?')}", str(v))
            expires = meta.get("expires_on")
            record(
                CHECK_MAT_EXPIRES_ON,
                True,
                f"expires on {expires}" if expires else "no expiry set (kept indefinitely)",
                str(v),
            )
            present = set(facts.tables(spec.datastack, v) or [])
            for table in tables:
                ok = table in present
                record(CHECK_ANNOTATION_TABLE_EXISTS, ok, f"{'present' if ok else 'absent'} at version {v}", table)
    except _NotChecked as exc:
        done = {(c.check, c.subject) for c in checks}
        wanted = [(CHECK_DATASTACK_EXISTS, spec.datastack)] + [
            (c, str(v)) for v in versions for c in (CHECK_MAT_VERSION_EXISTS, CHECK_MAT_VERSION_VALID)
        ] + [(CHECK_ANNOTATION_TABLE_EXISTS, t) for t in tables]
        for check, subject in wanted:
            if (check, subject) not in done:
                record(check, None, f"not checked: {exc}", subject)
    return checks
