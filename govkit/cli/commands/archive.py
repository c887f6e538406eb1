"""``govkit archive list|restore``: what retention archived, and bringing it back."""

from __future__ import annotations

from pathlib import Path

import click

from govkit.cli import AppContext
from govkit.cli.options import emit, output_options, to_json, to_table


@click.group("archive", short_help="Archives retention made: list them, restore one.")
def archive_group() -> None:
    """Rows and files a retention rule with 'action: archive' removed, sealed under the workspace
    key (AES-GCM, purpose 'archive') in .govkit/archives/."""


@archive_group.command("list", short_help="Every archive: run, source, rows per table, status.")
@output_options("table", "json")
@click.pass_obj
def list_command(app: AppContext, fmt: str, output: Path | None) -> None:
    """Archives, newest first, from their manifests (no personal data is read). An archive whose
    run has not finished shows 'unfinished'. Exit code 0."""
    from govkit.actions.retention.archive import list_archives

    archives = list_archives(app.workspace().state_dir)
    if fmt == "json":
        emit(to_json({"archives": archives}), output)
        return
    rows = [[a["id"], a.get("created_at", ""), a.get("source", ""), a.get("as_of", ""),
             ", ".join(f"{t} {n}" for t, n in (a.get("rows") or {}).items()), len(a.get("segments") or []),
             a.get("status", "")] for a in archives]
    emit(to_table(["archive", "created", "source", "as of", "rows", "segments", "status"], rows, title="Archives")
         if rows else "No archives.\n", output)


@archive_group.command("restore", short_help="Put an archive's rows back (--apply), into the source or --to.")
@click.argument("archive_id", metavar="ARCHIVE")
@click.option("--to", "to", metavar="URL|DIR", help="Restore into this database (tables made when missing) or "
              "folder, not the source the rows came from.")
@click.option("--apply", is_flag=True, help="Insert the rows (default: only show the plan).")
@output_options("table", "json")
@click.pass_obj
def restore_command(app: AppContext, archive_id: str, to: str | None, apply: bool, fmt: str,
                    output: Path | None) -> None:
    """Check the archive (every segment authenticated and matching its digest), count per table
    the rows to insert and those whose key is already taken (a restore never overwrites: any
    such row refuses it), then, with --apply, insert them parents first in a journaled,
    resumable run and read every row back to compare.

    Exit codes: 0 done and verified (or the plan shown); 1 verification failed; 2 bad input,
    refused or a damaged archive.
    """
    from govkit.actions.retention.restore import plan_restore, restore

    workspace = app.workspace()
    plan = plan_restore(workspace, archive_id, to=to)
    result = restore(workspace, archive_id, to=to) if apply else None
    if fmt == "json":
        emit(to_json({"plan": plan.to_dict(), "result": result}), output)
    else:
        rows = [[name, count, plan.conflicts.get(name, 0), "yes" if name in plan.create else ""]
                for name, count in plan.rows.items()] + [[f, 1, plan.conflicts.get(f, 0), ""] for f in plan.files]
        text = to_table(["table or file", "rows", "already there", "create"], rows,
                        title=f"Restore of {archive_id} into {plan.target}")
        for problem in plan.problems:
            text += f"problem: {problem}\n"
        if result is not None:
            text += f"{result['run_id']}: restored {sum(result['rows'].values())} row(s); " \
                    f"verification {result['verification']}\n"
            for problem in result["problems"]:
                text += f"  {problem}\n"
        else:
            text += "This is the plan; run again with --apply to execute it.\n"
        emit(text, output)
    if plan.problems and not apply:
        raise SystemExit(2)
    if result is not None and result["verification"] != "passed":
        raise SystemExit(1)


def register(group: click.Group) -> None:
    group.add_command(archive_group)
