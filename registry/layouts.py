"""Publishing a version's other layouts: inspect each copy like the main table, check it holds the
same rows, and pin it (table version, fingerprint, file manifest with per-file stats).

A layout is the same rows in another physical order (MaterializationEngine writes one Delta copy
per indexed column). Publish records it so the signer can sign it and the client can pick the copy
whose ordering matches a filter; nothing about a layout is trusted beyond its own table's metadata.
"""

from __future__ import annotations

from typing import Any, Optional

from .errors import SpecInvalid
from .inspect import ProgressCallback, TableInspection, inspect_table
from .model import DatasetSpec, FileManifest, Layout


def inspect_layouts(spec: DatasetSpec, main: TableInspection, progress: Optional[ProgressCallback] = None
                    ) -> tuple[list[Layout], dict[str, FileManifest], list[str]]:
    """The spec's layouts as published (pinned, counted, fingerprinted) and their manifests.
    Bad input (a copy with other rows or without its ordering columns) raises `SpecInvalid`."""
    columns = {c.name for c in main.columns}
    out: list[Layout] = []
    manifests: dict[str, FileManifest] = {}
    warnings: list[str] = []
    for i, lay in enumerate(spec.layouts):
        where = f"layouts[{i}]"
        unknown = [c for c in [*lay.ordering, *lay.partition_columns] if c not in columns]
        if unknown:
            raise SpecInvalid.single(f"{where}.ordering", f"{', '.join(unknown)} not columns of the table")
        found = inspect_table(lay.location, spec.format, table_version=lay.table_version,
                              format_options=spec.format_options, progress=progress)
        if main.row_count is not None and found.row_count is not None and found.row_count != main.row_count:
            raise SpecInvalid.single(f"{where}.location", f"holds {found.row_count} rows; the table at "
                                     f"`location` holds {main.row_count}: a layout must be the same rows")
        if sorted((c.name, c.type) for c in found.columns) != sorted((c.name, c.type) for c in main.columns):
            raise SpecInvalid.single(f"{where}.location", "has other columns or types than the table at `location`")
        if found.reader_features.get("faithful_file_list") is False:
            warnings.append(f"{where} ({lay.name}): its file list is not the whole table (deletes); readers of "
                            "signed URLs will not use it")
        manifests[lay.name] = FileManifest(files=found.files)
        out.append(lay.model_copy(update={
            "table_version": found.table_version, "fingerprint": found.fingerprint, "row_count": found.row_count,
            "file_count": found.file_count, "bytes": found.bytes,
            "partition_columns": lay.partition_columns or list(found.partition_columns), "manifest": True,
        }))
    return out, manifests, warnings


def layout_summary(layouts: list[Layout]) -> list[dict[str, Any]]:
    """What the site shows per layout."""
    return [{"name": lay.name, "location": lay.location, "ordering": lay.ordering,
             "partition_columns": lay.partition_columns, "files": lay.file_count, "rows": lay.row_count,
             "fingerprint": lay.fingerprint} for lay in layouts]
