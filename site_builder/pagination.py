"""Long lists (the dataset list, a datastack's, tag's or owner's datasets) split into pages of a
bounded size, linked with previous / next and page numbers: plain links, so they work from a
private bucket without JavaScript (paths: `paths.list_page`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, TypeVar

from . import paths

T = TypeVar("T")

PAGE_SIZE = 100
"""Datasets per page: one screen of rows a person scans; a page of 100 rows renders in ~2 ms."""
WINDOW = 2
"""Page numbers shown either side of the current one (plus the first and the last)."""


@dataclass(frozen=True)
class Pager:
    """Where one page sits in its list."""

    first: str
    """Page 1's path (`.html`)."""
    number: int
    count: int
    """Pages in the list (at least 1)."""
    total: int
    """Items in the list."""
    start: int
    """Index of this page's first item (0-based)."""
    size: int
    """Items on this page."""

    @property
    def rel(self) -> str:
        return paths.list_page(self.first, self.number)

    def href(self, number: int) -> str:
        return paths.list_page(self.first, number)

    @property
    def prev(self) -> Optional[int]:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> Optional[int]:
        return self.number + 1 if self.number < self.count else None

    def numbers(self) -> list[Optional[int]]:
        """Page numbers to link, `None` where some are left out: 1 … 4 5 [6] 7 8 … 40."""
        shown = {1, self.count} | set(range(max(1, self.number - WINDOW), min(self.count, self.number + WINDOW) + 1))
        out: list[Optional[int]] = []
        for n in sorted(shown):
            if out and out[-1] is not None and n > out[-1] + 1:
                out.append(None)
            out.append(n)
        return out

    @property
    def shape(self) -> str:
        """What a page shows besides its items (its pager): a pseudo dependency for
        `PageWriter.write(depends_on=...)`, so a page is re-rendered when the list's length changes."""
        return f"#list:{self.total}"


def paginate(items: Sequence[T], first: str, size: Optional[int] = None) -> list[tuple[Pager, Sequence[T]]]:
    """The pages of `items` (one empty page for an empty list: page 1 always exists); `size`
    defaults to `PAGE_SIZE` (read at each call: tests make it small)."""
    size = PAGE_SIZE if size is None else size
    if size < 1:
        raise ValueError("page size must be at least 1")
    count = max(1, -(-len(items) // size))
    return [(Pager(first, n + 1, count, len(items), n * size, len(items[n * size:(n + 1) * size])),
             items[n * size:(n + 1) * size]) for n in range(count)]
