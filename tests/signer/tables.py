"""Small real tables on the S3 server, written by each format's own library, and published into a
registry with `registry.publish.publish` (which inspects them: manifests come from the tables)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

ROWS = 120
REGIONS = ("a", "b", "c")


def arrow_table() -> pa.Table:
    n = ROWS
    return pa.table(
        {
            "id": pa.array(range(n), pa.int64()),
            "pt_root_id": pa.array([864691135000000000 + i for i in range(n)], pa.int64()),
            "score": pa.array([i / 10 for i in range(n)], pa.float64()),
            "region": pa.array([REGIONS[i % 3] for i in range(n)], pa.string()),
        }
    )


def region_counts() -> dict[str, int]:
    return {r: sum(1 for i in range(ROWS) if REGIONS[i % 3] == r) for r in REGIONS}


def write_tables(bucket: str, tmp_dir: str) -> dict[str, dict[str, Any]]:
    """Write parquet, hive parquet, delta, iceberg and lance tables under s3://bucket/tables/."""
    import deltalake
    import lance
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    from registry.storage import filesystem, object_store_options, pyiceberg_properties

    table = arrow_table()
    base = f"s3://{bucket}/tables"
    fs, _ = filesystem(base)
    specs: dict[str, dict[str, Any]] = {}

    pq.write_table(table.drop_columns(["region"]), f"{bucket}/tables/plain.parquet", filesystem=PyFileSystem(FSSpecHandler(fs)))
    specs["plain"] = {"location": f"{base}/plain.parquet", "format": "parquet", "partitions": []}

    pads.write_dataset(
        table, f"{bucket}/tables/hive", format="parquet", filesystem=PyFileSystem(FSSpecHandler(fs)),
        partitioning=["region"], partitioning_flavor="hive",
    )
    specs["hive"] = {"location": f"{base}/hive", "format": "parquet", "partitions": ["region"],
                     "format_options": {"partitioning": "hive"}}

    deltalake.write_deltalake(f"{base}/delta", table, partition_by=["region"], storage_options=object_store_options(base))
    specs["delta"] = {"location": f"{base}/delta", "format": "delta", "partitions": ["region"]}

    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog("signer_tests", uri=f"sqlite:///{tmp_dir}/iceberg.db", warehouse=f"{base}/warehouse",
                         **pyiceberg_properties(base))
    catalog.create_namespace("feat")
    ice = catalog.create_table("feat.syn", schema=table.schema, location=f"{base}/iceberg")
    ice.append(table)
    ice = catalog.load_table("feat.syn")
    specs["iceberg"] = {"location": f"{base}/iceberg", "format": "iceberg", "partitions": [],
                        "format_options": {"metadata_location": ice.metadata_location}}

    lance.write_dataset(table, f"{base}/vecs.lance", storage_options=object_store_options(base))
    specs["lance"] = {"location": f"{base}/vecs.lance", "format": "lance", "partitions": []}
    return specs


def publish_all(specs: dict[str, dict[str, Any]], registry_uri: str, datastack: str) -> None:
    from registry.publish import publish

    for name, s in specs.items():
        spec = {
            "name": f"syn_{name}",
            "version": "1",
            "title": f"synapse features ({name})",
            "datastack": datastack,
            "materialization": {"version": 1078},
            "location": s["location"],
            "format": s["format"],
        }
        if s.get("format_options"):
            spec["format_options"] = s["format_options"]
        publish(spec, registry_uri)
