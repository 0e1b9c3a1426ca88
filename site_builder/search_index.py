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
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
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
    """Every file of the index, ids dense (a full build): relative path under `catalog/search/` -> bytes."""
    files, _state, _words = _build(catalog, None)
    return {rel: raw for rel, (_digest, raw) in files.items()}


def _fingerprint(ds) -> str:
    """What fixes a dataset's term postings: its versions in order and their searchable texts.
    A deprecation changes neither (only its facets), so it keeps the dataset's ids."""
    h = hashlib.sha256()
    for v in ds.versions:
        h.update(json.dumps([v.ref, *rules.version_fields(v)], ensure_ascii=False).encode())
    return h.hexdigest()[:32]


def _rules_hash() -> str:
    """The index rules in force: a state built under other rules or another format is not reused."""
    return hashlib.sha256(json.dumps([rules.INDEX_FORMAT, rules.FIELDS, rules.WEIGHTS, rules.SHARD_BYTES,
                                      STATE_FORMAT]).encode() + _RULES_SOURCE).hexdigest()[:32]


STATE_FORMAT = 1
_RULES_SOURCE = Path(rules.__file__).read_bytes()
COMPACT_DEAD_FRACTION = 0.25
"""Stable ids leave holes where a dataset's block was; past this share of holes the next build lays
every id out again (dense, a full rewrite of the term shards)."""
MAX_SHARD_GROWTH = 8
"""A term shard that grew past this many times `SHARD_BYTES` by incremental additions forces a full
re-sharding (shards keep their boundaries between full builds)."""


def _layout(catalog: RegistrySnapshot, state: Optional[dict]) -> tuple[list[list], list]:
    """The id layout: dataset blocks in id order, `[name or None, versions, fingerprint]`, and the
    datasets whose blocks are new this build (appended at the end).

    Version ids are stable between incremental builds: a dataset keeps its block of ids while its
    versions and their searchable texts are unchanged (a deprecation keeps them too). A dataset
    that changed (a new or removed version, an edited text) gets a new block at the end and its old
    block becomes a hole (name None); a removed dataset leaves a hole. So a rebuild appends postings
    for the changed datasets' words and rewrites only the shards holding those words. Holes stay
    in old postings: readers drop versions of dead blocks (`facets.json` `x`). A full build (no
    state) is dense, in name order: the layout of a clean build, byte for byte the files it made."""
    fps = {name: _fingerprint(ds) for name, ds in catalog.datasets.items()}
    if state is None:
        return [[name, len(ds.versions), fps[name]] for name, ds in catalog.datasets.items()], \
            list(catalog.datasets.values())
    entries, kept = [], set()
    for name, n, fp in state["entries"]:
        ds = catalog.datasets.get(name) if name is not None else None
        if ds is not None and fps[name] == fp and len(ds.versions) == n:
            entries.append([name, n, fp])
            kept.add(name)
        else:
            entries.append([None, n, None])
    added = [ds for name, ds in catalog.datasets.items() if name not in kept]
    entries += [[ds.name, len(ds.versions), fps[ds.name]] for ds in added]
    return entries, added


