"""Catalog text search: one definition of what is searched and how hits rank, for the site and the client.

The site's search page (`templates/assets/search-engine.js`, a line-for-line port of `Index.term_hits`
and `rank` below) and the Python client (`registry.client.search`) both read the same index, built
by `build_index`: the site writes it as static files (`site_builder.search_index`), the client reads
those files over HTTP or builds the same index in memory from a registry. So a query ranks and
filters the same way everywhere (tested in Chromium against the client, `tests/site/test_parity.py`).

Rules (docs/site.md, "Search"):

* Text is split into words: runs of ``[a-z0-9]`` (lowercased), plus identifiers joined by underscores
  as a whole and their tails (`pre_pt_root_id` is indexed as `pre_pt_root_id`, `pt_root_id`,
  `root_id`, `pre`, `pt`, `root`, `id`). A query word with underscores is one word.
* A version's fields, best first: name 10, title 5, column 3, tag 1, owner 1, description 1, column
  description 0.5. A word counts once per version, in its best field.
* A query word matches an index word equal to it (the field's weight) or starting with it (half the
  weight), over at most `MAX_EXPANSIONS` index words in sorted order (the exact word, if indexed,
  comes first). Every query word must match; a version's score is the sum over query words of the
  best match.
* Datasets rank by their best passing version's score, ties by name; versions of one dataset newest
  first. The facets (datastack, materialization, format, status, tag) filter versions first;
  deprecated versions are left out unless a status is asked for.

Everything here is exact in floating point (weights are sums of halves), so JS and Python agree
to the bit.
"""

from __future__ import annotations

import json
import re
import zlib
from bisect import bisect_left, bisect_right
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

FIELDS = ("name", "title", "column", "tag", "owner", "description", "column description")
WEIGHTS = (10.0, 5.0, 3.0, 1.0, 1.0, 1.0, 0.5)
PREFIX_FACTOR = 0.5
MAX_EXPANSIONS = 64
"""A query word expands to at most this many index words (sorted order): a one-letter prefix must
not fetch the whole vocabulary. Type more letters to reach the others (docs/site.md, limits)."""
INDEX_FORMAT = 1
SHARD_BYTES = 24_000
"""Least raw size of a term shard before it may end (shards average ~2x this; one word's postings
may exceed it alone)."""

_RUN = re.compile(r"[a-z0-9]+")
_COMPOUND = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)+")
_TOKEN = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")  # one pass: plain words and whole identifiers


def text_terms(text: str) -> set[str]:
    out = set(_TOKEN.findall(text.lower()))
    for c in [t for t in out if "_" in t]:
        parts = c.split("_")
        out.update(parts)
        for i in range(1, len(parts) - 1):  # `pre_pt_root_id` is found by `pt_root_id` and `root_id`
            out.add("_".join(parts[i:]))
    return out


def query_terms(text: str) -> list[str]:
    """Query words in order, each once: identifiers whole (`pt_root_id`), other text split into runs."""
    out: list[str] = []
    for word in text.lower().split():
        for t in _COMPOUND.findall(word) + _RUN.findall(_COMPOUND.sub(" ", word)):
            if t not in out:
                out.append(t)
    return out


def matched_column(word: str, columns: Sequence[str]) -> Optional[str]:
    """The column a match in the `column` field is in, to show instead of the indexed word (`root`
    is indexed as a part of `pt_root_id`): an exactly equal name first, else the first column whose
    words include `word`; None if none does. `search-engine.js` (`Engine.matched`) has the same rule."""
    for c in columns:
        if c.lower() == word:
            return c
    for c in columns:
        if word in text_terms(c):
            return c
    return None


def version_fields(doc: Any) -> tuple[Any, ...]:
    """The searchable texts of one `DatasetDocument`, in `FIELDS` order (each a string)."""
    return (
        doc.name,
        doc.title,
        " ".join(c.name for c in doc.inspected.columns),
        " ".join(doc.tags),
        " ".join(o.name for o in doc.owners),
        doc.description or "",
        " ".join(c.description for c in doc.columns if c.description),
    )


def version_terms(fields: Sequence[str], memo: Optional[dict[str, set[str]]] = None) -> dict[str, int]:
    """term -> best field code of one version (`memo` shares tokenising of repeated texts)."""
    out: dict[str, int] = {}
    for code in range(len(fields) - 1, -1, -1):  # worst field first, better ones overwrite
        text = fields[code]
        if not text:
            continue
        if memo is None:
            terms = text_terms(text)
        else:
            cached = memo.get(text)
            if cached is None:
                cached = memo[text] = text_terms(text)
            terms = cached
        out.update(dict.fromkeys(terms, code))
    return out


