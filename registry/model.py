"""The metadata model: the authoring spec a person writes and the document `publish` stores.

Everything the registry, the site and the signer agree on lives here, so each of them depends on
this module and never on each other. Models are explicit pydantic v2 classes with `from_dict` /
`to_dict` (in the spirit of pystac); validation sits next to the fields it guards, and every error
is reported with its field path (`columns[3].semantic: ...`) by :func:`format_validation_error`.

This module must stay light: the signer imports it, so nothing heavy (pyarrow, deltalake, ...).
"""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Any, Iterable, Mapping, Optional, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from . import limits

# The grammars, enums and on-read upgrade shared with the signer's light reader (no pydantic there).
from .vocabulary import (  # noqa: E402,F401  (re-exported: `from registry.model import Status` keeps working)
    NAME_PATTERN,
    REF_PATTERN,
    REGISTRY_SCHEMA,
    VERSION_PATTERN,
    Format,
    Status,
    expiry_date,
    layouts_from_variants,
    upgrade_document,
)

DATASET_TARGET_PATTERN = r"^[a-z][a-z0-9_]*(@[A-Za-z0-9][A-Za-z0-9._-]*)?$"
"""A reference's `dataset`: `NAME@VERSION` (pinned) or `NAME` (resolved by `registry.joins`)."""
_AXIS_SUFFIX = re.compile(r"^(?P<group>.+)_(?P<axis>[xyz])$")

# Check names recorded under `checks` (facts, never enforcement).
CHECK_DATASTACK_EXISTS = "datastack_exists"
CHECK_MAT_VERSION_EXISTS = "materialization_version_exists"
CHECK_MAT_VERSION_VALID = "materialization_version_valid"
CHECK_MAT_EXPIRES_ON = "materialization_expires_on"
CHECK_ANNOTATION_TABLE_EXISTS = "annotation_table_exists"
CHECK_REFERENCED_DATASET_EXISTS = "referenced_dataset_exists"
CHECK_COLUMNS_DOCUMENTED = "columns_documented"

# History actions.
ACTION_PUBLISHED = "published"
ACTION_DEPRECATED = "deprecated"


class Semantic(str, Enum):
    ANNOTATION_ID = "annotation_id"
    ROOT_ID = "root_id"
    SUPERVOXEL_ID = "supervoxel_id"
    POSITION = "position"
    POSITION_AXIS = "position_axis"
    EMBEDDING = "embedding"
    FEATURE = "feature"
    LABEL = "label"
    OTHER = "other"


ID_SEMANTICS = frozenset({Semantic.ANNOTATION_ID, Semantic.ROOT_ID, Semantic.SUPERVOXEL_ID})
POSITION_SEMANTICS = frozenset({Semantic.POSITION, Semantic.POSITION_AXIS})


class Stability(str, Enum):
    STABLE = "stable"
    CHANGES_WITH_PROOFREADING = "changes_with_proofreading"


class Cardinality(str, Enum):
    ONE_TO_ONE = "one_to_one"
    MANY_TO_ONE = "many_to_one"
    ONE_TO_MANY = "one_to_many"
    MANY_TO_MANY = "many_to_many"


class Axis(str, Enum):
    X = "x"
    Y = "y"
    Z = "z"


