"""A conformance corpus written by other writers than this project's example script.

Each writer function builds one small table under a directory and returns a `Case`: where it is,
its format and what the format's own reader must agree with. Writers are DuckDB, pyarrow with
unusual options, Polars, delta-rs (checkpoints, column mapping, deletion vectors, vacuum, logs
without statistics), pyiceberg (partition evolution, temporal transforms, deletes, gzip metadata,
both version-hint forms) and old Lance releases (committed data, see ../corpus/README.md).

Nothing here compares results: `tests/inspect/test_corpus.py` reads every case back with the
format's own reader and with the inspector and compares the two.
"""

from __future__ import annotations

import datetime as dt
import decimal
import glob
import gzip
import json
import os
import shutil
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import pyarrow as pa
import pyarrow.parquet as pq

CORPUS_DIR = Path(__file__).parent


@dataclass
class Case:
    name: str
    format: str
    location: str
    table_version: Optional[int] = None
    format_options: dict[str, Any] = field(default_factory=dict)
    # facts the inspection must additionally show (reader_features subset, warnings substrings)
    expect_features: dict[str, Any] = field(default_factory=dict)
    expect_warning: Optional[str] = None
    exact_rows: bool = True  # False when the format's own metadata only gives an upper bound
    # the prefix the table's own paths start with, when not its metadata's `location` (BigQuery)
    paths_from: Optional[str] = None
    # Lance pre-0.8 data: an older release wrote it, this one reads it
    writer: str = ""


Writer = Callable[[Path], Case]
WRITERS: dict[str, Writer] = {}


def writer(fn: Writer) -> Writer:
    WRITERS[fn.__name__] = fn
    return fn


# ---- Parquet ---------------------------------------------------------------------------------------


@writer
def duckdb_partitioned(d: Path) -> Case:
    """DuckDB `COPY ... (FORMAT parquet, PARTITION_BY (k, day))`, with a null key (Hive default
    partition), nested, decimal and date columns."""
    import duckdb

    out = d / "duckdb_partitioned"
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT i::BIGINT AS id, CASE WHEN i % 4 = 0 THEN NULL ELSE i % 3 END AS k,
                  DATE '2024-01-01' + (i % 2)::INT AS day, [i, i + 1] AS pair,
                  {{'a': i, 'b': 'x' || i::VARCHAR}} AS st, (i / 7)::DECIMAL(10, 3) AS dec,
                  TIMESTAMP '2024-01-01 10:00:00' + INTERVAL (i) MINUTE AS ts
                  FROM range(40) t(i))
            TO '{out}' (FORMAT parquet, PARTITION_BY (k, day))"""
    )
    con.close()
    return Case("duckdb_partitioned", "parquet", str(out), writer=f"duckdb {duckdb.__version__}")


@writer
def duckdb_single_file(d: Path) -> Case:
    """DuckDB single file with small row groups (several row groups, one footer)."""
    import duckdb

    out = d / "duckdb_single.parquet"
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT i AS id, i::HUGEINT * 1000000000000 AS big, (i % 256)::UTINYINT AS u8, i::USMALLINT AS u16,
                  i::UINTEGER AS u32, i::UBIGINT AS u64, (i % 2 = 0) AS flag, i::FLOAT AS f,
                  TIME '10:00:00' AS t, 'ab'::BLOB AS blob, gen_random_uuid() AS uid
                  FROM range(3000) t(i))
            TO '{out}' (FORMAT parquet, ROW_GROUP_SIZE 1000)"""
    )
    con.close()
    return Case("duckdb_single_file", "parquet", str(out), writer=f"duckdb {duckdb.__version__}")


