"""Signing one of a version's layouts (another physical copy of the same rows, recorded at publish).

The document is viewed through the layout: its location, pin and file manifest replace the main
ones, and every check that follows (`ALLOWED_LOCATIONS`, manifest paths inside the location)
applies to the layout's own location. Only layouts whose manifest publish recorded are signed;
a layout known only from an older document's provenance is refused with the reason.
"""

from __future__ import annotations

from typing import Any

from registry import errors as registry_errors
from registry.model import DatasetDocument, FileManifest

from .errors import NotFound


def select(lookup: Any, found: Any, layout: str) -> tuple[DatasetDocument, FileManifest]:
    doc: DatasetDocument = found.document
    lay = next((x for x in doc.layouts if x.name == layout), None)
    if lay is None:
        names = ", ".join(x.name for x in doc.layouts) or "none"
        raise NotFound(f"{doc.ref} has no layout {layout!r} (layouts: {names})")
    if not lay.manifest:
        raise NotFound(f"layout {layout!r} of {doc.ref} has no file manifest (recorded before layouts were "
                       f"published); republish the version to sign it")
    key = ("layout", doc.name, doc.version, layout)
    manifest = lookup.cached(key)
    if manifest is None:
        try:
            manifest = lookup.registry.layout_manifest(doc.name, doc.version, layout)
        except registry_errors.NotFound:
            raise NotFound(f"layout {layout!r} of {doc.ref} has no file manifest in the registry") from None
        lookup.remember(key, manifest)
    inspected = doc.inspected.model_copy(update={"partition_columns": list(lay.partition_columns),
                                                 "file_count": lay.file_count or len(manifest.files)})
    view = doc.model_copy(update={"location": lay.location, "inspected": inspected,
                                  "table_version": lay.table_version if lay.table_version is not None else doc.table_version})
    return view, manifest
