"""The bundled example registry: every spec validates, and `make demo`'s publish step works on a
real S3 server with tables written by their own libraries."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from feature_registry.demo import EXAMPLE_ORDER, SPECS, publish_examples, write_example_tables
from registry.documents import Registry
from registry.model import Status
from registry.publish import load_spec

pytestmark = pytest.mark.s3


def test_every_example_spec_validates():
    names = sorted(p.name for p in Path(SPECS).glob("*.yaml"))
    assert names == sorted(EXAMPLE_ORDER)
    formats = {load_spec(SPECS / n).format.value for n in names}
    assert formats == {"parquet", "delta", "iceberg", "lance"}


def test_example_registry_on_s3(s3_env, tmp_registry):
    s3 = boto3.client("s3", endpoint_url=s3_env, region_name="us-east-1")
    if "demo-tables" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket="demo-tables")
    write_example_tables()
    results = publish_examples(tmp_registry)
    assert [r.document.ref for r in results] == [
        "cell_types@1", "cell_types@2", "morphology_features@1", "cell_embeddings@1", "synapse_embeddings@1"]
    reg = Registry(tmp_registry)
    old, new = reg.get("cell_types", "1"), reg.get("cell_types")
    assert old.status == Status.DEPRECATED and old.lineage.superseded_by == "cell_types@2"
    assert (old.table_version, old.inspected.row_count) == (0, 600)
    assert (new.version, new.table_version, new.inspected.row_count) == ("2", 1, 800)
    synapses = reg.get("synapse_embeddings")
    assert synapses.inspected.partition_columns == ["split"] and synapses.inspected.row_count == 2000
    assert {c.subject: c.ok for c in synapses.checks if c.check == "referenced_dataset_exists"} == {"cell_types@2": True}
    assert reg.get("cell_embeddings").inspected.reader_features.get("needs_credentials") is True
    morph = reg.get("morphology_features")
    assert morph.inspected.fingerprint == f"iceberg:snapshot:{morph.table_version}"
    # Re-running the demo's publish step against the kept registry changes nothing.
    assert publish_examples(tmp_registry) == []
    assert reg.get("cell_types", "1").history[-1].action == "deprecated" and len(reg.get("cell_types", "1").history) == 2
