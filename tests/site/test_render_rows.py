"""The version page's rows built in Python (site_builder.html_rows) escape as Jinja's autoescape
does and escape every publisher value; lookups a page makes per version do not scan the dataset;
reading in chunks reads every document once, in the same order, with the same problems."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup, escape

from registry import documents
from registry.documents import Registry
from registry.model import DatasetDocument
from site_builder import catalog as catalog_module
from site_builder.catalog import RegistrySnapshot
from site_builder.html_rows import esc
from site_builder.pages import render_pages
from site_builder.synthetic import base_document, write_document, write_raw
from tests.site.test_page_properties import PAYLOADS

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
EVIL = '<script>alert("x")</script>&\'<img src=x onerror=alert(1)>'


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.sampled_from(PAYLOADS), st.text(), st.integers(), st.floats(allow_nan=False), st.none()))
def test_esc_writes_what_autoescape_writes(value):
    assert esc(value) == str(escape(value))


def test_esc_keeps_markup_as_autoescape_does():
    assert esc(Markup("<b>ok</b>")) == "<b>ok</b>"


def _hostile_documents() -> list[DatasetDocument]:
    cols = [{"name": "id", "semantic": "annotation_id", "description": "col " + EVIL, "unit": "unit " + EVIL},
            {"name": "pt_root_id", "semantic": "root_id"}]
    insp = {"columns": [{"name": "id", "type": "int64", "nullable": False},
                        {"name": "pt_root_id", "type": "int64", "nullable": True}],
            "row_count": 1, "file_count": 1, "bytes": 1, "fingerprint": "delta:3"}
    at = T0.isoformat()
    target = base_document("target", "1", columns=cols, inspected=insp, materialization={"version": 943})
    source = base_document(
        "source", "1", columns=cols, inspected=insp, materialization={"version": 1412},
        owners=[{"name": "owner " + EVIL, "team": "team " + EVIL}], tags=["tag " + EVIL],
        checks=[{"check": "materialization_version_valid", "ok": False, "detail": "mat " + EVIL, "checked_at": at},
                {"check": "annotation_table_exists", "ok": None, "detail": "check " + EVIL, "subject": "subject " + EVIL,
                 "checked_at": at}],
        history=[{"action": "published", "at": at, "by": "by " + EVIL, "reason": "reason " + EVIL}],
        references=[{"column": "pt_root_id", "dataset": "target@1", "target_column": "pt_root_id",
                     "stability": "changes_with_proofreading"},
                    {"column": "id", "annotation_table": "table " + EVIL, "target_column": "id"}],
    )
    return [DatasetDocument.from_dict(d) for d in (target, source)]


def test_every_publisher_value_in_the_rows_is_escaped(tmp_path):
    cat = RegistrySnapshot.from_documents(_hostile_documents())
    render_pages(cat, str(tmp_path / "docs"), str(tmp_path / "frag"), site_url=None, signer_url=None,
                 registry_uri="x", generated_at=T0)
    stored = json.loads((tmp_path / "frag" / "datasets" / "source" / "1.md.json").read_text())
    page = "\n".join(stored["fragments"])
    assert "<script>alert" not in page and "<img" not in page
    shown = str(escape(EVIL))
    for where in ("col", "unit", "owner", "team", "tag", "mat", "check", "subject", "by", "reason", "table"):
        assert f"{where} {shown}" in page, where
    # the rows are where they belong: the schema row, the join row to the target, the failed check
    assert re.search(r'<tr><td><code>id</code></td><td><code>int64</code> not null</td>', page)
    assert '<tr data-column="pt_root_id"><td><code>pt_root_id</code></td><td><a href="../../datasets/target/1.html">' \
           'target@1</a></td>' in page
    assert "<strong>no</strong>: mat " + shown in page
    assert 'class="fr-remedy"' in page
    listing = "\n".join(json.loads((tmp_path / "frag" / "datasets" / "source.md.json").read_text())["fragments"])
    assert "<script>alert" not in listing and "<img" not in listing
    assert f'<li data-version="1" data-column="id"><code>id</code> → table {shown}.<code>id</code> ' in listing


def _weekly(n: int) -> list[DatasetDocument]:
    return [DatasetDocument.from_dict(base_document(
        "weekly", f"v{i}", materialization={"version": 100 + i}, published_at=(T0 + dt.timedelta(days=7 * i)).isoformat(),
        status="deprecated" if i == n - 1 else "published")) for i in range(n)]


def test_a_page_per_version_does_not_scan_the_dataset_per_version(tmp_path, monkeypatch):
    """`latest`, `get` and `previous` used to scan the versions on each call, and a version page
    asks several times: a dataset of n versions cost n² steps. Now `newest_published` runs once."""
    docs = _weekly(300)
    cat = RegistrySnapshot.from_documents(docs)
    calls = []
    real = catalog_module.newest_published
    monkeypatch.setattr(catalog_module, "newest_published", lambda vs: calls.append(1) or real(vs))
    pages = render_pages(cat, str(tmp_path / "docs"), str(tmp_path / "frag"), site_url=None, signer_url=None,
                         registry_uri="x", generated_at=T0)
    assert pages > 600 and len(calls) == 1
    ds = cat.datasets["weekly"]
    assert ds.latest.version == "v298"  # the newest is deprecated
    assert [cat.previous(d) for d in docs] == [None, *docs[:-1]]
    assert cat.get("weekly@v7") is docs[7] and cat.get("weekly@nope") is None and cat.get("ghost@v1") is None
    assert [cat.is_latest(d) for d in docs].count(True) == 1


def test_reading_in_chunks_reads_every_document_once_in_order(tmp_path, monkeypatch):
    root = str(tmp_path / "reg")
    for d in _weekly(7):
        write_document(root, d)
    write_raw(root, "weekly", "v3x", b"{not json")
    write_raw(root, "other", "1", json.dumps(base_document("other", "1")).encode())
    whole = Registry(root)
    want_docs, want_problems = whole.load_all(share=True)
    monkeypatch.setattr(documents, "READ_CHUNK", 3)
    reads: list[int] = []
    chunked = Registry(root)
    real = chunked.store.read_many
    monkeypatch.setattr(chunked.store, "read_many", lambda rels: reads.append(len(rels)) or real(rels))
    docs, problems = chunked.load_all(share=True)
    assert reads == [3, 3, 3]
    assert [d.ref for d in docs] == [d.ref for d in want_docs] and docs == want_docs
    assert [(p.path, str(p.error)) for p in problems] == [(p.path, str(p.error)) for p in want_problems]
    assert [p.path for p in problems] == ["datasets/weekly/v3x.json"]
    assert chunked.digests == whole.digests and len(chunked.digests) == 8


@pytest.mark.parametrize("n", [0, 1])
def test_reading_an_empty_or_tiny_registry(tmp_path, n):
    root = str(tmp_path / "reg")
    for d in _weekly(n):
        write_document(root, d)
    docs, problems = Registry(root).load_all(share=True)
    assert len(docs) == n and problems == []


def test_shell_markers_in_a_page_are_its_own_text(tmp_path):
    """The shell's slots (title, h1 anchor, its own path) are filled in the chrome only: a version
    labelled like the title marker, or a description naming the shell's path, stays as written."""
    from site_builder.build import build_site
    from site_builder.shell import TITLE

    root = tmp_path / "reg"
    write_document(str(root), base_document("x", TITLE, description="see datasets/_shell/_shell.html and " + TITLE))
    out = tmp_path / "site"
    build_site(str(root), str(out), progress=False)
    page = (out / "datasets" / "x" / f"{TITLE}.html").read_text()
    assert f">x@{TITLE}</h1>" in page and f"<title>x@{TITLE} " in page
    assert f"see datasets/_shell/_shell.html and {TITLE}" in page
    assert "x@x@" not in page


