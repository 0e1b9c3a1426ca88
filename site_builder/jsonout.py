"""The JSON a script reads: `index.json`, `api/datasets/...`, `schema/...`, and JSON-LD.

URLs and shapes are part of the public contract (see docs/site.md); every field added later must
be optional for readers. `index.json` has its own JSON Schema at `schema/index.schema.json`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import shutil
from typing import Any, Callable, Iterable, Optional

from registry.joins import VERDICTS, with_facts
from registry.model import REGISTRY_SCHEMA, DatasetDocument, document_json_schema, document_summary

from . import paths
from .catalog import Dataset, RegistrySnapshot
from .sanitize import plain_text

INDEX_FORMAT = 1
"""Bumped only for incompatible changes to index.json (fields are only ever added)."""


def version_page(doc: DatasetDocument) -> str:
    return paths.version_page(doc.name, doc.version)


def version_api(doc: DatasetDocument) -> str:
    return paths.version_api(doc.name, doc.version)


def summary(doc: DatasetDocument, catalog: RegistrySnapshot) -> dict[str, Any]:
    """One dataset version in index.json: `registry.model.document_summary` (the one definition the
    command line and the client share) plus what only the site knows: whether it is the latest,
    its successor (also when only the successor's `supersedes` says so), and where its page is."""
    dep = catalog.deprecation(doc)
    return {
        **document_summary(doc),
        "superseded_by": catalog.successor(doc),
        "latest": catalog.is_latest(doc),
        "deprecated_reason": dep.reason if dep else None,
        "page": version_page(doc),
        "document": version_api(doc),
    }


def index_document(catalog: RegistrySnapshot, site_url: Optional[str], generated_at: dt.datetime) -> dict[str, Any]:
    """index.json as one dict (readers and tests; `write_json` writes the same bytes from parts)."""
    versions = [summary(d, catalog) for d in catalog.versions]
    return {**_index_head(catalog, site_url, generated_at, len(versions)), "versions": versions}


def _index_head(catalog: RegistrySnapshot, site_url: Optional[str], generated_at: dt.datetime,
                version_count: int) -> dict[str, Any]:
    return {
        "index_format": INDEX_FORMAT,
        "registry_schema": REGISTRY_SCHEMA,
        "generated_at": generated_at.isoformat(),
        "site_url": site_url,
        "dataset_count": len(catalog.datasets),
        "version_count": version_count,
    }


def _dumps(data: Any) -> str:
    """The compact JSON of every file the API writes (one definition: spliced texts must match)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def summaries_json(catalog: RegistrySnapshot, ds: Dataset) -> str:
    """The `summary` of each version of `ds`, as compact JSON objects joined by commas: one
    dataset's slice of `index.json`'s `versions` (and of its `api/datasets/<name>.json`).

    A per-dataset part: a rebuild splices the remembered texts of unchanged datasets instead of
    parsing their documents, and serializes nothing twice. `summary` reads only `ds`'s own
    documents (successor, deprecation, latest of the same dataset)."""
    return catalog.part("index-summaries-json", ds, lambda d: ",".join(_dumps(summary(v, catalog)) for v in d.versions))


INDEX_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Feature registry catalog index (index.json)",
    "type": "object",
    "required": ["index_format", "registry_schema", "generated_at", "version_count", "versions"],
    "properties": {
        "index_format": {"const": INDEX_FORMAT},
        "registry_schema": {"type": "integer"},
        "generated_at": {"type": "string", "format": "date-time"},
        "site_url": {"type": ["string", "null"]},
        "dataset_count": {"type": "integer", "minimum": 0},
        "version_count": {"type": "integer", "minimum": 0},
        "versions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "version", "ref", "title", "datastack", "materialization_version",
                             "materialization_versions", "format", "status", "latest", "tags", "columns",
                             "published_at", "page", "document"],
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                    "version": {"type": "string"},
                    "ref": {"type": "string"},
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "file_count": {"type": "integer"},
                    "license": {"type": ["string", "null"]},
                    "datastack": {"type": "string"},
                    "aligned_volume": {"type": ["string", "null"]},
                    "materialization_version": {"type": "integer"},
                    "materialization_versions": {"type": "array", "items": {"type": "integer"}},
                    "format": {"enum": ["parquet", "delta", "iceberg", "lance"]},
                    "table_version": {"type": "integer"},
                    "location": {"type": "string"},
                    "status": {"enum": ["draft", "published", "deprecated"]},
                    "latest": {"type": "boolean"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "owners": {"type": "array", "items": {"type": "string"}},
                    "columns": {"type": "array", "items": {"type": "string"}},
                    "row_count": {"type": ["integer", "null"]},
                    "bytes": {"type": ["integer", "null"]},
                    "published_at": {"type": "string", "format": "date-time"},
                    "superseded_by": {"type": ["string", "null"]},
                    "deprecated_reason": {"type": ["string", "null"]},
                    "page": {"type": "string"},
                    "document": {"type": "string"},
                },
            },
        },
    },
}


JOIN_SCHEMA: dict[str, Any] = {
    "description": "Derived by the site (registry.joins), not part of the stored document: at which "
                   "materialization versions this reference can be joined.",
    "type": "object",
    "required": ["verdict", "valid_at", "joinable_target_versions"],
    "properties": {
        "verdict": {"enum": list(VERDICTS)},
        "valid_at": {"type": "array", "items": {"type": "integer"}},
        "joinable_target_versions": {"type": "array", "items": {"type": "string"}},
        "target": {"type": ["string", "null"], "description": "resolved NAME@VERSION, or the annotation table"},
        "pinned": {"type": "boolean"},
        "stability": {"enum": ["stable", "changes_with_proofreading"]},
        "notes": {"type": "array", "items": {"type": "string"}},
        "exports": {"type": "object", "additionalProperties": {"type": "string"},
                    "description": "annotation tables: materialization version -> registered export NAME@VERSION"},
    },
}


def site_document_schema() -> dict[str, Any]:
    """The document's JSON Schema as the site serves documents: each reference may carry `join`."""
    schema = document_json_schema()
    ref = schema.get("$defs", {}).get("Reference")
    if ref is not None:
        ref.setdefault("properties", {})["join"] = JOIN_SCHEMA
    return schema


def json_ld(doc: DatasetDocument, page_url: Optional[str], api_url: str) -> dict[str, Any]:
    """schema.org `Dataset` for one version (search engines, data catalogues)."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": doc.ref,
        "alternateName": doc.title,
        "description": plain_text(doc.description, 5000) or doc.title,
        "version": doc.version,
        "datePublished": doc.published_at.isoformat(),
        "keywords": [*doc.tags, doc.datastack, f"materialization {doc.materialization.primary}"],
        "creator": [
            {"@type": "Person", "name": o.name, **({"email": o.email} if o.email else {})}
            for o in doc.owners
        ],
        "variableMeasured": [
            {"@type": "PropertyValue", "name": c.name, **({"description": plain_text(c.description, 500)} if c.description else {}),
             **({"unitText": c.unit} if c.unit else {})}
            for c in doc.columns
        ],
        "distribution": [
            {"@type": "DataDownload", "encodingFormat": doc.format.value, "contentUrl": doc.location},
            {"@type": "DataDownload", "encodingFormat": "application/json", "contentUrl": api_url},
        ],
        "isAccessibleForFree": False,
    }
    if page_url:
        data["url"] = page_url
    if doc.license:
        data["license"] = doc.license
    if doc.citation:
        cit = doc.citation.text or ""
        if doc.citation.doi:
            cit = (cit + " " if cit else "") + f"https://doi.org/{doc.citation.doi}"
        if cit:
            data["citation"] = cit
    if doc.usage_constraints:
        data["conditionsOfAccess"] = plain_text(doc.usage_constraints, 2000)
    return data


def script_json(data: Any) -> str:
    """JSON safe inside a <script> element: `<`, `>` and `&` escaped so `</script>` cannot close it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace(
        "\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _write(path: str, data: Any, indent: Optional[int] = None) -> int:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    raw = json.dumps(data, ensure_ascii=False, indent=indent, separators=None if indent else (",", ":"))
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(raw)
    return len(raw)


def _write_spliced(path: str, head: dict[str, Any], key: str, items: Iterable[str],
                   tail: Optional[dict[str, Any]] = None) -> None:
    """Write `{**head, key: [items...], **tail}` where `items` are ready JSON texts (each the
    comma-joined elements of one slice), byte for byte what `_write` makes of the whole dict."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(_dumps(head)[:-1] + ("," if head else "") + _dumps(key) + ":[")
        sep = ""
        for text in items:  # one write per slice: no second copy of a 150 MB index.json in memory
            if text:
                fh.write(sep)
                fh.write(text)
                sep = ","
        fh.write("]" + ("," + _dumps(tail)[1:] if tail else "}"))


def write_json(catalog: RegistrySnapshot, out_dir: str, site_url: Optional[str], generated_at: dt.datetime,
               reuse: Optional[Callable[[str], bool]] = None) -> int:
    """Write every JSON file; returns how many the site has.

    `reuse(name)` true means `out_dir` already holds that dataset's `api/datasets/` files from a
    previous build with the same inputs (a persistent dir of an incremental build): they are not
    serialized or written again. Files of other datasets are rewritten from scratch, and those
    of datasets no longer in the catalog removed, so the result equals writing everything.

    Nothing here reads the versions of a reused dataset: `index.json` is spliced from per-dataset
    parts (`summaries_json`), the join indexes come from `catalog.referenced_by()` and
    `catalog.exports()` (and a written dataset's join facts from `catalog.join_facts`, which
    parses no unchanged target), and reused datasets are counted by `ds.count`."""
    n = 0
    texts = {name: summaries_json(catalog, ds) for name, ds in catalog.datasets.items()}
    _write_spliced(os.path.join(out_dir, "index.json"),
                   _index_head(catalog, site_url, generated_at, sum(ds.count for ds in catalog.datasets.values())),
                   "versions", texts.values())
    n += 1
    api = os.path.join(out_dir, "api", "datasets")
    kept: set[str] = set()  # entries of api/datasets/ left from the previous build (one listing, no stat each)
    if reuse is not None and os.path.isdir(api):
        by_segment = {paths.segment(n): n for n in catalog.datasets}
        for entry in os.listdir(api):
            name = by_segment.get(entry[:-5] if entry.endswith(".json") else entry)
            if name is None or not reuse(name):
                path = os.path.join(api, entry)
                shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
            else:
                kept.add(entry)
    refs_to: Optional[dict[str, list[dict[str, Any]]]] = None
    for ds in catalog.datasets.values():
        if reuse is not None and reuse(ds.name) and paths.segment(ds.name) + ".json" in kept:
            n += 1 + ds.count
            continue
        if refs_to is None:  # only when some dataset is written
            refs_to = catalog.referenced_by()
        latest = ds.latest
        _write_spliced(os.path.join(out_dir, paths.dataset_api(ds.name)),
                       {"name": ds.name, "latest": latest.version if latest else None},
                       "versions", [texts[ds.name]], {"referenced_by": refs_to.get(ds.name, [])})
        n += 1
        facts = catalog.join_facts(ds)
        for v in ds.versions:
            _write(os.path.join(out_dir, version_api(v)), with_facts(v, facts[v.version]))
            n += 1
    for rel, text in _schema_texts():
        path = os.path.join(out_dir, "schema", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    return n + 2


@functools.lru_cache(maxsize=1)
def _schema_texts() -> tuple[tuple[str, str], ...]:
    """The `schema/` files: generating the document's JSON Schema costs ~50 ms (pydantic), the
    same in every build of one process (a warm rebuild function builds many times)."""
    return tuple((rel, json.dumps(data, ensure_ascii=False, indent=2))
                 for rel, data in (("dataset.schema.json", site_document_schema()), ("index.schema.json", INDEX_SCHEMA)))
