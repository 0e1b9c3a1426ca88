"""The catalog search index as static files: a term index sharded by contiguous ranges of the sorted
vocabulary, fetched per query (`registry.search_rules` defines the words, fields and ranking; the
browser's `assets/search-engine.js` and the Python client read the same files).

Why this shape (measured, docs/benchmarks.md): the lunr design loaded every shard of the whole index
for any query (10 MB gzipped at 50k versions); Pagefind fetches little but scores every hit in WASM
(2.2 s for a word in every dataset at 50k) and ranks its own way, so the client could not agree with
it. Here a query fetches `meta.json` (each shard's first word), `facets.json` (a few bytes per
version), one or two term shards per query word and the display records of the results it shows:
a few hundred kB at 100,000 versions, whatever the catalog size, and no WASM (the CSP stays strict).

Files under `catalog/search/`:

* `meta.json`: `{format, versions, datasets, firsts: [first word of each shard], chunk, fields,
  weights, prefix_factor, max_expansions, values: {s, f, st, m, t: [facet values]}}`
* `terms/<j>.json`: `{"k": [words, sorted], "p": [postings per word]}`; postings are flat runs
  `[gap, length, field, ...]` over version ids (see `search_rules.build_postings`)
* `facets.json`: `n` (versions per dataset, in dataset order), `l` (the position of each dataset's
  latest version among its versions, -1 for none), `cols`: per facet `s`, `m`, `f`, `st`, `t` the distinct value sets and one
  short code per dataset or per version (`_facet_column`)
* `records/<c>.json`: `chunk` datasets each, for display: `[{"n", "t", "c", "v": [[label, page, date(, cols)], ...]}]`;
  `c` the column names of the dataset's versions (first seen first), `cols` a version's columns as
  positions in `c`, left out when they are all of `c` in order (most versions): the page names the
  column a word matched in (`matched column “pt_root_id”` for the query `root`)
* `refs.json`: `name@version` of every version id (for the Python client; the browser never needs it)

Version ids follow `RegistrySnapshot.versions` (datasets by name, versions by publication), dataset ids
`RegistrySnapshot.datasets`: ties in ranking break by name and newest version for free.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from typing import Any, Optional

from registry import search_rules as rules

from .catalog import RegistrySnapshot
from .jsonout import version_page

DATASETS_PER_CHUNK = 16
"""Display records per file: a results page of 50 datasets fetches at most 50 small files."""
FACETS = ("s", "f", "st", "m", "t")


@dataclass
class SearchIndexSize:
    index_bytes: int
    """Term shards, raw bytes, all of them (a query fetches one or two per word)."""
    index_gzip_bytes: int
    facets_bytes: int
    """meta.json + facets.json: what every query loads."""
    facets_gzip_bytes: int
    columns_bytes: int = 0
    """Display records, all chunks (a query fetches those of the results it shows)."""
    columns_gzip_bytes: int = 0
    shards: int = 1
    """Term shards."""
    shards_built: int = 0
    """Term shard files written this run (unchanged ones are kept with an incremental cache)."""

    @property
    def total_gzip_bytes(self) -> int:
        """What every query loads before its term shards: meta + facets."""
        return self.facets_gzip_bytes


def _facet_values(v) -> dict[str, list]:
    return {"s": [v.datastack], "f": [v.format.value], "st": [v.status.value],
            "m": list(v.materialization.all_versions), "t": list(v.tags)}


def search_files(catalog: RegistrySnapshot) -> dict[str, bytes]:
    """Every file of the index: relative path under `catalog/search/` -> bytes."""
    versions = catalog.versions
    post = rules.build_postings(rules.catalog_terms(versions))
    files: dict[str, bytes] = {}
    firsts = []
    for j, (terms, bodies) in enumerate(rules.shard_postings(post)):
        firsts.append(terms[0])
        files[f"terms/{j}.json"] = rules.shard_json(terms, bodies)
    del post

    values: dict[str, dict[Any, int]] = {k: {} for k in FACETS}
    for v in versions:
        for k, xs in _facet_values(v).items():
            for x in xs:
                values[k].setdefault(x, 0)
    ordered = {k: sorted(values[k], key=(lambda x: x) if k == "m" else str) for k in FACETS}
    for k in FACETS:
        values[k] = {x: i for i, x in enumerate(ordered[k])}
    combos: dict[str, dict[tuple[int, ...], int]] = {k: {} for k in FACETS}
    per_version: dict[str, list[int]] = {k: [] for k in FACETS}
    counts, latest, refs = [], [], []
    records: list[dict[str, Any]] = []
    vid = 0
    for ds in catalog.datasets.values():
        counts.append(len(ds.versions))
        best = ds.latest
        latest.append(-1)
        rec: dict[str, Any] = {"n": ds.name, "t": (best or ds.newest).title, "c": [], "v": []}
        col_at: dict[str, int] = {}
        for v in ds.versions:
            if best is not None and v.version == best.version:
                latest[-1] = len(rec["v"])  # position within the dataset: short numbers
            for k, xs in _facet_values(v).items():
                combo = tuple(sorted({values[k][x] for x in xs}))
                per_version[k].append(combos[k].setdefault(combo, len(combos[k])))
            rec["v"].append([v.version, version_page(v), v.published_at.date().isoformat(),
                             [col_at.setdefault(c.name, len(col_at)) for c in v.inspected.columns]])
            refs.append(v.ref)
            vid += 1
        rec["c"] = list(col_at)
        every = list(range(len(col_at)))
        for rv in rec["v"]:  # a version with every column of its dataset, in order, needs no list
            if rv[3] == every:
                rv.pop()
        records.append(rec)
    for c in range(0, len(records), DATASETS_PER_CHUNK):
        files[f"records/{c // DATASETS_PER_CHUNK}.json"] = _dumps(records[c:c + DATASETS_PER_CHUNK])
    cols = {k: _facet_column(per_version[k], counts, list(combos[k])) for k in FACETS}
    files["facets.json"] = _dumps({"n": counts, "l": latest, "cols": cols})
    files["refs.json"] = _dumps(refs)
    files["meta.json"] = _dumps({
        "format": rules.INDEX_FORMAT, "versions": vid, "datasets": len(records), "firsts": firsts,
        "chunk": DATASETS_PER_CHUNK, "fields": list(rules.FIELDS), "weights": list(rules.WEIGHTS),
        "prefix_factor": rules.PREFIX_FACTOR, "max_expansions": rules.MAX_EXPANSIONS, "values": ordered,
    })
    return files


CODE_CHARS = "".join(chr(c) for c in range(33, 127) if chr(c) not in '"\\')
"""92 characters that JSON strings carry unescaped: one code per version (or dataset) is 1-3 of them."""


def _facet_column(per_version: list[int], counts: list[int], combos: list[tuple[int, ...]]) -> dict[str, Any]:
    """One facet, compact: `c` the distinct value sets (lists of value indexes), `w` characters per
    code, and `d` (one code per dataset, when every dataset's versions agree: datastack, format and
    tags usually do) or `v` (one code per version). ~1 byte per version or dataset instead of ~6."""
    w = 1
    while len(CODE_CHARS) ** w < len(combos):
        w += 1

    def code(i: int) -> str:
        out = ""
        for _ in range(w):
            i, r = divmod(i, len(CODE_CHARS))
            out = CODE_CHARS[r] + out
        return out

    per_dataset, start, constant = [], 0, True
    for n in counts:
        first = per_version[start] if n else 0
        if any(x != first for x in per_version[start:start + n]):
            constant = False
            break
        per_dataset.append(first)
        start += n
    out: dict[str, Any] = {"c": [list(c) for c in combos], "w": w}
    if constant:
        out["d"] = "".join(code(i) for i in per_dataset)
    else:
        out["v"] = "".join(code(i) for i in per_version)
    return out


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def write_search_index(catalog: RegistrySnapshot, out_dir: str, cache_dir: Optional[str] = None) -> SearchIndexSize:
    """Write `catalog/search/**`. With `cache_dir`, the gzipped size of each file is remembered by
    content hash (compressing every shard again would be most of a rebuild's index time) and a
    file whose bytes are unchanged keeps its previous copy (hard link from the cache)."""
    target = os.path.join(out_dir, "catalog", "search")
    os.makedirs(os.path.join(target, "terms"), exist_ok=True)
    os.makedirs(os.path.join(target, "records"), exist_ok=True)
    memo: dict[str, int] = {}
    cache = None
    if cache_dir is not None:
        cache = os.path.join(cache_dir, "files")
        os.makedirs(cache, exist_ok=True)
        try:
            with open(os.path.join(cache_dir, "gzip-sizes.json")) as fh:
                memo = json.load(fh)
        except (FileNotFoundError, ValueError):
            memo = {}
    used: dict[str, int] = {}
    sums = {"terms": [0, 0], "facets": [0, 0], "records": [0, 0]}
    written = 0
    for rel, raw in search_files(catalog).items():
        digest = hashlib.sha256(raw).hexdigest()
        gz = memo.get(digest)
        if gz is None:
            gz = len(gzip.compress(raw, 6))
            written += rel.startswith("terms/")
        used[digest] = gz
        dest = os.path.join(target, rel)
        if cache is not None:
            kept = os.path.join(cache, digest)
            if not os.path.exists(kept):
                with open(kept + ".tmp", "wb") as fh:
                    fh.write(raw)
                os.replace(kept + ".tmp", kept)
            try:
                os.link(kept, dest)
            except OSError:
                shutil.copyfile(kept, dest)
        else:
            with open(dest, "wb") as fh:
                fh.write(raw)
        kind = "terms" if rel.startswith("terms/") else "records" if rel.startswith("records/") else \
            "facets" if rel in ("meta.json", "facets.json") else None
        if kind:
            sums[kind][0] += len(raw)
            sums[kind][1] += gz
    if cache_dir is not None and cache is not None:  # content-addressed: what this build did not use is stale
        with open(os.path.join(cache_dir, "gzip-sizes.json"), "w") as fh:
            json.dump(used, fh)
        for name in os.listdir(cache):
            if name not in used:
                os.unlink(os.path.join(cache, name))
    n_shards = sum(1 for _ in os.scandir(os.path.join(target, "terms")))
    return SearchIndexSize(index_bytes=sums["terms"][0], index_gzip_bytes=sums["terms"][1],
                           facets_bytes=sums["facets"][0], facets_gzip_bytes=sums["facets"][1],
                           columns_bytes=sums["records"][0], columns_gzip_bytes=sums["records"][1],
                           shards=n_shards, shards_built=written)
