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
* `terms/tail.json` (after an incremental build, `meta.json` `tail: 1`): the postings of the blocks
  appended since the last merge, shard format, ids after every id the shards hold for each word;
  readers take a word's expansions from the shards and the tail together (`search_rules.Index`)

A one-document rebuild (`cache_dir`) does work proportional to the change (docs/site.md, "Search",
measured in docs/benchmarks.md): what the display files need from each dataset is one `Entry`, a
per-dataset part (`RegistrySnapshot.part`), so no unchanged dataset's documents are read; record
chunks whose datasets are the same documents at the same ids are kept without being computed; and
no term shard is rewritten for a new version. Of the two ways to cut the shard rewrites (a
dataset's ~400 words sit in most shards: 435 of 705 shards at 10k were rewritten for one new
version), both are used: a hole's postings stay in the shards (readers drop its ids), removed only
for the words its dataset no longer has, which keeps every indexed word live (so prefix
expansions, capped at `MAX_EXPANSIONS` words, stay a clean build's); and the changed datasets'
postings go to one small tail file instead of into the shards, merged into them (one rewrite of the
shards holding its words) once it outgrows `TAIL_SHARDS` x `SHARD_BYTES`. One tail file rather
than tail shards: it is ~2.3 kB gzipped per changed dataset (at most ~40 kB gz, fetched as soon as
`meta.json` is in, in parallel with the first term shard: no extra round trip), rebuilt from the kept
postings of its blocks (`blocks/` in the cache) in a few ms each.

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
from typing import Any, NamedTuple, Optional

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
    tail_bytes: int = 0
    """Raw size of `terms/tail.json`, the postings appended since the last merge (0: none)."""

    @property
    def total_gzip_bytes(self) -> int:
        """What every query loads before its term shards: meta + facets."""
        return self.facets_gzip_bytes


def _facet_values(v) -> dict[str, list]:
    return {"s": [v.datastack], "f": [v.format.value], "st": [v.status.value],
            "m": list(v.materialization.all_versions), "t": list(v.tags)}


class Entry(NamedTuple):
    """What the index's display files and id layout need from one dataset (`search_entry`): a
    per-dataset part, so a rebuild takes it from the cache instead of parsing the documents."""

    fingerprint: str
    """What fixes the dataset's term postings (`_fingerprint`)."""
    versions: int
    facets: tuple
    """Per version, the values of each facet in `FACETS` order (tuples)."""
    latest: int
    """The position of the latest version among the dataset's versions, -1 for none."""
    record: dict
    """The display record (`records/<c>.json`)."""
    refs: tuple


ENTRY_KIND = "search-entry-1"
"""The part kind of `search_entry` (a new name whenever what it returns changes)."""


def search_entry(ds) -> Entry:
    """One dataset's `Entry`, from its versions (the one place the index reads them for display)."""
    best = ds.latest
    rec: dict[str, Any] = {"n": ds.name, "t": (best or ds.newest).title, "c": [], "v": []}
    col_at: dict[str, int] = {}
    latest, facets, refs = -1, [], []
    for i, v in enumerate(ds.versions):
        if best is not None and v.version == best.version:
            latest = i  # position within the dataset: short numbers
        fv = _facet_values(v)
        facets.append(tuple(tuple(fv[k]) for k in FACETS))
        rec["v"].append([v.version, version_page(v), v.published_at.date().isoformat(),
                         [col_at.setdefault(c.name, len(col_at)) for c in v.inspected.columns]])
        refs.append(v.ref)
    rec["c"] = list(col_at)
    every = list(range(len(col_at)))
    for rv in rec["v"]:  # a version with every column of its dataset, in order, needs no list
        if rv[3] == every:
            rv.pop()
    return Entry(_fingerprint(ds), len(refs), tuple(facets), latest, rec, tuple(refs))


def search_files(catalog: RegistrySnapshot) -> dict[str, bytes]:
    """Every file of the index, ids dense (a full build): relative path under `catalog/search/` -> bytes."""
    files, _state, _words, _blocks = _build(catalog, None)
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
                                      STATE_FORMAT, DATASETS_PER_CHUNK]).encode() + _RULES_SOURCE).hexdigest()[:32]


