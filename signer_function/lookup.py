"""Find the pinned dataset version and its file manifest in the registry, and resolve files safely.

Documents are immutable once published (only `deprecate` changes one), so a short TTL cache is
safe and keeps warm requests off the registry bucket. `latest` resolves to the newest published
version; drafts are never signed. Manifest paths are relative to the document's `location`; one
that climbs out (`..`), is absolute or names another scheme is refused, and a location outside
`ALLOWED_LOCATIONS` is never signed.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import urlparse

from cachetools import TTLCache

from registry import errors as registry_errors
from registry.documents import Registry
from registry.model import DatasetDocument, FileManifest, Status

from .errors import BadRequest, LocationNotAllowed, NotFound, SignerError


@dataclass(frozen=True)
class ObjectRef:
    """One object to sign: its scheme (`s3`/`gs`), bucket and key, plus manifest facts."""

    scheme: str
    bucket: str
    key: str
    size: Optional[int]
    rows: Optional[int]
    partition: dict[str, Any]
    stats: Optional[dict[str, Any]] = None  # per-file min/max from the manifest (for pruning)

    @property
    def uri(self) -> str:
        return f"{self.scheme}://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class TableLocation:
    scheme: str
    bucket: str
    prefix: str  # key prefix of the location, no leading or trailing slash ("" = bucket root)

    @property
    def uri(self) -> str:
        return f"{self.scheme}://{self.bucket}/{self.prefix}".rstrip("/")


@dataclass(frozen=True)
class Found:
    document: DatasetDocument
    manifest: FileManifest


def parse_location(location: str) -> TableLocation:
    """`s3://b/p/t` -> ('s3', 'b', 'p/t'). Only object stores can be signed."""
    parsed = urlparse(location)
    scheme = {"gcs": "gs", "s3a": "s3"}.get(parsed.scheme, parsed.scheme)
    if scheme not in ("s3", "gs") or not parsed.netloc:
        raise BadRequest(f"location {location!r} is not on S3 or GCS; only object stores can be signed")
    prefix = parsed.path.strip("/")
    if any(part in ("..", ".") for part in prefix.split("/")):
        raise BadRequest(f"location {location!r} contains '.' or '..' segments")
    return TableLocation(scheme, parsed.netloc, prefix)


def _normalise(uri: str) -> str:
    for old, new in (("gcs://", "gs://"), ("s3a://", "s3://")):
        if uri.startswith(old):
            uri = new + uri[len(old) :]
    return uri.rstrip("/")


def location_allowed(location: str, allowed: tuple[str, ...]) -> bool:
    """True when `location` is one of `allowed` or below one of them, at a `/` boundary (so
    `s3://b/synapses` does not also allow `s3://b/synapses_v2`)."""
    loc = _normalise(location)
    for prefix in allowed:
        p = _normalise(prefix)
        if not p:
            continue
        if p.endswith(":/"):  # "s3://" normalised: a whole scheme, allowed on purpose
            if loc.startswith(p + "/"):
                return True
        elif loc == p or loc.startswith(p + "/"):
            return True
    return False


def check_allowed(location: str, allowed: tuple[str, ...]) -> None:
    if not allowed:
        raise LocationNotAllowed("this signer has no ALLOWED_LOCATIONS configured; it signs nothing")
    if not location_allowed(location, allowed):
        raise LocationNotAllowed("the location of this dataset is outside the locations this signer may sign")


def safe_relative(path: str) -> str:
    """Validate a manifest path relative to the location; raise BadRequest for anything else."""
    if "\\" in path or "\x00" in path or any(ord(c) < 32 for c in path):
        raise BadRequest(f"manifest path {path!r} has forbidden characters")
    if "://" in path or path.startswith("/"):
        raise BadRequest(f"manifest path {path!r} is absolute; paths must be relative to the location")
    parts = path.split("/")
    if any(p in ("..", ".", "") for p in parts):
        raise BadRequest(f"manifest path {path!r} has '..', '.' or empty segments")
    return path


def resolve_files(document: DatasetDocument, manifest: FileManifest) -> tuple[TableLocation, list[ObjectRef]]:
    """Every manifest file as an object inside the document's own location."""
    loc = parse_location(document.location)
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


class Lookup:
    """Documents and manifests by `name@version`, with a TTL cache over the registry reads."""

    def __init__(self, registry_uri: str, ttl: float = 60.0, size: int = 512):
        if not registry_uri:
            raise ValueError("REGISTRY_URI is not set")
        self.registry_uri = registry_uri
        self._registry: Optional[Registry] = None
        self._cache: TTLCache = TTLCache(size, ttl)
        self._lock = threading.Lock()

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = Registry(self.registry_uri)
        return self._registry

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
        try:
            doc = self.registry.get(name, version)
        except registry_errors.NotFound as exc:
            raise NotFound(str(exc).replace(self.registry_uri, "the registry")) from None
        except registry_errors.SpecInvalid:
            raise NotFound(f"{name}@{version} cannot be read from the registry (invalid document)") from None
        except FileNotFoundError:
            raise NotFound(f"{name}@{version} is not in the registry") from None
        if doc.status == Status.DRAFT:
            raise NotFound(f"{name}@{version} is a draft; drafts are not signed")
        try:
            manifest = self.registry.manifest(doc.name, doc.version)
        except registry_errors.NotFound:
            raise NotFound(f"{doc.ref} has no file manifest in the registry") from None
        found = Found(doc, manifest)
        with self._lock:
            self._cache[key] = found
            self._cache[(doc.name, doc.version)] = found
        return found


def version_warnings(document: DatasetDocument, today: Optional[dt.date] = None) -> list[str]:
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


__all__ = ["Lookup", "Found", "ObjectRef", "TableLocation", "resolve_files", "check_allowed", "version_warnings", "SignerError"]