def build_postings(versions: Iterable[dict[str, int]]) -> dict[str, list[int]]:
    """term -> postings over version ids (the iteration order): flat runs `[gap, length, field, ...]`,
    `gap` counted from the end of the previous run. Versions of one dataset are neighbours and share
    most words, so runs are long and the lists small."""
    post: dict[str, list[int]] = {}
    last: dict[str, int] = {}  # term -> end (exclusive) of its last run
    for vid, terms in enumerate(versions):
        for term, code in terms.items():
            lst = post.get(term)
            if lst is None:
                post[term] = [vid, 1, code]
                last[term] = vid + 1
            elif last[term] == vid and lst[-1] == code:
                lst[-2] += 1
                last[term] = vid + 1
            else:
                lst.extend((vid - last[term], 1, code))
                last[term] = vid + 1
    return post


def shard_postings(post: dict[str, list[int]], target: Optional[int] = None) -> Iterator[tuple[list[str], list[str]]]:
    """Split the sorted vocabulary into contiguous shards of about `target` bytes: (terms, the JSON
    of each term's postings). Boundaries are content-defined (a shard may end before a word whose
    hash is 0 mod 8, once it holds `target` bytes; it must end at 4x `target`), so a new word
    moves no boundary but its own shard's: a rebuild rewrites only the shards that changed."""
    target = SHARD_BYTES if target is None else target  # read at call time: tests make shards small
    terms: list[str] = []
    bodies: list[str] = []
    size = 0
    for term in sorted(post):
        body = json.dumps(post[term], separators=(",", ":"))
        if terms and ((size >= target and zlib.crc32(term.encode()) & 7 == 0) or size >= 4 * target):
            yield terms, bodies
            terms, bodies, size = [], [], 0
        terms.append(term)
        bodies.append(body)
        size += len(body) + len(term) + 4
    if terms:
        yield terms, bodies


def shard_json(terms: list[str], bodies: list[str]) -> bytes:
    """One shard file: `{"k": [terms, sorted], "p": [postings of each]}`."""
    return ('{"k":' + json.dumps(terms, separators=(",", ":")) + ',"p":[' + ",".join(bodies) + "]}").encode()


class Index:
    """Reads a term index through `load(j)` (shard j's parsed JSON) and `firsts` (each shard's first
    term), and `tail()` (the parsed `terms/tail.json` an incremental build leaves, `meta.json`
    `tail`; None for none): the postings appended since the last merge, at ids after every id in
    the shards. The site's files, fetched over HTTP, or shards built in memory: same answers."""

    def __init__(self, firsts: Sequence[str], load: Callable[[int], dict[str, Any]],
                 tail: Optional[Callable[[], dict[str, Any]]] = None):
        self.firsts = list(firsts)
        self._load = load
        self._tail = tail
        self._shards: dict[int, dict[str, Any]] = {}

    def shard(self, j: int) -> dict[str, Any]:
        s = self._shards.get(j)
        if s is None:
            s = self._shards[j] = self._load(j)
        return s

    def tail(self) -> Optional[dict[str, Any]]:
        if self._tail is None:
            return None
        s = self._shards.get(-1)
        if s is None:
            s = self._shards[-1] = self._tail()
        return s

    def expansions(self, q: str) -> list[tuple[str, list[int]]]:
        """The index words equal to or starting with `q`, sorted, at most MAX_EXPANSIONS (of the
        shards' and the tail's words together; a word in both has both postings, the tail's after)."""
        out: list[tuple[str, list[int]]] = []
        j = max(0, bisect_right(self.firsts, q) - 1)
        while j < len(self.firsts) and len(out) < MAX_EXPANSIONS:
            sh = self.shard(j)
            keys = sh["k"]
            i = bisect_left(keys, q)
            while i < len(keys) and len(out) < MAX_EXPANSIONS and keys[i].startswith(q):
                out.append((keys[i], sh["p"][i]))
                i += 1
            if i < len(keys) or not (j + 1 < len(self.firsts) and self.firsts[j + 1].startswith(q)):
                break
            j += 1
        tail = self.tail()
        if tail is None:
            return out
        keys = tail["k"]
        more: list[tuple[str, list[int]]] = []
        i = bisect_left(keys, q)
        while i < len(keys) and len(more) < MAX_EXPANSIONS and keys[i].startswith(q):
            more.append((keys[i], tail["p"][i]))
            i += 1
        return merge_expansions(out, more)

    def term_hits(self, q: str) -> dict[int, tuple[float, int, str]]:
        """version id -> (weight, field code, matched word) of the best match of query word `q`."""
        best: dict[int, tuple[float, int, str]] = {}
        for word, runs in self.expansions(q):
            factor = 1.0 if word == q else PREFIX_FACTOR
            vid = 0
            for r in range(0, len(runs), 3):
                vid += runs[r]
                n, code = runs[r + 1], runs[r + 2]
                w = WEIGHTS[code] * factor
                for v in range(vid, vid + n):
                    got = best.get(v)
                    if got is None or got[0] < w:
                        best[v] = (w, code, word)
                vid += n
        return best

    def scores(self, terms: Sequence[str]) -> dict[int, tuple[float, list[tuple[int, str]]]]:
        """version id -> (score, [(field code, word) per query word]) for versions matching every word."""
        if not terms:
            return {}
        per = [self.term_hits(t) for t in terms]
        smallest = min(per, key=len)
        common = [v for v in smallest if all(v in p for p in per)]
        out = {}
        for v in common:
            score = 0.0
            why = []
            for p in per:
                w, code, word = p[v]
                score += w
                why.append((code, word))
            out[v] = (score, why)
        return out


