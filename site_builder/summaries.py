"""What the summary pages show of one dataset, as a per-dataset part (`RegistrySnapshot.part`).

The home page, the dataset list, the datastack / tag / owner pages, the browse indexes and the
compatibility matrices summarise *every* dataset. A rebuild after one publish must not parse the
documents of the thousands that did not change to write them, so everything those pages show of a
dataset is one small `DatasetSummary` (a `VersionRow` per version), computed from the dataset's own
documents and remembered by its content id. A row holds only facts of its own document (and
`is_latest`, a fact of its dataset's documents), never of other datasets.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from registry.latest import newest_published
from registry.model import DatasetDocument

from .catalog import Dataset, RegistrySnapshot

KIND = "summary-rows.2"
"""The part kind of `dataset_summary` (change it when what the part holds changes)."""


class VersionRow(NamedTuple):
    """One version as a summary row shows it (the columns of `_macros.j2` `version_table`).

    Plain values only (no enum, no datetime): a rebuild unpickles one row per version of the
    whole catalog, and plain tuples load ~10x faster than dataclasses of enums and datetimes."""

    name: str
    version: str
    title: str
    status: str
    """`Status` value."""
    datastack: str
    mats: tuple[int, ...]
    """`materialization.all_versions`."""
    format: str
    published: float
    """`published_at` as a POSIX timestamp (orders as `published_at` does)."""
    published_iso: str
    """`published_at.isoformat()`; its first ten characters are the date in its own zone."""
    row_count: Optional[int]
    tags: tuple[str, ...]
    owners: tuple[str, ...]
    """Owner names, sorted and unique (the owner pages' keys)."""
    is_latest: bool

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def published_date(self) -> str:
        return self.published_iso[:10]


class DatasetSummary(NamedTuple):
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
    def n_versions(self) -> int:
        return len(self.rows)


Part = tuple[str, tuple[tuple, ...]]
"""What is stored: (name, plain tuples of the rows' fields)."""


def version_row(d: DatasetDocument, is_latest: bool) -> tuple:
    return (d.name, d.version, d.title, d.status.value, d.datastack, tuple(d.materialization.all_versions),
            d.format.value, d.published_at.timestamp(), d.published_at.isoformat(), d.inspected.row_count,
            tuple(d.tags), tuple(sorted({o.name for o in d.owners})), is_latest)


def dataset_summary(ds: Dataset) -> Part:
    """The part: reads `ds.versions` (only when the part is not already known)."""
    latest = newest_published(ds.versions)
    latest_version = latest.version if latest is not None else None
    return ds.name, tuple(version_row(d, d.version == latest_version) for d in ds.versions)


def summaries(catalog: RegistrySnapshot) -> list[DatasetSummary]:
    """Every dataset's summary, in the catalog's (name) order."""
    out = []
    make = VersionRow._make
    for ds in catalog.datasets.values():
        name, rows = catalog.part(KIND, ds, dataset_summary)
        out.append(DatasetSummary(name, tuple(map(make, rows))))
    return out
