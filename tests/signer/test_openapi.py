"""docs/openapi.yaml describes what the signer really answers (validated with jsonschema)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from .conftest import TOKENS, call

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def schema(name: str) -> dict:
    doc = yaml.safe_load(SPEC.read_text())
    text = json.dumps(doc["components"]["schemas"]).replace("#/components/schemas/", "#/$defs/")
    defs = json.loads(text)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs, "$ref": f"#/$defs/{name}"}


def test_answers_match_the_openapi_document(make_signer, put_doc, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    put_doc("syn", "1", "s3://lab-tables/features/syn",
            files=[{"path": "region=a/p.parquet", "size": 5, "rows": 2, "partition": {"region": "a"}}])
    signer = make_signer()
    ok = call(signer, {"dataset": "syn", "version": "1"})
    jsonschema.validate(ok.body, schema("SignResponse"))
    for resp in (call(signer, {"dataset": "syn"}, token=None), call(signer, {"dataset": "syn"}, token=TOKENS["tos"]),
                 call(signer, raw=b"{"), call(signer, {"dataset": "zzz"})):
        jsonschema.validate(resp.body, schema("Error"))
    jsonschema.validate(call(signer, method="GET", path="/health", token=None).body, schema("Health"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**ok.body, "mode": "carrier-pigeon"}, schema("SignResponse"))
