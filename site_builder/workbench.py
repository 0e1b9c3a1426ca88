"""The materialization workbench: one page per (datastack, materialization version) with every
dataset valid there, the joins among them in one Mermaid diagram, and a copy-paste script (the
client, and plain DuckDB SQL over signed URLs) that reads them pinned to that version.

Joins come from `registry.joinplan` (the plans `feature-registry join-plan` prints), so the page,
the command line and `Catalog.at(N).join()` agree. Only declared joins are planned: each chosen
version's references to other datasets valid here, plus pairs sharing a stable annotation-table key
(`O(references)`, never all pairs).

A rebuild assembles a page from per-dataset parts (`entries_part`: what each dataset shows on
every workbench it is on; `plans_part`: the plans of a pair, keyed by both datasets) and reuses it
while `page_inputs`, a digest of all it reads, is unchanged (site_builder.pages). Each part is a
`Packed`: the digests the reuse check reads, and the values themselves as pickled bytes decoded
only for a page that is rendered again (at 100k, decoding every dataset's entries to check pages
that are then reused was 4.5 s of a one-document rebuild, and `repr` of them for the digests 3 s).
"""

from __future__ import annotations

import hashlib
import keyword
import pickle
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Optional, Sequence

from registry.joinplan import PLANNED, JoinPlan, comment, literal, plan_join
from registry.joins import ExportIndex, pick_at, valid_at_version
from registry.model import DatasetDocument, Format, Stability, Status

from .diagrams import _Graph, label

MAX_DIAGRAM_NODES = 60
MAX_SHARED_GROUP = 8
"""Datasets sharing one stable annotation key are planned pairwise only up to this many."""


class WbRef(NamedTuple):
    """One reference as the workbench plans it (the fields of `registry.model.Reference` it reads)."""

    column: str
    annotation_table: Optional[str]
    dataset: Optional[str]
    target_column: str
    stability: Stability


@dataclass(frozen=True)
class WbVersion:
    """What a workbench shows of one version: small and picklable (a per-dataset part), so a
    rebuild assembles the page of an unchanged dataset without parsing its documents."""

    name: str
    version: str
    status: Status
    format: Format
    row_count: Optional[int]
    faithful_file_list: Optional[bool]
    references: tuple[WbRef, ...]

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


def wb_version(d: DatasetDocument) -> WbVersion:
    return WbVersion(d.name, d.version, d.status, d.format, d.inspected.row_count,
                     (d.inspected.reader_features or {}).get("faithful_file_list"),
                     tuple(WbRef(r.column, r.annotation_table, r.dataset, r.target_column, r.stability)
                           for r in d.references))


Entry = tuple[WbVersion, list[WbVersion]]
"""(the version a reader at the materialization gets, the other versions valid there)."""


def entry_at(docs: Sequence[DatasetDocument], mat: int) -> Optional[Entry]:
    """One dataset on the workbench at `mat` (`docs`: its versions in the datastack)."""
    pick = pick_at(docs, mat)
    if pick is None:
        return None
    return wb_version(pick), [wb_version(d) for d in valid_at_version(docs, mat) if d.ref != pick.ref]


def dataset_entries(versions: Sequence[DatasetDocument]) -> dict[tuple[str, int], Entry]:
    """The per-dataset part: this dataset's entry on every workbench it is on, by (datastack, mat)."""
    by_stack: dict[str, list[DatasetDocument]] = {}
    for d in versions:
        by_stack.setdefault(d.datastack, []).append(d)
    out: dict[tuple[str, int], Entry] = {}
    for stack, docs in by_stack.items():
        for mat in sorted({m for d in docs for m in d.materialization.all_versions}):
            e = entry_at([d for d in docs if mat in d.materialization.all_versions], mat)
            if e is not None:
                out[(stack, mat)] = e
    return out


class Packed(NamedTuple):
    """A part whose values are decoded only when used: `keys` (small, decoded with the part: what
    a reuse check reads, by the same keys as the values) and `blob` (the pickled values)."""

    keys: dict[Any, Any]
    blob: bytes

    def unpack(self) -> Any:
        return pickle.loads(self.blob)


def _digest(value: Any) -> str:
    return hashlib.blake2b(repr(value).encode(), digest_size=16).hexdigest()


EntryKey = tuple[str, tuple[WbRef, ...]]
"""What a workbench's reuse check reads of one dataset at one materialization version: a digest of
its `Entry`, and the references of the version it shows (they decide the pairs the page plans)."""