class _Model(BaseModel):
    """Base: unknown fields are errors (a typo must not vanish silently), enums stored as values."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False, populate_by_name=True)

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_none=True, by_alias=True)
        if data.get("layouts") == []:
            # optional and additive: a document without layouts is what earlier writers wrote
            del data["layouts"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        return cls.model_validate(data)


class Materialization(_Model):
    """The CAVE materialization version(s) a table was computed against: the registry's clock."""

    version: Optional[int] = Field(None, ge=0, description="The materialization version.")
    timestamp: Optional[dt.datetime] = Field(None, description="The version's time_stamp in CAVE.")
    versions: Optional[list[int]] = Field(
        None, description="Every version the table is valid for, when more than one.",
        max_length=limits.MAX_MATERIALIZATION_VERSIONS,
    )

    @model_validator(mode="after")
    def _one_version_at_least(self) -> "Materialization":
        if self.version is None and not self.versions:
            raise ValueError("give 'version' or a non-empty 'versions' list")
        if self.versions:
            if any(v < 0 for v in self.versions):
                raise ValueError("versions must be non-negative integers")
            if self.version is not None and self.version not in self.versions:
                raise ValueError(f"version {self.version} is not in versions {self.versions}")
        return self

    @property
    def all_versions(self) -> list[int]:
        """Every materialization version this table is valid for, sorted."""
        found = set(self.versions or [])
        if self.version is not None:
            found.add(self.version)
        return sorted(found)

    @property
    def primary(self) -> int:
        """The version the table was computed against (the newest when only a list is given)."""
        return self.version if self.version is not None else max(self.versions or [0])


class Column(_Model):
    """A column as the author describes it; the type comes from the table (`inspected`)."""

    name: str = Field(..., min_length=1)
    description: Optional[str] = None
    semantic: Semantic = Semantic.OTHER
    type: Optional[str] = Field(
        None, description="Declared Arrow type string; publish refuses it when the table disagrees."
    )
    unit: Optional[str] = None
    resolution: Optional[list[float]] = Field(
        None, description="Units per voxel, e.g. [4, 4, 40] nm.", min_length=1, max_length=3
    )
    axis: Optional[Axis] = None
    point_group: Optional[str] = None
    partition: Optional[bool] = Field(None, description="Set by publish: a partition column.")

    @model_validator(mode="after")
    def _infer_axis(self) -> "Column":
        """`pt_position_x` with semantic position_axis: group `pt_position`, axis `x`."""
        if self.semantic == Semantic.POSITION_AXIS:
            m = _AXIS_SUFFIX.match(self.name)
            if self.axis is None:
                if not m:
                    raise ValueError(
                        f"column {self.name!r}: semantic position_axis needs 'axis' or a _x/_y/_z suffix"
                    )
                self.axis = Axis(m.group("axis"))
            if self.point_group is None:
                if not m:
                    raise ValueError(
                        f"column {self.name!r}: semantic position_axis needs 'point_group' or a _x/_y/_z suffix"
                    )
                self.point_group = m.group("group")
        return self


class Reference(_Model):
    """An intended join, declarative and never enforced."""

    column: str
    annotation_table: Optional[str] = None
    dataset: Optional[str] = Field(
        None,
        pattern=DATASET_TARGET_PATTERN,
        description="NAME@VERSION (pinned), or NAME: the newest published version sharing a "
        "materialization version with this table (see registry.joins)",
    )
    target_column: str = "id"
    cardinality: Cardinality = Cardinality.MANY_TO_ONE
    stability: Stability = Stability.STABLE
    description: Optional[str] = None

    @model_validator(mode="after")
    def _one_target(self) -> "Reference":
        if (self.annotation_table is None) == (self.dataset is None):
            raise ValueError("give exactly one of 'annotation_table' or 'dataset'")
        return self

    @property
    def target(self) -> str:
        return self.annotation_table or self.dataset or ""

    @property
    def pinned(self) -> bool:
        """A dataset reference naming one exact version (`NAME@VERSION`)."""
        return bool(self.dataset and "@" in self.dataset)


class Owner(_Model):
    name: str
    email: Optional[str] = Field(None, pattern=r"^[^@\s]+@[^@\s]+$")
    team: Optional[str] = None


class Citation(_Model):
    text: Optional[str] = None
    doi: Optional[str] = None
    bibtex: Optional[str] = None


