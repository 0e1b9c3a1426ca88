"""The documents of one registry, read once and arranged the ways the pages need them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, TypeVar

from registry.documents import Registry, document_path
from registry.joins import (
    JoinFacts,
    export_entries,
    facts_for_target,
    merge_exports,
    merge_references,
    reference_facts,
    reference_targets,
    references_from,
)
from registry.latest import newest_published, recency
from registry.model import DatasetDocument

from .parts import content_id
from . import paths
from .paths import slug  # noqa: F401 - re-exported: the one slug of the site (see paths.py)


@dataclass
class Skipped:
    """A document that could not be read or failed validation: listed in the report, not built."""

    path: str
    message: str


T = TypeVar("T")
_UNSET = object()


class Dataset:
    """All versions of one name, oldest first; `latest` is the newest *published* one.

    A rebuild with a cache does not parse the documents of datasets that did not change: their
    `versions` are loaded on first use (`loader`), and what the pages about *every* dataset need
    from them comes from `RegistrySnapshot.part` (cached by `cid`). `count` and `cid` never load."""

    __slots__ = ("name", "_versions", "_loader", "cid", "_count", "_positions", "_latest")

    def __init__(self, name: str, versions: Optional[list[DatasetDocument]] = None, *,
                 loader: Optional[Callable[[], list[DatasetDocument]]] = None, cid: str = "",
                 count: Optional[int] = None):
        if versions is None and loader is None:
            raise ValueError("a dataset needs its versions or a loader")
        self.name = name
        self._versions = versions
        self._loader = loader
        self.cid = cid
        """Content id: a hash of this dataset's documents' bytes (the key of its parts)."""
        self._count = count
        self._positions: Optional[dict[str, int]] = None
        self._latest: Any = _UNSET

    @property
    def versions(self) -> list[DatasetDocument]:
        if self._versions is None:
            assert self._loader is not None
            self._versions = self._loader()
            self._loader = None
        return self._versions

    @property
    def loaded(self) -> bool:
        return self._versions is not None

    @property
    def count(self) -> int:
        """How many versions (without loading them)."""
        return len(self._versions) if self._versions is not None else (self._count or 0)

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}, {self.count} versions{'' if self.loaded else ', not loaded'})"

    @property
    def latest(self) -> Optional[DatasetDocument]:
        # remembered: pages ask once per version (a scan each time made n versions cost n²)
        if self._latest is _UNSET:
            self._latest = newest_published(self.versions)
        return self._latest

    def position(self, version: str) -> Optional[int]:
        """Index of the version labelled `version` in `versions` (a dict built on first use, for
        the same reason as `latest`), None when there is none."""
        if self._positions is None:
            positions: dict[str, int] = {}
            for i, v in enumerate(self.versions):
                positions.setdefault(v.version, i)
            self._positions = positions
        return self._positions.get(version)

    @property
    def newest(self) -> DatasetDocument:
        return self.versions[-1]


def page_paths(ds: Dataset) -> tuple[str, ...]:
    """A dataset's page and its version pages, as HTML paths (`paths`): the `page-paths` part."""
    return (paths.dataset_page(ds.name), *(paths.version_page(ds.name, v.version) for v in ds.versions))


class VersionsByName(Mapping[str, list[DatasetDocument]]):
    """A read-only name -> versions view of the datasets; iterating names loads nothing."""

    def __init__(self, datasets: dict[str, Dataset]):
        self._datasets = datasets

    def __getitem__(self, name: str) -> list[DatasetDocument]:
        return self._datasets[name].versions

    def __iter__(self) -> Iterator[str]:
        return iter(self._datasets)

    def __len__(self) -> int:
        return len(self._datasets)


class _Keyed:
    """A dataset stand-in carrying a combined content id (`RegistrySnapshot.part(depends=...)`)."""

    __slots__ = ("name", "cid")

    def __init__(self, ds: Dataset, cid: str):
        self.name, self.cid = ds.name, cid


