"""The command line: exit codes (0 ok, 1 failure, 2 bad input), JSON for scripts, readable errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from registry.cli import main
from tests.conftest import CHILD_WARNINGS

from .conftest import base_spec


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str):
    return runner.invoke(main, list(args), catch_exceptions=False)


def test_publish_list_show_deprecate_round_trip(runner, hive_table, write_spec, tmp_registry):
    spec1 = write_spec(base_spec(hive_table[0]))
    spec2 = write_spec(base_spec(hive_table[0], version="2", lineage={"supersedes": ["synapse_features@1"]}))
    r = invoke(runner, "publish", str(spec1), "--registry", tmp_registry)
    assert r.exit_code == 0, r.output
    assert "published synapse_features@1: 2000 rows, 4 files, parquet" in r.output
    assert invoke(runner, "publish", str(spec2), "--registry", tmp_registry).exit_code == 0

    r = invoke(runner, "list", "--registry", tmp_registry, "--json")
    rows = json.loads(r.stdout)
    assert [(x["ref"], x["status"]) for x in rows] == [("synapse_features@2", "published"), ("synapse_features@1", "published")]

    r = invoke(runner, "deprecate", "synapse_features@1", "--registry", tmp_registry, "--reason", "bad voxel size",
               "--superseded-by", "synapse_features@2")
    assert r.exit_code == 0 and "deprecated synapse_features@1" in r.output

    r = invoke(runner, "list", "--registry", tmp_registry, "--status", "deprecated", "--json")
    assert [x["superseded_by"] for x in json.loads(r.stdout)] == ["synapse_features@2"]
    # deprecated versions are left out unless asked for, as on the site and in the client
    r = invoke(runner, "list", "--registry", tmp_registry, "--json")
    assert [x["ref"] for x in json.loads(r.stdout)] == ["synapse_features@2"]
    r = invoke(runner, "list", "--registry", tmp_registry, "--all", "--json")
    assert [x["ref"] for x in json.loads(r.stdout)] == ["synapse_features@2", "synapse_features@1"]

    r = invoke(runner, "show", "synapse_features", "--registry", tmp_registry, "--json")
    assert json.loads(r.stdout)["version"] == "2"
    r = invoke(runner, "show", "synapse_features@1", "--registry", tmp_registry)
    assert "deprecated: use synapse_features@2 instead" in r.output and "bad voxel size" in r.output


def test_list_filters(runner, hive_table, write_spec, tmp_registry):
    invoke(runner, "publish", str(write_spec(base_spec(hive_table[0]))), "--registry", tmp_registry)
    other = base_spec(hive_table[0], name="other", datastack="flywire_fafb_public", tags=["flywire"],
                      materialization={"versions": [630, 783]})
    invoke(runner, "publish", str(write_spec(other)), "--registry", tmp_registry)
    pick = lambda *a: [x["name"] for x in json.loads(invoke(runner, "list", "--registry", tmp_registry, "--json", *a).stdout)]
    assert pick() == ["other", "synapse_features"]
    assert pick("--datastack", "flywire_fafb_public") == ["other"]
    assert pick("--mat-version", "783") == ["other"]
    assert pick("--mat-version", "1078") == ["synapse_features"]
    assert pick("--tag", "synapse") == ["synapse_features"]
    assert pick("--status", "draft") == []
    lines = invoke(runner, "list", "--registry", tmp_registry, "--jsonl").stdout.strip().splitlines()
    assert [json.loads(x)["name"] for x in lines] == ["other", "synapse_features"]


def test_dry_run_prints_the_document_and_writes_nothing(runner, hive_table, write_spec, tmp_registry):
    r = invoke(runner, "publish", str(write_spec(base_spec(hive_table[0]))), "--registry", tmp_registry, "--dry-run")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert doc["inspected"]["row_count"] == 2000 and doc["registry_schema"] == 1
    assert list(Path(tmp_registry).iterdir()) == []


def test_draft_flag(runner, hive_table, write_spec, tmp_registry):
    r = invoke(runner, "publish", str(write_spec(base_spec(hive_table[0]))), "--registry", tmp_registry, "--draft", "--json")
    assert json.loads(r.stdout)["status"] == "draft"


def test_validate_reports_every_problem_with_its_path(runner, tmp_path, write_spec):
    good = write_spec(base_spec("/x"))
    bad_spec = base_spec("/x", format="csv")
    bad_spec["columns"][1]["semantic"] = "rootid"
    bad = write_spec(bad_spec)
    broken_doc = tmp_path / "doc.json"
    broken_doc.write_text('{"name": "x",')
    r = invoke(runner, "validate", str(good), str(bad), str(broken_doc), "--json")
    assert r.exit_code == 2
    report = {Path(x["file"]).name: x for x in json.loads(r.stdout)}
    assert report[good.name]["ok"] is True
    paths = {p["path"] for p in report[bad.name]["problems"]}
    assert {"format", "columns[1].semantic"} <= paths
    assert report["doc.json"]["problems"][0]["path"].startswith("(json) line")


def test_validate_published_document(runner, hive_table, write_spec, tmp_registry):
    invoke(runner, "publish", str(write_spec(base_spec(hive_table[0]))), "--registry", tmp_registry)
    path = Path(tmp_registry, "datasets/synapse_features/1.json")
    assert invoke(runner, "validate", str(path)).exit_code == 0
    data = json.loads(path.read_text())
    data["inspected"]["file_count"] = "many"
    path.write_text(json.dumps(data))
    r = invoke(runner, "validate", str(path))
    assert r.exit_code == 2 and "inspected.file_count" in r.output


def test_schema_prints_json_schema(runner):
    schema = json.loads(invoke(runner, "schema").stdout)
    assert schema["properties"]["registry_schema"]["default"] == 1
    assert "inspected" in schema["required"]
    spec_schema = json.loads(invoke(runner, "schema", "--spec").stdout)
    assert "inspected" not in spec_schema["properties"]


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The installed console script in a real subprocess: real exit codes, real streams."""
    exe = Path(sys.executable).with_name("feature-registry")
    env = {**(os.environ if env is None else env), **CHILD_WARNINGS}
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=120)


