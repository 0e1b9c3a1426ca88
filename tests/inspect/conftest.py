"""Real tables for the inspection tests, written by deltalake, pyiceberg and pylance.

Writers are plain functions (usable for local paths and for `s3://` URIs on the moto server) with
thin fixtures on top. Everything is small and seeded so expected counts come from the data written,
not from constants copied out of a previous run.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from registry import storage


def synapse_like(n: int, start: int = 0, seed: int = 0) -> pa.Table:
    """A small synapse-shaped table: ids, root ids, a score, a partition column `split`."""
    import numpy as np

    rng = np.random.default_rng(seed)
    ids = np.arange(start, start + n, dtype=np.int64)
    return pa.table(
        {
            "id": pa.array(ids),
            "pre_pt_root_id": pa.array(rng.integers(864691135000000000, 864691136000000000, n), pa.int64()),
            "score": pa.array(rng.random(n).astype("float32")),
            "split": pa.array((ids % 3).astype("int32")),
        }
    )


# ---- Delta -----------------------------------------------------------------------------------------


@dataclass
class DeltaFixture:
    uri: str
    versions: list[pa.Table] = field(default_factory=list)  # cumulative content at each version


def write_delta(uri: str, *, partition_by: list[str] | None = ("split",), configuration: dict | None = None) -> DeltaFixture:
    """Version 0: 30 rows; version 1: 20 more appended (so rows at v0 and v1 differ)."""
    from deltalake import write_deltalake

    opts = storage.object_store_options(uri)
    first, second = synapse_like(30), synapse_like(20, start=30, seed=1)
    parts = list(partition_by) if partition_by else None
    write_deltalake(uri, first, partition_by=parts, configuration=configuration, storage_options=opts)
    write_deltalake(uri, second, mode="append", partition_by=parts, storage_options=opts)
    return DeltaFixture(uri, [first, pa.concat_tables([first, second])])


@pytest.fixture
def delta_table(tmp_path: Path) -> DeltaFixture:
    return write_delta(str(tmp_path / "delta_synapses"))


_Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"


def _z85(data: bytes) -> str:
    out = []
    for i in range(0, len(data), 4):
        v = int.from_bytes(data[i : i + 4], "big")
        chunk = []
        for _ in range(5):
            chunk.append(_Z85[v % 85])
            v //= 85
        out.append("".join(reversed(chunk)))
    return "".join(out)


def inline_deletion_vector(rows: list[int]) -> dict[str, Any]:
    """A Delta inline deletion vector (storageType `i`) deleting `rows` (< 65536) of one file.

    Layout per the Delta protocol: magic 1681511377, a RoaringBitmapArray of one 32-bit bitmap in
    the portable Roaring format (one array container), Z85-encoded. delta-rs cannot write deletion
    vectors yet, so tests add one to the log by hand; delta-kernel decoding it proves it is valid.
    """
    rows = sorted(rows)
    bitmap = (
        struct.pack("<II", 12346, 1)  # SERIAL_COOKIE_NO_RUNCONTAINER, one container
        + struct.pack("<HH", 0, len(rows) - 1)  # key 0, cardinality - 1
        + struct.pack("<I", 16)  # offset of the container's data
        + b"".join(struct.pack("<H", r) for r in rows)
    )
    raw = struct.pack("<i", 1681511377) + struct.pack("<q", 1) + struct.pack("<i", 0) + bitmap
    size = len(raw)
    raw += b"\0" * ((-len(raw)) % 4)
    return {"storageType": "i", "pathOrInlineDv": _z85(raw), "sizeInBytes": size, "cardinality": len(rows)}


def add_deletion_vector(table_dir: str, rows: list[int]) -> str:
    """Commit a new version that attaches a deletion vector to the first file of the latest version.
    Returns that file's relative path."""
    from deltalake import DeltaTable

    dt = DeltaTable(table_dir)
    version = dt.version()
    log_dir = Path(table_dir) / "_delta_log"
    adds = []
    for v in range(version + 1):
        for line in (log_dir / f"{v:020d}.json").read_text().splitlines():
            obj = json.loads(line)
            if "add" in obj:
                adds.append(obj["add"])
            if "remove" in obj:
                adds = [a for a in adds if a["path"] != obj["remove"]["path"]]
    target = adds[0]
    remove = {
        "path": target["path"],
        "deletionTimestamp": 1,
        "dataChange": True,
        "extendedFileMetadata": True,
        "partitionValues": target.get("partitionValues", {}),
        "size": target["size"],
    }
    new_add = dict(target, deletionVector=inline_deletion_vector(rows), dataChange=True)
    commit = [
        {"commitInfo": {"timestamp": 1, "operation": "DELETE"}},
        {"remove": remove},
        {"add": new_add},
    ]
    (log_dir / f"{version + 1:020d}.json").write_text("\n".join(json.dumps(c) for c in commit) + "\n")
    from urllib.parse import unquote

    return unquote(target["path"])


