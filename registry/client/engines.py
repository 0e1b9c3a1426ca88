"""Reading a signed table into DuckDB, Polars or pandas.

Two ways in, chosen by the signer's answer:

* **urls** (Parquet, Delta and Iceberg without delete files): every data file of the pinned version
  as a signed HTTPS URL. Engines read the files straight from the bucket; partition values come per
  file from the signer (signed URLs percent-encode `=`, so hive discovery cannot find them) and are
  added back as typed constant columns. Projection and filters stay lazy and reach the Parquet scan.
* **credentials** (Lance; Delta with deletion vectors or column mapping; Iceberg with delete files):
  short-lived credentials scoped to the table, passed to the format's own library as storage options,
  so deletes and column mapping are applied (Delta deletion vectors: by this module, from
  delta-kernel's selection vectors; see `_delta_with_deletion_vectors`). The version layer refuses to
  read such tables from plain URLs, which would return deleted rows.

`filter` is one SQL boolean expression (e.g. `"score > 0.5 AND region = 'a'"`) for every engine;
`to_polars` also takes a Polars expression.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any, Optional, Sequence

from .errors import ReadError
from .signer import SignedFile, SignedTable

# ---- types of partition values ------------------------------------------------------------------

_DUCKDB_TYPES = {
    "int8": "TINYINT", "int16": "SMALLINT", "int32": "INTEGER", "int64": "BIGINT",
    "uint8": "UTINYINT", "uint16": "USMALLINT", "uint32": "UINTEGER", "uint64": "UBIGINT",
    "float": "FLOAT", "float32": "FLOAT", "halffloat": "FLOAT", "double": "DOUBLE", "float64": "DOUBLE",
    "bool": "BOOLEAN", "boolean": "BOOLEAN", "date32[day]": "DATE", "date32": "DATE",
    "string": "VARCHAR", "large_string": "VARCHAR", "utf8": "VARCHAR",
}


def _polars_type(arrow_type: Optional[str]):
    import polars as pl

    return {
        "int8": pl.Int8, "int16": pl.Int16, "int32": pl.Int32, "int64": pl.Int64,
        "uint8": pl.UInt8, "uint16": pl.UInt16, "uint32": pl.UInt32, "uint64": pl.UInt64,
        "float": pl.Float32, "float32": pl.Float32, "double": pl.Float64, "float64": pl.Float64,
        "bool": pl.Boolean, "boolean": pl.Boolean, "date32[day]": pl.Date, "date32": pl.Date,
    }.get(arrow_type or "", pl.Utf8)


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def groups_by_partition(files: Sequence[SignedFile], restore: bool) -> "OrderedDict[tuple, list[SignedFile]]":
    """Files grouped by their partition values: one scan per group keeps a 1,000-file table one
    small query instead of 1,000 unions."""
    out: "OrderedDict[tuple, list[SignedFile]]" = OrderedDict()
    for f in files:
        key = tuple(sorted(f.partition.items())) if restore else ()
        out.setdefault(key, []).append(f)
    return out


# ---- DuckDB ------------------------------------------------------------------------------------


def httpfs_extension_path() -> Optional[Path]:
    """The httpfs extension shipped by the `duckdb-extension-httpfs` wheel for this DuckDB version."""
    try:
        import duckdb
        import duckdb_extension_httpfs
    except ImportError:
        return None
    path = Path(duckdb_extension_httpfs.__file__).parent / "extensions" / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"
    return path if path.exists() else None


def duckdb_connection(con: Any = None):
    """A DuckDB connection that can read https URLs. Offline-friendly: httpfs is loaded from the
    `duckdb-extension-httpfs` wheel when installed (no download), else DuckDB's own install."""
    import duckdb

    ext = httpfs_extension_path()
    if con is None:
        config: dict[str, str | bool | int | float | list[str]] = (
            {"autoinstall_known_extensions": False, "autoload_known_extensions": False} if ext else {})
        con = duckdb.connect(config=config)
    loaded = con.execute(
        "SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'httpfs'").fetchone()
    if not (loaded and loaded[0]):
        try:
            if ext:
                con.execute(f"LOAD '{ext}'")
            else:
                con.execute("INSTALL httpfs; LOAD httpfs")
        except duckdb.Error as exc:
            raise ReadError(f"DuckDB cannot load httpfs ({exc}); `pip install duckdb-extension-httpfs` "
                            f"matching duckdb {duckdb.__version__}") from None
    return con


