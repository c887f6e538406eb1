"""``govkit retention plan``: per rule, the rows past their period, counted in the sources."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from govkit.cli import AppContext
from govkit.cli.options import emit, output_options, to_json, to_table


@click.group("retention", short_help="Retention: what each rule would delete, anonymize or archive.")
def retention_group() -> None:
    """Storage limitation (GDPR art. 5(1)(e), PIPL art. 19, CCPA 1798.100(a)(3)): the policy's
    retention rules, applied to what the inventory holds."""


@retention_group.command("plan", short_help="Rows past retention per rule, counted; nothing is changed.")
@click.option("--source", metavar="NAME", help="Only this source.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="Judge the periods as of this date (default: now).")
@output_options("table", "json")
@click.pass_obj
def plan_command(app: AppContext, source: str | None, as_of: datetime | None, fmt: str, output: Path | None) -> None:
    """For each asset holding personal data: the retention rule that applies (file:line), its
    action, the cutoff, the rows past it (one COUNT per table, no row read), the oldest of
    them, the rows the rule's exceptions and legal holds keep, and the rows of child tables
    that reference the expiring rows. Assets with personal data and no rule are listed with
    the date column to write one on. Nothing is changed: 'retention apply' is the next step.

    Exit codes: 0 ok (whatever is past); 2 bad input; 3 a source could not be counted at all.
    """
    from govkit.actions.retention import plan_retention
    from govkit.audit import audit_action
    from govkit.inventory.store import Inventory
    from govkit.policy.loader import active_policy

    workspace = app.workspace()
    inventory = Inventory(workspace.inventory_path)
    try:
        params = {"source": source, "as_of": as_of.isoformat() if as_of else None}
        with audit_action(workspace.state_dir, "retention.plan", params) as entry:
            plan = plan_retention(workspace, active_policy(workspace.root), inventory, as_of=as_of, source=source)
            totals = plan.to_dict()["totals"]
            entry.counts.update(totals)
    finally:
        inventory.close()
    if fmt == "json":
        emit(to_json(plan.to_dict()), output)
        return
    rows = [[s.source_name or s.source, s.asset, s.rule, s.action, s.cutoff[:10],
             "-" if s.past_rows is None else s.past_rows, s.oldest or "", "" if s.kept_rows is None else s.kept_rows,
             ", ".join(f"{c.asset} ({c.rows})" for c in s.children), s.status + (f": {s.detail}" if s.detail else "")]
            for s in plan.steps]
    headers = ["source", "asset", "rule", "action", "cutoff", "past", "oldest", "kept", "children", "status"]
    text = (to_table(headers, rows, title=f"Retention plan as of {plan.as_of}") if rows
            else "No retention rule selects an asset.\n")
    if plan.unruled:
        text += to_table(["source", "asset", "suggested date column", "why", "date columns"],
                         [[u.source_name or u.source, u.asset, u.suggested or "-", u.why, ", ".join(u.date_columns)]
                          for u in plan.unruled],
                         title="Personal data with no retention rule (not assessed)")
    emit(text, output)


def register(group: click.Group) -> None:
    group.add_command(retention_group)
