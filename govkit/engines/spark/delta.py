"""Delta tables on Spark: read a table's current snapshot, write one.

Two ways, the first that the machine has:

* **delta-spark**: when the session knows the ``delta`` format (delta-spark configured, or
  Databricks), Spark reads and writes Delta itself, with every feature Delta has.
* **delta-rs** (``pip install 'govkit[delta]'``, the ``deltalake`` package), for a plain Spark:
  reading, the transaction log gives the Parquet files of the current version (never the
  files an update or a vacuum-less overwrite left behind), which Spark reads with the
  partition columns the folder names carry; writing, Spark writes Parquet into the target
  folder and delta-rs commits those files as version 0 of a new table. A table that needs
  more than its files to be read right (deletion vectors, column mapping) is refused with
  one line naming the feature, rather than read wrong.

Why not only delta-spark: its jars come from Maven at session start, which a cluster with
no route to Maven (and this project's CI) does not have; delta-rs is one wheel from PyPI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from govkit.errors import UsageError

INSTALL_HINT = "pip install 'govkit[delta]' (delta-rs), or delta-spark with a session configured for it"
#: Reader features a snapshot's Parquet files alone cannot honour.
_NEEDS_DELTA_SPARK = {"deletionVectors", "columnMapping"}


def spark_has_delta(spark: Any) -> bool:
    """Whether the session's JVM has Delta's data source (delta-spark, Databricks)."""
    try:
        spark.sparkContext._jvm.java.lang.Class.forName("org.apache.spark.sql.delta.sources.DeltaDataSource")
    except Exception:  # py4j's ClassNotFoundException
        return False
    return True


def _deltalake(location: str) -> Any:
    try:
        import deltalake
    except ImportError:
        raise UsageError(f"{location} is a Delta table: reading and writing Delta needs {INSTALL_HINT}") from None
    return deltalake


def _local(location: str) -> str:
    return location[len("file://"):] if location.startswith("file://") else location


def read_delta(spark: Any, location: str) -> Any:
    """The current snapshot of the Delta table at ``location`` as a DataFrame."""
    if spark_has_delta(spark):
        return spark.read.format("delta").load(location)
    deltalake = _deltalake(location)
    try:
        table = deltalake.DeltaTable(_local(location))
        protocol = table.protocol()
        files = list(table.file_uris())
        schema = _arrow_schema(table.schema().to_arrow())
    except Exception as exc:  # delta-rs's own errors: a log it cannot read
        raise UsageError(f"{location}: not a readable Delta table: {str(exc).splitlines()[0][:200]}") from None
    features = set(protocol.reader_features or [])
    if protocol.min_reader_version == 2:
        features.add("columnMapping")  # reader version 2 is column mapping
    blocking = sorted(features & _NEEDS_DELTA_SPARK)
    if blocking:
        raise UsageError(f"{location}: the Delta table uses {', '.join(blocking)}, which only delta-spark reads "
                         "correctly; configure the session for delta-spark")
    if not files:
        return spark.createDataFrame([], _spark_schema(schema))
    return spark.read.option("basePath", location).parquet(*files)


def write_delta(frame_writer: Any, location: str, spark: Any) -> None:
    """Write a DataFrame (its ``DataFrameWriter``, mode set) as a new Delta table at ``location``."""
    if spark_has_delta(spark):
        frame_writer.format("delta").save(location)
        return
    deltalake = _deltalake(location)
    frame_writer.parquet(location)
    folder = _local(location)
    for marker in ("_SUCCESS",):
        if "://" not in folder:
            (Path(folder) / marker).unlink(missing_ok=True)
    try:
        deltalake.convert_to_deltalake(folder)
    except Exception as exc:
        raise UsageError(f"{location}: the Parquet files were written but could not be committed as a Delta "
                         f"table: {str(exc).splitlines()[0][:200]}") from None


def _arrow_schema(schema: Any) -> Any:
    """delta-rs hands out an arro3 schema; pyarrow takes it through the Arrow C interface."""
    import pyarrow as pa  # type: ignore[import-untyped]

    return pa.schema(schema)


def _spark_schema(schema: Any) -> Any:
    """A Spark schema for an Arrow schema (an empty table's columns)."""
    from pyspark.sql import types as T

    def convert(kind: Any) -> Any:
        import pyarrow as pa

        checks = [(pa.types.is_boolean, T.BooleanType()), (pa.types.is_int8, T.ByteType()),
                  (pa.types.is_int16, T.ShortType()), (pa.types.is_int32, T.IntegerType()),
                  (pa.types.is_int64, T.LongType()), (pa.types.is_float32, T.FloatType()),
                  (pa.types.is_float64, T.DoubleType()), (pa.types.is_date, T.DateType()),
                  (pa.types.is_timestamp, T.TimestampType()), (pa.types.is_binary, T.BinaryType()),
                  (pa.types.is_large_binary, T.BinaryType())]
        for check, spark_type in checks:
            if check(kind):
                return spark_type
        if pa.types.is_decimal(kind):
            return T.DecimalType(kind.precision, kind.scale)
        return T.StringType()

    return T.StructType([T.StructField(f.name, convert(f.type), f.nullable) for f in schema])
