"""Iceberg format v1 metadata whose snapshots list `manifests` inline instead of a `manifest-list`.

The v1 spec allows both ("manifests: a list of manifest file locations; must be omitted if
manifest-list is present"); pyiceberg only reads `manifest-list`. The metadata is parsed with each
such snapshot's list replaced by a placeholder manifest list (never opened), and the manifests are
then read as the ordinary Avro manifests they are, each with the partition spec id its own Avro
header names (the table's default spec when absent, as the v1 spec says).
"""

from __future__ import annotations

import gzip
import json
from typing import Any, Optional

_PLACEHOLDER = "inline-manifests:"  # not a path: marks a snapshot whose manifests are listed inline


def legacy_table(metadata_uri: str, properties: dict[str, Any]) -> Optional[tuple[Any, dict[str, list[str]]]]:
    """(StaticTable, {placeholder: manifest paths}) when `metadata_uri` is v1 metadata with inline
    `manifests`; None when it is not (the caller reports pyiceberg's own error then)."""
    from pyiceberg.catalog.noop import NoopCatalog
    from pyiceberg.io import load_file_io
    from pyiceberg.table import StaticTable
    from pyiceberg.table.metadata import TableMetadataUtil

    try:
        io = load_file_io(properties=properties, location=metadata_uri)
        with io.new_input(metadata_uri).open() as fh:
            raw = fh.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        doc = json.loads(raw)
    except Exception:  # noqa: BLE001 - unreadable bytes: pyiceberg's error says it better
        return None
    if not isinstance(doc, dict) or doc.get("format-version", 1) != 1 or not isinstance(doc.get("snapshots"), list):
        return None
    inline: dict[str, list[str]] = {}
    for snap in doc["snapshots"]:
        if not isinstance(snap, dict) or "manifest-list" in snap or "manifests" not in snap:
            continue
        paths = snap.pop("manifests")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            return None
        key = f"{_PLACEHOLDER}{snap.get('snapshot-id')}"
        snap["manifest-list"] = key
        inline[key] = paths
    if not inline:
        return None
    try:
        metadata = TableMetadataUtil.parse_obj(doc)
    except Exception:  # noqa: BLE001 - something else does not fit either: report the original error
        return None
    table = StaticTable(
        identifier=("static-table", metadata_uri),
        metadata_location=metadata_uri,
        metadata=metadata,
        io=load_file_io({**properties, **metadata.properties}),
        catalog=NoopCatalog("static-table"),
    )
    return table, inline


class _ManifestError(Exception):
    def __init__(self, path: str, cause: BaseException):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.manifest_path = path


def manifest_files(io: Any, snapshot: Any, paths: list[str]) -> list[Any]:
    """pyiceberg ManifestFile records for manifests listed inline (v1: data manifests, sequence 0)."""
    from pyiceberg.manifest import ManifestContent, ManifestFile

    out = []
    for path in paths:
        try:
            source = io.new_input(path)
            length = len(source)
            spec_id = _spec_id(source)
        except Exception as exc:  # noqa: BLE001
            raise _ManifestError(path, exc) from exc
        out.append(ManifestFile.from_args(
            _table_format_version=1,
            manifest_path=path,
            manifest_length=length,
            partition_spec_id=spec_id,
            added_snapshot_id=snapshot.snapshot_id,
            content=ManifestContent.DATA,
            sequence_number=0,
            min_sequence_number=0,
        ))
    return out


def _spec_id(source: Any) -> int:
    """The manifest's `partition-spec-id` from its Avro header (0, v1's only spec, when absent)."""
    from pyiceberg.avro.file import AvroFile
    from pyiceberg.manifest import MANIFEST_ENTRY_SCHEMAS

    reader: AvroFile[Any]
    with AvroFile(source, MANIFEST_ENTRY_SCHEMAS[1]) as reader:
        value = reader.header.meta.get("partition-spec-id")
    return int(value) if value is not None and str(value).lstrip("-").isdigit() else 0
