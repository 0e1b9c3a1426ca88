"""Search over version summaries: the same filters as `feature-registry list` (`registry.source.matches`)
and the site's text ranking (`registry.search_rules`, over the site's own index files or the same
index built in memory from a registry: `TextIndex`). Results are light objects over the summary dicts.

`WordIndex` / `score` are the ranking of sites built before the shared index existed (no
`catalog/search/meta.json`): name 10, title 5, columns 3, description/tags/owners 1 over the summaries."""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from typing import Any, Iterable, Optional, Sequence

from .. import search_rules as rules

_WORD = re.compile(r"[a-z0-9]+")

WEIGHTS = (("name", 10.0), ("title", 5.0), ("columns", 3.0), ("description", 1.0), ("tags", 1.0), ("owners", 1.0))


def _words(value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, (list, tuple)):
        text = " ".join(str(v) for v in value)
    else:
        text = str(value)
    text = text.lower()
    # `pre_pt_root_id` is found by "root" and by "pre_pt_root_id".
    return set(_WORD.findall(text)) | set(text.replace(",", " ").split())


def score(summary: dict[str, Any], terms: list[str]) -> float:
    """0 when some query word matches nowhere (all words must match, as on the site)."""
    total = 0.0
    fields = [(_words(summary.get(f)), w) for f, w in WEIGHTS]
    for term in terms:
        best = 0.0
        for words, weight in fields:
            if term in words:
                best = max(best, weight)
            elif any(w.startswith(term) for w in words):
                best = max(best, weight * 0.5)
        if best == 0.0:
            return 0.0
        total += best
    return total


class WordIndex:
    """An inverted index over a list of summaries, equivalent to `score` on each of them: for every
    word, per field, the positions of the summaries whose field holds it. Built once per index body
    and kept in the client's cache sidecar, so a new process ranks 10,000 versions without
    tokenising any summary. `to_plain()` is builtin data only (the sidecar refuses classes)."""

    def __init__(self, postings: dict[str, tuple[tuple[int, bytes], ...]], size: int):
        self.postings = postings
        self.size = size
        self._vocab: Optional[list[str]] = None

    @classmethod
    def build(cls, summaries: Sequence[dict[str, Any]]) -> "WordIndex":
        per_word: dict[str, dict[int, array]] = {}
        for f, (field, _) in enumerate(WEIGHTS):
            # versions of one dataset repeat their texts: group positions by text, tokenise each text once
            groups: dict[Any, tuple[Any, list[int]]] = {}
            for i, s in enumerate(summaries):
                value = s.get(field)
                key = tuple(map(str, value)) if isinstance(value, (list, tuple)) else value if value is None else str(value)
                got = groups.get(key)
                if got is None:
                    groups[key] = (value, [i])
                else:
                    got[1].append(i)
            for value, positions in groups.values():
                for w in _words(value):
                    fields = per_word.get(w)
                    if fields is None:
                        fields = per_word[w] = {}
                    arr = fields.get(f)
                    if arr is None:
                        fields[f] = array("i", positions)
                    else:
                        arr.extend(positions)
        postings = {w: tuple((f, a.tobytes()) for f, a in sorted(fields.items())) for w, fields in per_word.items()}
        return cls(postings, len(summaries))

    def to_plain(self) -> dict[str, Any]:
        return {"postings": self.postings, "size": self.size}

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> "WordIndex":
        return cls(data["postings"], data["size"])

    def _matching(self, term: str) -> list[str]:
        """Words equal to `term` or starting with it (sorted vocabulary, one bisect)."""
        if self._vocab is None:
            self._vocab = sorted(self.postings)
        vocab, out = self._vocab, []
        i = bisect_left(vocab, term)
        while i < len(vocab) and vocab[i].startswith(term):
            out.append(vocab[i])
            i += 1
        return out

    def term_scores(self, term: str) -> dict[int, float]:
        """Position -> the weight `score` gives this one term (absent: the term matches nowhere)."""
        best: dict[int, float] = {}
        for word in self._matching(term):
            for f, raw in self.postings[word]:
                weight = WEIGHTS[f][1] if word == term else WEIGHTS[f][1] * 0.5
                positions = array("i")
                positions.frombytes(raw)
                for i in positions:
                    if best.get(i, 0.0) < weight:
                        best[i] = weight
        return best


def query_terms(text: str) -> list[str]:
    return [t for t in re.split(r"[\s]+", text.lower().strip()) if t]