# The Jinja loop `group_rows` replaced (templates/group.md.j2 before it), kept here as the reference.
_GROUP_LOOP = """{% import "_macros.j2" as m %}{% for e in entries %}
{% set d = e.shown %}
<tr data-dataset="{{ e.name }}"{% if d.is_latest %} class="fr-latest"{% endif %}><td><a href="{{ root }}{{ e.name|dpage }}">{{ e.name }}</a></td><td><a href="{{ root }}{{ d|vpage }}">{{ d.version }}</a>{% if d.is_latest %} <span class="fr-badge fr-latest-badge">latest</span>{% endif %}</td><td>{{ d.title }}</td><td>{{ m.status_word(d.status) }}</td>{% if folder != "datastacks" %}<td>{{ d.datastack }}</td>{% endif %}<td>{{ d.mats|join(", ") }}</td><td>{{ d.format }}</td><td><time datetime="{{ d.published_iso }}">{{ d.published_date }}</time></td><td>{{ d.row_count|num }}</td><td><a href="{{ root }}{{ e.name|dpage }}" title="every version of {{ e.name }}">{{ e.here|num }}{% if e.here != e.all %} of {{ e.all|num }}{% endif %}</a></td></tr>
{% endfor %}"""


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.sampled_from(PAYLOADS), st.text(min_size=1)), st.sampled_from(PAYLOADS + ["t"]),
                          st.booleans(), st.integers(1, 3000), st.integers(0, 2), st.one_of(st.none(), st.integers(0, 10**9))),
                max_size=4),
       st.sampled_from(["datastacks", "tags", "owners"]), st.sampled_from(["../", "../../"]))