class Retention(_Model):
    """How long the table is kept: a date or a number of days after publishing."""

    expires_on: Optional[dt.date] = None
    ttl_days: Optional[int] = Field(None, gt=0)

    @model_validator(mode="after")
    def _one(self) -> "Retention":
        if (self.expires_on is None) == (self.ttl_days is None):
            raise ValueError("give exactly one of 'expires_on' or 'ttl_days'")
        return self


class Provenance(_Model):
    pipeline: Optional[str] = None
    code_url: Optional[str] = None
    commit: Optional[str] = None
    model: Optional[str] = None
    parameters: Optional[dict[str, Any]] = None


class Lineage(_Model):
    derived_from: list[str] = Field(default_factory=list, max_length=limits.MAX_LINEAGE_REFS)
    supersedes: list[str] = Field(default_factory=list, max_length=limits.MAX_LINEAGE_REFS)
    superseded_by: Optional[str] = Field(
        default=None, pattern=REF_PATTERN, description="Set by `deprecate --superseded-by`."
    )

    @field_validator("derived_from", "supersedes")
    @classmethod
    def _refs(cls, values: list[str]) -> list[str]:
        for v in values:
            if not re.match(REF_PATTERN, v):
                raise ValueError(f"{v!r} is not NAME@VERSION")
        return values


class Access(_Model):
    """What the signer checks: a permission on a CAVE dataset (default: the datastack's, `view`)."""

    dataset: Optional[str] = None
    permission: str = "view"


class Layout(_Model):
    """Another physical copy of the same rows, ordered or partitioned for other queries (e.g. one
    of MaterializationEngine's per-indexed-column exports, z-ordered by `post_pt_root_id`). Same
    format and columns as the document's own `location`; publish inspects it and records its pin,
    fingerprint and file manifest, so the signer can sign it and the client can prefer it."""

    name: str = Field(..., pattern=NAME_PATTERN, description="e.g. by_post_pt_root_id")
    location: str = Field(..., min_length=1)
    ordering: list[str] = Field(default_factory=list, description="Sort / z-order columns, most significant first.")
    partition_columns: list[str] = Field(default_factory=list)
    table_version: Optional[int] = None
    fingerprint: Optional[str] = None
    row_count: Optional[int] = None
    file_count: Optional[int] = None
    bytes: Optional[int] = None
    manifest: bool = Field(False, description="A file manifest was recorded at publish (only those are signed).")

    @field_validator("location")
    @classmethod
    def _location(cls, v: str) -> str:
        return v.rstrip("/") if len(v) > 1 and "://" not in v[-3:] else v


