"""``govkit evaluate``."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import click

from govkit.audit import audit_action
from govkit.cli import EXIT_FINDINGS, EXIT_RUNTIME, AppContext
from govkit.cli.options import emit, fail_on_option, output_options, to_json, to_table
from govkit.detect.entities import Severity
from govkit.policy import Evaluation, evaluate_workspace


@click.command("evaluate")
@click.option("--source", help="Only this source (its name in govkit.toml or its redacted URL).")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="Judge retention as of this date (UTC) instead of now.")
@output_options("table", "json")
@fail_on_option
@click.pass_obj
def evaluate_command(app: AppContext, source: str | None, as_of: datetime | None, fmt: str, output: Path | None,
                     fail_on: str | None) -> None:
    """Check the inventory against the policy and list the violations.

    Reads the newest scan from the inventory (run 'govkit scan' first) and the workspace's
    policies/*.yaml (or the shipped baseline). Rows past retention are counted in the
    database with one COUNT(*) per table; no row is read.

    \b
    Kinds: unclassified, forbidden-personal-data, no-anonymization-rule,
    no-retention-rule, bad-retention-rule, past-retention, no-processing-record.
    Exit codes: 0 ok; 1 a violation at or above --fail-on; 2 bad input or policy;
    3 a source could not be queried.
    """
    workspace = app.workspace()
    if source is not None:
        from govkit.cli.commands.inventory import require_source
        from govkit.inventory.store import Inventory

        require_source(Inventory(workspace.inventory_path), source)
    with audit_action(workspace.state_dir, "evaluate", {"source": source or "all", "fail_on": fail_on}) as entry:
        result = evaluate_workspace(workspace, source=source, now=as_of)
        entry.counts.update(violations=len(result.violations), **{
            severity.name.lower(): sum(1 for v in result.violations if v.severity is severity) for severity in Severity
        })
    emit(to_json(result.to_dict()) if fmt == "json" else render(result), output)
    for error in result.errors:
        click.echo(f"govkit: error: {error}", err=True)
    if result.errors:
        sys.exit(EXIT_RUNTIME)
    if fail_on and result.at_or_above(Severity.parse(fail_on)):
        sys.exit(EXIT_FINDINGS)


def render(result: Evaluation) -> str:
    """Violations as a table (most severe first), with the fix for each, then a summary."""
    from rich.markup import escape  # rich reads "[customers]" as markup otherwise

    parts = []
    if result.violations:
        rows = [
            tuple(escape(cell) for cell in (v.severity.name, v.kind, f"{v.asset}.{v.field}" if v.field else v.asset,
                                            v.message, v.fix, v.rule or ""))
            for v in result.violations
        ]
        parts.append(to_table(["severity", "kind", "where", "violation", "fix", "rule"], rows,
                              title="Policy violations"))
    else:
        parts.append("No violations.\n")
    by_severity = Counter(v.severity for v in result.violations)
    counts = ", ".join(f"{by_severity[s]} {s.name.lower()}" for s in sorted(Severity, reverse=True))
    parts.append(
        f"{len(result.violations)} violations ({counts}) in {result.assets} assets with "
        f"{result.personal_fields} personal fields; policy: {', '.join(result.policy_files)}\n"
    )
    return "\n".join(parts)


def register(group: click.Group) -> None:
    group.add_command(evaluate_command)
