"""Delta Lake inspection from the transaction log only (deltalake 1.x / delta-kernel).

What is read: the `_delta_log` (JSON commits and checkpoints) at the pinned version, and, only when
the table uses deletion vectors, the small deletion-vector sidecars (inline or `*.bin`) so the row
count can subtract deleted rows. One recursive listing of the table directory checks that every
file of the pinned version still exists (a version older than a VACUUM lists files that are gone).
Data pages are never read; when the log carries no `numRecords` statistics (writers may omit
them), the row counts come from the Parquet footers of those files, as for a Parquet table.

The file list is the add actions of the pinned version. It is a *faithful* description of the
table (reading exactly those Parquet files, plus the per-file partition values, yields the table's
rows) only when no file carries a deletion vector, column mapping is off and no column was widened
(type widening: files written before the change keep the narrower type, e.g. `int8` in a column the
table now calls `int64`, or `date` under `timestamp_ntz`); otherwise the physical files hide deleted
rows, use physical column names or need a cast. That is recorded as a fact in
`reader_features["faithful_file_list"]` rather than refused: a Delta reader still reads the table
correctly from the pinned version.
"""

from __future__ import annotations

import json
import os
from typing import Any, Optional
from urllib.parse import unquote

import pyarrow as pa

from .. import storage
from ..errors import TableUnreadable
from ..model import ManifestFile
from ..uris import comparable_uri, library_uri
from . import ProgressCallback, TableInspection
from .access import bounded_object_store_options, classify, missing_table, summary, unreadable
from .arrow_types import columns_from_schema
from .partitions import normalise

_PROGRESS_EVERY = 500


def inspect(
    location: str,
    *,
    table_version: Optional[int],
    format_options: dict[str, Any],
    progress: Optional[ProgressCallback],
) -> TableInspection:
    from deltalake import DeltaTable

    if table_version is not None and (not isinstance(table_version, int) or table_version < 0):
        raise TableUnreadable(f"{location}: Delta table version must be a non-negative integer, got {table_version!r}")
    uri = _table_uri(location)
    options = bounded_object_store_options(location, "delta")
    try:
        dt = DeltaTable(uri, version=table_version, storage_options=options)
    except Exception as exc:  # delta-rs raises a handful of internal classes; all mean "cannot read"
        raise _diagnose(location, uri, options, table_version, exc) from None

    try:
        version = dt.version()
        schema = pa.schema(dt.schema().to_arrow())
        metadata = dt.metadata()
        protocol = dt.protocol()
        actions = pa.table(dt.get_add_actions(flatten=True))
    except Exception as exc:
        raise unreadable(location, f"cannot read the Delta log at version {table_version}", exc) from None

    partition_columns = list(metadata.partition_columns or [])
    configuration = dict(metadata.configuration or {})
    column_mapping = configuration.get("delta.columnMapping.mode")
    column_mapping = None if column_mapping in (None, "", "none") else column_mapping
    reader_feature_names = sorted(protocol.reader_features or [])
    dv_enabled = "deletionVectors" in reader_feature_names or configuration.get(
        "delta.enableDeletionVectors", ""
    ).lower() == "true"

    deleted_by_path: dict[str, int] = {}
    if dv_enabled:
        deleted_by_path = _deleted_rows(dt, location)

    files, row_count, total_bytes, stats_missing = _manifest(
        actions, location, uri, partition_columns, schema, deleted_by_path, progress
    )
    dv_files = sum(1 for n in deleted_by_path.values() if n > 0)
    deleted_rows = sum(deleted_by_path.values())

    type_changes = _type_changes(schema)

    listed = _existing_files(location)
    _check_present(location, version, files, listed, lambda: _latest(uri, options))
    warnings: list[str] = []
    if stats_missing:
        row_count = _count_from_footers(location, files, listed, deleted_by_path, uri)
        warnings.append(
            f"{stats_missing} add action(s) carry no numRecords statistic: their rows were counted "
            "from the Parquet footers"
        )
    reader_features: dict[str, Any] = {
        "min_reader_version": protocol.min_reader_version,
        "min_writer_version": protocol.min_writer_version,
        "reader_features": reader_feature_names,
        "deletion_vectors": dv_enabled,
        "deletion_vector_files": dv_files,
        "deleted_rows": deleted_rows,
        "column_mapping": column_mapping,
        "faithful_file_list": dv_files == 0 and column_mapping is None and not type_changes,
        "row_count_exact": True,
        "row_count_source": "footers" if stats_missing else "log",
    }
    if type_changes:
        reader_features["type_changes"] = type_changes
        widened = sorted({c["column"] for c in type_changes})
        warnings.append(
            f"type widening: {len(widened)} column(s) changed type ({', '.join(widened[:5])}"
            + (", ..." if len(widened) > 5 else "")
            + "): files written before the change hold the narrower type; cast to the recorded types "
            "or read the table with a Delta reader"
        )
    if column_mapping is not None:
        warnings.append(
            f"column mapping mode {column_mapping!r}: data files use physical column names; read the "
            "table with a Delta reader, not the plain file list"
        )
    if dv_files:
        warnings.append(
            f"{dv_files} file(s) carry deletion vectors ({deleted_rows} deleted row(s)): the plain file "
            "list includes deleted rows; read the table with a Delta reader"
        )

    return TableInspection(
        columns=columns_from_schema(schema),
        files=files,
        fingerprint=f"delta:v{version}",
        table_version=version,
        row_count=row_count,
        bytes=total_bytes,
        partition_columns=partition_columns,
        reader_features=reader_features,
        warnings=warnings,
    )