class DatasetSpec(_Model):
    """The authoring spec: what a data scientist writes in YAML."""

    name: str = Field(..., pattern=NAME_PATTERN)
    version: str = Field(..., pattern=VERSION_PATTERN, description="Label, unique per name.")
    title: str = Field(..., min_length=1, max_length=limits.MAX_TITLE)
    description: str = ""
    datastack: str = Field(..., min_length=1)
    aligned_volume: Optional[str] = None
    materialization: Materialization
    location: str = Field(..., min_length=1)
    format: Format
    format_options: dict[str, Any] = Field(default_factory=dict)
    table_version: Optional[int] = Field(
        None, description="Delta version, Iceberg snapshot id or Lance version; publish pins the latest."
    )
    columns: list[Column] = Field(default_factory=list, max_length=limits.MAX_COLUMNS)
    references: list[Reference] = Field(default_factory=list, max_length=limits.MAX_REFERENCES)
    owners: list[Owner] = Field(default_factory=list, max_length=limits.MAX_OWNERS)
    license: Optional[str] = None
    usage_constraints: Optional[str] = None
    citation: Optional[Citation] = None
    invalidation_radius_nm: Optional[float] = Field(None, ge=0)
    retention: Optional[Retention] = None
    tags: list[str] = Field(default_factory=list, max_length=limits.MAX_TAGS)
    provenance: Optional[Provenance] = None
    status: Status = Status.PUBLISHED
    lineage: Lineage = Field(default_factory=Lineage)
    access: Access = Field(default_factory=Access)
    layouts: list[Layout] = Field(default_factory=list, max_length=limits.MAX_LAYOUTS,
                                  description="Other physical layouts of the same rows.")

    @field_validator("location")
    @classmethod
    def _location(cls, v: str) -> str:
        return v.rstrip("/") if len(v) > 1 and "://" not in v[-3:] else v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        for t in v:
            if not t or t != t.strip():
                raise ValueError(f"tag {t!r} is empty or has surrounding spaces")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "DatasetSpec":
        names = [c.name for c in self.columns]
        seen: set[str] = set()
        repeated: set[str] = set()
        for n in names:  # one pass (a count per name was n² on wide tables)
            if n in seen:
                repeated.add(n)
            seen.add(n)
        dupes = sorted(repeated)
        if dupes:
            raise ValueError(f"columns: declared twice: {', '.join(dupes)}")
        declared = set(names)
        for i, ref in enumerate(self.references):
            if declared and ref.column not in declared:
                raise ValueError(f"references[{i}].column: {ref.column!r} is not a declared column")
        if self.format == Format.ICEBERG:
            extra = set(self.format_options) - {"metadata_location"}
        elif self.format == Format.PARQUET:
            extra = set(self.format_options) - {"partitioning"}
        else:
            extra = set(self.format_options)
        if extra:
            raise ValueError(
                f"format_options: {', '.join(sorted(extra))} not understood for format {self.format.value}"
            )
        layout_names = [lay.name for lay in self.layouts]
        for i, lay in enumerate(self.layouts):
            if layout_names.count(lay.name) > 1:
                raise ValueError(f"layouts[{i}].name: {lay.name!r} is used twice")
            if lay.location.rstrip("/") == self.location.rstrip("/"):
                raise ValueError(f"layouts[{i}].location: is the document's own location")
        return self

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def column(self, name: str) -> Optional[Column]:
        return next((c for c in self.columns if c.name == name), None)


class InspectedColumn(_Model):
    name: str
    type: str
    nullable: bool = True


class Inspected(_Model):
    """What publish read from the table's own metadata (never the data)."""

    columns: list[InspectedColumn] = Field(..., max_length=limits.MAX_COLUMNS)
    row_count: Optional[int] = None
    file_count: int
    bytes: Optional[int] = None
    partition_columns: list[str] = Field(default_factory=list, max_length=limits.MAX_PARTITION_COLUMNS)
    fingerprint: str
    reader_features: dict[str, Any] = Field(default_factory=dict)
    manifest_sha256: Optional[str] = Field(
        None, description="sha256 of the file manifest stored beside the document."
    )


class Check(_Model):
    check: str
    ok: Optional[bool] = Field(None, description="None: not checked (see detail).")
    detail: str = ""
    checked_at: dt.datetime
    subject: Optional[str] = None


class HistoryEntry(_Model):
    action: str
    at: dt.datetime
    by: str
    reason: Optional[str] = None
    superseded_by: Optional[str] = None


class DatasetDocument(DatasetSpec):
    """The published document: the spec plus what publish found and recorded. Immutable but for
    `deprecate`, which appends to `history`."""

    registry_schema: int = REGISTRY_SCHEMA
    table_version: int
    inspected: Inspected
    checks: list[Check] = Field(default_factory=list, max_length=limits.MAX_CHECKS)
    published_at: dt.datetime
    published_by: str
    history: list[HistoryEntry] = Field(default_factory=list, max_length=limits.MAX_HISTORY)

    @field_validator("registry_schema")
    @classmethod
    def _schema(cls, v: int) -> int:
        if v != REGISTRY_SCHEMA:
            raise ValueError(f"registry_schema {v} is not {REGISTRY_SCHEMA}; upgrade_document() first")
        return v

    @model_validator(mode="after")
    def _columns_exist(self) -> "DatasetDocument":
        table = {c.name for c in self.inspected.columns}
        for i, col in enumerate(self.columns):
            if col.name not in table:
                raise ValueError(f"columns[{i}].name: {col.name!r} is not a column of the table")
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DatasetDocument":
        return cls.model_validate(upgrade_document(data))

    def expires_on(self) -> Optional[dt.date]:
        """The retention date, from `expires_on` or `ttl_days` after publishing."""
        return expiry_date(self.published_at, self.retention)