def test_exit_codes_in_a_real_process(hive_table, write_spec, tmp_registry, tmp_path):
    spec = write_spec(base_spec(hive_table[0]))
    ok = run_cli("publish", str(spec), "--registry", tmp_registry)
    assert ok.returncode == 0, ok.stderr
    again = run_cli("publish", str(spec), "--registry", tmp_registry)
    assert again.returncode == 2 and "never overwritten" in again.stderr and "Traceback" not in again.stderr
    bad = write_spec(base_spec(str(tmp_path / "missing"), version="2"))
    missing = run_cli("publish", str(bad), "--registry", tmp_registry)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    typo = write_spec({**base_spec(hive_table[0], version="3"), "colums": []})
    r = run_cli("publish", str(typo), "--registry", tmp_registry)
    assert r.returncode == 2 and "colums: is not a known field" in r.stderr
    assert run_cli("show", "nope", "--registry", tmp_registry).returncode == 2
    assert run_cli("publish", str(tmp_path / "nofile.yaml"), "--registry", tmp_registry).returncode == 2


def test_registry_from_environment(hive_table, write_spec, tmp_registry):
    import os

    env = {**os.environ, "FEATURE_REGISTRY_URI": tmp_registry}
    assert run_cli("publish", str(write_spec(base_spec(hive_table[0]))), env=env).returncode == 0
    r = run_cli("list", "--json", env=env)
    assert [x["ref"] for x in json.loads(r.stdout)] == ["synapse_features@1"]


def test_missing_registry_is_a_usage_error(hive_table, write_spec):
    import os

    env = {k: v for k, v in os.environ.items() if k != "FEATURE_REGISTRY_URI"}
    r = run_cli("list", env=env)
    assert r.returncode == 2 and "--registry" in r.stderr


def test_validate_against_a_registry(runner, hive_table, write_spec, tmp_registry):
    spec = write_spec(base_spec(hive_table[0]))
    invoke(runner, "publish", str(spec), "--registry", tmp_registry)
    follow = write_spec(base_spec(hive_table[0], version="2", lineage={"supersedes": ["synapse_features@1", "ghost@1"]}))
    r = invoke(runner, "validate", str(spec), str(follow), "--registry", tmp_registry, "--json")
    assert r.exit_code == 2
    report = {Path(x["file"]).name: {p["path"]: p["message"] for p in x["problems"]} for x in json.loads(r.stdout)}
    assert "already published" in report[spec.name]["version"]
    assert report[follow.name] == {"lineage.supersedes[1]": f"ghost@1 is not in {tmp_registry}"}


def test_list_hides_deprecated_versions_unless_asked(runner, hive_table, write_spec, tmp_registry):
    """Like the site and the client: deprecated versions only with --status deprecated or --all."""
    for version in ("1", "2"):
        spec = write_spec(base_spec(hive_table[0], version=version))
        assert invoke(runner, "publish", str(spec), "--registry", tmp_registry).exit_code == 0
    r = invoke(runner, "deprecate", "synapse_features@1", "--registry", tmp_registry, "--reason", "bad voxel size",
               "--superseded-by", "synapse_features@2")
    assert r.exit_code == 0, r.output
    refs = lambda *a: [x["ref"] for x in json.loads(invoke(runner, "list", "--registry", tmp_registry, "--json", *a).stdout)]
    assert refs() == ["synapse_features@2"]
    assert refs("--all") == ["synapse_features@2", "synapse_features@1"]
    assert refs("--status", "deprecated") == ["synapse_features@1"]
    assert refs("--status", "published", "--all") == ["synapse_features@2"]
    human = invoke(runner, "list", "--registry", tmp_registry)
    assert "synapse_features" in human.stdout and "deprecated" not in human.stdout
    assert "1 deprecated version(s) not shown" in human.stderr
