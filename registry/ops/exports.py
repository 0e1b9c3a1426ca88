"""Find CAVE MaterializationEngine Delta exports and turn them into registry specs.

MaterializationEngine writes each exported annotation table as Delta under
`{bucket}/{datastack}/v{version}/{table}/...`, usually several times: one copy per indexed column,
each z-ordered by that column. Those copies are *one* table with several physical layouts, so they
become one dataset version; the layout chosen as `location` is the one ordered by `id` (else the
first), and every layout is recorded in `provenance.parameters.layout_variants` (the document model
has no field for alternative layouts, and `format_options` is validated strictly per format).

Why derive instead of asking for YAML: the export's path already says datastack, materialization
version and source table, and CAVE's column naming says the semantics (`*_root_id`, `*_position`,
...). The derived spec is a starting point a person can edit (`--dry-run` prints it as YAML).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from registry.errors import AlreadyPublished, BadInput, RegistryError
from registry.inspect import TableInspection, inspect_table
from registry.inspect.arrow_types import is_integer, is_numeric, is_numeric_point
from registry.storage import filesystem, join, protocol_of

PIPELINE = "materialization export"
TAG = "materialization-export"
_MAT_DIR = re.compile(r"^v(\d+)$")
_AXIS = re.compile(r"^(?P<group>.+_position)_(?P<axis>[xyz])$")
_VARIANT_PREFIXES = ("zorder_by_", "zorder_", "order_by_", "sorted_by_", "by_", "idx_", "index_")


@dataclass
class ExportTable:
    """One Delta table copy found under the scan root."""

    location: str  # URI of the Delta table directory
    datastack: str
    mat_version: int
    table: str
    variant: str  # path below the table directory ("" when the table dir itself is the Delta table)


@dataclass
class ExportGroup:
    """All layout copies of one (datastack, materialization version, table)."""

    datastack: str
    mat_version: int
    table: str
    copies: list[ExportTable] = field(default_factory=list)


@dataclass
class Derived:
    """A derived spec (plain dict, ready for YAML or `publish`) and what was noticed deriving it."""

    spec: dict[str, Any]
    group: ExportGroup
    notes: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.spec['name']}@{self.spec['version']}"


@dataclass
class ScanOutcome:
    """One line of the scan report: `action` is published | would_publish | skipped | conflict | failed."""

    ref: str
    action: str
    detail: str = ""


# ---- finding exports --------------------------------------------------------------------------


def find_exports(root: str) -> list[ExportTable]:
    """Every Delta table (a directory holding `_delta_log/`) under `root`, placed in the
    `{datastack}/v{version}/{table}/[variant]` layout. `root` may be the bucket, a datastack
    prefix or a `v{version}` prefix; the segments above it are taken from `root` itself."""
    fs, base = filesystem(root)
    base = base.rstrip("/")
    logs = sorted({p.rstrip("/") for p in fs.glob(base + "/**/_delta_log") if p.rstrip("/").endswith("_delta_log")})
    scheme = protocol_of(root)
    found: list[ExportTable] = []
    for log in logs:
        table_dir = log[: -len("/_delta_log")]
        parts = table_dir.split("/")
        mat_index = next((i for i in range(len(parts) - 1, 0, -1) if _MAT_DIR.match(parts[i]) and i + 1 < len(parts)), None)
        if mat_index is None:
            continue  # a Delta table that is not in the export layout: not ours to guess about
        location = table_dir if scheme == "file" else f"{scheme}://{table_dir}"
        found.append(
            ExportTable(
                location=location,
                datastack=parts[mat_index - 1],
                mat_version=int(_MAT_DIR.match(parts[mat_index]).group(1)),  # type: ignore[union-attr]
                table=parts[mat_index + 1],
                variant="/".join(parts[mat_index + 2 :]),
            )
        )
    return found


def group_exports(tables: Iterable[ExportTable]) -> list[ExportGroup]:
    groups: dict[tuple[str, int, str], ExportGroup] = {}
    for t in tables:
        key = (t.datastack, t.mat_version, t.table)
        groups.setdefault(key, ExportGroup(*key)).copies.append(t)
    return [groups[k] for k in sorted(groups)]


# ---- deriving specs -----------------------------------------------------------------------------


def dataset_name(table: str) -> str:
    """A registry name from a CAVE table name (`[a-z][a-z0-9_]*`)."""
    name = re.sub(r"[^a-z0-9_]+", "_", table.lower()).strip("_") or "table"
    return name if name[0].isalpha() else f"t_{name}"


def column_semantic(name: str, arrow_type: str) -> tuple[str, dict[str, Any], Optional[str]]:
    """(semantic, extra column fields, note) from CAVE naming, checked against the Arrow type so a
    derived spec never contradicts the table (publish would refuse it)."""
    def need(ok: bool, semantic: str, extra: Optional[dict] = None) -> tuple[str, dict[str, Any], Optional[str]]:
        if ok:
            return semantic, extra or {}, None
        return "other", {}, f"{name}: named like {semantic} but typed {arrow_type}; left as other"

    if name in ("id", "target_id"):
        return need(is_integer(arrow_type), "annotation_id")
    if name.endswith("_root_id"):
        return need(is_integer(arrow_type), "root_id")
    if name.endswith("_supervoxel_id"):
        return need(is_integer(arrow_type), "supervoxel_id")
    if _AXIS.match(name):
        return need(is_numeric(arrow_type), "position_axis", {"unit": "voxel"})
    if name.endswith("_position"):
        return need(is_numeric_point(arrow_type), "position", {"unit": "voxel"})
    return "other", {}, None


_DESCRIPTIONS = {
    "annotation_id": "annotation id (stable)",
    "root_id": "segment root id at this materialization version (changes with proofreading)",
    "supervoxel_id": "supervoxel id under the point (stable)",
    "position": "point in voxels",
    "position_axis": "one axis of a point, in voxels",
}


def _order_by(copy: ExportTable, columns: set[str], history: list[dict[str, Any]]) -> list[str]:
    """The column(s) a copy is ordered by: the Delta history's z-order parameters when recorded,
    else the variant directory name (`pt_root_id`, `by_pt_root_id`, ...)."""
    for entry in history:
        params = entry.get("operationParameters") or {}
        raw = params.get("zOrderBy")
        if raw:
            try:
                cols = json.loads(raw) if isinstance(raw, str) else list(raw)
                return [str(c) for c in cols]
            except ValueError:
                pass
    leaf = copy.variant.rsplit("/", 1)[-1] if copy.variant else ""
    for prefix in _VARIANT_PREFIXES:
        if leaf.startswith(prefix):
            leaf = leaf[len(prefix):]
            break
    # MaterializationEngine names a spatial index's lake `{point}_morton` and z-orders it by the
    # decoded `{point}_x/_y/_z` (delta-rs records no zOrderBy in the log, so the name is all we have).
    point = leaf[: -len("_morton")] if leaf.endswith("_morton") else None
    if point and all(f"{point}_{a}" in columns for a in "xyz"):
        return [f"{point}_{a}" for a in "xyz"]
    return [leaf] if leaf in columns else []


def _delta_history(location: str, limit: int = 20) -> list[dict[str, Any]]:
    """commitInfo of the newest `limit` commits, read from `_delta_log/*.json` through fsspec.
    (deltalake's `history()` hangs against the S3 test server; the log is plain JSON lines.)"""
    try:
        fs, base = filesystem(join(location, "_delta_log"))
        commits = sorted(p for p in fs.ls(base, detail=False) if re.search(r"/\d{20}\.json$", p))[-limit:]
        out = []
        for path in reversed(commits):
            for line in fs.cat_file(path).decode().splitlines():
                if '"commitInfo"' in line:
                    out.append(json.loads(line)["commitInfo"])
        return out
    except Exception:  # noqa: BLE001 - the history is a hint only; inspection reports real errors
        return []


def derive_spec(
    group: ExportGroup,
    *,
    name_template: str = "{table}",
    version_template: str = "v{version}",
    aligned_volume: Optional[str] = None,
    resolution: Optional[list[float]] = None,
    owners: Optional[list[dict[str, Any]]] = None,
    inspect: Callable[..., TableInspection] = inspect_table,
) -> Derived:
    """A spec for one export group. Reads only Delta metadata (schema, log, history)."""
    notes: list[str] = []
    variants: list[dict[str, Any]] = []
    schemas: dict[str, list[tuple[str, str]]] = {}
    first: Optional[TableInspection] = None
    for copy in group.copies:
        found = inspect(copy.location, "delta")
        copy_columns = {c.name for c in found.columns}
        schemas[copy.location] = [(c.name, c.type) for c in found.columns]
        variants.append({
            "location": copy.location,
            "variant": copy.variant or "(table root)",
            "order_by": _order_by(copy, copy_columns, _delta_history(copy.location)),
            "table_version": found.table_version,
            "fingerprint": found.fingerprint,
            "row_count": found.row_count,
            "file_count": found.file_count,
        })
        first = first or found
    assert first is not None
    if len({json.dumps(s) for s in schemas.values()}) > 1:
        notes.append("layout copies do not share one schema: check them before publishing")
    counts = {v["row_count"] for v in variants}
    if len(counts) > 1:
        notes.append(f"layout copies disagree on row counts {sorted(c for c in counts if c is not None)}")

    # The primary layout: ordered by `id` (the annotation id joins everything), else the first.
    primary = next((v for v in variants if v["order_by"][:1] == ["id"]), variants[0])
    columns_by_location = schemas[primary["location"]]
    columns = []
    for col_name, arrow_type in columns_by_location:
        semantic, extra, note = column_semantic(col_name, arrow_type)
        if note:
            notes.append(note)
        col: dict[str, Any] = {"name": col_name, "semantic": semantic}
        if semantic in _DESCRIPTIONS:
            col["description"] = _DESCRIPTIONS[semantic]
        if col_name == "target_id":
            col["description"] = "id of the annotation this row refers to (reference annotation table)"
        if extra and resolution:
            extra = {**extra, "resolution": resolution}
        col.update(extra)
        columns.append(col)
    column_names = [c[0] for c in columns_by_location]
    references = []
    if "id" in column_names and next(c for c in columns if c["name"] == "id")["semantic"] == "annotation_id":
        references.append({
            "column": "id", "annotation_table": group.table, "target_column": "id",
            "cardinality": "one_to_one", "stability": "stable",
            "description": "the CAVE annotation table this export was materialized from",
        })
    fields = {"table": group.table, "datastack": group.datastack, "version": group.mat_version}
    spec: dict[str, Any] = {
        "name": dataset_name(name_template.format(**fields)),
        "version": version_template.format(**fields),
        "title": f"{group.table} at materialization {group.mat_version} ({group.datastack})",
        "description": (
            f"MaterializationEngine export of the CAVE annotation table `{group.table}` in "
            f"`{group.datastack}` at materialization version {group.mat_version}."
            + (f" {len(variants)} physical layouts (one per indexed column); see provenance." if len(variants) > 1 else "")
        ),
        "datastack": group.datastack,
        "materialization": {"version": group.mat_version},
        "location": primary["location"],
        "format": "delta",
        "table_version": primary["table_version"],
        "columns": columns,
        "references": references,
        "tags": [TAG],
        "provenance": {
            "pipeline": PIPELINE,
            "parameters": {
                "source": "CAVE MaterializationEngine",
                "annotation_table": group.table,
                "materialization_version": group.mat_version,
                "primary_layout": primary["variant"],
                "layout_variants": variants,
            },
        },
    }
    others = [v for v in variants if v is not primary]
    if others and len(counts) == 1 and len({json.dumps(sch) for sch in schemas.values()}) == 1:
        # the other copies as first-class layouts: publish pins them, the signer signs them and the
        # client reads the copy ordered by the column a filter names (registry/layouts.py)
        layout_names: set[str] = set()
        layouts = []
        for v in others:
            lname = dataset_name(v["variant"])
            while lname in layout_names:
                lname += "_"
            layout_names.add(lname)
            layouts.append({"name": lname, "location": v["location"], "ordering": list(v["order_by"]),
                            "table_version": v["table_version"]})
        spec["layouts"] = layouts
    elif others:
        notes.append("layout copies disagree: recorded in provenance only, not as layouts")
    if aligned_volume:
        spec["aligned_volume"] = aligned_volume
    if owners:
        spec["owners"] = owners
    return Derived(spec, group, notes)


def scan(root: str, **derive_options: Any) -> list[Derived]:
    """Find and derive every export under `root` (no registry access)."""
    return [derive_spec(g, **derive_options) for g in group_exports(find_exports(root))]


def publish_derived(derived: Iterable[Derived], registry: str, *, dry_run: bool = False,
                    verify_cave: bool = False) -> list[ScanOutcome]:
    """Publish each derived spec; already registered versions (same table) are skipped and
    reported, the same name@version with a different table is reported as a conflict."""
    from registry.documents import Registry
    from registry.publish import publish

    reg = Registry(registry)
    outcomes: list[ScanOutcome] = []
    for d in derived:
        try:
            if dry_run:
                exists = reg.exists(d.spec["name"], d.spec["version"])
                outcomes.append(ScanOutcome(d.ref, "skipped" if exists else "would_publish",
                                            "already registered" if exists else ""))
                continue
            result = publish(d.spec, reg, if_exists="skip", verify_cave=verify_cave)
            outcomes.append(ScanOutcome(d.ref, "skipped" if result.skipped else "published",
                                        "; ".join(result.warnings)))
        except AlreadyPublished as exc:
            outcomes.append(ScanOutcome(d.ref, "conflict", str(exc)))
        except (BadInput, RegistryError) as exc:
            outcomes.append(ScanOutcome(d.ref, "failed", str(exc)))
    return outcomes


def specs_yaml(derived: Iterable[Derived]) -> str:
    """Editable YAML: one document per spec, with what was noticed as comments."""
    import yaml

    chunks = []
    for d in derived:
        head = [f"# {d.ref}: {len(d.group.copies)} layout cop{'y' if len(d.group.copies) == 1 else 'ies'}"]
        head += [f"# note: {n}" for n in d.notes]
        chunks.append("\n".join(head) + "\n" + yaml.safe_dump(d.spec, sort_keys=False, allow_unicode=True))
    return "---\n".join(chunks)


def join_uri(root: str, rel: str) -> str:  # re-exported for callers building paths
    return join(root, rel)
