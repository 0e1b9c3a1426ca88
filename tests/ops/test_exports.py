"""The export scanner on a MaterializationEngine-shaped bucket written with deltalake on moto S3."""

from __future__ import annotations

import yaml
import pytest
from click.testing import CliRunner

from registry.cli import main
from registry.documents import Registry
from registry.ops.exports import column_semantic, find_exports, group_exports, publish_derived, scan

pytestmark = pytest.mark.s3


def test_finds_layout_and_groups_variants(export_bucket):
    tables = find_exports(export_bucket.root)
    # the stray table outside `{datastack}/v{N}/{table}` is not guessed about
    assert all("scratch" not in t.location for t in tables)
    assert len(tables) == 5
    groups = group_exports(tables)
    keys = [(g.datastack, g.mat_version, g.table, len(g.copies)) for g in groups]
    assert keys == [
        ("minnie65_phase3_v1", 943, "nucleus_detection_v0", 1),
        ("minnie65_phase3_v1", 943, "synapses_pni_2", 3),
        ("minnie65_phase3_v1", 1078, "synapses_pni_2", 1),
    ]


def test_derived_spec_semantics_reference_provenance(export_bucket):
    derived = {d.ref: d for d in scan(f"{export_bucket.root}/{export_bucket.datastack}/", resolution=[4, 4, 40])}
    assert sorted(derived) == ["nucleus_detection_v0@v943", "synapses_pni_2@v1078", "synapses_pni_2@v943"]
    syn = derived["synapses_pni_2@v943"].spec
    sem = {c["name"]: c["semantic"] for c in syn["columns"]}
    assert sem["id"] == "annotation_id"
    assert sem["pre_pt_root_id"] == sem["post_pt_root_id"] == "root_id"
    assert sem["pre_pt_supervoxel_id"] == "supervoxel_id"
    assert sem["pre_pt_position_x"] == "position_axis"
    assert sem["ctr_pt_position"] == "position"
    assert sem["size"] == sem["valid"] == sem["pre_pt_root_id_label"] == "other"
    pos = next(c for c in syn["columns"] if c["name"] == "pre_pt_position_z")
    assert pos["unit"] == "voxel" and pos["resolution"] == [4, 4, 40]
    assert syn["references"] == [{
        "column": "id", "annotation_table": "synapses_pni_2", "target_column": "id",
        "cardinality": "one_to_one", "stability": "stable",
        "description": "the CAVE annotation table this export was materialized from",
    }]
    assert syn["materialization"] == {"version": 943} and syn["datastack"] == "minnie65_phase3_v1"
    params = syn["provenance"]["parameters"]
    assert syn["provenance"]["pipeline"] == "materialization export"
    # three copies -> one dataset; the id-ordered copy is the location, all recorded with their order
    orders = sorted(tuple(v["order_by"]) for v in params["layout_variants"])
    assert orders == [("id",), ("post_pt_root_id",), ("pre_pt_root_id",)]
    assert syn["location"].endswith("/v943/synapses_pni_2/id")
    assert all(v["row_count"] == 40 for v in params["layout_variants"])
    # the table dir itself as the Delta table: no variant, no order
    v1078 = derived["synapses_pni_2@v1078"].spec["provenance"]["parameters"]["layout_variants"]
    assert v1078[0]["variant"] == "(table root)" and v1078[0]["order_by"] == []


def test_semantic_respects_types():
    assert column_semantic("pt_root_id", "string")[0] == "other"
    assert column_semantic("pt_root_id", "uint64")[0] == "root_id"
    assert column_semantic("pt_position", "fixed_size_list<int32>[3]")[0] == "position"
    assert column_semantic("pt_position", "string")[0] == "other"
    assert column_semantic("target_id", "int64")[0] == "annotation_id"


def test_cli_dry_run_yaml_then_publish_then_skip(export_bucket, tmp_path):
    reg = str(tmp_path / "reg")
    runner = CliRunner()
    uri = f"{export_bucket.root}/{export_bucket.datastack}/"
    dry = runner.invoke(main, ["scan-exports", uri, "--registry", reg, "--dry-run", "--resolution", "4,4,40"])
    assert dry.exit_code == 0, dry.output
    specs = [s for s in yaml.safe_load_all(dry.stdout) if s]
    assert sorted(f"{s['name']}@{s['version']}" for s in specs) == [
        "nucleus_detection_v0@v943", "synapses_pni_2@v1078", "synapses_pni_2@v943"]
    assert Registry(reg).documents() == []  # dry run wrote nothing

    # an edited spec from the dry run publishes as it is (the YAML is a real spec)
    from registry.publish import publish
    edited = next(s for s in specs if s["name"] == "nucleus_detection_v0")
    edited["title"] = "Nuclei, edited by a person"
    assert publish(edited, reg).written

    first = runner.invoke(main, ["scan-exports", uri, "--registry", reg, "--publish", "--json"])
    assert first.exit_code == 0, first.output
    import json
    report = {r["ref"]: r["action"] for r in json.loads(first.stdout)}
    assert report == {"nucleus_detection_v0@v943": "skipped", "synapses_pni_2@v943": "published",
                      "synapses_pni_2@v1078": "published"}
    doc = Registry(reg).get("synapses_pni_2", "v943")
    assert doc.inspected.row_count == 40 and doc.table_version is not None
    assert "materialization-export" in doc.tags
    assert Registry(reg).get("nucleus_detection_v0", "v943").title == "Nuclei, edited by a person"

    again = runner.invoke(main, ["scan-exports", uri, "--registry", reg, "--publish", "--json"])
    assert again.exit_code == 0
    assert {r["action"] for r in json.loads(again.stdout)} == {"skipped"}


def test_changed_export_is_a_conflict_not_an_overwrite(export_bucket, tmp_path):
    from tests.ops.conftest import cave_table, write_export

    reg = str(tmp_path / "reg")
    derived = scan(f"{export_bucket.root}/{export_bucket.datastack}/v1078/")
    assert [o.action for o in publish_derived(derived, reg)] == ["published"]
    before = Registry(reg).get("synapses_pni_2", "v1078").to_dict()
    # the export is rewritten in place (new Delta version): same name@version, different table
    write_export(f"{export_bucket.root}/{export_bucket.datastack}/v1078/synapses_pni_2", cave_table(3, seed=5), None)
    outcome = publish_derived(scan(f"{export_bucket.root}/{export_bucket.datastack}/v1078/"), reg)
    assert [o.action for o in outcome] == ["conflict"]
    assert "different table" in outcome[0].detail
    assert Registry(reg).get("synapses_pni_2", "v1078").to_dict() == before


def test_export_copies_become_layouts(export_bucket):
    derived = {d.ref: d for d in scan(f"{export_bucket.root}/{export_bucket.datastack}/")}
    syn = derived["synapses_pni_2@v943"].spec
    assert sorted((lay["name"], tuple(lay["ordering"])) for lay in syn["layouts"]) == [
        ("post_pt_root_id", ("post_pt_root_id",)), ("pre_pt_root_id", ("pre_pt_root_id",))]
    assert all(lay["location"] != syn["location"] for lay in syn["layouts"])
