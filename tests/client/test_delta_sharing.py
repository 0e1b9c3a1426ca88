"""The real `delta-sharing` client from PyPI (in its own venv: it pins pyarrow<=23.0.1, fsspec and
requests below ours) reads every shareable example table through a profile file written by
`Catalog.delta_sharing_profile`, against the signer running under functions-framework on loopback.
Exact rows, partition values, `limit`, predicate hints and the refusals are checked."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from registry import Catalog
from tests.signer.conftest import DATASTACK
from tests.signer.tables import ROWS, region_counts

pytestmark = pytest.mark.s3
REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("ds_client.py")
# Installed by `make delta-sharing-client` (a `make test` prerequisite, mk/reads.mk).
CLIENT_PYTHON = Path(os.environ.get("DELTA_SHARING_PYTHON") or REPO / ".cache/delta-sharing-venv/bin/python")
SHAREABLE = {"plain": None, "hive": "region", "delta": "region", "iceberg": None}


@pytest.fixture(scope="module")
def client_python() -> Path:
    if not CLIENT_PYTHON.exists():
        pytest.skip(f"the delta-sharing client venv is missing ({CLIENT_PYTHON}); `make delta-sharing-client` makes it")
    return CLIENT_PYTHON


def outside(python: Path, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    done = subprocess.run([str(python), str(SCRIPT)], input=json.dumps(tasks), capture_output=True, text=True,
                          env=env, timeout=240, cwd="/")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def profile(stack, tmp_path_factory) -> Path:
    cat = Catalog(stack.site_url, signer_url=stack.signer_url, token=stack.token)
    return cat.delta_sharing_profile(str(tmp_path_factory.mktemp("ds") / "registry.share"))


def test_profile_file(profile, stack):
    data = json.loads(profile.read_text())
    assert data == {"shareCredentialsVersion": 1, "endpoint": stack.signer_url + "/delta-sharing",
                    "bearerToken": stack.token}
    assert stat.S_IMODE(profile.stat().st_mode) == 0o600


def test_listing_maps_datastack_dataset_version(client_python, profile):
    [got] = outside(client_python, [{"kind": "list", "profile": str(profile)}])
    assert got["ok"], got
    assert got["shares"] == [DATASTACK]
    for name in [*SHAREABLE, "lance"]:
        assert f"{DATASTACK}.syn_{name}.latest" in got["tables"]
        assert f"{DATASTACK}.syn_{name}.1" in got["tables"]


def test_every_shareable_table_reads_exactly(client_python, profile, stack):
    tasks = []
    for name, part in SHAREABLE.items():
        for table in ("latest", "1"):
            tasks.append({"kind": "pandas", "url": f"{profile}#{DATASTACK}.syn_{name}.{table}", "partition": part})
    results = outside(client_python, tasks)
    for task, got in zip(tasks, results):
        assert got["ok"], (task, got["error"], got.get("trace"))
        assert got["rows"] == ROWS, task
        assert got["ids"] == list(range(ROWS)), task
        if task["partition"]:
            assert got["groups"] == region_counts(), task  # partition values restored from the protocol
    names = {t["url"].split("#")[1].split(".")[1]: r for t, r in zip(tasks, results)}
    assert "region" not in names["syn_plain"]["columns"]
    assert "region" in names["syn_iceberg"]["columns"]


def test_limit_predicates_version_and_metadata(client_python, profile):
    hive = f"{profile}#{DATASTACK}.syn_hive.latest"
    delta = f"{profile}#{DATASTACK}.syn_delta.1"
    only_b = json.dumps({"op": "equal", "children": [{"op": "column", "name": "region", "valueType": "string"},
                                                    {"op": "literal", "value": "b", "valueType": "string"}]})
    not_a = json.dumps({"op": "not", "children": [{"op": "equal", "children": [
        {"op": "column", "name": "region", "valueType": "string"},
        {"op": "literal", "value": "a", "valueType": "string"}]}]})
    # a data column: decided from the per-file min/max recorded at publish (region c holds ids 2..119)
    on_data = json.dumps({"op": "greaterThan", "children": [{"op": "column", "name": "id", "valueType": "long"},
                                                           {"op": "literal", "value": "118", "valueType": "long"}]})
    tasks = [
        {"kind": "pandas", "url": hive, "limit": 7},
        {"kind": "pandas", "url": hive, "jsonPredicateHints": only_b, "partition": "region"},
        {"kind": "pandas", "url": delta, "jsonPredicateHints": not_a, "partition": "region"},
        {"kind": "pandas", "url": delta, "jsonPredicateHints": on_data, "partition": "region"},
        {"kind": "pandas", "url": delta, "version": 0, "partition": "region"},
        {"kind": "pandas", "url": delta, "version": 5},
        {"kind": "version", "url": delta},
        {"kind": "metadata", "url": hive},
        {"kind": "pandas", "url": delta, "use_delta_format": True, "partition": "region"},  # responseformat=delta
    ]
    limit, b, not_a_got, data_pred, v0, v5, version, meta, kernel = outside(client_python, tasks)
    counts = region_counts()
    assert limit["ok"] and limit["rows"] == 7
    assert b["ok"] and b["groups"] == {"b": counts["b"]} and b["rows"] == counts["b"]
    assert not_a_got["ok"] and not_a_got["groups"] == {"b": counts["b"], "c": counts["c"]}
    assert data_pred["ok"] and data_pred["groups"] == {"c": counts["c"]}  # the server kept one file
    assert v0["ok"] and v0["rows"] == ROWS
    assert not v5["ok"] and "pinned to table version 0" in v5["error"]
    assert version == {"ok": True, "version": 0}
    assert meta["ok"] and meta["partition_columns"] == ["region"]
    fields = {f["name"]: f["type"] for f in meta["schema"]["fields"]}
    assert fields == {"id": "long", "pt_root_id": "long", "score": "double", "region": "string"}
    assert kernel["ok"], kernel  # delta-kernel reads the signed URLs from the delta-format answer
    assert kernel["rows"] == ROWS and kernel["groups"] == counts


def test_not_shareable_say_why(client_python, profile):
    tasks = [
        {"kind": "pandas", "url": f"{profile}#{DATASTACK}.syn_lance.latest"},
        {"kind": "pandas", "url": f"{profile}#{DATASTACK}.syn_delta_dv.latest"},
        {"kind": "pandas", "url": f"{profile}#{DATASTACK}.syn_nope.latest"},
    ]
    lance, dv, missing = outside(client_python, tasks)
    assert not lance["ok"] and "Lance" in lance["error"] and "FEATURE_NOT_SUPPORTED" in lance["error"]
    assert not dv["ok"] and "deletion vectors" in dv["error"]
    assert not missing["ok"] and "RESOURCE_DOES_NOT_EXIST" in missing["error"]