STATE_FORMAT = 2
_RULES_SOURCE = Path(rules.__file__).read_bytes()
COMPACT_DEAD_FRACTION = 0.25
"""Stable ids leave holes where a dataset's block was; past this share of holes the next build lays
every id out again (dense, a full rewrite of the term shards)."""
MAX_SHARD_GROWTH = 8
"""A term shard that grew past this many times `SHARD_BYTES` by incremental additions forces a full
re-sharding (shards keep their boundaries between full builds)."""
TAIL_SHARDS = 8
"""The tail (`terms/tail.json`, the postings of the blocks appended since the last merge, fetched by
every query) is merged into the term shards once it would pass this many times `SHARD_BYTES` raw."""
TAIL = "terms/tail.json"


def _layout(catalog: RegistrySnapshot, state: Optional[dict], entry) -> tuple[list[list], list]:
    """The id layout: dataset blocks in id order, `[name or None, versions, fingerprint]`, and the
    datasets whose blocks are new this build (appended at the end). `entry(ds)` is the dataset's
    `Entry` (a part: an unchanged dataset's comes from the cache, its documents unread).

    Version ids are stable between incremental builds: a dataset keeps its block of ids while its
    versions and their searchable texts are unchanged (a deprecation keeps them too). A dataset
    that changed (a new or removed version, an edited text) gets a new block at the end and its old
    block becomes a hole (name None); a removed dataset leaves a hole. Readers drop versions of
    dead blocks (`facets.json` `x`). A full build (no state) is dense, in name order: the layout of
    a clean build, byte for byte the files it made."""
    if state is None:
        return [[name, entry(ds).versions, entry(ds).fingerprint] for name, ds in catalog.datasets.items()], \
            list(catalog.datasets.values())
    entries, kept = [], set()
    for name, n, fp in state["entries"]:
        ds = catalog.datasets.get(name) if name is not None else None
        if ds is not None and ds.count == n and entry(ds).fingerprint == fp:
            entries.append([name, n, fp])
            kept.add(name)
        else:
            entries.append([None, n, None])
    added = [ds for name, ds in catalog.datasets.items() if name not in kept]
    entries += [[ds.name, entry(ds).versions, entry(ds).fingerprint] for ds in added]
    return entries, added