def _build(catalog: RegistrySnapshot, state: Optional[dict], load=None, words_of=None):
    """(files, state, words): relative path -> (sha256 of its bytes, the bytes, or None when it is
    the previous build's file of that digest, unchanged), the state the next build starts from,
    and the words of each dataset indexed this time (by fingerprint). `state`, `load(digest)` (a
    reader of its shard files) and `words_of(fingerprint)` (the words a previous build kept): None
    for a full (dense) build."""
    if state is not None and (state.get("format") != STATE_FORMAT or state.get("rules") != _rules_hash()
                              or not state.get("shards") or load is None or words_of is None):
        state = None
    entries, added = _layout(catalog, state)
    slots = sum(n for _, n, _ in entries)
    dead = sum(n for name, n, _ in entries if name is None)
    if state is not None and dead > COMPACT_DEAD_FRACTION * max(slots, 1):
        state = None
        entries, added = _layout(catalog, None)
        slots, dead = sum(n for _, n, _ in entries), 0
    files: dict[str, tuple[str, Optional[bytes]]] = {}

    def put(rel: str, raw: bytes) -> None:
        files[rel] = (hashlib.sha256(raw).hexdigest(), raw)

    base = slots - sum(len(ds.versions) for ds in added)  # the first id of the appended blocks
    shards: list[list[str]] = []
    words: dict[str, list[str]] = {}  # fingerprint -> the words of that dataset (for its later removal)
    if state is None:
        post = rules.build_postings(_collect_words(added, entries, words))
        for j, (terms, bodies) in enumerate(rules.shard_postings(post)):
            raw = rules.shard_json(terms, bodies)
            put(f"terms/{j}.json", raw)
            shards.append([terms[0], files[f"terms/{j}.json"][0]])
        del post
    else:
        shards = [list(s) for s in state["shards"]]
        files.update({f"terms/{j}.json": (digest, None) for j, (_first, digest) in enumerate(shards)})
        new = rules.build_postings(_collect_words(added, entries, words))
        gone = _gone_blocks(state["entries"], entries)
        if new or gone:
            changed = _update_shards(shards, new, base, gone, words_of, load, put)
            if changed is None:  # a shard outgrew its bound or emptied: lay everything out again
                return _build(catalog, None)
            files.update(changed)
    by_name = catalog.datasets
    blocks = [(by_name[name] if name is not None else None, n) for name, n, _ in entries]
    _display_files(blocks, put, len(shards), [f for f, _ in shards])
    new_state = {"format": STATE_FORMAT, "rules": _rules_hash(), "entries": entries, "shards": shards}
    return files, new_state, words


def _collect_words(datasets, entries: list[list], sink: dict[str, list[str]]):
    """`catalog_terms` of the datasets' versions in order; each dataset's words are kept in `sink`
    under its fingerprint (the id of its block in `entries`)."""
    fp = {name: f for name, _n, f in entries if name is not None}
    for ds in datasets:
        mine: set[str] = set()
        for terms in rules.catalog_terms(ds.versions):
            mine.update(terms)
            yield terms
        sink[fp[ds.name]] = sorted(mine)


def _gone_blocks(old_entries: list[list], entries: list[list]) -> list[tuple[str, int, int]]:
    """(fingerprint, first id, end id) of each block that was live in the previous layout and is a
    hole now: its postings are removed, so the index holds no id of a hole."""
    out, start = [], 0
    for (name, n, fp), (now, _n, _fp) in zip(old_entries, entries):
        if name is not None and now is None:
            out.append((fp, start, start + n))
        start += n
    return out


def _drop_range(runs: list[int], a: int, b: int) -> list[int]:
    """Postings `runs` without the ids in [a, b), in the canonical form `build_postings` makes."""
    out: list[int] = []
    vid = last = 0
    for r in range(0, len(runs), 3):
        vid += runs[r]
        s, e, code = vid, vid + runs[r + 1], runs[r + 2]
        vid = e
        for ps, pe in ((s, min(e, a)), (max(s, b), e)):
            if pe <= ps:
                continue
            if out and last == ps and out[-1] == code:
                out[-2] += pe - ps
            else:
                out.extend((ps - last, pe - ps, code))
            last = pe
    return out


def _update_shards(shards: list[list[str]], new: dict[str, list[int]], base: int,
                   gone: list[tuple[str, int, int]], words, load, put):
    """Remove the ids of the `gone` blocks from their words' postings (a word left with none is
    removed) and add postings `new` (ids counted from `base`) at the end of each word's postings,
    in the shard whose range holds the word (a word before every shard goes into the first).
    Returns the rewritten shard files, or None when a shard outgrew `MAX_SHARD_GROWTH` or emptied."""
    firsts = [f for f, _ in shards]

    def home(term: str) -> int:
        return max(0, bisect_right(firsts, term) - 1)

    by_shard: dict[int, tuple[list, list]] = {}
    for fp, a, b in gone:
        for term in words(fp):
            by_shard.setdefault(home(term), ([], []))[0].append((term, a, b))
    for term in new:
        by_shard.setdefault(home(term), ([], []))[1].append(term)
    out = {}
    for j, (drops, adds) in sorted(by_shard.items()):
        sh = json.loads(load(shards[j][1]))
        post = dict(zip(sh["k"], sh["p"]))
        for term, a, b in drops:
            if term in post:
                runs = _drop_range(post[term], a, b)
                if runs:
                    post[term] = runs
                else:
                    del post[term]
        for term in adds:
            runs = list(new[term])
            runs[0] += base
            old = post.get(term)
            if old is None:
                post[term] = runs
                continue
            end = sum(old[r] + old[r + 1] for r in range(0, len(old), 3))
            runs[0] -= end
            if runs[0] == 0 and old[-1] == runs[2]:  # contiguous with the last run, same field
                old[-2] += runs[1]
                old.extend(runs[3:])
            else:
                old.extend(runs)
        if not post:
            return None
        keys = sorted(post)
        raw = rules.shard_json(keys, [json.dumps(post[k], separators=(",", ":")) for k in keys])
        if len(raw) > MAX_SHARD_GROWTH * rules.SHARD_BYTES:
            return None
        rel = f"terms/{j}.json"
        put(rel, raw)
        shards[j] = [keys[0], files_digest(raw)]
        out[rel] = (shards[j][1], raw)
    return out


