"""The materialization workbench: one page per (datastack, materialization version) with every
dataset valid there, the joins among them in one Mermaid diagram, and a copy-paste script (the
client, and plain DuckDB SQL over signed URLs) that reads them pinned to that version.

Joins come from `registry.joinplan` (the plans `feature-registry join-plan` prints), so the page,
the command line and `Catalog.at(N).join()` agree. Only declared joins are planned: each chosen
version's references to other datasets valid here, plus pairs sharing a stable annotation-table key
(`O(references)`, never all pairs).
"""

from __future__ import annotations

import keyword
import re
from typing import Any, Iterable, Mapping, Sequence

from registry.joinplan import PLANNED, JoinPlan, comment, literal, plan_join
from registry.joins import ExportIndex, pick_at, valid_at_version
from registry.model import DatasetDocument, Stability

from .diagrams import _Graph, label

MAX_DIAGRAM_NODES = 60
MAX_SHARED_GROUP = 8
"""Datasets sharing one stable annotation key are planned pairwise only up to this many."""


def workbench(stack: str, mat: int, docs: Sequence[DatasetDocument], by_name: Mapping[str, Sequence[DatasetDocument]],
              exports: ExportIndex) -> dict[str, Any]:
    """Everything the page shows for `stack` at `mat`."""
    grouped: dict[str, list[DatasetDocument]] = {}
    for d in docs:
        grouped.setdefault(d.name, []).append(d)
    chosen: dict[str, DatasetDocument] = {}
    others: dict[str, list[DatasetDocument]] = {}
    for n in sorted(grouped):
        mine = grouped[n]
        pick = pick_at(mine, mat)
        if pick is not None:
            chosen[n] = pick
            others[n] = [d for d in valid_at_version(mine, mat) if d.ref != pick.ref]
    plans: list[JoinPlan] = []
    seen: set[frozenset] = set()
    pairs: list[tuple[str, str]] = []
    shared: dict[tuple[str, str], list[str]] = {}
    for d in chosen.values():
        for r in d.references:
            if r.dataset:
                t = r.dataset.partition("@")[0]
                if t in chosen and t != d.name:
                    pairs.append((d.name, t))
            elif r.annotation_table and r.stability == Stability.STABLE:
                shared.setdefault((r.annotation_table, r.target_column), []).append(d.name)
    for members in shared.values():
        members = sorted(set(members))
        if len(members) <= MAX_SHARED_GROUP:  # larger groups: the diagram's CAVE table node shows them
            pairs += [(a, b) for i, a in enumerate(members) for b in members[i + 1:]]
    for a, b in pairs:
        if frozenset((a, b)) in seen:
            continue
        seen.add(frozenset((a, b)))
        plan = plan_join(a, b, mat, by_name)
        if plan.keys:
            plans.append(plan)
    tables = sorted({r.annotation_table for d in chosen.values() for r in d.references if r.annotation_table})
    annotation = [{"table": t, "export": exports.get((stack, t), {}).get(mat)} for t in tables]
    return {"stack": stack, "mat": mat, "chosen": list(chosen.values()), "others": others, "plans": plans,
            "ok_plans": [p for p in plans if p.verdict in PLANNED], "annotation": annotation,
            "diagram": diagram(chosen.values(), plans, annotation)}


def diagram(chosen: Iterable[DatasetDocument], plans: Sequence[JoinPlan], annotation: Sequence[dict]) -> str:
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
        if d.format.value == "lance" or (d.inspected.reader_features or {}).get("faithful_file_list") is False:
            out.append(f'-- "{ref}": {d.format.value} table read with scoped credentials (mode "credentials"); '
                       "use the client")
            continue
        out.append(f'CREATE VIEW "{ref}" AS SELECT * FROM read_parquet([/* signed URLs of {ref} */]);')
    for p in wb["ok_plans"]:
        out += ["", (p.sql or "") + ";"]
    return "\n".join(out)
