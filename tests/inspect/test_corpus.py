"""Every corpus table (tests/inspect/corpus/writers.py): the inspection agrees with the format's own
reader on rows, columns, types, partitions and the file list.

The reference side reads the *data* (that is the point: the inspector reads metadata only, the
reference does not trust metadata), and partition values are recomputed from the rows of each
file, so a partition value in the wrong shape (days since the epoch, a Hive null as a string) fails.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute
import pyarrow.parquet as pq
import pytest

from registry.inspect import inspect_table
from registry.inspect.arrow_types import type_string

from .corpus.writers import WRITERS, Case


@pytest.fixture(params=sorted(WRITERS))
def case(request, tmp_path: Path) -> Case:
    return WRITERS[request.param](tmp_path)


def test_public_delta_tables_listing_missing_files_are_refused():
    """delta-rs ships some test tables as logs only: they cannot be read, so they must not publish."""
    from registry.errors import TableUnreadable

    from .corpus.writers import DELTA_RS, DELTA_RS_FILES_MISSING

    for name in DELTA_RS_FILES_MISSING:
        with pytest.raises(TableUnreadable) as err:
            inspect_table(str(DELTA_RS / name), "delta")
        assert "no longer exist" in str(err.value) and ".parquet" in str(err.value)


def test_spark_v1_table_with_inline_manifests_is_read():
    """duckdb-iceberg's `legacy_v1` (Spark 4.0.1 / Iceberg 1.10, format v1, the snapshot lists
    `manifests` inline): pyiceberg refuses it, the inspector reads it (the generic corpus check
    compares it with its files); here the facts that say how."""
    from .corpus.writers import DUCKDB_ICEBERG

    got = inspect_table(str(DUCKDB_ICEBERG / "legacy_v1"), "iceberg")
    assert got.reader_features["inline_manifests"] is True and got.reader_features["format_version"] == 1
    assert got.row_count == 3 and got.table_version == 2456114553637229296
    assert any("lists its manifests inline" in w for w in got.warnings)


def test_inspection_agrees_with_the_formats_own_reader(case: Case):
    got = inspect_table(case.location, case.format, table_version=case.table_version, format_options=case.format_options)
    check = {"parquet": _parquet, "delta": _delta, "iceberg": _iceberg, "lance": _lance}[case.format]
    check(case, got)
    for key, value in case.expect_features.items():
        assert got.reader_features.get(key) == value, (key, got.reader_features)
    if case.expect_warning:
        assert any(case.expect_warning in w for w in got.warnings), got.warnings
    for f in got.files:  # one JSON shape: nothing but JSON scalars
        for v in f.partition.values():
            assert v is None or isinstance(v, (str, int, float, bool)), (f.path, f.partition)


# ---- reference readers ----------------------------------------------------------------------------


def _iso(v: Any) -> Any:
    """The test's own rendering of a partition value (independent of registry.inspect.partitions)."""
    if isinstance(v, (dt.date, dt.datetime, dt.time)):
        return v.isoformat()
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, decimal.Decimal):
        return str(v)
    return v


def _types(schema: pa.Schema) -> dict[str, str]:
    return {f.name: type_string(f.type) for f in schema}


