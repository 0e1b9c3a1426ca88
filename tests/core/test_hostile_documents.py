"""One bad document never breaks the others (issue 10, item 5 / build 3).

A registry bucket may hold documents written by hand. Each of them here was, on the code before
this test, enough to make `list`, `show`, `Catalog(registry)` or `build-site` fail for everyone
(non-UTF-8, nested 100,000 deep), to blow up a page (10,000 materialization versions), or to
replace another dataset's answers (a body claiming another name@version). Now every one is
skipped and listed with its reason, the same way wherever documents are read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from registry import limits
from registry.cli import main
from registry.documents import Registry, parse_document
from registry.errors import SpecInvalid
from site_builder.synthetic import base_document, write_document, write_raw

# path in the registry -> words the reason must contain
HOSTILE = {
    "datasets/evil/1.json": "claims to be victim@1",
    "datasets/nonutf/1.json": "not UTF-8",
    "datasets/deep/1.json": "nested too deep",
    "datasets/deepparams/1.json": "provenance.parameters: nested deeper than 32",
    "datasets/wide/1.json": "materialization.versions",
    "datasets/manytags/1.json": "tags",
    "datasets/longtitle/1.json": "title: String should have at most 1000 characters",
    "datasets/big/1.json": "byte limit",
    "datasets/ghost/1.json": "No such file",
}


def write_hostile_registry(root: Path) -> None:
    write_document(str(root), base_document("victim", "1", title="Genuine victim"))
    write_document(str(root), base_document("good", "1", title="Good one"))
    forged = base_document("victim", "1", title="FORGED", location="gs://attacker/table")
    write_raw(str(root), "evil", "1", json.dumps(forged).encode())
    body = json.dumps(base_document("nonutf", "1", description="caf\u00e9"), ensure_ascii=False).encode()
    write_raw(str(root), "nonutf", "1", body.replace("é".encode(), b"\xe9"))  # latin-1, not UTF-8
    write_raw(str(root), "deep", "1", b"[" * 100_000 + b"]" * 100_000)
    deep = json.loads("[" * 40 + "]" * 40)
    write_raw(str(root), "deepparams", "1",
              json.dumps(base_document("deepparams", "1", provenance={"parameters": {"p": deep}})).encode())
    write_raw(str(root), "wide", "1",
              json.dumps(base_document("wide", "1", materialization={"versions": list(range(10_000))})).encode())
    write_raw(str(root), "manytags", "1",
              json.dumps(base_document("manytags", "1", tags=[f"t{i}" for i in range(5_000)])).encode())
    write_raw(str(root), "longtitle", "1", json.dumps(base_document("longtitle", "1", title="t" * 100_000)).encode())
    write_raw(str(root), "big", "1",
              json.dumps(base_document("big", "1", description="x" * (limits.MAX_DOCUMENT_BYTES + 10))).encode())
    (root / "datasets" / "ghost").mkdir(parents=True)
    os.symlink(root / "nowhere.json", root / "datasets" / "ghost" / "1.json")  # listed, unreadable


@pytest.fixture
def hostile_registry(tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    write_hostile_registry(root)
    return root


def _assert_all_listed(problems: dict[str, str]) -> None:
    assert set(problems) == set(HOSTILE), problems
    for path, words in HOSTILE.items():
        assert words in problems[path], (path, problems[path])


def test_registry_reads_the_good_documents_and_lists_each_bad_one(hostile_registry):
    docs, problems = Registry(str(hostile_registry)).load_all()
    assert sorted((d.ref, d.title) for d in docs) == [("good@1", "Good one"), ("victim@1", "Genuine victim")]
    _assert_all_listed({p.path: str(p.error) for p in problems})


def test_cli_list_and_show_survive_and_say_what_was_skipped(hostile_registry):
    runner = CliRunner()
    r = runner.invoke(main, ["list", "--registry", str(hostile_registry), "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert sorted(row["ref"] for row in json.loads(r.stdout)) == ["good@1", "victim@1"]
    _assert_all_listed({p: r.stderr for p in HOSTILE if p in r.stderr})

    r = runner.invoke(main, ["show", "victim", "--registry", str(hostile_registry), "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["title"] == "Genuine victim"

    r = runner.invoke(main, ["show", "evil@1", "--registry", str(hostile_registry)], catch_exceptions=False)
    assert r.exit_code == 2
    assert "claims to be victim@1" in r.stderr and "Traceback" not in r.output

    r = runner.invoke(main, ["show", "nonutf@1", "--registry", str(hostile_registry)], catch_exceptions=False)
    assert r.exit_code == 2 and "not UTF-8" in r.stderr

    r = runner.invoke(main, ["show", "wide", "--registry", str(hostile_registry)], catch_exceptions=False)
    assert r.exit_code == 2 and "materialization.versions" in r.stderr


def test_client_catalog_on_a_registry_lists_problems(hostile_registry):
    from registry import Catalog

    cat = Catalog(str(hostile_registry))
    assert sorted(s["ref"] for s in cat.summaries()) == ["good@1", "victim@1"]
    assert cat.get("victim").title == "Genuine victim"
    _assert_all_listed({p.split(": ", 1)[0]: p for p in cat.problems})


def test_parse_document_refuses_a_body_that_names_another_path():
    body = json.dumps(base_document("victim", "1")).encode()
    assert parse_document(body, "x", ("victim", "1")).ref == "victim@1"
    with pytest.raises(SpecInvalid, match="claims to be victim@1"):
        parse_document(body, "x", ("evil", "1"))


def test_oversized_document_is_not_read_whole(hostile_registry, monkeypatch):
    """`get` reads at most the limit plus one byte of a document, so a huge object costs little."""
    reg = Registry(str(hostile_registry))
    seen = []
    real = reg.store.fs.cat_file

    def spy(path, start=None, end=None, **kw):
        data = real(path, start=start, end=end, **kw)
        seen.append(len(data))
        return data

    monkeypatch.setattr(reg.store.fs, "cat_file", spy)
    with pytest.raises(SpecInvalid, match="byte limit"):
        reg.get("big", "1")
    assert seen == [limits.MAX_DOCUMENT_BYTES + 1]


def test_validate_applies_the_readers_checks_to_document_files(hostile_registry):
    runner = CliRunner()
    for rel, words in [("datasets/nonutf/1.json", "not UTF-8"), ("datasets/evil/1.json", "claims to be victim@1"),
                       ("datasets/deep/1.json", "nested too deep")]:
        r = runner.invoke(main, ["validate", str(hostile_registry / rel)], catch_exceptions=False)
        assert r.exit_code == 2 and words in r.stderr, (rel, r.output)
    ok = runner.invoke(main, ["validate", str(hostile_registry / "datasets/victim/1.json")], catch_exceptions=False)
    assert ok.exit_code == 0, ok.output
