"""Join facts: at which materialization versions a declared reference can be joined, and how.

Materialization versions are the registry's clock. A reference (`references[i]` of a document) is
an intended join; whether it holds depends on *when*: two tables computed against different
materialization versions disagree about root ids, which proofreading changes. This module answers,
for every reference, once, for the site (version and dataset pages, the JSON API), `show`, the
client and `join-plan`:

* `valid_at`: the materialization versions at which the join is valid, the intersection of the
  source's versions with the target's; for a CAVE annotation table, the source's versions at which
  the recorded `annotation_table_exists` checks say the table exists (all of them when unchecked);
* `stability` of the key (`changes_with_proofreading` for root ids, else `stable`);
* `verdict`: `ok`, `no_shared_version`, `target_deprecated` or `target_missing`, and the target
  versions that *would* be joinable (`joinable_target_versions`);
* unpinned references (`dataset: NAME`) resolved to the newest published version sharing a
  materialization version with the source (a deprecated one only when nothing else does; flagged).

Pure functions over documents: no I/O, so every reader computes the same facts from the same
documents. Callers pass every version of every dataset they know (`versions_by_name`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence

from .latest import recency
from .model import (
    CHECK_ANNOTATION_TABLE_EXISTS,
    DatasetDocument,
    Reference,
    Semantic,
    Stability,
    Status,
)

OK = "ok"
NO_SHARED_VERSION = "no_shared_version"
TARGET_DEPRECATED = "target_deprecated"
TARGET_MISSING = "target_missing"
VERDICTS = (OK, NO_SHARED_VERSION, TARGET_DEPRECATED, TARGET_MISSING)

EXPORT_PIPELINE = "materialization export"  # registry.ops.exports.PIPELINE (kept light: no import)

VersionsByName = Mapping[str, Sequence[DatasetDocument]]


@dataclass
class JoinFacts:
    """Everything derived about one reference. `to_json()` is the `join` object of the site's JSON."""

    column: str
    target_kind: str  # "dataset" | "annotation_table"
    declared: str  # the reference's target as written: NAME@VERSION, NAME, or an annotation table
    target_column: str
    stability: str
    verdict: str
    valid_at: list[int]
    joinable_target_versions: list[str]
    target: Optional[str] = None  # the resolved NAME@VERSION (datasets) or the table name
    pinned: bool = True
    notes: list[str] = field(default_factory=list)
    exports: dict[int, str] = field(default_factory=dict)  # annotation tables: mat version -> export ref

    @property
    def ok(self) -> bool:
        return self.verdict == OK

    @property
    def target_name(self) -> str:
        return (self.target or self.declared).partition("@")[0]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "valid_at": list(self.valid_at),
            "joinable_target_versions": list(self.joinable_target_versions),
            "target": self.target,
            "pinned": self.pinned,
            "stability": self.stability,
            "notes": list(self.notes),
        }
        if self.exports:
            out["exports"] = {str(k): v for k, v in sorted(self.exports.items())}
        return out


# ---- small facts ------------------------------------------------------------------------------


def key_stability(doc: DatasetDocument, ref: Reference) -> str:
    """`changes_with_proofreading` when declared so or when the column holds root ids."""
    col = doc.column(ref.column)
    if ref.stability == Stability.CHANGES_WITH_PROOFREADING or (col is not None and col.semantic == Semantic.ROOT_ID):
        return Stability.CHANGES_WITH_PROOFREADING.value
    return Stability.STABLE.value


def _newest_first(docs: Iterable[DatasetDocument]) -> list[DatasetDocument]:
    return sorted(docs, key=recency, reverse=True)


def usable(docs: Iterable[DatasetDocument]) -> list[DatasetDocument]:
    """Versions a join may target: published ones, newest first, then deprecated ones (drafts never)."""
    docs = list(docs)
    return _newest_first(d for d in docs if d.status == Status.PUBLISHED) + _newest_first(
        d for d in docs if d.status == Status.DEPRECATED)