def _odd_table(n: int = 50) -> pa.Table:
    """Every physical type and the common logical annotations, nested and repeated columns."""
    import numpy as np

    i = np.arange(n)
    return pa.table(
        {
            "b": pa.array(i % 2 == 0),
            "i8": pa.array(i, pa.int8()),
            "i16": pa.array(i, pa.int16()),
            "i32": pa.array(i, pa.int32()),
            "i64": pa.array(i, pa.int64()),
            "u8": pa.array(i, pa.uint8()),
            "u32": pa.array(i, pa.uint32()),
            "u64": pa.array(i, pa.uint64()),
            "f16": pa.array(i.astype("float16"), pa.float16()),
            "f32": pa.array(i, pa.float32()),
            "f64": pa.array(i, pa.float64()),
            "s": pa.array([f"s{x % 5}" for x in i]),
            "bin": pa.array([bytes([x % 256]) for x in i], pa.binary()),
            "fixed": pa.array([bytes([x % 256]) * 4 for x in i], pa.binary(4)),
            "d32": pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=int(x)) for x in i], pa.date32()),
            "t64": pa.array([dt.time(10, 0, int(x) % 60) for x in i], pa.time64("us")),
            "ts_ms": pa.array([dt.datetime(2024, 1, 1) + dt.timedelta(seconds=int(x)) for x in i], pa.timestamp("ms")),
            "ts_tz": pa.array([dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)] * n, pa.timestamp("us", tz="UTC")),
            "dec9": pa.array([decimal.Decimal(int(x)) / 100 for x in i], pa.decimal128(9, 2)),
            "dec38": pa.array([decimal.Decimal(int(x)) * 10**20 for x in i], pa.decimal128(38, 0)),
            "lst": pa.array([[int(x), int(x) + 1] for x in i], pa.list_(pa.int64())),
            "fsl": pa.FixedSizeListArray.from_arrays(pa.array(np.repeat(i, 3).astype("float32")), 3),
            "st": pa.array([{"x": int(x), "y": [float(x)]} for x in i]),
            "mp": pa.array([[("k", int(x))] for x in i], pa.map_(pa.string(), pa.int64())),
            "dict": pa.array([f"c{x % 3}" for x in i]).dictionary_encode(),
        }
    )


@writer
def pyarrow_odd_options(d: Path) -> Case:
    """pyarrow with int96 timestamps, Parquet 1.0 format, v1 data pages, no dictionary for some
    columns, page index, bloom filters where supported, two files with small row groups."""
    out = d / "pyarrow_odd"
    out.mkdir()
    t = _odd_table()
    kwargs: dict[str, Any] = dict(
        use_deprecated_int96_timestamps=True,
        data_page_version="1.0",
        use_dictionary=["s", "dict"],
        write_page_index=True,
        write_statistics=["i64"],
        row_group_size=20,
        compression={"s": "zstd", "i64": "gzip"},
    )
    try:
        pq.write_table(t, out / "part-0.parquet", **kwargs, bloom_filter_options={"s": {"ndv": 10}})
    except TypeError:  # pyarrow without bloom-filter writing
        pq.write_table(t, out / "part-0.parquet", **kwargs)
    pq.write_table(t.slice(0, 7), out / "part-1.parquet", version="1.0", store_schema=False)
    return Case("pyarrow_odd_options", "parquet", str(out), writer=f"pyarrow {pa.__version__}")


@writer
def pyarrow_empty_and_zero_row_groups(d: Path) -> Case:
    """A file with no rows beside one with rows."""
    out = d / "pyarrow_empty"
    out.mkdir()
    t = pa.table({"id": pa.array([1, 2, 3], pa.int64())})
    pq.write_table(t.slice(0, 0), out / "a.parquet")
    pq.write_table(t, out / "b.parquet")
    return Case("pyarrow_empty_and_zero_row_groups", "parquet", str(out), writer=f"pyarrow {pa.__version__}")


@writer
def polars_partitioned(d: Path) -> Case:
    """Polars `write_parquet(partition_by=...)`: its own Parquet writer and Hive layout."""
    import polars as pl

    out = d / "polars_partitioned"
    df = pl.DataFrame(
        {
            "id": list(range(30)),
            "cls": [["a", "b", None][i % 3] for i in range(30)],
            "emb": [[float(i), float(i) / 2] for i in range(30)],
            "when": [dt.datetime(2024, 5, 1) + dt.timedelta(hours=i) for i in range(30)],
        }
    )
    df.write_parquet(out, partition_by=["cls"])
    return Case("polars_partitioned", "parquet", str(out), writer=f"polars {pl.__version__}")


def _zigzag(n: int) -> bytes:
    v = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


