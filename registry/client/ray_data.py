"""`DatasetVersion.to_ray()`: a Ray Dataset whose read tasks fetch the signed files themselves.

Same plan as Spark (`spark.py`): the driver signs once and reads one footer for the schema; a Ray
Dataset of (url, size, partition) rows, one block per file, is mapped by `http_file.read_rows_of`
in Ray workers, so files are read in parallel and the data never passes through the driver.
`columns=` reaches the Parquet reads; `filter` is a Ray expression string (`"region == 'b'"`).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from . import http_file
from .distributed import arrow_schema, ship_reader, signed_files_for_workers, work_rows


def to_ray(version: Any, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None):
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
    return ds.filter(expr=filter) if filter else ds