# --------------------------------------------------------------------------------------------------


def _type_changes(schema: pa.Schema) -> list[dict[str, Any]]:
    """Type widening history from the schema's `delta.typeChanges` field metadata (Delta protocol,
    "Type Change Metadata"): one fact per change, oldest first, nested fields by dotted name.

    The log is written by the table's publisher but read from a bucket: a malformed entry is
    skipped (it only feeds a fact and a warning), never trusted as a type.
    """
    out: list[dict[str, Any]] = []

    def walk(field: pa.Field, prefix: str) -> None:
        name = prefix + field.name
        raw = (field.metadata or {}).get(b"delta.typeChanges")
        if raw:
            try:
                entries = json.loads(raw)
            except ValueError:
                entries = []
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, dict):
                    continue
                fact: dict[str, Any] = {"column": name, "from": str(entry.get("fromType")), "to": str(entry.get("toType"))}
                if isinstance(entry.get("tableVersion"), int):
                    fact["table_version"] = entry["tableVersion"]
                if isinstance(entry.get("fieldPath"), str):
                    fact["field_path"] = entry["fieldPath"]
                out.append(fact)
        for child in _children(field.type):
            walk(child, name + ".")

    for f in schema:
        walk(f, "")
    return out


def _children(t: pa.DataType) -> list[pa.Field]:
    if pa.types.is_struct(t):
        return [t.field(i) for i in range(t.num_fields)]
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _children(t.value_type)
    if pa.types.is_map(t):
        return _children(t.key_type) + _children(t.item_type)
    return []


def _table_uri(location: str) -> str:
    """delta-rs takes plain local paths and object-store URLs; `file://` is turned into a path."""
    return library_uri(location)


def _first_line(exc: BaseException) -> str:
    return summary(exc)


def _existing_files(location: str) -> dict[str, int]:
    """Every object under the table root (relative path -> size), from one recursive listing.

    Raises when a file of the pinned version is missing: such a version cannot be read by anyone,
    and publishing it would hand readers a list of dead objects.
    """
    fs, root = storage.range_read_filesystem(location)
    if storage.protocol_of(location) == "file":
        root = os.path.abspath(_table_uri(location))
    base = root.rstrip("/") + "/"
    try:
        fs.invalidate_cache(root)
        found = fs.find(root, detail=True)
    except Exception as exc:  # noqa: BLE001
        raise unreadable(location, "cannot list the table's files", exc) from None
    listed: dict[str, int] = {}
    for path, meta in found.items():
        path = os.path.abspath(path) if storage.protocol_of(location) == "file" else path
        if path.startswith(base) and meta.get("type", "file") == "file":
            listed[path[len(base) :]] = int(meta.get("size") or 0)
    return listed


def _latest(uri: str, options: dict[str, str]) -> Optional[int]:
    from deltalake import DeltaTable

    try:
        return DeltaTable(uri, storage_options=options).version()
    except Exception:  # noqa: BLE001 - only used to make a message more helpful
        return None


def _check_present(
    location: str, version: int, files: list[ManifestFile], listed: dict[str, int], latest_of: Any
) -> None:
    missing = [f.path for f in files if f.path not in listed]
    if missing:
        latest = latest_of()
        raise TableUnreadable(
            f"{location}: Delta table version {version} lists {len(missing)} data file(s) that no longer "
            f"exist (removed by VACUUM?), e.g. {missing[0]}; pin a newer version"
            + (f" (the latest is {latest})" if latest is not None and latest != version else "")
        )


def _count_from_footers(
    location: str, files: list[ManifestFile], listed: dict[str, int], deleted_by_path: dict[str, int], uri: str
) -> int:
    """Fill in `rows` of files the log has no statistics for, from their Parquet footers; return the
    table's live row count."""
    from .parquet import read_footers, rows_of

    fs, root = storage.range_read_filesystem(location)
    if storage.protocol_of(location) == "file":
        root = os.path.abspath(_table_uri(location))
    todo = [f for f in files if f.rows is None]
    entries = [(f.path, root.rstrip("/") + "/" + f.path, {"size": f.size or listed.get(f.path, 0)}) for f in todo]
    for f, md in zip(todo, read_footers(fs, entries)):
        f.rows = rows_of(md)
    deleted_rel = _deleted_by_relative_path(deleted_by_path, location, uri)
    return sum((f.rows or 0) - deleted_rel.get(f.path, 0) for f in files)