class ManifestFile(_Model):
    """One data file of a pinned table version, relative to the document's location."""

    path: str
    size: Optional[int] = None
    rows: Optional[int] = None
    partition: dict[str, Any] = Field(default_factory=dict)
    stats: Optional[dict[str, dict[str, Any]]] = Field(
        default=None, description="{'min': {column: value}, 'max': {...}} for integer columns, from the Delta log or footers.")


class FileManifest(_Model):
    files: list[ManifestFile]


def parse_ref(ref: str, default_version: str = "latest") -> tuple[str, str]:
    """`name@version` -> (name, version); a bare name gets `default_version`."""
    name, _, version = ref.partition("@")
    return name, (version or default_version)


# ---- error formatting --------------------------------------------------------------------------


def format_loc(loc: Iterable[Union[str, int]]) -> str:
    """pydantic's ('columns', 3, 'semantic') -> 'columns[3].semantic'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


def _message(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    given = err.get("input")
    if kind == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        return f"{given!r} is not one of {expected}"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field (typo?)"
    if kind == "string_pattern_mismatch":
        return f"{given!r} does not match {err.get('ctx', {}).get('pattern')}"
    msg = str(err.get("msg", "invalid"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return msg


_EMBEDDED_PATH = re.compile(r"^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*): (.+)$", re.S)


def format_validation_error(exc: ValidationError) -> list[tuple[str, str]]:
    """Every problem of a pydantic error as (field path, message).

    Model-level validators cannot set a location, so they start their message with the path
    (`references[0].column: ...`); that prefix is moved into the path here.
    """
    problems = []
    for err in exc.errors():
        loc = [p for p in err.get("loc", ()) if p not in ("function-after",)]
        path, message = format_loc(loc), _message(err)
        m = _EMBEDDED_PATH.match(message)
        if m:
            inner = m.group(1)
            path = inner if path == "(document)" else f"{path}.{inner}"
            message = m.group(2)
        problems.append((path, message))
    return problems


def document_json_schema() -> dict[str, Any]:
    """JSON Schema of the published document (what `feature-registry schema` prints)."""
    schema = DatasetDocument.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "schema/dataset.schema.json"
    return schema


def spec_json_schema() -> dict[str, Any]:
    schema = DatasetSpec.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def document_summary(doc: DatasetDocument) -> dict[str, Any]:
    """The summary of one version used by `index.json`, `list --json` and the client's search.

    One definition, so the site, the command line and the client can never disagree on it.
    """
    desc = " ".join(doc.description.split())
    return {
        "name": doc.name,
        "version": doc.version,
        "ref": doc.ref,
        "title": doc.title,
        "description": desc[:280] + ("…" if len(desc) > 280 else ""),
        "status": doc.status.value,
        "datastack": doc.datastack,
        "aligned_volume": doc.aligned_volume,
        "materialization_version": doc.materialization.primary,
        "materialization_versions": doc.materialization.all_versions,
        "format": doc.format.value,
        "location": doc.location,
        "table_version": doc.table_version,
        "row_count": doc.inspected.row_count,
        "file_count": doc.inspected.file_count,
        "bytes": doc.inspected.bytes,
        "columns": [c.name for c in doc.inspected.columns],
        "tags": list(doc.tags),
        "owners": [o.name for o in doc.owners],
        "license": doc.license,
        "published_at": doc.published_at.isoformat(),
        "superseded_by": doc.lineage.superseded_by,
    }
