"""Render the catalog into Markdown files (jinja2 templates in `templates/`), one per page.

Pages carry their untrusted content as HTML escaped by Jinja autoescape (or sanitised Markdown),
inside raw HTML blocks, so Python-Markdown (MkDocs) never interprets publisher text as Markdown:
a `[x](javascript:...)` in a column description stays text. Headings and page titles use only
pattern-checked names (`name@version`) so the table of contents and `<title>` are safe too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import jinja2
from markupsafe import Markup

from registry.joins import document_join_facts, export_index, referenced_by_index
from registry.model import DatasetDocument, Semantic, Status
from registry.units import human_bytes

from . import diagrams, html_rows, paths, workbench
from .html_rows import join_cell
from .catalog import RegistrySnapshot, slug
from .jsonout import json_ld, script_json, version_api
from .sanitize import markdown_to_safe_html, plain_text, safe_url
from .shell import is_bulk


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


def _num(n: Optional[int]) -> str:
    return "–" if n is None else f"{n:,}"


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
        num=_num,
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
    `fragments_dir` (see :mod:`site_builder.mkdocs_hooks`). Templates mark the Markdown headings
    with a per-build nonce (`{{ H }}## Title`); everything else is HTML. Untrusted text cannot
    forge a heading line because it cannot know the nonce."""

    docs_dir: str
    fragments_dir: str
    env: jinja2.Environment
    common: dict[str, Any]
    nonce: str
    count: int = 0
    reuse_page: Optional[Callable[[str, Iterable[str]], bool]] = None
    """Incremental builds: `reuse_page(rel, dataset names)` true means the page from the previous
    build is still right (it shows only those datasets, none of which changed)."""
    bulk: Optional[list[str]] = None
    """Dataset and version pages written this run (made from Material's shell, `site_builder.shell`)."""
    made: set[str] = field(default_factory=set)
    """Directories already created this run (one `makedirs` per folder, not two per page)."""

    def reused(self, rel: str, depends_on: Iterable[str]) -> bool:
        """True (and counted) when the previous build's page `rel` is still right: the caller then
        need not even compute the page's context (a workbench page's is most of its cost)."""
        if self.reuse_page is not None and self.reuse_page(rel, depends_on):
            self.count += 1
            return True
        return False

    def write(self, rel: str, template: str, *, depends_on: Optional[Iterable[str]] = None, **ctx: Any) -> None:
        if depends_on is not None and self.reused(rel, depends_on):
            return
        depth = rel.count("/")
        root = "../" * depth
        text = self.env.get_template(template).render(root=root, H=self.nonce, **self.common, **ctx)
        skeleton, fragments = split_page(text, self.nonce)
        for base, data in ((self.docs_dir, skeleton), (self.fragments_dir, None)):
            path = os.path.join(base, rel if data is not None else rel + ".json")
            folder = os.path.dirname(path)
            if folder not in self.made:
                os.makedirs(folder, exist_ok=True)
                self.made.add(folder)
            with open(path, "w", encoding="utf-8") as fh:
                if data is not None:
                    fh.write(data)
                else:
                    json.dump({"nonce": self.nonce, "fragments": fragments}, fh, ensure_ascii=False)
        if self.bulk is not None and is_bulk(rel):
            self.bulk.append(rel)
        self.count += 1


def split_page(text: str, nonce: str) -> tuple[str, list[str]]:
    """(Markdown skeleton, HTML fragments): front matter and nonce-marked headings stay Markdown,
    every run of other lines becomes one fragment behind a `FRBLOCK<n>-<nonce>` placeholder."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    if lines and lines[0] == "---":  # YAML front matter (generated from trusted values only)
        end = lines.index("---", 1)
        out.extend(lines[: end + 1])
        i = end + 1
    fragments: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        html = "\n".join(buf).strip()
        buf.clear()
        if html:
            out.extend(["", f"FRBLOCK{len(fragments)}-{nonce}", ""])
            fragments.append(html)

    for line in lines[i:]:
        if line.startswith(nonce):
            flush()
            out.extend(["", line[len(nonce):], ""])
        else:
            buf.append(line)
    flush()
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


def reference_rows(doc: DatasetDocument, catalog: RegistrySnapshot, by_name: dict, exports: dict) -> list[dict[str, Any]]:
    """Each reference of `doc` with its join facts (registry.joins, the same the JSON API serves),
    the resolved target's page, and for joins that cannot run as declared, the remedy."""
    from registry.joinplan import JoinKey, literal, remedy_snippet

    rows = []
    for ref, facts in zip(doc.references, document_join_facts(doc, by_name, exports)):
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


