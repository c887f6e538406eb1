"""``govkit runs``: the change engine's runs; ``resume`` and ``abandon`` for interrupted ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from govkit.cli import EXIT_FINDINGS, AppContext
from govkit.cli.options import emit, format_option, output_options, to_json, to_table


@click.group("runs", invoke_without_command=True, short_help="List, resume or abandon runs that change data.")
@output_options("table", "json")
@click.option("--all", "show_all", is_flag=True, help="Finished and abandoned runs too.")
@click.pass_context
def runs_group(ctx: click.Context, fmt: str, output: Path | None, show_all: bool) -> None:
    """Runs of the actions that modify data (anonymize --in-place --apply, dsr erase --apply,
    dsr rectify --apply): each plans first, audits "begun", commits in journaled units,
    verifies, and audits "finished".

    \b
    Alone: the unfinished runs (interrupted: the process died, the connection was lost, the
    disk filled). An unfinished run blocks new runs on the same target until it is resumed
    ('govkit runs resume ID': completes it; nothing already committed is applied again) or
    abandoned ('govkit runs abandon ID --reason TEXT': stops it where it is).
    Exit codes: 0 none unfinished; 1 some unfinished (so a cron job notices).
    """
    if ctx.invoked_subcommand is not None:
        return
    from govkit.change.run import list_runs

    app: AppContext = ctx.obj
    runs = list_runs(app.workspace().state_dir)
    open_ = ("running", "interrupted", "damaged")  # damaged: a run folder govkit cannot read
    shown = runs if show_all else [r for r in runs if r.status in open_]
    if fmt == "json":
        emit(to_json({"runs": [r.to_dict() for r in shown]}), output)
    elif not shown:
        click.echo("no unfinished runs" + ("" if show_all else " ('govkit runs --all' lists every run)"), err=True)
    else:
        emit(to_table(["run", "kind", "target", "status", "started", "units done"],
                      [[r.id, r.kind, r.target, r.status, r.started_at, r.units] for r in shown],
                      title="Runs"), output)
    if any(r.status in open_ for r in runs):
        ctx.exit(EXIT_FINDINGS)


@runs_group.command("resume", short_help="Complete an interrupted run.")
@click.argument("run_id")
@format_option("table", "json", default="table")
@click.option("--json", "as_json", is_flag=True, hidden=True, help="Old spelling of --format json.")
@click.pass_obj
def resume_command(app: AppContext, run_id: str, fmt: str, as_json: bool) -> None:
    """Complete the interrupted run RUN_ID from its stored plan: the units not yet committed,
    then verification, the "finished" audit record and (for erasure) the certificate. A unit
    that had committed before the interruption is recognised and never applied twice.
    Exit codes: 0 done and verified; 1 done but verification failed or incomplete."""
    from govkit.actions.anonymize.export import VerificationFailed
    from govkit.change.resume import resume

    try:
        result = resume(app.workspace(), run_id)
    except VerificationFailed as failed:
        click.echo(f"govkit: error: run {run_id} completed, but verification failed: "
                   + "; ".join(failed.result.problems[:5]), err=True)
        raise SystemExit(EXIT_FINDINGS) from None
    data = _summary(result)
    if as_json or fmt == "json":
        emit(to_json({"run": run_id, **data}), None)
    click.echo(f"run {run_id} completed: {data.get('summary', 'done')}", err=True)
    if data.get("status") in ("failed", "incomplete"):
        raise SystemExit(EXIT_FINDINGS)


@runs_group.command("abandon", short_help="Stop an interrupted run where it is.")
@click.argument("run_id")
@click.option("--reason", required=True, help="Why (recorded in the audit log).")
@click.pass_obj
def abandon_command(app: AppContext, run_id: str, reason: str) -> None:
    """Give up RUN_ID: its temporary files are removed and its journal keys shredded; units it
    committed stay committed (the data is partly changed: check it, or restore a backup)."""
    from govkit.change.resume import abandon
    from govkit.detect.notes import mask_note

    workspace = app.workspace()
    # The reason goes into the audit log for good: a value quoted in it is kept masked.
    reason = mask_note(reason, workspace.detection.model, workspace.detection.language).text
    info = abandon(workspace, run_id, reason)
    click.echo(f"run {run_id} abandoned after {info.units} committed unit(s); data those units changed stays "
               "changed", err=True)


def _summary(result: Any) -> dict[str, Any]:
    """What a resumed run ended with, whatever its kind."""
    to_dict = getattr(result, "to_dict", None)
    data: dict[str, Any] = dict(to_dict()) if callable(to_dict) else {}
    verification = data.get("verification")
    if isinstance(verification, dict):
        data["status"] = verification.get("status") or ("passed" if verification.get("passed") else "failed")
    rows = data.get("rows")
    data["summary"] = f"{rows} row(s) rewritten" if isinstance(rows, int) else data.get("status", "done")
    return data


def register(group: click.Group) -> None:
    group.add_command(runs_group)
