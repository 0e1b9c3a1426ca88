"""What `latest` means, once: the newest *published* version of a dataset — drafts and deprecated
versions are never latest — ordered by `published_at`, ties broken by the version label so every
reader (registry, site, client, signer) picks the same one. Stdlib only: the signer uses it.

Works on documents (attributes) and on summary rows (`get=dict.get`); a status may be the `Status`
enum or its string value (it is a `str` enum).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional, TypeVar

LATEST = "latest"
"""The version label that asks for the newest published version."""

PUBLISHED = "published"

T = TypeVar("T")
Getter = Callable[[Any, str], Any]


def recency(item: Any, get: Getter = getattr) -> tuple[Any, str]:
    """The sort key of versions, oldest first: (published_at, version)."""
    return get(item, "published_at"), str(get(item, "version"))


def newest_published(items: Iterable[T], get: Getter = getattr) -> Optional[T]:
    """The latest version among `items` (any order), or None when none is published."""
    published = [i for i in items if get(i, "status") == PUBLISHED]
    return max(published, key=lambda i: recency(i, get)) if published else None