def files_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _display_files(blocks, put, n_shards: int, firsts: list[str]) -> None:
    """facets.json, records, refs.json and meta.json over the id layout `blocks`: (dataset or None
    for a hole, ids in the block). Holes get no facet value, a null record and null refs; a layout
    with holes or out of name order says so in `facets.json` (`x`: dead dataset ids, `o`: each
    dataset id's position in name order), so readers filter and break ties as a dense one does."""
    live = [ds for ds, _ in blocks if ds is not None]
    values: dict[str, dict[Any, int]] = {k: {} for k in FACETS}
    for ds in live:
        for v in ds.versions:
            for k, xs in _facet_values(v).items():
                for x in xs:
                    values[k].setdefault(x, 0)
    ordered = {k: sorted(values[k], key=(lambda x: x) if k == "m" else str) for k in FACETS}
    for k in FACETS:
        values[k] = {x: i for i, x in enumerate(ordered[k])}
    combos: dict[str, dict[tuple[int, ...], int]] = {k: {} for k in FACETS}
    per_version: dict[str, list[int]] = {k: [] for k in FACETS}
    counts: list[int] = []
    latest: list[int] = []
    refs: list[Optional[str]] = []
    records: list[Optional[dict[str, Any]]] = []
    dead = []
    vid = 0
    for d, (ds, n) in enumerate(blocks):
        counts.append(n)
        latest.append(-1)
        if ds is None:
            dead.append(d)
            for k in FACETS:
                per_version[k].extend([combos[k].setdefault((), len(combos[k]))] * n)
            refs.extend([None] * n)
            records.append(None)
            vid += n
            continue
        best = ds.latest
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
        put(f"records/{c // DATASETS_PER_CHUNK}.json", _dumps(records[c:c + DATASETS_PER_CHUNK]))
    cols = {k: _facet_column(per_version[k], counts, list(combos[k])) for k in FACETS}
    facets: dict[str, Any] = {"n": counts, "l": latest, "cols": cols}
    if dead:
        facets["x"] = dead
    rank = {name: i for i, name in enumerate(sorted(ds.name for ds in live))}
    order = [rank[ds.name] if ds is not None else -1 for ds, _ in blocks]
    if order != list(range(len(blocks))):
        facets["o"] = order
    put("facets.json", _dumps(facets))
    put("refs.json", _dumps(refs))
    put("meta.json", _dumps({
        "format": rules.INDEX_FORMAT, "versions": vid, "datasets": len(records), "firsts": firsts,
        "chunk": DATASETS_PER_CHUNK, "fields": list(rules.FIELDS), "weights": list(rules.WEIGHTS),
        "prefix_factor": rules.PREFIX_FACTOR, "max_expansions": rules.MAX_EXPANSIONS, "values": ordered,
    }))
    assert n_shards == len(firsts)


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
    """Write `catalog/search/**`. With `cache_dir`, version ids are stable between builds (`_layout`;
    its state is `cache_dir/layout.json`), the files are kept there by content hash with their
    gzipped sizes (compressing every shard again would be most of a rebuild's index time), and a
    file whose bytes are unchanged keeps its previous copy (hard link from the cache): a rebuild
    after one document computes and writes only the term shards holding that dataset's words."""
    target = os.path.join(out_dir, "catalog", "search")
    os.makedirs(os.path.join(target, "terms"), exist_ok=True)
    os.makedirs(os.path.join(target, "records"), exist_ok=True)
    memo: dict[str, int] = {}
    cache = ""  # the content-addressed copies (with cache_dir)
    state: Optional[dict] = None
    if cache_dir is not None:
        cache = os.path.join(cache_dir, "files")
        os.makedirs(cache, exist_ok=True)
        try:
            with open(os.path.join(cache_dir, "gzip-sizes.json")) as fh:
                memo = json.load(fh)
            with open(os.path.join(cache_dir, "layout.json")) as fh:
                state = json.load(fh)
        except (FileNotFoundError, ValueError):
            memo, state = {}, None

    def load(digest: str) -> bytes:
        with open(os.path.join(cache, digest), "rb") as fh:
            return fh.read()

    usable = state is not None and all(d in memo and os.path.exists(os.path.join(cache, d)) for d in _state_digests(state))
    words_dir = os.path.join(cache_dir, "words") if cache_dir is not None else ""

    def words_of(fp: str) -> list[str]:
        with open(os.path.join(words_dir, fp + ".json"), encoding="utf-8") as fh:
            return json.load(fh)

    if usable and state is not None:  # every block's words must be there to remove them later
        usable = all(os.path.exists(os.path.join(words_dir, fp + ".json")) for name, _n, fp in state["entries"]
                     if name is not None)
    files, new_state, words = _build(catalog, state if usable else None, load if usable else None,
                                     words_of if usable else None)
    used: dict[str, int] = {}
    sums = {"terms": [0, 0], "facets": [0, 0], "records": [0, 0]}
    written = 0
    for rel, (digest, raw) in files.items():
        gz = memo.get(digest)
        if gz is None:
            gz = len(gzip.compress(raw, 6))
            written += rel.startswith("terms/")
        used[digest] = gz
        dest = os.path.join(target, rel)
        if cache:
            kept = os.path.join(cache, digest)
            if raw is not None and not os.path.exists(kept):
                with open(kept + ".tmp", "wb") as out:
                    out.write(raw)
                os.replace(kept + ".tmp", kept)
            try:
                os.link(kept, dest)
            except OSError:
                shutil.copyfile(kept, dest)
        else:
            assert raw is not None  # without a cache every file is built, none reused
            with open(dest, "wb") as out:
                out.write(raw)
        kind = "terms" if rel.startswith("terms/") else "records" if rel.startswith("records/") else \
            "facets" if rel in ("meta.json", "facets.json") else None
        if kind:
            sums[kind][0] += len(raw) if raw is not None else os.path.getsize(dest)
            sums[kind][1] += gz
    if cache_dir is not None:  # content-addressed: what this build did not use is stale
        with open(os.path.join(cache_dir, "gzip-sizes.json"), "w") as fh:
            json.dump(used, fh)
        os.makedirs(words_dir, exist_ok=True)
        for fp, ws in words.items():
            with open(os.path.join(words_dir, fp + ".json"), "w", encoding="utf-8") as wf:
                json.dump(ws, wf, ensure_ascii=False)
        live = {fp + ".json" for name, _n, fp in new_state["entries"] if name is not None}
        for name in os.listdir(words_dir):
            if name not in live:
                os.unlink(os.path.join(words_dir, name))
        with open(os.path.join(cache_dir, "layout.json"), "w") as fh:
            json.dump(new_state, fh)
        for name in os.listdir(cache):
            if name not in used:
                os.unlink(os.path.join(cache, name))
    n_shards = sum(1 for _ in os.scandir(os.path.join(target, "terms")))
    return SearchIndexSize(index_bytes=sums["terms"][0], index_gzip_bytes=sums["terms"][1],
                           facets_bytes=sums["facets"][0], facets_gzip_bytes=sums["facets"][1],
                           columns_bytes=sums["records"][0], columns_gzip_bytes=sums["records"][1],
                           shards=n_shards, shards_built=written)


def _state_digests(state: Optional[dict]) -> list[str]:
    """The shard files a state needs from the cache (a state whose files are gone is not used)."""
    return [d for _f, d in state["shards"]] if isinstance(state, dict) and isinstance(state.get("shards"), list) else []