class _Compact:
    """Just enough of Thrift's compact protocol to find and rewrite FileMetaData.num_rows."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def byte(self) -> int:
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def skip(self, t: int) -> None:
        if t in (1, 2):
            return
        if t == 3:
            self.pos += 1
        elif t in (4, 5, 6):
            self.varint()
        elif t == 7:
            self.pos += 8
        elif t == 8:
            n = self.varint()  # read first: `self.pos += self.varint()` would add to the old position
            self.pos += n
        elif t in (9, 10):
            head = self.byte()
            size, et = head >> 4, head & 0x0F
            if size == 15:
                size = self.varint()
            for _ in range(size):
                self.skip(et) if et not in (1, 2) else self.byte()
        elif t == 11:
            size = self.varint()
            if size:
                kv = self.byte()
                for _ in range(size):
                    self.skip(kv >> 4)
                    self.skip(kv & 0x0F)
        elif t == 12:
            self.struct(None)
        else:
            raise ValueError(f"thrift type {t}")

    def struct(self, want: Optional[int]) -> Optional[tuple[int, int]]:
        """Skip a struct; return (start, end) of field `want`'s value at this level if seen."""
        last, found = 0, None
        while True:
            head = self.byte()
            if head == 0:
                return found
            delta, t = head >> 4, head & 0x0F
            fid = last + delta if delta else ((lambda z: (z >> 1) ^ -(z & 1))(self.varint()))
            last = fid
            start = self.pos
            self.skip(t)
            if fid == want:
                found = (start, self.pos)


def set_footer_num_rows(path: Path, num_rows: int) -> None:
    """Rewrite the file-level `num_rows` of a Parquet footer (row groups untouched), as some writers
    get it wrong. The footer length is fixed up when the varint changes size."""
    raw = path.read_bytes()
    flen = struct.unpack("<I", raw[-8:-4])[0]
    footer = raw[-8 - flen : -8]
    span = _Compact(footer).struct(3)
    assert span is not None, "no num_rows in footer"
    new = footer[: span[0]] + _zigzag(num_rows) + footer[span[1] :]
    path.write_bytes(raw[: -8 - flen] + new + struct.pack("<I", len(new)) + b"PAR1")


@writer
def pyarrow_footer_num_rows_zero(d: Path) -> Case:
    """One row group of 6 rows, footer num_rows crafted to 0 (seen in the wild)."""
    out = d / "footer_zero.parquet"
    pq.write_table(pa.table({"id": pa.array(range(6), pa.int64())}), out)
    set_footer_num_rows(out, 0)
    return Case(
        "pyarrow_footer_num_rows_zero", "parquet", str(out), writer=f"pyarrow {pa.__version__} + crafted footer",
        expect_features={"footer_row_count_mismatch": 1}, expect_warning="disagrees with their row groups",
    )


# ---- Delta ------------------------------------------------------------------------------------------


def _delta_rows(start: int, n: int) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(start, start + n), pa.int64()),
            "cell_type": pa.array([["L2/3 IT", "L5 ET", "a b"][i % 3] for i in range(n)]),
            "day": pa.array([dt.date(2024, 1, 1 + i % 2) for i in range(n)], pa.date32()),
            "score": pa.array([i / 10 for i in range(n)], pa.float64()),
        }
    )


@writer
def delta_checkpoint(d: Path) -> Case:
    """delta-rs: 12 commits, a classic checkpoint at 10, date partitions."""
    from deltalake import DeltaTable, write_deltalake

    out = str(d / "delta_checkpoint")
    for v in range(12):
        write_deltalake(out, _delta_rows(v * 5, 5), mode="append", partition_by=["day"])
        if v == 9:
            DeltaTable(out).create_checkpoint()
    return Case("delta_checkpoint", "delta", out, writer="deltalake")


@writer
def delta_column_mapping(d: Path) -> Case:
    """delta-rs with column mapping mode `name` (physical column names in the files)."""
    from deltalake import write_deltalake

    out = str(d / "delta_colmap")
    write_deltalake(
        out, _delta_rows(0, 12), partition_by=["cell_type"],
        configuration={"delta.columnMapping.mode": "name", "delta.minReaderVersion": "2", "delta.minWriterVersion": "5"},
    )
    return Case("delta_column_mapping", "delta", out, writer="deltalake",
                expect_features={"column_mapping": "name", "faithful_file_list": False})


