"""Publish holds names, versions and labels that become paths to a strict grammar (issue 10,
item 5): each of these published on the code before, and then broke the site build (a
250-character name), took another page's place (`index`) or landed on another version's file
manifest (`1.files`). Now each is bad input: exit 2, the field path named, nothing written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from registry.cli import main

from .conftest import base_spec

CASES = [
    ({"name": "x" * 250}, "name", "at most 64"),
    ({"name": "index"}, "name", "reserved"),
    ({"version": "1.files"}, "version", "file manifest of version '1'"),
    ({"version": "v" * 65}, "version", "at most 64"),
    ({"datastack": "index"}, "datastack", "reserved"),
    ({"datastack": "stack with spaces"}, "datastack", "does not match"),
    ({"tags": ["ok", "index"]}, "tags[1]", "reserved"),
    ({"tags": ["t" * 101]}, "tags[0]", "at most 100"),
    ({"tags": ["two\nlines"]}, "tags[0]", "control character"),
    ({"owners": [{"name": "Index"}]}, "owners[0].name", "reserved"),
    ({"description": "x" * (5 * 1024 * 1024)}, "(document)", "readers skip documents above"),
]


@pytest.mark.parametrize("over,field,words", CASES, ids=[c[1] + ":" + c[2] for c in CASES])
def test_publish_refuses_names_that_cannot_be_paths(over, field, words, hive_table, write_spec, tmp_registry):
    spec = write_spec(base_spec(hive_table[0], **over))
    r = CliRunner().invoke(main, ["publish", str(spec), "--registry", tmp_registry], catch_exceptions=False)
    assert r.exit_code == 2, r.output
    assert f"{field}: " in r.stderr and words in r.stderr, r.stderr
    assert "Traceback" not in r.output
    assert not any(files for _, _, files in os.walk(tmp_registry)), "nothing may be written"


def test_validate_reports_the_same_problems(hive_table, write_spec):
    spec = write_spec(base_spec(hive_table[0], name="index", version="2.files"))
    r = CliRunner().invoke(main, ["validate", str(spec), "--json"], catch_exceptions=False)
    assert r.exit_code == 2
    paths = {p["path"] for p in __import__("json").loads(r.stdout)[0]["problems"]}
    assert paths == {"name", "version"}


def test_a_version_named_like_a_manifest_never_takes_its_place(hive_table, write_spec, tmp_registry):
    """`1.files` published first would own `datasets/x/1.files.json`, the path of version 1's
    manifest, and version 1 could then never be published. It is refused; version 1 publishes."""
    bad = CliRunner().invoke(main, ["publish", str(write_spec(base_spec(hive_table[0], version="1.files"))),
                                    "--registry", tmp_registry], catch_exceptions=False)
    assert bad.exit_code == 2 and "version: " in bad.stderr
    ok = CliRunner().invoke(main, ["publish", str(write_spec(base_spec(hive_table[0]))), "--registry", tmp_registry],
                            catch_exceptions=False)
    assert ok.exit_code == 0, ok.output
    manifest = os.path.join(tmp_registry, "datasets/synapse_features/1.files.json")
    assert '"files"' in Path(manifest).read_text()
