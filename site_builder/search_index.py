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
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from typing import Any

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


def write_search_index(catalog: Catalog, out_dir: str) -> SearchIndexSize:
    """Write `catalog/search-index.json` (lunr) and `catalog/versions.json` (facets)."""
    target = os.path.join(out_dir, "catalog")
    os.makedirs(target, exist_ok=True)
    docs = search_documents(catalog)
    index = lunr(ref="i", fields=FIELDS, documents=docs) if docs else None
    coldocs = column_documents(catalog)
    colindex = lunr(ref="i", fields=COLUMN_FIELDS, documents=coldocs) if coldocs else None
    raws = {
        "search-index.json": json.dumps(index.serialize() if index else None, separators=(",", ":")).encode(),
        "search-columns.json": json.dumps(colindex.serialize() if colindex else None, separators=(",", ":")).encode(),
        "versions.json": json.dumps(facet_table(catalog), separators=(",", ":"), ensure_ascii=False).encode(),
    }
    for name, raw in raws.items():
        with open(os.path.join(target, name), "wb") as fh:
            fh.write(raw)
    sizes = {k: (len(v), len(gzip.compress(v, 6))) for k, v in raws.items()}
    return SearchIndexSize(
        *sizes["search-index.json"], *sizes["versions.json"], *sizes["search-columns.json"]
    )
