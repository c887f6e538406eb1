"""``govkit scan --engine spark``: a ``--full`` scan whose reading and counting run on Spark.

A target is a Parquet file or folder (a folder of ``*.parquet`` files and dataset folders is
one asset each; a folder of ``part-*`` files, or with ``_SUCCESS``, is one asset), a Delta
table (a folder with ``_delta_log``, when ``delta-spark`` is installed), a table of the
session's catalog (Hive, Unity), or a ``jdbc:`` URL with the tables named by ``--include``.

Per asset, two Spark jobs and a classification task, so that the answer is the one a local
``govkit scan --full`` gives on the same rows:

1. **Count where the data is.** ``mapPartitionsWithIndex`` feeds every partition's rows,
   20,000 at a time, to the same :class:`~govkit.detect.columns.PatternTally` a local full
   scan uses; each partition returns its row count and its counts (hits, score sums, three
   masked examples per entity). Pattern hits are therefore exact over every row.
   (``mapInArrow`` would move rows from the JVM faster, but pyspark requires pandas for it,
   which the ``spark`` extra does not bring.)
2. **The same reservoir.** A local full scan keeps a seeded reservoir (algorithm R, one
   ``randrange`` per row past the first ``sample_size``) for the name, shape and NER
   rules. The driver replays those draws on row numbers only (no data; a few seconds per
   ten million rows), which says which rows the local scan would keep and in which slot;
   a second job picks those rows by ``monotonically_increasing_id`` on the executors.
3. **Classify on one executor.** The picked rows and the partitions' counts (merged in
   partition order, as local batches are merged in batch order) go to one task that calls
   :meth:`~govkit.detect.columns.ColumnClassifier.classify_many`, the local scan's
   function. The driver receives the verdicts: masked evidence, never a raw value.

Rows are in partition order, which for one Parquet file (and a JDBC table read in one
query) is the file's order: the reservoir then equals the local one exactly. A JDBC table
of a million rows or more is read in ranges of an integer column (:mod:`.jdbc`), in
parallel; its rows come range by range, which is the local order where the table's own
order follows that column (a table filled in key order), and otherwise a different, equally
uniform sample. Spark orders the files of a multi-file dataset by size, so there the
reservoir is a different, equally uniform sample (pattern hits stay exact).

The findings, verdict rows and assets go to the inventory and the audit log exactly as a
local scan's do (the audit record names the engine and the master), so every report reads
them alike.
"""

from __future__ import annotations

import bisect
import random
import re
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from govkit import __version__
from govkit.detect.columns import ColumnVerdict, ValueKind, apply_label
from govkit.detect.entities import entity
from govkit.engines.spark import worker
from govkit.engines.spark.jdbc import JdbcSplit, jdbc_loader, jdbc_secrets, redact_jdbc
from govkit.engines.spark.session import spark_error
from govkit.errors import SourceError, UsageError
from govkit.inventory.store import Inventory
from govkit.model.findings import Finding, ScanReport, Skipped
from govkit.scan import Progress, ScanOptions, _verdict_row, record_scan
from govkit.sources.database import selected_by_globs
from govkit.workspace import DetectionSettings, Workspace

#: The column added to find reservoir rows again: (partition << 33) + row in partition.
ROW_ID = "__govkit_row_id"
_PARQUET = (".parquet", ".pq")
#: Tables whose Spark jobs are submitted at once (see :func:`_scan_target`).
TABLES_AT_ONCE = 4


@dataclass(slots=True)
class Asset:
    """One table to scan: its name (the classifier's table name too) and how to read it."""

    name: str
    load: Callable[[Any], Any]
    kind: str = "table"


@dataclass(slots=True)
class Target:
    """What one command-line target resolved to."""

    display: str
    kind: str  # "files" (a path) or "database" (catalog tables, JDBC)
    assets: list[Asset] = field(default_factory=list)
    #: what must never appear in a message: the JDBC URL as given, its password
    secrets: tuple[str, ...] = ()


def _is_dataset(folder: Path) -> bool:
    """A folder Spark or Hive wrote as one table: part files, or a _SUCCESS marker."""
    return (folder / "_SUCCESS").exists() or any(p.name.startswith("part-") for p in folder.iterdir())


def _holds_parquet(folder: Path) -> bool:
    return any(p.suffix.lower() in _PARQUET for p in folder.rglob("*"))


