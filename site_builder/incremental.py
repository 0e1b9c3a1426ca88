"""Incremental builds: reuse the pages of datasets whose inputs did not change.

A rebuild after one publish should not re-render and re-convert 10,000 unchanged pages. With a
`cache_dir`, the build keeps its Markdown docs dir, fragments and MkDocs output there between runs:

* each dataset gets a key: a hash of the build parameters, the templates and builder code, its own
  documents, and the documents of every dataset it points at or that points at it (references,
  lineage) - everything its dataset and version pages are rendered from;
* a dataset whose key is unchanged is not rendered (its files keep their old mtime), and MkDocs
  runs in `dirty` mode, which skips a page whose output is newer than its source;
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

from registry.joins import export_index
from registry.model import parse_ref

from . import paths
from .catalog import RegistrySnapshot

STATE = "state.json"
STATE_FORMAT = 2


def _code_hash(templates: Path) -> str:
    """Templates and builder source: any change invalidates every page."""
    h = hashlib.sha256()
    for root in (templates, Path(__file__).resolve().parent):
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.suffix in (".j2", ".py", ".html", ".js", ".css", ".yml"):
                h.update(p.as_posix().encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def dataset_keys(catalog: RegistrySnapshot, params: dict, templates: Path) -> dict[str, str]:
    def doc_key(v) -> str:  # the bytes' hash from reading; serializing every model again cost seconds
        return catalog.digests.get(v.ref) or v.model_dump_json()

    doc_hash = {
        ds.name: hashlib.sha256("\n".join(doc_key(v) for v in ds.versions).encode()).hexdigest()
        for ds in catalog.datasets.values()
    }
    linked: dict[str, set[str]] = {n: set() for n in catalog.datasets}
    for ds in catalog.datasets.values():
        for v in ds.versions:
            refs = [r.dataset for r in v.references if r.dataset]
            refs += list(v.lineage.derived_from) + list(v.lineage.supersedes)
            refs += [v.lineage.superseded_by] if v.lineage.superseded_by else []
            refs += [h.superseded_by for h in v.history if h.superseded_by]
            for ref in refs:
                other = parse_ref(ref)[0]
                linked[ds.name].add(other)
                if other in linked:
                    linked[other].add(ds.name)
    # Join facts of a reference to a CAVE annotation table name its registered exports (registry.joins).
    exports = export_index({n: ds.versions for n, ds in catalog.datasets.items()})
    for ds in catalog.datasets.values():
        for v in ds.versions:
            for r in v.references:
                for ref in (exports.get((v.datastack, r.annotation_table or ""), {}) or {}).values():
                    other = parse_ref(ref)[0]
                    linked[ds.name].add(other)
    base = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode() + _code_hash(templates).encode()).hexdigest()
    keys = {}
    for name in catalog.datasets:
        parts = [base, doc_hash[name]] + [f"{o}:{doc_hash.get(o, 'absent')}" for o in sorted(linked[name] - {name})]
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

    @classmethod
    def open(cls, root: str) -> "Cache":
        path = Path(root).resolve()
        cache = cls(path)
        try:
            state = json.loads((path / STATE).read_text())
            if state.get("format") == STATE_FORMAT and state.get("complete"):
                cache.previous = state["datasets"]
                cache.previous_pages = state["pages"]
                cache.full = False
        except (FileNotFoundError, ValueError, KeyError):
            pass
        if cache.full:  # nothing trustworthy: start clean
            shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True, exist_ok=True)
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
        """Remove pages of datasets/versions no longer in the catalog (docs, fragments, site)."""
        wanted = {paths.dataset_page(ds.name)[:-5] + ".md" for ds in catalog.datasets.values()}
        wanted |= {paths.version_page(v.name, v.version)[:-5] + ".md" for v in catalog.versions}
        removed = 0
        for rel in set(self.previous_pages) - set(self.current_pages):  # browse pages now gone
            for extra in (self.docs / rel, self.fragments / (rel + ".json")):
                if extra.exists():
                    extra.unlink()
        ds_dir = self.docs / "datasets"
        if not ds_dir.exists():
            return 0
        md_files = _files(self.docs, ".md")
        for rel in sorted(md_files):
            if not rel.startswith("datasets/") or rel == "datasets/index.md" or rel in wanted \
                    or rel.startswith("datasets/index/"):  # the dataset list's pages (paths.list_page)
                continue
            (self.docs / rel).unlink()
            md_files.discard(rel)
            for extra in (self.fragments / (rel + ".json"), self.site / (rel[:-3] + ".html")):
                if extra.exists():
                    extra.unlink()
            removed += 1
        if self.site.exists():  # output pages whose source page is gone
            for rel in _files(self.site, ".html"):
                if rel != "404.html" and rel[:-5] + ".md" not in md_files:
                    (self.site / rel).unlink()
        for base in (self.docs / "datasets", self.fragments / "datasets", self.site / "datasets"):
            if base.exists():  # directories of datasets that are gone entirely
                for d in sorted(base.iterdir()):
                    if d.is_dir() and not any(d.iterdir()):
                        d.rmdir()
        return removed

    def _write_state(self, complete: bool) -> None:
        (self.root / STATE).write_text(json.dumps(
            {"format": STATE_FORMAT, "complete": complete, "datasets": self.current if complete else {},
             "pages": self.current_pages if complete else {}}))

    def finish(self) -> None:
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


def sync_tree(sources: list[Path], dst: Path) -> None:
    """`dst` becomes the union of `sources` (later ones win) as hard links, touching only what
    changed: a file already linked to the same inode stays, others are linked anew (through a
    temporary name, so a reader never sees a half-written file), files in no source are removed.
    A rebuild after one document thus does a stat per file instead of re-linking ~270,000 files at
    100,000 versions (measured: 130 s of a 218 s rebuild went to removing and re-linking)."""
    wanted: dict[str, str] = {}
    for src in sources:
        src_s = str(src)
        for dirpath, _dirnames, filenames in os.walk(src_s):
            rel = os.path.relpath(dirpath, src_s)
            prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            for f in filenames:
                wanted[prefix + f] = os.path.join(dirpath, f)
    dst_s = str(dst)
    os.makedirs(dst_s, exist_ok=True)
    for dirpath, _dirnames, filenames in os.walk(dst_s):
        rel = os.path.relpath(dirpath, dst_s)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        for f in filenames:
            if prefix + f not in wanted:
                os.unlink(os.path.join(dirpath, f))
    for rel, s in wanted.items():
        d = os.path.join(dst_s, rel)
        try:
            a, b = os.stat(s), os.stat(d)
            if (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev):
                continue
        except FileNotFoundError:
            os.makedirs(os.path.dirname(d), exist_ok=True)
        tmp = d + ".fr-sync"
        try:
            os.link(s, tmp)
        except OSError:
            shutil.copy2(s, tmp)
        os.replace(tmp, d)
    for dirpath, dirnames, filenames in os.walk(dst_s, topdown=False):
        if dirpath != dst_s and not dirnames and not filenames:
            os.rmdir(dirpath)
