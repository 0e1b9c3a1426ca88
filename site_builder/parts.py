"""Per-dataset parts: what pages about *every* dataset need from one dataset, kept between builds.

A one-document rebuild must not parse 100,000 unchanged documents to write the home page, the
browse pages, `index.json` or the search index's display files. Each of those is assembled from
one small *part* per dataset (a summary row, a facet tuple, a search record ...), computed from
that dataset's own documents and remembered under the dataset's content id (`Dataset.cid`, a hash
of its documents' bytes). A rebuild computes parts only for datasets whose documents changed.

    catalog.part("index-entry", ds, index_entry)   # RegistrySnapshot.part -> PartStore.get

Parts of one kind live in one pickle file (`<kind>.pkl` under the cache's `parts/`), written by
the process that used the kind (the forked JSON + search child writes its own kinds) with only the
parts used this build, so entries of datasets that are gone do not accumulate. A kind's file that
cannot be read is ignored (the parts are computed again). A part must not depend on anything but
the dataset's documents: a change of code is a change of the `kind` name, and the whole cache is
dropped when the builder's code changes (`incremental.code_hash` -> `PartStore(root, code=...)`).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

T = TypeVar("T")
_KIND = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class PartStore:
    """Parts by (kind, content id); `root` None keeps them in memory only (tests, one build)."""

    def __init__(self, root: Optional[str] = None, code: str = ""):
        self.root = Path(root) if root is not None else None
        self.code = code
        self._old: dict[str, dict[str, Any]] = {}
        self._new: dict[str, dict[str, Any]] = {}
        self.computed: dict[str, int] = {}
        """Parts computed (not found) this build, per kind: what a rebuild had to parse for."""

    def _file(self, kind: str) -> Path:
        assert self.root is not None
        return self.root / f"{kind}.pkl"

    def _load(self, kind: str) -> dict[str, Any]:
        if kind in self._old:
            return self._old[kind]
        found: dict[str, Any] = {}
        if self.root is not None:
            try:
                with open(self._file(kind), "rb") as fh:
                    code, parts = pickle.load(fh)
                if code == self.code and isinstance(parts, dict):
                    found = parts
            except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
                    ImportError, IndexError):
                found = {}
        self._old[kind] = found
        return found

    def get(self, kind: str, ds: Any, fn: Callable[[Any], T]) -> T:
        if not _KIND.match(kind):
            raise ValueError(f"part kind {kind!r}: lower-case letters, digits, '.', '_' or '-'")
        new = self._new.setdefault(kind, {})
        cid = ds.cid
        if cid and cid in new:
            return new[cid]
        old = self._load(kind)
        if cid and cid in old:
            value = old[cid]
        else:
            value = fn(ds)
            self.computed[kind] = self.computed.get(kind, 0) + 1
        if cid:
            new[cid] = value
        return value

    def forget_used(self) -> None:
        """Start a new record of kinds used (a forked child saves only the kinds it used)."""
        self._new = {}

    def save(self, drop: bool = False) -> None:
        """Write every kind used in this process (atomically: a reader never sees half a file).
        `drop`: then forget them (a later `get` reads the file again): the forked child saves
        the JSON API's kinds before it builds the search index, so both are never in memory."""
        if self.root is None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        for kind, parts in list(self._new.items()):
            if not self.computed.get(kind) and self._old.get(kind, {}).keys() == parts.keys():
                continue  # the same parts as in the file (at 100k a kind's file can be 100 MB)
            path = self._file(kind)
            tmp = path.with_name(path.name + f".tmp{os.getpid()}")
            with open(tmp, "wb") as fh:
                pickle.dump((self.code, parts), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        if drop:
            self._new, self._old = {}, {}


def content_id(digests: list[str]) -> str:
    """A dataset's content id from its documents' byte hashes, in version order."""
    return hashlib.blake2b("\n".join(digests).encode(), digest_size=16).hexdigest()
