"""`DatasetVersion.to_spark(spark)`: a Spark DataFrame over the signed files, read by the executors.

The driver asks the signer once, reads one Parquet footer for the schema, and builds a small
DataFrame of (url, size, partition) rows, one Spark partition per file; `mapInArrow` then has each
task read its own file with ranged GETs (`http_file.RangeFile`): the data never passes through the
driver. `columns=` reaches the Parquet reader (only those column chunks are fetched); partition
values come from the signer's answer (signed URLs lose hive `key=value` directories), typed as
recorded at publish. `filter=` is a Spark SQL expression applied after the read.

On a cluster the executors need pyarrow (every Spark with Arrow support has it) and network access
to the signed URLs; the reader module is shipped by value, so they do not need this package.
"""

from __future__ import annotations

import io
import json
from typing import Any, Optional, Sequence

from . import http_file
from .errors import ReadError

MAX_TASKS = 10_000


def _ship_reader() -> None:
    """Send `http_file` to workers by value (cloudpickle), so executors need not install us."""
    try:
        import cloudpickle
    except ImportError:
        from pyspark import cloudpickle  # type: ignore[no-redef]
    cloudpickle.register_pickle_by_value(http_file)


def arrow_schema(version: Any, files: Sequence[Any], columns: Optional[Sequence[str]]) -> Any:
    """The frame's Arrow schema: the first file's columns (projected), then the partition columns
    the files lack, typed from `inspected.columns`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    first = next(f for f in files if f.size)
    with io.BufferedReader(http_file.RangeFile(first.url, first.size), buffer_size=1 << 16) as raw:
        file_schema = pq.ParquetFile(raw).schema_arrow
    fields = list(file_schema)
    if version._restore_partitions():
        types = version._partition_types()
        fields += [pa.field(p, http_file.arrow_type(t)) for p, t in types.items() if p not in file_schema.names]
    by_name = {f.name: f for f in fields}
    if columns:
        missing = [c for c in columns if c not in by_name]
        if missing:
            raise ReadError(f"{version.ref} has no column(s) {', '.join(missing)}; it has {', '.join(by_name)}")
        fields = [by_name[c] for c in columns]
    return pa.schema(fields)


def to_spark(version: Any, spark: Any, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None):
    """See `DatasetVersion.to_spark`."""
    from pyspark.sql.pandas.types import from_arrow_schema
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    if version.format.value == "lance":
        raise ReadError(f"{version.ref} is a Lance table: Spark reads Parquet files, not Lance fragments. Use "
                        f"spark.createDataFrame(ds.to_arrow().to_pandas()) for small tables, or Lance's own Spark "
                        f"connector with the credentials from ds.sign(mode='credentials').")
    signed = version._signed("urls")
    files = [f for f in signed.files if f.size]
    if not files:
        raise ReadError(f"{version.ref} has no data files to read")
    schema = arrow_schema(version, files, columns)
    _ship_reader()
    cols = list(columns) if columns else None
    listing = StructType([StructField("url", StringType()), StructField("size", LongType()),
                          StructField("partition", StringType())])
    rows = [(f.url, int(f.size), json.dumps(f.partition, default=str)) for f in files]
    tasks = min(len(rows), MAX_TASKS)
    listed = spark.createDataFrame(spark.sparkContext.parallelize(rows, tasks), listing)

    def read(batches):  # runs in the executors' Python workers
        return http_file.read_rows_of(batches, schema, cols)

    df = listed.mapInArrow(read, from_arrow_schema(schema))
    return df.filter(filter) if filter else df
