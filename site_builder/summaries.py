"""What the summary pages show of one dataset, as a per-dataset part (`RegistrySnapshot.part`).

The home page, the dataset list, the datastack / tag / owner pages, the browse indexes and the
compatibility matrices summarise *every* dataset. A rebuild after one publish must not parse the
documents of the thousands that did not change to write them, so everything those pages show of a
dataset is one small `DatasetSummary` (a `VersionRow` per version), computed from the dataset's own
documents and remembered by its content id. A row holds only facts of its own document (and
`is_latest`, a fact of its dataset's documents), never of other datasets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from registry.latest import newest_published
from registry.model import DatasetDocument, Status

from .catalog import Dataset, RegistrySnapshot

KIND = "summary-rows"
"""The part kind of `dataset_summary` (change it when what the part holds changes)."""


@dataclass(frozen=True)
class VersionRow:
    """One version as a summary row shows it (the columns of `_macros.j2` `version_table`)."""

    name: str
    version: str
    title: str
    status: Status
    datastack: str
    mats: tuple[int, ...]
    """`materialization.all_versions`."""
    format: str
    published_at: dt.datetime
    row_count: Optional[int]
    tags: tuple[str, ...]
    owners: tuple[str, ...]
    """Owner names, sorted and unique (the owner pages' keys)."""
    is_latest: bool

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class DatasetSummary:
    """One dataset in a list: its versions' rows (oldest first, as `Dataset.versions`)."""

    name: str
    rows: tuple[VersionRow, ...]

    @property
    def latest(self) -> Optional[VersionRow]:
        """The newest published version (`Dataset.latest`)."""
        return next((r for r in self.rows if r.is_latest), None)

    @property
    def newest(self) -> VersionRow:
        return self.rows[-1]

    @property
    def count(self) -> int:
        return len(self.rows)


def version_row(d: DatasetDocument, is_latest: bool) -> VersionRow:
    return VersionRow(
        name=d.name, version=d.version, title=d.title, status=d.status, datastack=d.datastack,
        mats=tuple(d.materialization.all_versions), format=d.format.value, published_at=d.published_at,
        row_count=d.inspected.row_count, tags=tuple(d.tags), owners=tuple(sorted({o.name for o in d.owners})),
        is_latest=is_latest)


def dataset_summary(ds: Dataset) -> DatasetSummary:
    """The part: reads `ds.versions` (only when the part is not already known)."""
    latest = newest_published(ds.versions)
    latest_version = latest.version if latest is not None else None
    return DatasetSummary(ds.name, tuple(version_row(d, d.version == latest_version) for d in ds.versions))


def summaries(catalog: RegistrySnapshot) -> list[DatasetSummary]:
    """Every dataset's summary, in the catalog's (name) order."""
    return [catalog.part(KIND, ds, dataset_summary) for ds in catalog.datasets.values()]
