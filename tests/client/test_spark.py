"""`DatasetVersion.to_spark`: pyspark in local mode (Debian's JRE) reads the example tables through
the signer, one task per file, with partition columns restored and projection reaching the reads."""

from __future__ import annotations

import io
import shutil
import sys
import warnings

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from registry import Catalog
from registry.client import ReadError
from registry.client.http_file import RangeFile, read_batches
from tests.signer.tables import ROWS, region_counts

pytestmark = pytest.mark.s3
pyspark = pytest.importorskip("pyspark", reason="pyspark is in the test extra")


@pytest.fixture(scope="module")
def spark():
    if not shutil.which("java"):
        pytest.skip("no Java runtime (.ci/run installs default-jre-headless)")
    from pyspark.sql import SparkSession

    env = pytest.MonkeyPatch()
    env.setenv("PYSPARK_PYTHON", sys.executable)  # workers import pyarrow from this venv
    with warnings.catch_warnings():
        # Launching the JVM forks this process, where lance (imported by the stack's table writers)
        # warns that it is not fork-safe; the child execs java at once and never touches lance.
        warnings.filterwarnings("ignore", message="lance is not fork-safe", category=UserWarning)
        # py4j's first argument conversion imports pyspark.testing.utils, whose import-time check
        # warns about pandas 3 (these reads use no pandas); to_spark guards its own calls likewise.
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        session = (SparkSession.builder.master("local[2]").appName("registry-tests")
                   .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.shuffle.partitions", "2")
                   .getOrCreate())
        session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
        env.undo()


@pytest.fixture
def cat(stack) -> Catalog:
    return Catalog(stack.site_url, signer_url=stack.signer_url, token=stack.token)


@pytest.mark.parametrize("table", ["plain", "hive", "delta", "iceberg"])
def test_spark_reads_every_row_with_partitions(spark, cat, table):
    ds = cat.get(f"syn_{table}")
    df = ds.to_spark(spark)
    files = ds.signed_files()
    assert df.rdd.getNumPartitions() == len(files)  # one task per file, none on the driver
    assert "MapInArrow" in df._jdf.queryExecution().executedPlan().toString()
    rows = df.collect()
    assert len(rows) == ROWS
    assert sorted(r["id"] for r in rows) == list(range(ROWS))
    if table != "plain":
        got = {r["region"]: r["count"] for r in df.groupBy("region").count().collect()}
        assert got == region_counts()
    else:
        assert "region" not in df.columns


def test_spark_projection_and_filter(spark, cat):
    ds = cat.get("syn_hive")
    df = ds.to_spark(spark, columns=["region", "id"], filter="region = 'b'")
    assert df.columns == ["region", "id"]
    assert df.count() == region_counts()["b"]
    with pytest.raises(ReadError, match="no column"):
        ds.to_spark(spark, columns=["nope"])


def test_spark_refuses_what_urls_cannot_read(spark, cat):
    with pytest.raises(ReadError, match="Lance"):
        cat.get("syn_lance").to_spark(spark)
    with pytest.raises(ReadError, match="deletion vectors"):
        cat.get("syn_delta_dv").to_spark(spark)


def test_range_reads_fetch_only_the_projected_columns(cat, stack):
    """What each task does, measured in-process: a wide file, one narrow column asked for."""
    import boto3

    n = 50_000
    wide = pa.table({"id": pa.array(range(n), pa.int64()),
                     **{f"f{i}": pa.array([float(j * i) for j in range(n)]) for i in range(8)}})
    buf = io.BytesIO()
    pq.write_table(wide, buf, compression="none")
    s3 = boto3.client("s3", endpoint_url=stack.s3, region_name="us-east-1")
    s3.put_object(Bucket=stack.bucket, Key="scratch/wide.parquet", Body=buf.getvalue())
    url = s3.generate_presigned_url("get_object", Params={"Bucket": stack.bucket, "Key": "scratch/wide.parquet"})
    size = len(buf.getvalue())
    schema = pa.schema([pa.field("id", pa.int64())])
    counted = []
    orig = RangeFile._get

    def spy(self, start, end):
        counted.append(end - start)
        return orig(self, start, end)

    RangeFile._get = spy
    try:
        got = pa.Table.from_batches(list(read_batches(url, size, {}, schema, ["id"])), schema=schema)
    finally:
        RangeFile._get = orig
    assert got.column("id").to_pylist() == list(range(n))
    assert sum(counted) < size / 4  # the id chunk and the footer, not the eight float columns
