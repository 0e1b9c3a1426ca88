"""What Spark and Ray reads share: which versions plain signed URLs can read, the frame's Arrow
schema, and the per-file work list the workers get (url, size, partition values as JSON)."""

from __future__ import annotations

import json
from typing import Any, Optional, Sequence

from . import http_file
from .errors import ReadError


def signed_files_for_workers(version: Any, engine: str, filter: Optional[str] = None) -> list[Any]:
    """The signed data files of a version that workers can read as plain Parquet, else ReadError
    (checked before asking the signer, so nothing is signed in vain). A simple `filter` picks the
    matching layout and prunes files (registry/client/pruning.py); the engine still applies it."""
    rf = version.inspected.reader_features or {}
    if version.format.value == "lance" or rf.get("needs_credentials"):
        raise ReadError(f"{version.ref} is a Lance table: {engine} workers read Parquet files, not Lance fragments. "
                        f"Read it with ds.to_arrow() (credentials mode) and hand the table to {engine}, or use "
                        f"Lance's own connector with the credentials from ds.sign(mode='credentials').")
    if rf.get("faithful_file_list") is False:
        raise ReadError(f"{version.ref}: its data files alone are not the table ({version.format.value} deletion "
                        f"vectors, delete files or column mapping), so {engine} workers reading them would return "
                        f"wrong rows. Read it with ds.to_arrow() (credentials mode), or point the format's own "
                        f"{engine} connector at the location with ds.sign(mode='credentials').")
    files = [f for f in version._signed("urls", filter if isinstance(filter, str) else None).files if f.size]
    if not files:
        raise ReadError(f"{version.ref} has no data files to read")
    return files


def arrow_schema(version: Any, files: Sequence[Any], columns: Optional[Sequence[str]]) -> Any:
    """The frame's Arrow schema: the first file's columns (one footer read), then the partition
    columns the files lack, typed from `inspected.columns`; projected to `columns` when given."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    first = files[0]
    file_schema = pq.ParquetFile(http_file.RangeFile(first.url, first.size)).schema_arrow
    fields = list(file_schema)
    if version._restore_partitions():
        types = version._partition_types()
        fields += [pa.field(p, http_file.arrow_type(t)) for p, t in types.items() if p not in file_schema.names]
    by_name = {f.name: f for f in fields}
    if columns:
        missing = [c for c in columns if c not in by_name]
        if missing:
            raise ReadError(f"{version.ref} has no column(s) {', '.join(missing)}; it has {', '.join(by_name)}")
        fields = [by_name[c] for c in columns]
    return pa.schema(fields)


def work_rows(files: Sequence[Any]) -> list[tuple[str, int, str]]:
    return [(f.url, int(f.size), json.dumps(f.partition, default=str)) for f in files]


def ship_reader() -> None:
    """Send `http_file` to workers by value (cloudpickle), so they need not install this package."""
    try:
        import cloudpickle
    except ImportError:
        from pyspark import cloudpickle  # type: ignore[no-redef]
    cloudpickle.register_pickle_by_value(http_file)
