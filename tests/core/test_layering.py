"""The core (model, storage seam, documents, inspection, publish, client) imports nothing above it:
importing any of its modules loads neither `site_builder` nor `signer_function`, and the signer
loads no table library. Checked in a fresh interpreter per module (earlier imports hide nothing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORE = ["registry", "registry.model", "registry.errors", "registry.storage", "registry.documents",
        "registry.inspect", "registry.inspect.parquet", "registry.publish", "registry.source", "registry.client",
        "registry.ops.events", "registry.ops.deploy", "registry.ops.exports", "registry.ops.package"]
ABOVE = ("site_builder", "signer_function")
HEAVY = ("pyarrow", "deltalake", "pyiceberg", "lance", "pandas", "polars", "duckdb", "s3fs", "gcsfs", "mkdocs")


def _loaded(module: str) -> list[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_nothing_above_it(module):
    assert not set(_loaded(module)) & set(ABOVE)


@pytest.mark.parametrize("module", ["signer_function.main", "signer_function.aws_lambda"])
def test_signer_entry_points_load_no_table_library(module):
    assert not set(_loaded(module)) & set(HEAVY)


def test_cli_needs_no_pyarrow():
    assert "pyarrow" not in _loaded("registry.cli")
