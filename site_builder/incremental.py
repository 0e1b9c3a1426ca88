"""Incremental builds: reuse the pages of datasets whose inputs did not change.

A rebuild after one publish should not re-render and re-convert 10,000 unchanged pages. With a
`cache_dir`, the build keeps its Markdown docs dir and fragments (the summary pages MkDocs renders)
and the site (those pages' HTML and every dataset and version page's) there between runs:

* each dataset gets a key: a hash of the build parameters, the templates and builder code, its own
  documents, and the documents of every dataset it points at or that points at it (references,
  lineage) - everything its dataset and version pages are rendered from;
* a dataset whose key is unchanged is not rendered (its HTML pages stay as they are), and MkDocs
  runs in `dirty` mode, which skips a summary page whose output is newer than its source;
* pages of datasets or versions that disappeared are removed from the cache, so they are not in
  the output (deploy then deletes them from the bucket);
* pages that summarise everything (home, the dataset list, the browse indexes) are always
  rendered; a browse page of one datastack, tag or owner, or one compatibility matrix, is reused
  when none of the datasets it shows changed (its key: the keys of those datasets);
* the JSON API keeps its files in the cache too (`json/`): only the `api/datasets/` files of
  datasets whose key changed are written; `index.json` is always written;
* the search index is sharded; a shard whose documents are unchanged is reused (`search/`).

The state file is marked incomplete before a build starts and complete after it finished; an
incomplete or unreadable state throws the cache away (full build), so a crashed build can never
leave stale pages in a later one. The result is the same site a full build makes; the test suite
compares the two.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from registry.joins import export_entries
from registry.model import parse_ref

from . import paths
from .catalog import RegistrySnapshot
from .doc_cache import ReadCache
from .parts import PartStore

STATE = "state.json"
STATE_FORMAT = 4  # 4: dataset and version pages have no skeletons (`bulk/`) or fragments


def code_hash(templates: Path) -> str:
    """Templates, the builder's source and the core's (parts hold what `registry` computes:
    summaries, join facts): any change invalidates every page and every cached part."""
    import registry

    h = hashlib.sha256()
    for root in (templates, Path(__file__).resolve().parent, Path(registry.__file__).resolve().parent):
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.suffix in (".j2", ".py", ".html", ".js", ".css", ".yml"):
                h.update(p.as_posix().encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def _links(ds) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]]:
    """A dataset's edges to others, from its own documents (a part): the datasets its references
    and lineage name, the (datastack, annotation table) pairs its references name, and the pairs
    it is a registered export of (`registry.joins.export_entries`)."""
    names: set[str] = set()
    tables: set[tuple[str, str]] = set()
    exported: set[tuple[str, str]] = set()
    for v in ds.versions:
        refs = [r.dataset for r in v.references if r.dataset]
        refs += list(v.lineage.derived_from) + list(v.lineage.supersedes)
        refs += [v.lineage.superseded_by] if v.lineage.superseded_by else []
        refs += [h.superseded_by for h in v.history if h.superseded_by]
        names.update(parse_ref(ref)[0] for ref in refs)
        tables.update((v.datastack, r.annotation_table or "") for r in v.references)
    exported.update(key for key, _mat, _ref in export_entries(ds.versions))
    return sorted(names), sorted(tables), sorted(exported)


def dataset_keys(catalog: RegistrySnapshot, params: dict, code: str) -> dict[str, str]:
    """Each dataset's key: the build parameters and code, its documents and those of every
    dataset it is linked to either way (references, lineage) or whose exports its references
    name. Computed from content ids and the `links` part: no unchanged document is parsed."""
    def doc_hash(ds) -> str:
        return ds.cid or hashlib.sha256("\n".join(v.model_dump_json() for v in ds.versions).encode()).hexdigest()

    hashes = {name: doc_hash(ds) for name, ds in catalog.datasets.items()}
    links = {name: catalog.part("links", ds, _links) for name, ds in catalog.datasets.items()}
    exporters: dict[tuple[str, str], set[str]] = {}
    for name, (_names, _tables, exported) in links.items():
        for pair in exported:
            exporters.setdefault(tuple(pair), set()).add(name)  # type: ignore[arg-type]
    linked: dict[str, set[str]] = {n: set() for n in catalog.datasets}
    for name, (names, tables, _exported) in links.items():
        for other in names:
            linked[name].add(other)
            if other in linked:
                linked[other].add(name)
        for pair in tables:
            linked[name].update(exporters.get(tuple(pair), ()))  # type: ignore[arg-type]
    base = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode() + code.encode()).hexdigest()
    keys = {}
    for name in catalog.datasets:
        parts = [base, hashes[name]] + [f"{o}:{hashes.get(o, 'absent')}" for o in sorted(linked[name] - {name})]
        keys[name] = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return keys


@dataclass
class Cache:
    """The persistent build directory and what the previous build left in it."""

    root: Path
    previous: dict[str, str] = field(default_factory=dict)
    current: dict[str, str] = field(default_factory=dict)
    full: bool = True
    previous_pages: dict[str, str] = field(default_factory=dict)
    current_pages: dict[str, str] = field(default_factory=dict)
    registry_uri: str = ""
    previous_bulk: list[str] = field(default_factory=list)
    previous_out: list = field(default_factory=list)
    out: list = field(default_factory=list)
    current_bulk: set[str] = field(default_factory=set)

    @property
    def docs(self) -> Path:
        return self.root / "docs"

    @property
    def fragments(self) -> Path:
        return self.root / "fragments"

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def json(self) -> Path:
        """The JSON API of the last build (`index.json`, `api/`, `schema/`): only changed
        datasets' files are rewritten (`site_builder.jsonout.write_json(reuse=...)`)."""
        return self.root / "json"

    @property
    def search(self) -> Path:
        """Built lunr shards by content hash (`site_builder.search_index`)."""
        return self.root / "search"

    code: str = ""
    """`code_hash` of the templates and builder: the key of every cached part too."""
    reader: Optional[ReadCache] = None
    parts: Optional[PartStore] = None

    def read(self) -> RegistrySnapshot:
        """The catalog of the registry this cache was opened for, reading only what changed since
        the last build (`doc_cache`)."""
        self.reader = ReadCache(self.root, self.registry_uri)
        catalog = self.reader.read()
        catalog.parts = self.parts = PartStore(str(self.root / "parts"), code=self.code, freeze_reads=True)
        return catalog

    @classmethod
    def open(cls, root: str, registry_uri: str = "", templates: Optional[Path] = None) -> "Cache":
        path = Path(root).resolve()
        cache = cls(path)
        cache.code = code_hash(templates) if templates is not None else ""
        try:
            state = json.loads((path / STATE).read_text())
            if (state.get("format") == STATE_FORMAT and state.get("complete") and state.get("code") == cache.code
                    and state.get("registry") == registry_uri):
                cache.previous = state["datasets"]
                cache.previous_pages = state["pages"]
                cache.previous_bulk = state["bulk"]
                cache.previous_out = state["out"]
                cache.full = False
        except (FileNotFoundError, ValueError, KeyError):
            pass
        if cache.full:  # nothing trustworthy: start clean
            shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True, exist_ok=True)
        cache.registry_uri = registry_uri
        cache._write_state(complete=False)
        return cache

    def reuse(self, name: str) -> bool:
        return not self.full and self.previous.get(name) == self.current.get(name) and name in self.current

    def reuse_page(self, rel: str, names) -> bool:
        """A browse page that shows only the datasets `names`: reusable when the same page showed
        the same datasets with the same keys last time. A path written twice in one build (two
        keys with one slug) is never reused: which write wins is decided by rendering."""
        if rel in self.current_pages:
            self.current_pages[rel] = "written twice"
            return False
        key = hashlib.sha256("\n".join(
            [rel] + [f"{n}:{self.current.get(n, 'absent')}" for n in sorted(set(names))]).encode()).hexdigest()
        self.current_pages[rel] = key
        return (not self.full and self.previous_pages.get(rel) == key
                and (self.docs / rel).is_file() and (self.fragments / (rel + ".json")).is_file())

    def reused_count(self) -> int:
        return sum(1 for n in self.current if self.reuse(n))

    def clear_summary_pages(self) -> None:
        """Browse pages are rendered every build: remove the old ones first, so a tag or owner
        that no longer exists leaves no page behind (see `prune`)."""
        if not self.docs.exists():
            return
        for rel in _files(self.docs, ".md", skip={"datasets"}):
            if rel in self.previous_pages:  # may be reused; removed in `prune` if not written
                continue
            (self.docs / rel).unlink()
        if (self.docs / "datasets" / "index.md").exists() and "datasets/index.md" not in self.previous_pages:
            (self.docs / "datasets" / "index.md").unlink()

    def prune(self, catalog: RegistrySnapshot) -> int:
        """Remove pages of datasets/versions no longer in the catalog (their HTML in the site),
        from the previous build's list of them: no walk over the ~130,000 pages of a large site."""
        for rel in set(self.previous_pages) - set(self.current_pages):  # browse pages now gone
            for extra in (self.docs / rel, self.fragments / (rel + ".json")):
                if extra.exists():
                    extra.unlink()
        self.current_bulk = bulk_pages(catalog)
        removed = 0
        folders: set[Path] = set()
        for rel in sorted(set(self.previous_bulk) - self.current_bulk):
            page = self.site / (rel[:-3] + ".html")
            if page.exists():
                page.unlink()
            folders.add(page.parent)
            removed += 1
        for d in sorted(folders):  # a dataset gone entirely leaves no empty folder (only theirs looked at)
            if d != self.site / "datasets" and d.is_dir() and not any(d.iterdir()):
                d.rmdir()
        if self.site.exists():  # MkDocs' output pages whose source page is gone (dirty builds keep them)
            sources = _files(self.docs, ".md")
            dataset_dirs = {paths.segment(n) for n in catalog.datasets} | {"_shell"}
            for rel in _summary_html(self.site, dataset_dirs):
                if rel != "404.html" and rel[:-5] + ".md" not in sources and rel[:-5] + ".md" not in self.current_bulk:
                    (self.site / rel).unlink()
        return removed

    def unchanged_outputs(self, out: Path) -> set[str]:
        """Output paths that a sync into `out` need not look at: the pages and API files of every
        reused dataset, when the last build of this cache was synced into this same `out` (same
        path, same directory inode: not a new or replaced folder) and left it complete."""
        if self.full or not self.previous_out or self.previous_out != _out_marker(out):
            return set()
        out_set: set[str] = set()
        for name in self.current:
            if self.reuse(name):
                seg = paths.segment(name)
                out_set.update((f"datasets/{seg}", f"datasets/{seg}.html",
                                f"api/datasets/{seg}", f"api/datasets/{seg}.json"))
        return out_set

    def synced_to(self, out: Path) -> None:
        self.out = _out_marker(out)

    def _write_state(self, complete: bool) -> None:
        (self.root / STATE).write_text(json.dumps(
            {"format": STATE_FORMAT, "complete": complete, "code": self.code, "registry": self.registry_uri,
             "datasets": self.current if complete else {}, "pages": self.current_pages if complete else {},
             "bulk": sorted(self.current_bulk) if complete else [], "out": self.out if complete else []}))

    def finish(self) -> None:
        if self.parts is not None:
            self.parts.save()
        if self.reader is not None:
            self.reader.save()
        self._write_state(complete=True)