def _parquet(case: Case, got: Any) -> None:
    import duckdb
    import pyarrow.dataset as ds

    if os.path.isfile(case.location):
        table = pq.read_table(case.location)
        assert [f.path for f in got.files] == [""]
        assert got.files[0].rows == table.num_rows
        assert got.row_count == table.num_rows
        assert {c.name: c.type for c in got.columns} == _types(table.schema)
        count = duckdb.sql(f"SELECT count(*) FROM read_parquet('{case.location}')").fetchone()[0]
        assert count == got.row_count
        return

    root = case.location.rstrip("/") + "/"
    first = next(p for p in sorted(Path(root).rglob("*")) if p.is_file() and not p.name.startswith(("_", ".")))
    names = [seg.split("=", 1)[0] for seg in str(first)[len(root):].split("/")[:-1] if "=" in seg]
    try:
        dataset = ds.dataset(case.location, format="parquet", partitioning="hive")
    except pa.ArrowTypeError:  # the writer also stored the key in the files (Polars): use their type
        file_schema = pq.read_schema(first)
        part = ds.partitioning(pa.schema([file_schema.field(n) for n in names]), flavor="hive")
        dataset = ds.dataset(case.location, format="parquet", partitioning=part)
    expected_files = {}
    for frag in dataset.get_fragments():
        rel = frag.path[len(root):]
        keys = ds.get_partition_keys(frag.partition_expression)
        expected_files[rel] = (frag.to_table().num_rows, {n: _iso(keys.get(n)) for n in names})
    assert {f.path: (f.rows, f.partition) for f in got.files} == expected_files
    assert got.row_count == dataset.to_table().num_rows
    assert {c.name: c.type for c in got.columns} == _types(dataset.schema)
    assert got.partition_columns == names
    count = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{root}**/*.parquet', hive_partitioning = true)"
    ).fetchone()[0]
    assert count == got.row_count


def _plain(t: str) -> str:
    """DataFusion answers with view types (`string_view`); the inspector records `string`."""
    return {"string_view": "string", "binary_view": "binary"}.get(t, t).replace("string_view", "string")


def _delta(case: Case, got: Any) -> None:
    """Reference: delta-rs's DataFusion reader (`QueryBuilder`), which applies deletion vectors and
    column mapping and reads v2 checkpoints; `select *` so the rows are read, not counted from stats."""
    from deltalake import DeltaTable, QueryBuilder

    table = DeltaTable(case.location, version=case.table_version)
    data = pa.table(QueryBuilder().register("tbl", table).execute("select * from tbl").read_all())
    assert got.table_version == table.version()
    assert got.row_count == data.num_rows
    assert {c.name: _plain(c.type) for c in got.columns} == {k: _plain(v) for k, v in _types(data.schema).items()}
    root = os.path.abspath(case.location) + "/"
    # file_uris() are the objects' names (the log holds them URL-encoded once more)
    uris = [u[len("file://"):] if u.startswith("file://") else u for u in table.file_uris()]
    assert sorted(f.path for f in got.files) == sorted(os.path.abspath(u)[len(root):] for u in uris)
    for f in got.files:  # the rows each file physically holds (deletion vectors not applied)
        assert f.rows == pq.read_table(os.path.join(root, f.path)).num_rows
    parts = list(table.metadata().partition_columns)
    assert got.partition_columns == parts
    if parts:
        seen = {tuple(_iso(r[c]) for c in parts) for r in data.select(parts).to_pylist()}
        recorded = {tuple(f.partition[c] for c in parts) for f in got.files}
        assert recorded == seen


_METADATA_NUMBER = re.compile(r"^(?:v(\d+)|(\d+)-.*?)(?:\.gz)?\.metadata\.json$")


def _newest_metadata(location: str) -> str:
    """The metadata file a reader should take: the highest version number, or, when some names carry
    none (`vfinal.metadata.json`), the greatest `last-updated-ms` of all of them."""
    import gzip
    import json

    meta = Path(location) / "metadata"
    hint = meta / "version-hint.text"
    if hint.exists() and hint.read_text().strip().isdigit():
        wanted = int(hint.read_text().strip())
        return next(str(p) for p in sorted(meta.iterdir()) if (m := _METADATA_NUMBER.match(p.name))
                    and int(m.group(1) or m.group(2)) == wanted)
    numbered, unnumbered = [], []
    for p in meta.iterdir():
        m = _METADATA_NUMBER.match(p.name)
        if m:
            numbered.append((int(m.group(1) or m.group(2)), str(p)))
        elif p.name.endswith(".metadata.json"):
            unnumbered.append(str(p))
    if not unnumbered:
        return max(numbered)[1]

    def updated(path: str) -> int:
        raw = Path(path).read_bytes()
        return json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)["last-updated-ms"]

    return max(unnumbered + [p for _, p in numbered], key=updated)


# What pyiceberg 0.11 cannot read among the corpus tables (then the files are the reference):
# v3 deletion vectors in Puffin files, Iceberg Java's identity partitions on time / fixed columns
# (it looks for them in the data files; they are only in the manifests and paths), equality deletes,
# BigQuery's metrics maps.
_PYICEBERG_CANNOT = ("expected b'PFA1'", "could not be found in the file", "does not yet support equality deletes",
                     "list indices must be integers")


class RelocatingIO:
    """A pyiceberg FileIO (`py-io-impl`) for public test tables whose metadata holds paths relative
    to their own repository: paths under `relocate.from` are read under `relocate.to`. Lets
    pyiceberg itself be the reference reader for them."""

    def __init__(self, properties: dict[str, str]):
        from pyiceberg.io.pyarrow import PyArrowFileIO

        self.properties = properties
        self._old, self._new = properties["relocate.from"], properties["relocate.to"]
        self._inner = PyArrowFileIO({k: v for k, v in properties.items() if not k.startswith(("relocate.", "py-io-impl"))})

    def map(self, location: str) -> str:
        return self._new + location[len(self._old):] if location.startswith(self._old + "/") else location

    def new_input(self, location: str) -> Any:
        return self._inner.new_input(self.map(location))

    def new_output(self, location: str) -> Any:
        raise AssertionError("the reference reader writes nothing")

    def delete(self, location: Any) -> None:
        raise AssertionError("the reference reader deletes nothing")


def _transform(value: Any, transform: str) -> Any:
    if value is None:
        return None
    if transform == "identity":
        return _iso(value)
    if transform == "day":
        return value.date().isoformat() if isinstance(value, dt.datetime) else value.isoformat()
    if transform == "month":
        return f"{value.year:04d}-{value.month:02d}"
    if transform == "year":
        return f"{value.year:04d}"
    if transform == "hour":
        return value.replace(minute=0, second=0, microsecond=0, tzinfo=None).isoformat()
    m = re.match(r"truncate\[(\d+)\]", transform)
    if m:
        return value[: int(m.group(1))]
    return value


def _iceberg(case: Case, got: Any) -> None:
    """Reference: pyiceberg's scan of the same metadata (through RelocatingIO for tables whose paths
    point elsewhere). When pyiceberg cannot read or plan a table (v1 inline manifests, equality
    deletes), the files under data/ are the reference: every data file, none of the delete files."""
    from pyiceberg.table import StaticTable

    root = os.path.abspath(case.location) + "/"
    written_at = case.expect_features.get("written_at")
    metadata = case.expect_features.get("metadata_location") or _newest_metadata(case.location)
    assert got.reader_features["metadata_location"].endswith(metadata.rsplit("/", 1)[-1])
    properties = {}
    written_at = case.paths_from or written_at
    if written_at:
        properties = {"py-io-impl": f"{__name__}.RelocatingIO", "relocate.from": written_at.rstrip("/"),
                      "relocate.to": root.rstrip("/")}

    def relative(path: str) -> str:
        if written_at and path.startswith(written_at.rstrip("/") + "/"):
            return path[len(written_at.rstrip("/")) + 1:]
        path = path[len("file://"):] if path.startswith("file://") else path
        return path[len(root):]

    data = tasks = None
    try:
        table = StaticTable.from_metadata(metadata, properties=properties)
        if case.expect_features.get("equality_delete_files"):  # ours: apply by hand
            data = _apply_equality_deletes(table, root)
        else:
            scan = table.scan()
            tasks = list(scan.plan_files())
            data = scan.to_arrow()
    except Exception as exc:  # noqa: BLE001 - pyiceberg cannot: the files are the reference
        assert any(known in str(exc) for known in _PYICEBERG_CANNOT) or got.reader_features.get("inline_manifests"), (
            f"pyiceberg could not read {case.name}: {exc}")
        table = None
    if tasks:
        assert sorted(f.path for f in got.files) == sorted(relative(t.file.file_path) for t in tasks)
    else:  # every data file under data/, none of the delete files
        present = [str(p)[len(root):] for p in Path(root, "data").rglob("*.parquet") if "delete" not in p.name]
        assert sorted(f.path for f in got.files) == sorted(present)
    physical = _iceberg_partitions(got, root)
    if data is None:  # no reader: the files' own rows and types
        assert got.row_count == physical
        assert got.reader_features["row_count_exact"] == (got.reader_features["delete_files"] == 0)
        first = pq.read_schema(Path(root, got.files[0].path))
        assert {c.name: c.type for c in got.columns if c.name in first.names} == \
            {k: v for k, v in _types(first).items() if k in {c.name for c in got.columns}}
        return
    if case.exact_rows and not got.reader_features["delete_files"]:
        assert got.row_count == data.num_rows
    else:
        assert got.row_count == physical >= data.num_rows
    types = _types(data.schema)
    assert {c.name: c.type for c in got.columns} == types


def _apply_equality_deletes(table: Any, root: str) -> pa.Table:
    """The live rows of a table with `id`-equality deletes, computed from the files themselves."""
    data, deleted = [], set()
    for p in Path(root, "data").rglob("*.parquet"):
        t = pq.read_table(p)
        if "eq-delete" in p.name:
            deleted |= set(t.column("id").to_pylist())
        else:
            data.append(t)
    rows = pa.concat_tables(data)
    return rows.filter(pa.compute.invert(pa.compute.is_in(rows.column("id"), pa.array(sorted(deleted), pa.int64()))))


def _from_path(path: str, key: str, binary: bool) -> Any:
    """A partition value from the Hive-style folder Iceberg writers name (URL-escaped; binary as
    base64), rendered like `_iso`."""
    import base64
    from urllib.parse import unquote

    raw = next(unquote(seg.split("=", 1)[1]) for seg in path.split("/") if seg.startswith(key + "="))
    if raw in ("true", "false"):
        return raw == "true"
    if binary:
        return base64.b64decode(raw, validate=True).hex()
    return raw


def _same(raw: Any, value: Any, where: Any) -> None:
    """A value from a folder name (a string) against the recorded JSON value of its type."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not isinstance(raw, str):
        assert raw == value, where
    elif isinstance(value, int):
        assert int(raw) == value, where
    else:  # Iceberg floats are float32: the folder has its shortest form, the record the exact value
        assert abs(float(raw) - value) <= 1e-6 * max(1.0, abs(value)), where


def _iceberg_partitions(got: Any, root: str) -> int:
    """Each file's partition values recomputed from its rows (and its rows counted); returns the
    rows of all files."""
    physical = 0
    spec = {s["field"]: s for s in got.reader_features["partition_spec"]}
    types = {c.name: c.type for c in got.columns}
    for f in got.files:
        content = pq.ParquetFile(os.path.join(root, f.path)).read()  # the file alone: no Hive discovery
        assert f.rows == content.num_rows
        physical += content.num_rows
        for key, value in f.partition.items():
            source, transform = spec[key]["source"], spec[key]["transform"]
            if transform.startswith("bucket"):
                assert isinstance(value, int)
                continue
            if source not in content.column_names:  # value only in the path (`key=value`), not the file
                binary = "binary" in types.get(source, "")
                _same(_from_path(f.path, key, binary), value, (f.path, key, value))
                continue
            values = {_transform(v, transform) for v in content.column(source).to_pylist()}
            assert values == {value}, (f.path, key, values, value)
    return physical


def _lance(case: Case, got: Any) -> None:
    import lance

    dataset = lance.dataset(case.location, version=case.table_version)
    data = dataset.to_table()
    assert got.table_version == dataset.version
    assert got.row_count == data.num_rows
    assert {c.name: c.type for c in got.columns} == _types(data.schema)
    expected = {}
    for frag in dataset.get_fragments():
        live = frag.to_table().num_rows
        physical = live + (frag.num_deletions or 0)
        for j, df in enumerate(frag.data_files()):
            expected["data/" + df.path.lstrip("/")] = physical if j == 0 else None
    assert {f.path: f.rows for f in got.files} == expected
    for f in got.files:
        if f.size is not None:
            assert f.size == os.path.getsize(os.path.join(case.location, f.path))


# ---- Delta type widening (delta-kernel-rs test data, written by Spark 3.5.2 / Delta 3.3) -------------

# What delta-kernel-rs's own read test (kernel/tests/integration/read/mod.rs, type_widening_basic and
# type_widening_decimal) expects from this table: the reference, since delta-rs 1.x refuses to scan
# tables with the `typeWidening-preview` reader feature.
_WIDENED_ROWS = [
    {"byte_long": 1, "int_long": 2, "byte_double": 5.0, "short_double": 6.0, "int_double": 7.0,
     "date_timestamp_ntz": dt.datetime(2024, 9, 9), "decimal_decimal_same_scale": decimal.Decimal("123.45"),
     "decimal_decimal_greater_scale": decimal.Decimal("67.89000"), "byte_decimal": decimal.Decimal("1.0"),
     "short_decimal": decimal.Decimal("2.0"), "int_decimal": decimal.Decimal("3.0"), "long_decimal": decimal.Decimal("4.0")},
    {"byte_long": 9223372036854775807, "int_long": 9223372036854775807, "byte_double": 1.234567890123,
     "short_double": 1.234567890123, "int_double": 1.234567890123,
     "date_timestamp_ntz": dt.datetime(2024, 9, 9, 12, 34, 56, 123456),
     "decimal_decimal_same_scale": decimal.Decimal("12345678901234.56"),
     "decimal_decimal_greater_scale": decimal.Decimal("12345678901.23456"), "byte_decimal": decimal.Decimal("123.4"),
     "short_decimal": decimal.Decimal("12345.6"), "int_decimal": decimal.Decimal("1234567890.1"),
     "long_decimal": decimal.Decimal("123456789012345678.9")},
]


def test_delta_type_widening_records_the_widened_types_and_the_changes():
    """Spark-written table whose 13 columns were widened at version 2 (byte->long, float->double,
    decimal(10,2)->decimal(20,5), date->timestamp_ntz, ...): one file holds the old types, one the new.
    The inspection records the table's (wide) types, each change, and that the plain file list
    needs a cast; per-file stats stay in the column's values (the same integers in either width)."""
    from deltalake import DeltaTable

    from .corpus.writers import DELTA_KERNEL

    loc = str(DELTA_KERNEL / "type-widening")
    got = inspect_table(loc, "delta")
    table = DeltaTable(loc)
    assert got.table_version == table.version() == 2
    wide = pa.schema(table.schema().to_arrow())
    assert {c.name: c.type for c in got.columns} == _types(wide)
    assert {c.name: c.type for c in got.columns}["date_timestamp_ntz"] == "timestamp[us]"

    changes = {c["column"]: (c["from"], c["to"], c["table_version"]) for c in got.reader_features["type_changes"]}
    assert changes["byte_long"] == ("byte", "long", 2) and changes["date_timestamp_ntz"] == ("date", "timestamp_ntz", 2)
    assert changes["decimal_decimal_greater_scale"] == ("decimal(10,2)", "decimal(20,5)", 2) and len(changes) == 13
    assert got.reader_features["faithful_file_list"] is False
    assert any("type widening" in w for w in got.warnings)

    # Reference: the files themselves (both widths), cast to the table's types as a Delta reader does.
    root = Path(loc)
    narrow = set()
    rows = []
    for f in got.files:
        content = pq.read_table(root / f.path)
        assert f.rows == content.num_rows and f.size == (root / f.path).stat().st_size
        narrow |= {n for n in content.column_names if content.schema.field(n).type != wide.field(n).type}
        cast = content.cast(pa.schema([wide.field(n).remove_metadata() for n in content.column_names]))
        rows += cast.to_pylist()
        ints = {n for n in content.column_names if pa.types.is_integer(wide.field(n).type)}
        assert f.stats == {"min": {n: min(cast.column(n).to_pylist()) for n in ints},
                           "max": {n: max(cast.column(n).to_pylist()) for n in ints}}
    assert narrow == set(changes)  # one file really holds the narrow types
    assert got.row_count == len(rows) == 2
    key = sorted(_WIDENED_ROWS[0])
    assert sorted(tuple(r[k] for k in key) for r in rows) == sorted(tuple(r[k] for k in key) for r in _WIDENED_ROWS)


def test_delta_type_widening_pinned_before_the_change_keeps_the_narrow_types():
    from .corpus.writers import DELTA_KERNEL

    got = inspect_table(str(DELTA_KERNEL / "type-widening"), "delta", table_version=1)
    types = {c.name: c.type for c in got.columns}
    assert types["byte_long"] == "int8" and types["date_timestamp_ntz"] == "date32[day]" and got.row_count == 1
    assert "type_changes" not in got.reader_features and got.reader_features["faithful_file_list"] is True
