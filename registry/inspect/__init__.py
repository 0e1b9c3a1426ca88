"""Table inspection: read a table's own metadata (footers, logs, manifests), never its data.

Each format has one module with one entry point, `inspect(location, *, table_version, format_options,
progress) -> TableInspection`. Heavy libraries are imported inside those modules only, so importing
the registry model (as the signer does) stays cheap.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..errors import BadInput, TableUnreadable
from ..model import Format, InspectedColumn, ManifestFile

ProgressCallback = Callable[[int, int], None]
"""progress(done, total): called as files are inspected; total may grow while listing."""


@dataclass
class TableInspection:
    """What a format module found. `files` becomes the manifest beside the document."""

    columns: list[InspectedColumn]
    files: list[ManifestFile]
    fingerprint: str
    table_version: int
    row_count: Optional[int] = None
    bytes: Optional[int] = None
    partition_columns: list[str] = field(default_factory=list)
    reader_features: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def file_count(self) -> int:
        return len(self.files)


_MODULES = {
    Format.PARQUET: "registry.inspect.parquet",
    Format.DELTA: "registry.inspect.delta",
    Format.ICEBERG: "registry.inspect.iceberg",
    Format.LANCE: "registry.inspect.lance",
}


def inspect_table(
    location: str,
    format: Format | str,
    *,
    table_version: Optional[int] = None,
    format_options: Optional[dict[str, Any]] = None,
    progress: Optional[ProgressCallback] = None,
) -> TableInspection:
    """Inspect the table at `location` in `format`, pinned to `table_version` (default: latest).

    Raises `TableUnreadable` (exit 2) for every table that cannot be inspected, also when a format
    library trips over a layout it does not expect (a writer's quirk): the message names the
    location and the library's words, never a traceback.
    """
    from .access import classify, summary  # imports fsspec: only when inspecting

    fmt = Format(format)
    module = importlib.import_module(_MODULES[fmt])
    try:
        return module.inspect(
            location,
            table_version=table_version,
            format_options=dict(format_options or {}),
            progress=progress,
        )
    except BadInput:
        raise
    except Exception as exc:  # noqa: BLE001 - a library's internal error on an unexpected layout
        raise classify(location, exc) or TableUnreadable(
            f"{location}: the {fmt.value} metadata has a layout this inspector does not understand "
            f"({type(exc).__name__}: {summary(exc)})"
        ) from exc