def _deleted_by_relative_path(deleted_by_path: dict[str, int], location: str, uri: str) -> dict[str, int]:
    """Deleted-row counts keyed as the manifest keys files (relative to the table); a path that is
    not under the table stays as it was."""
    out = {}
    for path, n in deleted_by_path.items():
        try:
            out[_relative(path, location, uri)] = n
        except TableUnreadable:
            out[path] = n
    return out

def _diagnose(
    location: str, uri: str, options: dict[str, str], version: Optional[int], exc: BaseException
) -> TableUnreadable:
    """Turn a delta-rs failure into a message that says what is wrong with `location`."""
    from deltalake import DeltaTable

    access = classify(location, exc)
    if access is not None:
        return access
    missing = missing_table(location, uri, "_delta_log", "Delta table")
    if missing is not None:
        return missing
    if version is not None:
        try:
            latest = DeltaTable(uri, storage_options=options).version()
        except Exception:
            latest = None
        if latest is not None:
            if version > latest:
                return TableUnreadable(
                    f"{location}: Delta table version {version} does not exist; the latest is {latest}"
                )
            return TableUnreadable(
                f"{location}: Delta table version {version} cannot be loaded (log entries removed by "
                f"cleanup or checkpoint?); the latest is {latest}: {_first_line(exc)}"
            )
    return TableUnreadable(f"{location}: the Delta log cannot be read (truncated or corrupt?): {_first_line(exc)}")


def _deleted_rows(dt: Any, location: str) -> dict[str, int]:
    """Deleted-row counts per data file, from the deletion vectors (sidecars, not data files).

    Keys are the file URIs as delta-kernel reports them; `_manifest` matches them to add actions.
    """
    try:
        table = pa.table(dt.deletion_vectors())
    except Exception as exc:
        raise TableUnreadable(f"{location}: cannot read the Delta deletion vectors: {_first_line(exc)}") from None
    out: dict[str, int] = {}
    for row in table.to_pylist():
        selection = row.get("selection_vector") or []
        out[row["filepath"]] = sum(1 for keep in selection if not keep)
    return out


def _relative(raw_path: str, location: str, uri: str) -> str:
    """An add action's path relative to the table root.

    Delta stores relative paths URL-encoded (`label=a%2520b` is the object `label=a%20b`); absolute
    paths (shallow clones) must lie under the table location.
    """
    if "://" not in raw_path and not raw_path.startswith("/"):
        return unquote(raw_path)
    absolute = unquote(raw_path)
    for root in {comparable_uri(uri), comparable_uri(location)}:
        cand = comparable_uri(absolute)
        if cand.startswith(root + "/"):
            return cand[len(root) + 1 :]
    raise TableUnreadable(f"{location}: data file {absolute} lies outside the table location")


def _manifest(
    actions: pa.Table,
    location: str,
    uri: str,
    partition_columns: list[str],
    schema: pa.Schema,
    deleted_by_path: dict[str, int],
    progress: Optional[ProgressCallback],
) -> tuple[list[ManifestFile], int, int, int]:
    """ManifestFiles from add actions; returns (files, live row count, bytes, files without stats).

    A file's `rows` is what the file physically holds (what a plain reader of that file gets); the
    table's row count subtracts rows removed by deletion vectors.
    """
    names = set(actions.column_names)
    # Column mapping: partition values may be keyed by physical name; map back to logical names.
    physical_to_logical = {}
    for f in schema:
        meta = f.metadata or {}
        phys = meta.get(b"delta.columnMapping.physicalName")
        if phys:
            physical_to_logical[phys.decode()] = f.name
    part_keys: list[tuple[str, str]] = []
    for col in partition_columns:
        key = f"partition.{col}"
        if key not in names:
            phys = next((p for p, l in physical_to_logical.items() if l == col), None)
            key = f"partition.{phys}" if phys and f"partition.{phys}" in names else key
        part_keys.append((col, key))

    deleted_rel = _deleted_by_relative_path(deleted_by_path, location, uri)

    columns = {name: actions.column(name).to_pylist() for name in ["path", "size_bytes", "num_records"] if name in names}
    part_values = {col: actions.column(key).to_pylist() if key in names else [None] * actions.num_rows for col, key in part_keys}
    total = actions.num_rows
    from .stats import delta_stats

    file_stats = delta_stats(actions, schema)
    files: list[ManifestFile] = []
    rows_total = bytes_total = missing = 0
    for i in range(total):
        rel = _relative(columns["path"][i], location, uri)
        size = columns.get("size_bytes", [None] * total)[i]
        rows = columns.get("num_records", [None] * total)[i]
        if rows is None:
            missing += 1
        else:  # the manifest keeps what the file holds; the table's count drops deleted rows
            rows_total += rows - deleted_rel.get(rel, 0)
        bytes_total += size or 0
        files.append(
            ManifestFile(path=rel, size=size, rows=rows, partition={c: normalise(part_values[c][i]) for c in partition_columns},
                         stats=file_stats[i])
        )
        if progress and ((i + 1) % _PROGRESS_EVERY == 0 or i + 1 == total):
            progress(i + 1, total)
    return files, rows_total, bytes_total, missing


