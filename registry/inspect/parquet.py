"""Parquet: one file, or a directory/prefix of many (hive partitions detected). Footers only.

Reading footers one file at a time through a buffered file handle would pull megabytes of
read-ahead per file and pay one round trip each. Instead we list once (sizes and etags come with
the listing), read the first file's footer exactly (8 bytes, then the footer), and then fetch a tail
of about that footer's size from every other file in concurrent `cat_ranges` batches (obstore on
S3, async fsspec on GCS): files of one table have footers of similar size. The rare larger footer
is re-fetched at its exact size. Bytes read stay proportional to the number of files times the
footer size.
"""

from __future__ import annotations

import hashlib
import json
import struct
from typing import Any, Optional
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import TableUnreadable
from ..model import ManifestFile
from ..storage import range_read_filesystem
from . import ProgressCallback, TableInspection
from .access import classify, summary
from .arrow_types import columns_from_schema
from .partitions import hive_is_integer, hive_value
from .stats import parquet_stats

TAIL_SLACK = 1024  # footers of one table differ by a few bytes (statistics); room to spare
BATCH = 256  # footers fetched per cat_ranges call: bounds memory and lets progress advance
_SKIP_PREFIXES = ("_", ".")


def _is_data_file(rel: str) -> bool:
    parts = rel.split("/")
    if any(p.startswith(_SKIP_PREFIXES) for p in parts):
        return False  # _SUCCESS, _delta_log, .crc, _common_metadata, hidden dirs
    return not rel.endswith((".crc", ".json", ".txt", ".tmp"))


def hive_partition(rel: str) -> dict[str, str]:
    """'split=1/date=2024-01-01/part-0.parquet' -> {'split': '1', 'date': '2024-01-01'}."""
    out: dict[str, str] = {}
    for part in rel.split("/")[:-1]:
        if "=" in part:
            k, _, v = part.partition("=")
            out[unquote(k)] = unquote(v)
    return out


def _partition_type(values: list[str]) -> pa.DataType:
    """The type pyarrow's hive discovery gives: int32 when every value is an integer (Hive's null
    directory `__HIVE_DEFAULT_PARTITION__` aside), else string."""
    return pa.int32() if hive_is_integer(values) else pa.string()


def _coerce(value: str, t: pa.DataType) -> Any:
    return hive_value(value, pa.types.is_integer(t))


def rows_of(md: pq.FileMetaData) -> int:
    """The rows a reader gets from a file: the sum over its row groups. Readers (Arrow, DuckDB,
    Spark) read row groups; the footer's file-level `num_rows` is a separate field that some
    writers leave at 0 or get wrong."""
    return sum(md.row_group(i).num_rows for i in range(md.num_row_groups))


def _footer(tail: bytes, path: str) -> int:
    """Footer length from the 8-byte trailer; a trailer without `PAR1` is named for what it is."""
    if len(tail) >= 8 and tail[-4:] == b"PARE":
        raise TableUnreadable(
            f"{path}: encrypted Parquet (PARE footer): the footer is encrypted, so its schema and row "
            "counts cannot be read without the keys; publish a table with a plaintext footer"
        )
    if len(tail) < 8 or tail[-4:] != b"PAR1":
        raise TableUnreadable(f"{path}: not a Parquet file (no PAR1 magic at the end; truncated?)")
    return struct.unpack("<I", tail[-8:-4])[0]


def _etag(info: dict[str, Any]) -> str:
    for key in ("ETag", "etag", "md5Hash", "generation", "mtime", "LastModified", "updated"):
        if key in info and info[key] is not None:
            return str(info[key]).strip('"')
    return ""


def inspect(
    location: str,
    *,
    table_version: Optional[int] = None,
    format_options: dict[str, Any],
    progress: Optional[ProgressCallback] = None,
) -> TableInspection:
    fs, root = range_read_filesystem(location)
    try:
        info = fs.info(root)
    except FileNotFoundError:
        raise TableUnreadable(f"{location}: does not exist") from None
    except Exception as exc:  # noqa: BLE001 - any storage error is an unreadable table to the user
        raise classify(location, exc) or TableUnreadable(f"{location}: cannot be read ({summary(exc)})") from None

    if info.get("type") == "directory":
        listing = fs.find(root, detail=True)
        base = root.rstrip("/") + "/"
        entries = []
        for path, meta in sorted(listing.items()):
            rel = path[len(base) :] if path.startswith(base) else path
            if meta.get("type") == "file" and _is_data_file(rel):
                entries.append((rel, path, meta))
        if not entries:
            raise TableUnreadable(f"{location}: no Parquet files under this prefix")
    else:
        entries = [("", root, info)]

    total = len(entries)
    footers = read_footers(fs, entries, progress)

    schema = _arrow_schema(footers[0])
    warnings: list[str] = []
    differing = [rel for (rel, _, _), md in zip(entries, footers) if not _arrow_schema(md).equals(schema)]
    if differing:
        warnings.append(
            f"{len(differing)} of {total} files have a different schema from the first "
            f"(e.g. {differing[0]}); readers may need schema evolution"
        )

    partitions = [hive_partition(rel) for rel, _, _ in entries]
    partition_columns = list(partitions[0].keys()) if partitions and all(
        list(p.keys()) == list(partitions[0].keys()) for p in partitions
    ) else []
    if partitions and any(partitions) and not partition_columns:
        warnings.append("files disagree on their hive partition keys; partitions not recorded")
    if format_options.get("partitioning") == "none":
        partition_columns = []
    part_types = {c: _partition_type([p[c] for p in partitions]) for c in partition_columns}
    for col, t in part_types.items():
        if col not in schema.names:
            schema = schema.append(pa.field(col, t))

    rows = [rows_of(md) for md in footers]
    mismatched = [(rel, md.num_rows, n) for (rel, _, _), md, n in zip(entries, footers, rows) if md.num_rows != n]
    if mismatched:
        rel, said, n = mismatched[0]
        warnings.append(
            f"{len(mismatched)} file(s) have a footer num_rows that disagrees with their row groups "
            f"(e.g. {rel or location}: footer says {said}, row groups hold {n}); recorded the row groups' "
            "count, which is what readers return"
        )
    files = [
        ManifestFile(
            path=rel,
            size=int(meta.get("size") or 0),
            rows=n,
            partition={c: _coerce(p[c], part_types[c]) for c in partition_columns},
            stats=parquet_stats(md, schema),
        )
        for (rel, _, meta), md, n, p in zip(entries, footers, rows, partitions)
    ]
    digest = hashlib.sha256(
        json.dumps([[rel, meta.get("size"), _etag(meta)] for rel, _, meta in entries]).encode()
    ).hexdigest()
    return TableInspection(
        columns=columns_from_schema(schema),
        files=files,
        fingerprint=f"parquet:sha256:{digest}",
        table_version=0,  # Parquet has no table version: the fingerprint is the pin
        row_count=sum(rows),
        bytes=sum(f.size or 0 for f in files),
        partition_columns=partition_columns,
        reader_features={"faithful_file_list": True, **({"footer_row_count_mismatch": len(mismatched)} if mismatched else {})},
        warnings=warnings,
    )


