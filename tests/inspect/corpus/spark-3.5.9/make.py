"""Writes the committed Spark Parquet corpus (run with pyspark 3.5, OpenJDK 17)."""
import sys
import datetime as dt
import decimal
from pyspark.sql import SparkSession
from pyspark.sql import types as T

out = sys.argv[1]
spark = (SparkSession.builder.master("local[1]").appName("corpus")
         .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC")
         .config("spark.driver.memory", "512m").getOrCreate())
schema = T.StructType([
    T.StructField("id", T.LongType(), False),
    T.StructField("cell_type", T.StringType(), True),
    T.StructField("split", T.IntegerType(), True),
    T.StructField("ts", T.TimestampType(), True),
    T.StructField("day", T.DateType(), True),
    T.StructField("amount", T.DecimalType(12, 3), True),
    T.StructField("small_dec", T.DecimalType(5, 2), True),
    T.StructField("pos", T.ArrayType(T.FloatType()), True),
    T.StructField("meta", T.StructType([T.StructField("a", T.IntegerType()), T.StructField("b", T.StringType())]), True),
    T.StructField("tags", T.MapType(T.StringType(), T.LongType()), True),
])
rows = []
for i in range(24):
    rows.append((i, ["L2/3 IT", "L5 ET", "a=b c", None][i % 4], None if i % 5 == 0 else i % 3,
                 dt.datetime(2024, 1, 31, 10, 0) + dt.timedelta(hours=i), dt.date(2024, 1, 1 + i % 2),
                 decimal.Decimal(i) / 8, decimal.Decimal(i) / 4, [float(i), float(i) + 0.5, 1.0],
                 (i, f"m{i}"), {"k": i}))
df = spark.createDataFrame(rows, schema).repartition(2)
# Hive layout with nulls (__HIVE_DEFAULT_PARTITION__), escaped values (L2%2F3 IT, a%3Db c), INT96 timestamps
df.write.mode("overwrite").partitionBy("split", "cell_type").parquet(out + "/spark_partitioned")
# legacy format: decimals as FIXED_LEN_BYTE_ARRAY, old list layout
(df.coalesce(1).write.mode("overwrite").option("spark.sql.parquet.writeLegacyFormat", "true")
   .parquet(out + "/spark_legacy"))
spark.conf.set("spark.sql.parquet.writeLegacyFormat", "true")
df.coalesce(1).write.mode("overwrite").parquet(out + "/spark_legacy")
print(spark.version)
spark.stop()