def test_group_rows_are_what_the_jinja_loop_wrote(rows, folder, root):
    """Every publisher value of a group page's rows (names, titles, statuses, datastacks ...) is
    escaped exactly as the template's autoescape did, and the markup is the same."""
    from site_builder.pages import GroupEntry, environment
    from site_builder.summaries import VersionRow

    entries = [GroupEntry(name, VersionRow(name, f"v{n}" + title[:3], title, title[:5], "stack " + title, (943, n),
                                           "delta", 0.0, "2025-06-01T00:00:00+00:00", count, ("t",), ("o",), latest),
                          n, n + extra)
               for name, title, latest, n, extra, count in rows]
    from site_builder.html_rows import group_rows

    expected = environment().from_string(_GROUP_LOOP).render(entries=entries, root=root, folder=folder)
    assert str(group_rows(root, folder, entries)) == expected


_MATRIX_LOOP = """{% for name, row in matrix.rows.items() %}
<tr data-dataset="{{ name }}"><th><a href="{{ root }}{{ name|dpage }}">{{ name }}</a></th>{% for mat in matrix.mats %}<td data-mat="{{ mat }}">{% for d in row.get(mat, []) %}<a class="fr-cell{% if d.status == 'deprecated' %} fr-cell-deprecated{% endif %}" data-version="{{ d.version }}" href="{{ root }}{{ d|vpage }}">{{ d.version }}</a> {% endfor %}</td>{% endfor %}</tr>
{% endfor %}"""


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.sampled_from(PAYLOADS), st.text(min_size=1)), st.sampled_from(PAYLOADS + ["v1"]),
                          st.sampled_from(["published", "deprecated"]), st.lists(st.integers(900, 905), max_size=3)),
                max_size=5), st.sampled_from(["../", "../../"]))
def test_matrix_rows_are_what_the_jinja_loop_wrote(versions, root):
    """A compatibility matrix's names and version labels are escaped as autoescape did, deprecated
    cells marked, empty cells kept: the same markup as the template's loop."""
    from site_builder.html_rows import matrix_rows
    from site_builder.pages import compatibility_matrix, environment
    from site_builder.summaries import VersionRow

    rows = [VersionRow(name, label, "t", status, "s", tuple(mats), "delta", float(i), "2025-06-01T00:00:00+00:00",
                       None, (), (), False) for i, (name, label, status, mats) in enumerate(versions)]
    matrix = compatibility_matrix(rows, mats=lambda r: r.mats, order=lambda r: (r.name, r.published))
    expected = environment().from_string(_MATRIX_LOOP).render(matrix=matrix, root=root)
    assert str(matrix_rows(root, matrix)) == expected
