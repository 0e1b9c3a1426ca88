"""The signer's typed view of a published document and its file manifest, without pydantic.

Measured (docs/benchmarks.md "Packaged signer"): importing `registry.model` cost the signer's
cold start 150-300 ms CPU (pydantic builds a validator for every document model), with
`defer_build=True` still 150-190 ms at import plus ~65 ms at the first validation. The signer
reads a handful of fields, so it reads those, typed and checked here, and nothing else:

* the bytes go through the same steps as every reader (`registry.reading`: size bound, UTF-8,
  JSON, free-form nesting bound, on-read upgrade, the document-must-match-its-path rule);
* every field the signer uses is type-checked with the model's own grammars
  (`registry.vocabulary`); a document where one is wrong is refused (SpecInvalid with the field
  path), so what reaches a policy, a URL or an answer is what the full model would accept. The
  view is stricter in one way: no lax coercion (pydantic reads `"3"` or `true` as the integer 3
  or 1; here they are refused), which only a hand-made document can contain;
* fields the signer never reads (columns' descriptions, references, owners, ...) are not
  validated: they cannot change what is granted. The site and `validate` use the full model.

Attribute names follow `registry.model.DatasetDocument`, so code written against either works.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from registry import limits
from registry.errors import SpecInvalid
from registry.reading import check_stored_at, document_json, manifest_json
from registry.vocabulary import NAME_PATTERN, REF_PATTERN, REGISTRY_SCHEMA, VERSION_PATTERN, Format, Status, expiry_date

_NAME = re.compile(NAME_PATTERN)
_VERSION = re.compile(VERSION_PATTERN)
_REF = re.compile(REF_PATTERN)
_MISSING = object()


class _Reader:
    """Typed access to one JSON object, every failure a SpecInvalid naming the field path."""

    def __init__(self, raw: Any, where: str, source: str):
        if not isinstance(raw, dict):
            raise SpecInvalid.single(where or "(document)", "must be an object", source)
        self.raw, self.where, self.source = raw, where, source

    def _path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, message: str) -> SpecInvalid:
        return SpecInvalid.single(self._path(key), message, self.source)

    def get(self, key: str, kinds: tuple[type, ...], default: Any = _MISSING, *, what: str = "") -> Any:
        value = self.raw.get(key, _MISSING)
        if value is _MISSING or (value is None and default is None):
            if default is _MISSING:
                raise self.fail(key, "is required")
            return default
        # JSON has no separate bool: a True is never an int here
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise self.fail(key, f"must be {what or ' or '.join(k.__name__ for k in kinds)}")
        return value

    def text(self, key: str, default: Any = _MISSING, pattern: Optional[re.Pattern[str]] = None) -> Any:
        value = self.get(key, (str,), default, what="a string")
        if isinstance(value, str) and pattern is not None and not pattern.fullmatch(value):
            raise self.fail(key, f"{value!r} does not match {pattern.pattern}")
        return value

    def integer(self, key: str, default: Any = _MISSING) -> Any:
        return self.get(key, (int,), default, what="an integer")

    def strings(self, key: str, limit: int) -> list[str]:
        values = self.get(key, (list,), [], what="a list")
        if len(values) > limit:
            raise self.fail(key, f"has more than {limit} items")
        for i, v in enumerate(values):
            if not isinstance(v, str):
                raise self.fail(f"{key}[{i}]", "must be a string")
        return list(values)

    def objects(self, key: str, limit: int) -> list["_Reader"]:
        values = self.get(key, (list,), [], what="a list")
        if len(values) > limit:
            raise self.fail(key, f"has more than {limit} items")
        return [_Reader(v, f"{self._path(key)}[{i}]", self.source) for i, v in enumerate(values)]

    def child(self, key: str) -> "_Reader":
        return _Reader(self.get(key, (dict,), {}, what="an object"), self._path(key), self.source)

    def enum(self, key: str, kind: Any, default: Any = _MISSING) -> Any:
        value = self.text(key, default)
        try:
            return kind(value)
        except ValueError:
            raise self.fail(key, f"{value!r} is not one of {', '.join(m.value for m in kind)}") from None

    def moment(self, key: str, kind: type = dt.datetime) -> Any:
        value = self.text(key)
        try:  # Python 3.10's fromisoformat does not read a trailing Z
            parsed = (dt.date if kind is dt.date else dt.datetime).fromisoformat(
                value[:-1] + "+00:00" if value.endswith("Z") and kind is dt.datetime else value)
        except ValueError:
            raise self.fail(key, f"{value!r} is not an ISO 8601 {'date' if kind is dt.date else 'time'}") from None
        if isinstance(parsed, dt.datetime) and parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)  # naive and aware times must compare
        return parsed


def _location(value: str) -> str:
    """The model's own normalisation of a location (a trailing `/` dropped, `s3://` kept)."""
    return value.rstrip("/") if len(value) > 1 and "://" not in value[-3:] else value


