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

import warnings
from typing import Any, Optional, Sequence

from . import http_file
from .distributed import arrow_schema, ship_reader, signed_files_for_workers, work_rows

MAX_TASKS = 10_000


def to_spark(version: Any, spark: Any, columns: Optional[Sequence[str]] = None, filter: Optional[str] = None):
    """See `DatasetVersion.to_spark`."""
    from pyspark.sql.pandas.types import from_arrow_schema
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    files = signed_files_for_workers(version, "Spark", filter)
    schema = arrow_schema(version, files, columns)
    ship_reader()
    cols = list(columns) if columns else None
    listing = StructType([StructField("url", StringType()), StructField("size", LongType()),
                          StructField("partition", StringType())])
    rows = work_rows(files)

    def read(batches):  # runs in the executors' Python workers
        return http_file.read_rows_of(batches, schema, cols)

    with warnings.catch_warnings():
        # mapInArrow checks the pandas version although this path uses no pandas, and py4j's
        # argument conversion imports pyspark.testing.utils, which checks it at import: pyspark 4.x
        # warns about pandas 3 each time. Nothing here touches pandas.
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        import pyspark.testing.utils  # noqa: F401  (its import-time check, under this filter)

        listed = spark.createDataFrame(spark.sparkContext.parallelize(rows, min(len(rows), MAX_TASKS)), listing)
        df = listed.mapInArrow(read, from_arrow_schema(schema))
        return df.filter(filter) if filter else df
