"""Retention of files: a file past its period (by ``$mtime`` or the date in its name) is deleted,
or archived and then deleted, with the same plan, journal and resume as tables.

A file is one unit (:meth:`~govkit.change.run.ChangeRun.removal_unit`): for ``archive``, its
bytes go into a sealed archive segment that is read back and compared before the file is
unlinked. ``anonymize`` is not a file retention action: rewriting a file is what ``govkit
anonymize FILE --to`` does, and the step says so rather than pretend.

A file over :data:`MAX_ARCHIVE_BYTES` is not archived (a segment is held in memory to seal it):
the step is skipped and says why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from govkit.actions.retention.archive import Archive, TableRows, new_archive_id, segment_name
from govkit.change import failpoints
from govkit.change.run import ChangeRun
from govkit.errors import GovkitError
from govkit.policy.evaluate import file_date

KIND = "retention.files"
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024


@dataclass(slots=True)
class FileStep:
    source: str
    source_name: str | None
    asset: str  # the path relative to the file source's root
    rule: str
    rule_ref: str | None
    action: str
    timestamp: str
    cutoff: str
    dated: str | None
    status: str  # apply | nothing | held | skipped
    detail: str = ""
    path: str = ""
    done: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("path")
        return data


def plan_files(workspace: Any, policy: Any, inventory: Any, counted: Any, holds: Any, *, now: datetime,
               source: str | None = None) -> list[FileStep]:
    """The file assets of the retention plan, each dated and decided."""
    from govkit.actions.dsr.files import file_path
    from govkit.actions.dsr.locate import source_config

    files = {(a.source, a.name): a for a in inventory.assets() if a.kind == "file"}
    out = []
    for step in counted.steps:
        if (step.source, step.asset) not in files:
            continue
        file_step = FileStep(step.source, step.source_name, step.asset, step.rule, step.rule_ref, step.action,
                             step.timestamp, step.cutoff.replace(" ", "T"), None, "nothing")
        out.append(file_step)
        try:
            path = file_path(source_config(workspace, step.source, step.source_name), step.asset)
        except GovkitError as exc:
            file_step.status, file_step.detail = "skipped", str(exc)
            continue
        if path is None or not path.is_file():
            file_step.status, file_step.detail = "skipped", "the file is gone (scan again)"
            continue
        file_step.path = str(path)
        names = holds.names(step.source, step.source_name, step.asset) + list(step.holds)
        if step.status == "held" or names:
            file_step.status, file_step.detail = "held", f"legal hold {', '.join(names) or 'in the policy'}"
            continue
        try:
            dated = file_date(path, step.timestamp)
        except GovkitError as exc:
            file_step.status, file_step.detail = "skipped", str(exc)
            continue
        if dated is None:
            file_step.status, file_step.detail = "skipped", "no date in its name"
            continue
        file_step.dated = dated.isoformat(sep=" ", timespec="seconds")
        if dated >= datetime.fromisoformat(file_step.cutoff):
            continue
        if step.action == "anonymize":
            file_step.status = "skipped"
            file_step.detail = "files are not anonymized in place by retention: use 'govkit anonymize FILE --to'"
        elif step.action == "archive" and path.stat().st_size > MAX_ARCHIVE_BYTES:
            file_step.status = "skipped"
            file_step.detail = f"larger than {MAX_ARCHIVE_BYTES // 2**20} MiB: archive it by hand"
        else:
            file_step.status = "apply"
    return out


def apply_files(workspace: Any, plan: Any) -> list[Any]:
    """One run per file source over its files to delete or archive."""
    results = []
    by_source: dict[tuple[str, str | None], list[FileStep]] = {}
    for step in plan.files:
        if step.status == "apply":
            by_source.setdefault((step.source, step.source_name), []).append(step)
    for (display, name), steps in by_source.items():
        stored = {"as_of": plan.as_of, "source": display, "source_name": name,
                  "steps": [{**s.to_dict(), "path": s.path} for s in steps]}
        params = {"source": display, "as_of": plan.as_of,
                  "steps": [f"{s.asset}: {s.action} (dated {s.dated}, before {s.cutoff}; {s.rule})" for s in steps]}
        with ChangeRun.begin(workspace.state_dir, KIND, display, params, stored, sources=[display]) as run:
            results.append(execute_files(run, workspace, stored))
    return results


def execute_files(run: ChangeRun, workspace: Any, stored: dict[str, Any]) -> Any:
    from govkit.actions.retention import state as retention_state
    from govkit.actions.retention.apply import ApplyResult

    steps = [FileStep(**s) for s in stored["steps"]]
    archive = None
    if any(s.action == "archive" for s in steps):
        archive = Archive(workspace.state_dir, new_archive_id(run.id))
        archive.create()
    result = ApplyResult(run.id, stored["source"], "finished", [])
    result.archive = archive.id if archive is not None else None
    segments: list[dict[str, Any]] = []
    with run.failures_audited("retention.apply"):
        for number, step in enumerate(steps):
            path = Path(step.path)

            def keep(step: FileStep = step, path: Path = path, number: int = number) -> dict[str, Any]:
                if step.action != "archive" or archive is None:
                    return {}
                rows = TableRows("$file", ["path", "content"], [(step.asset, path.read_bytes())])
                return {"segment": archive.write_segment(segment_name(number, path.name), [rows])}

            data = run.removal_unit(f"file#{number}", path, keep)
            step.done = 1
            if data.get("segment"):
                segments.append(data["segment"])
        done = run.phase_data("verified")
        if done is None:
            failpoints.reach("verify.started")
            problems = [f"{s.asset}: still there" for s in steps if Path(s.path).exists()]
            if archive is not None:
                for seg in segments:
                    try:
                        archive.authenticate(seg["segment"])
                    except GovkitError as exc:
                        problems.append(str(exc))
            run.phase("verified", {"problems": problems})
            failpoints.reach("run.verified")
        else:
            problems = list(done["problems"])
        result.problems = problems
        if archive is not None and not (archive.dir / "manifest.json").exists():
            archive.write_manifest({"run_id": run.id, "source": stored["source"],
                                    "source_name": stored.get("source_name"), "as_of": stored["as_of"],
                                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                                    "tables": {}, "kind": "files",
                                    "steps": [{"asset": s.asset, "rule": s.rule, "cutoff": s.cutoff}
                                              for s in steps if s.action == "archive"]}, segments)
        result.status = "failed" if problems else "finished"
        run.audited("retention.apply", {
            "source": stored["source"], "as_of": stored["as_of"], "archive": result.archive,
            "files": [f"{s.asset}: {s.action} (dated {s.dated}; {s.rule})" for s in steps],
            "verification": "failed" if problems else "passed", "problems": problems[:20]},
            {"files": len(steps)}, outcome="verification-failed" if problems else "ok")
    retention_state.record_run(workspace.state_dir, run.id, datetime.now(UTC).isoformat(timespec="seconds"),
                               result.status, [{"source": s.source, "asset": s.asset, "rule": s.rule,
                                                "action": s.action, "cutoff": s.cutoff, "done": s.done}
                                               for s in steps])
    run.finish("failed" if problems else "finished")
    result.file_steps = steps
    return result


def resume_files(run: ChangeRun, workspace: Any) -> Any:
    return execute_files(run, workspace, run.plan())
