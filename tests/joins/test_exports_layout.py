"""A CAVE annotation table target resolves to a registered MaterializationEngine export.

The export is written the way MaterializationEngine's `workflows/deltalake_export.py` writes it
(checked against CAVEconnectome/MaterializationEngine, see docs/joins.md): one Delta lake per
indexed column under `{bucket}/{datastack}/v{version}/{table}/{partition_by or "flat"}`, hive-
partitioned by `{column}_partition`, z-ordered by the column; a spatial index becomes a lake named
`{point}_morton` with the point decoded into `{point}_x/_y/_z` (int32) and z-ordered by them."""

from __future__ import annotations

import shutil

import numpy as np
import pyarrow as pa

from registry.documents import Registry
from registry.joinplan import plan_join
from registry.joins import document_join_facts, group_versions
from registry.ops.exports import publish_derived, scan


def _synapses_at_1078(syn_ids: np.ndarray) -> pa.Table:
    rng = np.random.default_rng(7)
    n = len(syn_ids)
    xyz = rng.integers(0, 2**20, (n, 3)).astype(np.int32)
    return pa.table({
        "id": pa.array(syn_ids, pa.int64()),
        "valid": pa.array(np.ones(n, bool)),
        "pre_pt_root_id": pa.array(rng.integers(10**17, 10**17 + 999, n), pa.int64()),
        "post_pt_root_id": pa.array(rng.integers(10**17, 10**17 + 999, n), pa.int64()),
        "ctr_pt_position_x": pa.array(xyz[:, 0]), "ctr_pt_position_y": pa.array(xyz[:, 1]),
        "ctr_pt_position_z": pa.array(xyz[:, 2]),
        "ctr_pt_position_morton": pa.array(xyz[:, 0].astype(np.int64) * 3 + xyz[:, 1], pa.int64()),
    })


def _write_lake(uri: str, table: pa.Table, partition_by: str, zorder: list[str], n_parts: int = 3) -> None:
    from deltalake import DeltaTable, write_deltalake

    col = table[partition_by].to_numpy()
    edges = np.quantile(col, [i / n_parts for i in range(1, n_parts)])
    part = pa.array(np.searchsorted(edges, col).astype(np.int32))
    write_deltalake(uri, table.append_column(f"{partition_by}_partition", part), mode="append",
                    partition_by=[f"{partition_by}_partition"])
    DeltaTable(uri).optimize.z_order(zorder)


def test_export_layout_scanned_and_joined(example_registry, tmp_path):
    reg = Registry(example_registry)
    syn_doc = reg.get("synapse_embeddings", "1")
    # the synapse ids of the example table, read from its Parquet files
    import pyarrow.dataset as pads

    syn_ids = pads.dataset(syn_doc.location, partitioning="hive").to_table(columns=["id"]).column("id").to_numpy()
    table = _synapses_at_1078(np.sort(syn_ids))
    base = tmp_path / "bucket" / "minnie65_phase3_v1" / "v1078" / "synapses_pni_2"
    _write_lake(str(base / "id"), table, "id", ["id"])
    _write_lake(str(base / "post_pt_root_id"), table, "post_pt_root_id", ["post_pt_root_id"])
    _write_lake(str(base / "ctr_pt_position_morton"), table, "ctr_pt_position_morton",
                ["ctr_pt_position_x", "ctr_pt_position_y", "ctr_pt_position_z"])

    derived = scan(str(tmp_path / "bucket"))
    assert [d.spec["name"] + "@" + d.spec["version"] for d in derived] == ["synapses_pni_2@v1078"]
    params = derived[0].spec["provenance"]["parameters"]
    assert derived[0].spec["location"].endswith("/synapses_pni_2/id") and params["primary_layout"] == "id"
    assert sorted(tuple(v["order_by"]) for v in params["layout_variants"]) == [
        ("ctr_pt_position_x", "ctr_pt_position_y", "ctr_pt_position_z"), ("id",), ("post_pt_root_id",)]
    semantics = {c["name"]: c["semantic"] for c in derived[0].spec["columns"]}
    assert semantics["ctr_pt_position_x"] == "position_axis" and semantics["id_partition"] == "other"

    registry = str(tmp_path / "registry")
    shutil.copytree(example_registry, registry)
    publish_derived(derived, registry)
    docs = Registry(registry).documents()
    by_name = group_versions(docs)
    syn = next(d for d in docs if d.ref == "synapse_embeddings@1")
    facts = {f.column: f for f in document_join_facts(syn, by_name)}
    assert facts["id"].exports == {1078: "synapses_pni_2@v1078"}
    plan = plan_join("synapse_embeddings", "synapses_pni_2", 1078, by_name)
    assert plan.verdict == "ok" and (plan.keys[0].left, plan.keys[0].right) == ("id", "id")
    assert "synapses_pni_2.id ids" in plan.keys[0].why and plan.stability == "stable"
    # the plan's SQL over the real tables: every synapse finds its export row
    import duckdb
    from deltalake import DeltaTable

    con = duckdb.connect()
    con.register("synapse_embeddings@1", pads.dataset(syn.location, partitioning="hive").to_table())
    export = next(d for d in docs if d.ref == "synapses_pni_2@v1078")
    con.register("synapses_pni_2@v1078", DeltaTable(export.location).to_pyarrow_table())
    assert con.sql(f"SELECT count(*) FROM ({plan.sql})").fetchone()[0] == len(syn_ids) == 2000