def entries_part(versions: Sequence[DatasetDocument]) -> Packed:
    """`dataset_entries` packed: keys `{(datastack, mat): EntryKey}`, blob the entries."""
    entries = dataset_entries(versions)
    return Packed({k: (_digest(e), e[0].references) for k, e in entries.items()},
                  pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL))


def plans_part(a: str, b: str, by_name: Mapping[str, Sequence[DatasetDocument]]) -> Packed:
    """`pair_plans` packed: keys `{mat: digest of the plan}`, blob the plans."""
    plans = pair_plans(a, b, by_name)
    return Packed({m: _digest(p) for m, p in plans.items()}, pickle.dumps(plans, protocol=pickle.HIGHEST_PROTOCOL))


def pair_plans(a: str, b: str, by_name: Mapping[str, Sequence[DatasetDocument]]) -> dict[int, JoinPlan]:
    """`plan_join(a, b, mat)` at every materialization version both have a version valid at (a
    part keyed by both datasets: a plan reads the documents of its two sides only)."""
    mats = sorted({m for d in by_name[a] for m in d.materialization.all_versions}
                  & {m for d in by_name[b] for m in d.materialization.all_versions})
    return {mat: plan_join(a, b, mat, by_name) for mat in mats}


def pairs(refs: Mapping[str, Sequence[WbRef]]) -> list[tuple[str, str]]:
    """The pairs a workbench plans, in order, each once (`refs`: the references of the version
    each dataset shows): a version's references to another dataset on the page, then pairs
    sharing a stable annotation-table key (small groups only)."""
    found: list[tuple[str, str]] = []
    shared: dict[tuple[str, str], list[str]] = {}
    for name, its in refs.items():
        for r in its:
            if r.dataset:
                t = r.dataset.partition("@")[0]
                if t in refs and t != name:
                    found.append((name, t))
            elif r.annotation_table and r.stability == Stability.STABLE:
                shared.setdefault((r.annotation_table, r.target_column), []).append(name)
    for members in shared.values():
        members = sorted(set(members))
        if len(members) <= MAX_SHARED_GROUP:  # larger groups: the diagram's CAVE table node shows them
            found += [(a, b) for i, a in enumerate(members) for b in members[i + 1:]]
    seen: set[frozenset] = set()
    out = []
    for a, b in found:
        if frozenset((a, b)) not in seen:
            seen.add(frozenset((a, b)))
            out.append((a, b))
    return out


def tables(refs: Mapping[str, Sequence[WbRef]]) -> list[str]:
    """The CAVE annotation tables the shown versions reference (`refs` as `pairs`)."""
    return sorted({r.annotation_table for its in refs.values() for r in its if r.annotation_table})


def assemble(stack: str, mat: int, entries: Mapping[str, Entry], plan: Callable[[str, str], JoinPlan],
             exports: ExportIndex) -> dict[str, Any]:
    """The page from its datasets' entries (names sorted) and a planner of one pair at `mat`."""
    chosen: dict[str, WbVersion] = {n: e[0] for n, e in entries.items()}
    others: dict[str, list[WbVersion]] = {n: e[1] for n, e in entries.items()}
    refs = {n: v.references for n, v in chosen.items()}
    plans = [found for a, b in pairs(refs) if (found := plan(a, b)).keys]
    annotation = [{"table": t, "export": exports.get((stack, t), {}).get(mat)} for t in tables(refs)]
    return {"stack": stack, "mat": mat, "chosen": list(chosen.values()), "others": others, "plans": plans,
            "ok_plans": [p for p in plans if p.verdict in PLANNED], "annotation": annotation,
            "diagram": diagram(chosen.values(), plans, annotation)}


def page_inputs(stack: str, mat: int, keys: Mapping[str, EntryKey], plan_digest: Callable[[str, str], str],
                exports: ExportIndex) -> str:
    """A digest of everything `assemble` reads for one page (its entries, by their `EntryKey`s in
    the page's order; the plans of its pairs; the exports of its annotation tables): equal digests,
    equal pages (for the same templates)."""
    refs = {n: k[1] for n, k in keys.items()}
    h = hashlib.blake2b(repr((stack, mat)).encode(), digest_size=16)
    for n, (digest, _) in keys.items():
        h.update(f"\n{n}\n{digest}".encode())
    for a, b in pairs(refs):
        h.update(f"\n{a}\n{b}\n{plan_digest(a, b)}".encode())
    h.update(repr([(t, exports.get((stack, t), {}).get(mat)) for t in tables(refs)]).encode())
    return h.hexdigest()


