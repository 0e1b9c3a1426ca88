"""Iceberg inspection from table metadata and manifests only (pyiceberg 0.12, no catalog server).

What is read: one `*.metadata.json`, the pinned snapshot's manifest list and its manifests (Avro).
Data files and delete files are never opened.

Which metadata JSON: `format_options["metadata_location"]` when given (absolute, or relative to the
location), else `metadata/version-hint.text` under the location, else the newest
`metadata/*.metadata.json` by its version number. Manifests are walked directly rather than through
`scan().plan_files()`: same data files, but it also sees equality-delete files, on which pyiceberg's
planner raises.

Format v1 snapshots may list their manifests inline (`manifests`, the v1 spec's alternative to a
manifest list; Spark/Iceberg Java still write it for v1 tables): pyiceberg refuses that metadata,
so `iceberg_v1.py` reads it instead (the manifests themselves are ordinary Avro manifests).

Iceberg metadata holds absolute paths; every data file must lie under the location so the manifest
can list it relative to the location (as the contract wants); one that does not is an error naming it.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

from .. import storage
from ..errors import TableUnreadable
from ..model import ManifestFile
from ..uris import comparable_uri
from . import ProgressCallback, TableInspection
from .access import classify, probe, summary
from .arrow_types import columns_from_schema
from .partitions import iceberg_value

# v3.metadata.json, 00003-<uuid>.metadata.json, and their gzip forms: Iceberg Java writes
# v3.gz.metadata.json / 00003-<uuid>.gz.metadata.json, some tools v3.metadata.json.gz.
_METADATA_NAME = re.compile(r"^(?:v(?P<v>\d+)|(?P<n>\d+)-[^/]*?)(?:\.gz)?\.metadata\.json(?:\.gz)?$")


def inspect(
    location: str,
    *,
    table_version: Optional[int],
    format_options: dict[str, Any],
    progress: Optional[ProgressCallback],
) -> TableInspection:
    from pyiceberg.manifest import DataFileContent
    from pyiceberg.table import StaticTable

    metadata_uri = _metadata_location(location, format_options)
    properties = storage.pyiceberg_properties(location)
    legacy: dict[str, list[str]] = {}  # v1 snapshots listing `manifests` instead of a manifest list
    try:
        table = StaticTable.from_metadata(metadata_uri, properties=properties)
    except Exception as exc:  # pyiceberg raises JSON, validation and IO errors alike
        from .iceberg_v1 import legacy_table

        loaded = legacy_table(metadata_uri, properties)
        if loaded is None:
            raise classify(location, exc) or TableUnreadable(
                f"{location}: cannot read Iceberg metadata {metadata_uri} ({_why(exc)}): {_first_line(exc)}"
            ) from None
        table, legacy = loaded
    meta = table.metadata
    # Relocate only a table that moved as a whole: its metadata file lies under `location`.
    moved = comparable_uri(metadata_uri).startswith(comparable_uri(location) + "/")
    relocate = _relocation(meta.location, location) if moved else None
    io = _RelocatedIO(table.io, relocate) if relocate else table.io

    if table_version is None:
        snapshot = meta.current_snapshot()
        if snapshot is None:
            raise TableUnreadable(f"{location}: the Iceberg table has no snapshot (nothing written yet) in {metadata_uri}")
    else:
        snapshot = meta.snapshot_by_id(table_version)
        if snapshot is None:
            known = ", ".join(str(s.snapshot_id) for s in meta.snapshots[-5:]) or "none"
            raise TableUnreadable(
                f"{location}: Iceberg snapshot {table_version} does not exist in {metadata_uri}; "
                f"the current snapshot is {meta.current_snapshot_id} (latest snapshots: {known})"
            )

    schema = _schema_of(meta, snapshot)
    arrow_schema = schema.as_arrow()
    columns = columns_from_schema(arrow_schema)
    for col, field in zip(columns, schema.fields):
        col.nullable = not field.required

    try:
        nonstandard: list[str] = []
        entries = _live_entries(io, snapshot, progress, location, legacy, nonstandard)
    except TableUnreadable:
        raise
    except Exception as exc:
        raise classify(location, exc) or TableUnreadable(
            f"{location}: cannot read the manifests of Iceberg snapshot {snapshot.snapshot_id}: {_first_line(exc)}"
        ) from None

    specs = meta.specs()
    schema_by_id = _fields_by_id(meta)
    root = comparable_uri(location)
    files: list[ManifestFile] = []
    spec_ids: list[int] = []
    position_deletes = equality_deletes = 0
    data_rows = data_bytes = 0
    for data_file in entries:
        if data_file.content == DataFileContent.DATA:
            rel = _relative(relocate(data_file.file_path) if relocate else data_file.file_path, root, location)
            spec = specs.get(data_file.spec_id, meta.spec())
            if spec.spec_id not in spec_ids:
                spec_ids.append(spec.spec_id)
            partition = {
                f.name: iceberg_value(v, _result_type(f, schema_by_id), str(f.transform))
                for f, v in zip(spec.fields, _record_values(data_file.partition))
            }
            files.append(
                ManifestFile(path=rel, size=data_file.file_size_in_bytes, rows=data_file.record_count, partition=partition)
            )
            data_rows += data_file.record_count or 0
            data_bytes += data_file.file_size_in_bytes or 0
        elif data_file.content == DataFileContent.POSITION_DELETES:
            position_deletes += 1
        else:
            equality_deletes += 1
    files.sort(key=lambda f: f.path)

    summary = _summary(snapshot)
    total_records = _int(summary.get("total-records"))
    row_count = total_records if total_records is not None else data_rows
    delete_files = position_deletes + equality_deletes
    # The specs the pinned files were written with (the default spec for an empty snapshot).
    used_specs = [specs[i] for i in sorted(spec_ids)] or [meta.spec()]
    partition_columns, partition_spec = _partition_columns(used_specs, schema)

    warnings: list[str] = []
    chosen = metadata_uri.rstrip("/").rsplit("/", 1)[-1]
    if not format_options.get("metadata_location") and _metadata_number(chosen) is None and chosen.endswith(".metadata.json"):
        warnings.append(
            f"metadata/{chosen} was taken as the current metadata by its last-updated-ms (its name carries no "
            "version number); set format_options.metadata_location to choose another"
        )
    if nonstandard:
        warnings.append(
            f"{len(nonstandard)} manifest(s) have metrics maps in a shape the Iceberg spec does not give "
            "(BigQuery writes them so; pyiceberg cannot read them): read by the spec's field ids, metrics "
            f"skipped, e.g. {nonstandard[0].rsplit('/', 1)[-1]}"
        )
    if snapshot.manifest_list in legacy:
        warnings.append(
            f"snapshot {snapshot.snapshot_id} lists its manifests inline (Iceberg v1 `manifests`, no manifest "
            "list): valid v1, read here, but pyiceberg refuses such metadata"
        )
    if relocate:
        warnings.append(
            f"the metadata says the table was written at {meta.location}; its paths were read relative to "
            f"{location}. Iceberg readers that follow the metadata's paths (most do) cannot read it here; "
            "the file list in the manifest is right"
        )
    if total_records is not None and total_records != data_rows:
        warnings.append(
            f"snapshot summary total-records ({total_records}) differs from the data files' record counts ({data_rows})"
        )
    if delete_files:
        warnings.append(
            f"{delete_files} delete file(s) at snapshot {snapshot.snapshot_id}: the row count is an upper bound "
            "and the plain file list includes deleted rows; read the table with an Iceberg reader"
        )
    reader_features: dict[str, Any] = {
        "format_version": meta.format_version,
        "metadata_location": metadata_uri,
        "delete_files": delete_files,
        "position_delete_files": position_deletes,
        "equality_delete_files": equality_deletes,
        "faithful_file_list": delete_files == 0,
        "row_count_exact": delete_files == 0,
        "partition_spec": partition_spec,
        **({"written_at": meta.location} if relocate else {}),
        **({"inline_manifests": True} if snapshot.manifest_list in legacy else {}),
        **({"nonstandard_manifests": len(nonstandard)} if nonstandard else {}),
    }
    return TableInspection(
        columns=columns,
        files=files,
        fingerprint=f"iceberg:snapshot:{snapshot.snapshot_id}",
        table_version=snapshot.snapshot_id,
        row_count=row_count,
        bytes=data_bytes,
        partition_columns=partition_columns,
        reader_features=reader_features,
        warnings=warnings,
    )


# ---- which metadata JSON ------------------------------------------------------------------------


def _metadata_location(location: str, format_options: dict[str, Any]) -> str:
    explicit = format_options.get("metadata_location")
    fs, root = storage.filesystem(location)
    root = root.rstrip("/")
    if explicit:
        uri = str(explicit)
        if "://" not in uri and not os.path.isabs(uri):
            uri = storage.join(location, uri)
        efs, epath = storage.filesystem(uri)
        if not _exists(efs, epath, location):
            raise TableUnreadable(f"{location}: Iceberg metadata_location {uri} does not exist")
        return uri
    if not _exists(fs, root, location):
        raise TableUnreadable(f"{location}: location does not exist")
    meta_dir = root + "/metadata"
    if not _exists(fs, meta_dir, location):
        raise TableUnreadable(f"{location}: not an Iceberg table (no metadata/ directory)")
    try:
        fs.invalidate_cache(meta_dir)  # a long-lived process must see commits made since the last listing
        names = [p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(meta_dir, detail=False)]
    except Exception as exc:
        raise classify(location, exc) or TableUnreadable(f"{location}: cannot list {meta_dir}: {_first_line(exc)}") from None
    candidates = {n: _metadata_number(n) for n in names}
    candidates = {n: v for n, v in candidates.items() if v is not None}

    if "version-hint.text" in names:
        try:
            hint = fs.cat_file(meta_dir + "/version-hint.text").decode().strip()
        except Exception as exc:
            raise classify(location, exc) or TableUnreadable(f"{location}: cannot read metadata/version-hint.text: {_first_line(exc)}") from None
        if hint.isdigit():
            wanted = int(hint)
            matches = sorted(n for n, v in candidates.items() if v == wanted)
            if not matches:
                raise TableUnreadable(
                    f"{location}: metadata/version-hint.text says version {wanted} but no such metadata JSON exists"
                )
            return storage.join(location, "metadata/" + matches[-1])
        if hint:  # some writers put a file name, a path relative to metadata/ or a full URI in the hint
            first = hint.splitlines()[0].strip()
            if "://" in first or first.startswith("/"):
                uri = first
                hfs, hpath = storage.filesystem(uri)
                if not probe(location, hfs, hpath):
                    raise TableUnreadable(f"{location}: metadata/version-hint.text names {first!r}, which does not exist")
                return uri
            # A name, with or without its suffix (some writers store `00001-<uuid>`).
            stem = first.rsplit("/", 1)[-1]
            for name in (stem, stem + ".metadata.json", stem + ".gz.metadata.json"):
                if name in names:
                    return storage.join(location, "metadata/" + name)
            raise TableUnreadable(f"{location}: metadata/version-hint.text names {first!r}, which does not exist")
    unnumbered = sorted(n for n in names if n not in candidates and _METADATA_SUFFIX.search(n))
    if not candidates and not unnumbered:
        raise TableUnreadable(f"{location}: not an Iceberg table (no metadata/*.metadata.json)")
    numbered = [max(candidates, key=lambda n: (candidates[n], n))] if candidates else []
    if unnumbered:  # names without a version number (`vfinal.metadata.json`): ask their contents
        newest = _newest_by_timestamp(location, fs, meta_dir, unnumbered + numbered)
    else:
        newest = numbered[0]
    if newest in candidates and newest.endswith(".metadata.json.gz"):  # pyiceberg takes any other ending for a hint folder
        raise TableUnreadable(
            f"{location}: metadata/{newest} is gzip metadata under a name pyiceberg cannot read; Iceberg's "
            f"own name for it is v{candidates[newest]}.gz.metadata.json"
        )
    return storage.join(location, "metadata/" + newest)


_METADATA_SUFFIX = re.compile(r"\.metadata\.json$")
_MAX_UNNUMBERED = 20  # metadata files read to find the newest when their names carry no number


def _newest_by_timestamp(location: str, fs: Any, meta_dir: str, names: list[str]) -> str:
    """The metadata file with the greatest `last-updated-ms`, among files whose names do not say
    their version (the newest numbered one included). Bounded: more than a few such files is a
    folder whose current metadata cannot be told cheaply, and the user is asked to name it."""
    import gzip
    import json

    if len(names) > _MAX_UNNUMBERED:
        raise TableUnreadable(
            f"{location}: metadata/ holds {len(names)} metadata JSON files whose names carry no version "
            f"number (e.g. {names[0]}); set format_options.metadata_location to the current one"
        )
    best: Optional[tuple[int, str]] = None
    for name in names:
        try:
            raw = fs.cat_file(meta_dir + "/" + name)
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            updated = int(json.loads(raw)["last-updated-ms"])
        except Exception as exc:  # noqa: BLE001
            raise classify(location, exc) or TableUnreadable(
                f"{location}: cannot tell which metadata JSON is current: metadata/{name} has no readable "
                f"last-updated-ms ({summary(exc)}); set format_options.metadata_location"
            ) from None
        if best is None or (updated, name) > best:
            best = (updated, name)
    assert best is not None
    return best[1]


def _metadata_number(name: str) -> Optional[int]:
    m = _METADATA_NAME.match(name)
    if not m:
        return None
    return int(m.group("v") or m.group("n"))


def _exists(fs: Any, path: str, location: str) -> bool:
    return probe(location, fs, path)


# ---- tables that moved, and relative paths --------------------------------------------------------


def _relocation(written_at: str, location: str) -> Optional[Any]:
    """A path mapper when the metadata's `location` is not where the table is now: a table copied
    from another warehouse, or written with relative paths (some writers' test data). Every path
    under the written location is read under the given one instead. None when they agree."""
    if not written_at:
        return None
    old, new = comparable_uri(written_at), comparable_uri(location)
    if old == new:
        return None
    raw_old = written_at.rstrip("/")
    target = location.rstrip("/")

    def relocate(path: str) -> str:
        if path.startswith(raw_old + "/"):
            return target + path[len(raw_old) :]
        canon = comparable_uri(path)
        if canon.startswith(old + "/"):
            return target + canon[len(old) :]
        if "://" not in path and not path.startswith("/"):
            # A relative path that is not under the written location either (BigQuery's test
            # export: location gs://..., paths relative to another root): the table's own
            # `metadata/` or `data/` folder is the last such segment.
            parts = path.split("/")
            for i in range(len(parts) - 2, -1, -1):
                if parts[i] in ("metadata", "data"):
                    return target + "/" + "/".join(parts[i:])
        return path

    return relocate


class _RelocatedIO:
    """A pyiceberg FileIO whose reads go through `relocate` (manifest lists, manifests)."""

    def __init__(self, inner: Any, relocate: Any):
        self._inner = inner
        self.relocate = relocate

    def new_input(self, location: str) -> Any:
        return self._inner.new_input(self.relocate(location))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


# ---- snapshot contents ----------------------------------------------------------------------------


def _schema_of(meta: Any, snapshot: Any) -> Any:
    """The schema the snapshot was written with (an older pin keeps its own columns)."""
    if snapshot.schema_id is not None:
        for s in meta.schemas:
            if s.schema_id == snapshot.schema_id:
                return s
    return meta.schema()


def _live_entries(
    io: Any, snapshot: Any, progress: Optional[ProgressCallback], location: str, legacy: dict[str, list[str]],
    nonstandard: list[str],
) -> list[Any]:
    """Every live data and delete file of the snapshot, from its manifests (read concurrently).
    Manifests read through `iceberg_avro` (metrics maps not in the spec's shape) are appended to
    `nonstandard`."""
    where = getattr(io, "relocate", lambda path: path)  # name files where they were looked for
    try:
        if snapshot.manifest_list in legacy:
            from .iceberg_v1 import manifest_files

            manifests = manifest_files(io, snapshot, legacy[snapshot.manifest_list])
        else:
            manifests = snapshot.manifests(io)
    except Exception as exc:  # noqa: BLE001
        what, path = ("manifest list", snapshot.manifest_list) if snapshot.manifest_list not in legacy else (
            "manifest", getattr(exc, "manifest_path", ", ".join(legacy[snapshot.manifest_list][:3])))
        raise _avro_error(location, snapshot, what, where(path), exc) from None
    total = len(manifests)
    out: list[Any] = []
    if progress:
        progress(0, total)

    def read(manifest: Any) -> list[Any]:
        try:
            return [e.data_file for e in manifest.fetch_manifest_entry(io, discard_deleted=True)]
        except (TypeError, KeyError, IndexError, AttributeError) as exc:  # an Avro schema not the spec's
            from .iceberg_avro import read_entries

            try:
                files = read_entries(io, manifest)
            except Exception:  # noqa: BLE001 - not the known BigQuery shape: refuse, naming the file
                raise _avro_error(location, snapshot, "manifest", where(manifest.manifest_path), exc) from None
            nonstandard.append(manifest.manifest_path)
            return files
        except Exception as exc:  # noqa: BLE001
            raise _avro_error(location, snapshot, "manifest", where(manifest.manifest_path), exc) from None

    with ThreadPoolExecutor(max_workers=8) as pool:
        for done, files in enumerate(pool.map(read, manifests), start=1):
            out.extend(files)
            if progress:
                progress(done, total)
    return out


def _avro_error(location: str, snapshot: Any, what: str, path: str, exc: BaseException) -> TableUnreadable:
    """A manifest (list) that cannot be read, named. Avro that reads but whose schema is not the
    spec's (BigQuery writes maps and field ids its own way) makes pyiceberg fail with an internal
    TypeError/KeyError; say that rather than pass the Python message on alone."""
    access = classify(location, exc)
    if access is not None:
        return access
    head = f"{location}: cannot read the manifests of Iceberg snapshot {snapshot.snapshot_id}: {what} {path}"
    if isinstance(exc, FileNotFoundError):
        return TableUnreadable(f"{head} does not exist")
    if isinstance(exc, (TypeError, KeyError, IndexError, AttributeError)):
        return TableUnreadable(
            f"{head} has an Avro schema pyiceberg does not understand (not the one the Iceberg spec "
            f"gives; BigQuery-written manifests are like this): {type(exc).__name__}: {summary(exc)}"
        )
    return TableUnreadable(f"{head} cannot be read: {summary(exc)}")


def _partition_columns(specs: list[Any], schema: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """Partition field names of the specs in use, and the specs themselves as facts.

    An identity partition is named after its source column; a transform (`day(ts)`) gets its own
    field name (`ts_day`), which is also the key of the per-file partition values.
    """
    names: list[str] = []
    described: list[dict[str, Any]] = []
    for f in (f for spec in specs for f in spec.fields):
        if f.name in names:
            continue
        try:
            source = schema.find_column_name(f.source_id)
        except Exception:
            source = None
        names.append(f.name)
        described.append({"field": f.name, "source": source, "transform": str(f.transform)})
    return names, described


def _fields_by_id(meta: Any) -> dict[int, Any]:
    """Source field types by field id, across every schema (a partition's source may be dropped)."""
    from pyiceberg.schema import index_by_id

    out: dict[int, Any] = {}
    for sch in meta.schemas:
        for fid, fld in index_by_id(sch).items():
            out.setdefault(fid, fld.field_type)
    return out


def _result_type(field: Any, types_by_id: dict[int, Any]) -> Any:
    """The type a partition field's values have in the manifest (`day(ts)` -> date)."""
    source = types_by_id.get(field.source_id)
    if source is None:
        return None
    try:
        return field.transform.result_type(source)
    except Exception:  # noqa: BLE001 - an unknown transform: keep the raw value
        return None


def _summary(snapshot: Any) -> dict[str, str]:
    s = snapshot.summary
    if s is None:
        return {}
    return dict(getattr(s, "additional_properties", {}) or {})


def _record_values(record: Any) -> list[Any]:
    if record is None:
        return []
    try:
        return list(record)
    except TypeError:
        return [getattr(record, k) for k in getattr(record, "_position_to_field_name", ())]


# ---- paths and values ----------------------------------------------------------------------------


def _relative(file_path: str, root: str, location: str) -> str:
    canon = comparable_uri(file_path)
    if canon.startswith(root + "/"):
        return canon[len(root) + 1 :]
    raise TableUnreadable(
        f"{location}: data file {file_path} lies outside the table location; "
        "register the table at a location that contains all its data files"
    )


def _int(v: Any) -> Optional[int]:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _first_line(exc: BaseException) -> str:
    return summary(exc)


def _why(exc: BaseException) -> str:
    """Bytes that do not parse are a truncated or corrupt file; JSON that parses but does not fit
    the Iceberg spec as pyiceberg reads it is a writer's layout (BigQuery, old Java releases)."""
    import gzip
    import json

    from pydantic import ValidationError
    from pyiceberg.exceptions import ValidationError as IcebergValidationError

    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError, EOFError, gzip.BadGzipFile)):
        return "truncated or corrupt?"
    if "Invalid JSON" in str(exc) or "EOF while parsing" in str(exc):  # pydantic's JSON parser
        return "truncated or corrupt?"
    layout = (ValidationError, IcebergValidationError, TypeError, KeyError, IndexError, AttributeError, ValueError)
    if isinstance(exc, layout):
        return "a layout pyiceberg does not accept"
    return "truncated or corrupt?"
