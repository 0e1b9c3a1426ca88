"""Property tests of the document loader as an attacker would drive it (issue 10, build 5): any
bytes, any JSON value in any field, any nesting depth either parse into a valid document or are
refused with `SpecInvalid` (which every reader skips and lists) - never another exception, which
would stop `list`, `build-site` or `Catalog(registry)` for everyone."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.documents import Registry, parse_document
from registry.errors import SpecInvalid
from site_builder.synthetic import base_document, write_document, write_raw

SETTINGS = settings(max_examples=150, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)
FIELDS = ["name", "version", "title", "description", "datastack", "materialization", "location", "format",
          "format_options", "columns", "references", "owners", "tags", "provenance", "status", "lineage",
          "access", "inspected", "checks", "history", "published_at", "registry_schema", "retention", "extra"]


def _loads_or_refuses(data: bytes, expected=None) -> None:
    try:
        doc = parse_document(data, "test", expected)
    except SpecInvalid:
        return
    json.dumps(doc.to_dict(), ensure_ascii=False).encode("utf-8")  # a reader can always write it out again
    if expected is not None:
        assert (doc.name, doc.version) == expected


@SETTINGS
@given(st.binary(max_size=2000))
def test_any_bytes(data):
    _loads_or_refuses(data)


@SETTINGS
@given(st.sampled_from(FIELDS), json_values)
def test_any_value_in_any_field(field, value):
    doc = base_document("victim", "1")
    doc[field] = value
    _loads_or_refuses(json.dumps(doc).encode(), ("victim", "1"))


@SETTINGS
@given(st.sampled_from(["format_options", "provenance", "inspected", "columns", "extra", None]),
       st.integers(min_value=1, max_value=50_000), st.sampled_from(["[", "{\"k\":"]))
def test_any_nesting_depth(field, depth, opener):
    closer = "]" if opener == "[" else "}"
    nested = opener * depth + "1" + closer * depth
    if field is None:
        data = nested.encode()
    else:
        body = json.dumps(base_document("victim", "1", **{field: "__HERE__"}))
        data = body.replace('"__HERE__"', nested).encode()
    _loads_or_refuses(data, ("victim", "1"))


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True), st.binary(max_size=300)),
                min_size=1, max_size=6, unique_by=lambda t: t[0]))
def test_one_good_document_survives_any_neighbours(bad):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_document(str(root), base_document("good_one", "1", title="Good"))
        for name, data in bad:
            if name != "good_one":
                write_raw(str(root), name, "1", data)
        docs, problems = Registry(str(root)).load_all()
        assert [d.ref for d in docs] == ["good_one@1"]
        assert {p.path for p in problems} == {f"datasets/{n}/1.json" for n, _ in bad if n != "good_one"}