def _parquet(path: Path) -> Callable[[Any], Any]:
    return lambda spark: spark.read.parquet(str(path))


def _delta(location: Path | str) -> Callable[[Any], Any]:
    def load(spark: Any) -> Any:
        from govkit.engines.spark.delta import read_delta

        return read_delta(spark, str(location))

    return load


def path_assets(path: Path, include: Sequence[str], exclude: Sequence[str]) -> list[Asset]:
    """The assets under a path (see the module docstring), filtered by the globs."""
    if path.is_file():
        if path.suffix.lower() not in _PARQUET:
            raise UsageError(f"{path}: --engine spark reads Parquet (.parquet) and Delta; "
                             "scan other files without --engine spark")
        return [Asset(path.stem, _parquet(path), "file")]
    if (path / "_delta_log").is_dir():
        return [Asset(path.name, _delta(path), "delta")]
    if _is_dataset(path):
        return [Asset(path.name, _parquet(path), "dataset")]
    assets = []
    for child in sorted(path.iterdir()):
        if child.is_file() and child.suffix.lower() in _PARQUET:
            assets.append(Asset(child.stem, _parquet(child), "file"))
        elif child.is_dir() and (child / "_delta_log").is_dir():
            assets.append(Asset(child.name, _delta(child), "delta"))
        elif child.is_dir() and not child.name.startswith((".", "_")) and _holds_parquet(child):
            assets.append(Asset(child.name, _parquet(child), "dataset"))
    return [a for a in assets if selected_by_globs(a.name, include, exclude, a.name)]


def resolve(spark: Any, workspace: Workspace | None, target: str, include: Sequence[str],
            exclude: Sequence[str], split: JdbcSplit | None = None) -> Target:
    """A command-line target as assets: a path, a JDBC URL (its large tables read as ``split``
    says, :mod:`.jdbc`), or a catalog table."""
    if workspace is not None and target in workspace.sources:
        config = workspace.sources[target]
        if config.path is None:
            raise UsageError(f"source {target!r} is a database URL: give --engine spark a Parquet path, "
                             "a catalog table or a jdbc: URL")
        path = Path(config.path)
        target = str(path if path.is_absolute() or config.root is None else config.root / path)
    if target.startswith("jdbc:"):
        if not include:
            raise UsageError(f"{redact_jdbc(target)}: name the tables to read with --include TABLE")
        if any(ch in name for name in include for ch in "*?["):
            raise UsageError("--include with a jdbc: URL names tables exactly (no globs)")
        assets = [Asset(name, jdbc_loader(target, name, split), "jdbc") for name in include]
        return Target(redact_jdbc(target), "database", assets, secrets=jdbc_secrets(target))
    if re.match(r"^(?:file|hdfs|s3a?|s3n|gs|abfss?|wasbs?|dbfs|viewfs):", target):
        return Target(target, "files", [remote_asset(spark, target)])
    path = Path(target)
    if path.exists():
        resolved = path.resolve()
        assets = path_assets(resolved, include, exclude)
        if not assets:
            raise UsageError(f"{target}: no Parquet file or Delta table here")
        return Target(str(resolved), "files", assets)
    if "://" not in target and re.fullmatch(r"[\w.`-]+", target) and spark.catalog.tableExists(target):
        return Target(f"spark:{target}", "database", [Asset(target, lambda spark: spark.table(target))])
    raise UsageError(f"{target!r} is not a Parquet file or folder, a Delta table, a table of the Spark "
                     "catalog, or a jdbc: URL")


def remote_asset(spark: Any, uri: str) -> Asset:
    """A path on a file system Spark reaches (HDFS, S3, ABFS, DBFS, ``file:``) as one table:
    Delta when it holds ``_delta_log``, else Parquet (a file or a dataset folder). Listed
    through Hadoop's FileSystem, so it reads wherever the cluster's configuration reaches."""
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(uri.rstrip("/"))
    try:
        fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        exists = fs.exists(hadoop_path)
        delta = exists and fs.exists(jvm.org.apache.hadoop.fs.Path(uri.rstrip("/") + "/_delta_log"))
    except Exception as exc:  # a Java error: its own message
        raise UsageError(f"{uri}: cannot be listed: {spark_error(exc)}") from None
    if not exists:
        raise UsageError(f"{uri}: no such file or folder")
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    for suffix in (*_PARQUET, ".delta"):
        name = name.removesuffix(suffix)
    if delta:
        return Asset(name, _delta(uri), "delta")
    return Asset(name, lambda spark: spark.read.parquet(uri), "dataset")


