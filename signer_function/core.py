"""The one request handler both entry points share: route, authenticate, look up, authorize, sign.

`Signer.handle(Request) -> Response` knows nothing of Flask or API Gateway; `main.py` and
`aws_lambda.py` only translate. The order of checks is deliberate:

1. size (413) before reading anything; 2. token present (401) before any work;
3. body well-formed (400); 4. token valid (401, or 503 when auth is down: never grants);
5. the version exists and is not a draft (404); 6. its location may be signed (403);
7. the user holds the document's `access` permission on the CAVE dataset (403 / `missing_tos`);
8. manifest paths stay inside the location (400); 9. sign.

Every decision is one audit line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

from registry.model import NAME_PATTERN, VERSION_PATTERN, Format

from . import audit
from .auth import Authenticator, build_authenticator, extract_token
from .config import Config, SEVEN_DAYS
from .cors import cors_headers, preflight_headers
from .errors import BadRequest, MethodNotAllowed, NotFound, PayloadTooLarge, SignerError
from .lookup import Lookup, check_allowed, resolve_files, version_warnings

logger = logging.getLogger("signer_function")
MODES = ("urls", "credentials", "auto")
_NAME = re.compile(NAME_PATTERN)
_VERSION = re.compile(VERSION_PATTERN)
SERVICE_VERSION = "1"


@dataclass
class Request:
    """A transport-neutral HTTP request. `headers` keys are lower-case. `body` is None when the
    transport saw more than the size limit (then the adapter did not read the rest)."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: Optional[bytes] = b""
    too_large: bool = False


@dataclass
class Response:
    status: int
    body: Optional[dict[str, Any]]
    headers: dict[str, str] = field(default_factory=dict)

    def body_bytes(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body, separators=(",", ":")).encode()


@dataclass
class SignRequest:
    dataset: str
    version: str
    expires_in: Optional[int]
    mode: str
    layout: Optional[str] = None  # one of the document's `layouts` (default: its own location)


def parse_body(body: bytes) -> SignRequest:
    try:
        data = json.loads(body.decode("utf-8") if body else "")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest('the body must be JSON: {"dataset": NAME, "version": V|"latest", ...}') from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    unknown = sorted(set(data) - {"dataset", "version", "expires_in", "mode", "layout"})
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}")
    name = data.get("dataset")
    if not isinstance(name, str) or not _NAME.match(name):
        raise BadRequest("'dataset' must be a dataset name ([a-z][a-z0-9_]*)")
    version = data.get("version", "latest")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not (version == "latest" or _VERSION.match(version)):
        raise BadRequest("'version' must be a version label or \"latest\"")
    expires = data.get("expires_in")
    if expires is not None and (isinstance(expires, bool) or not isinstance(expires, int) or expires <= 0):
        raise BadRequest("'expires_in' must be a positive integer number of seconds")
    mode = data.get("mode", "auto")
    if mode not in MODES:
        raise BadRequest("'mode' must be \"urls\" or \"credentials\"")
    layout = data.get("layout")
    if layout is not None and (not isinstance(layout, str) or not _NAME.match(layout)):
        raise BadRequest("'layout' must be a layout name ([a-z][a-z0-9_]*)")
    return SignRequest(name, version, expires, mode, layout)


