"""``govkit scan``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from govkit.cli import EXIT_FINDINGS, EXIT_RUNTIME, AppContext
from govkit.cli.options import (
    FiniteFloatRange,
    check_engine,
    emit,
    engine_options,
    fail_on_option,
    jdbc_split,
    output_options,
    to_json,
    to_table,
)
from govkit.detect.entities import Severity
from govkit.model.findings import ScanReport
from govkit.scan import Progress, ScanOptions, scan
from govkit.workspace import MAX_SAMPLE_SIZE


@click.command("scan")
@click.argument("targets", nargs=-1, metavar="[SOURCE_NAME|URL]...")
@click.option("--sample", "sample_size", type=click.IntRange(min=1, max=MAX_SAMPLE_SIZE), metavar="N",
              help="Rows sampled per table (default: [detection] sample_size, 1000).")
@click.option("--full", is_flag=True, help="Read every row (streamed, bounded memory) instead of a sample.")
@click.option("--seed", type=int, help="Sampling seed (default: [detection] seed).")
@click.option("--include", multiple=True, metavar="GLOB", help="Only tables matching GLOB (repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip tables matching GLOB (repeatable).")
@click.option("--jobs", "-j", type=click.IntRange(min=1, max=64),
              help="Worker processes: files (text files over 16 MB are split between them), and --full "
                   "scans of tables over 200,000 rows (default: one per core; 1: all in this process).")
@click.option("--force", is_flag=True, help="Files: rescan files that did not change since the last scan.")
@click.option("--max-file-mb", type=FiniteFloatRange(min=0.001, max=1024 * 1024), default=100.0, show_default=True,
              help="Files: skip files larger than this.")
@engine_options
@output_options("table", "json", "sarif")
@fail_on_option
@click.pass_obj
def scan_command(
    app: AppContext, targets: tuple[str, ...], sample_size: int | None, full: bool, seed: int | None,
    include: tuple[str, ...], exclude: tuple[str, ...], jobs: int | None, force: bool, max_file_mb: float,
    engine: str, master: str | None, jars: str | None, rows_per_partition: int | None,
    split_column: dict[str, str], fmt: str, output: Path | None, fail_on: str | None,
) -> None:
    """Scan databases, folders and files for personal data; record it in the inventory.

    With no argument, scans every source in govkit.toml. A SOURCE_NAME is a [sources.NAME]
    of the workspace; a URL is any SQLAlchemy database URL (sqlite:///shop.db,
    postgresql://user@host/db, mysql+pymysql://user@host/db); a PATH is a folder or file
    (CSV/TSV, JSON, JSONL, text, logs, Markdown, xlsx, Parquet, and .gz of these). Outside
    a workspace URLs and paths are scanned without being recorded.

    A progress bar goes to stderr, the result to stdout. JSON output follows the findings
    contract (docs/findings-contract.md); SARIF 2.1.0 is for code-scanning views.

    With --engine spark, a PATH of Parquet (or Delta), a table of the Spark catalog or a
    jdbc: URL is scanned on Apache Spark, every row read like --full (docs/spark.md); a
    JDBC table of --rows-per-partition rows or more is read in ranges of an integer column
    (--split-column TABLE=COLUMN names it), in parallel.

    \b
    Exit codes: 0 ok; 1 a finding at or above --fail-on; 2 bad input;
    3 a source could not be scanned at all.
    """
    check_engine(engine, master, jars)
    split = jdbc_split(engine, split_column, rows_per_partition)
    on_spark = engine == "spark"
    needs_workspace = not targets or (not on_spark and any("://" not in t and not Path(t).exists() for t in targets))
    workspace = app.workspace(required=needs_workspace)
    options = ScanOptions(sample_size=sample_size, full=full or on_spark, seed=seed, include=list(include),
                          exclude=list(exclude), jobs=jobs, force=force, max_file_bytes=int(max_file_mb * 1024 * 1024))
    with _progress() as progress:
        if on_spark:
            from govkit.engines.spark.scan import spark_scan

            report = spark_scan(workspace, targets, options, master=master, jars=jars, split=split,
                                progress=progress)
        else:
            report = scan(workspace, targets, options, progress=progress)
    if workspace is None:
        click.echo("govkit: note: no workspace here, so nothing was recorded (see 'govkit init')", err=True)
    if fmt == "sarif":
        from govkit.report.sarif import to_sarif

        emit(to_json(to_sarif(report, report.details)), output)
    else:
        emit(to_json(report.to_dict()) if fmt == "json" else render_summary(report), output)
    if any(s.asset == "*" for s in report.skipped):
        sys.exit(EXIT_RUNTIME)
    if fail_on and any(Severity[f.severity] >= Severity.parse(fail_on) for f in report.findings):
        sys.exit(EXIT_FINDINGS)


def render_summary(report: ScanReport) -> str:
    """The human summary: personal fields per asset, then what was skipped."""
    rows = [
        (f.asset, f.field or "", f.entity_type, f.severity, f.confidence, f"{f.hits}/{f.sampled}",
         ", ".join(f.evidence[:2]))
        for f in sorted(report.findings, key=lambda f: (f.source, f.asset, f.field or ""))
    ]
    parts = []
    if rows:
        parts.append(to_table(["asset", "field", "entity", "severity", "conf.", "hits", "evidence (masked)"],
                              rows, title="Personal data found"))
    else:
        parts.append("No personal data found.\n")
    if report.skipped:
        parts.append(to_table(["asset", "field", "reason"],
                              [(s.asset, s.field or "", s.reason) for s in report.skipped], title="Skipped"))
    fields = len({(f.source, f.asset, f.field) for f in report.findings})
    stats = report.stats
    unchanged = sum(1 for s in report.skipped if s.reason == "unchanged since last scan")
    carried = f"; {unchanged} unchanged files kept their findings from the last scan" if unchanged else ""
    parts.append(
        f"{fields} personal fields; {stats.assets} assets scanned ({stats.fields} fields, "
        f"{stats.values_analyzed:,} values analysed){carried}; {stats.elapsed_s:.1f}s; scan {report.scan_id}\n"
    )
    return "\n".join(parts)


@contextmanager
def _progress() -> Iterator[Progress | None]:
    """A rich progress bar on stderr when it is a terminal; silent otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
             console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("loading detection engine", total=None)

        def update(event: str, detail: Any) -> None:
            if event == "source":
                bar.update(task, description=f"scanning {detail}", completed=0, total=None)
            elif event == "tables":
                bar.update(task, total=detail)
            elif event == "table":
                bar.update(task, description=f"{detail}", advance=1)

        yield update


def register(group: click.Group) -> None:
    group.add_command(scan_command)
