"""``govkit risk``."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from govkit.cli import EXIT_FINDINGS, AppContext
from govkit.cli.options import emit, output_options, to_json, to_table


@click.command("risk", short_help="Measure re-identification risk: k-anonymity, l-diversity.")
@click.argument("target")
@click.option("--table", metavar="NAME", help="With a database TARGET: the table to measure.")
@click.option("--quasi-identifiers", "quasi_identifiers", metavar="A,B,C",
              help="Columns an attacker may know from elsewhere (birth date, postcode, gender...). Required.")
@click.option("-q", "quasi_short", metavar="A,B,C", hidden=True,
              help="Deprecated spelling of --quasi-identifiers (-q is --quiet everywhere else).")
@click.option("--sensitive", metavar="COLUMN", help="Also measure l-diversity of this column.")
@click.option("--k", "k", type=click.IntRange(min=1), default=5, show_default=True,
              help="Records in classes smaller than this are at risk.")
@click.option("--fail-on", "fail_on", type=click.Choice(["at-risk"]),
              help="Exit 1 when records are at risk (the data is not k-anonymous).")
@click.option("--fail", is_flag=True, hidden=True, help="Deprecated spelling of --fail-on at-risk.")
@output_options("table", "json")
@click.pass_obj
def risk_command(app: AppContext, target: str, table: str | None, quasi_identifiers: str | None,
                 quasi_short: str | None, sensitive: str | None, k: int, fail_on: str | None, fail: bool, fmt: str,
                 output: Path | None) -> None:
    """Report how re-identifiable TARGET (a CSV/JSONL/Parquet file, or a database with --table) is.

    Rows sharing all quasi-identifier values form an equivalence class; a record in a class
    smaller than k can be singled out by anyone who knows those attributes. The report gives
    k (the smallest class), the distribution of class sizes, the records at risk (by row
    number, never by value) and, with --sensitive, l-diversity (the fewest distinct
    sensitive values in a class). Streams the data: memory grows with the number of
    classes, not rows.
    """
    if quasi_short is not None:
        logging.getLogger("govkit").warning(
            "'risk -q' is deprecated and will mean --quiet, as everywhere else: use --quasi-identifiers")
        quasi_identifiers = quasi_identifiers or quasi_short
    if not quasi_identifiers:
        raise click.UsageError("Missing option '--quasi-identifiers'.")
    fail = fail or fail_on == "at-risk"
    from govkit.actions.risk import file_opener, measure, table_opener

    quasi = [q.strip() for q in quasi_identifiers.split(",") if q.strip()]
    workspace = app.workspace(required=False)
    if "://" in target or (workspace is not None and target in workspace.sources):
        if not table:
            raise click.UsageError("a database TARGET needs --table NAME")
        url = workspace.sources[target].resolved_url() if "://" not in target else target
        if "://" in target:
            from govkit.sources.database import warn_if_password_given

            warn_if_password_given(target)
        opener = table_opener(url, table)
        from govkit.sources.database import redact

        label = f"{redact(target) if '://' in target else target} {table}"  # the label is printed and audited
    else:
        opener = file_opener(Path(target))
        label = target
    report = measure(label, opener, quasi, k=k, sensitive=sensitive)
    emit(to_json(report.to_dict()) if fmt == "json" else render(report), output)
    if fail and not report.k_anonymous:
        sys.exit(EXIT_FINDINGS)


def render(report: object) -> str:
    from govkit.actions.risk import RiskReport

    assert isinstance(report, RiskReport)
    lines = [
        f"{report.target}: {report.rows} rows, {report.classes} equivalence classes over "
        f"{', '.join(report.quasi_identifiers)}",
        f"k = {report.k} ({'k-anonymous' if report.k_anonymous else 'NOT k-anonymous'} for k={report.threshold}); "
        f"{report.records_at_risk} record(s) in {report.classes_at_risk} class(es) smaller than {report.threshold}",
    ]
    if report.sensitive:
        lines.append(f"l-diversity of {report.sensitive}: l = {report.l_diversity} "
                     f"({report.classes_below_l} class(es) with a single value)")
    if report.at_risk_rows:
        shown = ", ".join(str(n) for n in report.at_risk_rows[:20])
        more = f" and {len(report.at_risk_rows) - 20} more" if len(report.at_risk_rows) > 20 else ""
        lines.append(f"rows at risk: {shown}{more}")
    table = to_table(["class size", "classes"], [[size, count] for size, count in report.distribution.items()],
                     title="Equivalence class sizes")
    return "\n".join(lines) + "\n\n" + table


def register(group: click.Group) -> None:
    group.add_command(risk_command)
