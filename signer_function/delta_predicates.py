"""Delta Sharing `jsonPredicateHints`: skip files whose partition values cannot match.

The protocol makes filtering a best-effort hint: a client always re-applies its predicate, and a
server that cannot evaluate a hint returns every file. So this module only ever *removes* a file
when no row of it can satisfy the predicate, given its partition values (SQL three-valued logic:
a comparison with a NULL partition value is NULL, which WHERE drops). A data column compared with
a literal is decided from the file's min/max recorded at publish, when there is one; anything else
it cannot decide (a value that does not cast, two columns) keeps the file. A malformed tree raises
`PredicateError` and the caller then filters nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Mapping, Optional

MAX_DEPTH = 32
MAX_NODES = 512

_COMPARE = {
    "equal": lambda a, b: a == b,
    "lessThan": lambda a, b: a < b,
    "lessThanOrEqual": lambda a, b: a <= b,
    "greaterThan": lambda a, b: a > b,
    "greaterThanOrEqual": lambda a, b: a >= b,
}
_MISSING = object()  # a leaf whose value is not known here (a data column, a failed cast)


class PredicateError(ValueError):
    """The hint is not a predicate tree this server understands."""


def parse(text: Optional[str]) -> Optional[dict[str, Any]]:
    """The predicate tree from the request's `jsonPredicateHints` string (None when absent)."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise PredicateError("jsonPredicateHints must be a string holding JSON")
    try:
        tree = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PredicateError(f"jsonPredicateHints is not JSON ({exc.msg})") from None
    count = [0]
    _validate(tree, 0, count)
    return tree


def _validate(node: Any, depth: int, count: list[int]) -> None:
    count[0] += 1
    if depth > MAX_DEPTH or count[0] > MAX_NODES:
        raise PredicateError("jsonPredicateHints is too deep or too large")
    if not isinstance(node, dict) or not isinstance(node.get("op"), str):
        raise PredicateError("every predicate node must be an object with an 'op'")
    op = node["op"]
    kids = node.get("children") or []
    if not isinstance(kids, list):
        raise PredicateError(f"'children' of {op!r} must be a list")
    if op == "column":
        if not isinstance(node.get("name"), str):
            raise PredicateError("a column op needs a 'name'")
    elif op == "literal":
        if "value" not in node:
            raise PredicateError("a literal op needs a 'value'")
    elif op in _COMPARE:
        if len(kids) != 2 or any(k.get("op") not in ("column", "literal") for k in kids if isinstance(k, dict)):
            raise PredicateError(f"{op!r} takes two leaf children (column / literal)")
    elif op in ("and", "or"):
        if len(kids) < 2:
            raise PredicateError(f"{op!r} takes at least two children")
    elif op in ("not", "isNull"):
        if len(kids) != 1:
            raise PredicateError(f"{op!r} takes one child")
    else:
        raise PredicateError(f"unknown op {op!r}")
    for k in kids:
        _validate(k, depth + 1, count)


def _cast(value: Any, value_type: Optional[str]) -> Any:
    if value is None:
        return None
    try:
        if value_type in ("int", "long"):
            return int(value)
        if value_type in ("float", "double"):
            return float(value)
        if value_type == "bool":
            return value if isinstance(value, bool) else str(value).lower() == "true"
        if value_type == "date":
            return dt.date.fromisoformat(str(value)[:10])
        if value_type == "timestamp":
            return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).replace(tzinfo=None)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    except (TypeError, ValueError):
        return _MISSING


def _leaf(node: dict[str, Any], partition: Mapping[str, Any]) -> Any:
    if node["op"] == "literal":
        return _cast(node["value"], node.get("valueType"))
    # partition column names are matched case-insensitively, as the protocol's names are
    lowered = {k.lower(): k for k in partition}
    key = lowered.get(node["name"].lower())
    if key is None:
        return _MISSING
    return _cast(partition[key], node.get("valueType"))


T, F, N = "T", "F", "N"  # SQL's three truth values (N: NULL)
ANY = frozenset((T, F, N))