def urls_sql(files: Sequence[SignedFile], partition_types: dict[str, Optional[str]], restore: bool,
             columns: Optional[Sequence[str]], filter: Optional[str]) -> str:
    parts = []
    for key, group in groups_by_partition(files, restore).items():
        extra = "".join(
            f", CAST({_sql_literal(v)} AS {_DUCKDB_TYPES.get(partition_types.get(k) or '', 'VARCHAR')}) AS {_ident(k)}"
            for k, v in key
        )
        urls = ", ".join(_sql_literal(f.url) for f in group)
        parts.append(f"SELECT *{extra} FROM read_parquet([{urls}])")
    inner = " UNION ALL BY NAME ".join(parts)
    cols = ", ".join(_ident(c) for c in columns) if columns else "*"
    where = f" WHERE {filter}" if filter else ""
    return f"SELECT {cols} FROM ({inner}){where}"


# ---- Polars ------------------------------------------------------------------------------------


def polars_scan(files: Sequence[SignedFile], partition_types: dict[str, Optional[str]], restore: bool):
    import polars as pl

    frames = []
    for key, group in groups_by_partition(files, restore).items():
        lf = pl.scan_parquet([f.url for f in group])
        if key:
            lf = lf.with_columns([pl.lit(v).cast(_polars_type(partition_types.get(k))).alias(k) for k, v in key])
        frames.append(lf)
    if not frames:
        raise ReadError("the signer returned no files for this version")
    return frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")


# ---- credentials mode: the format's own library ---------------------------------------------------


def arrow_with_credentials(doc: Any, signed: SignedTable, columns: Optional[Sequence[str]], filter: Optional[str]):
    """Read a table that needs its own library (Lance, Delta with deletion vectors, Iceberg with
    delete files) with the signer's scoped credentials; returns a pyarrow Table."""
    fmt = doc.format.value
    opts = signed.storage_options
    location = signed.raw.get("location") or doc.location
    version = signed.raw.get("table_version", doc.table_version)
    cols = list(columns) if columns else None
    if fmt == "lance":
        import lance

        ds = lance.dataset(location, version=version, storage_options=opts)
        return ds.to_table(columns=cols, filter=filter)
    if fmt == "delta":
        from deltalake import DeltaTable

        dt = DeltaTable(location, version=version, storage_options=opts)
        if "deletionVectors" in (dt.protocol().reader_features or []):
            # deltalake's pyarrow dataset refuses deletion vectors, and its DataFusion QueryBuilder was
            # seen hanging before its first request against S3: apply delta-kernel's selection vectors here.
            return _arrow_query(_delta_with_deletion_vectors(doc, dt, location, signed), cols, filter)
        return _arrow_query(dt.to_pyarrow_dataset(), cols, filter)  # applies column mapping
    if fmt == "iceberg":
        from pyiceberg.table import StaticTable

        metadata = signed.raw.get("metadata_location") or doc.format_options.get("metadata_location")
        if not metadata:
            raise ReadError(f"{doc.ref}: no Iceberg metadata_location recorded; cannot read with credentials")
        table = StaticTable.from_metadata(metadata, properties=_iceberg_properties(signed))
        scan = table.scan(row_filter=filter or "True", selected_fields=tuple(cols) if cols else ("*",),
                          snapshot_id=version)
        return scan.to_arrow()
    raise ReadError(f"{doc.ref}: format {fmt} has no credentials reader")


