#!/usr/bin/env python
"""Write small, realistic MICrONS-like feature tables for the example registry.

One table per format, for datastack `minnie65_phase3_v1` (positions in [4, 4, 40] nm voxels):

* Parquet, hive-partitioned by `split`: synapse embeddings against `synapses_pni_2` (mat 1078)
* Delta: cell types per nucleus of `nucleus_detection_v0`, version 0 (mat 1078) and version 1 (mat 1412)
* Iceberg: morphology features per nucleus, two snapshots, partitioned by `cell_class`
* Lance: 32-dimensional cell embeddings

All tables share one example world (`World`): the same cells, with root ids that proofreading
changed for every fourth cell between materialization 1078 and 1412 while supervoxel and
annotation ids stayed put, so the documented joins return rows and a cross-version root-id join
visibly loses some.

Every value comes from a seeded generator, so the data are identical on each run (table metadata such
as Delta commit times, Iceberg snapshot ids and Lance file names are not). Existing tables at the
same place are replaced.

    python examples/make_tables.py --out examples/tables
    python examples/make_tables.py --out s3://bucket/prefix      # or: --out bucket/prefix --s3

S3 (or MinIO, or a local test server) is configured only by the standard AWS_* environment.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from registry import storage  # noqa: E402

DATASTACK = "minnie65_phase3_v1"
SEED = 65

# Rough extent of minnie65 in [4, 4, 40] nm voxels.
X_RANGE, Y_RANGE, Z_RANGE = (120_000, 360_000), (60_000, 260_000), (14_000, 27_000)
ROOT_BASE = 864_691_135_000_000_000
SUPERVOXEL_BASE = 88_000_000_000_000_000

CELL_TYPES = {  # label -> (class, share); AIBS-style labels as in MICrONS cell-type tables
    "23P": ("excitatory", 0.22), "4P": ("excitatory", 0.18), "5P-IT": ("excitatory", 0.12),
    "5P-ET": ("excitatory", 0.05), "5P-NP": ("excitatory", 0.03), "6P-IT": ("excitatory", 0.12),
    "6P-CT": ("excitatory", 0.12), "BC": ("inhibitory", 0.06), "MC": ("inhibitory", 0.04),
    "BPC": ("inhibitory", 0.04), "NGC": ("inhibitory", 0.02),
}


def _positions(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.stack([rng.integers(*X_RANGE, n), rng.integers(*Y_RANGE, n), rng.integers(*Z_RANGE, n)], axis=1)


def _root_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    return ROOT_BASE + rng.choice(999_999_999, size=n, replace=False).astype(np.int64)


# ---- the example world: cells whose ids relate the way CAVE's do ------------------------------------
#
# One set of cells, shared by every table: a nucleus (annotation id, stable), a nucleus supervoxel
# (stable) and a root id at 1078. Between 1078 and 1412 proofreading edits every fourth cell, which
# gets a new root id; supervoxel and annotation ids do not change. Synapses post onto cells through
# supervoxels of their own. So, exactly (see tests/core/test_join_examples.py):
#   synapses@1078 joined with cell_types@1 (1078) on post_pt_root_id       -> 1600 rows
#   synapses@1078 joined with cell_types@2 (1412) on post_pt_root_id       -> 1200 rows (400 lost)
#   post_pt_supervoxel_id re-resolved at 1412 (get_roots), then cell_types@2 -> 1600 rows

N_CELLS = 1000
N_SYNAPSES = 2000
SYNAPSES_ON_CELLS = 1600  # the rest post onto orphan fragments (no nucleus)
CELLS_1078 = 600  # cell_types@1
CELLS_1412 = 800  # cell_types@2
CHANGED_EVERY = 4  # cells 0, 4, 8, ... get a new root id by 1412


class World:
    """The example segmentation: cells and synapse supervoxels, root ids at 1078 and 1412, and
    `get_roots` (CAVEclient's `chunkedgraph.get_roots(supervoxel_ids, timestamp=...)`, here by
    materialization version)."""

    def __init__(self, seed: int = SEED - 1):
        rng = np.random.default_rng(seed)
        n = N_CELLS
        labels = list(CELL_TYPES)
        shares = np.array([CELL_TYPES[k][1] for k in labels])
        self.nucleus_id = np.sort(rng.choice(np.arange(100_000, 700_000), size=n, replace=False)).astype(np.int64)
        roots = _root_ids(rng, 2 * n + N_SYNAPSES)
        self.root_1078 = roots[:n]
        changed = (np.arange(n) % CHANGED_EVERY) == 0
        self.root_1412 = np.where(changed, roots[n:2 * n], self.root_1078)
        self.changed = changed
        svs = SUPERVOXEL_BASE + rng.choice(10**15, size=n + N_SYNAPSES, replace=False).astype(np.int64)
        self.supervoxel = svs[:n]
        self.position = _positions(rng, n).astype(np.int64)
        self.cell_type = np.array(labels)[rng.choice(len(labels), size=n, p=shares / shares.sum())]
        # synapses: the first SYNAPSES_ON_CELLS (in a shuffled order) post onto cells 0..599 round-robin
        order = rng.permutation(N_SYNAPSES)
        post_cell = np.full(N_SYNAPSES, -1, dtype=np.int64)
        post_cell[order[:SYNAPSES_ON_CELLS]] = np.arange(SYNAPSES_ON_CELLS) % CELLS_1078
        self.post_cell = post_cell
        self.post_supervoxel = svs[n:]
        orphan_roots = roots[2 * n:]
        self._sv_roots = {int(sv): (int(orphan_roots[i]), int(orphan_roots[i])) for i, sv in enumerate(self.post_supervoxel)}
        for i in np.flatnonzero(post_cell >= 0):
            c = post_cell[i]
            self._sv_roots[int(self.post_supervoxel[i])] = (int(self.root_1078[c]), int(self.root_1412[c]))
        for c in range(n):
            self._sv_roots[int(self.supervoxel[c])] = (int(self.root_1078[c]), int(self.root_1412[c]))

    def roots(self, mat_version: int) -> np.ndarray:
        return self.root_1078 if mat_version < 1412 else self.root_1412

    def post_root(self, mat_version: int) -> np.ndarray:
        return np.array([self._sv_roots[int(sv)][0 if mat_version < 1412 else 1] for sv in self.post_supervoxel],
                        dtype=np.int64)

    def get_roots(self, supervoxel_ids: Any, mat_version: int) -> np.ndarray:
        """Root ids of `supervoxel_ids` at `mat_version` (1078 or 1412)."""
        k = 0 if mat_version < 1412 else 1
        return np.array([self._sv_roots[int(sv)][k] for sv in supervoxel_ids], dtype=np.int64)


def _cells(world: World, index: np.ndarray, mat_version: int) -> dict[str, np.ndarray]:
    return {
        "nucleus_id": world.nucleus_id[index],
        "pt_root_id": world.roots(mat_version)[index],
        "pt_supervoxel_id": world.supervoxel[index],
        "pt_position": world.position[index],
        "cell_type": world.cell_type[index],
    }


# ---- one writer per format --------------------------------------------------------------------


def write_parquet(root: str, rng: np.random.Generator, n: int = N_SYNAPSES) -> dict[str, Any]:
    """Synapse embeddings at 1078, hive-partitioned by `split` (0-3): `split=0/part-0.parquet`, ...
    Post-synaptic ids come from the example world (root ids at 1078, supervoxels of the cells)."""
    world = World()
    pos = _positions(rng, n)
    emb = rng.normal(0, 1, (n, 16)).astype(np.float32)
    pre_cells = rng.integers(0, N_CELLS, n)
    pre_roots = np.where(np.arange(n) % 2 == 0, world.root_1078[pre_cells], _root_ids(rng, n))
    table = pa.table(
        {
            "id": pa.array(np.sort(rng.choice(np.arange(150_000_000, 450_000_000), n, replace=False)).astype(np.int64)),
            "pre_pt_root_id": pa.array(pre_roots.astype(np.int64)),
            "post_pt_root_id": pa.array(world.post_root(1078)),
            "pre_pt_supervoxel_id": pa.array(SUPERVOXEL_BASE + rng.integers(0, 10**15, n).astype(np.int64)),
            "post_pt_supervoxel_id": pa.array(world.post_supervoxel),
            "ctr_pt_position_x": pa.array(pos[:, 0].astype(np.int64)),
            "ctr_pt_position_y": pa.array(pos[:, 1].astype(np.int64)),
            "ctr_pt_position_z": pa.array(pos[:, 2].astype(np.int64)),
            "score": pa.array(rng.random(n).astype(np.float32)),
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(emb.reshape(-1)), 16),
            "split": pa.array((np.arange(n) % 4).astype(np.int32)),
        }
    )
    fs, path = storage.filesystem(root)
    for split in range(4):
        part = table.filter(pc.equal(table["split"], split)).drop_columns(["split"])
        fs.makedirs(f"{path}/split={split}", exist_ok=True)
        with fs.open(f"{path}/split={split}/part-0.parquet", "wb") as fh:
            pq.write_table(part, fh, row_group_size=256)
    return {"format": "parquet", "location": root, "rows": n, "partition_columns": ["split"], "schema": _schema(table.schema)}


def write_delta(root: str, rng: np.random.Generator) -> dict[str, Any]:
    """Cell types: version 0 (mat 1078, 600 nuclei), version 1 (mat 1412, 800 nuclei, overwrite)."""
    from deltalake import DeltaTable, write_deltalake

    opts = storage.object_store_options(root)

    world = World()

    def frame(n: int, mat_version: int) -> pa.Table:
        nuc = _cells(world, np.arange(n), mat_version)
        return pa.table(
            {
                "nucleus_id": pa.array(nuc["nucleus_id"]),
                "pt_root_id": pa.array(nuc["pt_root_id"]),
                "pt_supervoxel_id": pa.array(nuc["pt_supervoxel_id"]),
                "pt_position": pa.array(nuc["pt_position"].tolist(), pa.list_(pa.int64())),
                "cell_type": pa.array(nuc["cell_type"].tolist(), pa.string()),
                "confidence": pa.array(rng.beta(8, 2, n).astype(np.float32)),
            }
        )

    v0, v1 = frame(CELLS_1078, 1078), frame(CELLS_1412, 1412)
    write_deltalake(root, v0, storage_options=opts)
    write_deltalake(root, v1, mode="overwrite", storage_options=opts)
    version = DeltaTable(root, storage_options=opts).version()
    schema = pa.schema(DeltaTable(root, storage_options=opts).schema().to_arrow())
    return {
        "format": "delta", "location": root, "versions": {0: v0.num_rows, version: v1.num_rows},
        "partition_columns": [], "schema": _schema(schema),
    }


def write_iceberg(root: str, rng: np.random.Generator) -> dict[str, Any]:
    """Morphology features per nucleus, partitioned by identity(cell_class); two appends."""
    from pyiceberg.catalog.sql import SqlCatalog

    world = World()

    def frame(index: np.ndarray) -> pa.Table:
        n = len(index)
        nuc = _cells(world, index, 1412)
        classes = np.array([CELL_TYPES[t][0] for t in nuc["cell_type"]])
        return pa.table(
            {
                "nucleus_id": pa.array(nuc["nucleus_id"]),
                "pt_root_id": pa.array(nuc["pt_root_id"]),
                "cell_class": pa.array(classes.tolist(), pa.string()),
                "soma_volume_um3": pa.array(rng.lognormal(5.8, 0.3, n)),
                "nucleus_volume_um3": pa.array(rng.lognormal(5.2, 0.25, n)),
                "n_branch_points": pa.array(rng.poisson(60, n).astype(np.int32)),
                "total_path_length_um": pa.array(rng.gamma(6, 900, n)),
                "mean_radius_nm": pa.array(rng.normal(420, 60, n).astype(np.float32)),
            }
        )

    first, second = frame(np.arange(0, 300)), frame(np.arange(300, 500))
    with tempfile.TemporaryDirectory() as db:  # the catalog is only a writer; readers use metadata JSON
        props = storage.pyiceberg_properties(root)
        warehouse = root if "://" in root else "file://" + os.path.abspath(root)
        catalog = SqlCatalog("examples", uri=f"sqlite:///{db}/catalog.db", warehouse=warehouse, **props)
        catalog.create_namespace("minnie65")
        tbl = catalog.create_table("minnie65.morphology_features", schema=first.schema, location=warehouse)
        with tbl.update_spec() as spec:
            spec.add_identity("cell_class")
        tbl.append(first)
        s1 = tbl.current_snapshot().snapshot_id
        tbl.append(second)
        s2 = tbl.current_snapshot().snapshot_id
        schema = tbl.schema().as_arrow()
    return {
        "format": "iceberg", "location": root, "snapshots": {str(s1): first.num_rows, str(s2): first.num_rows + second.num_rows},
        "partition_columns": ["cell_class"], "schema": _schema(schema),
    }


def write_lance(root: str, rng: np.random.Generator, n: int = N_CELLS) -> dict[str, Any]:
    """Cell embeddings at 1412: 32 floats per nucleus, in fragments of at most 400 rows."""
    import lance

    nuc = _cells(World(), np.arange(n), 1412)
    emb = rng.normal(0, 1, (n, 32)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    table = pa.table(
        {
            "id": pa.array(nuc["nucleus_id"]),
            "pt_root_id": pa.array(nuc["pt_root_id"]),
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(emb.reshape(-1)), 32),
        }
    )
    ds = lance.write_dataset(table, root, max_rows_per_file=400, storage_options=storage.object_store_options(root))
    return {"format": "lance", "location": root, "versions": {ds.version: n}, "partition_columns": [], "schema": _schema(table.schema)}


# ---- driver ---------------------------------------------------------------------------------------


def _schema(schema: pa.Schema) -> dict[str, str]:
    from registry.inspect.arrow_types import type_string

    return {f.name: type_string(f.type) for f in schema}


def _clear(uri: str) -> None:
    fs, path = storage.filesystem(uri)
    if fs.exists(path):
        if storage.protocol_of(uri) == "file":
            shutil.rmtree(path)
        else:
            fs.rm(path, recursive=True)


def make_tables(out: str) -> dict[str, dict[str, Any]]:
    base = storage.join(out, DATASTACK)
    plan = {
        "synapse_embeddings": (storage.join(base, "v1078/synapse_embeddings"), write_parquet),
        "cell_types": (storage.join(base, "cell_types.delta"), write_delta),
        "morphology_features": (storage.join(base, "morphology_features.iceberg"), write_iceberg),
        "cell_embeddings": (storage.join(base, "cell_embeddings.lance"), write_lance),
    }
    written = {}
    for offset, (name, (location, writer)) in enumerate(plan.items()):
        if storage.protocol_of(location) == "file":
            location = os.path.abspath(location)
        _clear(location)
        written[name] = writer(location, np.random.default_rng(SEED + offset))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="local directory or s3:// / gs:// prefix")
    parser.add_argument("--s3", action="store_true", help="treat --out as an S3 bucket/prefix (AWS_* environment)")
    parser.add_argument("--json", action="store_true", help="print what was written as JSON")
    args = parser.parse_args(argv)
    out = args.out
    if args.s3 and "://" not in out:
        out = "s3://" + out
    written = make_tables(out)
    if args.json:
        print(json.dumps(written, indent=2))
    else:
        for name, info in written.items():
            pins = info.get("versions") or info.get("snapshots") or {}
            pin_text = ", ".join(f"{k}: {v} rows" for k, v in pins.items()) or f"{info.get('rows')} rows"
            print(f"{name:20} {info['format']:8} {info['location']}  ({pin_text})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
