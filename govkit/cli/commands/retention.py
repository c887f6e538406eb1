"""``govkit retention plan|apply``: per rule, the rows past their period, counted; then removed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from govkit.cli import AppContext
from govkit.cli.options import emit, output_options, to_json, to_table


@click.group("retention", short_help="Retention: plan, then delete, anonymize or archive what is past its time.")
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


@retention_group.command("apply", short_help="Delete, anonymize or archive what is past retention (--apply).")
@click.option("--source", metavar="NAME", help="Only this source.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="Judge the periods as of this date (default: now); fixed in the stored plan.")
@click.option("--apply", is_flag=True, help="Execute the plan (default: only show it).")
@click.option("--batch-size", type=click.IntRange(1, 1_000_000), default=5000, show_default=True,
              help="Rows per unit (one transaction, one journal entry).")
@output_options("table", "json")
@click.pass_obj
def apply_command(app: AppContext, source: str | None, as_of: datetime | None, apply: bool, batch_size: int,
                  fmt: str, output: Path | None) -> None:
    """The retention plan as a change: per rule and table, the expiring rows to delete, anonymize
    (the policy's operators) or archive (sealed under the workspace key, read back, then
    deleted); child tables first, or cascaded where the rule says 'cascade'; rows under legal
    hold or kept by exceptions untouched. Without --apply nothing changes. With --apply: a
    journaled run per source (see 'govkit runs'), resumable after a crash, verified by counting
    again.

    Exit codes: 0 done and verified (or the plan shown); 1 verification failed or incomplete;
    2 bad input or refused (a child table with no rule and no cascade); 3 a source failed.
    """
    from govkit.actions.retention.apply import apply_plan, plan_apply
    from govkit.audit import audit_action
    from govkit.inventory.store import Inventory
    from govkit.policy.loader import active_policy

    workspace = app.workspace()
    inventory = Inventory(workspace.inventory_path)
    try:
        if apply:  # a plan over a half-done run's data would describe a half-changed state
            from govkit.change.run import ensure_free

            for display in dict.fromkeys(a.source for a in inventory.assets()
                                         if source in (None, a.source_name, a.source)):
                ensure_free(workspace.state_dir, display, [display])
        params = {"source": source, "as_of": as_of.isoformat() if as_of else None}
        with audit_action(workspace.state_dir, "retention.apply-plan", params) as entry:
            plan = plan_apply(workspace, active_policy(workspace.root), inventory, as_of=as_of, source=source)
            entry.counts.update(plan.to_dict()["totals"])
    finally:
        inventory.close()
    results = apply_plan(workspace, plan, batch_size=batch_size) if apply else []
    failed = any(r.status != "finished" for r in results)
    if fmt == "json":
        emit(to_json({**plan.to_dict(), "applied": apply, "runs": [r.to_dict() for r in results]}), output)
        if failed:
            raise SystemExit(1)
        return
    rows = [[s.source_name or s.source, s.asset, s.rule, s.action, s.cutoff[:10], s.rows, s.held_rows,
             s.blocked_rows, ", ".join(f"{c.table} ({c.mode}, {c.rows if c.rows is not None else '?'})"
                                       for c in s.children if c.rows),
             s.status + (f": {s.detail}" if s.detail else "")] for s in plan.steps]
    rows += [[f.source_name or f.source, f.asset, f.rule, f.action, f.cutoff[:10], 1 if f.status == "apply" else 0,
              "", "", f"dated {f.dated}" if f.dated else "", f.status + (f": {f.detail}" if f.detail else "")]
             for f in plan.files]
    headers = ["source", "asset", "rule", "action", "cutoff", "expiring", "held", "blocked", "children", "status"]
    text = to_table(headers, rows, title=f"Retention {'applied' if apply else 'plan'} as of {plan.as_of}") \
        if rows else "No retention rule selects an asset.\n"
    for refusal in plan.refusals:
        text += f"refused: {refusal}\n"
    for result in results:
        done = ", ".join(f"{s.asset} {s.done}" for s in result.steps) or ", ".join(
            f"{f.asset}" for f in result.file_steps)
        verdict = result.to_dict()["verification"]
        text += f"{result.run_id} on {result.source}: {done}; verification {verdict}"
        text += f"; archive {result.archive}\n" if result.archive else "\n"
        for problem in [*result.problems, *result.unchecked]:
            text += f"  {problem}\n"
    if not apply:
        text += "This is the plan; run again with --apply to execute it.\n"
    emit(text, output)
    if failed:
        raise SystemExit(1)


def register(group: click.Group) -> None:
    group.add_command(retention_group)