def diagram(chosen: Iterable[WbVersion], plans: Sequence[JoinPlan], annotation: Sequence[dict]) -> str:
    """Datasets valid at this version and the planned joins among them (dotted: root ids), with
    the CAVE annotation tables they reference. Labels pass `diagrams.label` (allow-list)."""
    chosen = list(chosen)
    if not chosen or len(chosen) + len(annotation) > MAX_DIAGRAM_NODES:
        return ""
    g = _Graph()
    for d in chosen:
        g.node(d.ref, d.ref)
    for p in plans:
        k = p.keys[0]
        arrow = "-.->" if k.stability != Stability.STABLE.value else "-->"
        text = label(f"{k.left} = {k.right}", 80)
        g.lines.append(f'  {g.node(p.left or "", p.left or "")} {arrow}|"{text}"| {g.node(p.right or "", p.right or "")}')
    for d in chosen:
        for r in d.references:
            if r.annotation_table:
                t = g.node("cave:" + r.annotation_table, f"CAVE {r.annotation_table}", "round")
                arrow = "-.->" if r.stability == Stability.CHANGES_WITH_PROOFREADING else "-->"
                g.lines.append(f'  {g.nodes[d.ref]} {arrow}|"{label(r.column + " = " + r.target_column, 80)}"| {t}')
    return "flowchart LR\n" + "\n".join(g.lines)


def _py(s: str) -> str:
    """A string literal for text placed in generated code (publisher text never becomes code)."""
    return literal(s)


def _var(name: str, i: int) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,60}", name) and not keyword.iskeyword(name) else f"table_{i}"


def client_script(wb: dict[str, Any], catalog_url: str, signer_url: str) -> str:
    mat = wb["mat"]
    lines = ["from registry import Catalog", "",
             f"at = Catalog({_py(catalog_url)}, signer_url={_py(signer_url)}).at({mat})"]
    for d in wb["chosen"]:
        var = d.name
        lines.append(f"{var} = at.get({_py(d.name)})  # {d.ref}" + (" (deprecated)" if d.status.value == "deprecated" else ""))
    for i, p in enumerate(wb["ok_plans"]):
        k = p.keys[0]
        lines.append(f"joined_{i} = at.join({_py(p.left.partition('@')[0])}, {_py(p.right.partition('@')[0])})"
                     f"  # {p.left} x {p.right} on {comment(k.left + ' = ' + k.right)} ({k.stability.replace('_', ' ')})")
    for i, a in enumerate(wb["annotation"]):
        if a["export"]:
            lines.append(f"{_var(a['table'], i)} = at.catalog.get({_py(a['export'])})  # MaterializationEngine export at {mat}")
    cave = [(i, a["table"]) for i, a in enumerate(wb["annotation"]) if not a["export"]]
    if cave:
        lines += ["", "# CAVE annotation tables without a registered export, read from CAVE at the same version:",
                  "from caveclient import CAVEclient", f"client = CAVEclient({_py(wb['stack'])})"]
        lines += [f"{_var(t, i)} = client.materialize.query_table({_py(t)}, materialization_version={mat})" for i, t in cave]
    return "\n".join(lines)


def sql_script(wb: dict[str, Any], signer_url: str) -> str:
    """Plain DuckDB SQL: one view per version over its signed URLs, then each planned join."""
    out = ["-- Plain DuckDB (httpfs). Signed URLs come from the signer, per version:",
           f"--   curl -s -X POST {signer_url}/sign -H 'Authorization: Bearer $CAVE_TOKEN' \\",
           "--        -d '{\"dataset\": NAME, \"version\": VERSION, \"mode\": \"urls\"}' | jq '[.files[].url]'",
           "-- Partition values come per file in the answer (signed URLs lose hive key=value directories)."]
    for d in wb["chosen"]:
        ref = d.ref.replace('"', "")
        if d.format.value == "lance" or d.faithful_file_list is False:
            out.append(f'-- "{ref}": {d.format.value} table read with scoped credentials (mode "credentials"); '
                       "use the client")
            continue
        out.append(f'CREATE VIEW "{ref}" AS SELECT * FROM read_parquet([/* signed URLs of {ref} */]);')
    for p in wb["ok_plans"]:
        out += ["", (p.sql or "") + ";"]
    return "\n".join(out)