def valid_at_version(docs: Iterable[DatasetDocument], mat_version: int) -> list[DatasetDocument]:
    """Versions valid at `mat_version`: newest published first, deprecated after them, no drafts."""
    return [d for d in usable(docs) if mat_version in d.materialization.all_versions]


def pick_at(docs: Iterable[DatasetDocument], mat_version: int) -> Optional[DatasetDocument]:
    """The version a reader at `mat_version` gets: the newest published valid there, else a
    deprecated one, else None (`Catalog.at(N).get`, `join-plan`)."""
    found = valid_at_version(docs, mat_version)
    return found[0] if found else None


def shared(a: DatasetDocument, b: DatasetDocument) -> list[int]:
    return sorted(set(a.materialization.all_versions) & set(b.materialization.all_versions))


def resolve_unpinned(source: DatasetDocument, candidates: Sequence[DatasetDocument]) -> tuple[Optional[DatasetDocument], list[str]]:
    """`dataset: NAME`: the newest published version sharing a materialization version with the
    source; a deprecated one only when no published one does (flagged in the notes)."""
    for doc in usable(candidates):
        if shared(source, doc):
            if doc.status == Status.DEPRECATED:
                return doc, [f"unpinned reference resolved to deprecated {doc.ref}: no published version of "
                             f"{doc.name} shares a materialization version with {source.ref}"]
            return doc, [f"unpinned reference resolved to {doc.ref} (newest published version sharing a "
                         f"materialization version)"]
    return None, []


def table_exists_at(source: DatasetDocument, table: str) -> tuple[list[int], bool]:
    """(versions of `source` at which `table` exists, checked?) from the recorded checks.

    `cave.verify` records one `annotation_table_exists` check per version, subject = table,
    detail `present at version N`; a check without a version applies to every version."""
    versions = source.materialization.all_versions
    checks = [c for c in source.checks if c.check == CHECK_ANNOTATION_TABLE_EXISTS and c.subject == table
              and c.ok is not None]
    if not checks:
        return versions, False
    found: set[int] = set()
    for c in checks:
        m = re.search(r"version (\d+)", c.detail or "")
        at = [int(m.group(1))] if m else versions
        if c.ok:
            found.update(v for v in at if v in versions)
    return sorted(found), True


ExportIndex = Mapping[tuple[str, str], Mapping[int, str]]


def export_entries(docs: Iterable[DatasetDocument]) -> list[tuple[tuple[str, str], int, str]]:
    """The registered exports among one dataset's versions: ((datastack, annotation table),
    materialization version, NAME@VERSION), published versions first (`usable`). The part of
    `export_index` that one dataset contributes (a rebuild keeps it per dataset)."""
    out: list[tuple[tuple[str, str], int, str]] = []
    for d in usable(docs):
        p = d.provenance
        params = (p.parameters or {}) if p else {}
        table = params.get("annotation_table")
        if p and p.pipeline == EXPORT_PIPELINE and isinstance(table, str):
            out.extend(((d.datastack, table), v, d.ref) for v in d.materialization.all_versions)
    return out


def merge_exports(per_dataset: Iterable[Iterable[tuple[tuple[str, str], int, str]]]) -> dict[tuple[str, str], dict[int, str]]:
    """`export_index` from the `export_entries` of every dataset, in catalog order."""
    out: dict[tuple[str, str], dict[int, str]] = {}
    for entries in per_dataset:
        for key, v, ref in entries:
            out.setdefault(key, {}).setdefault(v, ref)  # usable(): a published one wins over a deprecated one
    return out


def export_index(versions_by_name: VersionsByName) -> dict[tuple[str, str], dict[int, str]]:
    """Registered MaterializationEngine exports (`scan-exports`): (datastack, annotation table) ->
    {materialization version: NAME@VERSION}. Built once per catalog (one pass over the documents)."""
    return merge_exports(export_entries(docs) for docs in versions_by_name.values())


# ---- the facts of one reference --------------------------------------------------------------