@writer
def delta_timestamp_ntz(d: Path) -> Case:
    """timestamp without time zone (a reader/writer table feature), partitioned by it."""
    from deltalake import write_deltalake

    out = str(d / "delta_ntz")
    t = pa.table({"id": pa.array([1, 2, 3], pa.int64()),
                  "ts": pa.array([dt.datetime(2024, 1, 1, 10), dt.datetime(2024, 1, 1, 10), dt.datetime(2024, 1, 2)], pa.timestamp("us"))})
    write_deltalake(out, t, partition_by=["ts"])
    return Case("delta_timestamp_ntz", "delta", out, writer="deltalake")


@writer
def delta_without_stats(d: Path) -> Case:
    """A log whose add actions carry no `stats` (writers may omit them): counts from footers."""
    from deltalake import write_deltalake

    out = str(d / "delta_nostats")
    write_deltalake(out, _delta_rows(0, 9), partition_by=["cell_type"])
    write_deltalake(out, _delta_rows(9, 4), mode="append", partition_by=["cell_type"])
    strip_delta_stats(out)
    return Case("delta_without_stats", "delta", out, writer="deltalake, stats removed",
                expect_features={"row_count_source": "footers"}, expect_warning="counted from the Parquet footers")


def strip_delta_stats(table_dir: str) -> None:
    for log in glob.glob(os.path.join(table_dir, "_delta_log", "*.json")):
        lines = []
        for line in Path(log).read_text().splitlines():
            obj = json.loads(line)
            if "add" in obj:
                obj["add"].pop("stats", None)
            lines.append(json.dumps(obj))
        Path(log).write_text("\n".join(lines) + "\n")


@writer
def delta_overwrite_and_vacuum(d: Path) -> Case:
    """Overwritten then vacuumed: the latest version is readable (older pins are not, tested apart)."""
    from deltalake import DeltaTable, write_deltalake

    out = str(d / "delta_vacuumed")
    write_deltalake(out, _delta_rows(0, 10))
    write_deltalake(out, _delta_rows(100, 4), mode="overwrite")
    DeltaTable(out).vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    return Case("delta_overwrite_and_vacuum", "delta", out, writer="deltalake")


@writer
def delta_deletion_vectors(d: Path) -> Case:
    """delta-rs writes the deletion-vector feature; a deletion vector is committed by hand (delta-rs
    cannot write one), read back by delta-kernel."""
    from deltalake import write_deltalake

    from ..conftest import add_deletion_vector

    out = str(d / "delta_dv")
    write_deltalake(out, _delta_rows(0, 10), configuration={"delta.enableDeletionVectors": "true"})
    add_deletion_vector(out, [0, 3])
    return Case("delta_deletion_vectors", "delta", out, writer="deltalake + hand-written DV",
                expect_features={"deleted_rows": 2, "faithful_file_list": False})


@writer
def delta_multipart_checkpoint(d: Path) -> Case:
    """A classic checkpoint split into two parts (`N.checkpoint.0000000001.0000000002.parquet`, as
    Spark writes large ones), the commits before it removed, then one more commit."""
    from deltalake import DeltaTable, write_deltalake

    out = str(d / "delta_multipart")
    for i in range(4):
        write_deltalake(out, _delta_rows(i * 5, 5), mode="append", partition_by=["day"])
    DeltaTable(out).create_checkpoint()
    log = Path(out) / "_delta_log"
    single = log / f"{3:020d}.checkpoint.parquet"
    actions = pq.read_table(single)
    half = actions.num_rows // 2
    for part, (start, stop) in enumerate([(0, half), (half, actions.num_rows)], start=1):
        pq.write_table(actions.slice(start, stop - start), log / f"{3:020d}.checkpoint.{part:010d}.{2:010d}.parquet")
    single.unlink()
    (log / "_last_checkpoint").write_text(json.dumps({"version": 3, "size": actions.num_rows, "parts": 2}))
    for v in range(3):
        (log / f"{v:020d}.json").unlink()
    write_deltalake(out, _delta_rows(100, 2), mode="append", partition_by=["day"])
    return Case("delta_multipart_checkpoint", "delta", out, writer="deltalake, checkpoint split by hand")


