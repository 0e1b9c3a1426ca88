"""Iceberg manifests whose Avro schema is not quite the spec's, read by field id where the spec's
fields carry theirs (BigQuery's exports).

BigQuery writes each metrics map (`value_counts`, `lower_bounds`, ...) as an array of *nullable*
key/value records with no `key-id`/`value-id`/`element-id`, which pyiceberg cannot turn into an
Iceberg schema ("list indices must be integers or slices, not str"). Every field the inspector needs
(`status` 0, `data_file` 2, `file_path` 100, `file_format` 101, `partition` 102, `record_count` 103,
`file_size_in_bytes` 104, `content` 134) carries the spec's name and field id there. So the file's
header schema is rewritten, with the same binary layout, to one pyiceberg accepts: each
unconvertible map becomes a plain list with ids from a private range, which takes it out of the
projection (it is skipped, never read as metrics). Anything else unexpected is refused as before.
"""

from __future__ import annotations

import io
import json
from typing import Any, cast

_MAGIC = b"Obj\x01"
_PRIVATE_IDS = 1_000_000_000  # far above any id a table or the manifest schema uses
# The fields read from a data_file, by the spec's id and name: they must be present as such.
_REQUIRED = {100: "file_path", 102: "partition", 103: "record_count", 104: "file_size_in_bytes"}


def _read_long(buf: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            break
        shift += 7
    return (result >> 1) ^ -(result & 1), pos


def _write_long(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n & ~0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _header(raw: bytes) -> tuple[dict[bytes, bytes], int]:
    """(metadata map, offset of the sync marker) of an Avro object container file."""
    if raw[:4] != _MAGIC:
        raise ValueError("not an Avro object container file")
    pos = 4
    meta: dict[bytes, bytes] = {}
    while True:
        count, pos = _read_long(raw, pos)
        if count == 0:
            return meta, pos
        if count < 0:
            count = -count
            _, pos = _read_long(raw, pos)  # block size in bytes
        for _ in range(count):
            n, pos = _read_long(raw, pos)
            key, pos = raw[pos : pos + n], pos + n
            n, pos = _read_long(raw, pos)
            meta[key], pos = raw[pos : pos + n], pos + n


def _with_header(raw: bytes, meta: dict[bytes, bytes], sync_at: int) -> bytes:
    out = bytearray(_MAGIC) + _write_long(len(meta))
    for k, v in meta.items():
        out += _write_long(len(k)) + k + _write_long(len(v)) + v
    out += _write_long(0)
    return bytes(out) + raw[sync_at:]


def _patch(node: Any, ids: list[int]) -> Any:
    """The schema with every array-as-map lacking Iceberg ids turned into a list of private ids."""
    if isinstance(node, list):
        return [_patch(n, ids) for n in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    if node.get("type") == "array" and node.get("logicalType") == "map" and "element-id" not in node:
        node.pop("logicalType")
        ids[0] += 1
        node["element-id"] = ids[0]
        node["items"] = _patch_record_ids(node["items"], ids)
        return node
    if node.get("type") == "record":
        fields = []
        for f in node.get("fields", []):
            f = dict(f, type=_patch(f["type"], ids))
            if _was_patched(f["type"]):
                ids[0] += 1
                f["field-id"] = ids[0]  # out of the projection: not read as the spec's metrics map
            fields.append(f)
        node["fields"] = fields
    return node


def _patch_record_ids(items: Any, ids: list[int]) -> Any:
    if isinstance(items, list):
        return [_patch_record_ids(i, ids) for i in items]
    if isinstance(items, dict) and items.get("type") == "record":
        fields = []
        for f in items.get("fields", []):
            ids[0] += 1
            fields.append(dict(f, **{"field-id": f.get("field-id", ids[0])}))
        return dict(items, fields=fields)
    return items


def _was_patched(t: Any) -> bool:
    if isinstance(t, list):
        return any(_was_patched(x) for x in t)
    return isinstance(t, dict) and t.get("type") == "array" and isinstance(t.get("element-id"), int) and t["element-id"] > _PRIVATE_IDS


def _check(schema: dict[str, Any]) -> None:
    """Refuse unless status, data_file and the data_file fields read carry the spec's ids."""
    top = {f.get("field-id"): f for f in schema.get("fields", [])}
    if top.get(0, {}).get("name") != "status" or top.get(2, {}).get("name") != "data_file":
        raise ValueError("manifest_entry lacks status (id 0) / data_file (id 2) with the spec's ids")
    record = next((t for t in (top[2]["type"] if isinstance(top[2]["type"], list) else [top[2]["type"]])
                   if isinstance(t, dict) and t.get("type") == "record"), None)
    fields = {f.get("field-id"): f.get("name") for f in (record or {}).get("fields", [])}
    missing = [f"{name} (id {fid})" for fid, name in _REQUIRED.items() if fields.get(fid) != name]
    if missing:
        raise ValueError("data_file lacks " + ", ".join(missing) + " with the spec's ids")


class _BytesInput:
    def __init__(self, location: str, data: bytes):
        self.location, self._data = location, data

    def __len__(self) -> int:
        return len(self._data)

    def exists(self) -> bool:
        return True

    def open(self, seekable: bool = True) -> Any:
        return io.BytesIO(self._data)


class _Entry:
    """What the inspector reads of a manifest entry's data file (pyiceberg's DataFile shape)."""

    def __init__(self, **fields: Any):
        self.__dict__.update(fields)


def read_entries(io_: Any, manifest: Any) -> list[Any]:
    """Live data files of a manifest whose metrics maps pyiceberg cannot convert (objects with
    pyiceberg DataFile's attributes); raises ValueError when the fields read do not carry the
    spec's ids (then the manifest is refused)."""
    from pyiceberg.avro.file import AvroFile
    from pyiceberg.manifest import DataFileContent, ManifestEntryStatus

    with io_.new_input(manifest.manifest_path).open() as fh:
        raw = fh.read()
    meta, sync_at = _header(raw)
    schema = json.loads(meta[b"avro.schema"])
    _check(schema)
    meta[b"avro.schema"] = json.dumps(_patch(schema, [_PRIVATE_IDS])).encode()
    patched = _BytesInput(manifest.manifest_path, _with_header(raw, meta, sync_at))
    top = [f["name"] for f in schema["fields"]]
    record = next(t for t in (schema["fields"][top.index("data_file")]["type"]) if isinstance(t, dict))
    names = [f["name"] for f in record["fields"]]
    out = []
    reader: AvroFile[Any]
    with AvroFile(cast(Any, patched)) as reader:  # read with the file's own (patched) schema: positions are its fields
        for entry in cast(Any, reader):
            status = entry[top.index("status")]
            if status == ManifestEntryStatus.DELETED.value:
                continue
            df = entry[top.index("data_file")]
            get = {n: df[i] for i, n in enumerate(names)}
            content = get.get("content")
            out.append(_Entry(
                content=DataFileContent(content if content is not None else 0),
                file_path=get["file_path"],
                file_size_in_bytes=get["file_size_in_bytes"],
                record_count=get["record_count"],
                partition=get["partition"],
                spec_id=manifest.partition_spec_id,
            ))
    return out