def _delta_with_deletion_vectors(doc: Any, dt: Any, location: str, signed: SignedTable):
    """The rows of a Delta version with deletion vectors applied: each data file read with pyarrow
    (through the signer's credentials) and masked with delta-kernel's selection vector for it;
    partition values come from the add actions. Column mapping is not handled on this path."""
    from urllib.parse import unquote

    import pyarrow as pa
    import pyarrow.parquet as pq

    mode = (dt.metadata().configuration or {}).get("delta.columnMapping.mode", "none")
    if mode != "none":
        raise ReadError(f"{doc.ref}: Delta deletion vectors together with column mapping ({mode}) cannot be "
                        f"read by this client yet; read the table with a Delta engine that supports both (e.g. Spark)")
    root = location.rstrip("/")

    def key(path: str) -> str:
        path = unquote(path)
        return path if "://" in path else f"{root}/{path.lstrip('/')}"

    try:
        keep = {key(r["filepath"]): r["selection_vector"] for r in pa.table(dt.deletion_vectors()).to_pylist()}
    except Exception as exc:
        raise ReadError(f"{doc.ref}: cannot read the Delta deletion vectors: {exc}") from None
    schema = pa.schema(dt.schema().to_arrow())
    partition_columns = list(dt.metadata().partition_columns or [])
    fs = _pyarrow_filesystem(doc, signed)
    pieces = []
    for add in pa.table(dt.get_add_actions(flatten=True)).to_pylist():
        uri = key(add["path"])
        table = pq.read_table(uri.split("://", 1)[1], filesystem=fs)
        mask = keep.get(uri)
        if mask is not None:  # rows past the end of the vector are kept (Delta protocol)
            table = table.filter(pa.array(list(mask) + [True] * (table.num_rows - len(mask))))
        for p in partition_columns:
            raw = add.get(f"partition.{p}")
            table = table.append_column(schema.field(p), pa.array([raw] * table.num_rows).cast(schema.field(p).type))
        pieces.append(table.select(schema.names).cast(schema))
    return pa.concat_tables(pieces) if pieces else schema.empty_table()


def _pyarrow_filesystem(doc: Any, signed: SignedTable):
    """A pyarrow filesystem from the signer's scoped credentials (S3 keys, or a GCS access token)."""
    from pyarrow import fs

    c = signed.credentials or {}
    o = signed.storage_options
    if "google_storage_token" in o:
        return fs.GcsFileSystem(access_token=o["google_storage_token"],
                                credential_token_expiration=signed.expires_at or _far_future())
    if not (c.get("access_key_id") or o.get("aws_access_key_id")):
        raise ReadError(f"{doc.ref}: the signer's credentials are neither S3 keys nor a GCS token")
    endpoint = c.get("endpoint_url") or o.get("aws_endpoint")
    kw: dict[str, Any] = {}
    if endpoint:
        scheme, _, rest = endpoint.partition("://")
        kw = {"endpoint_override": rest or scheme, "scheme": scheme if rest else "https"}
    return fs.S3FileSystem(access_key=c.get("access_key_id") or o.get("aws_access_key_id"),
                           secret_key=c.get("secret_access_key") or o.get("aws_secret_access_key"),
                           session_token=c.get("session_token") or o.get("aws_session_token"),
                           region=c.get("region") or o.get("aws_region", "us-east-1"), **kw)


def _far_future():
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)


def _iceberg_properties(signed: SignedTable) -> dict[str, str]:
    c = signed.credentials or {}
    o = signed.storage_options
    if "google_storage_token" in o:
        return {"gcs.oauth2.token": o["google_storage_token"]}
    props = {
        "s3.access-key-id": c.get("access_key_id") or o.get("aws_access_key_id", ""),
        "s3.secret-access-key": c.get("secret_access_key") or o.get("aws_secret_access_key", ""),
        "s3.session-token": c.get("session_token") or o.get("aws_session_token", ""),
        "s3.region": c.get("region") or o.get("aws_region", "us-east-1"),
    }
    if c.get("endpoint_url") or o.get("aws_endpoint"):
        props["s3.endpoint"] = c.get("endpoint_url") or o.get("aws_endpoint")
    return {k: v for k, v in props.items() if v}


def _arrow_query(dataset: Any, columns: Optional[list[str]], filter: Optional[str]):
    """Projection and a SQL filter over a pyarrow dataset, pushed into the scan by DuckDB."""
    import duckdb

    con = duckdb.connect()
    rel = con.from_arrow(dataset)
    if filter:
        rel = rel.filter(filter)
    if columns:
        rel = rel.select(*[_ident(c) for c in columns])
    return rel.to_arrow_table()
