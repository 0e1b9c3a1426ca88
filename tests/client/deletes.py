"""Tables whose file list is not the table: Delta with a deletion vector and Iceberg with a positional
delete file, on the S3 server, published into the client stack's registry.

The deletes are made with the inspection tests' helpers (tests/inspect/conftest.py: a deletion vector
added to the Delta log by hand per the Delta protocol, a delete file committed through pyiceberg's
fast append). The rows that survive are worked out independently of any engine: the deleted positions
are looked up in the affected data file with pyarrow, so a reader that ignores the deletes fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from tests.inspect.conftest import add_deletion_vector, add_position_delete, write_delta, write_iceberg

DELETED_POSITIONS = [0, 2, 4]
MAT_VERSION = 1181  # apart from the other stack tables (tests count the 1078 ones)


def _upload_dir(local: Path, remote: str) -> None:
    """Copy a local table directory to `remote` (s3://...), file by file. Delta logs hold relative
    paths, so the table moves as is."""
    from registry.storage import filesystem

    fs, root = filesystem(remote)
    for path in sorted(local.rglob("*")):
        if path.is_file():
            fs.put_file(str(path), f"{root.rstrip('/')}/{path.relative_to(local).as_posix()}")


def write_delete_tables(bucket: str, tmp_dir: str) -> dict[str, dict[str, Any]]:
    """Write both tables under s3://bucket/tables/; returns per table the spec parts and the ids that
    survive the deletes (`expected_ids`) and all ids physically in the data files (`all_ids`)."""
    base = f"s3://{bucket}/tables"
    out: dict[str, dict[str, Any]] = {}

    # Delta: written locally (the helper edits the log on disk), then uploaded. Unpartitioned, so no
    # `%3D` object names (deltalake's DataFusion reader was seen hanging on ranged GETs of those on moto).
    local = Path(tmp_dir) / "delta_dv"
    fixture = write_delta(str(local), partition_by=None, configuration={"delta.enableDeletionVectors": "true"})
    marked = add_deletion_vector(str(local), DELETED_POSITIONS)
    physical = pq.read_table(local / marked)["id"].to_pylist()
    gone = {physical[p] for p in DELETED_POSITIONS}
    all_ids = fixture.versions[-1]["id"].to_pylist()
    _upload_dir(local, f"{base}/delta_dv")
    out["delta_dv"] = {"location": f"{base}/delta_dv", "format": "delta",
                       "all_ids": sorted(all_ids), "expected_ids": sorted(set(all_ids) - gone)}

    # Iceberg: metadata holds absolute paths, so written straight to the S3 server.
    db = Path(tmp_dir) / "iceberg_deletes"
    db.mkdir(parents=True, exist_ok=True)
    ice = write_iceberg(f"{base}/ice_deletes", db)
    all_ids = sorted(ice.table.scan(selected_fields=("id",)).to_arrow()["id"].to_pylist())  # before the delete
    first = next(iter(ice.table.scan().plan_files())).file.file_path
    delete_path = add_position_delete(ice.table, db, DELETED_POSITIONS)
    ice.table.refresh()
    with ice.table.io.new_input(first).open() as fh:
        physical = pq.read_table(fh)["id"].to_pylist()
    gone = {physical[p] for p in DELETED_POSITIONS}
    out["iceberg_deletes"] = {"location": ice.location, "format": "iceberg",
                              "format_options": {"metadata_location": ice.table.metadata_location},
                              "delete_file": delete_path,
                              "all_ids": all_ids, "expected_ids": sorted(set(all_ids) - gone)}
    return out


def publish_delete_tables(tables: dict[str, dict[str, Any]], registry_uri: str, datastack: str) -> None:
    from registry.publish import publish

    for name, t in tables.items():
        spec = {"name": f"syn_{name}", "version": "1", "title": f"synapse features with deletes ({name})",
                "datastack": datastack, "materialization": {"version": MAT_VERSION},
                "location": t["location"], "format": t["format"]}
        if t.get("format_options"):
            spec["format_options"] = t["format_options"]
        publish(spec, registry_uri)

