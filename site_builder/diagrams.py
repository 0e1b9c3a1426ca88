"""Mermaid sources for the join and lineage diagrams.

Labels come from publisher-written text (column, table and dataset names), and Mermaid renders
labels as markup, so every label is reduced to an allow-list of characters before it enters the
diagram source: no quotes, brackets, angle brackets, pipes, backticks or entity ampersands can
reach Mermaid's parser, which closes the label-injection door (`"]; click x call alert(1)` etc.).
Mermaid itself also runs with `securityLevel: "strict"` (see templates/assets/site.js).
"""

from __future__ import annotations

import re

from registry.model import DatasetDocument, Stability

from .catalog import RegistrySnapshot

_UNSAFE = re.compile(r"[^A-Za-z0-9_@.:/ +=,-]")


def label(text: str, limit: int = 60) -> str:
    """Text safe to place inside a quoted Mermaid label."""
    cleaned = _UNSAFE.sub("_", str(text))
    return cleaned[:limit]


class _Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, str] = {}
        self.lines: list[str] = []

    def node(self, key: str, text: str, shape: str = "box") -> str:
        if key not in self.nodes:
            nid = f"n{len(self.nodes)}"
            self.nodes[key] = nid
            t = label(text)
            self.lines.append(f'  {nid}(["{t}"])' if shape == "round" else f'  {nid}["{t}"]')
        return self.nodes[key]


def join_diagram(doc: DatasetDocument, catalog: RegistrySnapshot) -> str:
    """This table's declared joins: to CAVE annotation tables and to registered datasets.
    `changes_with_proofreading` edges are dotted (root ids move as proofreading goes on)."""
    if not doc.references:
        return ""
    g = _Graph()
    me = g.node("self", doc.ref)
    g.lines.append(f"  class {me} self")
    for ref in doc.references:
        if ref.annotation_table:
            target = g.node("cave:" + ref.annotation_table, f"CAVE {ref.annotation_table}", "round")
        else:
            known = (catalog.get(ref.dataset or "") is not None) if ref.pinned else ref.dataset in catalog.datasets
            shown = (ref.dataset or "") if ref.pinned else f"{ref.dataset} (unpinned)"
            target = g.node("ds:" + (ref.dataset or ""), shown, "box")
            if not known:
                g.lines.append(f"  class {target} missing")
        arrow = "-.->" if ref.stability == Stability.CHANGES_WITH_PROOFREADING else "-->"
        text = label(f"{ref.column} = {ref.target_column}, {ref.cardinality.value.replace('_', ' ')}", 80)
        if ref.stability == Stability.CHANGES_WITH_PROOFREADING:
            text += ", changes with proofreading"
        g.lines.append(f'  {me} {arrow}|"{text}"| {target}')
    return "flowchart LR\n" + "\n".join(g.lines) + "\n  classDef self stroke-width:3px\n  classDef missing stroke-dasharray: 4 4"


def lineage_diagram(doc: DatasetDocument, catalog: RegistrySnapshot) -> str:
    """derived_from and supersedes arrows into this version; superseded_by out of it."""
    lin = doc.lineage
    successor = catalog.successor(doc)
    if not (lin.derived_from or lin.supersedes or successor):
        return ""
    g = _Graph()
    me = g.node(doc.ref, doc.ref)
    g.lines.append(f"  class {me} self")
    for src in lin.derived_from:
        g.lines.append(f'  {g.node(src, src)} -->|"derived from"| {me}')
    for old in lin.supersedes:
        g.lines.append(f'  {g.node(old, old)} -.->|"superseded by"| {me}')
    if successor:
        g.lines.append(f'  {me} -.->|"superseded by"| {g.node(successor, successor)}')
    return "flowchart LR\n" + "\n".join(g.lines) + "\n  classDef self stroke-width:3px"
