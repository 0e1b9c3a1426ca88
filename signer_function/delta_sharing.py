"""The Delta Sharing protocol (delta-io/delta-sharing `PROTOCOL.md`) served by the signer under
`/delta-sharing/`, so Spark, pandas, Power BI, ... read registered tables with their own clients.

Mapping (a connectomics user's words onto the protocol's):

* **share** = datastack (`minnie65_phase3_v1`); **schema** = dataset name (`synapse_embeddings`);
  **table** = one dataset version (`3`), plus `latest` (the newest published version). A version
  label's `.` becomes `_` (the protocol forbids `.` in table names: `v1.2` is table `v1_2`).
  Names are matched case-insensitively, as the protocol asks.
* **bearer token** = the CAVE token. Listings show only what the caller may read.
* `POST .../query` goes through the signer's own `/sign` (`Signer.sign`): every check it makes
  (token, permission, terms of service, allowed locations, manifest paths, audit line) applies
  unchanged, and the signed URLs it returns become the `file` lines.

Shareable: Parquet, Delta without deletion vectors or column mapping, Iceberg without delete files
(their data files are plain Parquet). Not shareable, with an error saying why: Lance (not Parquet
files), and tables whose file list alone is not the table (deletion vectors, delete files, column
mapping) -- those are read with the format's own reader via `/sign` credentials.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

from cachetools import TTLCache

from registry.vocabulary import NAME_PATTERN, VERSION_PATTERN, Format, Status
from registry.latest import LATEST, newest_published

from . import audit
from . import delta_predicates as predicates
from .auth import extract_token
from .core import Request, Response
from .delta_schema import UnsupportedType, schema_string
from .errors import (AuthUnavailable, BadRequest, LocationNotAllowed, MethodNotAllowed, MissingTos, NoPermission,
                     NotFound, PayloadTooLarge, SignerError)
from .document import Document, InspectedColumn
from .lookup import Found

SEGMENT = "delta-sharing"
LAYOUT_SEP = "__"  # `<version>__<layout>`: a layout of a version as its own table
_VERSION = re.compile(VERSION_PATTERN)
_NAME = re.compile(NAME_PATTERN)
MAX_RESULTS = 500
NDJSON = "application/x-ndjson; charset=utf-8"
_NS = uuid.UUID("6f1c3f52-3a1e-4d0b-9a57-d1e0a8c4b7e2")  # ids: uuid5 of stable names

ERROR_CODES = {
    "bad_request": "INVALID_PARAMETER_VALUE",
    "payload_too_large": "INVALID_PARAMETER_VALUE",
    "method_not_allowed": "INVALID_PARAMETER_VALUE",
    "no_token": "UNAUTHENTICATED",
    "invalid_token": "UNAUTHENTICATED",
    "no_permission": "PERMISSION_DENIED",
    "missing_tos": "PERMISSION_DENIED",
    "location_not_allowed": "PERMISSION_DENIED",
    "not_found": "RESOURCE_DOES_NOT_EXIST",
    "not_shareable": "FEATURE_NOT_SUPPORTED",
    "auth_unavailable": "TEMPORARILY_UNAVAILABLE",
    "signing_failed": "INTERNAL_ERROR",
}


class NotShareable(SignerError):
    """The version exists and may be read, but not through this protocol (the message says why)."""

    status, code = 400, "not_shareable"


@dataclass
class NdjsonResponse(Response):
    """Newline-delimited JSON (the protocol's metadata / query answers)."""

    lines: list[dict[str, Any]] = field(default_factory=list)

    def body_bytes(self) -> bytes:
        return b"".join(json.dumps(x, separators=(",", ":")).encode() + b"\n" for x in self.lines)


def sharing_parts(path: str) -> Optional[list[str]]:
    """The path segments after `delta-sharing` (a stage prefix before it is allowed), else None."""
    parts = [p for p in path.split("/") if p]
    if SEGMENT not in parts:
        return None
    return parts[parts.index(SEGMENT) + 1 :]


def table_name(version: str) -> str:
    """A version label as a protocol table name (no `.` allowed there)."""
    return version.replace(".", "_")


def _id(*names: str) -> str:
    return str(uuid.uuid5(_NS, "\x1f".join(names)))


def _error(err: SignerError) -> Response:
    body = {"errorCode": ERROR_CODES.get(err.code, "INTERNAL_ERROR"), "message": err.message, "error": err.code}
    body.update({k: v for k, v in err.extra.items() if k != "error"})
    return Response(err.status, body)


def _from_sign_error(resp: Response) -> Response:
    body = resp.body or {}
    code = body.get("error", "internal")
    out = {"errorCode": ERROR_CODES.get(code, "INTERNAL_ERROR"), "message": body.get("message", ""), "error": code}
    out.update({k: v for k, v in body.items() if k not in ("error", "message")})
    return Response(resp.status, out, dict(resp.headers))


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """One page of a listing: `maxResults` (non-negative, capped) and an opaque `pageToken`."""
    raw_max = query.get("maxResults")
    try:
        limit = MAX_RESULTS if raw_max in (None, "") else int(raw_max)
    except ValueError:
        raise BadRequest("maxResults must be a non-negative integer") from None
    if limit < 0:
        raise BadRequest("maxResults must be a non-negative integer")
    limit = min(limit, MAX_RESULTS)
    start = 0
    token = query.get("pageToken")
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode() + b"==").decode().removeprefix("o:"))
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("pageToken is not one this server issued") from None
        if start < 0 or start > len(items):
            raise BadRequest("pageToken is not one this server issued")
    page = items[start : start + limit]
    out: dict[str, Any] = {"items": page}
    if start + limit < len(items):
        out["nextPageToken"] = base64.urlsafe_b64encode(f"o:{start + limit}".encode()).decode().rstrip("=")
    return out


