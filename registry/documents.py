"""The registry's documents in storage: where they live, how they are read, and the two writes.

Layout (fixed by the contract): `datasets/<name>/<version>.json` is the document and
`datasets/<name>/<version>.files.json` the file manifest beside it.

Writes are conditional (see `storage.Store`): a new version is created exclusively (manifest first,
then the document, which is the commit point), and a change to an existing document (deprecation,
a draft replaced) is a compare-and-swap retried on conflict, so concurrent writers never lose work.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Optional

from pydantic import ValidationError

from . import limits
from .errors import AlreadyPublished, ConcurrentModification, NotFound, PreconditionFailed, SpecInvalid
from .latest import LATEST, newest_published
from .model import (
    NAME_PATTERN,
    VERSION_PATTERN,
    DatasetDocument,
    FileManifest,
    Status,
    format_validation_error,
)
from .reading import (  # noqa: F401  (re-exported: the layout's names, imported from here by callers)
    DATASETS,
    DOC_SUFFIX,
    FREE_FORM_FIELDS,
    MANIFEST_SUFFIX,
    check_stored_at,
    decode_json,
    document_json,
    document_path,
    layout_manifest_path,
    manifest_json,
    manifest_path,
    split_document_path,
)
from .storage import AlreadyExists, Store, sha256

def dumps(obj: dict) -> bytes:
    """Stable JSON bytes: the same document always serialises the same (hashes stay meaningful)."""
    return (json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while thousands of long-lived models are created.

    Each model allocates dozens of container objects, so CPython's collector runs every few
    documents and every full collection walks all the documents parsed so far: reading 10,000
    documents took 5.4 s with it and 2.1 s without (pydantic validation itself is the 2 s).
    Parsing creates no reference cycles worth collecting meanwhile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


READ_CHUNK = 2000
"""Documents read per `Store.read_many` (concurrent within a chunk on S3/GCS)."""

SHARED_PARTS = (("columns",), ("inspected", "columns"), ("references",), ("owners",))
"""List fields whose items repeat across the versions of one dataset (`PartMemo`)."""


class PartMemo:
    """Equal parts of consecutive documents, validated once and then shared by them.

    The versions of one dataset usually repeat most of their column, reference and owner entries.
    A long-lived catalog of 100,000 parsed documents holds each as ~300 Python objects; passing an
    already validated part instead of its raw dict (pydantic keeps model instances as they are)
    makes equal parts one object. An item is compared with the item at the same position of the
    previous document of the same name (dict equality, in C: serializing items to compare them cost
    more than validating them). Only for read-only catalogs (the site build): a shared part must
    never be changed in place."""

    def __init__(self) -> None:
        self.name: Any = None
        self.raw: dict[int, list] = {}
        self.models: dict[int, list] = {}

    def substitute(self, raw: dict) -> Optional[dict[int, list]]:
        """Replace the items of `raw` equal to the previous document's by its models; returns the
        raw lists to remember once `raw` validated."""
        same = raw.get("name") == self.name
        self.name = raw.get("name")
        seen: dict[int, list] = {}
        for k, path in enumerate(SHARED_PARTS):
            parent: Any = raw
            for key in path[:-1]:
                parent = parent.get(key) if isinstance(parent, dict) else None
            items = parent.get(path[-1]) if isinstance(parent, dict) else None
            if not isinstance(items, list):
                continue
            seen[k] = list(items)
            if not same or k not in self.raw:
                continue
            before, models = self.raw[k], self.models[k]
            for i in range(min(len(items), len(before))):
                if type(items[i]) is dict and items[i] == before[i]:
                    items[i] = models[i]
        return seen

    def remember(self, doc: DatasetDocument, seen: Optional[dict[int, list]]) -> None:
        self.raw, self.models = {}, {}
        for k, items in (seen or {}).items():
            obj: Any = doc
            for attr in SHARED_PARTS[k]:
                obj = getattr(obj, attr)
            if len(obj) == len(items):
                self.raw[k], self.models[k] = items, list(obj)


def parse_document(data: bytes, source: str, expected: Optional[tuple[str, str]] = None,
                   memo: Optional[PartMemo] = None) -> DatasetDocument:
    """Bytes -> validated document. Every way a document can be bad (size, encoding, JSON,
    nesting, fields, list lengths, a body naming another dataset than its path) raises
    SpecInvalid with field paths, so callers skip and list it instead of failing.

    `expected`: the (name, version) of the path it was read from; a document that claims to be
    another name@version is refused (it would otherwise replace that dataset's page and answers).
    """
    raw = document_json(data, source)
    pending = memo.substitute(raw) if memo is not None and isinstance(raw, dict) else None
    try:
        doc = DatasetDocument.from_dict(raw)
    except ValidationError as exc:
        raise SpecInvalid(format_validation_error(exc), source) from None
    except RecursionError:  # belt and braces: no recursion may escape as a crash
        raise SpecInvalid.single("(document)", "nested too deep", source) from None
    check_stored_at(doc.name, doc.version, expected, source)
    if memo is not None:
        memo.remember(doc, pending)
    return doc


def valid_ref_parts(name: str, version: str) -> bool:
    """A name and version that can name a document path at all (no `/`, `..`, empty parts)."""
    return bool(re.fullmatch(NAME_PATTERN, name)) and bool(re.fullmatch(VERSION_PATTERN, version))


def _listed_document(path: str) -> bool:
    """A listed `.json` that may be a document: not a manifest, not the registry's own `_*` file."""
    return not path.endswith(MANIFEST_SUFFIX) and not path.rsplit("/", 1)[-1].startswith("_")


@dataclass
class LoadProblem:
    path: str
    error: Exception


class Registry:
    """A registry on any fsspec URL."""

    def __init__(self, uri_or_store: str | Store):
        self.store = uri_or_store if isinstance(uri_or_store, Store) else Store(uri_or_store)
        self.digests: dict[str, str] = {}
        """Document path -> a hash of the bytes last read from it (incremental site builds compare
        documents by it instead of serializing each parsed one again)."""

    @property
    def uri(self) -> str:
        return self.store.uri

    def __repr__(self) -> str:
        return f"Registry({self.uri!r})"

    # ---- reading
    def exists(self, name: str, version: str) -> bool:
        return self.store.exists(document_path(name, version))

    def document_paths(self) -> list[str]:
        return list(self._listing(DATASETS))

    def _listing(self, prefix: str) -> dict[str, Optional[int]]:
        """Document paths under `prefix` with their sizes (None when the store does not say).
        Files starting with `_` (`_owners.json`) are the registry's own, never documents: no
        version label can start with `_`."""
        return {p: n for p, n in self.store.list_sizes(prefix, DOC_SUFFIX).items() if _listed_document(p)}

    def listing_stamps(self) -> dict[str, tuple[Optional[int], Optional[str]]]:
        """Every document path with its size and change stamp (`Store.list_stamps`), the same
        paths as `_listing`."""
        return self.store.list_stamps(DATASETS, DOC_SUFFIX, keep=_listed_document)

    def _read_documents(self, listing: dict[str, Optional[int]],
                        share: bool = False) -> tuple[list[DatasetDocument], list[LoadProblem]]:
        """Read and validate many documents; each bad one becomes a problem and never stops the
        others. Objects listed larger than the limit, and paths outside the layout, are not read."""
        docs, problems, wanted = [], [], []
        for path, size in listing.items():
            if split_document_path(path) is None:
                problems.append(LoadProblem(path, SpecInvalid.single(
                    "(path)", "not at datasets/<name>/<version>.json; not a document", self.store.url(path))))
            elif size is not None and size > limits.MAX_DOCUMENT_BYTES:
                problems.append(LoadProblem(path, SpecInvalid.single(
                    "(file)", f"is {size:,} bytes, above the {limits.MAX_DOCUMENT_BYTES:,}-byte limit for a document",
                    self.store.url(path))))
            else:
                wanted.append(path)
        memo = PartMemo() if share else None
        wanted.sort()  # path order: a dataset's versions in a row (PartMemo compares neighbours)
        for start in range(0, len(wanted), READ_CHUNK):
            # a chunk at a time: the bytes of 100,000 documents (~1 GB) are never all held at once
            chunk = self.store.read_many(wanted[start:start + READ_CHUNK])
            for path in wanted[start:start + READ_CHUNK]:
                data = chunk.pop(path)
                if isinstance(data, Exception):
                    problems.append(LoadProblem(path, data))
                    continue
                try:
                    docs.append(parse_document(data, self.store.url(path), split_document_path(path), memo))
                    self.digests[path] = hashlib.blake2b(data, digest_size=16).hexdigest()
                except SpecInvalid as exc:
                    problems.append(LoadProblem(path, exc))
        return docs, problems

    def load_all(self, share: bool = False) -> tuple[list[DatasetDocument], list[LoadProblem]]:
        """Every document, read concurrently; invalid ones are returned as problems, not raised.
        `share`: equal parts of a dataset's versions become one object (`PartMemo`; read-only use)."""
        with gc_paused():
            docs, problems = self._read_documents(self._listing(DATASETS), share)
        docs.sort(key=lambda d: (d.name, d.published_at))
        problems.sort(key=lambda p: p.path)
        return docs, problems

    def documents(self) -> list[DatasetDocument]:
        return self.load_all()[0]

    def versions(self, name: str) -> list[DatasetDocument]:
        """Every readable version of `name`, oldest first (see `versions_and_problems`)."""
        return self.versions_and_problems(name)[0]

    def versions_and_problems(self, name: str) -> tuple[list[DatasetDocument], list[LoadProblem]]:
        """Every readable version of `name`, oldest first, and the documents skipped, with why."""
        if not re.fullmatch(NAME_PATTERN, name):
            return [], []
        docs, problems = self._read_documents(self._listing(f"{DATASETS}/{name}/"))
        return sorted(docs, key=lambda d: d.published_at), problems

    def get(self, name: str, version: str = "latest") -> DatasetDocument:
        """One document. `latest` is the newest *published* version (drafts and deprecated skipped)."""
        if version == LATEST:
            versions, problems = self.versions_and_problems(name)
            latest = newest_published(versions)
            if latest is None:
                hint = (
                    f"; versions exist but none is published: {', '.join(d.version for d in versions)}"
                    if versions
                    else ""
                )
                if problems:
                    hint += "; unreadable: " + "; ".join(f"{p.path}: {p.error}" for p in problems)
                raise NotFound(f"no published version of {name!r} in {self.uri}{hint}")
            return latest
        if not valid_ref_parts(name, version):
            raise NotFound(f"{name}@{version} is not in {self.uri} (not a valid NAME@VERSION)")
        path = document_path(name, version)
        try:
            data = self.store.read_bytes(path, limit=limits.MAX_DOCUMENT_BYTES + 1)
        except FileNotFoundError:
            raise NotFound(f"{name}@{version} is not in {self.uri}") from None
        return parse_document(data, self.store.url(path), (name, version))

    def manifest(self, name: str, version: str) -> FileManifest:
        if not valid_ref_parts(name, version):
            raise NotFound(f"no file manifest for {name}@{version} in {self.uri}")
        return self._read_manifest(manifest_path(name, version), f"no file manifest for {name}@{version} in {self.uri}")

    def _read_manifest(self, path: str, missing: str) -> FileManifest:
        """A file manifest under the readers' limits (size, partition depth); NotFound(`missing`)."""
        try:
            data = self.store.read_bytes(path, limit=limits.MAX_MANIFEST_BYTES + 1)
        except FileNotFoundError:
            raise NotFound(missing) from None
        raw = manifest_json(data, self.store.url(path))
        try:
            return FileManifest.from_dict(raw)
        except ValidationError as exc:
            raise SpecInvalid(format_validation_error(exc), self.store.url(path)) from None

    # ---- writing
    @staticmethod
    def serialized(doc: DatasetDocument, manifest: FileManifest) -> tuple[bytes, bytes]:
        """(document bytes, manifest bytes) as they would be stored; SpecInvalid when readers
        would refuse them for their size, so a publish fails before it writes anything."""
        dbytes, mbytes = dumps(doc.to_dict()), dumps(manifest.to_dict())
        if len(dbytes) > limits.MAX_DOCUMENT_BYTES:
            raise SpecInvalid.single("(document)", f"is {len(dbytes):,} bytes; readers skip documents above "
                                     f"{limits.MAX_DOCUMENT_BYTES:,} bytes (shorten the descriptions)")
        if len(mbytes) > limits.MAX_MANIFEST_BYTES:
            raise SpecInvalid.single("(manifest)", f"is {len(mbytes):,} bytes; the limit is {limits.MAX_MANIFEST_BYTES:,}")
        return dbytes, mbytes

    def layout_manifest(self, name: str, version: str, layout: str) -> FileManifest:
        if not valid_ref_parts(name, version):
            raise NotFound(f"no file manifest for {name}@{version} in {self.uri}")
        return self._read_manifest(layout_manifest_path(name, version, layout),
                                   f"no file manifest for layout {layout!r} of {name}@{version} in {self.uri}")

    def _put_layout_manifests(self, doc: DatasetDocument, layouts: dict[str, FileManifest], overwrite: bool) -> None:
        """Before the document (the commit point), like the main manifest: an identical leftover is
        reused, a different one blocks a new version (a draft's are replaced)."""
        for layout, m in layouts.items():
            path, data = layout_manifest_path(doc.name, doc.version, layout), dumps(m.to_dict())
            if overwrite:
                self.store.write(path, data)
                continue
            try:
                self.store.create(path, data)
            except AlreadyExists:
                if self.store.read_bytes(path) != data:
                    raise AlreadyPublished(
                        f"{doc.ref}: a manifest for layout {layout!r} exists with another table ({path}); "
                        "choose a new version, or remove it after checking") from None

    def put_new(self, doc: DatasetDocument, manifest: FileManifest,
                layouts: Optional[dict[str, FileManifest]] = None) -> None:
        """Create a new version: manifest first, then the document (the commit point).

        Two publishers of the same table race harmlessly (identical manifests; exactly one creates
        the document). A manifest left by an interrupted publish of the *same* table is reused; one
        of a different table blocks the version until someone looks (never silently replaced).
        """
        name, version = doc.name, doc.version
        dbytes, mbytes = self.serialized(doc, manifest)
        if doc.inspected.manifest_sha256 not in (None, sha256(mbytes)):
            raise ValueError("document's manifest_sha256 does not match the manifest")
        if self.exists(name, version):
            raise AlreadyPublished(f"{name}@{version} is already in {self.uri}; published versions are never overwritten")
        if layouts:
            self._put_layout_manifests(doc, layouts, overwrite=False)
        try:
            self.store.create(manifest_path(name, version), mbytes)
        except AlreadyExists:
            if self.exists(name, version):
                raise AlreadyPublished(
                    f"{name}@{version} is already in {self.uri}; published versions are never overwritten"
                ) from None
            existing = self.store.read_bytes(manifest_path(name, version))
            if existing != mbytes:
                raise AlreadyPublished(
                    f"{name}@{version}: another publish of this version is in progress, or an earlier "
                    f"one was interrupted with a different table (manifest {manifest_path(name, version)} "
                    "exists without a document). Choose a new version, or remove that manifest after checking."
                ) from None
        try:
            self.store.create(document_path(name, version), dbytes)
        except AlreadyExists:
            raise AlreadyPublished(
                f"{name}@{version} was published by someone else a moment ago; published versions are never overwritten"
            ) from None

    def replace_draft(self, doc: DatasetDocument, manifest: FileManifest,
                      layouts: Optional[dict[str, FileManifest]] = None) -> None:
        """A draft may be replaced by a new publish of the same name@version (published ones never)."""

        def swap(current: DatasetDocument) -> DatasetDocument:
            if current.status != Status.DRAFT:
                raise AlreadyPublished(
                    f"{doc.ref} is {current.status.value}; published versions are never overwritten"
                )
            self.store.write(manifest_path(doc.name, doc.version), dumps(manifest.to_dict()))
            if layouts:
                self._put_layout_manifests(doc, layouts, overwrite=True)
            return doc.model_copy(update={"history": current.history + doc.history})

        self.update(doc.name, doc.version, swap)

    def update(
        self,
        name: str,
        version: str,
        change: Callable[[DatasetDocument], DatasetDocument],
        retries: int = 8,
    ) -> DatasetDocument:
        """Read, change, and write back with a precondition; re-read and retry when another writer
        got in between, so no concurrent change is lost."""
        path = document_path(name, version)
        for _ in range(retries):
            try:
                current = self.store.read_versioned(path)
            except FileNotFoundError:
                raise NotFound(f"{name}@{version} is not in {self.uri}") from None
            new = change(parse_document(current.data, self.store.url(path), (name, version)))
            try:
                self.store.replace(path, dumps(new.to_dict()), current.token)
                return new
            except PreconditionFailed:
                continue
        raise ConcurrentModification(f"{name}@{version} kept changing underneath us; try again")


def refs_in(docs: Iterable[DatasetDocument]) -> set[str]:
    return {d.ref for d in docs}


def find(docs: Iterable[DatasetDocument], ref: str) -> Optional[DatasetDocument]:
    return next((d for d in docs if d.ref == ref), None)
