"""The document vocabulary every reader shares, in a module with no third-party imports.

`registry.model` (pydantic, the full document) and the signer's light view of a document
(`signer_function/document.py`) both take their grammars, enums and the on-read upgrade from
here, so the two can never disagree on what a name, a status or a version-1 document is. The
signer imports only this (and `registry.reading`): a cold start without pydantic.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Any, Optional

REGISTRY_SCHEMA = 1
"""The `registry_schema` integer written into every document by this version (CONTRACT.md).

Additive, optional fields do not change it: `layouts` (physical copies of the same rows) is left out
of a document that has none, so such documents are exactly what earlier writers wrote. Readers
upgrade older shapes on read (`upgrade_document`); nothing is rewritten."""

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
REF_PATTERN = r"^[a-z][a-z0-9_]*@[A-Za-z0-9][A-Za-z0-9._-]*$"


class Format(str, Enum):
    PARQUET = "parquet"
    DELTA = "delta"
    ICEBERG = "iceberg"
    LANCE = "lance"


class Status(str, Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    DEPRECATED = "deprecated"


def upgrade_document(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older document up to the current `registry_schema` in memory.

    Published documents are never rewritten to migrate them; readers call this on read. Version 1 is
    the first schema, so today the only upgrade is filling in a missing `registry_schema`.
    """
    if not isinstance(data, dict):
        return data
    if "registry_schema" not in data:
        data = {**data, "registry_schema": REGISTRY_SCHEMA}
    refs = data.get("references")
    if isinstance(refs, list) and any(isinstance(r, dict) and "join" in r for r in refs):
        # The site's JSON API adds derived join facts (registry.joins) to each reference; they are
        # computed, never stored, so a document read back from the site drops them.
        data = {**data, "references": [{k: v for k, v in r.items() if k != "join"} if isinstance(r, dict) else r
                                       for r in refs]}
    if "layouts" not in data:
        # Documents from before `layouts` recorded MaterializationEngine's copies only in
        # `provenance.parameters.layout_variants`: known, but without a manifest (not signed).
        lifted = layouts_from_variants(data)
        if lifted:
            data = {**data, "layouts": lifted}
    return data


def layouts_from_variants(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Version-1 documents from MaterializationEngine exports recorded their copies only in
    `provenance.parameters.layout_variants`; as layouts they are known but have no manifest."""
    provenance = data.get("provenance")
    params = provenance.get("parameters") if isinstance(provenance, dict) else None
    # hostile or malformed documents reach this before validation: anything but the shape is "none"
    variants = params.get("layout_variants") if isinstance(params, dict) else None
    if not isinstance(variants, list):
        return []
    out, seen = [], set()
    own = str(data.get("location") or "").rstrip("/")
    for v in variants:
        if not isinstance(v, dict) or not isinstance(v.get("location"), str) or v["location"].rstrip("/") == own:
            continue
        name = re.sub(r"[^a-z0-9_]+", "_", str(v.get("variant") or "").lower()).strip("_") or "layout"
        if not re.match(NAME_PATTERN, name):
            name = f"layout_{name}"
        while name in seen:
            name += "_"
        seen.add(name)
        order: list[Any] = v["order_by"] if isinstance(v.get("order_by"), list) else []
        lay = {"name": name, "location": v["location"], "ordering": [str(c) for c in order]}
        for key in ("table_version", "fingerprint", "row_count", "file_count"):
            if v.get(key) is not None:
                lay[key] = v[key]
        out.append(lay)
    return out


def expiry_date(published_at: dt.datetime, retention: Any) -> Optional[dt.date]:
    """A version's retention date: `retention.expires_on`, else `ttl_days` after publishing; None
    without a retention. One rule for the model and the signer's document view."""
    if retention is None:
        return None
    if retention.expires_on is not None:
        return retention.expires_on
    return (published_at + dt.timedelta(days=retention.ttl_days or 0)).date()