@dataclass
class RegistrySnapshot:
    datasets: dict[str, Dataset]
    skipped: list[Skipped] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    """`name@version` -> hash of the document's bytes as read (empty for documents built in memory)."""
    parts: Any = None
    """The per-dataset part store of an incremental build (`site_builder.doc_cache`), else None."""

    def part(self, kind: str, ds: Dataset, fn: Callable[[Dataset], T], depends: Iterable[Dataset] = ()) -> T:
        """`fn(ds)`, remembered between builds by (kind, ds.cid) when the build has a cache.

        The one way code that summarises *every* dataset (home and browse pages, `index.json`,
        the search index, the incremental keys) gets what it needs from an unchanged dataset
        without parsing its documents. `fn` must depend on `ds`'s own documents only (never on
        other datasets, the build time or parameters) and return something picklable; `kind`
        names `fn` (change the kind when `fn` changes what it returns). A part that also reads
        other datasets' documents (a reference's join facts read its target's) names them in
        `depends`: its key is then the content ids of all of them."""
        if self.parts is None:
            return fn(ds)
        others = list(depends)
        if not others:
            return self.parts.get(kind, ds, fn)
        key = _Keyed(ds, content_id([ds.cid, *(f"{o.name}:{o.cid}" for o in others)])
                     if ds.cid and all(o.cid for o in others) else "")
        return self.parts.get(kind, key, lambda _k: fn(ds))

    @property
    def by_name(self) -> "VersionsByName":
        """`{name: versions}` for `registry.joins`, loading a dataset's versions only when asked."""
        return VersionsByName(self.datasets)

    @classmethod
    def from_documents(cls, docs: list[DatasetDocument], skipped: Optional[list[Skipped]] = None) -> "RegistrySnapshot":
        grouped: dict[str, list[DatasetDocument]] = defaultdict(list)
        for d in docs:
            grouped[d.name].append(d)
        datasets = {
            n: Dataset(n, sorted(vs, key=recency))
            for n, vs in sorted(grouped.items())
        }
        return cls(datasets, skipped or [])

    @classmethod
    def read(cls, registry_uri: str) -> "RegistrySnapshot":
        """Read every document concurrently (fsspec `cat` of many paths); invalid ones are skipped."""
        registry = Registry(registry_uri)
        docs, problems = registry.load_all(share=True)  # a build never changes a document
        skipped = [Skipped(p.path, str(p.error)) for p in problems]
        catalog = cls.from_documents(docs, skipped)
        catalog.digests = {d.ref: registry.digests[document_path(d.name, d.version)] for d in docs}
        for ds in catalog.datasets.values():
            ds.cid = content_id([catalog.digests[v.ref] for v in ds.versions])
        return catalog

    # ---- views
    @property
    def versions(self) -> list[DatasetDocument]:
        return [v for ds in self.datasets.values() for v in ds.versions]

    def get(self, ref: str) -> Optional[DatasetDocument]:
        name, _, version = ref.partition("@")
        ds = self.datasets.get(name)
        if ds is None:
            return None
        i = ds.position(version)
        return None if i is None else ds.versions[i]

    def previous(self, doc: DatasetDocument) -> Optional[DatasetDocument]:
        ds = self.datasets[doc.name]
        i = ds.position(doc.version)
        if i is None:
            raise KeyError(doc.ref)
        return ds.versions[i - 1] if i > 0 else None

    def is_latest(self, doc: DatasetDocument) -> bool:
        latest = self.datasets[doc.name].latest
        return latest is not None and latest.version == doc.version

    def successor(self, doc: DatasetDocument) -> Optional[str]:
        """NAME@VERSION that replaces a deprecated version, from lineage or the history."""
        if doc.lineage.superseded_by:
            return doc.lineage.superseded_by
        for entry in reversed(doc.history):
            if entry.superseded_by:
                return entry.superseded_by
        return None

    def deprecation(self, doc: DatasetDocument):
        """The history entry that deprecated `doc`, if any."""
        return next((h for h in reversed(doc.history) if h.action == "deprecated"), None)

    # ---- the join indexes, from per-dataset parts (see registry.joins)
    def _memo(self, key: str, fn: Callable[[], T]) -> T:
        """`fn()` once per snapshot (a snapshot's documents never change)."""
        memo = self.__dict__.setdefault("_memoised", {})
        if key not in memo:
            memo[key] = fn()
        return memo[key]

    def bulk_pages(self) -> list[str]:
        """Every dataset and version page's HTML path, each dataset's page before its versions':
        what the sitemap adds and what a rebuild prunes against, made once per build from a part
        (at 100,000 versions, making the 133,000 paths for each was ~2 s of a rebuild)."""
        return self._memo("bulk-pages", lambda: [
            p for ds in self.datasets.values() for p in self.part("page-paths", ds, page_paths)])

    def exports(self) -> dict[tuple[str, str], dict[int, str]]:
        """`registry.joins.export_index(self.by_name)`, from one part per dataset: a rebuild
        parses no unchanged dataset for it."""
        return self._memo("exports", lambda: merge_exports(
            self.part("export-entries", ds, lambda d: export_entries(d.versions)) for ds in self.datasets.values()))

    def _targets(self, ds: Dataset) -> list[str]:
        """The datasets `ds`'s versions reference (a part: read from `ds`'s documents only)."""
        return self.part("reference-targets", ds, lambda d: reference_targets(d.versions))

    def referenced_by(self) -> dict[str, list[dict[str, Any]]]:
        """`registry.joins.referenced_by_index(self.by_name)`, from one part per (referencing
        dataset, dataset it references).

        An entry's join facts (`valid_at`, `verdict`, `target_version`) read the target's versions
        too, so a pair's part is keyed by the source's documents and the target's (`depends`; a
        target not in the registry counts as absent): when a target changes, its sources' entries
        for it are computed again (loading those sources, which a rebuild re-renders anyway), and
        nothing else is parsed. Entries are shared with the part store: do not change them."""
        def pair(ds: Dataset, target: str) -> list[tuple[str, dict[str, Any]]]:
            other = self.datasets.get(target) or _Absent(target)
            return self.part("referenced-by-entries", ds, lambda d: references_from(d.versions, self.by_name, target),
                             depends=[other])  # type: ignore[list-item]

        def per_pair() -> Iterator[list[tuple[str, dict[str, Any]]]]:
            for name in sorted(self.datasets):
                ds = self.datasets[name]
                for target in self._targets(ds):
                    yield pair(ds, target)

        return self._memo("referenced_by", lambda: merge_references(per_pair()))

    def join_facts(self, ds: Dataset) -> dict[str, list[JoinFacts]]:
        """`{version: registry.joins.document_join_facts(v, self.by_name, self.exports())}` for
        every version of `ds` (which is loaded: its pages or JSON are being written).

        The facts of references to datasets come from one part per (ds, target) pair keyed by
        both (`facts_for_target`): a dataset re-rendered because one neighbour changed does not
        parse its other, unchanged targets. References to annotation tables read only
        `exports()`. The facts are shared with the part store: do not change them."""
        def pair(target: str) -> dict[tuple[str, int], JoinFacts]:
            return self.part("join-facts", ds, lambda d: facts_for_target(d.versions, target, self.by_name),
                             depends=[self.datasets.get(target) or _Absent(target)])  # type: ignore[list-item]

        pairs = {t: pair(t) for t in self._targets(ds)}
        exports = self.exports() if any(r.annotation_table for v in ds.versions for r in v.references) else {}
        return {v.version: [pairs[r.dataset.partition("@")[0]][(v.version, i)] if r.dataset
                            else reference_facts(v, r, self.by_name, exports=exports)
                            for i, r in enumerate(v.references)]
                for v in ds.versions}


class _Absent:
    """A referenced dataset that is not in the registry, as a `depends=` entry: its appearance
    changes the key of the parts that reference it."""

    __slots__ = ("name", "cid")

    def __init__(self, name: str):
        self.name, self.cid = name, "absent"