def spark_kind(data_type: Any) -> ValueKind:
    """Spark's type as the classifier's coarse kind (what ``kind_of`` says of SQL types)."""
    from pyspark.sql import types as t

    checks: list[tuple[type, ValueKind]] = [
        (t.BooleanType, "boolean"), (t.BinaryType, "binary"), (t.IntegralType, "integer"),
        (t.FractionalType, "number"), (t.TimestampType, "datetime"), (t.TimestampNTZType, "datetime"),
        (t.DateType, "date"), (t.StringType, "text"),
    ]
    for cls, kind in checks:
        if isinstance(data_type, cls):
            return kind
    return "other"


def reservoir_rows(total: int, size: int, seed: int) -> list[int]:
    """The row numbers a local ``--full`` scan keeps in its reservoir, slot by slot.

    The same draws as :func:`govkit.scan._full_read` (``random.Random(seed)``, one
    ``randrange(seen)`` per row after the first ``size``), replayed on row numbers only.
    """
    rng = random.Random(seed)
    # randrange(n) for n > 0 is exactly _randbelow(n) after its argument checks; calling it
    # directly halves the replay's time (the test compares the two on the same draws)
    randrange = rng._randbelow  # type: ignore[attr-defined]
    slots = list(range(min(total, size)))
    for seen in range(size + 1, total + 1):
        slot = randrange(seen)
        if slot < size:
            slots[slot] = seen - 1
    return slots


@dataclass(slots=True)
class TableScan:
    """One asset scanned: its verdicts, rows, and the partitions it took."""

    verdicts: list[ColumnVerdict]
    rows: int
    partitions: int
    #: seconds: counting (job 1), replaying the reservoir (driver), picking and classifying
    timings: dict[str, float] = field(default_factory=dict)
    #: per executor Python process that counted partitions, how many times it loaded the engine
    engines: dict[int, int] = field(default_factory=dict)


def scan_table(spark: Any, name: str, frame: Any, settings: DetectionSettings, options: ScanOptions) -> TableScan:
    """Classify one DataFrame's columns as a local ``--full`` scan classifies a table's."""
    from pyspark.sql import functions as F

    size = options.sample_size or settings.sample_size
    seed = settings.seed if options.seed is None else options.seed
    fields = frame.schema.fields
    readable: list[tuple[str, ValueKind]] = [(f.name, spark_kind(f.dataType)) for f in fields
                                             if spark_kind(f.dataType) != "binary"]
    config: worker.Settings = (settings.model, settings.language, settings.min_confidence, settings.ner_sample)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    keyed = frame.select(*[F.col(f"`{n}`") for n, _ in readable], F.monotonically_increasing_id().alias(ROW_ID))
    counts: list[worker.PartitionCounts] = keyed.rdd.mapPartitionsWithIndex(partial(
        worker.tally_partition, table=name, columns=readable, settings=config, batch_size=options.batch_size,
    )).collect()
    counts.sort(key=lambda c: c.index)
    timings["count"] = time.perf_counter() - clock
    clock = time.perf_counter()
    offsets, total = [], 0
    for part in counts:
        offsets.append(total)
        total += part.rows
    chosen = reservoir_rows(total, size, seed)
    wanted: dict[int, int] = {}
    for slot, row in enumerate(chosen):
        partition = bisect.bisect_right(offsets, row) - 1
        wanted[(counts[partition].index << 33) + row - offsets[partition]] = slot
    timings["reservoir"] = time.perf_counter() - clock
    clock = time.perf_counter()
    deltas = [[part.deltas[position] for part in counts] for position in range(len(readable))]
    # The reservoir rows are found by a filter in the JVM and gathered into one partition by
    # a JVM shuffle (a few hundred rows), so the Python side of this step is one task.
    source = (keyed.filter(F.col(ROW_ID).isin(list(wanted))).repartition(1).rdd if wanted
              else spark.sparkContext.parallelize([], 1))
    results = source.mapPartitions(partial(
        _classify_merged, table=name, columns=readable, settings=config, deltas=deltas, wanted=wanted,
    )).collect()
    timings["classify"] = time.perf_counter() - clock
    if len(results) != 1:  # never "no personal data" for a table that was not classified
        raise SourceError(f"{name}: the classification task returned {len(results)} results instead of one")
    verdicts: list[ColumnVerdict] = results[0]
    method = f"every row read; names and shapes judged on a {size}-row reservoir sample"
    for verdict in verdicts:
        verdict.profile["sampling"] = method
    for f in fields:
        if spark_kind(f.dataType) == "binary":
            verdicts.append(ColumnVerdict(name, f.name, "binary", 0, [], "skipped", "binary column: not scanned",
                                          skipped="binary column: not scanned"))
    return TableScan(verdicts, total, len(counts), timings, {c.pid: c.engines for c in counts})


