"""``govkit hold``: legal holds on a data subject or an asset (see :mod:`govkit.holds`).

Held rows are never deleted or changed by an erasure or by retention; every hold placed or
released is written to the audit log with the subject's identifiers masked.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from govkit.cli import AppContext
from govkit.cli.options import emit, output_options, to_json, to_table


@click.group("hold", short_help="Legal holds: rows no erasure or retention may touch.")
def hold_group() -> None:
    """Legal holds: data kept whatever the retention rules or an erasure request say.

    \b
      govkit hold add --subject email=ann@example.com --reason "litigation 2026-114"
      govkit hold add --asset Invoice --where "BillingCountry = 'Brazil'" --reason "tax audit" --until 2027-06-30
      govkit hold list [--all]            holds in force (--all: released and expired ones too)
      govkit hold release HOLD-0001 --reason "case closed"

    A subject's identifiers are stored encrypted in .govkit/holds.db and shown masked.
    """


@hold_group.command("add")
@click.option("--subject", help="Hold a data subject's data: identifiers as for 'dsr new', e.g. email=a@example.com.")
@click.option("--asset", help="Hold a table (or file) instead: its name as the inventory shows it.")
@click.option("--source", help="With --asset: only in this source (default: any source).")
@click.option("--where", "where", metavar="PREDICATE",
              help="With --asset: only the rows a policy predicate selects, e.g. \"status = 'disputed'\".")
@click.option("--reason", required=True, help="Why the data must be kept (recorded, personal data in it masked).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day the hold applies (default: until released).")
@output_options("table", "json")
@click.pass_obj
def add_command(app: AppContext, subject: str | None, asset: str | None, source: str | None, where: str | None,
                reason: str, until: datetime | None, fmt: str, output: Path | None) -> None:
    """Place a legal hold on a data subject or on an asset; prints its id."""
    from govkit.actions.dsr.registry import parse_subject
    from govkit.holds import add_hold

    hold = add_hold(app.workspace(), reason=reason, subject=parse_subject(subject) if subject is not None else None,
                    asset=asset, source=source, where=where, until=until.date() if until is not None else None)
    if fmt == "json":
        emit(to_json(hold.to_dict()), output)
    else:
        until_text = f" until {hold.until}" if hold.until else ""
        emit(f"{hold.id}  {hold.target}{until_text}: {hold.reason}\n", output)


@hold_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Released and expired holds too.")
@output_options("table", "json")
@click.pass_obj
def list_command(app: AppContext, show_all: bool, fmt: str, output: Path | None) -> None:
    """The holds in force (identifiers masked)."""
    from govkit.holds import list_holds

    today = date.today()
    holds = list_holds(app.workspace(), include_all=show_all, on=today)
    if fmt == "json":
        emit(to_json({"holds": [h.to_dict(today) for h in holds]}), output)
        return
    if not holds:
        click.echo("no legal holds in force" + ("" if show_all else " ('govkit hold list --all' lists every hold)"),
                   err=True)
        return
    rows = [[h.id, h.status(today), h.target, h.reason, h.until or "", f"{h.created_at:%Y-%m-%d}",
             f"{h.released_at:%Y-%m-%d}: {h.release_reason}" if h.released_at else ""] for h in holds]
    emit(to_table(["hold", "status", "on", "reason", "until", "placed", "released"], rows, title="Legal holds"),
         output)


@hold_group.command("release")
@click.argument("hold_id")
@click.option("--reason", required=True, help="Why the hold ends (recorded, personal data in it masked).")
@output_options("table", "json")
@click.pass_obj
def release_command(app: AppContext, hold_id: str, reason: str, fmt: str, output: Path | None) -> None:
    """Release hold HOLD_ID; it stays listed with --all."""
    from govkit.holds import release_hold

    hold = release_hold(app.workspace(), hold_id, reason=reason)
    if fmt == "json":
        emit(to_json(hold.to_dict()), output)
    else:
        emit(f"{hold.id} released: {hold.release_reason}\n", output)


def register(group: click.Group) -> None:
    group.add_command(hold_group)
