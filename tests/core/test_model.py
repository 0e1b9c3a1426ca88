"""The model: every field error names its path; published documents carry registry_schema 1."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from registry.model import (
    REGISTRY_SCHEMA,
    Axis,
    DatasetDocument,
    DatasetSpec,
    document_json_schema,
    format_validation_error,
    upgrade_document,
)

from .conftest import base_spec


def problems(data: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        DatasetSpec.from_dict(data)
    return dict(format_validation_error(info.value))


def test_valid_spec_round_trips():
    spec = DatasetSpec.from_dict(base_spec("s3://b/t"))
    again = DatasetSpec.from_dict(spec.to_dict())
    assert again == spec
    assert spec.ref == "synapse_features@1"


def test_wrong_enum_names_the_column_path():
    data = base_spec("/x")
    data["columns"][3]["semantic"] = "rootid"
    found = problems(data)
    assert "columns[3].semantic" in found
    assert "'rootid' is not one of" in found["columns[3].semantic"]
    assert "'root_id'" in found["columns[3].semantic"]


def test_missing_fields_and_typos_are_all_reported():
    data = base_spec("/x")
    del data["title"], data["datastack"]
    data["formatt"] = "parquet"
    found = problems(data)
    assert found["title"] == "is required"
    assert found["datastack"] == "is required"
    assert "formatt" in found and "not a known field" in found["formatt"]


@pytest.mark.parametrize(
    "field, value, path",
    [
        ("name", "Synapse-Features", "name"),
        ("format", "csv", "format"),
        ("materialization", {"version": "soon"}, "materialization.version"),
        ("materialization", {}, "materialization"),
        ("retention", {"expires_on": "2027-01-01", "ttl_days": 3}, "retention"),
        ("owners", [{"name": "x", "email": "not-an-email"}], "owners[0].email"),
        ("lineage", {"derived_from": ["nope"]}, "lineage.derived_from"),
        ("references", [{"column": "id", "annotation_table": "a", "dataset": "b@1"}], "references[0]"),
        ("references", [{"column": "id", "annotation_table": "a", "stability": "rock"}], "references[0].stability"),
        ("format_options", {"metadata_location": "x"}, "format_options"),
        ("invalidation_radius_nm", -1, "invalidation_radius_nm"),
    ],
)
def test_bad_values_name_their_path(field, value, path):
    data = base_spec("/x")
    data[field] = value
    assert path in problems(data)


def test_reference_to_undeclared_column_is_an_error():
    data = base_spec("/x")
    data["references"][0]["column"] = "nope"
    assert "references[0].column" in problems(data)


def test_duplicate_columns_are_an_error():
    data = base_spec("/x")
    data["columns"].append({"name": "id"})
    assert "declared twice: id" in problems(data)["columns"]


def test_axis_and_point_group_are_inferred_from_suffix():
    spec = DatasetSpec.from_dict(base_spec("/x"))
    col = spec.column("ctr_pt_position_y")
    assert col.axis == Axis.Y and col.point_group == "ctr_pt_position"


def test_position_axis_without_suffix_or_axis_is_an_error():
    data = base_spec("/x")
    data["columns"].append({"name": "depth", "semantic": "position_axis"})
    assert "columns[7]" in problems(data)


def test_explicit_axis_wins_over_suffix():
    data = base_spec("/x")
    data["columns"].append({"name": "soma_depth", "semantic": "position_axis", "axis": "y", "point_group": "soma"})
    col = DatasetSpec.from_dict(data).column("soma_depth")
    assert (col.axis, col.point_group) == (Axis.Y, "soma")


def _document(location: str = "/x") -> dict:
    data = base_spec(location)
    data.update(
        table_version=0,
        inspected={
            "columns": [{"name": c["name"], "type": "int64", "nullable": True} for c in data["columns"]],
            "row_count": 10,
            "file_count": 1,
            "fingerprint": "parquet:sha256:00",
        },
        published_at="2026-11-24T00:00:00Z",
        published_by="ada@lab",
    )
    return data


def test_document_gets_registry_schema_and_validates_against_json_schema():
    doc = DatasetDocument.from_dict(_document())
    assert doc.registry_schema == REGISTRY_SCHEMA == 1
    jsonschema.validate(json.loads(json.dumps(doc.to_dict())), document_json_schema())


def test_json_schema_rejects_a_document_edited_into_an_invalid_state():
    data = json.loads(json.dumps(DatasetDocument.from_dict(_document()).to_dict()))
    data["status"] = "retired"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, document_json_schema())
    with pytest.raises(ValidationError):
        DatasetDocument.from_dict(data)


def test_document_columns_must_exist_in_inspected_schema():
    data = _document()
    data["inspected"]["columns"] = data["inspected"]["columns"][:2]
    with pytest.raises(ValidationError) as info:
        DatasetDocument.from_dict(data)
    paths = dict(format_validation_error(info.value))
    assert any(p.startswith("columns[2].name") for p in paths)


def test_older_documents_are_upgraded_on_read_not_rewritten():
    data = _document()
    data.pop("registry_schema", None)
    upgraded = upgrade_document(data)
    assert upgraded["registry_schema"] == REGISTRY_SCHEMA and "registry_schema" not in data
    assert DatasetDocument.from_dict(data).registry_schema == REGISTRY_SCHEMA


def test_future_registry_schema_is_refused():
    data = _document()
    data["registry_schema"] = REGISTRY_SCHEMA + 1
    with pytest.raises(ValidationError):
        DatasetDocument.from_dict(data)


def test_schema_1_export_documents_get_their_layout_variants_as_layouts():
    data = _document()
    data["registry_schema"] = 1
    data["provenance"] = {"parameters": {"layout_variants": [
        {"location": data["location"], "variant": "id", "order_by": ["id"]},
        {"location": "s3://x/syn/post_pt_root_id", "variant": "post_pt_root_id", "order_by": ["post_pt_root_id"],
         "table_version": 3, "row_count": 10},
        {"location": "s3://x/syn/by-pre", "variant": "by-pre", "order_by": ["pre_pt_root_id"]},
    ]}}
    doc = DatasetDocument.from_dict(data)
    assert doc.registry_schema == 1
    assert [(lay.name, lay.ordering, lay.manifest) for lay in doc.layouts] == [
        ("post_pt_root_id", ["post_pt_root_id"], False), ("by_pre", ["pre_pt_root_id"], False)]
    assert doc.layouts[0].table_version == 3
    assert data["registry_schema"] == 1  # the stored document is not rewritten


def test_layout_names_are_unique_and_not_the_own_location():
    data = _document()
    data["layouts"] = [{"name": "a", "location": "s3://x/a"}, {"name": "a", "location": "s3://x/b"}]
    with pytest.raises(ValidationError, match="used twice"):
        DatasetDocument.from_dict(data)
    data["layouts"] = [{"name": "a", "location": data["location"]}]
    with pytest.raises(ValidationError, match="own location"):
        DatasetDocument.from_dict(data)