def _classify_merged(
    picked: Any, table: str, columns: Sequence[tuple[str, ValueKind]], settings: worker.Settings,
    deltas: Sequence[Sequence[worker.Delta]], wanted: dict[int, int],
) -> Any:
    """On the executor: place the picked rows in their reservoir slots, merge each column's
    partition counts in order, then classify."""
    width = len(columns)
    rows = [(wanted[row[width]], tuple(row[:width])) for row in picked]
    if len(rows) != len(wanted):
        raise RuntimeError(f"govkit: the reservoir rows changed between two reads of {table} "
                           f"({len(rows)} of {len(wanted)} found): is the data being written to?")
    judge = worker.classifier(settings)
    merged = []
    for (name, kind), parts in zip(columns, deltas, strict=True):
        tally = judge.pattern_tally(table, name, kind)
        for delta in parts:
            tally.merge(*delta)
        merged.append(tally.take())
    return worker.classify_partition(rows, table, columns, settings, merged)


# -- the scan -------------------------------------------------------------------------------------


def spark_scan(
    workspace: Workspace | None,
    targets: Sequence[str],
    options: ScanOptions,
    *,
    master: str | None = None,
    jars: str | None = None,
    split: JdbcSplit | None = None,
    inventory: Inventory | None = None,
    progress: Progress | None = None,
) -> ScanReport:
    """``govkit scan --engine spark``: scan, record in the inventory, audit (engine named);
    ``split``: how large JDBC tables are read (``--split-column``, ``--rows-per-partition``)."""
    from govkit.audit import audit_action
    from govkit.engines.spark.session import spark_session

    if not targets:
        if workspace is None or not any(c.path for c in workspace.sources.values()):
            raise UsageError("nothing to scan: name a Parquet path, a catalog table or a jdbc: URL")
        targets = [name for name, c in workspace.sources.items() if c.path]
    if split is not None:
        split.check(targets, options.include)  # before a session: a usage error costs no JVM
    spark = spark_session(master, jars=jars)
    if workspace is None:
        return _scan(spark, None, targets, options, inventory, progress, split)
    params = {"targets": [redact_jdbc(t) for t in targets], "mode": "full", "engine": "spark",
              "master": spark.sparkContext.master,
              "sample_size": options.sample_size or workspace.detection.sample_size}
    if split is not None:
        params["jdbc_split"] = split.to_dict()
    with audit_action(workspace.state_dir, "scan", params) as entry:
        report = _scan(spark, workspace, targets, options, inventory, progress, split)
        record_scan(entry, report)
    return report


def _scan(spark: Any, workspace: Workspace | None, targets: Sequence[str], options: ScanOptions,
          inventory: Inventory | None, progress: Progress | None, split: JdbcSplit | None = None) -> ScanReport:
    settings = workspace.detection if workspace else DetectionSettings()
    clock = time.perf_counter()
    started = datetime.now(UTC)
    scan_id = str(uuid.uuid4())
    if inventory is None and workspace is not None:
        inventory = Inventory(workspace.inventory_path)
    report = ScanReport(__version__, scan_id, _iso(started), "")
    resolved = [resolve(spark, workspace, t, options.include, options.exclude, split) for t in targets]
    if inventory is not None:
        inventory.begin_scan(scan_id, started.replace(tzinfo=None), "full")
    failed = 0
    status = "failed"
    try:
        for name, target in zip(targets, resolved, strict=True):
            try:
                _scan_target(spark, name if workspace and name in workspace.sources else None, target, options,
                             settings, report, inventory, scan_id, progress)
            except SourceError as exc:
                failed += 1
                report.skipped.append(Skipped(asset="*", reason=str(exc), source=target.display))
        status = "ok" if not failed else "failed" if failed == len(resolved) else "partial"
    finally:
        report.stats.elapsed_s = time.perf_counter() - clock
        report.finished_at = _iso(datetime.now(UTC))
        if inventory is not None:
            inventory.finish_scan(scan_id, stats=report.stats.to_dict(),
                                  skipped=[s.to_dict() for s in report.skipped], status=status)
    if resolved and failed == len(resolved):
        raise SourceError("; ".join(s.reason for s in report.skipped if s.asset == "*"))
    return report


