"""The catalog search index: a lunr index prebuilt in Python (lunr.py), loaded by lunr.js 2.3.9.

Shape, chosen by measurement (docs/benchmarks.md): one lunr document per *dataset* (the union of
its versions' names, titles, columns and descriptions), plus a compact facet table of every
*version* (`catalog/versions.json`). Versions of one dataset share almost all their text, so
indexing datasets instead of versions makes the index ~3x smaller and lunr.py ~3x faster at the
same recall; the browser then expands each hit to the versions that pass the facets (datastack,
materialization version, format, status, tag; deprecated hidden unless asked for).

Free text is the bulk of the index: column descriptions ~60%, dataset descriptions most of the
rest. Both live in a second index, `catalog/search-columns.json`, which the page fetches after the
first results are on screen and then folds into the scores. The primary index (names, titles,
column names, tags, owners, datastack) is small enough to parse and answer within the 500 ms
first-result target at 10,000 versions (measured: with descriptions in it, ~0.8 s).

Both indexes are split into K shards by a stable hash of the dataset name (K sized by the number
of datasets, a power of two, recorded as `shards` in `versions.json`), each shard a lunr index of
its own datasets: `catalog/search-index/<j>.json` and `catalog/search-columns/<j>.json`, each
`{"d": [dataset ids], "index": <lunr index>}`. Inside a shard lunr refs are local positions
(`"0"`, `"1"`, ...) mapped to the global dataset id `d` of `versions.json` by the `d` list, so a
shard's lunr index depends only on its own datasets' text. With a `cache_dir`, each built shard is
kept under a content hash of that text: a rebuild after one publish runs lunr only for the
shard(s) of the changed dataset(s). The browser queries every shard and merges the scores (see
docs/site.md for the approximation that involves).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, Callable, Optional

from lunr import lunr

from .catalog import Catalog
from .jsonout import version_page
from .sanitize import plain_text

FIELDS = [
    {"field_name": "name", "boost": 10},
    {"field_name": "title", "boost": 5},
    {"field_name": "columns", "boost": 3},
    {"field_name": "text", "boost": 1},
]
COLUMN_FIELDS = [{"field_name": "coldesc", "boost": 1}]


@dataclass
class SearchIndexSize:
    index_bytes: int
    index_gzip_bytes: int
    facets_bytes: int
    facets_gzip_bytes: int
    columns_bytes: int = 0
    columns_gzip_bytes: int = 0
    shards: int = 1
    """K: shards per index (both indexes use the same K and the same dataset -> shard map)."""
    shards_built: int = 0
    """lunr builds this run, both indexes together (2K for a full build; fewer with a warm cache)."""

    @property
    def total_gzip_bytes(self) -> int:
        """What the page needs before the first result: primary index + facets."""
        return self.index_gzip_bytes + self.facets_gzip_bytes


def search_documents(catalog: Catalog) -> list[dict[str, Any]]:
    docs = []
    for i, ds in enumerate(catalog.datasets.values()):
        titles, columns, text = [], [], []
        for v in ds.versions:
            if v.title not in titles:
                titles.append(v.title)
            for c in v.inspected.columns:
                if c.name not in columns:
                    columns.append(c.name)
        newest = ds.newest
        text.extend(" ".join(c.split("_")) for c in columns)  # `pt_root_id` found by "root"
        text.extend(newest.tags)
        text.extend(o.name for o in newest.owners)
        text.append(newest.datastack)
        docs.append({
            "i": str(i),
            "name": f"{ds.name} {' '.join(ds.name.split('_'))}",
            "title": " ".join(titles),
            "columns": " ".join(columns),
            "text": " ".join(t for t in text if t),
        })
    return docs


def column_documents(catalog: Catalog) -> list[dict[str, Any]]:
    """The secondary index: the newest version's description and every column description."""
    return [
        {
            "i": str(i),
            "coldesc": " ".join(
                [plain_text(ds.newest.description, 2000)]
                + [plain_text(c.description, 300) for c in ds.newest.columns if c.description]
            ),
        }
        for i, ds in enumerate(catalog.datasets.values())
    ]


def facet_table(catalog: Catalog) -> dict[str, Any]:
    """Compact per-version facts for the browser (short keys: this file is loaded on every search)."""
    datasets, versions = [], []
    for i, ds in enumerate(catalog.datasets.values()):
        datasets.append({"n": ds.name, "t": (ds.latest or ds.newest).title})
        for v in ds.versions:
            versions.append({
                "d": i,
                "v": v.version,
                "s": v.datastack,
                "m": v.materialization.all_versions,
                "f": v.format.value,
                "st": v.status.value,
                "t": list(v.tags),
                "l": 1 if catalog.is_latest(v) else 0,
                "p": version_page(v),
                "at": v.published_at.date().isoformat(),
            })
    return {"datasets": datasets, "versions": versions}


SHARD_FORMAT = 1
"""Part of every shard's cache key: bump when the shard file or the documents' shape changes."""
DATASETS_PER_SHARD = 64
"""K is the smallest power of two giving at most this many datasets per shard (doubling K splits
each shard in two, so most shards survive growth), capped at MAX_SHARDS."""
MAX_SHARDS = 32