def _files(root: Path, suffix: str, skip: frozenset[str] | set[str] = frozenset()) -> set[str]:
    """Paths (relative, POSIX) of the files under `root` ending in `suffix`, not descending into
    the top-level folders in `skip`. os.walk: several times faster than Path.rglob on the tens
    of thousands of pages of a large site."""
    out: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        if rel_dir == ".":
            rel_dir = ""
            dirnames[:] = [d for d in dirnames if d not in skip]
        prefix = rel_dir + "/" if rel_dir else ""
        out.update(prefix + f for f in filenames if f.endswith(suffix))
    return out


def bulk_pages(catalog: RegistrySnapshot) -> set[str]:
    """Every dataset and version page's path (as `<page>.md`), without parsing unchanged documents."""
    return {p[:-5] + ".md" for p in catalog.bulk_pages()}


def _summary_html(site: Path, dataset_dirs: set[str]) -> set[str]:
    """HTML files of `site` outside the dataset folders (`datasets/<name>/`): MkDocs' pages."""
    out: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(site):
        rel_dir = os.path.relpath(dirpath, site).replace(os.sep, "/")
        if rel_dir == "datasets":
            dirnames[:] = [d for d in dirnames if d not in dataset_dirs]
        prefix = "" if rel_dir == "." else rel_dir + "/"
        out.update(prefix + f for f in filenames if f.endswith(".html") and not (
            rel_dir == "datasets" and f[:-5] in dataset_dirs))
    return out


