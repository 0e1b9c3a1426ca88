"""Publish: the one explicit step from an authoring spec to an immutable registry document.

validate the spec -> inspect the table (metadata only) -> merge declared and detected columns ->
record facts (checks) -> write manifest + document conditionally. The same function serves the
command line and pipelines (`registry.publish(spec, registry=...)`); errors are typed exceptions
carrying field paths, and nothing is written unless every step before the write succeeded.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Union

import yaml
from pydantic import ValidationError

from .documents import Registry, dumps
from .errors import AlreadyPublished, BadInput, SpecInvalid
from .grammar import publish_problems
from .inspect import ProgressCallback, TableInspection, inspect_table
from .inspect.arrow_types import is_integer, is_numeric, is_numeric_point, types_compatible
from .model import (
    ACTION_DEPRECATED,
    ACTION_PUBLISHED,
    CHECK_COLUMNS_DOCUMENTED,
    CHECK_REFERENCED_DATASET_EXISTS,
    ID_SEMANTICS,
    Check,
    Column,
    DatasetDocument,
    DatasetSpec,
    FileManifest,
    HistoryEntry,
    Inspected,
    Semantic,
    Status,
    format_validation_error,
    parse_ref,
)
from .owners import check_owner, publisher_teams
from .storage import sha256

SpecInput = Union[DatasetSpec, dict, str, Path]


@dataclass
class PublishResult:
    """What publish did: the document, its manifest, and warnings for the person publishing."""

    document: DatasetDocument
    manifest: FileManifest
    warnings: list[str] = field(default_factory=list)
    written: bool = False
    skipped: bool = False


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def current_user() -> str:
    """Who is publishing: FEATURE_REGISTRY_USER, else user@host (recorded, never trusted)."""
    explicit = os.environ.get("FEATURE_REGISTRY_USER")
    if explicit:
        return explicit
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


# ---- loading specs -----------------------------------------------------------------------------


def load_yaml(path: Union[str, Path]) -> dict[str, Any]:
    """Read a YAML file; syntax errors become SpecInvalid with the line, not a traceback."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecInvalid.single("(file)", "does not exist", source) from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise SpecInvalid.single("(file)", f"cannot be read ({exc})", source) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"(yaml) line {mark.line + 1}" if mark is not None else "(yaml)"
        raise SpecInvalid.single(where, str(getattr(exc, "problem", exc)), source) from None
    if not isinstance(data, dict):
        raise SpecInvalid.single("(document)", "must be a mapping of fields, not " + type(data).__name__, source)
    return data


def load_spec(spec: SpecInput) -> DatasetSpec:
    """A spec from a model, a dict or a YAML path, validated; errors name every field path."""
    if isinstance(spec, DatasetSpec) and not isinstance(spec, DatasetDocument):
        return spec
    source = ""
    if isinstance(spec, (str, Path)):
        source = str(spec)
        spec = load_yaml(spec)
    if isinstance(spec, DatasetDocument):
        spec = spec.to_dict()
    try:
        model = DatasetSpec.from_dict(spec)
    except ValidationError as exc:
        raise SpecInvalid(format_validation_error(exc), source) from None
    problems = publish_problems(model)
    if problems:
        raise SpecInvalid(problems, source)
    return model


# ---- merging what the author declared with what the table says -----------------------------


def merge_columns(spec: DatasetSpec, found: TableInspection) -> tuple[list[Column], list[str]]:
    """Declared columns checked against the table. Errors (raised together): a declared column
    that does not exist, a declared type that disagrees, an id semantic on a non-integer column, a
    position on a non-numeric one. Warnings: columns the author did not document."""
    types = {c.name: c.type for c in found.columns}
    problems: list[tuple[str, str]] = []
    merged: list[Column] = []
    for i, col in enumerate(spec.columns):
        actual = types.get(col.name)
        if actual is None:
            close = [n for n in types if n.lower() == col.name.lower() or n.startswith(col.name[:4])]
            hint = f" (did you mean {', '.join(close[:3])}?)" if close else ""
            problems.append((f"columns[{i}].name", f"{col.name!r} is not a column of the table{hint}"))
            continue
        if col.type and not types_compatible(col.type, actual):
            problems.append((f"columns[{i}].type", f"declared {col.type!r} but the table has {actual!r}"))
        if col.semantic in ID_SEMANTICS and not is_integer(actual):
            problems.append(
                (f"columns[{i}].semantic", f"{col.semantic.value} needs an integer column; {col.name!r} is {actual}")
            )
        if col.semantic == Semantic.POSITION_AXIS and not is_numeric(actual):
            problems.append((f"columns[{i}].semantic", f"position_axis needs a numeric column; {col.name!r} is {actual}"))
        if col.semantic == Semantic.POSITION and not (is_numeric_point(actual) or is_numeric(actual)):
            problems.append(
                (f"columns[{i}].semantic", f"position needs a numeric point (list or struct of numbers); {col.name!r} is {actual}")
            )
        merged.append(col.model_copy(update={"partition": True if col.name in found.partition_columns else None}))
    for i, ref in enumerate(spec.references):
        if ref.column not in types:
            problems.append((f"references[{i}].column", f"{ref.column!r} is not a column of the table"))
    if problems:
        raise SpecInvalid(problems, f"{spec.ref} against {spec.location}")
    described = {c.name for c in spec.columns if (c.description or "").strip()}
    undocumented = [n for n in types if n not in described]
    warnings = []
    if undocumented and spec.columns:
        warnings.append(f"undocumented columns: {', '.join(undocumented)}")
    elif not spec.columns:
        warnings.append("no columns documented: readers will see only names and types")
    return merged, warnings


