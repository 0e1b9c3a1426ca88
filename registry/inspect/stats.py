"""Per-file min/max of integer columns, recorded in the manifest at publish so a reader can skip
files that cannot hold the rows it wants ("all synapses onto root id R" touches the one or two
files of a layout ordered by that column). Only integer columns: they are the ids people filter
on, and their statistics are exact (string and float min/max may be truncated or NaN-laden).
"""

from __future__ import annotations

from typing import Any, Optional

import pyarrow as pa


def _int_columns(schema: pa.Schema) -> list[str]:
    return [f.name for f in schema if pa.types.is_integer(f.type)]


def parquet_stats(md: Any, schema: pa.Schema) -> Optional[dict[str, dict[str, Any]]]:
    """From a Parquet footer: min over row groups of each integer column's min, likewise max.
    A column missing statistics in any row group is left out (unknown is not pruned on)."""
    wanted = set(_int_columns(schema))
    if not wanted or md.num_row_groups == 0:
        return None
    index = {}
    for i in range(md.num_columns):
        path = md.schema.column(i).path
        if path in wanted:
            index[path] = i
    mins: dict[str, Any] = {}
    maxs: dict[str, Any] = {}
    for name, i in index.items():
        lo = hi = None
        for rg in range(md.num_row_groups):
            st = md.row_group(rg).column(i).statistics
            if st is None or not st.has_min_max:
                lo = hi = None
                break
            lo = st.min if lo is None else min(lo, st.min)
            hi = st.max if hi is None else max(hi, st.max)
        if lo is not None and hi is not None:
            mins[name], maxs[name] = int(lo), int(hi)
    return {"min": mins, "max": maxs} if mins else None


def delta_stats(actions: pa.Table, schema: pa.Schema) -> list[Optional[dict[str, dict[str, Any]]]]:
    """From flattened Delta add actions (`min.<col>`, `max.<col>` columns of the log's stats)."""
    names = set(actions.column_names)
    cols = [c for c in _int_columns(schema) if f"min.{c}" in names and f"max.{c}" in names]
    if not cols:
        return [None] * actions.num_rows
    lows = {c: actions.column(f"min.{c}").to_pylist() for c in cols}
    highs = {c: actions.column(f"max.{c}").to_pylist() for c in cols}
    out: list[Optional[dict[str, dict[str, Any]]]] = []
    for i in range(actions.num_rows):
        mins = {c: int(lows[c][i]) for c in cols if lows[c][i] is not None and highs[c][i] is not None}
        maxs = {c: int(highs[c][i]) for c in mins}
        out.append({"min": mins, "max": maxs} if mins else None)
    return out