def sync_tree(sources: list[Path], dst: Path, unchanged: frozenset[str] | set[str] = frozenset()) -> None:
    """`dst` becomes the union of `sources` (later ones win) as hard links, touching only what
    changed: a file already linked to the same inode stays, others are linked anew (through a
    temporary name, so a reader never sees a half-written file), files in no source are removed.
    A rebuild after one document thus does a stat per file instead of re-linking ~270,000 files at
    100,000 versions (measured: 130 s of a 218 s rebuild went to removing and re-linking).

    `unchanged`: relative paths (folders or files) known to be the same in `dst` as in the sources
    since the last sync into the same `dst` (`Cache.unchanged_outputs`): neither side is walked
    there, so a one-document rebuild looks at its own pages and the few summary files only."""
    def walk(root: str):
        for dirpath, dirnames, filenames in os.walk(root):
            rel = os.path.relpath(dirpath, root)
            prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            if unchanged:
                dirnames[:] = [d for d in dirnames if prefix + d not in unchanged]
            yield dirpath, prefix, [f for f in filenames if not unchanged or prefix + f not in unchanged]

    wanted: dict[str, str] = {}
    for src in sources:
        for dirpath, prefix, filenames in walk(str(src)):
            for f in filenames:
                wanted[prefix + f] = os.path.join(dirpath, f)
    dst_s = str(dst)
    os.makedirs(dst_s, exist_ok=True)
    emptied: set[str] = set()
    for dirpath, prefix, filenames in walk(dst_s):
        for f in filenames:
            if prefix + f not in wanted:
                os.unlink(os.path.join(dirpath, f))
                emptied.add(dirpath)
    made: set[str] = set()
    for rel, s in wanted.items():
        d = os.path.join(dst_s, rel)
        try:
            b = os.stat(d)
        except FileNotFoundError:  # new here: one link (atomic: a reader sees no file or all of it)
            folder = os.path.dirname(d)
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            try:
                os.link(s, d)
            except OSError:
                shutil.copy2(s, d + ".fr-sync")
                os.replace(d + ".fr-sync", d)
            continue
        a = os.stat(s)
        if (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev):
            continue
        tmp = d + ".fr-sync"
        try:
            os.link(s, tmp)
        except OSError:
            shutil.copy2(s, tmp)
        os.replace(tmp, d)
    for d in sorted(emptied, key=len, reverse=True):  # folders left empty by removals, and above
        while d != dst_s and d.startswith(dst_s) and os.path.isdir(d) and not os.listdir(d):
            os.rmdir(d)
            d = os.path.dirname(d)


def _out_marker(out: Path) -> list:
    """What identifies an output folder between builds: its path and its inode."""
    try:
        st = os.stat(out)
    except FileNotFoundError:  # a new folder: nothing in it to trust
        return []
    return [str(out), st.st_ino, st.st_dev]
