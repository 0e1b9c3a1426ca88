"""The repeated rows of the version page (schema, joins, checks ...) as escaped HTML, built here.

Why not Jinja loops: a version page repeats a handful of cells per column and per reference, and
Jinja spends most of such a page on attribute lookups and on one `Markup` object per autoescaped
value (measured, docs/benchmarks.md: the version template was 39% of render time). Here each
publisher value is escaped once (`esc`, the same entities Jinja's autoescape writes, so pages are
byte for byte what the templates wrote) and a table body is one `join`. Every function returns
`Markup` for the template to place as it is, and every publisher value inside goes through `esc`:
nothing here is trusted but the literal markup.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from markupsafe import Markup

from registry.model import Check, DatasetDocument

from . import paths


def esc(value: Any) -> str:
    """`str(value)` HTML-escaped exactly as markupsafe does (`&`, `<`, `>`, `'` and `"`), as a
    plain str: building one `Markup` per cell is what made the Jinja loops slow. A value that is
    already markup (`__html__`) is kept, as autoescape keeps it."""
    if type(value) is not str:
        if hasattr(value, "__html__"):
            return str(value.__html__())
        value = str(value)
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&#39;").replace('"', "&#34;"))


def _words(value: Any) -> str:
    """`value|replace("_", " ")` of the templates, escaped."""
    return esc(str(value).replace("_", " "))


def _joined(items: Iterable[Any], sep: str = ", ") -> str:
    """`items|join(sep)` of the templates under autoescape."""
    return esc(sep).join(esc(i) for i in items)


_PARTITION = ' <span class="fr-badge">partition</span>'


def schema_body(rows: list[dict[str, Any]]) -> Markup:
    """The `<tbody>` rows of the schema table, from `pages.schema_rows`."""
    out = []
    for c in rows:
        out.append(
            f'<tr><td><code>{esc(c["name"])}</code>{_PARTITION if c["partition"] else ""}</td>'
            f'<td><code>{esc(c["type"])}</code>{"" if c["nullable"] else " not null"}</td>'
            f'<td>{esc(c["semantic"])}{" (" + esc(c["axis"]) + ")" if c["axis"] else ""}</td>'
            f'<td>{esc(c["unit"])}</td><td>{esc(c["description"] or "")}</td></tr>\n'
        )
    return Markup("".join(out))


def _checked_at(c: Check) -> str:
    return (f'<span class="fr-muted">(checked <time datetime="{esc(c.checked_at.isoformat())}">'
            f'{esc(c.checked_at.date().isoformat())}</time>)</span>')


def materialization_checks(doc: DatasetDocument) -> Markup:
    """The `materialization_*` check rows of the Materialization table."""
    out = []
    for c in doc.checks:
        if not c.check.startswith("materialization"):
            continue
        result = "not checked" if c.ok is None else ("yes" if c.ok else "<strong>no</strong>")
        detail = f": {esc(c.detail)}" if c.detail else ""
        out.append(f"<tr><th>{_words(c.check)}</th><td>{result}{detail} {_checked_at(c)}</td></tr>\n")
    return Markup("".join(out))


def join_cell(root: str, row: dict[str, Any]) -> Markup:
    """The badge, `valid at` and joinable versions of one reference (the version page's joins
    table and the dataset page's join list; a Jinja macro per reference doubled their render time)."""
    f = row["facts"]
    out = [f'<span class="fr-badge fr-join fr-join-{esc(f.verdict)}" data-verdict="{esc(f.verdict)}" '
           f'title="{_joined(f.notes, "; ")}">{_words(f.verdict)}</span>']
    if f.valid_at:
        out.append(f' <span class="fr-valid-at">valid at {_joined(f.valid_at)}</span>')
    joinable = [d for d in row["joinable"] if d is not None]
    if f.target_kind == "dataset" and f.verdict != "ok" and joinable:
        links = ", ".join(f'<a href="{esc(root)}datasets/{esc(d.name)}/{esc(d.version)}.html">'
                          f"{esc(d.ref)}</a>" for d in joinable)
        out.append(f'<br><span class="fr-joinable">joinable: {links}</span>')
    return Markup("".join(out))


def reference_table_body(root: str, ref_rows: list[dict[str, Any]]) -> Markup:
    """The `<tbody>` rows of the joins table, from `pages.reference_rows`."""
    out = []
    for row in ref_rows:
        r = row["ref"]
        if r.annotation_table:
            target = f"CAVE table <code>{esc(r.annotation_table)}</code>"
        elif row["target"]:
            t = row["target"]
            target = f'<a href="{esc(root)}{esc(paths.version_page(t.name, t.version))}">{esc(t.ref)}</a>'
            if not r.pinned:
                target += f' <span class="fr-muted">(unpinned <code>{esc(r.dataset)}</code>)</span>'
        else:
            target = f"{esc(r.dataset)} (not in this registry)"
        out.append(
            f'<tr data-column="{esc(r.column)}"><td><code>{esc(r.column)}</code></td><td>{target}</td>'
            f"<td><code>{esc(r.target_column)}</code></td><td>{_words(r.cardinality.value)}</td>"
            f"<td>{_words(row['facts'].stability)}</td><td>{join_cell(root, row)}</td></tr>\n"
        )
    return Markup("".join(out))


def join_items(root: str, doc: DatasetDocument, ref_rows: list[dict[str, Any]]) -> Markup:
    """The dataset page's list items of one version's joins."""
    version = esc(doc.version)
    return Markup("".join(
        f'<li data-version="{version}" data-column="{esc(row["ref"].column)}"><code>{esc(row["ref"].column)}</code> → '
        f'{esc(row["facts"].target or row["ref"].target)}.<code>{esc(row["ref"].target_column)}</code> '
        f"{join_cell(root, row)}</li>\n"
        for row in ref_rows))


def _sorted_items(d: dict) -> list[tuple[Any, Any]]:
    """`d|dictsort` of the templates: by key, strings case-insensitively."""
    return sorted(d.items(), key=lambda kv: kv[0].lower() if isinstance(kv[0], str) else kv[0])


def join_notes(root: str, doc: DatasetDocument, ref_rows: list[dict[str, Any]]) -> Markup:
    """What the joins table cannot say in a cell: notes, registered exports, remedies, CAVE reads."""
    out = []
    for row in ref_rows:
        r, f = row["ref"], row["facts"]
        if not (f.notes or row["remedy"] or row["cave"] or f.exports):
            continue
        out.append(f"<p><code>{esc(r.column)}</code> → {esc(f.target or r.target)}: {_joined(f.notes, '; ')}</p>\n")
        for mat, ref in _sorted_items(f.exports):
            out.append(f"<p>Registered MaterializationEngine export at {esc(mat)}: "
                       f'<a href="{esc(root)}{esc(paths.ref_page(ref))}">{esc(ref)}</a> (join it like any dataset).</p>')
        if row["remedy"]:
            radius = (f" (invalidation radius {esc(doc.invalidation_radius_nm)} nm: features near an edit may be stale)"
                      if doc.invalidation_radius_nm is not None else "")
            out.append("<p>Root ids change with proofreading. To join across versions, re-resolve this table's "
                       f"root ids from its supervoxels at the target's time stamp{radius}:</p>\n"
                       f'<pre class="fr-remedy"><code class="language-python">{esc(row["remedy"])}</code></pre>')
        if row["cave"]:
            out.append(f"<p>No export of <code>{esc(r.annotation_table)}</code> is registered; read it from CAVE at the same version:</p>\n"
                       f'<pre class="fr-cave-snippet"><code class="language-python">{esc(row["cave"])}</code></pre>')
    return Markup("".join(out))


def quality_checks(doc: DatasetDocument) -> Markup:
    """The rows of the Quality section's checks table."""
    out = []
    for c in doc.checks:
        subject = f" ({esc(c.subject)})" if c.subject else ""
        result = "not checked" if c.ok is None else ("ok" if c.ok else "<strong>failed</strong>")
        out.append(f"<tr><td>{esc(c.check)}{subject}</td><td>{result}</td><td>{esc(c.detail)}</td></tr>\n")
    return Markup("".join(out))


def history(doc: DatasetDocument) -> Markup:
    """The items of the Quality section's history list."""
    return Markup("".join(
        f"<li>{esc(h.at.isoformat())} {esc(h.action)} by {esc(h.by)}{': ' + esc(h.reason) if h.reason else ''}</li>"
        for h in doc.history))


def owners(root: str, doc: DatasetDocument) -> Markup:
    """The owners cell of the About table."""
    if not doc.owners:
        return Markup("–")
    return Markup(", ".join(
        f'<a href="{esc(root)}owners/{esc(paths.slug(o.name))}.html">{esc(o.name)}</a>'
        f"{' &lt;' + esc(o.email) + '&gt;' if o.email else ''}{' (' + esc(o.team) + ')' if o.team else ''}"
        for o in doc.owners))


def tags(root: str, doc: DatasetDocument) -> Markup:
    """The tags cell of the About table."""
    if not doc.tags:
        return Markup("–")
    return Markup("".join(f'<a class="fr-tag" href="{esc(root)}tags/{esc(paths.slug(t))}.html">{esc(t)}</a> '
                          for t in doc.tags))


def undescribed(names: list[str]) -> Markup:
    """The list of columns without a description (Quality section)."""
    return Markup(", ".join(f"<code>{esc(n)}</code>" for n in names))


def num(n: Optional[int]) -> str:
    """A count as a person reads it (`1,200`), "–" when unknown: the templates' `num` filter."""
    return "–" if n is None else f"{n:,}"


_LATEST_ROW = ' class="fr-latest"'
_LATEST_BADGE = ' <span class="fr-badge fr-latest-badge">latest</span>'


def group_rows(root: str, folder: str, entries: Iterable[Any]) -> Markup:
    """The `<tbody>` rows of a datastack, tag or owner page, one per dataset (`pages.GroupEntry`).
    In Python because the group pages together list every dataset several times (each tag and
    owner): as a Jinja loop they were the largest part of the summary pages' render."""
    r = esc(root)
    out = []
    for e in entries:
        d = e.shown
        name = esc(e.name)
        dpage = r + esc(paths.dataset_page(e.name))
        status = esc(d.status)
        stack = "" if folder == "datastacks" else f"<td>{esc(d.datastack)}</td>"
        here = num(e.here) + ("" if e.here == e.all else f" of {num(e.all)}")
        out.append(
            f'<tr data-dataset="{name}"{_LATEST_ROW if d.is_latest else ""}><td><a href="{dpage}">{name}</a></td>'
            f'<td><a href="{r}{esc(paths.version_page(d.name, d.version))}">{esc(d.version)}</a>'
            f'{_LATEST_BADGE if d.is_latest else ""}</td><td>{esc(d.title)}</td>'
            f'<td><span class="fr-badge fr-status-{status}">{status}</span></td>{stack}<td>{_joined(d.mats)}</td>'
            f'<td>{esc(d.format)}</td><td><time datetime="{esc(d.published_iso)}">{esc(d.published_date)}</time></td>'
            f'<td>{num(d.row_count)}</td><td><a href="{dpage}" title="every version of {name}">{here}</a></td></tr>\n')
    return Markup("".join(out))


def matrix_rows(root: str, matrix: dict[str, Any]) -> Markup:
    """The `<tbody>` rows of a compatibility matrix (`pages.compatibility_matrix`): a row per
    dataset, a cell per materialization version of the datastack. In Python because one
    datastack's matrix at 100,000 versions is ~10,000 rows of dozens of cells each, re-rendered
    whenever one of its datasets changes."""
    r = esc(root)
    mats = [(m, f'<td data-mat="{esc(m)}">') for m in matrix["mats"]]
    out = []
    for name, row in matrix["rows"].items():
        cells = []
        for m, td in mats:
            links = "".join(
                f'<a class="fr-cell{" fr-cell-deprecated" if d.status == "deprecated" else ""}" '
                f'data-version="{esc(d.version)}" href="{r}{esc(paths.version_page(d.name, d.version))}">'
                f"{esc(d.version)}</a> " for d in row.get(m, ()))
            cells.append(f"{td}{links}</td>")
        out.append(f'<tr data-dataset="{esc(name)}"><th><a href="{r}{esc(paths.dataset_page(name))}">{esc(name)}</a>'
                   f'</th>{"".join(cells)}</tr>\n')
    return Markup("".join(out))