def _scan_target(spark: Any, source_name: str | None, target: Target, options: ScanOptions,
                 settings: DetectionSettings, report: ScanReport, inventory: Inventory | None, scan_id: str,
                 progress: Progress | None) -> None:
    if progress:
        progress("source", target.display)
        progress("tables", len(target.assets))
    report.sources.append(target.display)
    if inventory is not None:
        inventory.follow_source(source_name, target.display)
    labels = inventory.labels(target.display) if inventory else {}
    assets: list[dict[str, Any]] = []
    verdict_rows: list[dict[str, Any]] = []
    findings: list[Finding] = []
    def run(asset: Asset) -> tuple[Any, TableScan]:
        frame = asset.load(spark)
        return frame, scan_table(spark, asset.name, frame, settings, options)

    # Tables are submitted from a few threads at once: Spark runs their jobs side by side, so
    # a small table's job latency hides behind another's work (results are taken in order).
    with ThreadPoolExecutor(max_workers=max(1, min(TABLES_AT_ONCE, len(target.assets)))) as pool:
        futures = [(asset, pool.submit(run, asset)) for asset in target.assets]
        for asset, future in futures:
            if progress:
                progress("table", asset.name)
            try:
                frame, scanned = future.result()
            except UsageError:
                raise
            except Exception as exc:  # a Spark error is a Java stack: its own message, secrets masked
                reason = spark_error(exc, target.secrets)
                report.skipped.append(Skipped(asset=asset.name, reason=f"could not be read: {reason}",
                                              source=target.display))
                continue
            _record_table(asset, frame, scanned, target, labels, report, assets, verdict_rows, findings)
    if target.assets and not assets:  # nothing could be read: a failed source, not "no personal data"
        reasons = sorted({s.reason for s in report.skipped if s.source == target.display})
        raise SourceError(f"{target.display}: no table could be read ({'; '.join(reasons)[:300]})")
    report.details.extend(verdict_rows)
    if inventory is not None:
        findings.extend(inventory.record_source(
            scan_id, display=target.display, name=source_name, kind=target.kind, dialect="spark",
            assets=assets, verdicts=verdict_rows, findings=findings,
        ))
    report.findings.extend(findings)


def _record_table(asset: Asset, frame: Any, scanned: TableScan, target: Target, labels: dict[Any, Any],
                  report: ScanReport, assets: list[dict[str, Any]], verdict_rows: list[dict[str, Any]],
                  findings: list[Finding]) -> None:
    """One scanned table into the report's counts, verdict rows and findings (labels applied)."""
    report.stats.assets += 1
    readable = [v for v in scanned.verdicts if v.kind != "binary"]
    report.stats.fields += len(readable)
    report.stats.values_analyzed += scanned.rows * len(readable)
    assets.append(_asset_dict(asset, frame, scanned.rows))
    for verdict in scanned.verdicts:
        label = labels.get((target.display, asset.name, verdict.column))
        if label is not None:
            apply_label(verdict, label.entity_type, label.note)
        if verdict.skipped:
            report.skipped.append(Skipped(asset.name, verdict.skipped, verdict.column, target.display))
        verdict_rows.append(_verdict_row(asset.name, verdict))
        for ev in verdict.entities:
            findings.append(Finding(
                source=target.display, asset=asset.name, field=verdict.column, entity_type=ev.entity_type,
                confidence=ev.confidence, hits=ev.hits, sampled=ev.of or verdict.sampled,
                evidence=ev.evidence, decided_by=ev.rule, severity=entity(ev.entity_type).severity.name,
            ))


def _asset_dict(asset: Asset, frame: Any, rows: int) -> dict[str, Any]:
    """The asset as the inventory records it: a table, also when it is a Parquet file (its
    name is not a file name, and file retention must never act on it)."""
    return {
        "name": asset.name, "kind": "table", "row_estimate": rows,
        "primary_key": [], "foreign_keys": [], "indexes": [],
        "fields": [{"name": f.name, "sql_type": f.dataType.simpleString(), "kind": spark_kind(f.dataType),
                    "nullable": f.nullable, "primary_key": False} for f in frame.schema.fields],
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
