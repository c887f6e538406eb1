"""``scan --engine spark`` against the single-process ``--full`` scan, side by side in one run.

Run ``python benchmarks/spark_bench.py`` (options: ``--rows N``, default 10,000,000; ``--master``,
default ``local[2]``; ``--skip-local``; ``--skip-spark``, the local scan alone, as a same-day
baseline for a Spark run that could not be followed by its local half). The data is the
20-column ``customers`` table of ``benchmarks/scan_bench.py`` (realistic values in six
locales, cardinality like a real customer table), built once as SQLite and exported once,
row order kept, to Parquet in ``benchmarks/.data/`` (git-ignored). One process then measures:

(a) **local**: ``govkit.scan.scan(..., ScanOptions(full=True, jobs=1))`` on the SQLite table:
    every row read and judged in this one process (the engine loaded first, not timed);
(b) **spark**: :func:`govkit.engines.spark.scan.spark_scan` on the Parquet file, on
    ``--master`` (session started and the executors' engines loaded by a warm-up scan of a
    tiny file first, not timed), with Spark's default partitioning;
(c) **per-partition overhead**: a 40,000-row slice of the same data scanned in 2 and in 32
    partitions (``spark.sql.files.maxPartitionBytes``); the work is the same, so the extra
    time divided by the extra partitions is the overhead of a partition;
(d) **same answers**: the two scans' findings (entity, confidence, hits) are compared.

Cells/s is values analysed (rows x readable columns) / seconds, the same count both scans
report. The ratio spark/local is printed; on ``local[2]`` it can be at most about two (two
cores against one), and the point of the engine is the executors a cluster adds. No timing
is asserted anywhere; this script prints numbers and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scan_bench import DATA_DIR, build_table, table_path

ROW_GROUP = 250_000


def parquet_path(rows: int) -> Path:
    return DATA_DIR / f"spark_customers_{rows}.parquet"


def export_parquet(database: Path, target: Path) -> float:
    """The SQLite table as one Parquet file, row order and column kinds kept; seconds taken."""
    import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    from govkit.sources.database import DatabaseSource

    clock = time.perf_counter()
    types = {"integer": pa.int64(), "number": pa.float64(), "text": pa.string(), "boolean": pa.bool_(),
             "date": pa.date32(), "datetime": pa.timestamp("us")}
    tmp = target.with_name(target.name + ".tmp")
    with DatabaseSource(f"sqlite:///{database}") as source:
        table = source.tables()[0]
        columns = source.readable_columns(table)
        schema = pa.schema([(c.name, types.get(c.kind, pa.string())) for c in columns])

        def typed(value: Any, kind: str) -> Any:
            if value is None or not isinstance(value, str):
                return bool(value) if kind == "boolean" and value is not None else value
            if kind == "date":
                return datetime.date.fromisoformat(value)
            if kind == "datetime":
                return datetime.datetime.fromisoformat(value)
            return value

        with pq.ParquetWriter(tmp, schema) as writer:
            for batch in source.stream(table, ROW_GROUP):
                arrays = [pa.array([typed(row[i], c.kind) for row in batch], schema.field(i).type)
                          for i, c in enumerate(columns)]
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=ROW_GROUP)
    tmp.replace(target)
    return time.perf_counter() - clock


#: The slice the per-partition overhead is measured on, and its row groups (Spark cuts there).
OVERHEAD_ROWS, OVERHEAD_GROUP = 40_000, 1_000


def overhead(whole: Path, timed_spark: Any) -> None:
    """Per-partition overhead: the same small slice scanned in 2 and in 32 partitions.

    On the full table, more partitions also balance the load between the cores (and, on a
    shared machine, around other processes), which hides the overhead; on a slice this
    small the work is the same either way and the difference is the overhead: scheduling a
    task, handing rows to a Python worker, a fresh judgement cache per partition.
    """
    import pyarrow.parquet as pq

    part = DATA_DIR / f"spark_overhead_{OVERHEAD_ROWS}_of_{whole.stem}.parquet"
    if not part.exists():
        table = pq.ParquetFile(whole).read_row_groups([0]).slice(0, OVERHEAD_ROWS)
        pq.write_table(table, part, row_group_size=OVERHEAD_GROUP)
    size = part.stat().st_size
    _, few_s, few = timed_spark(part, size // 2 + 1)
    _, many_s, many = timed_spark(part, size // 32 + 1)
    if many <= few:
        print("per-partition overhead: not assessed (Spark would not cut the slice finer)")
        return
    cost = (many_s - few_s) / (many - few)
    print(f"per-partition overhead ({OVERHEAD_ROWS:,}-row slice): {few} partitions {few_s:.1f}s, {many} partitions "
          f"{many_s:.1f}s -> {cost * 1000:,.0f} ms per extra partition")


def answers(findings: list[Any]) -> dict[tuple[str, str], tuple[float, int]]:
    return {(f.field, f.entity_type): (round(f.confidence, 3), f.hits) for f in findings}


def _local(database: Path) -> tuple[float, Any]:
    """(a): the single-process ``--full`` scan of the SQLite table (engine loaded first, untimed)."""
    from govkit.detect.engine import get_engine
    from govkit.scan import ScanOptions, scan

    get_engine()
    clock = time.perf_counter()
    local = scan(None, [f"sqlite:///{database}"], ScanOptions(full=True, jobs=1))
    local_s = time.perf_counter() - clock
    print(f"local --full, 1 process: {local_s:8.1f}s  {local.stats.values_analyzed / local_s:12,.0f} cells/s")
    return local_s, local


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--skip-local", action="store_true", help="measure Spark only")
    parser.add_argument("--skip-overhead", action="store_true", help="skip the per-partition overhead runs")
    parser.add_argument("--skip-spark", action="store_true",
                        help="measure the local scan only (a same-day baseline for an earlier Spark run)")
    args = parser.parse_args(argv)

    from govkit.engines.spark.scan import spark_scan
    from govkit.engines.spark.session import spark_session
    from govkit.scan import ScanOptions

    database, parquet = table_path(args.rows), parquet_path(args.rows)
    if not database.exists():
        print(f"building {args.rows:,} rows in {database.name} ...", flush=True)
        print(f"  built in {build_table(database, args.rows):.0f}s")
    if not parquet.exists():
        print(f"exporting them to {parquet.name} ...", flush=True)
        print(f"  exported in {export_parquet(database, parquet):.0f}s")
    print(f"data: {args.rows:,} rows x 20 columns; Parquet {parquet.stat().st_size / 1e6:.0f} MB")
    if args.skip_spark:
        _local(database)
        print("spark: not assessed (--skip-spark)")
        return 0

    spark = spark_session(args.master, app_name="govkit-spark-bench")
    # the executors' Python processes and their engines, loaded before anything is timed
    from functools import partial

    from govkit.engines.spark import worker
    from govkit.workspace import DetectionSettings

    settings = DetectionSettings()
    slots = spark.sparkContext.defaultParallelism
    spark.sparkContext.parallelize(range(slots), slots).mapPartitions(partial(
        worker.warm_up, settings=(settings.model, settings.language, settings.min_confidence,
                                  settings.ner_sample))).collect()

    def timed_spark(path: Path, partition_bytes: int | None) -> tuple[Any, float, int]:
        if partition_bytes:
            spark.conf.set("spark.sql.files.maxPartitionBytes", str(partition_bytes))
        try:
            partitions = spark.read.parquet(str(path)).rdd.getNumPartitions()
            clock = time.perf_counter()
            report = spark_scan(None, [str(path)], ScanOptions(full=True))
            elapsed = time.perf_counter() - clock
        finally:
            spark.conf.unset("spark.sql.files.maxPartitionBytes")
        return report, elapsed, partitions

    remote, spark_s, partitions = timed_spark(parquet, None)
    cells = remote.stats.values_analyzed
    print(f"spark {args.master}: {spark_s:8.1f}s  {cells / spark_s:12,.0f} cells/s  ({partitions} partitions)")
    if not args.skip_overhead:
        overhead(parquet, timed_spark)
    if args.skip_local:
        print("local --full scan: not assessed (--skip-local)")
        return 0
    local_s, local = _local(database)
    print(f"ratio spark/local (cells/s): {local_s / spark_s:.2f}x")
    same = answers(local.findings) == answers(remote.findings)
    print(f"same findings (entity, confidence, hits): {'yes' if same else 'NO'}")
    if not same:
        mine, theirs = answers(remote.findings), answers(local.findings)
        for key in sorted(set(mine) | set(theirs)):
            if mine.get(key) != theirs.get(key):
                print(f"  {key}: spark {mine.get(key)} local {theirs.get(key)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
