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
* browse pages (home, datastacks, tags, owners, matrices) are always rendered: they summarise all.

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

from registry.model import parse_ref

from .catalog import Catalog

STATE = "state.json"
STATE_FORMAT = 1


def _code_hash(templates: Path) -> str:
    """Templates and builder source: any change invalidates every page."""
    h = hashlib.sha256()
    for root in (templates, Path(__file__).resolve().parent):
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.suffix in (".j2", ".py", ".html", ".js", ".css", ".yml"):
                h.update(p.as_posix().encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def dataset_keys(catalog: Catalog, params: dict, templates: Path) -> dict[str, str]:
    doc_hash = {
        ds.name: hashlib.sha256(
            "\n".join(v.model_dump_json() for v in ds.versions).encode()
        ).hexdigest()
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

    @property
    def docs(self) -> Path:
        return self.root / "docs"

    @property
    def fragments(self) -> Path:
        return self.root / "fragments"

    @property
    def site(self) -> Path:
        return self.root / "site"

    @classmethod
    def open(cls, root: str) -> "Cache":
        path = Path(root).resolve()
        cache = cls(path)
        try:
            state = json.loads((path / STATE).read_text())
            if state.get("format") == STATE_FORMAT and state.get("complete"):
                cache.previous = state["datasets"]
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

    def reused_count(self) -> int:
        return sum(1 for n in self.current if self.reuse(n))

    def clear_summary_pages(self) -> None:
        """Browse pages are rendered every build: remove the old ones first, so a tag or owner
        that no longer exists leaves no page behind (see `prune`)."""
        if not self.docs.exists():
            return
        for p in self.docs.rglob("*.md"):
            rel = p.relative_to(self.docs).as_posix()
            if rel.startswith("datasets/") and rel != "datasets/index.md":
                continue
            p.unlink()

    def prune(self, catalog: Catalog) -> int:
        """Remove pages of datasets/versions no longer in the catalog (docs, fragments, site)."""
        wanted = {f"datasets/{ds.name}.md" for ds in catalog.datasets.values()}
        wanted |= {f"datasets/{v.name}/{v.version}.md" for v in catalog.versions}
        removed = 0
        ds_dir = self.docs / "datasets"
        if not ds_dir.exists():
            return 0
        for p in list(ds_dir.rglob("*.md")):
            rel = p.relative_to(self.docs).as_posix()
            if rel == "datasets/index.md" or rel in wanted:
                continue
            p.unlink()
            for extra in (self.fragments / (rel + ".json"), self.site / (rel[:-3] + ".html")):
                if extra.exists():
                    extra.unlink()
            removed += 1
        if self.site.exists():  # output pages whose source page is gone
            for html in self.site.rglob("*.html"):
                rel = html.relative_to(self.site).as_posix()
                if rel != "404.html" and not (self.docs / (rel[:-5] + ".md")).exists():
                    html.unlink()
        for base in (self.docs / "datasets", self.fragments / "datasets", self.site / "datasets"):
            if base.exists():  # directories of datasets that are gone entirely
                for d in sorted(base.iterdir()):
                    if d.is_dir() and not any(d.iterdir()):
                        d.rmdir()
        return removed

    def _write_state(self, complete: bool) -> None:
        (self.root / STATE).write_text(json.dumps(
            {"format": STATE_FORMAT, "complete": complete, "datasets": self.current if complete else {}}))

    def finish(self) -> None:
        self._write_state(complete=True)


def link_tree(src: Path, dst: Path) -> None:
    """`dst` becomes a copy of `src` made of hard links (fast; falls back to copying across devices).
    MkDocs rewrites pages by truncating them, so the next build also rewrites the previous
    output's files in place - which it replaces anyway."""
    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, copy_function=link, dirs_exist_ok=True)