@writer
def delta_column_mapping_id(d: Path) -> Case:
    from deltalake import write_deltalake

    out = str(d / "delta_colmap_id")
    write_deltalake(
        out, _delta_rows(0, 7), partition_by=["day"],
        configuration={"delta.columnMapping.mode": "id", "delta.minReaderVersion": "2", "delta.minWriterVersion": "5"},
    )
    return Case("delta_column_mapping_id", "delta", out, writer="deltalake",
                expect_features={"column_mapping": "id", "faithful_file_list": False})


# ---- Iceberg ----------------------------------------------------------------------------------------


def _catalog(d: Path, name: str) -> Any:
    from pyiceberg.catalog.sql import SqlCatalog

    wh = d / f"{name}_wh"
    wh.mkdir()
    cat = SqlCatalog(name, uri=f"sqlite:///{wh}/catalog.db", warehouse=f"file://{wh}")
    cat.create_namespace("ns")
    return cat


def _ice_rows(start: int, n: int) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(start, start + n), pa.int64()),
            "d": pa.array([dt.date(2024, 1, 31) + dt.timedelta(days=i % 3) for i in range(n)], pa.date32()),
            "ts": pa.array([dt.datetime(2024, 1, 31, 10) + dt.timedelta(hours=5 * i) for i in range(n)], pa.timestamp("us")),
            "tz": pa.array([dt.datetime(2023, 12, 31, 23, tzinfo=dt.timezone.utc) + dt.timedelta(days=40 * i) for i in range(n)],
                           pa.timestamp("us", tz="UTC")),
            "cls": pa.array([["a", "b", None][i % 3] for i in range(n)]),
        }
    )


def _location(tbl: Any) -> str:
    loc = tbl.location()
    return loc[len("file://"):] if loc.startswith("file://") else loc


@writer
def iceberg_temporal_transforms(d: Path) -> Case:
    """identity(date), day/month/year/hour transforms and identity(timestamptz)."""
    from pyiceberg.transforms import DayTransform, HourTransform, IdentityTransform, MonthTransform, YearTransform

    cat = _catalog(d, "temporal")
    data = _ice_rows(0, 12)
    for c in ("ts_m", "ts_y", "ts_h"):
        data = data.append_column(c, data.column("ts"))
    tbl = cat.create_table("ns.t", schema=data.schema)
    with tbl.update_spec() as u:
        u.add_field("d", IdentityTransform(), "d")
        u.add_field("ts", DayTransform(), "ts_day")
        u.add_field("ts_m", MonthTransform(), "ts_month")
        u.add_field("ts_y", YearTransform(), "ts_year")
        u.add_field("ts_h", HourTransform(), "ts_hour")
        u.add_field("tz", IdentityTransform(), "tz")
    tbl.append(data)
    return Case("iceberg_temporal_transforms", "iceberg", _location(tbl), writer="pyiceberg")


@writer
def iceberg_bucket_truncate(d: Path) -> Case:
    from pyiceberg.transforms import BucketTransform, TruncateTransform

    cat = _catalog(d, "bucket")
    data = _ice_rows(0, 10).append_column("name", pa.array([f"neuron_{i:03d}" for i in range(10)]))
    tbl = cat.create_table("ns.t", schema=data.schema)
    with tbl.update_spec() as u:
        u.add_field("id", BucketTransform(4), "id_bucket")
        u.add_field("name", TruncateTransform(8), "name_trunc")
    tbl.append(data)
    return Case("iceberg_bucket_truncate", "iceberg", _location(tbl), writer="pyiceberg")


