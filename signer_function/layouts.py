"""Signing one of a version's layouts (another physical copy of the same rows, recorded at publish).

The document is viewed through the layout: its location, pin and file manifest replace the main
ones, and every check that follows (`ALLOWED_LOCATIONS`, manifest paths inside the location)
applies to the layout's own location. Only layouts whose manifest publish recorded are signed;
a layout known only from an older document's provenance is refused with the reason.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from registry.reading import layout_manifest_path

from .document import Document, FileManifest

from .errors import NotFound


def select(lookup: Any, found: Any, layout: str) -> tuple[Document, FileManifest]:
    doc: Document = found.document
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
        # the same size-capped reader as the version's own manifest (not the fsspec registry)
        try:
            manifest = lookup.read_manifest(layout_manifest_path(doc.name, doc.version, layout), doc.name, doc.version)
        except NotFound:
            raise NotFound(f"layout {layout!r} of {doc.ref} has no readable file manifest in the registry") from None
        lookup.remember(key, manifest)
    inspected = dataclasses.replace(doc.inspected, partition_columns=list(lay.partition_columns),
                                    file_count=lay.file_count or len(manifest.files))
    view = dataclasses.replace(doc, location=lay.location, inspected=inspected,
                               table_version=lay.table_version if lay.table_version is not None else doc.table_version)
    return view, manifest
