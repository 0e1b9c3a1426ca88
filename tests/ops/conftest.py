"""Fixtures for operations tests: a MaterializationEngine-shaped bucket on the moto S3 server."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pytest


def cave_table(n: int, seed: int = 0) -> pa.Table:
    """Rows shaped like a CAVE synapse table export: ids, root/supervoxel ids, split positions."""
    rng = np.random.default_rng(seed)
    return pa.table({
        "id": pa.array(np.arange(1, n + 1), pa.int64()),
        "valid": pa.array(np.ones(n, bool)),
        "pre_pt_root_id": pa.array(rng.integers(10**17, 10**17 + 50, n), pa.int64()),
        "post_pt_root_id": pa.array(rng.integers(10**17, 10**17 + 50, n), pa.int64()),
        "pre_pt_supervoxel_id": pa.array(rng.integers(10**16, 10**17, n), pa.int64()),
        "pre_pt_position_x": pa.array(rng.integers(0, 200_000, n), pa.int32()),
        "pre_pt_position_y": pa.array(rng.integers(0, 200_000, n), pa.int32()),
        "pre_pt_position_z": pa.array(rng.integers(0, 20_000, n), pa.int32()),
        "ctr_pt_position": pa.array([[int(a), int(b), int(c)] for a, b, c in rng.integers(0, 1000, (n, 3))],
                                    pa.list_(pa.int32(), 3)),
        "size": pa.array(rng.integers(10, 10_000, n), pa.int64()),
        "pre_pt_root_id_label": pa.array(["a"] * n),  # a string that must not become a root id
    })


def write_export(uri: str, table: pa.Table, order_by: str | None) -> None:
    """Write one layout copy the way MaterializationEngine does: Delta, z-ordered by a column."""
    from deltalake import DeltaTable, write_deltalake

    from registry.storage import object_store_options

    opts = object_store_options(uri) or None
    write_deltalake(uri, table.slice(0, len(table) // 2), mode="overwrite", storage_options=opts)
    write_deltalake(uri, table.slice(len(table) // 2), mode="append", storage_options=opts)
    if order_by:
        DeltaTable(uri, storage_options=opts).optimize.z_order([order_by])


@dataclass
class ExportBucket:
    bucket: str
    root: str  # s3://bucket
    datastack: str
    rows: int


@pytest.fixture
def export_bucket(s3_bucket: str) -> ExportBucket:
    """`s3://B/minnie65_phase3_v1/v943/synapses_pni_2/{id,pre_pt_root_id,post_pt_root_id}` (three
    z-ordered copies of one table), `v1078/synapses_pni_2/` (the table dir itself is the Delta table),
    and `v943/nucleus_detection_v0/id`; plus a stray Delta table outside the layout."""
    root = f"s3://{s3_bucket}"
    ds = "minnie65_phase3_v1"
    t = cave_table(40)
    for col in ("id", "pre_pt_root_id", "post_pt_root_id"):
        write_export(f"{root}/{ds}/v943/synapses_pni_2/{col}", t, col)
    write_export(f"{root}/{ds}/v1078/synapses_pni_2", cave_table(30, seed=1), None)
    write_export(f"{root}/{ds}/v943/nucleus_detection_v0/id", cave_table(12, seed=2).select(
        ["id", "valid", "pre_pt_root_id", "pre_pt_supervoxel_id", "ctr_pt_position"]).rename_columns(
        ["id", "valid", "pt_root_id", "pt_supervoxel_id", "pt_position"]), "id")
    write_export(f"{root}/scratch/some_table", cave_table(5), None)
    return ExportBucket(s3_bucket, root, ds, 40)
