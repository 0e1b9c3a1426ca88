"""Reading only the files that matter: pick the layout whose ordering matches a filter, then drop
files whose partition values or recorded min/max (integer columns, from the manifest) exclude it.

Only simple filters are understood: `col = 1`, `col IN (1, 2)`, `col < 5`, `col >= 'a'`, ANDed.
Anything else (OR, functions, expressions) prunes nothing: the engine still applies the whole
filter to what is read, so pruning can only save work, never change an answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional, Sequence

_IDENT = r'"?([A-Za-z_][A-Za-z0-9_]*)"?'
_LIT = r"(-?\d+(?:\.\d+)?|'(?:[^']|'')*')"
_CMP = re.compile(rf"^\s*{_IDENT}\s*(=|==|<=|>=|<|>)\s*{_LIT}\s*$")
_IN = re.compile(rf"^\s*{_IDENT}\s+IN\s*\(\s*({_LIT}(?:\s*,\s*{_LIT})*)\s*\)\s*$", re.IGNORECASE)
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Condition:
    column: str
    op: str  # "=", "<", "<=", ">", ">=", "in"
    values: tuple


def _literal(text: str) -> Any:
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    return float(text) if "." in text else int(text)


def parse(filter: Optional[str]) -> Optional[list[Condition]]:
    """The conjuncts of a simple SQL filter, or None when it is not that simple."""
    if not isinstance(filter, str) or not filter.strip():
        return None
    body = filter.strip()
    while body.startswith("(") and body.endswith(")") and body.count("(") == 1:
        body = body[1:-1].strip()
    if re.search(r"\bOR\b|\bNOT\b", body, re.IGNORECASE):
        return None
    out = []
    for part in _AND.split(body):
        m = _CMP.match(part)
        if m:
            op = "=" if m.group(2) == "==" else m.group(2)
            out.append(Condition(m.group(1), op, (_literal(m.group(3)),)))
            continue
        m = _IN.match(part)
        if m:
            values = tuple(_literal(v) for v in re.findall(_LIT, m.group(2)))
            out.append(Condition(m.group(1), "in", values))
            continue
        return None
    return out


def choose_layout(doc: Any, conditions: Optional[Sequence[Condition]]) -> Optional[str]:
    """The layout to read for these conditions: one partitioned by, else ordered (first) by, an
    equality / IN column, else a range column; None (the main location) when none matches.
    Only layouts with a recorded manifest qualify (the signer signs only those)."""
    if not conditions:
        return None
    layouts = [lay for lay in getattr(doc, "layouts", []) if lay.manifest]
    eq = [c.column for c in conditions if c.op in ("=", "in")]
    rng = [c.column for c in conditions if c.op not in ("=", "in")]
    for cols in (eq, rng):
        for lay in layouts:
            if any(c in lay.partition_columns for c in cols):
                return lay.name
        for lay in layouts:
            if lay.ordering and lay.ordering[0] in cols:
                return lay.name
    return None


def _may_match(cond: Condition, lo: Any, hi: Any) -> bool:
    try:
        if cond.op in ("=", "in"):
            return any(lo <= v <= hi for v in cond.values)
        v = cond.values[0]
        return {"<": lo < v, "<=": lo <= v, ">": hi > v, ">=": hi >= v}[cond.op]
    except TypeError:
        return True  # not comparable (a string against an int range): cannot prune


def keep(file: Any, conditions: Sequence[Condition]) -> bool:
    """False only when the file's partition values or min/max rule every row out."""
    stats = getattr(file, "stats", None) or {}
    mins, maxs = stats.get("min") or {}, stats.get("max") or {}
    partition = getattr(file, "partition", None) or {}
    for cond in conditions:
        if cond.column in partition:
            value = partition[cond.column]
            if value is not None and not _may_match(cond, value, value):
                return False
        elif cond.column in mins and cond.column in maxs:
            if not _may_match(cond, mins[cond.column], maxs[cond.column]):
                return False
    return True