@writer
def iceberg_partition_evolution(d: Path) -> Case:
    """Unpartitioned, then identity(cls), then day(ts) added: three specs live in one snapshot."""
    from pyiceberg.transforms import DayTransform, IdentityTransform

    cat = _catalog(d, "evolution")
    tbl = cat.create_table("ns.t", schema=_ice_rows(0, 1).schema)
    tbl.append(_ice_rows(0, 5))
    with tbl.update_spec() as u:
        u.add_field("cls", IdentityTransform(), "cls")
    tbl.append(_ice_rows(5, 6))
    with tbl.update_spec() as u:
        u.add_field("ts", DayTransform(), "ts_day")
    tbl.append(_ice_rows(11, 4))
    return Case("iceberg_partition_evolution", "iceberg", _location(tbl), writer="pyiceberg")


@writer
def iceberg_v1_with_delete(d: Path) -> Case:
    """format-version 1, then a copy-on-write delete (pyiceberg rewrites files)."""
    from pyiceberg.expressions import LessThan

    cat = _catalog(d, "v1")
    tbl = cat.create_table("ns.t", schema=_ice_rows(0, 1).schema, properties={"format-version": "1"})
    tbl.append(_ice_rows(0, 10))
    tbl.delete(LessThan("id", 3))
    return Case("iceberg_v1_with_delete", "iceberg", _location(tbl), writer="pyiceberg")


@writer
def iceberg_position_deletes(d: Path) -> Case:
    """v2 with a merge-on-read position delete file (committed with pyiceberg's own writers)."""
    from ..conftest import add_position_delete

    cat = _catalog(d, "posdel")
    tbl = cat.create_table("ns.t", schema=_ice_rows(0, 1).schema)
    tbl.append(_ice_rows(0, 10))
    add_position_delete(tbl, d, [0, 1])
    return Case("iceberg_position_deletes", "iceberg", _location(tbl), writer="pyiceberg + position delete",
                exact_rows=False, expect_features={"position_delete_files": 1, "row_count_exact": False})


def add_equality_delete(tbl: Any, ids: list[int]) -> str:
    """Commit an equality delete file (`id` in `ids`) with pyiceberg's own writers: it cannot write
    merge-on-read deletes itself, but Flink and Spark do."""
    from pyiceberg.manifest import DataFile, DataFileContent, FileFormat

    target = next(iter(tbl.scan().plan_files())).file
    path = target.file_path.rsplit("/", 1)[0] + "/eq-delete-00001.parquet"
    deletes = pa.table({"id": pa.array(ids, pa.int64())})
    with tbl.io.new_output(path).create(overwrite=True) as fh:
        pq.write_table(deletes, fh)
    size = len(tbl.io.new_input(path).open().read())
    delete_file = DataFile.from_args(
        content=DataFileContent.EQUALITY_DELETES, file_path=path, file_format=FileFormat.PARQUET,
        partition=target.partition, record_count=len(ids), file_size_in_bytes=size,
        equality_ids=[tbl.schema().find_field("id").field_id],
    )
    delete_file.spec_id = target.spec_id
    with tbl.transaction() as tx:
        with tx.update_snapshot().fast_append() as append:
            append.append_data_file(delete_file)
    return path


@writer
def iceberg_equality_deletes(d: Path) -> Case:
    cat = _catalog(d, "eqdel")
    tbl = cat.create_table("ns.t", schema=_ice_rows(0, 1).schema)
    tbl.append(_ice_rows(0, 10))
    add_equality_delete(tbl, [2, 3, 4])
    return Case("iceberg_equality_deletes", "iceberg", _location(tbl), writer="pyiceberg + equality delete",
                exact_rows=False, expect_features={"equality_delete_files": 1, "row_count_exact": False})


def gzip_metadata(location: str, java_names: bool = True) -> str:
    """Rewrite every metadata JSON gzip-compressed under Iceberg Java's name (`v2.gz.metadata.json`
    from `00002-<uuid>.metadata.json`), as `write.metadata.compression-codec=gzip` does; drop the
    originals. Returns the newest name."""
    meta = Path(location) / "metadata"
    newest = ""
    for p in sorted(meta.glob("*.metadata.json")):
        number = int(p.name.split("-", 1)[0])
        name = f"v{number}.gz.metadata.json" if java_names else p.name.replace(".metadata.json", ".gz.metadata.json")
        (meta / name).write_bytes(gzip.compress(p.read_bytes()))
        p.unlink()
        newest = name
    return newest


