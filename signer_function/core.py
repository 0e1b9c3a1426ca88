"""The one request handler both entry points share: route, authenticate, look up, authorize, sign.

`Signer.handle(Request) -> Response` knows nothing of Flask or API Gateway; `main.py` and
`aws_lambda.py` only translate. The order of checks is deliberate:

1. size (413) before reading anything; 2. token present and well-formed (401) before any work;
3. body well-formed (400); 4. token valid (401, or 503 when auth is down: never grants);
5. the document stored at the version's own path, whose body names that version (404: one
   message for every reason, never the registry's URI);
6. `authorize` (before anything about the version is revealed): the location is canonical and
   inside `ALLOWED_LOCATIONS`, and the user holds both the permission the operator bound to that
   location (`LOCATION_PERMISSIONS`) and the document's own `access` (403 / `missing_tos`;
   a draft the user may not read is a plain 404);
7. drafts are not signed (404); 8. manifest paths stay inside the location (400);
9. sign, within the answer-size bound (400 telling to ask for credentials).

Steps 5-8 are `Signer.resolve`: a new route that grants a table (e.g. Delta Sharing) calls it
rather than repeating them. Every decision is one audit line. See docs/security.md for the
threat model.
"""

from __future__ import annotations

import dataclasses

import datetime as dt
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

from registry.vocabulary import Format

from . import audit
from .access import ConfigurationError, load_rules, parse_allowed, rules_for
from .auth import Authenticator, Token, User, build_authenticator, extract_token
from .config import Config, SEVEN_DAYS
from .cors import cors_headers, preflight_headers
from .errors import (
    AuthUnavailable,
    BadRequest,
    LocationNotAllowed,
    MethodNotAllowed,
    MissingTos,
    NoPermission,
    NotFound,
    PayloadTooLarge,
    SignerError,
)
from .locations import TableLocation, canonical_location, check_allowed
from .lookup import NAME, VERSION, Lookup, Missing, resolve_files, version_warnings

logger = logging.getLogger("signer_function")
MODES = ("urls", "credentials", "auto")
_NAME, _VERSION = NAME, VERSION  # fullmatch only: see lookup.py
ENTRY_JSON_BYTES = 80
"""What one file entry's JSON adds besides its URL, URI and partition values (keys, size, rows)."""
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
    malformed: Optional[str] = None  # the adapter could not read the request (e.g. bad base64)


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
    except (ValueError, RecursionError):  # bad UTF-8 or JSON, or nested too deep to parse
        raise BadRequest('the body must be JSON: {"dataset": NAME, "version": V|"latest", ...}') from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    unknown = sorted(set(data) - {"dataset", "version", "expires_in", "mode", "layout"})
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}")
    name = data.get("dataset")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise BadRequest("'dataset' must be a dataset name ([a-z][a-z0-9_]*)")
    version = data.get("version", "latest")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not (version == "latest" or _VERSION.fullmatch(version)):
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


def url_answer_estimate(objects: list, url_overhead: int) -> int:
    """The size of an answer listing one signed URL per object, from the overhead one URL really
    has over its key (signature, credential, and the session token a Lambda's keys carry)."""
    return sum(
        len(o.uri) + len(o.key) + url_overhead + ENTRY_JSON_BYTES + len(json.dumps(o.partition, separators=(",", ":")))
        for o in objects
    )


def credentials_reasons(doc: Any, objects: list, config: Config) -> list[str]:
    """Why plain signed URLs would not read this version faithfully, or could not be answered
    (empty: they would)."""
    file_count = len(objects)
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