def _partition_string(value: Any) -> Optional[str]:
    """Partition values are strings in the protocol (`true`/`false`, numbers as written)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _millis(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def not_shareable_reason(doc: Document) -> Optional[str]:
    """Why this version cannot be served as Parquet files with partition values (None: it can)."""
    rf = doc.inspected.reader_features or {}
    if doc.format == Format.LANCE or rf.get("needs_credentials"):
        return (f"{doc.ref} is a Lance table: its data files are Lance fragments, not Parquet, and Delta Sharing "
                f"hands out Parquet files only. Read it with the registry client (Catalog.get(...).to_pandas()), "
                f"which uses scoped credentials from POST /sign.")
    if rf.get("faithful_file_list") is False:
        return (f"{doc.ref}: its data files alone are not the table ({doc.format.value} deletion vectors, delete "
                f"files or column mapping), so sharing them as plain Parquet would return deleted rows or physical "
                f"column names. Read it with the registry client (credentials mode), which applies them.")
    return None


class DeltaSharing:
    """The protocol's endpoints over one `Signer` (its config, authenticator, registry lookup)."""

    def __init__(self, signer: Any):
        self.signer = signer
        self._docs: TTLCache = TTLCache(1, signer.config.registry_cache_ttl)

    # ---- what exists and what this caller may read
    def _all_docs(self) -> list[Document]:
        hit = self._docs.get("docs")
        if hit is None:
            if self.signer.lookup is None:
                raise NotFound("this signer has no REGISTRY_URI configured")
            hit = [d for d in self.signer.lookup.documents() if d.status != Status.DRAFT]
            self._docs["docs"] = hit
        return hit

    def _may_read(self, user: Any, doc: Document, token: Any) -> bool:
        """Listings show a version only when `Signer.authorize` would let this user read it
        (the datastack -> dataset lookups behind it are cached by the authenticator)."""
        try:
            self.signer.authorize(user, doc, token)
            return True
        except (NoPermission, MissingTos, LocationNotAllowed):
            return False

    def _readable(self, request: Request, facts: dict) -> list[Document]:
        token = extract_token(request.headers, request.cookies, request.query)
        facts["token_source"] = token.source
        user = self.signer.auth.user(token)
        facts["user_id"] = user.id
        return [d for d in self._all_docs() if self._may_read(user, d, token)]

    def _resolve_table(self, share: str, schema: str, table: str, user: Any, token: Any
                       ) -> tuple[Found, Optional[str]]:
        """(version, layout): `1__by_post_pt_root_id` names layout `by_post_pt_root_id` of version 1
        (a table name that is itself a version label wins). The version is authorized before its
        layouts are looked at, so a caller who may not read it learns no layout names: a 403 for
        every `<version>__<anything>`, as `/sign` answers for any `layout` of it."""
        base, sep, layout = table.rpartition(LAYOUT_SEP)
        if sep and base and layout:
            try:
                found = self._resolve(share, schema, base)
            except NotFound:
                found = None
            if found is not None:
                try:
                    self.signer.authorize(user, found.document, token)
                except (NoPermission, MissingTos, LocationNotAllowed) as refused:
                    try:
                        return self._resolve(share, schema, table), None
                    except NotFound:
                        raise refused from None
                if any(x.name == layout.lower() and x.manifest for x in found.document.layouts):
                    return found, layout.lower()
        return self._resolve(share, schema, table), None

    def _resolve(self, share: str, schema: str, table: str) -> Found:
        """The version a (share, schema, table) names; 404 for anything else. `latest` and a table
        spelled exactly as its version label are one cached lookup; other spellings (case, `_` for
        `.`) are matched against the dataset's versions."""
        name = schema.lower()
        if not _NAME.match(name):  # never reaches a registry path unless it is a dataset name
            raise NotFound(f"no schema {schema!r} in share {share!r}")
        if table.lower() == LATEST or _VERSION.match(table):
            try:
                found = self.signer.lookup.find(name, LATEST if table.lower() == LATEST else table)
            except NotFound:
                found = None
            if found is not None and found.document.datastack.lower() == share.lower():
                return found
        docs = [d for d in self._all_docs() if d.name == schema.lower() and d.datastack.lower() == share.lower()]
        if not docs:
            raise NotFound(f"no schema {schema!r} in share {share!r}")
        if table.lower() == LATEST:
            version = LATEST
        else:
            hits = sorted({d.version for d in docs if table_name(d.version).lower() == table.lower()})
            if not hits:
                raise NotFound(f"no table {table!r} in {share}.{schema}; tables are version labels or 'latest'")
            if len(hits) > 1:
                raise BadRequest(f"table name {table!r} is ambiguous (versions {', '.join(hits)}); use POST /sign")
            version = hits[0]
        found = self.signer.lookup.find(schema.lower(), version)
        if found.document.datastack.lower() != share.lower():
            raise NotFound(f"no table {table!r} in {share}.{schema}")
        return found

    def _authorize(self, request: Request, share: str, schema: str, table: str, facts: dict
                   ) -> tuple[Document, Optional[str]]:
        """The checks of `Signer.sign` (token, user, then `Signer.resolve`: the version at its own
        path, `authorize`, drafts refused with a 404, the layout's own location, manifest paths
        inside the location), for the endpoints that answer metadata without signing anything."""
        token = extract_token(request.headers, request.cookies, request.query)
        facts["token_source"] = token.source
        user = self.signer.auth.user(token)
        facts["user_id"] = user.id
        found, layout = self._resolve_table(share, schema, table, user, token)
        doc = found.document
        facts.update(dataset=doc.name, version=doc.version, format=doc.format.value)
        found, _, _ = self.signer.resolve(user, token, doc.name, doc.version, facts, layout=layout)
        return found.document, layout  # with a layout: the document seen through it

    # ---- entry
    def handle(self, request: Request, parts: list[str]) -> Response:
        started = time.perf_counter()
        method = request.method.upper()
        facts: dict[str, Any] = {"request_id": uuid.uuid4().hex[:16], "origin": request.headers.get("origin")}
        op = "unknown"
        try:
            if self.signer.problem:  # fail closed, as /sign does, before contacting anything
                raise AuthUnavailable(f"the signer is misconfigured: {self.signer.problem}")
            if request.too_large:
                raise PayloadTooLarge(f"the body is larger than {self.signer.config.max_body_bytes} bytes")
            op, resp = self._dispatch(request, method, parts, facts)
            facts.update(outcome="granted", status=resp.status)
            return resp
        except SignerError as err:
            facts.update(outcome="denied" if err.status < 500 else "error", status=err.status, error=err.code)
            return _error(err)
        except Exception:  # never leak internals (or a token)
            logging.getLogger("signer_function").exception("delta sharing request %s failed", facts["request_id"])
            facts.update(outcome="error", status=500, error="internal")
            return Response(500, {"errorCode": "INTERNAL_ERROR", "message": "the signer failed; see its log by request id",
                                  "request_id": facts["request_id"]})
        finally:
            if not facts.pop("audited", False):  # a query that reached /sign was audited there
                facts["mode"] = f"delta-sharing:{op}"
                facts["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
                audit.record(**facts)

    def _dispatch(self, request: Request, method: str, p: list[str], facts: dict) -> tuple[str, Response]:
        n = len(p)
        get = method in ("GET", "HEAD")
        if n >= 1 and p[0] != "shares" or n == 0:
            raise NotFound("Delta Sharing endpoints start with /delta-sharing/shares")
        if n == 1:
            return "list_shares", self._need(get, "GET") or self.list_shares(request, facts)
        share = p[1]
        if n == 2:
            return "get_share", self._need(get, "GET") or self.get_share(request, share, facts)
        if n == 3 and p[2] == "schemas":
            return "list_schemas", self._need(get, "GET") or self.list_schemas(request, share, facts)
        if n == 3 and p[2] == "all-tables":
            return "list_tables", self._need(get, "GET") or self.list_tables(request, share, None, facts)
        if n == 5 and p[2] == "schemas" and p[4] == "tables":
            return "list_tables", self._need(get, "GET") or self.list_tables(request, share, p[3], facts)
        if n in (6, 7) and p[2] == "schemas" and p[4] == "tables":
            schema, table = p[3], p[5]
            action = p[6] if n == 7 else "version"
            if action == "version":
                return "version", self._need(get, "GET") or self.version(request, share, schema, table, facts)
            if action == "metadata":
                return "metadata", self._need(get, "GET") or self.metadata(request, share, schema, table, facts)
            if action == "query":
                return "query", self._need(method == "POST", "POST") or self.query(request, share, schema, table, facts)
            if action == "changes":
                self._authorize(request, share, schema, table, facts)
                raise NotShareable("a registered version is immutable and has no change data feed; "
                                   "each version is its own table")
        raise NotFound(f"no Delta Sharing endpoint {request.path!r}")

    @staticmethod
    def _need(ok: bool, method: str) -> Optional[Response]:
        if not ok:
            raise MethodNotAllowed(f"use {method} for this Delta Sharing endpoint")
        return None

    # ---- listings
    def list_shares(self, request: Request, facts: dict) -> Response:
        stacks = sorted({d.datastack for d in self._readable(request, facts)})
        return Response(200, _page([{"name": s, "id": _id("share", s)} for s in stacks], request.query))

    def get_share(self, request: Request, share: str, facts: dict) -> Response:
        stacks = {d.datastack.lower(): d.datastack for d in self._readable(request, facts)}
        if share.lower() not in stacks:
            raise NotFound(f"no share {share!r} (or you may not read anything in it)")
        name = stacks[share.lower()]
        return Response(200, {"share": {"name": name, "id": _id("share", name)}})

    def _share_docs(self, request: Request, share: str, facts: dict) -> list[Document]:
        docs = [d for d in self._readable(request, facts) if d.datastack.lower() == share.lower()]
        if not docs:
            raise NotFound(f"no share {share!r} (or you may not read anything in it)")
        return docs

    def list_schemas(self, request: Request, share: str, facts: dict) -> Response:
        docs = self._share_docs(request, share, facts)
        names = sorted({d.name for d in docs})
        items = [{"name": n, "share": docs[0].datastack} for n in names]
        return Response(200, _page(items, request.query))

    def list_tables(self, request: Request, share: str, schema: Optional[str], facts: dict) -> Response:
        docs = self._share_docs(request, share, facts)
        if schema is not None:
            docs = [d for d in docs if d.name == schema.lower()]
            if not docs:
                raise NotFound(f"no schema {schema!r} in share {share!r}")
        stack = docs[0].datastack
        items = []
        for name in sorted({d.name for d in docs}):
            mine = sorted((d for d in docs if d.name == name), key=lambda d: d.published_at)
            newest = newest_published(mine)
            if newest is not None:
                items.append(self._table_item(stack, name, LATEST))
                items.extend(self._table_item(stack, name, f"{LATEST}{LAYOUT_SEP}{x.name}")
                             for x in newest.layouts if x.manifest)
            for d in mine:
                items.append(self._table_item(stack, name, table_name(d.version)))
                items.extend(self._table_item(stack, name, f"{table_name(d.version)}{LAYOUT_SEP}{x.name}")
                             for x in d.layouts if x.manifest)
        return Response(200, _page(items, request.query))

    @staticmethod
    def _table_item(share: str, schema: str, table: str) -> dict[str, Any]:
        return {"name": table, "schema": schema, "share": share, "shareId": _id("share", share),
                "id": _id("table", share, schema, table)}

    # ---- one table
    @staticmethod
    def _version_headers(doc: Document, response_format: str = "parquet") -> dict[str, str]:
        headers = {"Delta-Table-Version": str(int(doc.table_version or 0)),
                   "delta-sharing-capabilities": f"responseformat={response_format}"}
        if doc.status == Status.DEPRECATED:
            headers["Warning"] = '299 - "deprecated dataset version"'
        return headers

    def version(self, request: Request, share: str, schema: str, table: str, facts: dict) -> Response:
        if request.query.get("startingTimestamp"):
            raise NotShareable("startingTimestamp needs table history; each registered version is one snapshot")
        doc, _ = self._authorize(request, share, schema, table, facts)
        return Response(200, None, self._version_headers(doc))

    @staticmethod
    def _response_format(request: Request) -> str:
        """`parquet` unless the caller asked for `delta` only (then the answer must be delta)."""
        caps = request.headers.get("delta-sharing-capabilities", "")
        for cap in caps.split(";"):
            key, _, values = cap.partition("=")
            if key.strip().lower() == "responseformat":
                formats = [v.strip().lower() for v in values.split(",") if v.strip()]
                if formats and "parquet" not in formats:
                    return "delta" if "delta" in formats else "unsupported"
        return "parquet"

    def _metadata_lines(self, doc: Document, response_format: str, version_asked: bool) -> list[dict[str, Any]]:
        cols = list(doc.inspected.columns)
        part_cols = self._partition_columns(doc)
        have = {c.name for c in cols}
        cols += [InspectedColumn(name=p, type="string", nullable=True) for p in part_cols if p not in have]
        try:
            schema = schema_string(cols)
        except UnsupportedType as exc:
            raise NotShareable(f"{doc.ref}: {exc}") from None
        table_id = _id("version", doc.name, doc.version, doc.location)  # a layout is its own table
        if response_format == "delta":
            meta = {"deltaMetadata": {"id": table_id, "name": doc.ref, "description": doc.title,
                                      "format": {"provider": "parquet", "options": {}}, "schemaString": schema,
                                      "partitionColumns": part_cols, "configuration": {},
                                      "createdTime": int(doc.published_at.timestamp() * 1000)},
                    "numFiles": doc.inspected.file_count}
            if doc.inspected.bytes is not None:
                meta["size"] = doc.inspected.bytes
            if version_asked:
                meta["version"] = int(doc.table_version or 0)
            return [{"protocol": {"deltaProtocol": {"minReaderVersion": 1, "minWriterVersion": 2}}}, {"metaData": meta}]
        meta = {"id": table_id, "name": doc.ref, "description": doc.title, "format": {"provider": "parquet"},
                "schemaString": schema, "partitionColumns": part_cols, "numFiles": doc.inspected.file_count}
        if doc.inspected.bytes is not None:
            meta["size"] = doc.inspected.bytes
        if version_asked:
            meta["version"] = int(doc.table_version or 0)
        return [{"protocol": {"minReaderVersion": 1}}, {"metaData": meta}]

    @staticmethod
    def _partition_columns(doc: Document) -> list[str]:
        # Iceberg partition values may be transforms (bucket, day) and its data files hold the
        # source columns: share none, so no client fills or prunes with a transformed value.
        return [] if doc.format == Format.ICEBERG else list(doc.inspected.partition_columns)

    def _shareable(self, doc: Document, request: Request) -> str:
        reason = not_shareable_reason(doc)
        if reason:
            raise NotShareable(reason)
        fmt = self._response_format(request)
        if fmt == "unsupported":
            raise NotShareable("this server answers responseformat=parquet or responseformat=delta")
        return fmt

    def metadata(self, request: Request, share: str, schema: str, table: str, facts: dict) -> Response:
        doc, _ = self._authorize(request, share, schema, table, facts)
        fmt = self._shareable(doc, request)
        lines = self._metadata_lines(doc, fmt, False)
        headers = {**self._version_headers(doc, fmt), "Content-Type": NDJSON}
        return NdjsonResponse(200, None, headers, lines=lines)

    def _query_body(self, request: Request) -> dict[str, Any]:
        try:
            body = json.loads((request.body or b"{}").decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise BadRequest("the query body must be a JSON object") from None
        if not isinstance(body, dict):
            raise BadRequest("the query body must be a JSON object")
        for key in ("timestamp", "startingVersion", "endingVersion", "startingTimestamp"):
            if body.get(key) is not None:
                raise NotShareable(f"{key!r} needs table history or a change feed; each registered version is one "
                                   f"snapshot (pass 'version' or choose another table)")
        limit = body.get("limitHint")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise BadRequest("limitHint must be a non-negative integer")
        version = body.get("version")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise BadRequest("version must be an integer table version")
        return body

    def query(self, request: Request, share: str, schema: str, table: str, facts: dict) -> Response:
        body = self._query_body(request)
        doc, layout = self._authorize(request, share, schema, table, facts)
        fmt = self._shareable(doc, request)
        pinned = int(doc.table_version or 0)
        if body.get("version") is not None and body["version"] != pinned:
            raise NotFound(f"{doc.ref} is pinned to table version {pinned}; version {body['version']} is another "
                           f"registered version (list the tables of {doc.datastack}.{doc.name})")
        try:
            tree = predicates.parse(body.get("jsonPredicateHints"))
        except predicates.PredicateError:
            tree = None  # best effort, as the protocol says: filter nothing
        # Sign through /sign itself: every check it makes, and its audit line, apply unchanged.
        sign_request = Request(
            method="POST", path="/sign", headers={**request.headers, "content-type": "application/json"},
            cookies=request.cookies, query=request.query,
            body=json.dumps({"dataset": doc.name, "version": doc.version, "mode": "urls",
                             **({"layout": layout} if layout else {})}).encode(),
        )
        signed = self.signer.sign(sign_request)
        facts["audited"] = True
        if signed.status != 200:
            return _from_sign_error(signed)
        files = signed.body["files"]
        part_cols = self._partition_columns(doc)
        keep = [f for f in files
                if predicates.keeps(tree, {k: f["partition"].get(k) for k in part_cols}, f.get("stats"))]
        limit = body.get("limitHint")
        if limit is not None and all(f.get("num_rows") is not None for f in keep):
            chosen, rows = [], 0
            for f in keep:
                if rows >= limit:
                    break
                chosen.append(f)
                rows += f["num_rows"]
            keep = chosen
        expires = _millis(signed.body["expires_at"])
        lines = self._metadata_lines(doc, fmt, body.get("version") is not None)
        for f in keep:
            lines.append(self._file_line(f, part_cols, expires, fmt, pinned if body.get("version") is not None else None))
        headers = {**self._version_headers(doc, fmt), "Content-Type": NDJSON}
        facts.update(files=len(keep))
        return NdjsonResponse(200, None, headers, lines=lines)

    @staticmethod
    def _file_line(f: dict[str, Any], part_cols: list[str], expires: int, fmt: str, version: Optional[int]) -> dict:
        fid = hashlib.sha256(f["uri"].encode()).hexdigest()[:32]
        values = {k: _partition_string(f["partition"].get(k)) for k in part_cols}
        stats = None
        if f.get("num_rows") is not None:
            st: dict[str, Any] = {"numRecords": f["num_rows"]}
            recorded = f.get("stats") or {}  # integer min/max recorded at publish
            if recorded.get("min") and recorded.get("max"):
                st.update(minValues=recorded["min"], maxValues=recorded["max"])
            stats = json.dumps(st, separators=(",", ":"))
        if fmt == "delta":
            add = {"path": f["url"], "partitionValues": values, "size": f["size"], "modificationTime": 0,
                   "dataChange": True}
            if stats:
                add["stats"] = stats
            return {"file": {"id": fid, "deltaSingleAction": {"add": add}, "expirationTimestamp": expires}}
        line = {"url": f["url"], "id": fid, "partitionValues": values, "size": f["size"], "expirationTimestamp": expires}
        if stats:
            line["stats"] = stats
        if version is not None:
            line["version"] = version
        return {"file": line}


def handle(signer: Any, request: Request) -> Response:
    """The hook `Signer.handle` calls for any path with a `delta-sharing` segment."""
    sharing = getattr(signer, "_delta_sharing", None)
    if sharing is None:
        sharing = signer._delta_sharing = DeltaSharing(signer)
    return sharing.handle(request, sharing_parts(request.path) or [])