@writer
def iceberg_gzip_java_names(d: Path) -> Case:
    """Iceberg Java's gzip metadata naming, no version hint: the newest `vN.gz.metadata.json`."""
    cat = _catalog(d, "gz")
    tbl = cat.create_table("ns.t", schema=_ice_rows(0, 1).schema)
    tbl.append(_ice_rows(0, 4))
    tbl.append(_ice_rows(4, 3))
    loc = _location(tbl)
    gzip_metadata(loc)
    return Case("iceberg_gzip_java_names", "iceberg", loc, writer="pyiceberg, metadata gzipped as Iceberg Java names it")


@writer
def iceberg_hint_number(d: Path) -> Case:
    """`version-hint.text` holding a number, metadata named `vN.metadata.json` (Hadoop catalog)."""
    cat = _catalog(d, "hintnum")
    tbl = cat.create_table("ns.t", schema=_ice_rows(0, 1).schema)
    tbl.append(_ice_rows(0, 4))
    tbl.append(_ice_rows(4, 2))
    loc = _location(tbl)
    meta = Path(loc) / "metadata"
    files = sorted(meta.glob("*.metadata.json"))
    for p in files:
        p.rename(meta / f"v{int(p.name.split('-', 1)[0])}.metadata.json")
    (meta / "version-hint.text").write_text(str(int(files[-1].name.split("-", 1)[0])))
    return Case("iceberg_hint_number", "iceberg", loc, writer="pyiceberg, Hadoop-catalog names")


@writer
def iceberg_hint_file_name(d: Path) -> Case:
    """`version-hint.text` holding a metadata file *name*, pointing at an older gzip metadata file
    while a newer one exists: the hint wins."""
    cat = _catalog(d, "hintname")
    tbl = cat.create_table("ns.t", schema=_ice_rows(0, 1).schema)
    tbl.append(_ice_rows(0, 4))
    tbl.append(_ice_rows(4, 2))  # a newer metadata file the hint does not name
    loc = _location(tbl)
    gzip_metadata(loc, java_names=False)
    names = sorted(p.name for p in (Path(loc) / "metadata").glob("*.gz.metadata.json"))
    hinted = names[-2]
    (Path(loc) / "metadata" / "version-hint.text").write_text(hinted + "\n")
    return Case("iceberg_hint_file_name", "iceberg", loc, writer="pyiceberg, hint names a file",
                format_options={}, expect_features={"metadata_location": loc + "/metadata/" + hinted})


# ---- Lance ------------------------------------------------------------------------------------------


LANCE_07 = CORPUS_DIR / "lance-0.7.5" / "old.lance"


@writer
def lance_written_by_0_7(d: Path) -> Case:
    """Committed data written by pylance 0.7.5 (no physical_rows in its manifest)."""
    out = d / "old.lance"
    shutil.copytree(LANCE_07, out)
    return Case("lance_written_by_0_7", "lance", str(out), writer="pylance 0.7.5 (committed)",
                expect_features={"row_count_source": "fragment_footers"})


@writer
def lance_0_7_pinned_older(d: Path) -> Case:
    out = d / "old.lance"
    shutil.copytree(LANCE_07, out)
    return Case("lance_0_7_pinned_older", "lance", str(out), table_version=1, writer="pylance 0.7.5 (committed)")


@writer
def lance_migrated_from_0_7(d: Path) -> Case:
    """The 0.7.5 dataset appended to and deleted from by the current pylance."""
    import lance

    out = d / "mig.lance"
    shutil.copytree(LANCE_07, out)
    lance.write_dataset(pa.table({"id": pa.array([100, 101, 102], pa.int64()), "label": ["x", "y", "z"]}), out, mode="append")
    lance.dataset(out).delete("id = 101 or id = 20")
    return Case("lance_migrated_from_0_7", "lance", str(out), writer=f"pylance 0.7.5 + {lance.__version__}")


LANCE_08_MIGRATED = CORPUS_DIR / "lance-0.8.0-migrated" / "migrated.lance"