def shard_count(n_datasets: int) -> int:
    k = 1
    while k * DATASETS_PER_SHARD < n_datasets and k < MAX_SHARDS:
        k *= 2
    return k


def shard_of(name: str, k: int) -> int:
    """Stable across builds, processes and Python versions (not `hash()`, which is salted)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % k


def _build_shard(docs: list[dict[str, Any]], fields: list[dict[str, Any]], cache: Optional[Path],
                 built: Callable[[], None]) -> tuple[bytes, str]:
    """The serialized lunr index of `docs` (refs already local) and its cache key; from the cache
    when the same documents were indexed with the same fields and lunr version before."""
    key = hashlib.sha256(json.dumps(
        [SHARD_FORMAT, package_version("lunr"), fields, docs], separators=(",", ":"), ensure_ascii=False
    ).encode()).hexdigest()
    if cache is not None:
        hit = cache / f"{key}.json"
        if hit.is_file():
            return hit.read_bytes(), key
    index = lunr(ref="i", fields=fields, documents=docs) if docs else None
    built()
    raw = json.dumps(index.serialize() if index else None, separators=(",", ":")).encode()
    if cache is not None:
        tmp = cache / f"{key}.tmp"
        tmp.write_bytes(raw)
        os.replace(tmp, cache / f"{key}.json")
    return raw, key


def write_search_index(catalog: Catalog, out_dir: str, cache_dir: Optional[str] = None) -> SearchIndexSize:
    """Write `catalog/search-index/<j>.json`, `catalog/search-columns/<j>.json` (lunr shards) and
    `catalog/versions.json` (facets). With `cache_dir`, shards whose documents are unchanged since
    a previous build with that cache are not rebuilt; cached shards no build used are removed."""
    target = os.path.join(out_dir, "catalog")
    os.makedirs(target, exist_ok=True)
    names = list(catalog.datasets)
    k = shard_count(len(names))
    members: list[list[int]] = [[] for _ in range(k)]
    for d, name in enumerate(names):
        members[shard_of(name, k)].append(d)
    cache = Path(cache_dir) if cache_dir is not None else None
    used: set[str] = set()
    gz_memo: dict[str, int] = {}  # sha256 of a written file -> its gzipped size (compressing is slow)
    if cache is not None:
        try:
            gz_memo = json.loads((cache / "gzip-sizes.json").read_text())
        except (FileNotFoundError, ValueError):
            pass
    gz_used: dict[str, int] = {}
    counter = {"built": 0}

    def built() -> None:
        counter["built"] += 1

    facets = facet_table(catalog)
    facets["shards"] = k
    sizes = {"versions.json": _write(target, "versions.json", json.dumps(
        facets, separators=(",", ":"), ensure_ascii=False).encode())}
    for kind, make_docs, fields in (("search-index", search_documents, FIELDS),
                                    ("search-columns", column_documents, COLUMN_FIELDS)):
        docs = make_docs(catalog)
        os.makedirs(os.path.join(target, kind), exist_ok=True)
        raw_total, gz_total = 0, 0
        for j, ds_ids in enumerate(members):
            local = [{**docs[d], "i": str(n)} for n, d in enumerate(ds_ids)]
            kind_cache = None
            if cache is not None:
                kind_cache = cache / kind
                kind_cache.mkdir(parents=True, exist_ok=True)
            index_raw, key = _build_shard(local, fields, kind_cache, built)
            if kind_cache is not None:
                used.add(str(kind_cache / f"{key}.json"))
            raw = b'{"d":' + json.dumps(ds_ids, separators=(",", ":")).encode() + b',"index":' + index_raw + b"}"
            r, g = _write(os.path.join(target, kind), f"{j}.json", raw, gz_memo, gz_used)
            raw_total, gz_total = raw_total + r, gz_total + g
        sizes[kind] = (raw_total, gz_total)
    if cache is not None:  # content-addressed: anything this build did not use is stale
        (cache / "gzip-sizes.json").write_text(json.dumps(gz_used))
        for kind in ("search-index", "search-columns"):
            for p in (cache / kind).glob("*"):
                if str(p) not in used:
                    p.unlink()
    return SearchIndexSize(
        *sizes["search-index"], *sizes["versions.json"], *sizes["search-columns"],
        shards=k, shards_built=counter["built"],
    )


def _write(folder: str, name: str, raw: bytes, memo: Optional[dict[str, int]] = None,
           used: Optional[dict[str, int]] = None) -> tuple[int, int]:
    """Write one file; returns its size raw and gzipped (as a server would send it), the latter
    from `memo` (by content hash) when this content was compressed before."""
    with open(os.path.join(folder, name), "wb") as fh:
        fh.write(raw)
    if memo is None:
        return len(raw), len(gzip.compress(raw, 6))
    digest = hashlib.sha256(raw).hexdigest()
    gz = memo.get(digest)
    if gz is None:
        gz = len(gzip.compress(raw, 6))
    if used is not None:
        used[digest] = gz
    return len(raw), gz
