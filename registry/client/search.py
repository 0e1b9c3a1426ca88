"""Search over version summaries: the same filters as `feature-registry list` (`registry.source.matches`)
plus a text ranking like the site's search page (name 10, title 5, columns 3, description/tags/owners 1,
each query word also matching as a prefix). Results are light objects over the summary dicts."""

from __future__ import annotations

import re
from typing import Any, Iterable, Optional

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


def query_terms(text: str) -> list[str]:
    return [t for t in re.split(r"[\s]+", text.lower().strip()) if t]


class SearchResult:
    """One dataset version as the index describes it (no document fetched). Attributes are the
    summary's keys (`name`, `version`, `ref`, `title`, `status`, `datastack`, `materialization_versions`,
    `format`, `columns`, `tags`, `owners`, `row_count`, `published_at`, `superseded_by`, ...);
    `.get()` fetches the full `DatasetVersion`."""

    __slots__ = ("_data", "_catalog", "score")

    def __init__(self, data: dict[str, Any], catalog: Any = None, score: float = 0.0):
        self._data = data
        self._catalog = catalog
        self.score = score

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


def search(summaries: Iterable[dict[str, Any]], text: str, filters: dict[str, Any], catalog: Any) -> SearchResults:
    from ..source import matches

    terms = query_terms(text)
    hits: list[SearchResult] = []
    for s in summaries:
        if filters.get("status") is None and s.get("status") == "deprecated":
            continue
        if not matches(s, **filters):
            continue
        sc = score(s, terms) if terms else 0.0
        if terms and sc == 0.0:
            continue
        hits.append(SearchResult(s, catalog, sc))
    # best first; within equal scores by name, newest version first
    hits.sort(key=lambda r: r._data.get("published_at") or "", reverse=True)
    hits.sort(key=lambda r: (-r.score, r._data["name"]))
    return SearchResults(hits)
