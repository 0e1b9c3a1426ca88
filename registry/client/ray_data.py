"""`DatasetVersion.to_ray()`: a Ray Dataset whose read tasks fetch the signed files themselves.

Same plan as Spark (`spark.py`): the driver signs once and reads one footer for the schema; a Ray
Dataset of (url, size, partition) rows, one block per file, is mapped by `http_file.read_rows_of`
in Ray workers, so files are read in parallel and the data never passes through the driver.
`columns=` reaches the Parquet reads; `filter` is a simple SQL filter string (`"region == 'b'"`) or a
`ray.data.expressions` predicate. Ray deprecated string expressions, so a string the pruning grammar
understands is handed to Ray as the equivalent predicate; any other string still goes to Ray's own
(deprecated) parser, and Ray's DeprecationWarning then tells the caller to pass a predicate.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from . import http_file, pruning
from .distributed import arrow_schema, ship_reader, signed_files_for_workers, work_rows


def ray_predicate(filter: Any) -> Any:
    """`filter` as a Ray Data predicate: a simple SQL filter string (pruning's grammar: comparisons,
    `IN`, ANDed) becomes `col(...) == v & ...`; a predicate, or a string beyond that grammar, is
    returned as given."""
    conditions = pruning.parse(filter) if isinstance(filter, str) else None
    if not conditions:
        return filter
    from ray.data.expressions import col

    ops = {"=": lambda c, v: c == v, "<": lambda c, v: c < v, "<=": lambda c, v: c <= v,
           ">": lambda c, v: c > v, ">=": lambda c, v: c >= v}
    expr = None
    for cond in conditions:
        term = col(cond.column).is_in(list(cond.values)) if cond.op == "in" else ops[cond.op](col(cond.column), cond.values[0])
        expr = term if expr is None else expr & term
    return expr


def to_ray(version: Any, columns: Optional[Sequence[str]] = None, filter: Any = None):
    """See `DatasetVersion.to_ray`."""
    import pyarrow as pa
    import ray
    import ray.cloudpickle

    files = signed_files_for_workers(version, "Ray", filter)
    schema = arrow_schema(version, files, columns)
    ship_reader()
    ray.cloudpickle.register_pickle_by_value(http_file)
    cols = list(columns) if columns else None
    items = [{"url": u, "size": s, "partition": p} for u, s, p in work_rows(files)]

    def read(batch):  # runs in Ray workers: one input row (a file) per call
        for rb in http_file.read_rows_of([batch], schema, cols):
            yield pa.Table.from_batches([rb], schema=schema)

    ds = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        read, batch_size=1, batch_format="pyarrow")
    if filter is None or (isinstance(filter, str) and not filter.strip()):
        return ds
    return ds.filter(expr=ray_predicate(filter))