def _build(catalog: RegistrySnapshot, state: Optional[dict], load=None, words_of=None, block_of=None):
    """(files, state, words, blocks): relative path -> (sha256 of its bytes, the bytes, or None when
    it is the previous build's file of that digest, unchanged), the state the next build starts
    from, the words of each dataset indexed this time and the postings of each block in the tail
    (both by fingerprint). `state`, `load(digest)` (a reader of the previous files),
    `words_of(fingerprint)` (the words a previous build kept) and `block_of(fingerprint)` (a tail
    block's postings kept by a previous build): None for a full (dense) build.

    An incremental build (the design, docs/site.md "Search"): the postings of the blocks appended
    since the last merge live in one small tail file, rebuilt each time from their kept postings; a
    hole's postings stay in the term shards (readers drop its ids) except for the words the
    dataset no longer has, so a new version rewrites no term shard. The tail is merged into the
    shards when it outgrows `TAIL_SHARDS`, the layout compacted past `COMPACT_DEAD_FRACTION` holes."""
    if state is not None and (state.get("format") != STATE_FORMAT or state.get("rules") != _rules_hash()
                              or not state.get("shards") or load is None or words_of is None
                              or block_of is None):
        state = None
    memo: dict[str, Entry] = {}

    def entry(ds) -> Entry:
        got = memo.get(ds.name)
        if got is None:
            got = memo[ds.name] = catalog.part(ENTRY_KIND, ds, search_entry)
        return got

    entries, added = _layout(catalog, state, entry)
    slots = sum(n for _, n, _ in entries)
    dead = sum(n for name, n, _ in entries if name is None)
    if state is not None and dead > COMPACT_DEAD_FRACTION * max(slots, 1):
        state = None
        entries, added = _layout(catalog, None, entry)
        slots, dead = sum(n for _, n, _ in entries), 0
    files: dict[str, tuple[str, Optional[bytes]]] = {}

    def put(rel: str, raw: Optional[bytes], digest: str = "") -> str:
        """Add a file (`raw` None: the previous build's file of `digest`, unchanged)."""
        files[rel] = (digest if raw is None else hashlib.sha256(raw).hexdigest(), raw)
        return files[rel][0]

    shards: list[list[str]] = []
    words: dict[str, list[str]] = {}  # fingerprint -> the words of that dataset (for its later removal)
    blocks: dict[str, dict[str, list[int]]] = {}  # fingerprint -> postings of a tail block (from 0)
    linger: dict[str, list[list]] = {}
    base, tail = slots, None
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
        base = state["base"]
        linger = {k: [list(h) for h in v] for k, v in state.get("linger", {}).items()}
        fresh = {}
        for ds in added:
            fp = entry(ds).fingerprint
            fresh[ds.name] = blocks[fp] = rules.build_postings(rules.catalog_terms(ds.versions))
            words[fp] = sorted(blocks[fp])
        drops = _lingering_drops(state["entries"], entries, base, linger, fresh, words_of)
        # the tail: every live block at or past `base`, in id order. While none of the previous
        # tail's blocks became a hole, that tail plus the new blocks; else again from the kept
        # postings of its blocks
        tail_post, ends, start = _previous_tail(state, entries, base, load), {}, 0
        if tail_post is None:
            tail_post, start_from = {}, 0
        else:
            start_from = sum(n for _name, n, _fp in state["entries"])
            for term, runs in tail_post.items():
                ends[term] = sum(runs[r] + runs[r + 1] for r in range(0, len(runs), 3))
        for name, n, fp in entries:
            if name is not None and start >= max(base, start_from):
                if fp not in blocks:
                    blocks[fp] = block_of(fp)
                _append_block(tail_post, ends, blocks[fp], start)
            start += n
        tail_raw = _shard_file(tail_post) if tail_post else b""
        merge = len(tail_raw) > TAIL_SHARDS * rules.SHARD_BYTES
        if drops or merge:
            changed = _update_shards(shards, tail_post if merge else {}, drops, load, put)
            if changed is None:  # a shard outgrew its bound or emptied: lay everything out again
                return _build(catalog, None)
            files.update(changed)
        if merge:
            base, blocks = slots, {}
        elif tail_post:
            put(TAIL, tail_raw)
            tail = files[TAIL][0]
    layout = [(entry(catalog.datasets[name]) if name is not None else None, n) for name, n, _ in entries]
    cids = [catalog.datasets[name].cid if name is not None else None for name, _n, _fp in entries]
    records = _display_files(layout, put, [f for f, _ in shards], tail is not None,
                             _reusable_chunks(state, cids) if state is not None else {})
    new_state = {"format": STATE_FORMAT, "rules": _rules_hash(), "entries": entries, "shards": shards,
                 "base": base, "tail": tail, "linger": linger, "cids": cids, "records": records}
    return files, new_state, words, blocks


def _previous_tail(state: dict, entries: list[list], base: int, load) -> Optional[dict[str, list[int]]]:
    """The previous build's tail postings when every block in it is still live, else None."""
    start = 0
    for (name, n, _fp), (now, _n, _f) in zip(state["entries"], entries):
        if name is not None and now is None and start >= base:
            return None
        start += n
    if not state.get("tail"):
        return {}
    sh = json.loads(load(state["tail"]))
    return dict(zip(sh["k"], sh["p"]))


def _shard_file(post: dict[str, list[int]]) -> bytes:
    """`rules.shard_json`'s bytes in one encoder call (one call per word was most of a merge)."""
    keys = sorted(post)
    return json.dumps({"k": keys, "p": [post[k] for k in keys]}, separators=(",", ":")).encode()


def _append_block(post: dict[str, list[int]], ends: dict[str, int], block: dict[str, list[int]], start: int) -> None:
    """Add one block's postings (counted from 0) at ids from `start`, after every id in `post`
    (`ends`: the end of each word's last run)."""
    for term, runs in block.items():
        runs = list(runs)
        end = sum(runs[r] + runs[r + 1] for r in range(0, len(runs), 3))
        old = post.get(term)
        if old is None:
            runs[0] += start
            post[term] = runs
        else:
            runs[0] += start - ends[term]
            if runs[0] == 0 and old[-1] == runs[2]:  # contiguous with the last run, same field
                old[-2] += runs[1]
                old.extend(runs[3:])
            else:
                old.extend(runs)
        ends[term] = start + end


