"""Where each page and JSON file of the site lives: one injective mapping from names to paths.

The bucket may hold documents `publish` would refuse today (written by hand, or by an older
version): a dataset or tag called `index` would replace its section's index page, names that slug
the same would share a page, and a 250-character name would make a file name the filesystem
refuses, killing the whole build. So every path segment is made here, and only here:

* a *plain* segment (short, starting with a letter or digit, `[A-Za-z0-9_.-]` only, not a
  reserved page name) is used as it is: the contract's URLs (`datasets/<name>/<version>.html`,
  `api/datasets/<name>.json`) stay what they always were for every name `publish` accepts;
* anything else becomes `_<readable part>-<sha256 prefix>`. No plain segment starts with `_`,
  and the hash prefix is 128 bits, so two different texts never share a path (short of a SHA-256
  collision) and no encoded segment is longer than ~60 characters.

Free text (datastacks, tags, owners) is plain only when lowercase too (`slug`), so pages of
`Foo` and `foo` never share a file on a case-insensitive filesystem.
"""

from __future__ import annotations

import hashlib
import re

RESERVED = frozenset({"index"})
"""Page names each section already uses (`datasets/index.md`, `tags/index.md`, ...)."""

MAX_PLAIN = 64
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_PLAIN_SLUG = re.compile(r"[a-z0-9][a-z0-9_.-]*")


def _encoded(text: str) -> str:
    readable = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-")[:24]
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"_{readable}-{digest}" if readable else f"_{digest}"


def _plain(text: str, pattern: re.Pattern[str]) -> bool:
    return len(text) <= MAX_PLAIN and pattern.fullmatch(text) is not None and text not in RESERVED


def segment(text: str) -> str:
    """A dataset name or version label as one path segment (see the module docstring)."""
    return text if _plain(text, _PLAIN) else _encoded(text)


def slug(text: str) -> str:
    """A file-name-safe, collision-proof segment for free text (datastacks, tags, owners)."""
    return text if _plain(text, _PLAIN_SLUG) else _encoded(text)


def dataset_page(name: str) -> str:
    return f"datasets/{segment(name)}.html"


def version_page(name: str, version: str) -> str:
    return f"datasets/{segment(name)}/{segment(version)}.html"


def dataset_api(name: str) -> str:
    return f"api/datasets/{segment(name)}.json"


def version_api(name: str, version: str) -> str:
    return f"api/datasets/{segment(name)}/{segment(version)}.json"


def ref_page(ref: str) -> str:
    """`name@version` -> its version page."""
    name, _, version = ref.partition("@")
    return version_page(name, version)


def list_page(first: str, number: int) -> str:
    """Page `number` of a paginated list whose page 1 is `first` (`datasets/index.html`,
    `tags/<slug>.html`): page 1 keeps its URL, page n is `<first without .html>/<n>.html`.

    No dataset, version or group page can be one of them: `index` is reserved (`RESERVED`), so
    `datasets/index/` is never a dataset's folder of version pages; a group's `<folder>/<slug>/`
    holds nothing else, and slugs are injective, so two groups never share a folder."""
    if number < 1:
        raise ValueError(f"page {number}: pages count from 1")
    return first if number == 1 else f"{first[:-5]}/{number}.html"