def _arrow_schema(md: pq.FileMetaData) -> pa.Schema:
    """The Arrow schema a reader gets: the footer's, with Parquet UUID columns as Arrow's uuid
    extension type (what `pq.read_table` returns) rather than the bare fixed_size_binary[16]."""
    schema = md.schema.to_arrow_schema()
    uuid_type = getattr(pa, "uuid", None)
    if uuid_type is None:
        return schema
    for i in range(len(md.schema)):
        col = md.schema.column(i)
        if str(col.logical_type.type) == "UUID" and "." not in col.path:
            idx = schema.get_field_index(col.path)
            if idx >= 0 and pa.types.is_fixed_size_binary(schema.field(idx).type):
                schema = schema.set(idx, schema.field(idx).with_type(uuid_type()))
    return schema


def read_footers(
    fs: Any, entries: list[tuple[str, str, dict[str, Any]]], progress: Optional[ProgressCallback] = None
) -> list[pq.FileMetaData]:
    """Footers of `entries` ((relative path, path in `fs`, listing info with `size`)), in order:
    the first exactly, the others as tails of about its size in concurrent batches."""
    if not entries:
        return []
    first = _read_footer_exactly(fs, entries[0])
    footers: list[pq.FileMetaData] = [first]
    tail = first.serialized_size + 8 + TAIL_SLACK
    for start in range(1, len(entries), BATCH):
        footers.extend(_read_footers(fs, entries[start : start + BATCH], tail))
        if progress:
            progress(len(footers), len(entries))
    return footers


def _check_size(path: str, size: int) -> None:
    if size < 12:
        raise TableUnreadable(f"{path}: {size} bytes is too small to be a Parquet file")


def _read_footer_exactly(fs: Any, entry: tuple[str, str, dict[str, Any]]) -> pq.FileMetaData:
    """Two small reads: the 8-byte trailer (footer length + magic), then exactly the footer."""
    _, path, meta = entry
    size = int(meta.get("size") or 0)
    _check_size(path, size)
    try:
        trailer = fs.cat_file(path, start=size - 8, end=size)
    except Exception as exc:  # noqa: BLE001
        raise classify(path, exc) or TableUnreadable(f"{path}: cannot be read ({summary(exc)})") from None
    return _read_footers(fs, [entry], 8, trailers=[trailer])[0]


def _read_footers(
    fs: Any, batch: list[tuple[str, str, dict[str, Any]]], tail_bytes: int, trailers: Optional[list[bytes]] = None
) -> list[pq.FileMetaData]:
    paths = [p for _, p, _ in batch]
    sizes = [int(m.get("size") or 0) for _, _, m in batch]
    for path, size in zip(paths, sizes):
        _check_size(path, size)
    if trailers is not None:
        out = []
        for path, size, trailer in zip(paths, sizes, trailers):
            flen = _footer(trailer, path)
            if flen + 8 > size:
                raise TableUnreadable(f"{path}: footer length {flen} exceeds the file size (truncated?)")
            footer = fs.cat_file(path, start=size - flen - 8, end=size)
            out.append(_parse(footer, flen, path))
        return out
    starts = [max(0, s - tail_bytes) for s in sizes]
    tails = fs.cat_ranges(paths, starts, sizes, on_error="return")
    out = []
    for path, size, tail in zip(paths, sizes, tails):
        if isinstance(tail, FileNotFoundError):
            raise TableUnreadable(f"{path}: does not exist (listed, then gone?)")
        if isinstance(tail, Exception):
            raise classify(path, tail) or TableUnreadable(f"{path}: cannot be read ({summary(tail)})")
        flen = _footer(tail, path)
        if flen + 8 > size:
            raise TableUnreadable(f"{path}: footer length {flen} exceeds the file size (truncated?)")
        if flen + 8 > len(tail):  # a footer larger than our tail: fetch exactly it
            tail = fs.cat_file(path, start=size - flen - 8, end=size)
        out.append(_parse(tail, flen, path))
    return out


def _parse(tail: bytes, flen: int, path: str) -> pq.FileMetaData:
    try:
        return pq.read_metadata(pa.BufferReader(tail[-(flen + 8) :]))
    except Exception as exc:  # noqa: BLE001 - arrow raises several types for corrupt footers
        raise TableUnreadable(f"{path}: corrupt Parquet footer ({exc})") from exc