def _lingering_drops(old_entries: list[list], entries: list[list], base: int, linger: dict[str, list[list]],
                     fresh: dict[str, dict], words_of) -> list[tuple[str, int, int]]:
    """(word, first id, end id): the postings to remove from the term shards so that every word in
    them keeps a live id. A block in the shards that became a hole *lingers* (its postings stay:
    rewriting every shard holding a word of it was most of a rebuild) under its dataset's name in
    `linger` ([first id, end id, fingerprint]), as long as the words it holds are the dataset's
    current words. When the dataset changes again or goes, its lingering blocks lose the words it
    no longer has (all of them when it is gone). Updates `linger`."""
    start, touched = 0, set()
    for (name, n, fp), (now, _n, _fp) in zip(old_entries, entries):
        if name is not None and now is None:
            touched.add(name)
            if start < base:  # in the shards (a tail block is simply left out of the next tail)
                linger.setdefault(name, []).append([start, start + n, fp])
        start += n
    drops: list[tuple[str, int, int]] = []
    for name in sorted(touched):
        keep = fresh.get(name, {})
        for a, b, fp in linger.get(name, []):
            drops.extend((term, a, b) for term in words_of(fp) if term not in keep)
        if name not in fresh:
            linger.pop(name, None)
    return drops


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


def _update_shards(shards: list[list[str]], new: dict[str, list[int]], drops: list[tuple[str, int, int]],
                   load, put):
    """Remove the ids in [a, b) from the postings of each `drops` word (a word left with none is
    removed) and add postings `new` (absolute ids, after every id already there) at the end of each
    word's postings, in the shard whose range holds the word (a word before every shard goes into
    the first). Only shards whose postings changed are written. Returns the rewritten shard files,
    or None when a shard outgrew `MAX_SHARD_GROWTH` or emptied."""
    firsts = [f for f, _ in shards]

    def home(term: str) -> int:
        return max(0, bisect_right(firsts, term) - 1)

    by_shard: dict[int, tuple[list, list]] = {}
    for term, a, b in drops:
        by_shard.setdefault(home(term), ([], []))[0].append((term, a, b))
    for term in new:
        by_shard.setdefault(home(term), ([], []))[1].append(term)
    out = {}
    for j, (drop, adds) in sorted(by_shard.items()):
        sh = json.loads(load(shards[j][1]))
        post = dict(zip(sh["k"], sh["p"]))
        changed = bool(adds)
        for term, a, b in drop:
            if term in post:
                runs = _drop_range(post[term], a, b)
                if runs == post[term]:
                    continue
                changed = True
                if runs:
                    post[term] = runs
                else:
                    del post[term]
        if not changed:
            continue
        for term in adds:
            old = post.get(term)
            if old is None:
                post[term] = list(new[term])
                continue
            runs = list(new[term])
            runs[0] -= sum(old[r] + old[r + 1] for r in range(0, len(old), 3))
            if runs[0] == 0 and old[-1] == runs[2]:  # contiguous with the last run, same field
                old[-2] += runs[1]
                old.extend(runs[3:])
            else:
                old.extend(runs)
        if not post:
            return None
        raw = _shard_file(post)
        if len(raw) > MAX_SHARD_GROWTH * rules.SHARD_BYTES:
            return None
        rel = f"terms/{j}.json"
        put(rel, raw)
        # a first word stays a lower bound of its shard's words (readers only route by it): so a
        # word's shard never changes between full layouts
        shards[j] = [min(shards[j][0], min(post)), files_digest(raw)]
        out[rel] = (shards[j][1], raw)
    return out


def files_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _reusable_chunks(state: dict, cids: list[Optional[str]]) -> dict[int, str]:
    """Record chunks of the previous build whose datasets are the same documents at the same ids
    (same content ids, no new hole): chunk number -> its digest, kept without being computed."""
    old = state.get("cids") or []
    digests = state.get("records") or []
    out = {}
    for c, digest in enumerate(digests):
        lo, hi = c * DATASETS_PER_CHUNK, (c + 1) * DATASETS_PER_CHUNK
        mine = cids[lo:hi]
        if mine and mine == old[lo:hi] and all(x is None or x for x in mine):
            out[c] = digest
    return out


