"""Lance inspection from the dataset manifest only (pylance 14).

What is read: the version manifest under `_versions/` (one small file holding the schema and every
fragment with its data files, row counts and deletion-file descriptors). Row counts come from
`physical_rows - num_deleted_rows` per fragment when the manifest has them.

Datasets written before Lance 0.8 have neither (`physical_rows` is None): then the fragment's own
reader metadata is asked (`LanceFragment.physical_rows` / `num_deletions`: the data file's footer
and the deletion file, never data pages), and `reader_features["row_count_source"]` says so. The
table's `row_count` is always Lance's own `count_rows()` (metadata-only without a filter); when the
manifest's numbers disagree with it (seen in datasets migrated from 0.7), Lance's count is
recorded and a warning names the difference. Such a disagreement (Lance 0.8.0 deleting from a
fragment written by 0.7 stored its live rows as `physical_rows`) makes every fragment be recounted
from its own reader metadata, so each file's `rows` is what it physically holds.

Lance cannot be read through plain signed URLs (its readers need object-store credentials), so
`reader_features["needs_credentials"]` is always true; the file list is still recorded so the
manifest says exactly which objects make up the pinned version.
"""

from __future__ import annotations

from typing import Any, Optional

from ..errors import TableUnreadable
from ..model import ManifestFile
from ..uris import library_uri
from . import ProgressCallback, TableInspection
from .access import bounded_object_store_options, classify, missing_table, summary, unreadable
from .arrow_types import columns_from_schema

_PROGRESS_EVERY = 500


def inspect(
    location: str,
    *,
    table_version: Optional[int],
    format_options: dict[str, Any],
    progress: Optional[ProgressCallback],
) -> TableInspection:
    import lance

    if table_version is not None and (not isinstance(table_version, int) or table_version < 1):
        raise TableUnreadable(f"{location}: Lance version must be a positive integer, got {table_version!r}")
    uri = library_uri(location)
    options = bounded_object_store_options(location, "lance")
    try:
        ds = lance.dataset(uri, version=table_version, storage_options=options)
        version = ds.version
        schema = ds.schema
        lance_fragments = list(ds.get_fragments())
        fragments = [f.metadata for f in lance_fragments]
    except Exception as exc:  # lance raises ValueError/OSError with Rust backtraces inside
        raise _diagnose(location, uri, options, table_version, exc) from None

    counts = [_fragment_rows(frag, lfrag, location) for frag, lfrag in zip(fragments, lance_fragments)]
    lance_count = _lance_count(ds, location)
    manifest_count = sum(physical - deleted for physical, deleted, _ in counts)
    corrected: list[int] = []  # fragments whose manifest row counts the data files contradict
    if manifest_count != lance_count:
        # Lance 0.8.0, deleting from a fragment written by 0.7, stored the fragment's *live* rows as
        # its physical_rows (measured: 14 for a 20-row file with 6 deletions). The data files'
        # footers and the deletion files are the authority then, fragment by fragment.
        recounted = [_reader_rows(frag, lfrag, location) for frag, lfrag in zip(fragments, lance_fragments)]
        corrected = [frag.id for frag, old, new in zip(fragments, counts, recounted) if old[:2] != new]
        counts = [(physical, deleted, True) for physical, deleted in recounted]

    files: list[ManifestFile] = []
    row_count = total_bytes = deletion_files = deleted_rows = 0
    from_reader = 0  # fragments whose counts came from the data files' footers, not the manifest
    sizes_known = True
    warnings: list[str] = []
    total = len(fragments)
    for i, (frag, (physical, deleted, asked)) in enumerate(zip(fragments, counts)):
        from_reader += asked
        if frag.deletion_file is not None:
            deletion_files += 1
        deleted_rows += deleted
        row_count += physical - deleted
        for j, data_file in enumerate(frag.files):
            if getattr(data_file, "base_id", None) is not None:
                raise TableUnreadable(
                    f"{location}: data file {data_file.path} of fragment {frag.id} lives in another base "
                    f"(base_id {data_file.base_id}), outside the dataset location"
                )
            size = getattr(data_file, "file_size_bytes", None)
            if size is None:
                sizes_known = False
            else:
                total_bytes += size
            files.append(
                ManifestFile(
                    path="data/" + data_file.path.lstrip("/"),
                    size=size,
                    # A fragment split into column files holds its rows once: count them on the first.
                    rows=physical if j == 0 else None,
                    partition={},
                )
            )
        if progress and ((i + 1) % _PROGRESS_EVERY == 0 or i + 1 == total):
            progress(i + 1, total)

    if corrected:
        ids = ", ".join(str(i) for i in corrected[:10]) + (", ..." if len(corrected) > 10 else "")
        warnings.append(
            f"the manifest's fragment row counts give {manifest_count} rows but Lance counts {lance_count}: "
            f"the manifest's physical_rows of {len(corrected)} fragment(s) ({ids}) disagree with their data "
            "files (written by an old Lance release?); rows counted from the data files' footers and "
            "deletion files"
        )
    if lance_count != row_count:
        warnings.append(
            f"the fragments' row counts give {row_count} rows but Lance counts {lance_count}: recorded "
            "Lance's count"
        )
        row_count = lance_count
    elif manifest_count != lance_count and not corrected:
        warnings.append(
            f"the manifest's fragment row counts give {manifest_count} rows but Lance counts {lance_count}: "
            "recorded Lance's count"
        )
    if from_reader and not corrected:
        warnings.append(
            f"{from_reader} fragment(s) have no row counts in the manifest (written before Lance 0.8): "
            "counted from their data files' footers and deletion files"
        )
    if deletion_files:
        warnings.append(
            f"{deletion_files} fragment(s) carry deletion files ({deleted_rows} deleted row(s)): the data "
            "files include deleted rows; read the dataset with a Lance reader"
        )
    reader_features: dict[str, Any] = {
        "needs_credentials": True,
        "fragments": total,
        "deletion_files": deletion_files,
        "deleted_rows": deleted_rows,
        "faithful_file_list": deletion_files == 0,
        "data_storage_version": _data_storage_version(ds),
        "row_count_source": "manifest" if not from_reader else "fragment_footers",
    }
    if corrected:
        reader_features["manifest_row_counts_wrong"] = len(corrected)
    return TableInspection(
        columns=columns_from_schema(schema),
        files=files,
        fingerprint=f"lance:v{version}",
        table_version=int(version),
        row_count=row_count,
        bytes=total_bytes if sizes_known else None,
        partition_columns=[],
        reader_features=reader_features,
        warnings=warnings,
    )