def registry_checks(spec: DatasetSpec, registry: Registry, at: dt.datetime, found: TableInspection) -> list[Check]:
    """Facts about references to other registered datasets (recorded, not enforced)."""
    checks = []
    targets = [r.dataset for r in spec.references if r.dataset] + spec.lineage.derived_from + spec.lineage.supersedes
    for ref in dict.fromkeys(targets):
        ok = _dataset_registered(registry, ref)
        checks.append(
            Check(
                check=CHECK_REFERENCED_DATASET_EXISTS,
                ok=ok,
                subject=ref,
                detail="registered" if ok else f"{ref} is not in this registry",
                checked_at=at,
            )
        )
    described = {c.name for c in spec.columns if (c.description or "").strip()}
    missing = [c.name for c in found.columns if c.name not in described]
    total = len(found.columns)
    checks.append(
        Check(
            check=CHECK_COLUMNS_DOCUMENTED,
            ok=not missing,
            detail=(f"{total - len(missing)} of {total} columns described"
                    + ("" if not missing else f"; no description: {', '.join(missing)}")),
            checked_at=at,
        )
    )
    return checks


def _dataset_registered(registry: Registry, ref: str) -> bool:
    """`NAME@VERSION` registered, or for an unpinned `NAME`, any version of it."""
    name, _, version = ref.partition("@")
    if version:
        return registry.exists(name, version)
    return bool(registry.versions(name))


# ---- publish -------------------------------------------------------------------------------------


def build_document(
    spec: DatasetSpec,
    found: TableInspection,
    *,
    registry: Registry,
    draft: bool,
    verify_cave: bool,
    at: Optional[dt.datetime] = None,
    user: Optional[str] = None,
) -> tuple[DatasetDocument, FileManifest, list[str]]:
    at = at or now()
    user = user or current_user()
    columns, warnings = merge_columns(spec, found)
    warnings = list(found.warnings) + warnings
    checks = registry_checks(spec, registry, at, found)
    if verify_cave:
        from .cave import verify

        cave_checks = verify(spec, at=at)
        checks.extend(cave_checks)
    warnings.extend(
        f"check {c.check}{' ' + c.subject if c.subject else ''}: {c.detail}"
        for c in checks
        if c.ok is False and c.check != CHECK_COLUMNS_DOCUMENTED  # already said above
    )
    warnings.extend(
        f"check {c.check}{' ' + c.subject if c.subject else ''} not done: {c.detail}" for c in checks if c.ok is None
    )
    manifest = FileManifest(files=_normalised_files(found.files))
    status = Status.DRAFT if draft else spec.status
    fields = spec.model_dump(exclude={"columns", "table_version", "status"})
    doc = DatasetDocument.model_validate(
        {
            **fields,
            "columns": columns,
            "status": status,
            "table_version": found.table_version,
            "inspected": Inspected(
                columns=found.columns,
                row_count=found.row_count,
                file_count=found.file_count,
                bytes=found.bytes,
                partition_columns=found.partition_columns,
                fingerprint=found.fingerprint,
                reader_features=found.reader_features,
                manifest_sha256=sha256(dumps(manifest.to_dict())),
            ),
            "checks": checks,
            "published_at": at,
            "published_by": user,
            "history": [HistoryEntry(action=ACTION_PUBLISHED if not draft else "drafted", at=at, by=user)],
        }
    )
    return doc, manifest, warnings


def _normalised_files(files: list[Any]) -> list[Any]:
    """The manifest's files with partition values in the one JSON shape every format shares
    (`registry.inspect.partitions`); the signer returns them as written here."""
    from .inspect.partitions import normalise

    out = []
    for f in files:
        values = {k: normalise(v) for k, v in f.partition.items()}
        out.append(f if values == f.partition else f.model_copy(update={"partition": values}))
    return out