def credentials_reasons(doc: Any, file_count: int, config: Config) -> list[str]:
    """Why plain signed URLs would not read this version faithfully (empty: they would)."""
    out = []
    rf = doc.inspected.reader_features or {}
    if doc.format == Format.LANCE or rf.get("needs_credentials"):
        out.append("Lance reads need object-store credentials; it cannot read plain URLs")
    elif rf.get("faithful_file_list") is False:
        out.append(
            "the file list alone is not the table (deletion vectors, delete files or column mapping): "
            "read it with the format's own reader"
        )
    if file_count > config.max_url_files:
        out.append(f"{file_count} files is more than this signer lists as URLs ({config.max_url_files})")
    return out


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Signer:
    """Holds the per-process state (caches, HTTP sessions, signing clients) across warm requests."""

    def __init__(self, config: Config, authenticator: Optional[Authenticator] = None):
        self.config = config
        self.auth = authenticator or build_authenticator(config)
        self.lookup = Lookup(config.registry_uri, ttl=config.registry_cache_ttl) if config.registry_uri else None
        self._gcs: Any = None
        self._s3: Any = None
        self._lock = threading.Lock()

    # ---- signing back ends, built lazily (cold start stays light)
    @property
    def gcs(self) -> Any:
        with self._lock:
            if self._gcs is None:
                from .signing_gcs import GcsSigner

                self._gcs = GcsSigner(self.config)
            return self._gcs

    @property
    def s3(self) -> Any:
        with self._lock:
            if self._s3 is None:
                from .signing_s3 import s3_client

                self._s3 = s3_client(self.config)
            return self._s3

    # ---- entry
    def handle(self, request: Request) -> Response:
        origin = request.headers.get("origin")
        method = request.method.upper()
        route = request.path.rstrip("/").rsplit("/", 1)[-1] if request.path.strip("/") else ""
        if method == "OPTIONS":
            return Response(204, None, preflight_headers(self.config, origin))
        if "delta-sharing" in request.path.split("/"):
            from .delta_sharing import handle as delta_sharing  # the Delta Sharing protocol (its own module)

            resp = delta_sharing(self, request)
        elif route == "health":
            resp = self.health() if method in ("GET", "HEAD") else self._error(MethodNotAllowed("use GET /health"))
        elif route in ("sign", ""):
            resp = self.sign(request) if method == "POST" else self._error(MethodNotAllowed("use POST /sign"))
        else:
            resp = self._error(NotFound(f"no such endpoint {request.path!r}; use POST /sign or GET /health"))
        resp.headers.update(cors_headers(self.config, origin))
        resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    def authorize(self, user: Any, doc: Any, token: Any) -> None:
        """The checks a route makes before revealing or granting a table: the user holds the
        document's `access` permission (terms of service), and its location may be signed.
        `sign` makes them inline; the Delta Sharing metadata endpoints call this."""
        access_dataset = doc.access.dataset or self.auth.dataset_for(doc.datastack, token)
        user.require(access_dataset, doc.access.permission)
        check_allowed(doc.location, self.config.allowed_locations)

    def health(self) -> Response:
        auth = self.auth.health()
        ok = auth.get("mode") != "refused" and self.lookup is not None
        body = {
            "status": "ok" if ok else "misconfigured",
            "service": "feature-registry-signer",
            "version": SERVICE_VERSION,
            "auth": auth.get("mode"),
            "registry_configured": self.lookup is not None,
            "allowed_locations": len(self.config.allowed_locations),
            "max_expires": self.config.effective_max_expires,
        }
        if not ok:
            body["problem"] = auth.get("error") or "REGISTRY_URI is not set"
        return Response(200 if ok else 503, body)

    @staticmethod
    def _error(err: SignerError) -> Response:
        return Response(err.status, err.body())

    def sign(self, request: Request) -> Response:
        started = time.perf_counter()
        facts: dict[str, Any] = {"request_id": uuid.uuid4().hex[:16], "origin": request.headers.get("origin")}
        try:
            if request.too_large or (request.body is not None and len(request.body) > self.config.max_body_bytes):
                raise PayloadTooLarge(f"the body is larger than {self.config.max_body_bytes} bytes")
            token = extract_token(request.headers, request.cookies, request.query)
            facts["token_source"] = token.source
            req = parse_body(request.body or b"")
            facts.update(dataset=req.dataset, version=req.version)
            user = self.auth.user(token)
            facts["user_id"] = user.id
            if self.lookup is None:
                raise NotFound("this signer has no REGISTRY_URI configured")
            found = self.lookup.find(req.dataset, req.version)
            doc = found.document
            facts.update(version=doc.version, format=doc.format.value)
            access_dataset = doc.access.dataset or self.auth.dataset_for(doc.datastack, token)
            user.require(access_dataset, doc.access.permission)
            manifest = found.manifest
            if req.layout:  # the same rows in another physical copy (signer_function/layouts.py)
                from .layouts import select

                doc, manifest = select(self.lookup, found, req.layout)
            check_allowed(doc.location, self.config.allowed_locations)
            loc, objects = resolve_files(doc, manifest)
            body = self._answer(req, doc, loc, objects, user, facts)
            facts.update(outcome="granted", status=200)
            headers = {}
            if doc.status.value == "deprecated":
                headers["Warning"] = '299 - "deprecated dataset version"'
            return Response(200, body, headers)
        except SignerError as err:
            facts.update(outcome="denied" if err.status < 500 else "error", status=err.status, error=err.code)
            return self._error(err)
        except Exception as exc:  # never leak internals (or a token) in the answer
            # The traceback goes to stderr (no locals are printed; Token redacts itself anyway).
            logger.exception("signer request %s failed", facts["request_id"])
            facts.update(outcome="error", status=500, error=type(exc).__name__)
            return Response(500, {"error": "internal", "message": "the signer failed; see its log by request id", "request_id": facts["request_id"]})
        finally:
            facts["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
            audit.record(**facts)

    def _answer(self, req: SignRequest, doc: Any, loc: Any, objects: list, user: Any, facts: dict) -> dict[str, Any]:
        cfg = self.config
        asked = req.expires_in if req.expires_in is not None else cfg.default_expires
        expires_in = min(asked, cfg.effective_max_expires, SEVEN_DAYS)
        reasons = credentials_reasons(doc, len(objects), cfg)
        warnings = version_warnings(doc)
        if req.mode == "auto":
            mode = "credentials" if reasons else "urls"
            why = "; ".join(reasons) if reasons else "signed URLs: the pinned file list is the whole table"
        else:
            mode = req.mode
            why = "requested"
            if mode == "urls" and reasons:
                warnings.extend(f"signed URLs may not read this table correctly: {r}" for r in reasons)
        if asked > expires_in:
            warnings.append(f"expires_in {asked} was clamped to {expires_in} seconds (MAX_EXPIRES)")
        now = dt.datetime.now(dt.timezone.utc)
        single = len(objects) == 1 and objects[0].key == loc.prefix
        urls: list[Optional[str]] = [None] * len(objects)
        credentials = None
        signing = None
        expires_at = _iso(now + dt.timedelta(seconds=expires_in))
        if mode == "urls":
            if loc.scheme == "s3":
                from .signing_s3 import sign_s3

                urls, signing = sign_s3(cfg, objects, expires_in, client=self.s3), "sigv4"
            else:
                urls, signing = self.gcs.sign(objects, expires_in)
                signing = f"gcs_v4_{signing}"
        else:
            from . import credentials as creds

            if loc.scheme == "s3":
                credentials = creds.aws_credentials(cfg, loc, single, expires_in, user.id)
            else:
                credentials = creds.gcs_credentials(cfg, self.gcs.identity, loc, single)
            signing = credentials["method"]
            expires_at = credentials["expires_at"] or expires_at
        facts.update(mode=mode, signing=signing, files=len(objects), expires_in=expires_in)
        body: dict[str, Any] = {
            "dataset": doc.name,
            "version": doc.version,
            "status": doc.status.value,
            "format": doc.format.value,
            "location": doc.location,
            "table_version": doc.table_version,
            "partition_columns": list(doc.inspected.partition_columns),
            "mode": mode,
            "mode_reason": why,
            "signing": signing,
            "expires_in": expires_in,
            "expires_at": expires_at,
            "files": [
                {"url": url, "uri": o.uri, "size": o.size, "num_rows": o.rows, "partition": o.partition,
                 **({"stats": o.stats} if o.stats else {})}
                for url, o in zip(urls, objects)
            ],
            "credentials": credentials,
            "warnings": warnings,
        }
        if req.layout:
            body["layout"] = req.layout
        if doc.format == Format.ICEBERG and doc.format_options.get("metadata_location"):
            body["metadata_location"] = doc.format_options["metadata_location"]
        elif doc.format == Format.ICEBERG and (doc.inspected.reader_features or {}).get("metadata_location"):
            body["metadata_location"] = doc.inspected.reader_features["metadata_location"]
        if doc.status.value == "deprecated":
            body["deprecated"] = {"superseded_by": doc.lineage.superseded_by}
        return body


_default: Optional[Signer] = None
_default_lock = threading.Lock()


def default_signer() -> Signer:
    """The process-wide signer, configured from the environment on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Signer(Config.from_env())
        return _default


def reset_default_signer() -> None:
    global _default
    with _default_lock:
        _default = None
