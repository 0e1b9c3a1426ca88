"""Per-dataset parts: what pages about *every* dataset need from one dataset, kept between builds.

A one-document rebuild must not parse 100,000 unchanged documents to write the home page, the
browse pages, `index.json` or the search index's display files. Each of those is assembled from
one small *part* per dataset (a summary row, a facet tuple, a search record ...), computed from
that dataset's own documents and remembered under the dataset's content id (`Dataset.cid`, a hash
of its documents' bytes). A rebuild computes parts only for datasets whose documents changed.

    catalog.part("index-entry", ds, index_entry)   # RegistrySnapshot.part -> PartStore.get

Parts of one kind live in `SHARDS` pickle files (`<kind>/<shard>.pkl` under the cache's
`parts/`, by content id), written by the process that used the kind (the forked JSON + search
child writes its own kinds) with only the parts used this build, so entries of datasets that are
gone do not accumulate; a file whose parts did not change is not written. A file that cannot be
read is ignored (its parts are computed again). A part must not depend on anything but
the dataset's documents: a change of code is a change of the `kind` name, and the whole cache is
dropped when the builder's code changes (`incremental.code_hash` -> `PartStore(root, code=...)`).
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import re
import zlib
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

from registry.documents import gc_paused

T = TypeVar("T")
_KIND = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


SHARDS = 256
"""Files per kind: a rebuild after one publish rewrites the one or two files its dataset's parts
fall in, not the whole kind (at 100k one kind is 150 MB; pickling the parent's kinds again was
5 s of a 25 s rebuild, docs/benchmarks.md)."""


def shard_of(cid: str) -> str:
    """The file (`<kind>/<shard>.pkl`) a content id's part lives in: any string, a fixed name."""
    return f"{zlib.crc32(cid.encode()) % SHARDS:02x}"


class PartStore:
    """Parts by (kind, content id); `root` None keeps them in memory only (tests, one build)."""

    def __init__(self, root: Optional[str] = None, code: str = "", freeze_reads: bool = False):
        self.root = Path(root) if root is not None else None
        self.code = code
        self.freeze_reads = freeze_reads
        """`gc.freeze()` after reading a kind: for a build, which keeps every part it read until
        it ends (and unfreezes then, `build._frozen_catalog`). Otherwise each later full
        collection walks the ~100,000 parts of every kind read so far: 2 s of a 100k rebuild."""
        self._old: dict[str, dict[str, Any]] = {}
        self._new: dict[str, dict[str, Any]] = {}
        self._fresh: dict[str, set[str]] = {}
        """kind -> content ids whose part was computed (not read) in this process."""
        self.computed: dict[str, int] = {}
        """Parts computed (not found) this build, per kind: what a rebuild had to parse for."""

    def _dir(self, kind: str) -> Path:
        assert self.root is not None
        return self.root / kind

    def _load(self, kind: str) -> dict[str, Any]:
        if kind in self._old:
            return self._old[kind]
        found: dict[str, Any] = {}
        if self.root is not None:
            try:
                names = sorted(os.listdir(self._dir(kind)))
            except OSError:
                names = []
            with gc_paused():  # unpickling 100,000 parts otherwise runs many full collections
                for name in names:
                    if not name.endswith(".pkl"):
                        continue
                    try:
                        with open(self._dir(kind) / name, "rb") as fh:
                            code, parts = pickle.load(fh)
                    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
                            ImportError, IndexError):
                        continue  # unreadable: its parts are computed again, and the file rewritten
                    if code == self.code and isinstance(parts, dict):
                        found.update(parts)
        self._old[kind] = found
        if self.freeze_reads:
            gc.freeze()
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
                self._fresh.setdefault(kind, set()).add(cid)
        if cid:
            new[cid] = value
        return value

    def forget_used(self) -> None:
        """Start a new record of kinds used (a forked child saves only the kinds it used)."""
        self._new, self._fresh = {}, {}

    def save(self, drop: bool = False) -> None:
        """Write every kind used in this process: of each, the shard files whose parts changed
        (computed here, or a different set of datasets), atomically (a reader never sees half a
        file); a shard no dataset uses any more is removed. `drop`: then forget them (a later
        `get` reads the files again): the forked child saves the JSON API's kinds before it
        builds the search index, so both are never in memory."""
        if self.root is None:
            return
        for kind, parts in list(self._new.items()):
            old_keys: dict[str, set[str]] = {}  # what each file held when read
            for cid in self._load(kind):
                old_keys.setdefault(shard_of(cid), set()).add(cid)
            fresh = {shard_of(c) for c in self._fresh.get(kind, ())}
            by_shard: dict[str, dict[str, Any]] = {}
            for cid, value in parts.items():
                by_shard.setdefault(shard_of(cid), {})[cid] = value
            folder = self._dir(kind)
            for shard in sorted(set(by_shard) | set(old_keys)):
                mine = by_shard.get(shard, {})
                if shard not in fresh and old_keys.get(shard, set()) == mine.keys():
                    continue  # the same parts as in the file
                path = folder / f"{shard}.pkl"
                if not mine:
                    path.unlink(missing_ok=True)
                    continue
                folder.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(path.name + f".tmp{os.getpid()}")
                with open(tmp, "wb") as fh:
                    pickle.dump((self.code, mine), fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, path)
        if drop:
            self._new, self._old, self._fresh = {}, {}, {}


def content_id(digests: list[str]) -> str:
    """A dataset's content id from its documents' byte hashes, in version order."""
    return hashlib.blake2b("\n".join(digests).encode(), digest_size=16).hexdigest()