def publish(
    spec: SpecInput,
    registry: Union[str, Registry, None] = None,
    *,
    draft: bool = False,
    dry_run: bool = False,
    verify_cave: bool = False,
    if_exists: Literal["error", "skip"] = "error",
    progress: Optional[ProgressCallback] = None,
    team: Optional[str] = None,
) -> PublishResult:
    """Validate, inspect and register a table. Raises `BadInput` subclasses for the user's mistakes
    (`SpecInvalid` with field paths, `AlreadyPublished`, `TableUnreadable`); writes nothing then.

    `if_exists="skip"` makes a pipeline's re-run a no-op when name@version is already registered
    with the same table fingerprint; a different table under the same name@version is refused.

    `team`: who publishes (else $FEATURE_REGISTRY_TEAM, else the spec's `owners[].team`); a new
    version of a dataset another team owns is refused with `NotOwner` (see `registry.owners`).
    """
    if if_exists not in ("error", "skip"):
        raise BadInput(f"if_exists must be 'error' or 'skip', not {if_exists!r}")
    registry_uri = registry if registry is not None else os.environ.get("FEATURE_REGISTRY_URI")
    if not registry_uri:
        raise BadInput("no registry given: pass --registry URI or set FEATURE_REGISTRY_URI")
    reg = registry_uri if isinstance(registry_uri, Registry) else Registry(registry_uri)
    model = load_spec(spec)
    if model.status == Status.DEPRECATED:
        raise SpecInvalid.single("status", "a new version cannot be published as deprecated; use `deprecate`")
    if model.status == Status.DRAFT:
        draft = True

    existing = _existing(reg, model)
    if existing is not None and existing.status != Status.DRAFT and if_exists == "error":
        raise AlreadyPublished(f"{model.ref} is already in {reg.uri}; published versions are never overwritten")
    teams = publisher_teams(model, team)
    _, owner_warnings = check_owner(reg, model, teams, user=current_user(), claim=False)

    found = inspect_table(
        model.location,
        model.format,
        table_version=model.table_version,
        format_options=model.format_options,
        progress=progress,
    )
    if existing is not None and existing.status != Status.DRAFT:  # if_exists == "skip"
        if existing.inspected.fingerprint == found.fingerprint and existing.table_version == found.table_version:
            return PublishResult(existing, reg.manifest(model.name, model.version), ["already registered: nothing to do"], skipped=True)
        raise AlreadyPublished(
            f"{model.ref} is already registered with a different table "
            f"({existing.inspected.fingerprint} at version {existing.table_version}, now "
            f"{found.fingerprint} at {found.table_version}); publish it as a new version"
        )

    layout_manifests: dict[str, FileManifest] = {}
    layout_warnings: list[str] = []
    if model.layouts:  # the other physical copies of these rows (registry/layouts.py)
        from .layouts import inspect_layouts

        pinned, layout_manifests, layout_warnings = inspect_layouts(model, found, progress)
        model = model.model_copy(update={"layouts": pinned})
    doc, manifest, warnings = build_document(model, found, registry=reg, draft=draft, verify_cave=verify_cave)
    warnings = owner_warnings + warnings + layout_warnings
    if dry_run:
        return PublishResult(doc, manifest, warnings, written=False)
    reg.serialized(doc, manifest)  # too large for readers: refused before anything is written
    check_owner(reg, model, teams, user=doc.published_by, claim=True)  # exactly one team claims a new name
    if existing is not None:  # a draft: replaced by this publish
        reg.replace_draft(doc, manifest, layout_manifests)
    else:
        reg.put_new(doc, manifest, layout_manifests)
    return PublishResult(doc, manifest, warnings, written=True)


def _existing(reg: Registry, spec: DatasetSpec) -> Optional[DatasetDocument]:
    try:
        return reg.get(spec.name, spec.version)
    except BadInput:
        if reg.exists(spec.name, spec.version):  # there but unreadable: still never overwritten
            raise AlreadyPublished(f"{spec.ref} exists in {reg.uri} (and does not validate); not overwritten") from None
        return None


def deprecate(
    registry: Union[str, Registry],
    ref: str,
    *,
    reason: str,
    superseded_by: Optional[str] = None,
    user: Optional[str] = None,
) -> DatasetDocument:
    """Mark a published version deprecated: the only change a published document ever gets,
    appended to its history and written with a precondition."""
    reg = registry if isinstance(registry, Registry) else Registry(registry)
    name, version = parse_ref(ref, default_version="")
    if not version:
        raise BadInput(f"{ref!r}: give NAME@VERSION (deprecation names one exact version)")
    if not reason.strip():
        raise BadInput("--reason must say why (readers see it on the version page)")
    if superseded_by:
        s_name, s_version = parse_ref(superseded_by, default_version="")
        if not s_version:
            raise BadInput(f"--superseded-by {superseded_by!r}: give NAME@VERSION")
        if (s_name, s_version) == (name, version):
            raise BadInput("a version cannot supersede itself")
        reg.get(s_name, s_version)  # NotFound (exit 2) when the successor is not registered
    user = user or current_user()

    def change(doc: DatasetDocument) -> DatasetDocument:
        if doc.status == Status.DEPRECATED:
            raise BadInput(f"{ref} is already deprecated ({doc.history[-1].reason if doc.history else ''})")
        if doc.status == Status.DRAFT:
            raise BadInput(f"{ref} is a draft; drafts are replaced by publishing again, not deprecated")
        at = now()
        lineage = doc.lineage.model_copy(update={"superseded_by": superseded_by})
        return doc.model_copy(
            update={
                "status": Status.DEPRECATED,
                "lineage": lineage,
                "history": doc.history
                + [HistoryEntry(action=ACTION_DEPRECATED, at=at, by=user, reason=reason, superseded_by=superseded_by)],
            }
        )

    return reg.update(name, version, change)