# ---- Iceberg ---------------------------------------------------------------------------------------


def iceberg_catalog(warehouse: str, db_dir: Path):
    """A SQL catalog (sqlite in a temp dir) writing into `warehouse` (a local dir or s3:// URI)."""
    from pyiceberg.catalog.sql import SqlCatalog

    props = storage.pyiceberg_properties(warehouse)
    wh = warehouse if "://" in warehouse else f"file://{os.path.abspath(warehouse)}"
    catalog = SqlCatalog("test", uri=f"sqlite:///{db_dir}/catalog.db", warehouse=wh, **props)
    catalog.create_namespace("minnie")
    return catalog


@dataclass
class IcebergFixture:
    table: Any  # pyiceberg Table
    location: str  # table root as the user would write it in a spec
    snapshots: list[int]
    rows: list[int]  # rows at each snapshot


def write_iceberg(warehouse: str, db_dir: Path, *, partitioned: bool = True) -> IcebergFixture:
    """Snapshot 1: 40 rows; snapshot 2: 25 more appended. Partitioned by identity(split)."""
    catalog = iceberg_catalog(warehouse, db_dir)
    first, second = synapse_like(40), synapse_like(25, start=40, seed=2)
    tbl = catalog.create_table("minnie.synapses", schema=first.schema)
    if partitioned:
        with tbl.update_spec() as spec:
            spec.add_identity("split")
    tbl.append(first)
    s1 = tbl.current_snapshot().snapshot_id
    tbl.append(second)
    s2 = tbl.current_snapshot().snapshot_id
    location = tbl.location()
    if location.startswith("file://"):
        location = location[len("file://") :]
    return IcebergFixture(tbl, location, [s1, s2], [40, 65])


@pytest.fixture
def iceberg_table(tmp_path: Path) -> IcebergFixture:
    (tmp_path / "wh").mkdir()
    return write_iceberg(str(tmp_path / "wh"), tmp_path)


def add_position_delete(tbl: Any, tmp_dir: Path, positions: list[int]) -> str:
    """Commit a positional delete file against the table's first data file, with pyiceberg's own
    writers (it has no merge-on-read delete yet: `tbl.delete` rewrites files). Returns its path."""
    import pyarrow.parquet as pq
    from pyiceberg.manifest import DataFile, DataFileContent, FileFormat

    task = next(iter(tbl.scan().plan_files()))
    target = task.file
    deletes = pa.table({"file_path": [target.file_path] * len(positions), "pos": pa.array(positions, pa.int64())})
    path = target.file_path.rsplit("/", 1)[0] + "/delete-00001.parquet"
    out = tbl.io.new_output(path)
    with out.create(overwrite=True) as fh:
        pq.write_table(deletes, fh)
    size = len(tbl.io.new_input(path).open().read())
    delete_file = DataFile.from_args(
        content=DataFileContent.POSITION_DELETES,
        file_path=path,
        file_format=FileFormat.PARQUET,
        partition=target.partition,
        record_count=len(positions),
        file_size_in_bytes=size,
    )
    delete_file.spec_id = target.spec_id
    with tbl.transaction() as tx:
        with tx.update_snapshot().fast_append() as append:
            append.append_data_file(delete_file)
    return path


# ---- Lance -----------------------------------------------------------------------------------------


@dataclass
class LanceFixture:
    uri: str
    rows: list[int]  # rows at versions 1, 2, 3


def write_lance(uri: str) -> LanceFixture:
    """v1: 100 rows in 3 fragments (max 40 rows/file); v2: 50 appended; v3: 7 rows deleted."""
    import lance
    import numpy as np

    opts = storage.object_store_options(uri)
    rng = np.random.default_rng(3)

    def batch(start: int, n: int) -> pa.Table:
        emb = pa.FixedSizeListArray.from_arrays(pa.array(rng.random(n * 8).astype("float32")), 8)
        return pa.table({"id": pa.array(np.arange(start, start + n, dtype=np.int64)), "embedding": emb})

    lance.write_dataset(batch(0, 100), uri, max_rows_per_file=40, storage_options=opts)
    lance.write_dataset(batch(100, 50), uri, mode="append", storage_options=opts)
    lance.dataset(uri, storage_options=opts).delete("id < 7")
    return LanceFixture(uri, [100, 150, 143])


@pytest.fixture
def lance_table(tmp_path: Path) -> LanceFixture:
    return write_lance(str(tmp_path / "embeddings.lance"))
