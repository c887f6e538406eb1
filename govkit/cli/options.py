"""Options shared by several commands, as decorators, so every command spells them alike."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from govkit.errors import UsageError

if TYPE_CHECKING:  # the Spark engine is imported only when --engine spark is given
    from govkit.engines.spark.jdbc import JdbcSplit

F = TypeVar("F", bound=Callable[..., Any])


def output_options(*formats: str, default: str = "table") -> Callable[[F], F]:
    """``--format`` (one of ``formats``) and ``--output FILE``."""

    def decorate(func: F) -> F:
        func = click.option(
            "--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
            help="Write to FILE instead of standard output.",
        )(func)
        return format_option(*formats, default=default)(func)

    return decorate


def format_option(*formats: str, default: str | None = "table", help: str = "Output format.") -> Callable[[F], F]:
    """``--format``/``-f``: every command spells its output format so, and notes it, so that
    an error is also printed as a JSON object when the output was to be JSON."""
    from govkit.cli import remember_format

    return click.option(
        "--format", "-f", "fmt", type=click.Choice(formats), default=default, show_default=default is not None,
        callback=remember_format, help=help,
    )


def fail_on_option(func: F) -> F:
    return click.option(
        "--fail-on", type=click.Choice(["LOW", "MEDIUM", "HIGH"], case_sensitive=False),
        help="Exit with code 1 when a finding of this severity or higher is found.",
    )(func)


def engine_options(func: F) -> F:
    """``--engine local|spark``, ``--master URL`` and ``--jars PATHS``: where a scan or an export
    runs (docs/spark.md); ``--split-column`` and ``--rows-per-partition``: how Spark splits a
    large JDBC table. Every command that can run on Spark spells them alike."""
    func = click.option(
        "--split-column", "split_column", multiple=True, metavar="TABLE=COLUMN", callback=_table_columns,
        help="With --engine spark and a jdbc: URL: read TABLE in ranges of this integer COLUMN (repeatable; "
             "default: its id or first integer column).",
    )(func)
    func = click.option(
        "--rows-per-partition", type=click.IntRange(min=1), metavar="N",
        help="With --engine spark and a jdbc: URL: split tables of N rows or more into ranges of about "
             "N rows, read in parallel (default: 1,000,000).",
    )(func)
    func = click.option(
        "--jars", metavar="PATHS",
        help="With --engine spark: jars for Spark's classpath, comma-separated (a JDBC driver).",
    )(func)
    func = click.option(
        "--master", metavar="URL", envvar="SPARK_MASTER", show_envvar=True,
        help="With --engine spark: the Spark master (default: spark-submit's, else local[2]).",
    )(func)
    return click.option(
        "--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
        help="Run here (local) or on Apache Spark (needs pip install 'govkit[spark]' and Java 17+).",
    )(func)


def check_engine(engine: str, master: str | None, jars: str | None = None) -> None:
    """``--master`` and ``--jars`` mean something only with ``--engine spark``."""
    if jars and engine != "spark":
        raise UsageError("--jars goes with --engine spark")
    if master and engine != "spark":
        import os

        if os.environ.get("SPARK_MASTER") != master:  # the environment variable alone is no request
            raise UsageError("--master goes with --engine spark")


def _table_columns(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> dict[str, str]:
    """``TABLE=COLUMN`` pairs as a mapping; each table at most once."""
    columns: dict[str, str] = {}
    for pair in value:
        table, _, column = pair.partition("=")
        if not table.strip() or not column.strip():
            raise click.BadParameter(f"{pair!r}: give TABLE=COLUMN", ctx, param)
        if table.strip() in columns:
            raise click.BadParameter(f"{table.strip()!r} is given twice", ctx, param)
        columns[table.strip()] = column.strip()
    return columns


def jdbc_split(engine: str, split_column: Mapping[str, str], rows_per_partition: int | None) -> JdbcSplit | None:
    """The :class:`~govkit.engines.spark.jdbc.JdbcSplit` the options ask for, or None when
    they ask nothing (the engine's defaults)."""
    if not split_column and rows_per_partition is None:
        return None
    if engine != "spark":
        raise UsageError("--split-column and --rows-per-partition go with --engine spark")
    from govkit.engines.spark.jdbc import JDBC_ROWS_PER_PARTITION, JdbcSplit

    return JdbcSplit(rows_per_partition or JDBC_ROWS_PER_PARTITION, dict(split_column))


class FiniteFloatRange(click.FloatRange):
    """click's FloatRange without ``nan`` and ``inf``, which compare as inside any range."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def emit(text: str, output: Path | None, *, private: bool = False) -> None:
    """Write a rendered result to ``output`` or stdout; ``private``: 0600 in a 0700 folder."""
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    text = text if text.endswith("\n") else text + "\n"
    try:
        if private:
            from govkit.private import private_dir, write_private

            private_dir(output.parent)
            write_private(output, click.unstyle(text))
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(click.unstyle(text), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--output {output}: cannot write there ({exc.strerror or type(exc).__name__})") from None
    click.echo(f"wrote {output}", err=True)


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue()


#: How a severity reads in a terminal: the policy's levels, and the detector's.
SEVERITY_STYLES = {"HIGH": "bold red", "MEDIUM": "yellow", "LOW": "dim"}


def terminal_width() -> int:
    """The width tables are laid out for: $COLUMNS if set, else the terminal's, else 100."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if _stdout_is_terminal():
        return shutil.get_terminal_size((100, 24)).columns
    return 100


def use_colour() -> bool:
    """Colour only for a person at a terminal: not when piped or redirected, not with
    NO_COLOR set (https://no-color.org), not on a dumb terminal."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return _stdout_is_terminal()


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def to_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> str:
    """A rich table rendered to text as wide as the terminal (100 columns, or $COLUMNS, when
    not a terminal). Severities (a ``severity`` column's HIGH, MEDIUM, LOW) are coloured when
    stdout is a terminal; piped, redirected or with NO_COLOR set, the text is plain."""
    from rich.console import Console
    from rich.table import Table

    colour = use_colour()
    table = Table(title=title, show_lines=False, header_style="bold" if colour else None)
    for header in headers:
        table.add_column(header, overflow="fold")
    severity_at = {i for i, header in enumerate(headers) if header.lower() == "severity"}
    for row in rows:
        cells = [_cell(v) for v in row]
        styles = [SEVERITY_STYLES.get(cell, "") if i in severity_at and colour else "" for i, cell in enumerate(cells)]
        table.add_row(*[_styled(cell, style) for cell, style in zip(cells, styles, strict=True)])
    console = Console(width=terminal_width(), file=io.StringIO(), force_terminal=colour, no_color=not colour,
                      color_system="standard" if colour else None, highlight=False)
    console.print(table)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return text if colour else click.unstyle(text)


def _styled(cell: str, style: str) -> Any:
    if not style:
        return cell
    from rich.text import Text

    return Text(cell, style=style)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)