def _fragment_rows(frag: Any, lfrag: Any, location: str) -> tuple[int, int, bool]:
    """(physical rows, deleted rows, whether the reader had to be asked) for one fragment."""
    physical = frag.physical_rows
    deleted = 0 if frag.deletion_file is None else frag.deletion_file.num_deleted_rows
    if physical is not None and deleted is not None:
        return int(physical), int(deleted), False
    try:  # pre-0.8 manifest: the data file footer and the deletion file know
        if physical is None:
            physical = lfrag.physical_rows
        if deleted is None:
            deleted = lfrag.num_deletions
    except Exception as exc:  # noqa: BLE001
        raise unreadable(location, f"cannot count the rows of Lance fragment {frag.id}", exc) from None
    return int(physical), int(deleted or 0), True


def _reader_rows(frag: Any, lfrag: Any, location: str) -> tuple[int, int]:
    """(physical rows, deleted rows) of one fragment from its data file footer and deletion file,
    whatever the manifest says."""
    try:
        return int(lfrag.physical_rows), int(lfrag.num_deletions or 0)
    except Exception as exc:  # noqa: BLE001
        raise unreadable(location, f"cannot count the rows of Lance fragment {frag.id}", exc) from None


def _lance_count(ds: Any, location: str) -> int:
    try:
        return int(ds.count_rows())
    except Exception as exc:  # noqa: BLE001
        raise unreadable(location, "Lance cannot count the dataset's rows", exc) from None


def _data_storage_version(ds: Any) -> Optional[str]:
    try:
        return str(ds.data_storage_version)
    except Exception:
        return None


def _diagnose(
    location: str, uri: str, options: dict[str, str], version: Optional[int], exc: BaseException
) -> TableUnreadable:
    """Say what is wrong with `location` instead of passing on a Rust error with source paths."""
    import lance

    access = classify(location, exc)
    if access is not None:
        return access
    missing = missing_table(location, uri, "_versions", "Lance dataset")
    if missing is not None:
        return missing
    if version is not None:
        try:
            latest = lance.dataset(uri, storage_options=options).latest_version
        except Exception:
            latest = None
        if latest is not None:
            return TableUnreadable(
                f"{location}: Lance version {version} does not exist (or was cleaned up); the latest is {latest}"
            )
    return TableUnreadable(f"{location}: the Lance manifest cannot be read (truncated or corrupt?): {summary(exc)}")
