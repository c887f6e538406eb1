"""Which code completes an interrupted run of each kind: the registry behind ``govkit runs resume``.

A run kind names the function that executes it from its stored plan (the same function the
first attempt used after ``ChangeRun.begin``), so a resume is the original run continued,
not a second run. Entries are ``module:function`` strings, imported on use, so listing runs
never loads Presidio or spaCy. A new destructive action adds one line here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from govkit.change.run import ChangeRun, RunInfo, list_runs
from govkit.errors import UsageError

#: run kind -> "module:function(run, workspace) -> result"
RESUMERS: dict[str, str] = {
    "access.apply": "govkit.actions.access.apply:resume_apply",
    "anonymize.in-place": "govkit.actions.anonymize.run:resume_in_place",
    "dsr.erase": "govkit.actions.dsr.service:resume_erasure",
    "dsr.rectify": "govkit.actions.dsr.service:resume_rectification",
    "retention.apply": "govkit.actions.retention.apply:resume",
    "retention.files": "govkit.actions.retention.files:resume_files",
    "archive.restore": "govkit.actions.retention.restore:resume_restore",
}


def resumer(kind: str) -> Callable[[ChangeRun, Any], Any]:
    if kind not in RESUMERS:
        raise UsageError(f"runs of kind {kind!r} cannot be resumed by this version of govkit; abandon it")
    module, _, name = RESUMERS[kind].partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def find(state_dir: Any, run_id: str) -> RunInfo:
    for info in list_runs(state_dir):
        if info.id == run_id:
            return info
    known = ", ".join(r.id for r in list_runs(state_dir) if r.status in ("running", "interrupted")) or "none"
    raise UsageError(f"no run {run_id} in this workspace (unfinished runs: {known})")


def resume(workspace: Any, run_id: str) -> Any:
    """Complete the interrupted run ``run_id``: the units not yet committed, verification, the
    "finished" audit record and the certificate; nothing committed is applied again."""
    find(workspace.state_dir, run_id)
    run = ChangeRun.open(workspace.state_dir, run_id)
    with run:
        from govkit.audit.log import AuditLog
        from govkit.change.run import primary_key_id

        began_with, now_with = run.meta.get("key_id"), primary_key_id(workspace.state_dir)
        if began_with is not None and now_with != began_with:
            raise UsageError(f"run {run.id} began under key {began_with} and the workspace's primary key is now "
                             f"{now_with or 'missing'}: resuming would pseudonymize the rest differently; restore "
                             f"that key (GOVKIT_KEY or the keyset) or abandon the run")
        if run.journal.begun is None:  # a crash inside begin, before its record: no unit ran yet
            run.write_begun(late=True)
        run.remember_audit(AuditLog(workspace.state_dir).append(
            f"{run.kind}.resumed", params={"run_id": run.id, "target": run.target}, outcome="resumed"))
        result = resumer(run.kind)(run, workspace)
        # Each file unit removes its own temporary file; this catches one whose unit never
        # reached its intent (a crash while it was being written).
        run.cleanup(Path(p) for p in run.meta.get("files") or [])
        return result


def abandon(workspace: Any, run_id: str, reason: str) -> RunInfo:
    """Give up an interrupted run: its temporary files are removed, its key and plan shredded,
    and the audit log says so. Data its committed units changed stays changed (say so)."""
    from govkit.audit.log import AuditLog

    find(workspace.state_dir, run_id)
    run = ChangeRun.open(workspace.state_dir, run_id, need_key=False)
    with run:
        removed = run.cleanup(Path(p) for p in run.meta.get("files") or [])
        units = len(run.journal.committed())
        run.remember_audit(AuditLog(workspace.state_dir).append(
            f"{run.kind}.abandoned", params={"run_id": run.id, "target": run.target, "reason": reason},
            counts={"units_committed": units, "temp_files_removed": len(removed)}, outcome="abandoned"))
        run.finish("abandoned")
    return find(workspace.state_dir, run_id)