def _and(a: str, b: str) -> str:
    return F if F in (a, b) else (N if N in (a, b) else T)


def _or(a: str, b: str) -> str:
    return T if T in (a, b) else (N if N in (a, b) else F)


def _fold(op, sets: list[frozenset]) -> frozenset:
    acc = sets[0]
    for s in sets[1:]:
        acc = frozenset(op(a, b) for a in acc for b in s)
    return acc


_FLIP = {"equal": "equal", "lessThan": "greaterThan", "lessThanOrEqual": "greaterThanOrEqual",
         "greaterThan": "lessThan", "greaterThanOrEqual": "lessThanOrEqual"}
FN = frozenset((F, N))
TN = frozenset((T, N))


def _range(op: str, lo: Any, hi: Any, v: Any) -> frozenset:
    """`column op v` over a file whose column lies in [lo, hi] (nulls possible: N always)."""
    try:
        if op == "equal":
            return FN if v < lo or v > hi else (TN if lo == hi == v else ANY)
        if op == "lessThan":
            return FN if lo >= v else (TN if hi < v else ANY)
        if op == "lessThanOrEqual":
            return FN if lo > v else (TN if hi <= v else ANY)
        if op == "greaterThan":
            return FN if hi <= v else (TN if lo > v else ANY)
        return FN if hi < v else (TN if lo >= v else ANY)  # greaterThanOrEqual
    except TypeError:
        return ANY


def _by_stats(op: str, kids: list, stats: Optional[Mapping[str, Any]]) -> frozenset:
    """A data column compared with a literal, decided from the file's recorded min/max if any."""
    if not stats:
        return ANY
    col, lit = (kids[0], kids[1]) if kids[0].get("op") == "column" else (kids[1], kids[0])
    if col.get("op") != "column" or lit.get("op") != "literal":
        return ANY
    if col is kids[1]:
        op = _FLIP[op]
    lows, highs = stats.get("min") or {}, stats.get("max") or {}
    name = next((k for k in lows if k.lower() == col["name"].lower()), None)
    if name is None or name not in highs:
        return ANY
    v = _cast(lit["value"], lit.get("valueType"))
    if v is _MISSING or v is None:
        return ANY
    return _range(op, lows[name], highs[name], v)


def evaluate(node: dict[str, Any], partition: Mapping[str, Any],
             stats: Optional[Mapping[str, Any]] = None) -> frozenset:
    """The truth values the predicate can take for rows of a file with these partition values
    and recorded min/max (a subset of T, F, N). Anything undecidable can be anything."""
    op = node["op"]
    kids = node.get("children") or []
    if op in _COMPARE:
        a, b = (_leaf(k, partition) for k in kids)
        if a is _MISSING or b is _MISSING:
            return _by_stats(op, kids, stats) if (a is _MISSING) != (b is _MISSING) else ANY
        if a is None or b is None:
            return frozenset((N,))  # SQL: a comparison with NULL is NULL
        try:
            return frozenset((T if _COMPARE[op](a, b) else F,))
        except TypeError:
            return ANY
    if op == "isNull":
        v = _leaf(kids[0], partition) if kids[0].get("op") in ("column", "literal") else _MISSING
        return frozenset((T, F)) if v is _MISSING else frozenset((T if v is None else F,))
    if op == "not":
        return frozenset({T: F, F: T, N: N}[x] for x in evaluate(kids[0], partition, stats))
    if op in ("and", "or"):
        return _fold(_and if op == "and" else _or, [evaluate(k, partition, stats) for k in kids])
    return ANY  # column / literal at the top: not a predicate


def keeps(tree: Optional[dict[str, Any]], partition: Mapping[str, Any],
          stats: Optional[Mapping[str, Any]] = None) -> bool:
    """Whether a file with these partition values must be returned: unless no row of it can make
    the predicate true (false and NULL both filter a row out, as in SQL's WHERE)."""
    return tree is None or T in evaluate(tree, partition, stats)
