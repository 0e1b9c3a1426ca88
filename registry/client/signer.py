"""Talking to the signer: one POST per table version, answers kept until shortly before they expire,
and every refusal turned into an exception that says what to do next."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import requests

from .errors import (
    AuthenticationError,
    CatalogUnavailable,
    ClientError,
    DatasetNotFound,
    PermissionDenied,
    SignerNotConfigured,
    TermsOfServiceRequired,
)
from .retry import retrying_session

TIMEOUT = (5, 120)
RENEW_BEFORE = dt.timedelta(seconds=120)


@dataclass(frozen=True)
class SignedFile:
    """One data file of a pinned version: a short-lived URL, its size and rows, and its partition
    values (hive `key=value` directories are lost in signed URLs, so they come separately)."""

    url: str
    size: Optional[int]
    num_rows: Optional[int]
    partition: dict[str, Any] = field(default_factory=dict)
    uri: Optional[str] = None
    stats: Optional[dict[str, Any]] = None  # {"min": {...}, "max": {...}} of integer columns, when recorded


@dataclass
class SignedTable:
    """The signer's answer for one version (see docs/signer.md)."""

    raw: dict[str, Any]

    @property
    def mode(self) -> str:
        return self.raw.get("mode", "urls")

    @property
    def files(self) -> list[SignedFile]:
        return [SignedFile(f["url"], f.get("size"), f.get("num_rows"), dict(f.get("partition") or {}), f.get("uri"),
                           f.get("stats"))
                for f in self.raw.get("files") or []]

    @property
    def credentials(self) -> Optional[dict[str, Any]]:
        return self.raw.get("credentials")

    @property
    def storage_options(self) -> dict[str, Any]:
        return dict((self.credentials or {}).get("storage_options") or {})

    @property
    def expires_at(self) -> Optional[dt.datetime]:
        value = self.raw.get("expires_at")
        if not value:
            return None
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))

    @property
    def warnings(self) -> list[str]:
        return list(self.raw.get("warnings") or [])

    def fresh(self) -> bool:
        exp = self.expires_at
        return exp is None or exp - RENEW_BEFORE > dt.datetime.now(dt.timezone.utc)


TOKEN_HELP = (
    "Get a CAVE token (CAVEclient: `client.auth.get_new_token()`, then `client.auth.save_token(token)`), "
    "or pass `token=` / set CAVE_TOKEN."
)


class SignerClient:
    def __init__(self, url: Optional[str], token: Callable[[], Optional[str]], cave_server: str,
                 session: Optional[requests.Session] = None):
        self.url = url.rstrip("/") if url else None
        self._token = token
        self.cave_server = cave_server.rstrip("/")
        self.session = session or retrying_session()
        self._answers: dict[tuple, SignedTable] = {}
        self._lock = threading.Lock()

    def sign(self, name: str, version: str, *, mode: Optional[str] = None, expires_in: int = 3600,
             layout: Optional[str] = None) -> SignedTable:
        key = (name, version, mode) if layout is None else (name, version, mode, layout)
        with self._lock:
            cached = self._answers.get(key)
        if cached is not None and cached.fresh():
            return cached
        if not self.url:
            raise SignerNotConfigured(
                "no signer URL: pass Catalog(..., signer_url=URL), set FEATURE_REGISTRY_SIGNER_URL, "
                "or use a catalog site that advertises its signer"
            )
        token = self._token()
        if not token:
            raise AuthenticationError(f"no CAVE token found for {self.cave_server}. {TOKEN_HELP}", code="no_token")
        body: dict[str, Any] = {"dataset": name, "version": version, "expires_in": int(expires_in)}
        if mode:
            body["mode"] = mode
        if layout:
            body["layout"] = layout
        try:
            resp = self.session.post(f"{self.url}/sign", json=body, timeout=TIMEOUT,
                                     headers={"Authorization": f"Bearer {token}"})
        except requests.RequestException as exc:
            raise CatalogUnavailable(f"cannot reach the signer at {self.url}: {type(exc).__name__}") from None
        if resp.status_code != 200:
            raise self._error(resp, name, version)
        answer = SignedTable(resp.json())
        for w in answer.warnings:
            import warnings

            warnings.warn(f"{name}@{answer.raw.get('version', version)}: {w}", stacklevel=3)
        with self._lock:
            self._answers[key] = answer
            if version == "latest" and layout is None:
                self._answers[(name, answer.raw.get("version"), mode)] = answer
        return answer

    def _error(self, resp: requests.Response, name: str, version: str) -> ClientError:
        try:
            body = resp.json()
        except ValueError:
            body = {}
        code = body.get("error") if isinstance(body, dict) else None
        msg = (body.get("message") if isinstance(body, dict) else None) or resp.text[:200]
        ref = f"{name}@{version}"
        status = resp.status_code
        if status == 401:
            return AuthenticationError(f"the signer refused the token for {ref} ({code}): {msg}. {TOKEN_HELP}",
                                       status=status, code=code, body=body)
        if status == 403 and code == "missing_tos":
            terms = body.get("tos") or []
            names = ", ".join(f"{t.get('tos_name')} (id {t.get('tos_id')}, dataset {t.get('dataset_name')})" for t in terms)
            where = "; ".join(f"{self.cave_server}/sticky_auth/api/v1/tos/{t.get('tos_id')}/accept" for t in terms)
            return TermsOfServiceRequired(
                f"{ref}: accept the terms of service first: {names or msg}. Accept them while logged in at: "
                f"{where or self.cave_server}, then try again.",
                terms=terms, status=status, code=code, body=body)
        if status == 403:
            hint = {
                "no_permission": "ask the dataset's owners or your CAVE admin for access",
                "location_not_allowed": "the signer is not configured to sign this table's location; tell the catalog's operators",
            }.get(code or "", "")
            return PermissionDenied(f"{ref}: {msg}" + (f" ({hint})" if hint else ""), status=status, code=code, body=body)
        if status == 404:
            return DatasetNotFound(f"{ref}: {msg}", status=status, code=code, body=body)
        return CatalogUnavailable(f"the signer answered {status} for {ref} ({code}): {msg}", status=status, code=code, body=body)
