"""``govkit dsr``: data subject requests (register, locate, export, erase, prove).

Every subcommand takes ``--format table|json`` so a ticketing system can drive it; the
subject's identifiers are never printed except by ``dsr show --reveal``.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from govkit.actions import dsr
from govkit.cli import EXIT_FINDINGS, AppContext
from govkit.cli.options import emit, output_options, to_json, to_table
from govkit.errors import UsageError

PASSPHRASE_ENV = "GOVKIT_DSR_PASSPHRASE"


@click.group("dsr", short_help="Data subject requests: register, locate, export, erase, rectify.")
def dsr_group() -> None:
    """Data subject requests under GDPR (art. 15, 17, 20), CCPA and PIPL.

    \b
      govkit dsr new --type access --subject email=a@example.com   register; prints id and due date
      govkit dsr list                    open requests, overdue first
      govkit dsr show ID                 the request's timeline
      govkit dsr locate ID               where the subject's data is (tables and counts, no values)
      govkit dsr export ID --to DIR      the access/portability package (HTML, JSON, CSV, manifest)
      govkit dsr erase ID [--apply]      the erasure plan; --apply executes it and writes a certificate
      govkit dsr rectify ID --set email=NEW [--apply]   correct the subject's data
      govkit dsr close ID [--note TEXT]     mark it answered
      govkit dsr refuse ID --reason TEXT    manifestly unfounded or excessive (GDPR art. 12(5))
      govkit dsr cancel ID --reason TEXT    withdrawn by the subject
      govkit dsr extend ID --by 2months --notified DATE --reason TEXT   more time, with notice (art. 12(3))

    Identifiers are stored encrypted in .govkit/dsr.db and are only shown by 'dsr show --reveal'.
    Every step is written to the audit log.
    """


@dsr_group.command("new")
@click.option("--type", "type_", required=True, type=click.Choice(dsr.REQUEST_TYPES), help="Kind of request.")
@click.option("--subject", required=True,
              help="Identifiers, e.g. email=a@example.com,phone=+55 12 3923-5555,customer_id=3 (stored encrypted).")
@click.option("--regime", type=click.Choice(dsr.REGIMES), default="gdpr", show_default=True,
              help="Law the request is made under; sets the deadline from the policy's dsr.deadlines.")
@click.option("--received", type=click.DateTime(["%Y-%m-%d"]), help="Date received (default: today).")
@output_options("table", "json")
@click.pass_obj
def new_command(app: AppContext, type_: str, subject: str, regime: str, received: object, fmt: str,
                output: Path | None) -> None:
    """Register a request; prints its id and due date."""
    when: date | None = received.date() if received is not None else None  # type: ignore[attr-defined]
    if when is not None and when > date.today():
        raise UsageError(f"--received {when:%Y-%m-%d} is in the future (today is {date.today():%Y-%m-%d})")
    request = dsr.new_request(app.workspace(), type_, dsr.parse_subject(subject), regime=regime, received=when)
    if request.overdue():  # found late in a mailbox: born overdue, and the audit report will say so
        logging.getLogger("govkit.dsr").warning(
            "%s was received on %s and was due on %s: it is already %d day(s) overdue; answer it now, or refuse "
            "it with the reasons", request.id, request.received, request.due, request.days_overdue())
    if fmt == "json":
        emit(to_json(request.to_dict()), output)
    else:
        emit(f"{request.id}  {request.type} ({request.regime}), due {request.due} ({request.deadline})\n", output)


@dsr_group.command("list")
@output_options("table", "json")
@click.pass_obj
def list_command(app: AppContext, fmt: str, output: Path | None) -> None:
    """All requests: open ones first, overdue before the rest, then by due date."""
    registry = dsr.Registry(app.workspace().state_dir)
    try:
        requests = registry.list()
    finally:
        registry.close()
    if fmt == "json":
        emit(to_json({"requests": [r.to_dict() for r in requests]}), output)
        return
    if not requests:
        emit("No requests yet ('govkit dsr new' registers one).\n", output)
        return
    rows = [(r.id, r.type, r.regime, r.status, r.received, r.due, "OVERDUE" if r.overdue() else "") for r in requests]
    emit(to_table(["id", "type", "regime", "status", "received", "due", ""], rows, title="Data subject requests"),
         output)


@dsr_group.command("show")
@click.argument("request_id")
@click.option("--reveal", is_flag=True, help="Also print the subject's identifiers (personal data!).")
@output_options("table", "json")
@click.pass_obj
def show_command(app: AppContext, request_id: str, reveal: bool, fmt: str, output: Path | None) -> None:
    """A request and the timeline of every step taken. Identifiers only with --reveal."""
    registry = dsr.Registry(app.workspace().state_dir)
    try:
        request = registry.get(request_id, reveal=reveal)
    finally:
        registry.close()
    if fmt == "json":
        emit(to_json(request.to_dict(reveal=reveal)), output)
        return
    emit(render_request(request, reveal=reveal), output)


def render_request(request: Any, *, reveal: bool = False) -> str:
    """``dsr show``: the request as labelled lines, then its timeline, one step a row and one
    detail a line (nested values spelled out, never a Python dict)."""
    facts = [
        ("status", request.status + ("  OVERDUE" if request.overdue() else "")),
        ("received", str(request.received)),
        ("due", f"{request.due} ({request.deadline})"),
        ("identifiers", ", ".join(request.subject_keys) or "none"),
    ]
    if reveal and request.subject:
        facts += [(f"  {k}", str(v)) for k, v in request.subject.items()]
    width = max(len(label) for label, _ in facts)
    head = f"{request.id}: {request.type} request under {request.regime.upper()}\n" + "".join(
        f"  {label:<{width}}  {value}\n" for label, value in facts)
    rows = [(e.at, e.step, e.audit_seq or "", _detail_lines(e.detail)) for e in request.events]
    return head + "\n" + to_table(["at", "step", "audit #", "detail"], rows, title="Timeline")


def _detail_lines(detail: dict[str, object]) -> str:
    """An event's detail, one ``key: value`` a line; a mapping's entries indented below it."""
    lines: list[str] = []
    for key, value in detail.items():
        if key == "files":
            continue
        label = key.replace("_", " ")
        if isinstance(value, dict):
            lines.append(f"{label}:" if value else f"{label}: none")
            lines += [f"  {k}: {_entry(v)}" for k, v in value.items()]
        else:
            lines.append(f"{label}: {_plain(value)}")
    return "\n".join(lines)


def _entry(value: object) -> str:
    """A plan or result entry: ``[action, rows]`` reads ``action, N row(s)``."""
    if isinstance(value, list | tuple) and len(value) == 2 and isinstance(value[1], int) \
            and not isinstance(value[1], bool):
        return f"{_plain(value[0])}, {value[1]} row(s)"
    return _plain(value)


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_plain(v)}" for k, v in value.items()) or "none"
    return "" if value is None else str(value)


@dsr_group.command("locate")
@click.argument("request_id")
@output_options("table", "json")
@click.pass_obj
def locate_command(app: AppContext, request_id: str, fmt: str, output: Path | None) -> None:
    """Where the subject's data is: tables and row counts, links and mentions; never values.

    Every source of govkit.toml and every source in the inventory (also those scanned by URL)
    is searched. Whatever could not be searched is named with the reason, and then the result
    is incomplete: exit code 1.
    """
    report = dsr.locate_request(app.workspace(), request_id)
    if fmt == "json":
        emit(to_json({"request_id": request_id, **report.to_dict()}), output)
    else:
        rows = [(h.source_name or h.source, h.asset, h.role, h.rows, "; ".join(h.via)) for h in report.hits]
        where = ", ".join(report.searched) or "no source"
        if rows:
            text = to_table(["source", "table", "role", "rows", "via"], rows, title=f"Data of {request_id}")
        elif report.complete:
            text = f"No data found for {request_id} (searched: {where}).\n"
        else:
            text = f"No data found for {request_id} where it could be searched (searched: {where}).\n"
        for advice in report.advice:
            text += f"advice: {advice.reason}; {advice.statement}\n"
        for gap in report.not_searched:
            text += f"not searched: {gap.label}: {gap.reason}\n"
        if not report.complete:
            text += (f"incomplete: {len(report.not_searched)} source(s), table(s) or file(s) could not be searched; "
                     "the subject may have data there\n")
        emit(text, output)
    if not report.complete:
        sys.exit(EXIT_FINDINGS)


def _passphrase(env: str | None) -> str:
    name = env or PASSPHRASE_ENV
    if name in os.environ:
        if not os.environ[name]:
            raise UsageError(f"{name} is set but empty")
        return os.environ[name]
    if env:
        raise UsageError(f"environment variable {env} is not set")
    return str(click.prompt("Passphrase", hide_input=True, confirmation_prompt=True, err=True))


@dsr_group.command("export")
@click.argument("request_id")
@click.option("--to", "target", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="New (or empty) folder for the package.")
@click.option("--encrypt", is_flag=True,
              help=f"Pack and encrypt into one file (scrypt + AES-GCM); passphrase from ${PASSPHRASE_ENV} or a prompt.")
@click.option("--passphrase-env", metavar="VAR", help="Read the passphrase from this environment variable.")
@output_options("table", "json")
@click.pass_obj
def export_command(app: AppContext, request_id: str, target: Path, encrypt: bool, passphrase_env: str | None,
                   fmt: str, output: Path | None) -> None:
    """Write the access/portability package: report.html, data.json, csv/, manifest.json.

    The package holds the subject's personal data in clear unless --encrypt is given.
    """
    passphrase = _passphrase(passphrase_env) if encrypt else None
    result = dsr.export_request(app.workspace(), request_id, target, passphrase=passphrase)
    if fmt == "json":
        emit(to_json(result.to_dict()), output)
    else:
        where = result.encrypted or result.directory
        emit(f"wrote {where}: {result.rows} row(s) from {result.tables} table(s), {len(result.files)} file(s)\n",
             output)


@dsr_group.command("decrypt")
@click.argument("package", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--to", "target", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to unpack the package into.")
@click.option("--passphrase-env", metavar="VAR", help="Read the passphrase from this environment variable.")
@output_options("table", "json")
def decrypt_command(package: Path, target: Path, passphrase_env: str | None, fmt: str, output: Path | None) -> None:
    """Open an encrypted package (made by 'dsr export --encrypt') into a folder and check its manifest."""
    name = passphrase_env or PASSPHRASE_ENV
    passphrase = os.environ.get(name) or str(click.prompt("Passphrase", hide_input=True, err=True))
    files = dsr.decrypt_package(package, passphrase, target)
    damaged = dsr.verify_manifest(target, package)
    if fmt == "json":
        emit(to_json({"to": str(target), "files": files, "manifest_ok": not damaged, "damaged": damaged}), output)
    else:
        emit(f"opened {len(files)} file(s) into {target}; manifest {'OK' if not damaged else 'MISMATCH'}\n", output)
    if damaged:
        raise UsageError(f"checksums do not match the manifest: {', '.join(damaged)}")


@dsr_group.command("erase")
@click.argument("request_id")
@click.option("--apply", is_flag=True, help="Execute the plan (default: only show it).")
@click.option("--certificate-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the certificate (default: .govkit/dsr/ID/).")
@output_options("table", "json")
@click.pass_obj
def erase_command(app: AppContext, request_id: str, apply: bool, certificate_dir: Path | None, fmt: str,
                  output: Path | None) -> None:
    """Plan the erasure per table (delete, anonymize, retain with legal basis); --apply carries it out.

    With --apply: a journaled run (see 'govkit runs'): one transaction per database in
    foreign-key-safe order and one atomic swap per file; refused if a legal hold covers the
    subject or the request was already erased and verified; then the subject is located
    again in every source and a certificate written (never overwriting an earlier one).
    Exit codes: 0 verified; 1 verification failed or incomplete (a source, table or file
    could not be checked: the certificate names it); 2 bad input or refused.
    """
    result = dsr.erase_request(app.workspace(), request_id, apply=apply, certificate_dir=certificate_dir)
    if fmt == "json":
        emit(to_json(result.to_dict()), output)
        _exit_unverified(result.verification)
        return
    rows = [(s.source_name or s.source, s.asset, s.action, s.rows, "" if s.done is None else s.done,
             s.legal_basis or s.note or s.why) for s in result.plan.steps]
    text = to_table(["source", "table", "action", "rows", "done", "why"], rows,
                    title=f"Erasure {'done' if result.applied else 'plan'} for {request_id}") if rows else (
        f"Nothing to erase for {request_id}.\n")
    for hold in result.plan.holds:
        text += f"legal hold {hold.hold} on {hold.asset}: {hold.reason or ''}\n"
    for step in result.plan.steps:
        kept = step.retention
        if kept:
            obliged = kept["obliged_rows"] if kept["obliged_rows"] is not None else "uncounted (taken as obliged)"
            cite = f"; {', '.join(kept['cite'])}" if kept["cite"] else ""
            text += (f"retention obligation on {step.asset}: rule \"{kept['rule']}\" keeps {obliged} row(s) "
                     f"({kept['timestamp']} on or after {kept['cutoff']}), legal basis: {kept['legal_basis']}{cite}; "
                     f"on_erasure {kept['on_erasure']}, so {step.action}\n")
    if result.verification is not None:
        text += f"verification: {_status(result.verification)}\n"
        for item in result.verification.get("not_checked") or []:
            where = item.get("label") or item.get("asset") or item.get("source")
            text += f"  not checked: {where}: {item.get('reason')}\n"
    if result.certificate:
        text += f"certificate: {result.certificate['html']} and {result.certificate['json']}\n"
    if not apply:
        text += "This is the plan; run again with --apply to execute it.\n"
    emit(text, output)
    _exit_unverified(result.verification)


@dsr_group.command("rectify")
@click.argument("request_id")
@click.option("--set", "assignments", multiple=True, required=True, metavar="FIELD=VALUE",
              help="What to correct: an identifier kind (email, phone, name) or TABLE.COLUMN or "
                   "SOURCE:TABLE.COLUMN, and its new value. Repeat for several fields.")
@click.option("--apply", is_flag=True, help="Update the rows (default: only show the plan).")
@output_options("table", "json")
@click.pass_obj
def rectify_command(app: AppContext, request_id: str, assignments: tuple[str, ...], apply: bool, fmt: str,
                    output: Path | None) -> None:
    """Plan the correction per column (rows to change, never values); --apply carries it out.

    Only for rectification requests. New values are validated against the column's detected
    entity (an e-mail column needs a valid e-mail). With --apply: a journaled run (see
    'govkit runs'), one transaction per database, then the rows are read back and the
    subject located again (new identifiers found, old ones gone), the request's identifiers
    are updated and the request is closed.
    Files holding the subject are listed for correction by hand.
    Exit codes: 0 verified; 1 verification failed; 2 bad input.
    """
    result = dsr.rectify_request(app.workspace(), request_id, list(assignments), apply=apply)
    if fmt == "json":
        emit(to_json(result.to_dict()), output)
        _exit_unverified(result.verification)
        return
    rows = [(s.source_name or s.source, s.asset, s.column, s.entity_type or "", s.rows,
             "" if s.done is None else s.done, s.why) for s in result.plan.steps]
    text = to_table(["source", "table", "column", "entity", "rows", "done", "why"], rows,
                    title=f"Rectification {'done' if result.applied else 'plan'} for {request_id}")
    for manual in result.plan.manual:
        text += f"manual: {manual['source_name']}:{manual['asset']} ({manual['rows']} line(s)): {manual['why']}\n"
    if result.verification is not None:
        text += f"verification: {_status(result.verification)}\n"
    if not apply:
        text += "This is the plan; run again with --apply to execute it.\n"
    emit(text, output)
    _exit_unverified(result.verification)


def _lifecycle_output(request: dsr.Request, what: str, fmt: str, output: Path | None) -> None:
    if fmt == "json":
        emit(to_json(request.to_dict()), output)
    else:
        emit(f"{request.id}  {what}; status {request.status}, due {request.due}\n", output)


@dsr_group.command("close")
@click.argument("request_id")
@click.option("--note", help="What was done (recorded in the timeline and the audit log, personal data masked). "
                             "Required to close a request whose erasure or rectification did not verify.")
@output_options("table", "json")
@click.pass_obj
def close_command(app: AppContext, request_id: str, note: str | None, fmt: str, output: Path | None) -> None:
    """Mark a request answered (status done). Open or unverified requests only; exit 2 otherwise."""
    request = dsr.close_request(app.workspace(), request_id, note=note)
    _lifecycle_output(request, "closed", fmt, output)


@dsr_group.command("refuse")
@click.argument("request_id")
@click.option("--reason", required=True,
              help="Why the request is manifestly unfounded or excessive (GDPR art. 12(5)); tell the subject too.")
@output_options("table", "json")
@click.pass_obj
def refuse_command(app: AppContext, request_id: str, reason: str, fmt: str, output: Path | None) -> None:
    """Refuse an open request, with the reason (GDPR art. 12(4)/(5)). Counts as refused in the audit report."""
    request = dsr.refuse_request(app.workspace(), request_id, reason)
    _lifecycle_output(request, "refused", fmt, output)


@dsr_group.command("cancel")
@click.argument("request_id")
@click.option("--reason", required=True, help="How the subject withdrew the request.")
@output_options("table", "json")
@click.pass_obj
def cancel_command(app: AppContext, request_id: str, reason: str, fmt: str, output: Path | None) -> None:
    """Cancel an open request the subject withdrew; no deadline runs any more."""
    request = dsr.cancel_request(app.workspace(), request_id, reason)
    _lifecycle_output(request, "cancelled", fmt, output)


@dsr_group.command("extend")
@click.argument("request_id")
@click.option("--by", "by", required=True, metavar="PERIOD",
              help="How much longer: 2months, 1 month, 45 days (GDPR at most 2 months in all, CCPA 45 days; "
                   "PIPL none).")
@click.option("--notified", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Date the subject was told of the extension and why (within the current deadline).")
@click.option("--reason", required=True, help="Why more time is needed (complexity, number of requests).")
@output_options("table", "json")
@click.pass_obj
def extend_command(app: AppContext, request_id: str, by: str, notified: Any, reason: str, fmt: str,
                   output: Path | None) -> None:
    """Extend an open request's deadline, with notice to the subject (GDPR art. 12(3), CCPA 1798.130).

    The total extension is capped per regime from the first due date; a second extension may
    use only what the first left. Exit 2 when refused (not open, beyond the cap, notice late).
    """
    request = dsr.extend_request(app.workspace(), request_id, by, reason=reason, notified=notified.date())
    _lifecycle_output(request, "extended", fmt, output)


def _status(verification: dict[str, Any]) -> str:
    """passed, failed or incomplete (something could not be checked: never reported as passed)."""
    return str(verification.get("status") or ("passed" if verification.get("passed") else "failed"))


def _exit_unverified(verification: dict[str, Any] | None) -> None:
    """Exit 1 when an applied change did not verify (failed, or incomplete: not everything checked)."""
    if verification is not None and _status(verification) != "passed":
        raise SystemExit(EXIT_FINDINGS)


def register(group: click.Group) -> None:
    group.add_command(dsr_group)
