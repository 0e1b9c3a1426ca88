"""Find the pinned dataset version and its file manifest in the registry, and resolve files safely.

Documents in the registry bucket may be hand-crafted (docs/security.md), so the signer trusts a
document only for what its *path* says it is:

* `name@version` is read from `datasets/<name>/<version>.json` and nowhere else; a body whose
  `name`/`version` differ from the path is not that version (not found, and audited as
  `document_mismatch`). The cache is keyed by the path read, never by what a body claims.
* `latest` is the newest published version among the documents under `datasets/<name>/` whose
  bodies match their paths; unreadable, mis-encoded, oversized or lying documents are skipped.
* Every "not found" answer has the same message whatever the reason (missing, invalid, lying, a
  draft the caller may not see), and never names the registry: the reason goes to the audit line.

Documents are immutable once published (only `deprecate` changes one), so a short TTL cache is
safe and keeps warm requests off the registry bucket. Drafts are found (so that the caller's
permission can be checked before anything is said about them) but never signed.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass
from typing import Any, Optional

from cachetools import TTLCache

from registry import limits
from registry.errors import SpecInvalid
from registry.reading import DATASETS, DOC_SUFFIX, MANIFEST_SUFFIX, StoredElsewhere, document_path, manifest_path
from registry.vocabulary import NAME_PATTERN, VERSION_PATTERN, Status

from .document import Document, FileManifest, read_document
from .document import read_manifest as parse_manifest

from .errors import BadRequest, NotFound, SignerError, SigningFailed
from .locations import (  # re-exported (__all__): the names other modules import from here
    ObjectRef,
    TableLocation,
    canonical_location,
    check_allowed,
    location_allowed,
    safe_relative,
)
from registry.latest import recency

MAX_DOCUMENT_BYTES = limits.MAX_DOCUMENT_BYTES  # the readers' one bound (registry/limits.py)
# The contract's grammars, for fullmatch (a `$` anchor would also accept a trailing newline).
NAME = re.compile(NAME_PATTERN.lstrip("^").rstrip("$"))
VERSION = re.compile(VERSION_PATTERN.lstrip("^").rstrip("$"))


class Missing(NotFound):
    """404 with one message for every reason; `reason` is for the audit line only."""

    def __init__(self, name: str, version: str, reason: str):
        super().__init__(
            f"no published version of {name!r} in the registry"
            if version == "latest"
            else f"{name}@{version} is not in the registry"
        )
        self.reason = reason


@dataclass(frozen=True)
class Found:
    document: Document
    manifest: Optional[FileManifest]  # None for a draft (never signed, so never read)
    path: str


def resolve_files(document: Document, manifest: FileManifest, loc: Optional[TableLocation] = None) -> tuple[TableLocation, list[ObjectRef]]:
    """Every manifest file as an object inside the document's own (canonical) location."""
    loc = loc or canonical_location(document.location)
    out: list[ObjectRef] = []
    for f in manifest.files:
        if f.path == "":
            if len(manifest.files) != 1 or not loc.prefix:
                raise BadRequest("an empty manifest path is only valid for a single-file location")
            key = loc.prefix
        else:
            rel = safe_relative(f.path)
            key = f"{loc.prefix}/{rel}" if loc.prefix else rel
        out.append(ObjectRef(loc.scheme, loc.bucket, key, f.size, f.rows, dict(f.partition), f.stats))
    return loc, out


