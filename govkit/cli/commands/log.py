"""``govkit log show``, ``govkit log verify`` and ``govkit log export``: the audit log."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from govkit.audit import AuditLog, Record
from govkit.cli import EXIT_FINDINGS, AppContext
from govkit.cli.options import emit, output_options, to_json, to_table
from govkit.errors import UsageError

_RELATIVE = re.compile(r"^(\d{1,6})\s*([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}

since_option = click.option(
    "--since", metavar="DATE",
    help="Only records at or after DATE: 2024-05-01, 2024-05-01T09:30 (UTC unless an offset is given), "
         "or an age such as 7d, 12h, 30m.",
)


@click.group("log", short_help="Show, verify and export the audit log.")
def log_group() -> None:
    """The audit log: what govkit did, when, by whom, and how it ended.

    Each record holds the hash of the one before and is signed with the workspace key, so
    'govkit log verify' finds records that were edited, deleted, reordered or cut off.
    """


@log_group.command("show", short_help="Show the audit records.")
@since_option
@output_options("table", "json")
@click.pass_obj
def show_command(app: AppContext, since: str | None, fmt: str, output: Path | None) -> None:
    """Show the audit records (not verified: use 'govkit log verify' for that)."""
    records = AuditLog(app.workspace().state_dir).records(parse_since(since))
    emit(render_records(records, fmt), output)


@log_group.command("verify", short_help="Check the audit log for tampering (exit 1 if found).")
@click.pass_context
def verify_command(ctx: click.Context) -> None:
    """Check every signature and link, the log's end against its head, and the log against
    the anchors the workspace keeps (dsr.db, inventory.db, .govkit/anchors/, change runs).

    Exit 0 when the log is intact, 1 when it was tampered with (each problem on one line:
    seq and kind, or which store saw records the log no longer has), 2 when the keys needed
    are missing or unusable.
    """
    app: AppContext = ctx.obj
    result = AuditLog(app.workspace().state_dir).verify()
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if result.ok:
        head = f"; head seq {result.head_seq} sha256 {result.head_hash}" if result.head_seq is not None else ""
        anchored = f"; {result.anchors} anchor(s) agree" if result.anchors else ""
        click.echo(f"audit log intact: {result.records} record(s){head}{anchored}")
        return
    for problem in result.problems:
        click.echo(problem)
    click.echo(f"govkit: audit log NOT intact: {len(result.problems)} problem(s) in {result.records} record(s)",
               err=True)
    ctx.exit(EXIT_FINDINGS)


@log_group.command("restart", short_help="Start a new audit log after the old one was moved aside.")
@click.pass_obj
def restart_command(app: AppContext) -> None:
    """Start a new audit log, once the damaged one was investigated and moved aside.

    govkit refuses to add to a damaged log, or to a log that ends before the records the
    workspace's stores saw (anchors), so that the damage stays visible. After investigating,
    move log.jsonl and head.json out of .govkit/audit/ (keep them), then run this: record 1
    of the new log, 'log.restart', names every anchor it supersedes, signed and attributed,
    and 'govkit log verify' accepts exactly those as belonging to the previous log.
    """
    record = AuditLog(app.workspace().state_dir).restart()
    superseded = record.counts.get("anchors", 0)
    click.echo(f"new audit log started: record {record.seq} ({record.action}) supersedes {superseded} anchor(s) "
               f"of the previous log")


@log_group.command("export", short_help="Export the audit records as jsonl or csv.")
@since_option
@output_options("jsonl", "csv", default="jsonl")
@click.pass_obj
def export_command(app: AppContext, since: str | None, fmt: str, output: Path | None) -> None:
    """Export the records: jsonl (the stored lines, byte for byte) or csv (for spreadsheets)."""
    text = AuditLog(app.workspace().state_dir).export(fmt, parse_since(since))
    if text or output is not None:
        emit(text, output)


def parse_since(text: str | None, now: datetime | None = None) -> datetime | None:
    """``--since``: an ISO date or date-time (UTC unless it has an offset), or an age (7d, 12h, 30m)."""
    if text is None:
        return None
    value = text.strip()
    relative = _RELATIVE.match(value)
    if relative:
        amount = timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
        try:
            return (now or datetime.now(UTC)) - amount
        except OverflowError:  # an age reaching before the year 1: every record
            return datetime.min.replace(tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since: {text!r} is not a date (2024-05-01), date-time (2024-05-01T09:30) "
                         f"or age (7d, 12h, 30m)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def render_records(records: list[Record], fmt: str) -> str:
    if fmt == "json":
        return to_json({"records": [r.to_dict() for r in records]})
    if not records:
        return "The audit log has no records yet.\n"
    rows = [
        [r.seq, r.time.replace("T", " ")[:19] + "Z", r.actor, r.action,
         r.outcome + (f" ({r.error})" if r.error else ""), _pairs(r.counts), _pairs(r.params)]
        for r in records
    ]
    return to_table(["seq", "time (UTC)", "actor", "action", "outcome", "counts", "params"], rows,
                    title="Audit log")


def _pairs(data: Mapping[str, object]) -> str:
    return ", ".join(f"{key}={_compact(value)}" for key, value in data.items())


def _compact(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def register(group: click.Group) -> None:
    group.add_command(log_group)
