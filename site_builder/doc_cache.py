"""Read only the documents that changed since the last build (incremental builds).

A rebuild lists the registry with each object's change stamp (GCS generation, S3 ETag, local
inode + mtime + size: `Store.list_stamps`) and compares it with what the previous build read,
kept in `read-index.pkl` in the cache: per document path its stamp, the hash of its bytes and,
for a document that failed validation, the reason. A dataset all of whose documents carry the
same stamps as last time is *not read*: it becomes a lazy `Dataset` (its content id, version
count and byte hashes from the index), whose documents are read and validated again only if a
page that is re-rendered needs them. Everything summarising every dataset comes from parts
(`RegistrySnapshot.part`), so a one-document rebuild parses about one dataset.

Why not keep the parsed documents (pickles): loading 10,000 of them took 2.5 s and writing them
9 s (measured), most of a rebuild's budget, when a rebuild needs a handful. Re-reading those few
from the registry costs less than any copy of all of them.

A store that gives no stamps (memory) makes every document "changed": correct, only slower. The
index is written only when a build completes (`Cache.finish`), and only stamps the build read
under are recorded, so a document rewritten during a build is read again by the next one.
"""

from __future__ import annotations

import os
import pickle
from collections import defaultdict
from pathlib import Path
from typing import Any, Optional

from registry.documents import Registry, document_path, gc_paused, split_document_path
from registry.latest import recency
from registry.model import DatasetDocument

from .catalog import Dataset, RegistrySnapshot, Skipped
from .parts import content_id

INDEX = "read-index.pkl"
INDEX_FORMAT = 1


class ReadCache:
    """The previous build's reading of one registry, and this build's."""

    def __init__(self, root: Path, registry_uri: str):
        self.path = root / INDEX
        self.registry_uri = registry_uri
        self.docs: dict[str, tuple[Optional[str], Optional[str], Optional[str]]] = {}
        """path -> (stamp, blake2 digest of the bytes or None, problem message or None)."""
        self.datasets: dict[str, tuple[str, int]] = {}
        """name -> (content id, valid version count)."""
        self.read_paths = 0
        """Documents read this build (listing problems included)."""
        self._load()
        self._new_docs: dict[str, tuple[Optional[str], Optional[str], Optional[str]]] = {}
        self._new_datasets: dict[str, tuple[str, int]] = {}

    def _load(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                state = pickle.load(fh)
            if state.get("format") == INDEX_FORMAT and state.get("registry") == self.registry_uri:
                self.docs, self.datasets = state["docs"], state["datasets"]
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, AttributeError):
            self.docs, self.datasets = {}, {}

    def read(self) -> RegistrySnapshot:
        """The catalog, reading only documents of datasets that changed (see the module doc)."""
        registry = Registry(self.registry_uri)
        listing = registry.listing_stamps()
        by_name: dict[str, list[str]] = defaultdict(list)
        unplaced: list[str] = []
        for path in listing:
            parts = split_document_path(path)
            (by_name[parts[0]] if parts else unplaced).append(path)
        old_by_name: dict[str, set[str]] = defaultdict(set)
        for path in self.docs:
            parts = split_document_path(path)
            if parts:
                old_by_name[parts[0]].add(path)

        def unchanged(name: str, paths: list[str]) -> bool:
            if name not in self.datasets or set(paths) != old_by_name.get(name, set()):
                return False
            return all(listing[p][1] is not None and self.docs[p][0] == listing[p][1] for p in paths)

        keep = {name for name, paths in by_name.items() if unchanged(name, paths)}
        to_read = {p: listing[p][0] for name, paths in by_name.items() if name not in keep for p in paths}
        to_read.update({p: listing[p][0] for p in unplaced})
        self.read_paths = len(to_read)
        with gc_paused():
            docs, problems = registry._read_documents(to_read, share=True)
        skipped = [Skipped(p.path, str(p.error)) for p in problems]
        for p in problems:
            self._new_docs[p.path] = (listing[p.path][1], None, str(p.error))
        for d in docs:
            path = document_path(d.name, d.version)
            self._new_docs[path] = (listing[path][1], registry.digests[path], None)

        snapshot = RegistrySnapshot.from_documents(docs, skipped)
        snapshot.digests = {d.ref: registry.digests[document_path(d.name, d.version)] for d in docs}
        for ds in snapshot.datasets.values():
            ds.cid = content_id([snapshot.digests[v.ref] for v in ds.versions])
            self._new_datasets[ds.name] = (ds.cid, len(ds.versions))
        for name in keep:
            cid, count = self.datasets[name]
            valid = []
            for path in by_name[name]:
                stamp, digest, problem = self.docs[path]
                self._new_docs[path] = (stamp, digest, problem)
                if problem is not None:
                    snapshot.skipped.append(Skipped(path, problem))
                else:
                    valid.append(path)
                    parts = split_document_path(path)
                    assert parts is not None and digest is not None
                    snapshot.digests[f"{parts[0]}@{parts[1]}"] = digest
            if count == 0:  # every document of it invalid: no dataset, only the skipped entries
                continue
            snapshot.datasets[name] = Dataset(name, loader=_loader(registry, listing, valid), cid=cid, count=count)
            self._new_datasets[name] = (cid, count)
        snapshot.datasets = dict(sorted(snapshot.datasets.items()))
        snapshot.skipped.sort(key=lambda s: s.path)
        return snapshot

    def save(self) -> None:
        """Record this build's reading (called when the build completed)."""
        state: dict[str, Any] = {"format": INDEX_FORMAT, "registry": self.registry_uri,
                                 "docs": self._new_docs, "datasets": self._new_datasets}
        tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
        with open(tmp, "wb") as fh:
            pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.path)


def _loader(registry: Registry, listing: dict, paths: list[str]):
    """Read and validate one unchanged dataset's documents when a page needs them."""
    def load() -> list[DatasetDocument]:
        with gc_paused():
            docs, _problems = registry._read_documents({p: listing[p][0] for p in paths}, share=True)
        return sorted(docs, key=recency)
    return load