class SearchResult:
    """One dataset version as the index describes it (no document fetched). Attributes are the
    summary's keys (`name`, `version`, `ref`, `title`, `status`, `datastack`, `materialization_versions`,
    `format`, `columns`, `tags`, `owners`, `row_count`, `published_at`, `superseded_by`, ...);
    `.get()` fetches the full `DatasetVersion`."""

    __slots__ = ("_data", "_catalog", "score", "matched")

    def __init__(self, data: dict[str, Any], catalog: Any = None, score: float = 0.0,
                 matched: Sequence[tuple[str, str]] = ()):
        self._data = data
        self._catalog = catalog
        self.score = score
        self.matched = list(matched)
        """Why it matched: `(field, word)` per query word, e.g. `("column", "pt_root_id")`; for a column
        the column's name (also when the query word is a part of it, `root`), as the site shows it."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(key) from None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def get(self):
        """The full document of this version, as a `DatasetVersion`."""
        return self._catalog.get(self._data["name"], self._data["version"])

    def __repr__(self) -> str:
        d = self._data
        return (f"<{d['ref']} {d['status']} {d['datastack']} mat={d.get('materialization_version')} "
                f"{d['format']}: {d['title']!r}>")


class SearchResults(list):
    """A list of `SearchResult` with frame conversions (one row per version, summary fields as columns)."""

    def to_records(self) -> list[dict[str, Any]]:
        return [{**r.to_dict(), "score": r.score} for r in self]

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame.from_records(self.to_records(), columns=_COLUMNS if not self else None)

    def to_polars(self):
        import polars as pl

        if not self:
            return pl.DataFrame(schema={c: pl.Utf8 for c in _COLUMNS})
        return pl.DataFrame(self.to_records(), infer_schema_length=None)

    def _repr_html_(self) -> str:  # notebooks
        return self.to_pandas()._repr_html_()


_COLUMNS = ["name", "version", "ref", "title", "status", "datastack", "materialization_version", "format", "score"]


class TextIndex:
    """The shared catalog index (`registry.search_rules.Index`) and its version ids: `refs[i]` is the
    `name@version` of version id i (datasets by name, versions by publication, as a full build lays
    them out), or None for an id of a block an incremental build left behind (never shown). The
    dataset of an id is its name's position in name order, so ties break by name however the
    site laid its ids out."""

    def __init__(self, index: rules.Index, refs: Sequence[Optional[str]]):
        self.index = index
        self.vid = {r: i for i, r in enumerate(refs) if r is not None}
        names = {n: i for i, n in enumerate(sorted({r.partition("@")[0] for r in self.vid}))}
        self.dataset = [names[r.partition("@")[0]] if r is not None else -1 for r in refs]

    @classmethod
    def from_documents(cls, docs: Iterable[Any]) -> "TextIndex":
        """The same index the site would build from these documents (in memory)."""
        ordered = sorted(docs, key=lambda d: (d.name, d.published_at, d.version))
        firsts, shards = rules.build_index(ordered)
        return cls(rules.Index(firsts, shards.__getitem__), [d.ref for d in ordered])


def ranked(summaries: Iterable[dict[str, Any]], text: str, filters: dict[str, Any], catalog: Any,
           index: TextIndex) -> SearchResults:
    """Search by the shared rules (`registry.search_rules`): what the site's search page shows, in
    its order (datasets best first, ties by name; versions of one dataset newest first)."""
    from ..source import matches

    terms = rules.query_terms(text)
    scores = index.index.scores(terms) if terms else None
    rows: dict[int, dict[str, Any]] = {}
    for s in summaries:
        v = index.vid.get(s["ref"])
        if v is None:
            continue
        if filters.get("status") is None and s.get("status") == "deprecated":
            continue
        if matches(s, **filters):
            rows[v] = s
    out = SearchResults()
    for _, _, vids in rules.rank(sorted(rows), index.dataset.__getitem__, scores):
        for v in vids:
            hit = scores.get(v) if scores is not None else None
            out.append(SearchResult(rows[v], catalog, hit[0] if hit else 0.0,
                                    [_why(rules.FIELDS[c], w, rows[v]) for c, w in hit[1]] if hit else ()))
    return out


def _why(field: str, word: str, summary: dict[str, Any]) -> tuple[str, str]:
    """(field, what matched there): for a column its name (`search_rules.matched_column`), as the site shows it."""
    if field == "column":
        return field, rules.matched_column(word, summary.get("columns") or []) or word
    return field, word


def search(summaries: Iterable[dict[str, Any]], text: str, filters: dict[str, Any], catalog: Any,
           words: Optional[WordIndex] = None, index: Optional[TextIndex] = None) -> SearchResults:
    """`words`, when given, must have been built from exactly `summaries` (same list, same order).
    With `index` (the shared catalog index), the shared rules rank instead (`ranked`)."""
    from ..source import matches

    if index is not None:
        return ranked(summaries, text, filters, catalog, index)

    terms = query_terms(text)
    per_term = [words.term_scores(t) for t in terms] if (words is not None and terms) else None
    candidates: Iterable[tuple[int, dict[str, Any]]] = enumerate(summaries)
    if per_term is not None:
        rows = summaries if isinstance(summaries, list) else list(summaries)
        common = set(per_term[0]).intersection(*per_term[1:]) if per_term else set()
        candidates = ((i, rows[i]) for i in sorted(common))
    hits: list[SearchResult] = []
    for i, s in candidates:
        if filters.get("status") is None and s.get("status") == "deprecated":
            continue
        if not matches(s, **filters):
            continue
        if per_term is not None:
            sc = 0.0
            for best in per_term:
                sc += best[i]
        else:
            sc = score(s, terms) if terms else 0.0
            if terms and sc == 0.0:
                continue
        hits.append(SearchResult(s, catalog, sc))
    # best first; within equal scores by name, newest version first
    hits.sort(key=lambda r: r._data.get("published_at") or "", reverse=True)
    hits.sort(key=lambda r: (-r.score, r._data["name"]))
    return SearchResults(hits)
