"""A join plan: which versions of two datasets to join at materialization version N, on which keys,
and the DuckDB SQL that does it. `feature-registry join-plan` prints it; `Catalog.at(N).join()` runs it.

Keys come from what publishers declared, stable keys first:

1. a declared reference between the two datasets whose key is stable (annotation or supervoxel ids);
2. both sides referencing the same CAVE annotation table column with stable keys (e.g. both carry
   `nucleus_detection_v0.id`): ids proofreading never changes;
3. a declared reference on root ids, valid only when both sides are at the same materialization
   version. Crossing versions on root ids loses the rows of every cell proofread in between; the
   plan says so and gives the remedy (re-resolve supervoxel ids at the target's time stamp).

Pure: documents in, plan out (the facts come from `registry.joins`, one source of truth).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from .joins import (
    NO_SHARED_VERSION,
    OK,
    TARGET_DEPRECATED,
    TARGET_MISSING,
    JoinFacts,
    VersionsByName,
    key_stability,
    pick_at,
    reference_facts,
    usable,
)
from .model import DatasetDocument, Reference, Stability, Status

NO_DECLARED_JOIN = "no_declared_join"
PLANNED = (OK, TARGET_DEPRECATED)
"""Verdicts for which a plan is made (exit 0); `target_deprecated` comes with a warning."""


@dataclass
class JoinKey:
    left: str
    right: str
    stability: str
    why: str

    def to_json(self) -> dict[str, Any]:
        return {"left": self.left, "right": self.right, "stability": self.stability, "why": self.why}


@dataclass
class JoinPlan:
    verdict: str
    mat_version: int
    left: Optional[str] = None
    right: Optional[str] = None
    keys: list[JoinKey] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sql: Optional[str] = None
    reference: Optional[dict[str, Any]] = None  # the `join` facts of the declared reference used
    declared_on: Optional[str] = None  # "synapse_embeddings@1.references[2]"
    remedy: Optional[str] = None
    cross_version: bool = False
    right_columns: dict[str, str] = field(default_factory=dict)  # right column -> output name

    @property
    def ok(self) -> bool:
        return self.verdict in PLANNED

    @property
    def stability(self) -> Optional[str]:
        return self.keys[0].stability if self.keys else None

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict, "mat_version": self.mat_version, "left": self.left, "right": self.right,
            "keys": [k.to_json() for k in self.keys], "stability": self.stability, "cross_version": self.cross_version,
            "warnings": list(self.warnings), "sql": self.sql, "reference": self.reference,
            "declared_on": self.declared_on, "remedy": self.remedy,
        }


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _choose(ref: str, mat_version: int, versions_by_name: VersionsByName) -> tuple[Optional[DatasetDocument], list[str]]:
    """`NAME@VERSION` exactly, or `NAME` at `mat_version` (else its newest usable version, flagged)."""
    name, _, version = ref.partition("@")
    docs = list(versions_by_name.get(name, ()))
    if version:
        doc = next((d for d in docs if d.version == version and d.status != Status.DRAFT), None)
        return doc, ([] if doc else [f"{ref} is not a published version in this registry"])
    doc = pick_at(docs, mat_version)
    if doc is not None:
        notes = [f"{doc.ref} is deprecated but the only version of {name} valid at {mat_version}"] \
            if doc.status == Status.DEPRECATED else []
        return doc, notes
    if not docs or not usable(docs):
        return None, [f"no dataset {name!r} in this registry"]
    newest = usable(docs)[0]
    have = sorted({m for d in usable(docs) for m in d.materialization.all_versions})
    return newest, [f"{name} has no version valid at {mat_version} (its versions cover {have}); using {newest.ref}"]


def _declared_keys(a: DatasetDocument, b: DatasetDocument, versions_by_name: VersionsByName,
                   flipped: bool) -> list[tuple[JoinKey, Reference, DatasetDocument]]:
    out = []
    for i, r in enumerate(a.references):
        if r.dataset and r.dataset.partition("@")[0] == b.name:
            st = key_stability(a, r)
            left, right = (r.target_column, r.column) if flipped else (r.column, r.target_column)
            why = (f"declared by {a.ref}.references[{i}]: {r.column} -> {r.dataset}.{r.target_column}"
                   + ("; stable ids (annotation/supervoxel ids do not change with proofreading)"
                      if st == Stability.STABLE.value else "; root ids: valid only at a shared materialization version"))
            out.append((JoinKey(left, right, st, why), r, a))
    return out


def _shared_annotation_keys(left: DatasetDocument, right: DatasetDocument) -> list[JoinKey]:
    out = []
    for rl in left.references:
        if not rl.annotation_table or key_stability(left, rl) != Stability.STABLE.value:
            continue
        for rr in right.references:
            if (rr.annotation_table == rl.annotation_table and rr.target_column == rl.target_column
                    and key_stability(right, rr) == Stability.STABLE.value):
                out.append(JoinKey(rl.column, rr.column, Stability.STABLE.value,
                                   f"both carry {rl.annotation_table}.{rl.target_column} ids "
                                   f"({left.name}.{rl.column}, {right.name}.{rr.column}); annotation ids are stable"))
    return out


def supervoxel_column(doc: DatasetDocument, root_column: str) -> Optional[str]:
    """The supervoxel column beside a root-id column (`post_pt_root_id` -> `post_pt_supervoxel_id`)."""
    want = root_column.replace("root_id", "supervoxel_id")
    col = doc.column(want)
    if col is not None and want != root_column:
        return want
    names = {c.name for c in doc.inspected.columns}
    return want if want in names and want != root_column else None


def literal(text: str) -> str:
    """A Python/JSON string literal for publisher text placed in generated code (never code itself)."""
    return json.dumps(str(text))


def comment(text: str) -> str:
    """Publisher text on one comment line: no newline can end the comment and start code."""
    return " ".join(str(text).split())


def remedy_snippet(left: DatasetDocument, right: DatasetDocument, key: JoinKey) -> str:
    """CAVEclient code re-resolving the left side's root ids at the right side's time stamp."""
    sv = supervoxel_column(left, key.left)
    mat = right.materialization.primary
    ts = (f'"{right.materialization.timestamp.isoformat()}"  # {right.ref} time stamp'
          if right.materialization.timestamp else f"client.materialize.get_timestamp({mat})")
    if sv is None:
        return (f"# {left.ref} has no supervoxel column beside {comment(key.left)}: its root ids cannot be re-resolved\n"
                f"# at materialization {mat}. Use a version of {left.name} computed at {mat}, or ask its owners.")
    return (
        "from caveclient import CAVEclient\n"
        f"client = CAVEclient({literal(left.datastack)})\n"
        f"ts = {ts}\n"
        f'left = left_frame  # {left.ref}, e.g. cat.get("{left.name}", "{left.version}").to_pandas()\n'
        f"left[{literal(key.left)}] = client.chunkedgraph.get_roots(left[{literal(sv)}].values, timestamp=ts)\n"
        f"# now {comment(key.left)} holds root ids at materialization {mat}: join {right.ref} on {comment(key.right)}"
    )


def _sql(left: DatasetDocument, right: DatasetDocument, key: JoinKey, how: str = "inner") -> tuple[str, dict[str, str]]:
    left_cols = [c.name for c in left.inspected.columns]
    taken = set(left_cols)
    out_names: dict[str, str] = {}
    select = ["l.*"]
    for c in right.inspected.columns:
        if c.name == key.right:
            continue
        alias = c.name if c.name not in taken else f"{right.name}_{c.name}"
        taken.add(alias)
        out_names[c.name] = alias
        select.append(f"r.{ident(c.name)}" + (f" AS {ident(alias)}" if alias != c.name else ""))
    join = {"inner": "JOIN", "left": "LEFT JOIN"}[how]
    sql = (f"-- {left.ref} joined with {right.ref}: {comment(key.why)}\n"
           f"SELECT {', '.join(select)}\nFROM {ident(left.ref)} AS l\n"
           f"{join} {ident(right.ref)} AS r ON l.{ident(key.left)} = r.{ident(key.right)}")
    return sql, out_names


def plan_join(left: str, right: str, mat_version: int, versions_by_name: VersionsByName, *, how: str = "inner") -> JoinPlan:
    """Plan `left` joined with `right` at `mat_version` (names, or `NAME@VERSION` to pin a side)."""
    plan = JoinPlan(verdict=OK, mat_version=mat_version)
    ldoc, lnotes = _choose(left, mat_version, versions_by_name)
    rdoc, rnotes = _choose(right, mat_version, versions_by_name)
    plan.warnings += lnotes + rnotes
    plan.left, plan.right = (ldoc.ref if ldoc else None), (rdoc.ref if rdoc else None)
    if ldoc is None or rdoc is None:
        plan.verdict = TARGET_MISSING
        table = right if ldoc is not None else left
        known = ldoc or rdoc
        ref = next((r for r in (known.references if known else []) if r.annotation_table == table), None)
        if known is not None and ref is not None:  # a CAVE annotation table, not a registered dataset
            plan.warnings.append(f"{table} is a CAVE annotation table with no registered export at {mat_version} "
                                 "(scan-exports registers them); read it from CAVE at the same version")
            plan.remedy = (f"from caveclient import CAVEclient\nclient = CAVEclient({literal(known.datastack)})\n"
                           f"table = client.materialize.query_table({literal(table)}, materialization_version={mat_version})\n"
                           f"# join {known.ref}.{comment(ref.column)} = table.{comment(ref.target_column)}")
        return plan

    declared = _declared_keys(ldoc, rdoc, versions_by_name, False) + _declared_keys(rdoc, ldoc, versions_by_name, True)
    candidates = [k for k, _, _ in declared] + _shared_annotation_keys(ldoc, rdoc)
    if not candidates:
        plan.verdict = NO_DECLARED_JOIN
        plan.warnings.append(f"no declared join between {ldoc.ref} and {rdoc.ref}: neither references the other, "
                             "and they share no stable annotation-table key")
        return plan
    candidates.sort(key=lambda k: k.stability != Stability.STABLE.value)  # stable keys first (stable sort)
    plan.keys = candidates
    key = candidates[0]
    for k, ref, owner in declared:
        if k is key:
            target = rdoc if owner is ldoc else ldoc
            facts: JoinFacts = reference_facts(owner, ref, versions_by_name)
            if facts.target != target.ref:  # the plan joins another version than declared: its facts
                facts = reference_facts(owner, ref, versions_by_name, target=target)
            plan.reference = facts.to_json()
            plan.declared_on = f"{owner.ref}.references[{owner.references.index(ref)}]"

    at_n = [d for d in (ldoc, rdoc) if mat_version not in d.materialization.all_versions]
    same_time = mat_version in ldoc.materialization.all_versions and mat_version in rdoc.materialization.all_versions
    plan.cross_version = not same_time
    plan.sql, plan.right_columns = _sql(ldoc, rdoc, key, how)
    for d in (ldoc, rdoc):
        if d.invalidation_radius_nm is not None and key.stability != Stability.STABLE.value:
            plan.warnings.append(f"{d.ref}: invalidation radius {d.invalidation_radius_nm:g} nm (features near a "
                                 "proofreading edit may be stale at other versions)")
    if not same_time:
        where = ", ".join(f"{d.ref} is at {d.materialization.all_versions}" for d in at_n)
        if key.stability == Stability.STABLE.value:
            plan.warnings.append(f"crossing materialization versions ({where}) on a stable key: rows match, but each "
                                 "side describes its own materialization")
        else:
            plan.verdict = NO_SHARED_VERSION
            plan.warnings.append(
                f"root-id join across materialization versions ({where}): every cell proofread in between loses "
                f"its rows. Use versions valid at the same materialization, or re-resolve root ids (see remedy)")
            plan.remedy = remedy_snippet(ldoc, rdoc, key)
    if plan.verdict == OK and any(d.status == Status.DEPRECATED for d in (ldoc, rdoc)):
        plan.verdict = TARGET_DEPRECATED
    if key.stability == Stability.STABLE.value and len(candidates) > 1:
        plan.warnings.append(f"using the stable key {key.left} = {key.right} rather than "
                             + ", ".join(f"{k.left} = {k.right} ({k.stability.replace('_', ' ')})" for k in candidates[1:]))
    return plan