def _display_files(blocks: list[tuple[Optional[Entry], int]], put, firsts: list[str], tail: bool,
                   reuse: dict[int, str]) -> list[str]:
    """facets.json, records, refs.json and meta.json over the id layout `blocks`: (the dataset's
    `Entry` or None for a hole, ids in the block), from the entries alone (no document is read).
    Holes get no facet value, a null record and null refs; a layout with holes or out of name
    order says so in `facets.json` (`x`: dead dataset ids, `or`: each dataset id's place in name
    order), so readers filter and break ties as a dense one does. Record chunks in `reuse` (chunk
    -> digest of the previous build's identical file) are not computed. Returns every chunk's digest."""
    live = [e for e, _ in blocks if e is not None]
    values: list[dict[Any, int]] = [{} for _ in FACETS]
    for e in live:
        for fv in set(e.facets):
            for i, xs in enumerate(fv):
                for x in xs:
                    values[i].setdefault(x, 0)
    ordered = {k: sorted(values[i], key=(lambda x: x) if k == "m" else str) for i, k in enumerate(FACETS)}
    for i, k in enumerate(FACETS):
        values[i] = {x: j for j, x in enumerate(ordered[k])}
    combos: list[dict[tuple[int, ...], int]] = [{} for _ in FACETS]
    per_version: list[list[int]] = [[] for _ in FACETS]
    counts: list[int] = []
    latest: list[int] = []
    refs: list[Optional[str]] = []
    dead: list[int] = []
    vid = 0
    for d, (got, n) in enumerate(blocks):
        counts.append(n)
        if got is None:
            latest.append(-1)
            dead.append(d)
            for i in range(len(FACETS)):
                per_version[i].extend([combos[i].setdefault((), len(combos[i]))] * n)
            refs.extend([None] * n)
            vid += n
            continue
        latest.append(got.latest)
        seen: dict[tuple, tuple[int, ...]] = {}  # versions of a dataset mostly share their facet values
        for fv in got.facets:
            codes = seen.get(fv)
            if codes is None:
                codes = seen[fv] = tuple(combos[i].setdefault(tuple(sorted({values[i][x] for x in xs})), len(combos[i]))
                                         for i, xs in enumerate(fv))
            for i, c in enumerate(codes):
                per_version[i].append(c)
        refs.extend(got.refs)
        vid += n
    chunks = []
    for c in range(0, len(blocks), DATASETS_PER_CHUNK):
        rel = f"records/{c // DATASETS_PER_CHUNK}.json"
        digest = reuse.get(c // DATASETS_PER_CHUNK)
        if digest is None:
            digest = put(rel, _dumps([e.record if e is not None else None for e, _ in blocks[c:c + DATASETS_PER_CHUNK]]))
        else:
            put(rel, None, digest)
        chunks.append(digest)
    cols = {k: _facet_column(per_version[i], counts, list(combos[i])) for i, k in enumerate(FACETS)}
    facets: dict[str, Any] = {"n": counts, "l": latest, "cols": cols}
    if dead:
        facets["x"] = dead
    rank = {name: i for i, name in enumerate(sorted(e.record["n"] for e in live))}
    order = [rank[e.record["n"]] if e is not None else -1 for e, _ in blocks]
    if order != list(range(len(blocks))):
        facets["or"] = order_runs(order)
    put("facets.json", _dumps(facets))
    put("refs.json", _dumps(refs))
    meta = {
        "format": rules.INDEX_FORMAT, "versions": vid, "datasets": len(blocks), "firsts": firsts,
        "chunk": DATASETS_PER_CHUNK, "fields": list(rules.FIELDS), "weights": list(rules.WEIGHTS),
        "prefix_factor": rules.PREFIX_FACTOR, "max_expansions": rules.MAX_EXPANSIONS, "values": ordered,
    }
    if tail:
        meta["tail"] = 1
    put("meta.json", _dumps(meta))
    return chunks


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
    table = [code(i) for i in range(len(combos))]
    out["d" if constant else "v"] = "".join(map(table.__getitem__, per_dataset if constant else per_version))
    return out


def order_runs(order: list[int]) -> list[list[int]]:
    """Each dataset id's place in name order (-1 for a hole) as runs `[first id, first place,
    length]` in which the place grows by one per id (a hole run: place -1, the same for all). An
    incremental layout is a few runs (the appended blocks, the holes) where one number per dataset
    was ~190 kB (74 kB gz) of every query's `facets.json` at 100,000 versions."""
    runs: list[list[int]] = []
    for d, place in enumerate(order):
        if runs:
            first, start, n = runs[-1]
            if first + n == d and (place == start + n if start >= 0 else place == -1 == start):
                runs[-1][2] += 1
                continue
        runs.append([d, place, 1])
    return runs


def expand_order(runs: list[list[int]]) -> list[int]:
    """The inverse of `order_runs` (what `search-engine.js` does with `or`)."""
    out: list[int] = []
    for _first, start, n in runs:
        out.extend([-1] * n if start < 0 else range(start, start + n))
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
    blocks_dir = os.path.join(cache_dir, "blocks") if cache_dir is not None else ""

    def words_of(fp: str) -> list[str]:
        with open(os.path.join(words_dir, fp + ".json"), encoding="utf-8") as fh:
            return json.load(fh)

    def block_of(fp: str) -> dict[str, list[int]]:
        with open(os.path.join(blocks_dir, fp + ".json"), encoding="utf-8") as fh:
            return json.load(fh)

    if usable and state is not None:  # every block's words must be there to remove them later
        need = _state_fingerprints(state)
        have = {d: set(os.listdir(d)) if os.path.isdir(d) else set() for d in (words_dir, blocks_dir)}
        usable = all(fp + ".json" in have[words_dir] for fp in need["words"]) and \
            all(fp + ".json" in have[blocks_dir] for fp in need["blocks"])
    files, new_state, words, blocks = _build(catalog, state if usable else None, load if usable else None,
                                             words_of if usable else None, block_of if usable else None)
    used: dict[str, int] = {}
    sums = {"terms": [0, 0], "facets": [0, 0], "records": [0, 0]}
    written = 0
    for rel, (digest, raw) in files.items():
        gz = memo.get(digest)
        if gz is None:
            gz = len(gzip.compress(raw, 6))
            written += rel.startswith("terms/") and rel != TAIL
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
            fh.write(json.dumps(used))  # dumps: the C encoder (dump streams through Python)
        os.makedirs(words_dir, exist_ok=True)
        for fp, ws in words.items():
            with open(os.path.join(words_dir, fp + ".json"), "w", encoding="utf-8") as wf:
                wf.write(json.dumps(ws, ensure_ascii=False))
        need = _state_fingerprints(new_state)
        os.makedirs(blocks_dir, exist_ok=True)
        for fp, post in blocks.items():
            path = os.path.join(blocks_dir, fp + ".json")
            if not os.path.exists(path):
                with open(path, "w", encoding="utf-8") as wf:
                    wf.write(json.dumps(post, ensure_ascii=False, separators=(",", ":")))
        for folder, keep in ((words_dir, need["words"]), (blocks_dir, need["blocks"])):
            keep_files = {fp + ".json" for fp in keep}
            for name in os.listdir(folder):
                if name not in keep_files:
                    os.unlink(os.path.join(folder, name))
        with open(os.path.join(cache_dir, "layout.json"), "w") as fh:
            fh.write(json.dumps(new_state))
        for name in os.listdir(cache):
            if name not in used:
                os.unlink(os.path.join(cache, name))
    n_shards = len(new_state["shards"])
    return SearchIndexSize(index_bytes=sums["terms"][0], index_gzip_bytes=sums["terms"][1],
                           facets_bytes=sums["facets"][0], facets_gzip_bytes=sums["facets"][1],
                           columns_bytes=sums["records"][0], columns_gzip_bytes=sums["records"][1],
                           shards=n_shards, shards_built=written,
                           tail_bytes=os.path.getsize(os.path.join(target, TAIL)) if new_state["tail"] else 0)


def _state_digests(state: Optional[dict]) -> list[str]:
    """The files a state needs from the cache: its term shards and record chunks (a state whose
    files are gone is not used)."""
    if not isinstance(state, dict) or not isinstance(state.get("shards"), list):
        return []
    return [d for _f, d in state["shards"]] + list(state.get("records") or []) + \
        ([state["tail"]] if state.get("tail") else [])


def _state_fingerprints(state: dict) -> dict[str, set[str]]:
    """The per-block files a state needs: the words of every live or lingering block (to remove
    them later) and the postings of every live block in the tail (to write the next tail)."""
    words, tail, start = set(), set(), 0
    for name, n, fp in state["entries"]:
        if name is not None:
            words.add(fp)
            if start >= state.get("base", 0):
                tail.add(fp)
        start += n
    for held in state.get("linger", {}).values():
        words.update(fp for _a, _b, fp in held)
    return {"words": words, "blocks": tail}
