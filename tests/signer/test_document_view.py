"""The signer's light view of a document (signer_function/document.py) and the full model
(registry.documents.parse_document) go through the same byte checks (registry/reading.py) and
agree on every field the signer reads: a document wrong in one of them is refused by both, and a
valid one reads the same."""

from __future__ import annotations

import copy
import json

import pytest

from registry.documents import parse_document
from registry.errors import SpecInvalid
from registry.reading import StoredElsewhere
from signer_function.document import read_document, read_manifest

from .conftest import document

LOC = "s3://lab-tables/features/synapses"


def _valid() -> dict:
    doc, _ = document("syn", "1", LOC, files=[{"path": "p.parquet", "size": 1, "rows": 1, "partition": {}}])
    return doc.to_dict()


def _set(raw: dict, path: str, value: object) -> dict:
    out = copy.deepcopy(raw)
    *parents, last = path.split(".")
    node = out
    for p in parents:
        node = node.setdefault(p, {})
    if value is KeyError:
        node.pop(last, None)
    else:
        node[last] = value
    return out


BAD = [
    ("name", "Syn"), ("version", "1/../2"), ("location", 7), ("location", ""), ("format", "csv"),
    ("status", "live"), ("published_at", "yesterday"),
    ("access", ["view"]), ("access.dataset", ["minnie"]), ("access.permission", 1),
    ("lineage.superseded_by", "not a ref"), ("inspected.file_count", KeyError), ("inspected.partition_columns", "a"),
    ("inspected.reader_features", []), ("format_options", "x"), ("layouts", {}), ("registry_schema", 2),
    ("datastack", None), ("title", ""), ("retention", {"ttl_days": 0}), ("history", [{"at": "x"}]),
]


@pytest.mark.parametrize("path,value", BAD, ids=[f"{p}={v!r}" for p, v in BAD])
def test_both_readers_refuse_a_wrong_field_the_signer_reads(path, value):
    data = json.dumps(_set(_valid(), path, value)).encode()
    with pytest.raises(SpecInvalid):
        parse_document(data, "x", ("syn", "1"))
    with pytest.raises(SpecInvalid):
        read_document(data, "x", ("syn", "1"))


@pytest.mark.parametrize("value", ["3", True, 3.0])
def test_the_view_does_not_coerce_like_pydantic_lax_mode(value):
    """Stricter, never looser: pydantic reads "3" / true as an integer; the signer refuses them."""
    data = json.dumps(_set(_valid(), "table_version", value)).encode()
    with pytest.raises(SpecInvalid):
        read_document(data, "x", ("syn", "1"))


def test_a_layout_at_the_documents_own_location_is_refused_by_both():
    raw = _valid()
    raw["layouts"] = [{"name": "by_root", "location": LOC + "/", "manifest": True}]
    data = json.dumps(raw).encode()
    for reader in (parse_document, read_document):
        with pytest.raises(SpecInvalid):
            reader(data, "x", ("syn", "1"))


def test_a_valid_document_reads_the_same_through_both():
    raw = _valid()
    raw["layouts"] = [{"name": "by_root", "location": "s3://lab-tables/features/by_root/", "partition_columns": ["r"],
                       "table_version": 4, "manifest": True}]
    raw["retention"] = {"ttl_days": 30}
    data = json.dumps(raw).encode()
    full, view = parse_document(data, "x", ("syn", "1")), read_document(data, "x", ("syn", "1"))
    for attr in ("name", "version", "title", "datastack", "location", "format", "status", "table_version",
                 "published_at", "ref", "format_options"):
        assert getattr(view, attr) == getattr(full, attr), attr
    assert view.expires_on() == full.expires_on()
    assert (view.access.dataset, view.access.permission) == (full.access.dataset, full.access.permission)
    assert [(c.name, c.type, c.nullable) for c in view.inspected.columns] == \
        [(c.name, c.type, c.nullable) for c in full.inspected.columns]
    assert [(x.name, x.location, x.partition_columns, x.table_version, x.manifest) for x in view.layouts] == \
        [(x.name, x.location, x.partition_columns, x.table_version, x.manifest) for x in full.layouts]


def test_the_path_rule_and_byte_checks_are_shared():
    data = json.dumps(_valid()).encode()
    for reader in (parse_document, read_document):
        with pytest.raises(StoredElsewhere):
            reader(data, "x", ("evil", "1"))
        for bad in (b"\xff", b"[" * 100_000, b'{"format_options": ' + b'{"a": ' * 40 + b"1" + b"}" * 41):
            with pytest.raises(SpecInvalid):
                reader(bad, "x", ("syn", "1"))


def test_manifest_view_refuses_what_the_model_refuses():
    assert read_manifest(b'{"files": [{"path": "a", "size": 1, "rows": 2, "partition": {"r": "x"}}]}', "m").files[0].rows == 2
    for bad in (b'{"files": [{"size": 1}]}', b'{"files": "a"}', b'{"files": [{"path": "a", "size": "1"}]}',
                b'{"files": [{"path": "a", "partition": ' + b'{"a": ' * 40 + b"1" + b"}" * 41 + b"}]}"):
        with pytest.raises(SpecInvalid):
            read_manifest(bad, "m")


def test_the_handlers_cold_import_is_stdlib_plus_cachetools():
    """What keeps the cold start at ~0.1 s CPU: importing either entry point loads no third-party
    package but cachetools (the SDKs, urllib3 and the document model load on first use or never)."""
    import ast
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, signer_function.aws_lambda, signer_function.main\n"
            "print(sorted({n.split('.')[0] for n, m in list(sys.modules.items()) if getattr(m, '__file__', None)}"
            " - set(sys.stdlib_module_names)))")  # modules with a file: namespace packages (google) aside
    repo = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in __import__("os").environ.items() if k != "SIGNER_PRELOAD"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=repo,
                         env={**env, "PYTHONPATH": str(repo)})
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = set(ast.literal_eval(out.stdout.strip().splitlines()[-1]))
    # site's own hooks (editable-install finders, setuptools' distutils shim, namespace packages) aside
    extra = {m for m in loaded if not m.startswith(("__editable__", "_distutils_hack", "__main__"))}
    assert extra <= {"registry", "signer_function", "cachetools"}, extra
