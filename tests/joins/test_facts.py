"""Join facts (registry.joins) on the example registry and on edge cases: one answer for the site,
`show`, the client and join-plan."""

from __future__ import annotations

import copy
import json

from registry.documents import Registry
from registry.joins import (
    NO_SHARED_VERSION,
    OK,
    TARGET_DEPRECATED,
    TARGET_MISSING,
    document_join_facts,
    group_versions,
    referenced_by,
)
from registry.model import DatasetDocument


def _catalog(registry: str):
    docs = Registry(registry).documents()
    return {d.ref: d for d in docs}, group_versions(docs)


def test_example_references(example_registry):
    docs, by_name = _catalog(example_registry)
    syn = {f.column: f for f in document_join_facts(docs["synapse_embeddings@1"], by_name)}
    # the 1078 synapse table declared its cell join against cell_types@2 (1300/1412): flagged
    post = syn["post_pt_root_id"]
    assert (post.verdict, post.valid_at, post.joinable_target_versions) == (NO_SHARED_VERSION, [], ["1"])
    assert post.target == "cell_types@2" and post.stability == "changes_with_proofreading"
    assert "no shared version" in post.notes[0] and "cell_types@1" in post.notes[0]
    # annotation tables, never verified against CAVE: assumed present at the source's version
    assert (syn["id"].verdict, syn["id"].valid_at, syn["id"].stability) == (OK, [1078], "stable")
    assert "not verified" in syn["id"].notes[0]
    # the unpinned reference resolves to the newest published version sharing a version
    morph = document_join_facts(docs["morphology_features@1"], by_name)[1]
    assert (morph.verdict, morph.target, morph.pinned, morph.valid_at) == (OK, "cell_types@2", False, [1412])
    assert morph.to_json()["joinable_target_versions"] == ["2"]


def test_unpinned_falls_back_to_deprecated_and_says_so(example_registry):
    docs, by_name = _catalog(example_registry)
    data = copy.deepcopy(docs["synapse_embeddings@1"].to_dict())
    data["references"][2]["dataset"] = "cell_types"
    facts = document_join_facts(DatasetDocument.from_dict(data), by_name)[2]
    assert (facts.verdict, facts.target, facts.valid_at) == (TARGET_DEPRECATED, "cell_types@1", [1078])
    assert any("resolved to deprecated cell_types@1" in n for n in facts.notes)
    data["references"][2]["dataset"] = "no_such_dataset"
    missing = document_join_facts(DatasetDocument.from_dict(data), by_name)[2]
    assert (missing.verdict, missing.valid_at, missing.joinable_target_versions) == (TARGET_MISSING, [], [])


def test_annotation_table_checks_and_exports(example_registry):
    docs, by_name = _catalog(example_registry)
    data = copy.deepcopy(docs["cell_types@2"].to_dict())  # at 1300 and 1412; references nucleus_detection_v0
    data["checks"] += [
        {"check": "annotation_table_exists", "ok": False, "detail": "absent at version 1300",
         "checked_at": "2026-01-01T00:00:00+00:00", "subject": "nucleus_detection_v0"},
        {"check": "annotation_table_exists", "ok": True, "detail": "present at version 1412",
         "checked_at": "2026-01-01T00:00:00+00:00", "subject": "nucleus_detection_v0"},
    ]
    doc = DatasetDocument.from_dict(data)
    facts = document_join_facts(doc, by_name)[0]
    assert (facts.verdict, facts.valid_at, facts.notes) == (OK, [1412], [])
    # a registered MaterializationEngine export of that table at 1412 is where the join runs
    export = copy.deepcopy(docs["cell_types@2"].to_dict())
    export.update(name="nucleus_detection_v0", version="v1412", references=[],
                  materialization={"version": 1412},
                  provenance={"pipeline": "materialization export",
                              "parameters": {"annotation_table": "nucleus_detection_v0"}})
    with_export = {**by_name, "nucleus_detection_v0": [DatasetDocument.from_dict(export)]}
    assert document_join_facts(doc, with_export)[0].exports == {1412: "nucleus_detection_v0@v1412"}
    data["checks"][-1]["ok"] = False
    gone = document_join_facts(DatasetDocument.from_dict(data), by_name)[0]
    assert (gone.verdict, gone.valid_at) == (TARGET_MISSING, [])


def test_referenced_by(example_registry):
    _, by_name = _catalog(example_registry)
    got = referenced_by("cell_types", by_name)
    assert [(r["name"], r["version"], r["column"], r["target_version"], r["valid_at"]) for r in got] == [
        ("morphology_features", "1", "nucleus_id", "2", [1412]),
        ("synapse_embeddings", "1", "post_pt_root_id", "2", []),
    ]
    assert referenced_by("synapse_embeddings", by_name) == []


def test_columns_documented_counts_descriptions(example_registry):
    docs, _ = _catalog(example_registry)
    check = {c.check: c for c in docs["morphology_features@1"].checks}["columns_documented"]
    assert check.ok is False and check.detail.startswith("0 of 8 columns described; no description: nucleus_id")
    cells = {c.check: c for c in docs["cell_types@1"].checks}["columns_documented"]
    assert cells.ok is False and cells.detail == "4 of 6 columns described; no description: pt_supervoxel_id, confidence"


def test_reference_targets_pinned_or_unpinned():
    import pytest
    from pydantic import ValidationError

    from registry.model import Reference

    assert Reference(column="c", dataset="cell_types").pinned is False
    assert Reference(column="c", dataset="cell_types@2").pinned is True
    for bad in ("Cell_types", "cell_types@", "cell types", "@2"):
        with pytest.raises(ValidationError):
            Reference(column="c", dataset=bad)


def test_validate_and_publish_check_unpinned_references(example_registry, tmp_path):
    import yaml
    from click.testing import CliRunner

    from registry.cli import main

    spec = {"name": "probe", "version": "1", "title": "t", "datastack": "minnie65_phase3_v1",
            "materialization": {"version": 1412}, "location": "x", "format": "parquet",
            "references": [{"column": "c", "dataset": "cell_types"}, {"column": "c", "dataset": "nope"}]}
    path = tmp_path / "probe.yaml"
    path.write_text(yaml.safe_dump(spec))
    result = CliRunner().invoke(main, ["validate", str(path), "--registry", example_registry, "--json"])
    assert result.exit_code == 2
    problems = json.loads(result.stdout)[0]["problems"]
    assert problems == [{"path": "references[1].dataset", "message": f"nope is not in {example_registry}"}]