def urls_refused(why: str) -> BadRequest:
    return BadRequest(
        f"{why}; ask for mode \"credentials\" (scoped read credentials for the whole table) instead",
        extra={"use_mode": "credentials"},
    )


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Signer:
    """Holds the per-process state (caches, HTTP sessions, signing clients) across warm requests."""

    def __init__(self, config: Config, authenticator: Optional[Authenticator] = None):
        self.config = config
        self.auth = authenticator or build_authenticator(config)
        self.lookup = (
            Lookup(config.registry_uri, ttl=config.registry_cache_ttl, max_manifest_bytes=config.max_manifest_bytes,
                   s3_client=lambda: self.s3)  # one boto3 client reads the registry and signs
            if config.registry_uri
            else None
        )
        self.problem: Optional[str] = None  # a configuration error: then nothing is signed
        try:
            self.allowed = parse_allowed(config.allowed_locations)
            self.rules = load_rules(config.location_permissions, config.location_permissions_file)
        except ConfigurationError as exc:
            self.allowed, self.rules, self.problem = (), (), str(exc)
        if config.problems:
            self.problem = "; ".join(config.problems)
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

    def preload(self) -> None:
        """Do at cold start what the first request would: import the SDKs and build the clients
        this configuration needs (S3 client for an s3:// registry or location, the GCS signer for
        gs://, the auth service's connection pool). Failures are logged, never raised: the first
        request then reports them as it would have."""
        where = [self.config.registry_uri, *self.config.allowed_locations]
        try:
            if any(w.startswith(("s3://", "s3a://")) for w in where):
                _ = self.s3
            if any(w.startswith(("gs://", "gcs://")) for w in where):
                _ = self.gcs.identity
                from google.cloud import storage  # noqa: F401  (signing builds its canonical request)
            if self.lookup is not None:
                _ = self.lookup.reader
            if hasattr(self.auth, "session"):
                _ = self.auth.session
        except Exception:
            logger.exception("SIGNER_PRELOAD: preparing the signer failed; the first request will retry")

    # ---- entry
    def handle(self, request: Request) -> Response:
        origin = request.headers.get("origin")
        method = (request.method or "GET").upper()
        route = request.path.rstrip("/").rsplit("/", 1)[-1] if request.path.strip("/") else ""
        if method == "OPTIONS":
            return Response(204, None, preflight_headers(self.config, origin))
        if request.malformed:
            resp = self._error(BadRequest(request.malformed))
        elif "delta-sharing" in request.path.split("/"):
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

    def health(self) -> Response:
        auth = self.auth.health()
        ok = auth.get("mode") != "refused" and self.lookup is not None and self.problem is None
        body = {
            "status": "ok" if ok else "misconfigured",
            "service": "feature-registry-signer",
            "version": SERVICE_VERSION,
            "auth": auth.get("mode"),
            "registry_configured": self.lookup is not None,
            "allowed_locations": len(self.allowed),
            "location_permissions": len(self.rules),
            "max_expires": self.config.effective_max_expires,
        }
        if not self.rules:
            body["warning"] = (
                "LOCATION_PERMISSIONS is not set: permissions come from the documents alone, so a "
                "publisher can re-expose a table under a weaker permission (docs/security.md)"
            )
        if not ok:
            body["problem"] = self.problem or auth.get("error") or "REGISTRY_URI is not set"
        return Response(200 if ok else 503, body)

    @staticmethod
    def _error(err: SignerError) -> Response:
        return Response(err.status, err.body())

    def sign(self, request: Request) -> Response:
        started = time.perf_counter()
        facts: dict[str, Any] = {"request_id": uuid.uuid4().hex[:16], "origin": request.headers.get("origin")}
        try:
            if self.problem:  # fail closed before contacting anything
                raise AuthUnavailable(f"the signer is misconfigured: {self.problem}")
            if request.too_large or (request.body is not None and len(request.body) > self.config.max_body_bytes):
                raise PayloadTooLarge(f"the body is larger than {self.config.max_body_bytes} bytes")
            token = extract_token(request.headers, request.cookies, request.query)
            facts["token_source"] = token.source
            req = parse_body(request.body or b"")
            facts.update(dataset=req.dataset, version=req.version)
            user = self.auth.user(token)
            facts["user_id"] = user.id
            found, loc, objects = self.resolve(user, token, req.dataset, req.version, facts, layout=req.layout)
            doc = found.document
            body = self._answer(req, doc, loc, objects, user, facts)
            facts.update(outcome="granted", status=200)
            headers = {}
            if doc.status.value == "deprecated":
                headers["Warning"] = '299 - "deprecated dataset version"'
            return Response(200, body, headers)
        except SignerError as err:
            facts.update(outcome="denied" if err.status < 500 else "error", status=err.status, error=err.code)
            facts["reason"] = getattr(err, "reason", None)
            return self._error(err)
        except Exception as exc:  # never leak internals (or a token) in the answer
            # The traceback goes to stderr (no locals are printed; Token redacts itself anyway).
            logger.exception("signer request %s failed", facts["request_id"])
            facts.update(outcome="error", status=500, error=type(exc).__name__)
            return Response(500, {"error": "internal", "message": "the signer failed; see its log by request id", "request_id": facts["request_id"]})
        finally:
            facts["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
            audit.record(**facts)

    def resolve(self, user: User, token: Token, name: str, version: str, facts: Optional[dict] = None,
                layout: Optional[str] = None) -> tuple[Any, TableLocation, list]:
        """Everything every route that grants a table must do, in this order: find the version
        at its own path, `authorize` before saying anything about it (a draft the user may not
        read is a plain 404), refuse drafts, and resolve the manifest inside the location.
        Returns (Found, canonical location, objects). New routes (e.g. Delta Sharing) call this."""
        if self.problem:
            raise AuthUnavailable(f"the signer is misconfigured: {self.problem}")
        if self.lookup is None:
            raise NotFound("this signer has no REGISTRY_URI configured")
        found = self.lookup.find(name, version)
        doc = found.document
        if facts is not None:
            facts.update(version=doc.version, format=doc.format.value)
        try:
            loc = self.authorize(user, doc, token)
        except (NoPermission, MissingTos, LocationNotAllowed):
            if doc.status.value == "draft":  # say nothing about drafts to who may not read them
                raise Missing(name, version, "draft_not_permitted") from None
            raise
        if doc.status.value == "draft" or found.manifest is None:
            draft = NotFound(f"{name}@{doc.version} is a draft; drafts are not signed")
            draft.reason = "draft"  # type: ignore[attr-defined]
            raise draft
        manifest = found.manifest
        if layout:  # the same rows in another physical copy (signer_function/layouts.py)
            from .layouts import select

            doc, manifest = select(self.lookup, found, layout)
            loc = self.authorize(user, doc, token)  # the layout's own location passes every check
            found = dataclasses.replace(found, document=doc, manifest=manifest)
        loc, objects = resolve_files(doc, manifest, loc)
        return found, loc, objects

    def authorize(self, user: User, doc: Any, token: Token) -> TableLocation:
        """The checks every route that reveals or grants a table makes, before saying anything
        about it: the canonical location, inside ALLOWED_LOCATIONS, covered by the operator's
        LOCATION_PERMISSIONS rules (all of them, when any is configured), and the document's own
        `access`. Returns the canonical location; raises 403s."""
        loc = canonical_location(doc.location)
        check_allowed(loc, self.allowed)
        rules = rules_for(loc, self.rules)
        if self.rules and not rules:
            raise LocationNotAllowed("no LOCATION_PERMISSIONS rule of this signer covers the dataset's location")
        access_dataset = doc.access.dataset or self.auth.dataset_for(doc.datastack, token)
        user.require(access_dataset, doc.access.permission)
        for rule in rules:
            user.require(rule.dataset, rule.permission)
        return loc

    def _sign_urls(self, loc: TableLocation, objects: list, expires_in: int) -> tuple[list[Optional[str]], str]:
        if loc.scheme == "s3":
            from .signing_s3 import sign_s3

            return list(sign_s3(self.config, objects, expires_in, client=self.s3)), "sigv4"
        urls, how = self.gcs.sign(objects, expires_in)
        return list(urls), f"gcs_v4_{how}"

    def _answer(self, req: SignRequest, doc: Any, loc: Any, objects: list, user: Any, facts: dict) -> dict[str, Any]:
        cfg = self.config
        asked = req.expires_in if req.expires_in is not None else cfg.default_expires
        expires_in = min(asked, cfg.effective_max_expires, SEVEN_DAYS)
        reasons = credentials_reasons(doc, objects, cfg)
        warnings = version_warnings(doc)
        if req.mode == "auto":
            mode = "credentials" if reasons else "urls"
            why = "; ".join(reasons) if reasons else "signed URLs: the pinned file list is the whole table"
        else:
            mode = req.mode
            why = "requested"
            if mode == "urls" and len(objects) > cfg.max_url_files:
                raise urls_refused(f"{len(objects)} files is more than this signer signs as URLs ({cfg.max_url_files})")
            if mode == "urls" and reasons:
                warnings.extend(f"signed URLs may not read this table correctly: {r}" for r in reasons)
        probe: list[Optional[str]] = []
        if mode == "urls" and objects:
            # Sign one URL first: its real length bounds the answer before thousands are signed.
            probe, _ = self._sign_urls(loc, objects[:1], expires_in)
            estimate = url_answer_estimate(objects, len(probe[0] or "") - len(objects[0].key))
            if estimate > cfg.max_answer_bytes:
                too_big = (
                    f"signed URLs for {len(objects)} files would make a {estimate}-byte answer, "
                    f"over this signer's limit ({cfg.max_answer_bytes} bytes)"
                )
                if req.mode == "urls":
                    raise urls_refused(too_big)
                mode, why = "credentials", too_big
        if asked > expires_in:
            warnings.append(f"expires_in {asked} was clamped to {expires_in} seconds (MAX_EXPIRES)")
        now = dt.datetime.now(dt.timezone.utc)
        single = len(objects) == 1 and objects[0].key == loc.prefix
        urls: list[Optional[str]] = [None] * len(objects)
        credentials = None
        signing = None
        expires_at = _iso(now + dt.timedelta(seconds=expires_in))
        if mode == "urls":
            rest, signing = self._sign_urls(loc, objects[len(probe):], expires_in)
            urls = probe + rest
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
        size = len(json.dumps(body, separators=(",", ":")))
        if size > cfg.max_answer_bytes:
            if mode == "urls":
                raise urls_refused(f"the answer ({size} bytes) would exceed the answer limit ({cfg.max_answer_bytes} bytes)")
            # Credentials read the whole prefix: the list is a convenience, dropped to stay in bounds.
            body["files_omitted"] = len(body["files"])
            body["files"] = []
            warnings.append(
                f"the file list ({len(objects)} files) is left out to keep the answer under "
                f"{cfg.max_answer_bytes} bytes; read the table with its format's reader and the credentials"
            )
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