def reference_facts(source: DatasetDocument, ref: Reference, versions_by_name: VersionsByName,
                    *, target: Optional[DatasetDocument] = None, exports: Optional[ExportIndex] = None) -> JoinFacts:
    """The join facts of one reference. `target` overrides the declared version (join-plan asks
    "what if this reference pointed at that version"); `exports`: `export_index()` when the caller
    computes facts for many documents."""
    stability = key_stability(source, ref)
    if ref.annotation_table:
        valid, checked = table_exists_at(source, ref.annotation_table)
        index = exports if exports is not None else export_index(versions_by_name)
        found = index.get((source.datastack, ref.annotation_table), {})
        exports_at = {v: r for v, r in found.items() if v in source.materialization.all_versions}
        notes: list[str] = [] if checked else ["annotation table not verified against CAVE (publish --verify-cave): assumed present"]
        verdict = OK if valid else TARGET_MISSING
        if not valid:
            notes.append(f"{ref.annotation_table} is absent at {source.materialization.all_versions} (recorded checks)")
        return JoinFacts(ref.column, "annotation_table", ref.annotation_table, ref.target_column, stability, verdict,
                         valid, [str(v) for v in valid], ref.annotation_table, True, notes, exports_at)

    declared = ref.dataset or ""
    name, _, version = declared.partition("@")
    candidates = list(versions_by_name.get(name, ()))
    joinable = [d.version for d in usable(candidates) if shared(source, d)]
    notes = []
    if target is not None:
        chosen: Optional[DatasetDocument] = target
    elif ref.pinned:
        chosen = next((d for d in candidates if d.version == version), None)
    else:
        chosen, notes = resolve_unpinned(source, candidates)
        if chosen is None and candidates:
            chosen = usable(candidates)[0] if usable(candidates) else None
            if chosen is not None:
                notes = [f"unpinned reference: no version of {name} shares a materialization version with {source.ref}; "
                         f"newest is {chosen.ref}"]
    base: dict[str, Any] = dict(column=ref.column, target_kind="dataset", declared=declared, target_column=ref.target_column,
                stability=stability, pinned=ref.pinned if target is None else True)
    if chosen is None or chosen.status == Status.DRAFT:
        why = f"{declared} is not in this registry" if not candidates else f"{declared} is not a published version"
        return JoinFacts(**base, verdict=TARGET_MISSING, valid_at=[], joinable_target_versions=joinable,
                         target=chosen.ref if chosen else (declared if ref.pinned else None), notes=notes + [why])
    valid = shared(source, chosen)
    if not valid:
        verdict = NO_SHARED_VERSION
        notes.append(
            f"{source.ref} is at materialization {source.materialization.all_versions}, {chosen.ref} at "
            f"{chosen.materialization.all_versions}: no shared version"
            + (f"; joinable: {', '.join(name + '@' + v for v in joinable)}" if joinable else "")
        )
        if stability == Stability.STABLE.value:
            notes.append("the key is stable (ids do not change with proofreading): rows still match across versions")
    elif chosen.status == Status.DEPRECATED:
        verdict = TARGET_DEPRECATED
        notes.append(f"{chosen.ref} is deprecated" + (f"; superseded by {chosen.lineage.superseded_by}"
                                                        if chosen.lineage.superseded_by else ""))
    else:
        verdict = OK
    return JoinFacts(**base, verdict=verdict, valid_at=valid, joinable_target_versions=joinable,
                     target=chosen.ref, notes=notes)


def document_join_facts(doc: DatasetDocument, versions_by_name: VersionsByName,
                        exports: Optional[ExportIndex] = None) -> list[JoinFacts]:
    """One `JoinFacts` per reference of `doc`, in order."""
    if exports is None and any(r.annotation_table for r in doc.references):
        exports = export_index(versions_by_name)
    return [reference_facts(doc, r, versions_by_name, exports=exports) for r in doc.references]


def with_join_facts(doc: DatasetDocument, versions_by_name: VersionsByName,
                    exports: Optional[ExportIndex] = None) -> dict[str, Any]:
    """`doc.to_dict()` with a derived `join` object on every reference (the site's version JSON)."""
    return with_facts(doc, document_join_facts(doc, versions_by_name, exports))


