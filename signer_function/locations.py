"""Object-store locations, canonicalised once, before any allowlist, permission or policy check.

A document's `location` is written by a publisher and may be hostile (docs/security.md). Every
value derived from it ends up in a policy language: the GCS Credential Access Boundary is a CEL
expression (a `'` or `\\` in an object name would be code), an S3 session policy is IAM JSON
(`*`, `?` and `${...}` in a Resource ARN or a `StringLike` value are wildcards and variables), and
allowlists compare prefixes. So a location is accepted only when it is already canonical under a
deliberately small grammar, and refused (`location_not_allowed`) otherwise:

* scheme `s3` or `gs` (`s3a` and `gcs` are read as aliases), lower case;
* a bucket name of lower-case letters, digits, `.`, `_`, `-` (3-222 characters, no `..`);
* a key prefix of `/`-separated segments, each `[A-Za-z0-9_][A-Za-z0-9._=+-]*` and never `.` or
  `..`; no empty segments (one trailing `/` is tolerated and dropped), at most 1,024 bytes.

Nothing is escaped or decoded: a location that needs escaping is refused, so what a policy grants
is exactly the literal prefix the document shows. Prefix comparisons are on whole segments, so
`gs://b/tables` contains `gs://b/tables/t1` but not `gs://b/tables-other`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from .errors import LocationNotAllowed

SCHEMES = {"s3": "s3", "s3a": "s3", "gs": "gs", "gcs": "gs"}
BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")
SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._=+-]*")
"""One key segment. Excludes everything with a meaning in CEL (`'`, `\\`), IAM (`*`, `?`, `$`),
URLs (`%`, `?`, `#`, space) and paths (`.`/`..` are refused separately)."""
MAX_KEY_BYTES = 1024  # S3's and GCS's limit for an object name
_URI = re.compile(r"(?P<scheme>[A-Za-z0-9]+)://(?P<bucket>[^/]*)(?P<path>/.*)?", re.DOTALL)


@dataclass(frozen=True)
class TableLocation:
    """A canonical table root: `prefix` has no leading or trailing `/` (`""` = the bucket root)."""

    scheme: str
    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"{self.scheme}://{self.bucket}/{self.prefix}".rstrip("/")

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.prefix.split("/")) if self.prefix else ()


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
class LocationPrefix:
    """An operator-configured prefix (ALLOWED_LOCATIONS, LOCATION_PERMISSIONS). `bucket` None means
    the whole scheme (`s3://`), allowed on purpose by whoever configured it."""

    scheme: str
    bucket: Optional[str]
    segments: tuple[str, ...]

    def contains(self, loc: TableLocation) -> bool:
        """True when `loc` is this prefix or below it, compared segment by segment."""
        if loc.scheme != self.scheme:
            return False
        if self.bucket is None:
            return True
        return loc.bucket == self.bucket and loc.segments[: len(self.segments)] == self.segments

    @property
    def uri(self) -> str:
        return f"{self.scheme}://" + "/".join(([self.bucket] if self.bucket else []) + list(self.segments))


def _refuse(why: str) -> LocationNotAllowed:
    return LocationNotAllowed(f"the dataset's location is not a canonical object-store location: {why}")


def check_key(key: str, what: str = "the key") -> tuple[str, ...]:
    """The segments of a key prefix that satisfies the grammar, else LocationNotAllowed."""
    if key == "":
        return ()
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise _refuse(f"{what} is longer than {MAX_KEY_BYTES} bytes")
    segments = tuple(key.split("/"))
    for seg in segments:
        if seg in ("", ".", ".."):
            raise _refuse(f"{what} has an empty, '.' or '..' segment")
        if not SEGMENT.fullmatch(seg):
            bad = next((c for c in seg if not re.fullmatch(r"[A-Za-z0-9._=+-]", c)), seg[:1])
            raise _refuse(f"{what} has a character this signer never puts in a policy ({bad!r}); "
                          "segments are [A-Za-z0-9_][A-Za-z0-9._=+-]*")
    return segments


def canonical_location(uri: Any) -> TableLocation:
    """The one canonicalisation of a document's `location`: `s3://b/p/t/` -> ('s3', 'b', 'p/t').

    Raises LocationNotAllowed (403) for anything outside the grammar in the module docstring."""
    if not isinstance(uri, str):
        raise _refuse("it is not a string")
    m = _URI.fullmatch(uri)
    if not m:
        raise _refuse("it is not SCHEME://BUCKET/KEY")
    scheme = SCHEMES.get(m["scheme"].lower())
    if scheme is None:
        raise _refuse("only s3:// and gs:// locations can be signed")
    bucket = m["bucket"]
    if not BUCKET.fullmatch(bucket) or ".." in bucket:
        raise _refuse("the bucket name is not a plain bucket name")
    path = m["path"] or ""
    key = path[1:]
    if key.endswith("/"):
        key = key[:-1]
        if key == "" and path != "/":  # "gs://b//" is not the bucket root spelled differently
            raise _refuse("the key has an empty segment")
    check_key(key)
    return TableLocation(scheme, bucket, key)


def configured_prefix(uri: str) -> LocationPrefix:
    """An operator's prefix, under the same grammar (a bare `s3://` means the whole scheme)."""
    m = _URI.fullmatch(uri.strip())
    if m and m["bucket"] == "" and not m["path"] and SCHEMES.get(m["scheme"].lower()):
        return LocationPrefix(SCHEMES[m["scheme"].lower()], None, ())
    loc = canonical_location(uri.strip())
    return LocationPrefix(loc.scheme, loc.bucket, loc.segments)


def location_allowed(location: TableLocation, allowed: tuple[LocationPrefix, ...]) -> bool:
    return any(p.contains(location) for p in allowed)


def check_allowed(location: TableLocation, allowed: tuple[LocationPrefix, ...]) -> None:
    if not allowed:
        raise LocationNotAllowed("this signer has no ALLOWED_LOCATIONS configured; it signs nothing")
    if not location_allowed(location, allowed):
        raise LocationNotAllowed("the location of this dataset is outside the locations this signer may sign")


def safe_relative(path: str) -> str:
    """A manifest path relative to the location: no `..`/`.`/empty segments, nothing absolute, no
    control characters. (Manifest paths only reach signed URLs, which the signing libraries
    percent-encode; they never enter a policy, so they may hold characters a location may not.)"""
    from .errors import BadRequest

    if not isinstance(path, str) or "\\" in path or any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise BadRequest("a manifest path has forbidden characters")
    if "://" in path or path.startswith("/"):
        raise BadRequest("a manifest path is absolute; paths must be relative to the location")
    if any(p in ("..", ".", "") for p in path.split("/")):
        raise BadRequest("a manifest path has '..', '.' or empty segments")
    if len(path.encode("utf-8")) > MAX_KEY_BYTES:
        raise BadRequest(f"a manifest path is longer than {MAX_KEY_BYTES} bytes")
    return path