@writer
def lance_deleted_from_by_0_8_0(d: Path) -> Case:
    """Written by 0.7.5, a row deleted by 0.8.0 (committed): 0.8.0 stored fragment 0's live rows
    (14) as its physical_rows (the file holds 20), so the manifest undercounts by 6."""
    out = d / "migrated.lance"
    shutil.copytree(LANCE_08_MIGRATED, out)
    return Case("lance_deleted_from_by_0_8_0", "lance", str(out), writer="pylance 0.7.5 then 0.8.0 (committed)",
                expect_features={"row_count_source": "fragment_footers", "manifest_row_counts_wrong": 1},
                expect_warning="disagree with their data files")


# ---- public test data: delta-rs's own test tables (Spark, Databricks, delta-rs writers) -----------

DELTA_RS = CORPUS_DIR / "delta-rs"
# Tables whose log lists data files the delta-rs repository does not ship (its tests read the log
# only): the inspector must refuse them (exit 2, a missing file named), tested in test_corpus.py.
DELTA_RS_FILES_MISSING = ("checkpoints_vacuumed", "latest_not_checkpointed")


def _public_delta(name: str) -> Writer:
    def write(d: Path) -> Case:
        return Case(f"delta-rs:{name}", "delta", str(DELTA_RS / name), writer="delta-rs test data (see README)")

    write.__name__ = f"public_delta_{name}"
    return write


for _name in sorted(p.name for p in DELTA_RS.iterdir() if p.is_dir() and p.name not in DELTA_RS_FILES_MISSING):
    writer(_public_delta(_name))


@writer
def iceberg_moved_table(d: Path) -> Case:
    """A table copied from the warehouse it was written in: every path in its metadata still points
    at the old place (absolute `file://` paths), so it is read relative to where it is now."""
    cat = _catalog(d, "moved")
    tbl = cat.create_table("ns.t", schema=_ice_rows(0, 1).schema)
    tbl.append(_ice_rows(0, 6))
    old = _location(tbl)
    new = d / "copied" / "t"
    shutil.copytree(old, new)
    shutil.rmtree(old)
    return Case("iceberg_moved_table", "iceberg", str(new), writer="pyiceberg, then copied",
                expect_features={"written_at": "file://" + old}, expect_warning="was written at")


# ---- public test data: delta-kernel-rs's type-widening table (Spark 3.5.2 / Delta 3.3) ------------
# delta-rs cannot scan it (`typeWidening-preview`), so it has its own test in test_corpus.py.

DELTA_KERNEL = CORPUS_DIR / "delta-kernel-rs"


# ---- committed Parquet written by Spark 3.5.9 (see spark-3.5.9/README.md) -----------------------

SPARK = CORPUS_DIR / "spark-3.5.9"


@writer
def spark_partitioned(d: Path) -> Case:
    return Case("spark_partitioned", "parquet", str(SPARK / "spark_partitioned"), writer="Spark 3.5.9 (committed)")


@writer
def spark_legacy_format(d: Path) -> Case:
    return Case("spark_legacy_format", "parquet", str(SPARK / "spark_legacy"), writer="Spark 3.5.9 legacy format (committed)")


# ---- public test data: duckdb-iceberg's persistent tables (Spark, pyiceberg, BigQuery writers) -----

DUCKDB_ICEBERG = CORPUS_DIR / "duckdb-iceberg"
# Every table is read (BigQuery's manifests by the spec's field ids, Spark's v1 inline `manifests`).
DUCKDB_ICEBERG_REFUSED: tuple[str, ...] = ()


def _public_iceberg(name: str) -> Writer:
    def write(d: Path) -> Case:
        loc = DUCKDB_ICEBERG / name
        meta = json.loads(sorted((loc / "metadata").glob("*.metadata.json"))[-1].read_text())
        paths_from = f"data/persistent/{name}" if not meta["location"].startswith("data/") else None
        return Case(f"duckdb-iceberg:{name}", "iceberg", str(loc), writer="duckdb-iceberg test data (see README)",
                    expect_features={"written_at": meta["location"]}, paths_from=paths_from)

    write.__name__ = f"public_iceberg_{name}"
    return write


for _name in sorted(p.name for p in DUCKDB_ICEBERG.iterdir() if p.is_dir() and p.name not in DUCKDB_ICEBERG_REFUSED):
    writer(_public_iceberg(_name))
