"""Signing a layout, in-process: the layout's own manifest and location, every /sign check on it."""

from __future__ import annotations

from registry.documents import Registry
from registry.model import FileManifest

from .conftest import call, document

LOC = "s3://lab-tables/features/syn/by_id"
FILES = [{"path": "p0.parquet", "size": 10, "rows": 3, "partition": {}, "stats": {"min": {"id": 0}, "max": {"id": 2}}}]


def put(tmp_registry, layouts, manifests=None):
    doc, manifest = document("syn", "1", LOC, files=FILES, layouts=layouts)
    Registry(tmp_registry).put_new(doc, manifest, manifests)


def test_signs_the_layout_asked_for(make_signer, tmp_registry):
    lay_files = FileManifest.from_dict({"files": [{"path": "q0.parquet", "size": 11, "rows": 3},
                                                  {"path": "q1.parquet", "size": 12, "rows": 0}]})
    put(tmp_registry, [{"name": "by_root", "location": "s3://lab-tables/features/syn/by_root", "manifest": True,
                        "ordering": ["pt_root_id"], "file_count": 2},
                       {"name": "old", "location": "s3://lab-tables/features/syn/old"},
                       {"name": "far", "location": "s3://elsewhere/syn", "manifest": True}],
        {"by_root": lay_files, "far": lay_files})
    s = make_signer()
    main = call(s, {"dataset": "syn", "mode": "urls"})
    assert main.status == 200 and "layout" not in main.body and main.body["files"][0]["stats"]["max"] == {"id": 2}
    got = call(s, {"dataset": "syn", "mode": "urls", "layout": "by_root"})
    assert got.status == 200 and got.body["layout"] == "by_root"
    assert got.body["location"] == "s3://lab-tables/features/syn/by_root"
    assert [f["uri"] for f in got.body["files"]] == ["s3://lab-tables/features/syn/by_root/q0.parquet",
                                                      "s3://lab-tables/features/syn/by_root/q1.parquet"]
    old = call(s, {"dataset": "syn", "layout": "old"})
    assert old.status == 404 and "republish" in old.body["message"]
    assert call(s, {"dataset": "syn", "layout": "nope"}).status == 404
    far = call(s, {"dataset": "syn", "layout": "far"})
    assert far.status == 403 and far.body["error"] == "location_not_allowed"  # a layout is checked like a location
    assert call(s, {"dataset": "syn", "layout": "../x"}).status == 400


def test_delta_sharing_serves_layouts_as_tables(make_signer, tmp_registry):
    import json

    lay_files = FileManifest.from_dict({"files": [
        {"path": "q0.parquet", "size": 11, "rows": 3, "stats": {"min": {"id": 0}, "max": {"id": 2}}},
        {"path": "q1.parquet", "size": 12, "rows": 3, "stats": {"min": {"id": 3}, "max": {"id": 5}}}]})
    put(tmp_registry, [{"name": "by_id2", "location": "s3://lab-tables/features/syn/by_id2", "manifest": True,
                        "table_version": 7, "file_count": 2}], {"by_id2": lay_files})
    s = make_signer()
    base = "/delta-sharing/shares/minnie65_phase3_v1/schemas/syn/tables"
    names = [t["name"] for t in call(s, method="GET", path=base).body["items"]]
    assert names == ["latest", "latest__by_id2", "1", "1__by_id2"]
    assert call(s, method="HEAD", path=f"{base}/1__by_id2").headers["Delta-Table-Version"] == "7"
    hint = json.dumps({"op": "greaterThanOrEqual", "children": [{"op": "column", "name": "id", "valueType": "long"},
                                                                 {"op": "literal", "value": "4", "valueType": "long"}]})
    q = call(s, {"jsonPredicateHints": hint}, method="POST", path=f"{base}/latest__by_id2/query")
    assert q.status == 200, q.body
    files = [json.loads(x)["file"] for x in q.body_bytes().decode().splitlines()[2:]]
    assert [f["url"].split("?")[0].rsplit("/", 2)[-2:] for f in files] == [["by_id2", "q1.parquet"]]
    assert call(s, method="GET", path=f"{base}/1__nope/metadata").status == 404


def test_a_layout_manifest_is_read_under_the_same_limits_as_the_versions_own(make_signer, tmp_registry):
    """A hand-written layout manifest that is oversized or not JSON is a 404, like a bad main manifest
    (it used to be read whole through the fsspec registry, outside the signer's size cap)."""
    from pathlib import Path

    from registry.documents import layout_manifest_path

    lay = {"name": "by_root", "location": "s3://lab-tables/features/syn/by_root", "manifest": True}
    put(tmp_registry, [lay, {**lay, "name": "broken"}],
        {"by_root": FileManifest.from_dict({"files": [{"path": "q0.parquet", "size": 1, "rows": 1}]}),
         "broken": FileManifest.from_dict({"files": []})})
    Path(tmp_registry, layout_manifest_path("syn", "1", "broken")).write_bytes(b"{\"files\": [" + b"[" * 50_000)
    s = make_signer()
    s.lookup.max_manifest_bytes = 1_000
    assert call(s, {"dataset": "syn", "mode": "urls", "layout": "by_root"}).status == 200
    bad = call(s, {"dataset": "syn", "mode": "urls", "layout": "broken"})
    assert bad.status == 404 and "Traceback" not in bad.body["message"]
