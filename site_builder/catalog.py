"""The documents of one registry, read once and arranged the ways the pages need them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Optional

from registry.documents import Registry, document_path
from registry.latest import newest_published, recency
from registry.model import DatasetDocument

from .paths import slug  # noqa: F401 - re-exported: the one slug of the site (see paths.py)


@dataclass
class Skipped:
    """A document that could not be read or failed validation: listed in the report, not built."""

    path: str
    message: str


@dataclass
class Dataset:
    """All versions of one name, oldest first; `latest` is the newest *published* one."""

    name: str
    versions: list[DatasetDocument]

    @property
    def latest(self) -> Optional[DatasetDocument]:
        return newest_published(self.versions)

    @property
    def newest(self) -> DatasetDocument:
        return self.versions[-1]


@dataclass
class RegistrySnapshot:
    datasets: dict[str, Dataset]
    skipped: list[Skipped] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    """`name@version` -> hash of the document's bytes as read (empty for documents built in memory)."""

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
        return next((v for v in ds.versions if v.version == version), None)

    def previous(self, doc: DatasetDocument) -> Optional[DatasetDocument]:
        versions = self.datasets[doc.name].versions
        i = next(i for i, v in enumerate(versions) if v.version == doc.version)
        return versions[i - 1] if i > 0 else None

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

    def group(self, key) -> dict[str, list[DatasetDocument]]:
        """Versions grouped by `key(doc)` -> iterable of group names, groups sorted."""
        out: dict[str, list[DatasetDocument]] = defaultdict(list)
        for v in self.versions:
            for k in key(v):
                out[k].append(v)
        return dict(sorted(out.items()))
