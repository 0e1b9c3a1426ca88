"""Where `list` and `show` read from: a registry URI, or a built catalog site over HTTP(S)."""

from __future__ import annotations

from typing import Any, Optional

from .documents import Registry
from .model import DatasetDocument, document_summary


def matches(
    summary: dict[str, Any],
    *,
    datastack: Optional[str] = None,
    mat_version: Optional[int] = None,
    status: Optional[str] = None,
    tag: Optional[str] = None,
    format: Optional[str] = None,
    owner: Optional[str] = None,
) -> bool:
    """The one filter over summaries, shared by `list` and the client's search."""
    if datastack and summary["datastack"] != datastack:
        return False
    if mat_version is not None and mat_version not in summary["materialization_versions"]:
        return False
    if status and summary["status"] != status:
        return False
    if tag and tag not in summary["tags"]:
        return False
    if format and summary["format"] != format:
        return False
    if owner and not any(owner.lower() in o.lower() for o in summary["owners"]):
        return False
    return True


class RegistrySource:
    def __init__(self, uri: str):
        self.registry = Registry(uri)
        self.problems: list[str] = []

    def summaries(self, **filters: Any) -> list[dict[str, Any]]:
        docs, problems = self.registry.load_all()
        self.problems = [f"{p.path}: {p.error}" for p in problems]
        rows = [document_summary(d) for d in docs]
        rows = [r for r in rows if matches(r, **filters)]
        rows.sort(key=lambda r: r["published_at"], reverse=True)
        return sorted(rows, key=lambda r: r["name"])  # stable: newest first within each dataset

    def get(self, name: str, version: str = "latest") -> DatasetDocument:
        """One document; unreadable versions of `name` (which `latest` skipped) go to `problems`."""
        if version == "latest":
            found = [f"{p.path}: {p.error}" for p in self.registry.versions_and_problems(name)[1]]
            self.problems += [p for p in found if p not in self.problems]
        return self.registry.get(name, version)

    def documents_of(self, name: str) -> list[DatasetDocument]:
        """Every readable version of `name` (for join facts and plans)."""
        return self.registry.versions(name)

    def join_facts(self, doc: DatasetDocument) -> list[dict[str, Any]]:
        """The `join` object of each reference (`registry.joins`), from the whole registry."""
        from .joins import document_join_facts, group_versions

        return [f.to_json() for f in document_join_facts(doc, group_versions(self.registry.documents()))]


def open_source(uri: str):
    if uri.startswith(("http://", "https://")):
        from .client import Catalog

        return Catalog(uri).as_source()
    return RegistrySource(uri)
