"""Reading a registry object's bytes, the part every reader shares (standard library only).

Documents in the registry bucket may be hostile (docs/security.md). Whoever reads one, the full
model (`registry.documents.parse_document`, pydantic) or the signer's light view
(`signer_function/document.py`, a cold start without pydantic), goes through the same steps here:
the path layout, the size bound, UTF-8 JSON without unpaired surrogates, the nesting bound of the
free-form parts (before anything recurses on them), the on-read upgrade, and the rule that a
document lives at `datasets/<name>/<version>.json` of its own name and version.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from . import limits
from .errors import SpecInvalid
from .vocabulary import upgrade_document

DATASETS = "datasets"
DOC_SUFFIX = ".json"
MANIFEST_SUFFIX = ".files.json"

FREE_FORM_FIELDS = (("format_options",), ("provenance", "parameters"), ("inspected", "reader_features"))
"""The parts of a document the model does not type (`dict[str, Any]`): only their depth is open."""


def document_path(name: str, version: str) -> str:
    return f"{DATASETS}/{name}/{version}{DOC_SUFFIX}"


def manifest_path(name: str, version: str) -> str:
    return f"{DATASETS}/{name}/{version}{MANIFEST_SUFFIX}"


def layout_manifest_path(name: str, version: str, layout: str) -> str:
    """A layout's file manifest: `datasets/<name>/<version>.layouts/<layout>.files.json` (a folder,
    so no version label can collide with it; listing documents skips `.files.json`)."""
    return f"{DATASETS}/{name}/{version}.layouts/{layout}{MANIFEST_SUFFIX}"


def split_document_path(rel: str) -> Optional[tuple[str, str]]:
    """`datasets/<name>/<version>.json` -> (name, version); None for anything else (deeper
    folders, files directly under `datasets/`, manifests)."""
    parts = rel.split("/")
    if len(parts) != 3 or parts[0] != DATASETS or not parts[2].endswith(DOC_SUFFIX) or rel.endswith(MANIFEST_SUFFIX):
        return None
    version = parts[2][: -len(DOC_SUFFIX)]
    if not parts[1] or not version:
        return None
    return parts[1], version


def decode_json(data: bytes, source: str, *, max_bytes: int = limits.MAX_DOCUMENT_BYTES) -> Any:
    """Bytes -> parsed JSON with every hostile-input failure turned into SpecInvalid: too many
    bytes, not UTF-8, not JSON, nested beyond Python's recursion (the parser raises
    RecursionError; caught here, never reaching a caller)."""
    if len(data) > max_bytes:
        raise SpecInvalid.single("(file)", f"is larger than the {max_bytes:,}-byte limit for a document", source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecInvalid.single("(encoding)", f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                                 source) from None
    try:
        raw = json.loads(text)
        if "\\ud" in text or "\\uD" in text:  # an unpaired surrogate escape parses, but no page can hold it
            json.dumps(raw, ensure_ascii=False).encode("utf-8")
        return raw
    except json.JSONDecodeError as exc:
        raise SpecInvalid.single(f"(json) line {exc.lineno}", exc.msg, source) from None
    except RecursionError:
        raise SpecInvalid.single("(json)", "nested too deep to parse", source) from None
    except UnicodeEncodeError:
        raise SpecInvalid.single("(encoding)", "contains an unpaired UTF-16 surrogate (\\ud800-\\udfff) escape",
                                 source) from None


def document_json(data: bytes, source: str) -> Any:
    """A document's bytes -> its upgraded JSON, with the size, encoding and free-form depth
    checks done (SpecInvalid with the field path otherwise). Typing the result is the caller's."""
    raw = decode_json(data, source)
    if isinstance(raw, dict):
        for path in FREE_FORM_FIELDS:
            value: Any = raw
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            try:
                limits.check_depth(value, where=".".join(path))
            except limits.TooDeep as exc:
                raise SpecInvalid.single(".".join(path), f"nested deeper than {limits.MAX_JSON_DEPTH} levels",
                                         source) from exc
    return upgrade_document(raw)


def manifest_json(data: bytes, source: str) -> Any:
    """A file manifest's bytes -> JSON, under the manifest size bound and with every file's
    `partition` within the nesting bound."""
    raw = decode_json(data, source, max_bytes=limits.MAX_MANIFEST_BYTES)
    try:
        for i, f in enumerate(raw.get("files") or [] if isinstance(raw, dict) else []):
            limits.check_depth(f.get("partition") if isinstance(f, dict) else None, where=f"files[{i}].partition")
    except limits.TooDeep as exc:
        raise SpecInvalid.single("files", str(exc), source) from None
    return raw


class StoredElsewhere(SpecInvalid):
    """The body names another name@version than the path it was read from."""


def check_stored_at(name: str, version: str, expected: Optional[tuple[str, str]], source: str) -> None:
    """A document must live at `datasets/<name>/<version>.json` of its own name and version: one
    claiming another would otherwise replace that dataset's page and answers."""
    if expected is not None and (name, version) != expected:
        raise StoredElsewhere.single(
            "name", f"the document claims to be {name}@{version} but is stored at {document_path(*expected)}; "
            "refused (a document must live at datasets/<name>/<version>.json of its own name and version)", source)
