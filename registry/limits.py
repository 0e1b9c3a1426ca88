"""The bounds every registry document stays within, so that one hostile document costs its readers
a bounded amount of memory, time and page space and never more.

The registry bucket may hold documents written by hand (docs/security.md). Each limit here is
far above what a real table needs and low enough that the site, the command line, the client and
the signer can afford the worst case for every document at once:

* bytes per document: read with a bound (a 10 GB object is never loaded), refused above it;
* nesting depth of the free-form parts (`format_options`, `provenance.parameters`,
  `inspected.reader_features`, a manifest's `partition`): Python's JSON parser and serialiser
  recurse, so a document nested 100,000 deep must be refused before anything recurses on it;
* items per list (`materialization.versions` decides the width of a datastack's compatibility
  matrix; `columns`, `tags`, `owners`, ... the size of every page that shows them).

The typed parts are bounded by the model itself (pydantic `max_length` on each list).
"""

from __future__ import annotations

from typing import Any

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
"""A 2,000-column table with a paragraph per column is ~1 MB of JSON."""

MAX_MANIFEST_BYTES = 512 * 1024 * 1024
"""File manifests list every data file (100,000s for a big table); bounded, but generously."""

MAX_JSON_DEPTH = 32
"""Nesting of free-form values (format options, provenance parameters, partition values)."""

MAX_MATERIALIZATION_VERSIONS = 500
"""CAVE has made ~1,600 versions of MICrONS in 5 years, most expired; a table is valid for few."""

MAX_TITLE = 1_000
"""A title is shown on every page that lists the version (home, lists, tags, owners, search)."""

MAX_COLUMNS = 20_000
MAX_REFERENCES = 1_000
MAX_OWNERS = 100
MAX_TAGS = 100
MAX_CHECKS = 1_000
MAX_HISTORY = 1_000
MAX_LINEAGE_REFS = 1_000
MAX_PARTITION_COLUMNS = 100


class TooDeep(ValueError):
    """A JSON value nested deeper than allowed."""


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH, where: str = "(document)") -> None:
    """Raise TooDeep when `value` (parsed JSON) nests deeper than `limit` containers.

    Breadth-first and iterative, so it never recurses itself; it stops at the first level past
    the limit, so a hostile value costs at most `limit` levels of work.
    """
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            raise TooDeep(f"{where}: nested deeper than {limit} levels")
        nxt: list[Any] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            nxt.extend(c for c in children if isinstance(c, (dict, list)))
        level = nxt

MAX_LAYOUTS = 32
"""Physical layouts of one version (MaterializationEngine exports one per indexed column)."""