@dataclass(frozen=True)
class InspectedColumn:
    name: str
    type: str
    nullable: bool = True


@dataclass(frozen=True)
class Inspected:
    columns: list[InspectedColumn]
    file_count: int
    row_count: Optional[int] = None
    bytes: Optional[int] = None
    partition_columns: list[str] = field(default_factory=list)
    reader_features: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Access:
    dataset: Optional[str] = None
    permission: str = "view"


@dataclass(frozen=True)
class Layout:
    name: str
    location: str
    partition_columns: list[str] = field(default_factory=list)
    table_version: Optional[int] = None
    file_count: Optional[int] = None
    manifest: bool = False


@dataclass(frozen=True)
class Lineage:
    superseded_by: Optional[str] = None


@dataclass(frozen=True)
class HistoryEntry:
    action: str
    reason: Optional[str] = None


@dataclass(frozen=True)
class Retention:
    expires_on: Optional[dt.date] = None
    ttl_days: Optional[int] = None


@dataclass(frozen=True)
class Document:
    """What the signer reads of a `DatasetDocument` (same attribute names)."""

    name: str
    version: str
    title: str
    datastack: str
    location: str
    format: Format
    table_version: int
    published_at: dt.datetime
    inspected: Inspected
    status: Status = Status.PUBLISHED
    format_options: dict[str, Any] = field(default_factory=dict)
    access: Access = field(default_factory=Access)
    layouts: list[Layout] = field(default_factory=list)
    lineage: Lineage = field(default_factory=Lineage)
    history: list[HistoryEntry] = field(default_factory=list)
    retention: Optional[Retention] = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def expires_on(self) -> Optional[dt.date]:
        """The retention date, from `expires_on` or `ttl_days` after publishing (as the model)."""
        return expiry_date(self.published_at, self.retention)

    def replace(self, **changes: Any) -> "Document":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class ManifestFile:
    path: str
    size: Optional[int] = None
    rows: Optional[int] = None
    partition: dict[str, Any] = field(default_factory=dict)
    stats: Optional[dict[str, dict[str, Any]]] = None


@dataclass(frozen=True)
class FileManifest:
    files: list[ManifestFile]


def _inspected(r: _Reader) -> Inspected:
    columns = []
    for c in r.objects("columns", limits.MAX_COLUMNS):
        columns.append(InspectedColumn(c.text("name"), c.text("type"), c.get("nullable", (bool,), True, what="a boolean")))
    return Inspected(
        columns=columns,
        file_count=r.integer("file_count"),
        row_count=r.integer("row_count", None),
        bytes=r.integer("bytes", None),
        partition_columns=r.strings("partition_columns", limits.MAX_PARTITION_COLUMNS),
        reader_features=r.get("reader_features", (dict,), {}, what="an object"),
    )


