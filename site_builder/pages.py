"""Render the catalog's pages from the jinja2 templates in `templates/`: Markdown for MkDocs, or HTML in the shell.

Pages carry their untrusted content as HTML escaped by Jinja autoescape (or sanitised Markdown),
inside raw HTML blocks, so Python-Markdown (MkDocs) never interprets publisher text as Markdown:
a `[x](javascript:...)` in a column description stays text. Headings and page titles use only
pattern-checked names (`name@version`) so the table of contents and `<title>` are safe too.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import os
import secrets
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple, Optional, Sequence, TextIO

import jinja2
from markupsafe import Markup

from registry.joinplan import JoinPlan
from registry.joins import ExportIndex, JoinFacts
from registry.latest import newest_published
from registry.model import DatasetDocument, Semantic, Status
from registry.units import human_bytes

from . import diagrams, html_rows, paths, workbench
from .html_rows import join_cell
from .catalog import RegistrySnapshot, slug
from .jsonout import json_ld, script_json, version_api
from .pagination import paginate
from .sanitize import markdown_to_safe_html, plain_text, safe_url
from .shell import Shell, ShellKey, is_bulk, page_blocks, shell_page
from .summaries import DatasetSummary, VersionRow, summaries


def installed_data_dir() -> Path:
    """Where a wheel puts `templates/` and `mkdocs.yml` (pyproject's data-files)."""
    import sys

    return Path(sys.prefix) / "share" / "connectomics-feature-registry"


def templates_dir() -> Path:
    """`templates/` beside the package (repository layout), else the installed copy; override with
    SITE_TEMPLATES_DIR."""
    env = os.environ.get("SITE_TEMPLATES_DIR")
    if env:
        return Path(env)
    beside = Path(__file__).resolve().parent.parent / "templates"
    return beside if beside.is_dir() else installed_data_dir() / "templates"


def _md_text(text: str) -> str:
    """Backslash-escape Markdown punctuation in a *trusted* string used outside HTML blocks."""
    return re.sub(r"([\\`*_{}\[\]()#+!|<>])", r"\\\1", text)




def _vpage(target: Any) -> str:
    """A version page from a document or a `name@version` string (templates: `d|vpage`)."""
    if isinstance(target, str):
        return paths.ref_page(target)
    return paths.version_page(target.name, target.version)


def _fact(value: Any) -> str:
    """One recorded fact (e.g. a reader feature) as words a person reads, not a JSON literal:
    yes/no, a comma list (or "none"), "–" for unknown; anything nested stays compact JSON."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
            return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def environment(bytecode_dir: Optional[str] = None) -> jinja2.Environment:
    """`bytecode_dir`: keep compiled templates there (incremental builds; jinja2 checks each
    template's source checksum, so an edited template is compiled again)."""
    cache = None
    if bytecode_dir is not None:
        os.makedirs(bytecode_dir, exist_ok=True)
        cache = jinja2.FileSystemBytecodeCache(bytecode_dir)
    env = jinja2.Environment(
        bytecode_cache=cache,
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,  # every variable is HTML-escaped unless explicitly marked safe
        auto_reload=False,  # one environment per build: no stat of every template per page
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=lru_cache(maxsize=4096)(markdown_to_safe_html),  # versions of a dataset often repeat it
        mdtext=_md_text,
        safe_url=safe_url,
        slug=slug,
        vpage=_vpage,
        dpage=paths.dataset_page,
        dapi=paths.dataset_api,
        human_bytes=lambda n: human_bytes(n, missing="–"),
        num=html_rows.num,
        fact=_fact,
        plain=plain_text,
        script_json=lambda d: Markup(script_json(d)),
    )
    env.globals["join_cell"] = join_cell
    env.globals["rows"] = html_rows
    return env


@dataclass
class PageWriter:
    """Writes one page as a Markdown skeleton under `docs_dir` plus its HTML fragments under
    `fragments_dir` (see :mod:`site_builder.mkdocs_hooks`), or, for a dataset or version page once
    `shells` are set, as finished HTML under `site_dir` (:func:`site_builder.shell.shell_page`).
    Templates mark the Markdown headings with a per-build nonce (`{{ H }}## Title`); everything
    else is HTML. Untrusted text cannot forge a heading line because it cannot know the nonce."""

    docs_dir: str
    fragments_dir: str
    env: jinja2.Environment
    common: dict[str, Any]
    nonce: str
    count: int = 0
    reuse_page: Optional[Callable[[str, Iterable[str]], bool]] = None
    """Incremental builds: `reuse_page(rel, dataset names)` true means the page from the previous
    build is still right (it shows only those datasets, none of which changed)."""
    shells: Optional[dict[ShellKey, Shell]] = None
    """Material's shells by folder depth and front matter (`shell.load_shells`, after MkDocs):
    dataset and version pages are then written as HTML into `site_dir`."""
    site_dir: Optional[str] = None
    made: set[str] = field(default_factory=set)
    """Directories already created this run (one `makedirs` per folder, not two per page)."""

    def front(self, title: str, toc: bool = True) -> str:
        """The templates' front matter macro (`_macros.j2`), for the shells (`shell.write_shell_sources`)."""
        return str(self.env.get_template("_macros.j2").module.front(title, toc=toc))  # type: ignore[attr-defined]

    def reused(self, rel: str, depends_on: Iterable[str]) -> bool:
        """True (and counted) when the previous build's page `rel` is still right: the caller then
        need not even compute the page's context (a workbench page's is most of its cost)."""
        if self.reuse_page is not None and self.reuse_page(rel, depends_on):
            self.count += 1
            return True
        return False

    def _open(self, path: str) -> TextIO:
        folder = os.path.dirname(path)
        if folder not in self.made:
            os.makedirs(folder, exist_ok=True)
            self.made.add(folder)
        return open(path, "w", encoding="utf-8")

    def write(self, rel: str, template: str, *, depends_on: Optional[Iterable[str]] = None, **ctx: Any) -> None:
        if depends_on is not None and self.reused(rel, depends_on):
            return
        depth = rel.count("/")
        root = "../" * depth
        text = self.env.get_template(template).render(root=root, H=self.nonce, **self.common, **ctx)
        self.count += 1
        if self.shells is not None and self.site_dir is not None and is_bulk(rel):
            with self._open(os.path.join(self.site_dir, rel[:-3] + ".html")) as fh:
                fh.write(shell_page(self.shells, rel, text, self.nonce))
            return
        skeleton, fragments = split_page(text, self.nonce)
        with self._open(os.path.join(self.docs_dir, rel)) as fh:
            fh.write(skeleton)
        with self._open(os.path.join(self.fragments_dir, rel + ".json")) as fh:
            json.dump({"nonce": self.nonce, "fragments": fragments}, fh, ensure_ascii=False)


def split_page(text: str, nonce: str) -> tuple[str, list[str]]:
    """(Markdown skeleton, HTML fragments): front matter and nonce-marked headings stay Markdown,
    every run of other lines becomes one fragment behind a `FRBLOCK<n>-<nonce>` placeholder."""
    front, blocks = page_blocks(text, nonce)
    out = list(front)  # YAML front matter (generated from trusted values only)
    fragments: list[str] = []
    for is_heading, content in blocks:
        if is_heading:
            out.extend(["", content, ""])
        else:
            out.extend(["", f"FRBLOCK{len(fragments)}-{nonce}", ""])
            fragments.append(content)
    return "\n".join(out) + "\n", fragments


def schema_diff(doc: DatasetDocument, prev: Optional[DatasetDocument]) -> Optional[dict[str, Any]]:
    """Columns added, removed and changed (type, nullability, semantic) since the previous version."""
    if prev is None:
        return None
    old = {c.name: c for c in prev.inspected.columns}
    new = {c.name: c for c in doc.inspected.columns}
    old_sem = {c.name: c.semantic for c in prev.columns}
    new_sem = {c.name: c.semantic for c in doc.columns}
    changed = []
    for name in new:
        if name in old:
            a, b = old[name], new[name]
            what = []
            if a.type != b.type:
                what.append(f"type {a.type} → {b.type}")
            if a.nullable != b.nullable:
                what.append("now nullable" if b.nullable else "now not null")
            if old_sem.get(name) != new_sem.get(name):
                what.append(
                    f"semantic {(old_sem.get(name) or Semantic.OTHER).value} → {(new_sem.get(name) or Semantic.OTHER).value}"
                )
            if what:
                changed.append((name, "; ".join(what)))
    return {
        "previous": prev,
        "added": [(n, new[n].type) for n in new if n not in old],
        "removed": [(n, old[n].type) for n in old if n not in new],
        "changed": changed,
    }


def schema_rows(doc: DatasetDocument) -> list[dict[str, Any]]:
    """The schema table: every column of the table, with the author's notes where given."""
    declared = {c.name: c for c in doc.columns}
    partitions = set(doc.inspected.partition_columns)
    rows = []
    for c in doc.inspected.columns:
        d = declared.get(c.name)
        unit = ""
        if d is not None and (d.unit or d.resolution):
            res = "×".join(f"{r:g}" for r in d.resolution) if d.resolution else ""
            unit = " ".join(x for x in (res, d.unit or "") if x)
        rows.append({
            "name": c.name,
            "type": c.type,
            "nullable": c.nullable,
            "semantic": d.semantic.value if d else "",
            "axis": f"{d.point_group}.{d.axis.value}" if d and d.axis and d.point_group else "",
            "unit": unit,
            "description": d.description if d else "",
            "partition": c.name in partitions or bool(d and d.partition),
        })
    return rows


def undescribed_columns(doc: DatasetDocument) -> list[str]:
    """Columns of the table without a non-empty description (what `columns_documented` counts)."""
    described = {c.name for c in doc.columns if (c.description or "").strip()}
    return [c.name for c in doc.inspected.columns if c.name not in described]


def reference_rows(doc: DatasetDocument, catalog: RegistrySnapshot, join_facts: Sequence[JoinFacts]) -> list[dict[str, Any]]:
    """Each reference of `doc` with its join facts (`catalog.join_facts`, the same the JSON API
    serves), the resolved target's page, and for joins that cannot run as declared, the remedy."""
    from registry.joinplan import JoinKey, literal, remedy_snippet

    rows = []
    for ref, facts in zip(doc.references, join_facts):
        target = catalog.get(facts.target or "") if facts.target_kind == "dataset" else None
        remedy = cave = None
        if target is not None and facts.verdict == "no_shared_version" and facts.stability == "changes_with_proofreading":
            remedy = remedy_snippet(doc, target, JoinKey(ref.column, ref.target_column, facts.stability, ""))
        if ref.annotation_table and facts.valid_at and not facts.exports:
            cave = (f"from caveclient import CAVEclient\nclient = CAVEclient({literal(doc.datastack)})\n"
                    f"table = client.materialize.query_table({literal(ref.annotation_table)}, "
                    f"materialization_version={facts.valid_at[-1]})")
        rows.append({"ref": ref, "facts": facts, "target": target, "remedy": remedy, "cave": cave,
                     "joinable": [catalog.get(f"{facts.target_name}@{v}") for v in facts.joinable_target_versions]
                     if facts.target_kind == "dataset" else []})
    return rows


def page_writer(docs_dir: str, fragments_dir: str, *, site_url: Optional[str], signer_url: Optional[str],
                registry_uri: str, generated_at: dt.datetime,
                reuse_page: Optional[Callable[[str, Iterable[str]], bool]] = None,
                bytecode_dir: Optional[str] = None) -> PageWriter:
    """The writer of one build: its templates, the values every page shows, a fresh nonce."""
    common: dict[str, Any] = {
        "site_url": site_url,
        "signer_url": signer_url or "https://YOUR-SIGNER",
        "catalog_url": site_url or "https://YOUR-CATALOG-SITE/",
        "registry_uri": registry_uri,
        "generated_at": generated_at,
        "Status": Status,
    }
    return PageWriter(docs_dir, fragments_dir, environment(bytecode_dir), common, nonce=secrets.token_hex(8),
                      reuse_page=reuse_page)


def render_pages(catalog: RegistrySnapshot, docs_dir: str, fragments_dir: str, *, site_url: Optional[str], signer_url: Optional[str],
                 registry_uri: str, generated_at: dt.datetime) -> int:
    """Every page as a Markdown skeleton + fragments (no shells: what MkDocs itself would take);
    returns the number of pages. The build writes the summary pages this way and the dataset and
    version pages after MkDocs, into the shell (`build._compile`)."""
    w = page_writer(docs_dir, fragments_dir, site_url=site_url, signer_url=signer_url, registry_uri=registry_uri,
                    generated_at=generated_at)
    dataset_pages(w, catalog)
    summary_pages(w, catalog)
    return w.count


def dataset_pages(w: PageWriter, catalog: RegistrySnapshot, tick: Callable[[int], None] = lambda n: None,
                  reuse: Optional[Callable[[str], bool]] = None) -> None:
    """One page per dataset and per version (97% of a large catalog's pages).

    `reuse(name)` true: the dataset's page and version pages from the previous build are still
    right (the incremental build decided so from content hashes); they are counted but not
    rendered or touched."""
    site_url = w.common["site_url"]
    refs_to = catalog.referenced_by()
    for ds in catalog.datasets.values():
        if reuse is not None and reuse(ds.name):
            w.count += 1 + ds.count
            tick(ds.count)
            continue
        facts = catalog.join_facts(ds)  # per (dataset, target) parts: computed once, shared with the JSON
        version_refs = {d.version: reference_rows(d, catalog, facts[d.version]) for d in ds.versions}
        refs_by_version: dict[str, list] = {}  # one pass, not one filter of every reference per version
        for r in refs_to.get(ds.name, []):
            refs_by_version.setdefault(r["target_version"], []).append(r)
        w.write(paths.dataset_page(ds.name)[:-5] + ".md", "dataset.md.j2", ds=ds, catalog=catalog,
                referenced_by=refs_to.get(ds.name, []), version_refs=version_refs)
        for doc in ds.versions:
            page = paths.version_page(doc.name, doc.version)
            api = version_api(doc)
            w.write(
                page[:-5] + ".md",
                "version.md.j2",
                doc=doc,
                ds=ds,
                catalog=catalog,
                is_latest=catalog.is_latest(doc),
                successor=catalog.successor(doc),
                successor_known=catalog.get(catalog.successor(doc) or "") is not None,
                deprecation=catalog.deprecation(doc),
                schema=schema_rows(doc),
                diff=schema_diff(doc, catalog.previous(doc)),
                join_diagram=diagrams.join_diagram(doc, catalog),
                ref_rows=version_refs[doc.version],
                referenced_by=refs_by_version.get(doc.version, []),
                undescribed=undescribed_columns(doc),
                lineage_diagram=diagrams.lineage_diagram(doc, catalog),
                jsonld=json_ld(doc, (site_url.rstrip("/") + "/" + page) if site_url else None,
                               (site_url.rstrip("/") + "/" + api) if site_url else api),
                api=api,
                partitioned=bool(doc.inspected.partition_columns),
            )
            tick(1)


class GroupCount(NamedTuple):
    versions: int
    datasets: int


@dataclass(frozen=True)
class GroupEntry:
    """One dataset on a datastack, tag or owner page: the version shown for it (its latest, when
    that is in the group, else the newest published there, else the newest there), and how many
    of its versions are in the group, of how many."""

    name: str
    shown: VersionRow
    here: int
    all: int


def summary_pages(w: PageWriter, catalog: RegistrySnapshot,
                  exports: Optional[Callable[[], ExportIndex]] = None) -> None:
    """Every page that summarises the whole catalog (home, search, the dataset list, the browse
    pages, matrices and workbenches). In a rebuild it loads the documents of no dataset but those
    shown on a workbench that must be re-rendered: the rest comes from per-dataset parts."""
    rows = summaries(catalog)
    _home_and_lists(w, catalog, rows)
    _browse_pages(w, catalog, rows, exports or catalog.exports)


def _home_and_lists(w: PageWriter, catalog: RegistrySnapshot, rows: Sequence[DatasetSummary]) -> None:
    """Home, search and the (paginated) dataset list, from the summaries only: a rebuild parses
    no unchanged dataset for them, and re-renders only the list pages whose datasets changed."""
    versions = [r for ds in rows for r in ds.rows]
    recent = heapq.nlargest(15, versions, key=lambda r: r.published)  # = sorted(reverse)[:15]
    w.write("index.md", "home.md.j2", catalog=catalog, n_versions=len(versions),
            by_stack=_count(versions, lambda r: [r.datastack]), by_format=_count(versions, lambda r: [r.format]),
            by_status=_count(versions, lambda r: [r.status]), recent=recent)
    w.write("search.md", "search.md.j2")
    for pg, page in paginate(rows, "datasets/index.html"):
        w.write(pg.rel[:-5] + ".md", "datasets.md.j2", summaries=page, pg=pg,
                depends_on=[pg.shape] + [ds.name for ds in page])


def _count(versions: Iterable[VersionRow], key: Callable[[VersionRow], Iterable[str]]) -> dict[str, int]:
    """Versions per group (a version counted once per key it has, as `RegistrySnapshot.group`)."""
    out: dict[str, int] = {}
    for r in versions:
        for k in key(r):
            out[k] = out.get(k, 0) + 1
    return dict(sorted(out.items()))


Members = list[tuple[DatasetSummary, list[VersionRow]]]


def _groups(rows: Sequence[DatasetSummary], key: Callable[[VersionRow], Iterable[str]]) -> dict[str, Members]:
    """group -> its datasets in name order, each with its versions in the group (oldest first)."""
    out: dict[str, dict[str, tuple[DatasetSummary, list[VersionRow]]]] = {}
    for ds in rows:
        for r in ds.rows:
            for k in key(r):
                out.setdefault(k, {}).setdefault(ds.name, (ds, []))[1].append(r)
    return {k: [v[n] for n in sorted(v)] for k, v in sorted(out.items())}


def _row_field(r: VersionRow, field: str) -> Any:
    """`registry.latest`'s getter for summary rows (their `published_at` is the timestamp)."""
    return r.published if field == "published_at" else getattr(r, field)


def _entry(ds: DatasetSummary, here: list[VersionRow]) -> GroupEntry:
    shown = next((r for r in here if r.is_latest), None) or newest_published(here, get=_row_field) or here[-1]
    return GroupEntry(ds.name, shown, len(here), ds.n_versions)


def _group_pages(w: PageWriter, folder: str, title: str, groups: dict[str, Members]) -> None:
    w.write(f"{folder}/index.md", "group_index.md.j2", folder=folder, title=title,
            groups={k: GroupCount(sum(len(here) for _, here in members), len(members)) for k, members in groups.items()})
    for key, members in groups.items():
        for pg, page in paginate(members, f"{folder}/{slug(key)}.html"):
            rel = pg.rel[:-5] + ".md"
            if w.reused(rel, [pg.shape] + [ds.name for ds, _ in page]):
                continue
            w.write(rel, "group.md.j2", folder=folder, title=title, key=key, pg=pg,
                    entries=[_entry(ds, here) for ds, here in page])


def _browse_pages(w: PageWriter, catalog: RegistrySnapshot, rows: Sequence[DatasetSummary],
                  exports: Callable[[], ExportIndex]) -> None:
    """Datastack, tag and owner pages (paginated), the materialization index, one compatibility
    matrix per datastack and one workbench per (datastack, materialization version).

    Everything comes from per-dataset parts (summary rows, workbench entries, the join plans
    of a pair): a rebuild parses only the changed datasets and, for a join plan with one of them,
    the other side. A workbench is reused when a digest of what it shows is unchanged."""
    by_stack = _groups(rows, lambda r: [r.datastack])
    _group_pages(w, "datastacks", "Datastacks", by_stack)
    _group_pages(w, "tags", "Tags", _groups(rows, lambda r: r.tags))
    _group_pages(w, "owners", "Owners", _groups(rows, lambda r: r.owners))

    matrices = {stack: compatibility_matrix([r for _, here in members for r in here], mats=lambda r: r.mats,
                                            order=lambda r: (r.name, r.published))
                for stack, members in by_stack.items()}
    w.write("materialization/index.md", "materialization_index.md.j2", matrices=matrices)
    known: Optional[ExportIndex] = None
    packed: dict[str, workbench.Packed] = {}  # per dataset, once per build
    entries: dict[str, dict[tuple[str, int], workbench.Entry]] = {}  # decoded only for pages rendered
    pair_parts: dict[tuple[str, str], workbench.Packed] = {}
    plans: dict[tuple[str, str], dict[int, JoinPlan]] = {}

    def packed_of(name: str) -> workbench.Packed:
        if name not in packed:
            packed[name] = catalog.part("workbench-entries.2", catalog.datasets[name],
                                        lambda d: workbench.entries_part(d.versions))
        return packed[name]

    def entries_of(name: str) -> dict[tuple[str, int], workbench.Entry]:
        if name not in entries:
            entries[name] = packed_of(name).unpack()
        return entries[name]

    def pair_part(a: str, b: str) -> workbench.Packed:
        if (a, b) not in pair_parts:
            da, db = catalog.datasets[a], catalog.datasets[b]
            pair_parts[(a, b)] = catalog.part("workbench-plans.2", da, lambda d: workbench.plans_part(
                a, b, {a: da.versions, b: db.versions}), depends=[db])
        return pair_parts[(a, b)]

    def plan_of(mat: int) -> Callable[[str, str], JoinPlan]:
        def plan(a: str, b: str) -> JoinPlan:
            if (a, b) not in plans:
                plans[(a, b)] = pair_part(a, b).unpack()
            return plans[(a, b)][mat]
        return plan

    def plan_digest(mat: int) -> Callable[[str, str], str]:
        return lambda a, b: pair_part(a, b).keys[mat]

    for stack, matrix in matrices.items():
        w.write(f"materialization/{slug(stack)}.md", "matrix.md.j2", stack=stack, matrix=matrix,
                depends_on={ds.name for ds, _ in by_stack[stack]})
        by_mat: dict[int, list[str]] = {}  # the datasets with a version valid at mat, in catalog order
        for ds, here in by_stack[stack]:
            for mat in sorted({m for r in here for m in r.mats}):
                by_mat.setdefault(mat, []).append(ds.name)
        for mat in matrix["mats"]:
            # what one workbench shows: the versions valid at `mat` and, through their keys
            # (incremental.dataset_keys), the datasets they join to
            rel = f"materialization/{slug(stack)}/{mat}.md"
            names = by_mat.get(mat, [])
            keys = {n: k for n in sorted(names) if (k := packed_of(n).keys.get((stack, mat))) is not None}
            if known is None:
                known = exports()
            # reused when what it shows is the same: a new version valid at another materialization
            # version leaves this page as it was (names[:1]: the build's parameters and code, by key)
            digest = workbench.page_inputs(stack, mat, keys, plan_digest(mat), known)
            if w.reused(rel, names[:1] + [f"#workbench:{digest}"]):
                continue
            valid = {n: entries_of(n)[(stack, mat)] for n in keys}
            wb = workbench.assemble(stack, mat, valid, plan_of(mat), known)
            w.write(rel, "workbench.md.j2", wb=wb,
                    client_script=workbench.client_script(wb, w.common["catalog_url"], w.common["signer_url"]),
                    sql_script=workbench.sql_script(wb, w.common["signer_url"]))


def compatibility_matrix(docs: Iterable[Any], mats: Callable[[Any], Iterable[int]] = lambda d: d.materialization.all_versions,
                         order: Callable[[Any], Any] = lambda d: (d.name, d.published_at)) -> dict[str, Any]:
    """Datasets x materialization versions of one datastack: which versions of each dataset are
    valid at each materialization version (tables in one column can be joined at that version).
    Deprecated versions are shown but marked; drafts are left out. `docs`: documents, or
    summary rows (`VersionRow`, with `mats` and `order` reading its fields)."""
    docs = [d for d in docs if d.status != Status.DRAFT]
    all_mats = sorted({m for d in docs for m in mats(d)})
    rows: dict[str, dict[int, list[Any]]] = {}
    for d in sorted(docs, key=order):
        row = rows.setdefault(d.name, {})
        for m in mats(d):
            row.setdefault(m, []).append(d)
    return {"mats": all_mats, "rows": rows}
