"""Arrow type strings, normalised so the same column reads the same in every format."""

from __future__ import annotations

import pyarrow as pa

from ..model import InspectedColumn

_LARGE = {"large_string": "string", "large_binary": "binary", "large_utf8": "string"}


def type_string(t: pa.DataType) -> str:
    """Arrow's own spelling (`int64`, `list<element: float>` -> `list<float>`), with large_* types
    folded into their plain names: pyiceberg reports large_string where a scan returns string."""
    if pa.types.is_large_string(t):
        return "string"
    if pa.types.is_large_binary(t):
        return "binary"
    if pa.types.is_large_list(t) or pa.types.is_list(t):
        return f"list<{type_string(t.value_type)}>"
    if pa.types.is_fixed_size_list(t):
        return f"fixed_size_list<{type_string(t.value_type)}>[{t.list_size}]"
    if pa.types.is_struct(t):
        inner = ", ".join(f"{f.name}: {type_string(f.type)}" for f in t)
        return f"struct<{inner}>"
    if pa.types.is_map(t):
        return f"map<{type_string(t.key_type)}, {type_string(t.item_type)}>"
    if pa.types.is_dictionary(t):
        return type_string(t.value_type)
    if getattr(t, "extension_name", None) == "arrow.uuid":
        return "uuid"
    s = str(t)
    return _LARGE.get(s, s)


def columns_from_schema(schema: pa.Schema) -> list[InspectedColumn]:
    return [InspectedColumn(name=f.name, type=type_string(f.type), nullable=f.nullable) for f in schema]


def is_integer(type_str: str) -> bool:
    return type_str.startswith(("int", "uint"))


def is_numeric(type_str: str) -> bool:
    return is_integer(type_str) or type_str.startswith(("float", "double", "halffloat", "decimal"))


def is_numeric_point(type_str: str) -> bool:
    """A packed x,y,z point: a list/fixed-size list of numbers, or a struct of numbers."""
    if type_str.startswith(("list<", "fixed_size_list<")):
        inner = type_str.split("<", 1)[1].rsplit(">", 1)[0]
        return is_numeric(inner)
    if type_str.startswith("struct<"):
        body = type_str[len("struct<") : -1]
        parts = [p.split(": ", 1)[-1] for p in body.split(", ")]
        return bool(parts) and all(is_numeric(p) for p in parts)
    return False


def types_compatible(declared: str, actual: str) -> bool:
    """A declared type agrees with the table when it spells the same type, allowing common aliases."""
    alias = {"float": "float", "float32": "float", "double": "double", "float64": "double",
             "string": "string", "str": "string", "utf8": "string", "large_string": "string",
             "bool": "bool", "boolean": "bool"}
    norm = lambda s: alias.get(s.strip().lower(), s.strip().lower()).replace("element: ", "").replace("item: ", "")
    return norm(declared) == norm(actual)
