"""Options shared by several commands, as decorators, so every command spells them alike."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from govkit.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])


def output_options(*formats: str, default: str = "table") -> Callable[[F], F]:
    """``--format`` (one of ``formats``) and ``--output FILE``."""

    def decorate(func: F) -> F:
        func = click.option(
            "--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
            help="Write to FILE instead of standard output.",
        )(func)
        return click.option(
            "--format", "-f", "fmt", type=click.Choice(formats), default=default, show_default=True,
            help="Output format.",
        )(func)

    return decorate


def fail_on_option(func: F) -> F:
    return click.option(
        "--fail-on", type=click.Choice(["LOW", "MEDIUM", "HIGH"], case_sensitive=False),
        help="Exit with code 1 when a finding of this severity or higher is found.",
    )(func)


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
            write_private(output, text)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
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


def to_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> str:
    """A rich table rendered to plain text (no colour codes when piped)."""
    table = Table(title=title, show_lines=False, header_style="bold")
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*[_cell(v) for v in row])
    console = Console(width=160, record=True, file=io.StringIO(), force_terminal=False)
    console.print(table)
    return console.export_text()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)