def with_facts(doc: DatasetDocument, facts: Sequence[JoinFacts]) -> dict[str, Any]:
    """`with_join_facts` from facts already computed (one per reference, in order)."""
    data = doc.to_dict()
    for entry, f in zip(data.get("references", []), facts):
        entry["join"] = f.to_json()
    return data


def facts_for_target(docs: Iterable[DatasetDocument], target: str, versions_by_name: VersionsByName) -> dict[tuple[str, int], JoinFacts]:
    """The facts of every reference of `docs` (one dataset's versions, drafts too) to the dataset
    `target`, by (version, index of the reference): they read only the target's versions, so a
    rebuild keeps them per (dataset, target) pair (`RegistrySnapshot.join_facts`)."""
    return {(d.version, i): reference_facts(d, r, versions_by_name, exports={})
            for d in docs for i, r in enumerate(d.references)
            if r.dataset and r.dataset.partition("@")[0] == target}


def strip_join_facts(data: dict[str, Any]) -> tuple[dict[str, Any], list[Optional[dict[str, Any]]]]:
    """The inverse for readers of the site's JSON: (document dict without `join`, the join objects)."""
    if not isinstance(data, dict) or not isinstance(data.get("references"), list):
        return data, []
    refs, joins = [], []
    for r in data["references"]:
        if isinstance(r, dict):
            r = dict(r)
            joins.append(r.pop("join", None))
        refs.append(r)
    return {**data, "references": refs}, joins


def reference_targets(docs: Iterable[DatasetDocument]) -> list[str]:
    """Names of the datasets that `docs` (the versions of one dataset, drafts too) reference: the
    only datasets whose versions `references_from` and `facts_for_target` read for them."""
    return sorted({r.dataset.partition("@")[0] for d in docs for r in d.references if r.dataset})


def references_from(docs: Iterable[DatasetDocument], versions_by_name: VersionsByName,
                    target: Optional[str] = None) -> list[tuple[str, dict[str, Any]]]:
    """(target name, entry) for every reference to a dataset (to `target` only, when given) from
    the non-draft `docs` of one dataset, oldest version first: what that dataset contributes to
    `referenced_by_index`. Reads only the versions of those targets from `versions_by_name`."""
    out: list[tuple[str, dict[str, Any]]] = []
    for d in sorted(docs, key=lambda d: (d.published_at, d.version)):
        if d.status == Status.DRAFT:
            continue
        for r in d.references:
            if not r.dataset or (target is not None and r.dataset.partition("@")[0] != target):
                continue
            f = reference_facts(d, r, versions_by_name, exports={})
            out.append((r.dataset.partition("@")[0], {
                "name": d.name, "version": d.version, "column": r.column, "target_column": r.target_column,
                "valid_at": f.valid_at, "target_version": (f.target or "").partition("@")[2] or None,
                "verdict": f.verdict, "stability": f.stability}))
    return out


def merge_references(per_source: Iterable[Iterable[tuple[str, dict[str, Any]]]]) -> dict[str, list[dict[str, Any]]]:
    """`referenced_by_index` from the `references_from` of every dataset, sources in name order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for entries in per_source:
        for target, entry in entries:
            out.setdefault(target, []).append(entry)
    return out


def referenced_by_index(versions_by_name: VersionsByName) -> dict[str, list[dict[str, Any]]]:
    """For every dataset name, the references (from any non-draft version of any dataset) to it:
    `{name, version, column, target_column, valid_at, target_version, verdict, stability}`.
    One pass over the catalog (the site needs it for every dataset)."""
    return merge_references(references_from(versions_by_name[n], versions_by_name) for n in sorted(versions_by_name))


def referenced_by(name: str, versions_by_name: VersionsByName) -> list[dict[str, Any]]:
    """What references `name` (see `referenced_by_index`)."""
    return referenced_by_index(versions_by_name).get(name, [])


def group_versions(docs: Iterable[DatasetDocument]) -> dict[str, list[DatasetDocument]]:
    out: dict[str, list[DatasetDocument]] = {}
    for d in docs:
        out.setdefault(d.name, []).append(d)
    return out