def _layouts(r: _Reader, own: str) -> list[Layout]:
    out: list[Layout] = []
    for lay in r.objects("layouts", limits.MAX_LAYOUTS):
        item = Layout(
            name=lay.text("name", pattern=_NAME),
            location=_location(lay.text("location")),
            partition_columns=lay.strings("partition_columns", limits.MAX_PARTITION_COLUMNS),
            table_version=lay.integer("table_version", None),
            file_count=lay.integer("file_count", None),
            manifest=lay.get("manifest", (bool,), False, what="a boolean"),
        )
        if not item.location:
            raise lay.fail("location", "must not be empty")
        if any(x.name == item.name for x in out):
            raise lay.fail("name", f"{item.name!r} is used twice")
        if item.location.rstrip("/") == own.rstrip("/"):
            raise lay.fail("location", "is the document's own location")
        out.append(item)
    return out


def read_document(data: bytes, source: str, expected: Optional[tuple[str, str]] = None) -> Document:
    """Bytes stored at `datasets/<name>/<version>.json` (`expected`) -> the signer's view, or
    SpecInvalid with the field path (oversized, not UTF-8 JSON, too deep, a field the signer reads
    is wrong, or the body claims another name@version)."""
    r = _Reader(document_json(data, source), "", source)
    if r.integer("registry_schema", REGISTRY_SCHEMA) != REGISTRY_SCHEMA:
        raise r.fail("registry_schema", f"is not {REGISTRY_SCHEMA}")
    name, version = r.text("name", pattern=_NAME), r.text("version", pattern=_VERSION)
    check_stored_at(name, version, expected, source)
    title = r.text("title")
    if not title or len(title) > limits.MAX_TITLE:
        raise r.fail("title", f"must be 1 to {limits.MAX_TITLE} characters")
    datastack, location = r.text("datastack"), _location(r.text("location"))
    if not datastack or not location:
        raise r.fail("datastack" if not datastack else "location", "must not be empty")
    access = r.child("access")
    lineage = r.child("lineage")
    superseded = lineage.text("superseded_by", None, pattern=_REF)
    retention = None
    if r.raw.get("retention") is not None:
        ret = r.child("retention")
        retention = Retention(
            expires_on=ret.moment("expires_on", dt.date) if ret.raw.get("expires_on") is not None else None,
            ttl_days=ret.integer("ttl_days", None))
        if (retention.expires_on is None) == (retention.ttl_days is None) or (
                retention.ttl_days is not None and retention.ttl_days <= 0):
            raise r.fail("retention", "give exactly one of 'expires_on' or 'ttl_days' (> 0)")
    return Document(
        name=name,
        version=version,
        title=title,
        datastack=datastack,
        location=location,
        format=r.enum("format", Format),
        table_version=r.integer("table_version"),
        published_at=r.moment("published_at"),
        inspected=_inspected(r.child("inspected")),
        status=r.enum("status", Status, Status.PUBLISHED.value),
        format_options=r.get("format_options", (dict,), {}, what="an object"),
        access=Access(access.text("dataset", None), access.text("permission", "view")),
        layouts=_layouts(r, location),
        lineage=Lineage(superseded),
        history=[HistoryEntry(h.text("action"), h.text("reason", None))
                 for h in r.objects("history", limits.MAX_HISTORY)],
        retention=retention,
    )


def read_manifest(data: bytes, source: str) -> FileManifest:
    """A file manifest's bytes -> its files (`path`, `size`, `rows`, `partition`, `stats`)."""
    r = _Reader(manifest_json(data, source), "", source)
    files = []
    for f in r.objects("files", 1 << 62):
        stats = f.get("stats", (dict,), None, what="an object")
        if stats is not None and not all(isinstance(v, dict) for v in stats.values()):
            raise f.fail("stats", "must map 'min'/'max' to objects")
        files.append(ManifestFile(path=f.text("path"), size=f.integer("size", None), rows=f.integer("rows", None),
                                  partition=f.get("partition", (dict,), {}, what="an object"), stats=stats))
    return FileManifest(files)