def merge_expansions(main: list[tuple[str, list[int]]], tail: list[tuple[str, list[int]]]) -> list[tuple[str, list[int]]]:
    """The first MAX_EXPANSIONS words of two sorted expansions together; a word in both gets the
    shards' runs then the tail's (whose ids all come after; its first gap is counted from 0, so it
    is shortened by the end of the shards' runs). `search-engine.js` `mergeExpansions` is the same."""
    out: list[tuple[str, list[int]]] = []
    a = b = 0
    while len(out) < MAX_EXPANSIONS and (a < len(main) or b < len(tail)):
        if b >= len(tail) or (a < len(main) and main[a][0] < tail[b][0]):
            out.append(main[a])
            a += 1
        elif a >= len(main) or tail[b][0] < main[a][0]:
            out.append(tail[b])
            b += 1
        else:
            runs, more = main[a][1], list(tail[b][1])
            more[0] -= sum(runs[r] + runs[r + 1] for r in range(0, len(runs), 3))
            out.append((main[a][0], runs + more))
            a += 1
            b += 1
    return out


def catalog_terms(docs: Iterable[Any]) -> Iterator[dict[str, int]]:
    """`version_terms` of each document in order. Repeated texts are tokenised once per run of
    documents with the same name (versions of one dataset share most of their text); the memo is
    dropped at each new name, so it never holds more than one dataset's texts (at 100,000
    versions a catalog-wide memo held gigabytes of one-off column descriptions)."""
    memo: dict[str, set[str]] = {}
    name = None
    for d in docs:
        if d.name != name:
            memo.clear()
            name = d.name
        yield version_terms(version_fields(d), memo)


def build_index(docs: Sequence[Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """In-memory index over `docs` (in version-id order): shard first terms and parsed shards."""
    post = build_postings(catalog_terms(docs))
    firsts, shards = [], []
    for terms, bodies in shard_postings(post):
        firsts.append(terms[0])
        shards.append(json.loads(shard_json(terms, bodies)))
    return firsts, shards


def rank(passing: Iterable[int], dataset_of: Callable[[int], int],
         scores: Optional[dict[int, tuple[float, Any]]]) -> list[tuple[int, float, list[int]]]:
    """[(dataset id, score, [version ids, newest first])] best first. `passing`: version ids that pass
    the facets; `scores`: None for no text (every passing version, score 0), else the text hits.
    Dataset ids follow dataset names in sorted order and version ids publication order within a
    dataset (as `build_index`'s input is arranged), so ties break by name and by newest."""
    groups: dict[int, list[int]] = {}
    best: dict[int, float] = {}
    for v in passing:
        if scores is not None:
            hit = scores.get(v)
            if hit is None:
                continue
            s = hit[0]
        else:
            s = 0.0
        d = dataset_of(v)
        groups.setdefault(d, []).append(v)
        if s > best.get(d, -1.0):
            best[d] = s
    order = sorted(groups, key=lambda d: (-best[d], d))
    return [(d, best[d], sorted(groups[d], reverse=True)) for d in order]