def render_pages(catalog: RegistrySnapshot, docs_dir: str, fragments_dir: str, *, site_url: Optional[str], signer_url: Optional[str],
                 registry_uri: str, generated_at: dt.datetime, tick: Callable[[int], None] = lambda n: None,
                 reuse: Optional[Callable[[str], bool]] = None,
                 reuse_page: Optional[Callable[[str, Iterable[str]], bool]] = None,
                 bytecode_dir: Optional[str] = None, bulk: Optional[list[str]] = None) -> int:
    """Write every page; returns the number of pages. `bulk` collects the dataset and version
    pages written (their HTML is made from the shell, not by MkDocs: `site_builder.shell`).

    `reuse(name)` true: the dataset's page and version pages from the previous build in the same
    `docs_dir` are still right (the incremental build decided so from content hashes); they are
    counted but not rendered or touched, so MkDocs' dirty build skips them too."""
    env = environment(bytecode_dir)
    common: dict[str, Any] = {
        "site_url": site_url,
        "signer_url": signer_url or "https://YOUR-SIGNER",
        "catalog_url": site_url or "https://YOUR-CATALOG-SITE/",
        "registry_uri": registry_uri,
        "generated_at": generated_at,
        "Status": Status,
    }
    w = PageWriter(docs_dir, fragments_dir, env, common, nonce=secrets.token_hex(8), reuse_page=reuse_page,
                   bulk=bulk)
    versions = catalog.versions
    by_name = {name: ds.versions for name, ds in catalog.datasets.items()}
    refs_to, exports = referenced_by_index(by_name), export_index(by_name)

    # ---- home, search and the dataset list
    by_stack = catalog.group(lambda d: [d.datastack])
    by_format = catalog.group(lambda d: [d.format.value])
    by_status = catalog.group(lambda d: [d.status.value])
    recent = sorted(versions, key=lambda d: d.published_at, reverse=True)[:15]
    w.write("index.md", "home.md.j2", catalog=catalog, by_stack=by_stack, by_format=by_format,
            by_status=by_status, recent=recent)
    w.write("search.md", "search.md.j2")
    w.write("datasets/index.md", "datasets.md.j2", catalog=catalog)

    # ---- one page per dataset and per version
    for ds in catalog.datasets.values():
        if reuse is not None and reuse(ds.name):
            w.count += 1 + len(ds.versions)
            tick(len(ds.versions))
            continue
        version_refs = {d.version: reference_rows(d, catalog, by_name, exports) for d in ds.versions}
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

    # ---- browse pages: datastack, materialization matrix, tag, owner
    _group_pages(w, "datastacks", "Datastacks", by_stack, catalog)
    by_tag = catalog.group(lambda d: d.tags)
    _group_pages(w, "tags", "Tags", by_tag, catalog)
    by_owner = catalog.group(lambda d: sorted({o.name for o in d.owners}))
    _group_pages(w, "owners", "Owners", by_owner, catalog)

    matrices = {stack: compatibility_matrix(docs) for stack, docs in by_stack.items()}
    w.write("materialization/index.md", "materialization_index.md.j2", matrices=matrices)
    for stack, matrix in matrices.items():
        w.write(f"materialization/{slug(stack)}.md", "matrix.md.j2", stack=stack, matrix=matrix,
                depends_on={d.name for d in by_stack[stack]})
        by_mat: dict[int, list[DatasetDocument]] = {}
        for d in by_stack[stack]:
            for mat in d.materialization.all_versions:
                by_mat.setdefault(mat, []).append(d)
        for mat in matrix["mats"]:
            # what one workbench shows: the versions valid at `mat` and, through their keys
            # (incremental.dataset_keys), the datasets they join to
            rel = f"materialization/{slug(stack)}/{mat}.md"
            if w.reused(rel, {d.name for d in by_mat.get(mat, [])}):
                continue
            wb = workbench.workbench(stack, mat, by_mat.get(mat, []), by_name, exports)
            w.write(rel, "workbench.md.j2", wb=wb,
                    client_script=workbench.client_script(wb, common["catalog_url"], common["signer_url"]),
                    sql_script=workbench.sql_script(wb, common["signer_url"]))
    return w.count


def _group_pages(w: PageWriter, folder: str, title: str, groups: dict[str, list[DatasetDocument]], catalog: RegistrySnapshot) -> None:
    w.write(f"{folder}/index.md", "group_index.md.j2", folder=folder, title=title, groups=groups)
    for key, docs in groups.items():
        w.write(f"{folder}/{slug(key)}.md", "group.md.j2", folder=folder, title=title, key=key,
                docs=sorted(docs, key=lambda d: (d.name, d.published_at)), catalog=catalog,
                depends_on={d.name for d in docs})


def compatibility_matrix(docs: Iterable[DatasetDocument]) -> dict[str, Any]:
    """Datasets x materialization versions of one datastack: which versions of each dataset are
    valid at each materialization version (tables in one column can be joined at that version).
    Deprecated versions are shown but marked; drafts are left out."""
    docs = [d for d in docs if d.status != Status.DRAFT]
    mats = sorted({m for d in docs for m in d.materialization.all_versions})
    rows: dict[str, dict[int, list[DatasetDocument]]] = {}
    for d in sorted(docs, key=lambda d: (d.name, d.published_at)):
        row = rows.setdefault(d.name, {})
        for m in d.materialization.all_versions:
            row.setdefault(m, []).append(d)
    return {"mats": mats, "rows": rows}
