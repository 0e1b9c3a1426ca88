"""examples/make_tables.py writes tables every inspector can read, locally and on S3."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from registry.inspect import inspect_table

ROOT = Path(__file__).resolve().parents[2]


def _make_tables():
    spec = importlib.util.spec_from_file_location("make_tables", ROOT / "examples" / "make_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check(written: dict) -> None:
    syn = inspect_table(written["synapse_embeddings"]["location"], "parquet")
    assert syn.row_count == 2000 and syn.partition_columns == ["split"]
    assert {c.name: c.type for c in syn.columns}["embedding"] == "fixed_size_list<float>[16]"

    cells = written["cell_types"]
    assert inspect_table(cells["location"], "delta", table_version=0).row_count == 600
    latest = inspect_table(cells["location"], "delta")
    assert latest.table_version == 1 and latest.row_count == 800
    assert {c.name: c.type for c in latest.columns} == cells["schema"]

    morph = written["morphology_features"]
    got = inspect_table(morph["location"], "iceberg")
    assert got.row_count == 500 and got.partition_columns == ["cell_class"]
    assert {f.partition["cell_class"] for f in got.files} == {"excitatory", "inhibitory"}
    first = min(morph["snapshots"], key=lambda s: morph["snapshots"][s])
    assert inspect_table(morph["location"], "iceberg", table_version=int(first)).row_count == 300

    emb = inspect_table(written["cell_embeddings"]["location"], "lance")
    assert emb.row_count == 1000 and emb.fingerprint == "lance:v1"
    assert {c.name: c.type for c in emb.columns}["embedding"] == "fixed_size_list<float>[32]"


def test_local(tmp_path, capsys):
    module = _make_tables()
    assert module.main(["--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert str(tmp_path / "minnie65_phase3_v1" / "cell_types.delta") in printed
    _check(module.make_tables(str(tmp_path)))  # a second run replaces the tables in place


def test_deterministic_data(tmp_path):
    import pyarrow.dataset as ds

    module = _make_tables()
    a = module.make_tables(str(tmp_path / "a"))
    b = module.make_tables(str(tmp_path / "b"))
    read = lambda w: ds.dataset(w["synapse_embeddings"]["location"], partitioning="hive").to_table().sort_by("id")
    assert read(a).equals(read(b))


@pytest.mark.s3
def test_on_s3(s3_bucket):
    module = _make_tables()
    written = module.make_tables(f"s3://{s3_bucket}/examples")
    assert all(w["location"].startswith(f"s3://{s3_bucket}/examples/minnie65_phase3_v1/") for w in written.values())
    _check(written)
