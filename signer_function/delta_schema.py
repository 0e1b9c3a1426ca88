"""Arrow type strings (the registry's `inspected.columns[].type`) as a Delta / Spark schema JSON.

The Delta Sharing protocol describes a table with Spark SQL's JSON schema (`schemaString`), and its
clients build their readers from it (the Python client converts partition values with it). The
registry already records each column's Arrow type string, normalised by
`registry.inspect.arrow_types.type_string`; this module parses exactly that spelling, so the signer
needs no pyarrow at request time.
"""

from __future__ import annotations

import json
import re
from typing import Any, Union

SparkType = Union[str, dict[str, Any]]

_PRIMITIVE = {
    "bool": "boolean", "int8": "byte", "int16": "short", "int32": "integer", "int64": "long",
    # Spark has no unsigned integers: widen to the next signed type (uint64 stays long: a value
    # above 2**63 would not fit, which no id in CAVE reaches).
    "uint8": "short", "uint16": "integer", "uint32": "long", "uint64": "long",
    "halffloat": "float", "float16": "float", "float": "float", "float32": "float",
    "double": "double", "float64": "double",
    "string": "string", "utf8": "string", "binary": "binary",
    "date32": "date", "date32[day]": "date", "date64": "date", "date64[ms]": "date",
    "null": "void",
}
_DECIMAL = re.compile(r"^decimal(?:32|64|128|256)?\((\d+),\s*(\d+)\)$")


class UnsupportedType(ValueError):
    """An Arrow type the Delta Sharing schema cannot describe."""


def _split_top(body: str) -> list[str]:
    """Split `a, b<c, d>, e` at top-level commas only."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in body:
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def _inner(t: str, head: str) -> str:
    """`list<float>` -> `float` (also with a `[n]` size suffix after the closing bracket)."""
    end = t.rfind(">")
    return t[len(head) + 1 : end]


def spark_type(t: str) -> SparkType:
    """One Arrow type string as a Spark JSON type (a name, or a dict for nested types)."""
    t = t.strip()
    if t in _PRIMITIVE:
        return _PRIMITIVE[t]
    if t.startswith("timestamp"):
        return "timestamp"
    if t.startswith(("time32", "time64", "duration")):
        return "long"
    m = _DECIMAL.match(t)
    if m:
        return f"decimal({m.group(1)},{m.group(2)})"
    for head in ("list", "large_list", "fixed_size_list"):
        if t.startswith(head + "<"):
            item = _inner(t, head)
            if ": " in item.split("<", 1)[0]:  # `list<item: float>` spelling
                item = item.split(": ", 1)[1]
            return {"type": "array", "elementType": spark_type(item), "containsNull": True}
    if t.startswith("struct<"):
        fields = []
        for part in _split_top(_inner(t, "struct")):
            name, _, ft = part.partition(": ")
            fields.append({"name": name, "type": spark_type(ft), "nullable": True, "metadata": {}})
        return {"type": "struct", "fields": fields}
    if t.startswith("map<"):
        key, value = _split_top(_inner(t, "map"))[:2]
        return {"type": "map", "keyType": spark_type(key), "valueType": spark_type(value), "valueContainsNull": True}
    raise UnsupportedType(f"Arrow type {t!r} has no Delta Sharing equivalent")


def schema_string(columns: list[Any]) -> str:
    """`schemaString` for a table from its inspected columns (objects with name, type, nullable)."""
    fields = [
        {"name": c.name, "type": spark_type(c.type), "nullable": bool(c.nullable), "metadata": {}}
        for c in columns
    ]
    return json.dumps({"type": "struct", "fields": fields}, separators=(",", ":"))


def value_type(t: str) -> str:
    """The jsonPredicateHints `valueType` family of an Arrow type string (for comparisons)."""
    s = spark_type(t)
    if s in ("byte", "short", "integer", "long"):
        return "long"
    if s in ("float", "double") or (isinstance(s, str) and s.startswith("decimal")):
        return "double"
    if s == "boolean":
        return "bool"
    if s in ("date", "timestamp"):
        return s
    return "string"