def parse_document_at(data: bytes, name: str, version: str) -> Document:
    """The document stored at `datasets/<name>/<version>.json`, or ValueError (with the reason
    for the audit line) when it is oversized, not UTF-8 JSON, too deep, invalid, or claims
    another name/version: `registry.reading`'s steps, then the signer's typed view."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ValueError("oversized_document")
    try:
        return read_document(data, document_path(name, version), (name, version))
    except StoredElsewhere:
        raise ValueError("document_mismatch") from None
    except SpecInvalid:
        raise ValueError("invalid_document") from None
    except RecursionError:
        raise ValueError("invalid_document") from None


class Lookup:
    """Documents and manifests by `name@version`, with a TTL cache keyed by the path read."""

    def __init__(self, registry_uri: str, ttl: float = 60.0, size: int = 512, max_manifest_bytes: int = 64 << 20,
                 s3_client: Any = None):
        if not registry_uri:
            raise ValueError("REGISTRY_URI is not set")
        self.registry_uri = registry_uri
        self.max_manifest_bytes = max_manifest_bytes
        self._reader: Any = None
        self._s3_client = s3_client  # the signer's own boto3 client (or a callable making it): one client per process
        self._cache: TTLCache = TTLCache(size, ttl)
        self._lock = threading.Lock()

    @property
    def reader(self) -> Any:
        with self._lock:
            if self._reader is None:
                from .registry_reader import reader_for

                self._reader = reader_for(self.registry_uri, s3_client=self._s3_client)
            return self._reader

    def documents(self, workers: int = 8) -> list[Document]:
        """Every readable document of the registry (drafts included), read with the same light
        reader and checks as `find`: unreadable, oversized, invalid or lying documents are skipped,
        one bad document never hides the others. For listings (Delta Sharing); not cached here."""
        from concurrent.futures import ThreadPoolExecutor

        from .registry_reader import RegistryUnreadable

        try:
            names = [n for n in self.reader.folders(f"{DATASETS}/") if NAME.fullmatch(n)]
        except RegistryUnreadable as exc:
            raise SigningFailed(f"the registry could not be listed ({exc})") from None
        wanted: list[tuple[str, str, str]] = []
        for name in names:
            prefix = f"{DATASETS}/{name}/"
            for path in self._list(prefix):
                label = path[len(prefix): -len(DOC_SUFFIX)]
                if path.startswith(prefix) and not path.endswith(MANIFEST_SUFFIX) and VERSION.fullmatch(label):
                    wanted.append((name, label, path))

        def one(item: tuple[str, str, str]) -> Optional[Document]:
            name, label, path = item
            data = self._read(path)
            try:
                return None if data is None else parse_document_at(data, name, label)
            except ValueError:
                return None

        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(wanted)))) as pool:
            docs = [d for d in pool.map(one, wanted) if d is not None]
        return sorted(docs, key=lambda d: (d.name, d.published_at))

    def _read(self, rel: str, limit: int = MAX_DOCUMENT_BYTES) -> Optional[bytes]:
        """The object's bytes (at most `limit` + 1), None when it does not exist; a registry that
        cannot be read fails closed with a 502 that does not name it."""
        from .registry_reader import RegistryUnreadable

        try:
            return self.reader.read(rel, limit)
        except RegistryUnreadable as exc:
            raise SigningFailed(f"the registry could not be read ({exc})") from None

    def _list(self, prefix: str) -> list[str]:
        from .registry_reader import RegistryUnreadable

        try:
            return self.reader.list(prefix, DOC_SUFFIX)
        except RegistryUnreadable as exc:
            raise SigningFailed(f"the registry could not be listed ({exc})") from None

    def cached(self, key: tuple) -> Any:
        with self._lock:
            return self._cache.get(key)

    def remember(self, key: tuple, value: Any) -> None:
        with self._lock:
            self._cache[key] = value

    def find(self, name: str, version: str) -> Found:
        key = (name, version)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        found = self._find_latest(name) if version == "latest" else self._find_exact(name, version)
        with self._lock:
            self._cache[key] = found
        return found

    def _find_exact(self, name: str, version: str) -> Found:
        path = document_path(name, version)
        if version.endswith(".files"):  # that path is a manifest, never a document
            raise Missing(name, version, "manifest_path")
        data = self._read(path)
        if data is None:
            raise Missing(name, version, "missing")
        try:
            doc = parse_document_at(data, name, version)
        except ValueError as exc:
            raise Missing(name, version, str(exc)) from None
        return self._with_manifest(doc, path, version)

    def _find_latest(self, name: str) -> Found:
        prefix = f"{DATASETS}/{name}/"
        paths = self._list(prefix)
        best: Optional[tuple[Document, str]] = None
        for path in paths:
            label = path[len(prefix) : -len(DOC_SUFFIX)] if path.startswith(prefix) else ""
            if path.endswith(MANIFEST_SUFFIX) or not VERSION.fullmatch(label):
                continue
            data = self._read(path)
            if data is None:
                continue
            try:
                doc = parse_document_at(data, name, label)
            except ValueError:
                continue  # skipped: one bad document never hides the others
            if doc.status == Status.PUBLISHED and (best is None or recency(doc) > recency(best[0])):
                best = (doc, path)
        if best is None:
            raise Missing(name, "latest", "no_published_version")
        return self._with_manifest(best[0], best[1], "latest")

    def _with_manifest(self, doc: Document, path: str, asked: str) -> Found:
        if doc.status == Status.DRAFT:
            return Found(doc, None, path)
        manifest = self.read_manifest(manifest_path(doc.name, doc.version), doc.name, asked)
        return Found(doc, manifest, path)

    def read_manifest(self, rel: str, name: str, asked: str) -> FileManifest:
        """A file manifest (a version's own or a layout's) read with the signer's size-capped
        reader; missing, oversized or invalid is a 404 (`Missing`) whose reason is for the audit."""
        data = self._read(rel, self.max_manifest_bytes)
        if data is None:
            raise Missing(name, asked, "no_manifest")
        if len(data) > self.max_manifest_bytes:
            raise Missing(name, asked, "oversized_manifest")
        try:
            return parse_manifest(data, rel)
        except (SpecInvalid, RecursionError):
            raise Missing(name, asked, "invalid_manifest") from None


def version_warnings(document: Document, today: Optional[dt.date] = None) -> list[str]:
    """What a reader should know about this version: deprecated (and by what), past retention."""
    out: list[str] = []
    if document.status == Status.DEPRECATED:
        reason = next((h.reason for h in reversed(document.history) if h.action == "deprecated" and h.reason), None)
        by = document.lineage.superseded_by
        msg = f"{document.ref} is deprecated"
        if reason:
            msg += f": {reason}"
        if by:
            msg += f"; superseded by {by}"
        out.append(msg)
    expires = document.expires_on()
    if expires is not None and expires < (today or dt.date.today()):
        out.append(f"{document.ref} is past its retention date ({expires.isoformat()}); it may be deleted")
    return out


__all__ = [
    "Lookup", "Found", "Missing", "ObjectRef", "TableLocation", "resolve_files", "check_allowed", "version_warnings",
    "SignerError", "canonical_location", "location_allowed", "safe_relative",
]
