"""The DSR steps as library calls: each one audited and added to the request's timeline.

The CLI (``govkit dsr ...``) and scripts call these; every call leaves one audit record
(parameters: request id, counts, paths, never identifiers) and one timeline event carrying
that record's sequence number, so ``dsr show`` and the audit log can be cross-checked.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from govkit.actions.dsr.erase import ErasurePlan, apply_plan, hold_refusal, plan_erasure, verification
from govkit.actions.dsr.export import ExportResult, collect, write_package
from govkit.actions.dsr.locate import LocateReport, locate, source_config
from govkit.actions.dsr.rectify import (
    RectificationPlan,
    apply_rectification,
    parse_assignment,
    plan_rectification,
    read_back,
)
from govkit.actions.dsr.registry import Registry, Request
from govkit.audit.action import audit_action
from govkit.errors import UsageError
from govkit.inventory.store import Inventory
from govkit.policy.loader import Policy, active_policy
from govkit.private import private_dir, write_private_atomic
from govkit.workspace import Workspace


def new_request(
    workspace: Workspace, type_: str, subject: dict[str, str], *, regime: str = "gdpr",
    received: date | None = None, policy: Policy | None = None,
) -> Request:
    """Register a request; its due date comes from the policy's ``dsr.deadlines``. A received
    date whose due date has passed registers a request that is already overdue
    (``request.overdue()``; ``govkit dsr new`` warns); a future one is refused."""
    policy = policy or active_policy(workspace.root)
    registry = Registry(workspace.state_dir)
    try:
        with audit_action(workspace.state_dir, "dsr.new", {"type": type_, "regime": regime}) as entry:
            request = registry.create(type_, subject, regime=regime, received=received, policy=policy)
            entry.params.update(request_id=request.id, due=request.due.isoformat(),
                                subject_keys=request.subject_keys)
        _stamp(registry, request.id, entry.record)
        return registry.get(request.id)
    finally:
        registry.close()


def _stamp(registry: Registry, request_id: str, record: Any) -> None:
    """Put the audit record's sequence number on the request's newest timeline event."""
    if record is None:
        return
    import sqlalchemy as sa

    from govkit.actions.dsr.registry import _events

    with registry.engine.begin() as conn:
        last = conn.execute(sa.select(sa.func.max(_events.c.id)).where(_events.c.request_id == request_id)).scalar()
        conn.execute(_events.update().where(_events.c.id == last).values(audit_seq=record.seq))


# -- the request's lifecycle: close, refuse, cancel, extend ------------------------------------


def _free_text(workspace: Workspace, text: str, option: str) -> str:
    """A reason or note typed by people, with any personal data in it masked (it goes into the
    audit log and the timeline): one line, not empty."""
    from govkit.detect.notes import mask_note

    line = " ".join(text.split())
    if not line:
        raise UsageError(f"{option} must not be empty")
    return mask_note(line, workspace.detection.model, workspace.detection.language).text


def _transition(workspace: Workspace, request_id: str, action: str, step: str, status: str | None,
                allowed: tuple[str, ...], verb: str, detail: dict[str, Any],
                params: dict[str, Any] | None = None, *, due: date | None = None) -> Request:
    """One lifecycle step: refused (exit 2) unless the request's status is in ``allowed``; else
    one audit record, one timeline event carrying its number, and the new status (or due date)."""
    registry = Registry(workspace.state_dir)
    try:
        request = registry.get(request_id)
        if request.status not in allowed:
            raise UsageError(f"{request_id} is {request.status}; only {' or '.join(allowed)} requests can be "
                             f"{verb}")
        with audit_action(workspace.state_dir, action, {"request_id": request_id, **(params or detail)}) as entry:
            registry.add_event(request_id, step, {"from": request.status, **detail})
            if due is not None:
                registry.set_due(request_id, due)
            if status is not None:
                registry.set_status(request_id, status)
        _stamp(registry, request_id, entry.record)
        return registry.get(request_id)
    finally:
        registry.close()


def close_request(workspace: Workspace, request_id: str, *, note: str | None = None) -> Request:
    """Mark the request answered (``done``). An ``unverified`` request (an erasure or a
    rectification that did not verify) can be closed only with a note saying what was checked."""
    registry = Registry(workspace.state_dir)
    try:
        request = registry.get(request_id)
    finally:
        registry.close()
    if request.status == "unverified" and not (note and note.strip()):
        raise UsageError(f"{request_id} did not verify; closing it needs --note saying what was checked or done "
                         "by hand")
    detail: dict[str, Any] = {"note": _free_text(workspace, note, "--note")} if note is not None else {}
    return _transition(workspace, request_id, "dsr.close", "closed", "done", ("open", "unverified"), "closed",
                       detail)


def refuse_request(workspace: Workspace, request_id: str, reason: str) -> Request:
    """Refuse the request as manifestly unfounded or excessive (GDPR art. 12(5)); the reason is
    recorded, since the subject must be told it and of the right to complain (art. 12(4))."""
    detail = {"reason": _free_text(workspace, reason, "--reason"), "cite": "GDPR art. 12(4), 12(5)"}
    return _transition(workspace, request_id, "dsr.refuse", "refused", "refused", ("open",), "refused", detail)


def cancel_request(workspace: Workspace, request_id: str, reason: str) -> Request:
    """The subject withdrew the request (``cancelled``); the reason is recorded."""
    detail = {"reason": _free_text(workspace, reason, "--reason")}
    return _transition(workspace, request_id, "dsr.cancel", "cancelled", "cancelled", ("open",), "cancelled",
                       detail)


def extend_request(workspace: Workspace, request_id: str, by: str, *, reason: str, notified: date,
                   today: date | None = None) -> Request:
    """Extend the deadline by ``by`` (``2 months``, ``45 days``) with notice to the subject.

    GDPR art. 12(3) allows two further months in total, CCPA 1798.130(a)(2)(A) 45 days
    (:data:`~govkit.actions.dsr.registry.MAX_EXTENSIONS`), counted from the first due date,
    so a second extension may only use what the first left; PIPL has none (refused). The
    subject must be told within the period being extended: ``notified`` is the date the
    notice went out, not in the future, not before the request was received and not after
    the current due date. A late notice cannot extend an overdue request.
    """
    from govkit.actions.dsr.registry import EXTENSION_CITES, MAX_EXTENSIONS
    from govkit.policy.periods import Period, PeriodError

    today = today or date.today()
    registry = Registry(workspace.state_dir)
    try:
        request = registry.get(request_id)
    finally:
        registry.close()
    cite = EXTENSION_CITES[request.regime]
    limit = MAX_EXTENSIONS.get(request.regime)
    if limit is None:
        raise UsageError(f"{request_id} is a {request.regime.upper()} request: {cite} allows no extension; answer "
                         f"it by {request.due}, or refuse it with the reasons ('govkit dsr refuse')")
    try:
        period = Period.parse(by)
    except PeriodError as exc:
        raise UsageError(f"--by: {exc}") from None
    if request.status != "open":
        raise UsageError(f"{request_id} is {request.status}; only open requests can be extended")
    if notified > today:
        raise UsageError(f"--notified {notified} is in the future (today is {today})")
    if notified < request.received:
        raise UsageError(f"--notified {notified} is before the request was received ({request.received})")
    if notified > request.due:
        raise UsageError(f"--notified {notified} is after the due date {request.due}: {cite} requires notice "
                         "within the period being extended")
    first_due = next((date.fromisoformat(e.detail["due"]) for e in request.events
                      if e.step == "registered" and e.detail.get("due")), request.due)
    cap = Period.parse(limit).after(first_due)
    new_due = period.after(request.due)
    if new_due > cap:
        used = (request.due - first_due).days
        raise UsageError(f"--by {by} would move the due date to {new_due}, past {cap}: {cite} allows at most "
                         f"{limit} beyond the first due date {first_due}"
                         + (f" ({used} day(s) already used)" if used else ""))
    detail = {"by": period.human(), "due_before": request.due.isoformat(), "due": new_due.isoformat(),
              "notified": notified.isoformat(), "reason": _free_text(workspace, reason, "--reason"), "cite": cite}
    return _transition(workspace, request_id, "dsr.extend", "extended", None, ("open",), "extended", detail,
                       due=new_due)


def _locate(workspace: Workspace, registry: Registry, request_id: str, policy: Policy,
            inventory: Inventory) -> LocateReport:
    return locate(workspace, registry.subject(request_id), policy=policy, inventory=inventory)


def locate_request(workspace: Workspace, request_id: str, *, policy: Policy | None = None) -> LocateReport:
    """Where the subject's data is (tables and counts); recorded in the timeline."""
    policy = policy or active_policy(workspace.root)
    registry, inventory = Registry(workspace.state_dir), Inventory(workspace.inventory_path)
    try:
        registry.get(request_id)
        with audit_action(workspace.state_dir, "dsr.locate", {"request_id": request_id}) as entry:
            report = _locate(workspace, registry, request_id, policy, inventory)
            entry.counts.update(not_searched=len(report.not_searched),
                                tables=len(report.data()), rows=sum(h.rows for h in report.data()),
                                links=sum(1 for h in report.hits if h.role == "link"),
                                mentions=sum(1 for h in report.hits if h.role == "mention"))
            registry.add_event(request_id, "located", {
                "tables": {f"{h.source_name or h.source}:{h.asset}": h.rows for h in report.data()},
                "complete": report.complete, "not_searched": [n.label for n in report.not_searched],
                "links": len([h for h in report.hits if h.role == "link"]),
                "mentions": len([h for h in report.hits if h.role == "mention"]),
            })
        _stamp(registry, request_id, entry.record)
        return report
    finally:
        registry.close()
        inventory.close()


def export_request(
    workspace: Workspace, request_id: str, target: Path, *, passphrase: str | None = None,
    policy: Policy | None = None,
) -> ExportResult:
    """Write the access/portability package for the request into ``target``."""
    policy = policy or active_policy(workspace.root)
    registry, inventory = Registry(workspace.state_dir), Inventory(workspace.inventory_path)
    try:
        request = registry.get(request_id)
        params = {"request_id": request_id, "to": str(target), "encrypted": bool(passphrase)}
        with audit_action(workspace.state_dir, "dsr.export", params) as entry:
            report = _locate(workspace, registry, request_id, policy, inventory)
            tables = collect(workspace, report, policy=policy, inventory=inventory)
            result = write_package(workspace, request, tables, target, passphrase=passphrase, policy=policy)
            entry.counts.update(tables=result.tables, rows=result.rows, files=len(result.files))
            registry.add_event(request_id, "exported", {
                "to": str(target), "tables": result.tables, "rows": result.rows, "encrypted": bool(passphrase),
                "files": {f["path"]: f["sha256"] for f in result.files},
            })
        _stamp(registry, request_id, entry.record)
        if request.type in ("access", "portability"):
            registry.set_status(request_id, "done")
        return result
    finally:
        registry.close()
        inventory.close()


_COUNT_NAMES = {"delete": "deleted_rows", "anonymize": "anonymized_rows", "retain": "retained_rows",
                "manual": "manual_rows"}


@dataclass(slots=True)
class ErasureResult:
    request_id: str
    plan: ErasurePlan
    applied: bool
    committed: list[dict[str, Any]] = field(default_factory=list)
    verification: dict[str, Any] | None = None
    audit_seq: int | None = None
    certificate: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "applied": self.applied, **self.plan.to_dict(),
                "committed": self.committed, "verification": self.verification, "audit_seq": self.audit_seq,
                "certificate": self.certificate}


def erase_request(
    workspace: Workspace, request_id: str, *, apply: bool = False, certificate_dir: Path | None = None,
    policy: Policy | None = None,
) -> ErasureResult:
    """Plan the erasure; with ``apply``, run it through the change engine (journaled units,
    resumable), verify it, write the "finished" audit record, then the certificate.

    Refused (:class:`ErasureRefused`, nothing changed) when a legal hold covers the subject's
    rows, and (:class:`UsageError`) when the request was already erased and verified.
    """
    from govkit.actions.dsr.erase import erasure_files
    from govkit.change.run import ChangeRun, ensure_free

    policy = policy or active_policy(workspace.root)
    registry, inventory = Registry(workspace.state_dir), Inventory(workspace.inventory_path)
    try:
        request = registry.get(request_id)
        if apply and request.type != "erasure":
            raise UsageError(f"{request_id} is an {request.type} request; only erasure requests can be applied")
        if apply:
            ensure_free(workspace.state_dir, f"dsr:{request_id}")
        if apply and request.status == "done":
            first = _certificates(workspace, request_id, certificate_dir)
            raise UsageError(f"{request_id} was already erased and verified"
                             + (f" (certificate {first[0]})" if first else "")
                             + "; a second erasure would certify nothing new: register a new request if the "
                               "subject's data came back")
        if not apply:
            with audit_action(workspace.state_dir, "dsr.erase-plan", {"request_id": request_id}) as entry:
                report = _locate(workspace, registry, request_id, policy, inventory)
                plan = _own_pack(plan_erasure(workspace, report, policy=policy, inventory=inventory,
                                              subject=registry.subject(request_id)), request.regime, policy)
                entry.counts.update(tables=len(plan.steps), holds=len(plan.holds))
                registry.add_event(request_id, "erasure-planned", {
                    "steps": {f"{s.source_name or s.source}:{s.asset}": s.action for s in plan.steps},
                    "holds": [h.hold for h in plan.holds]})
            _stamp(registry, request_id, entry.record)
            result = ErasureResult(request_id, plan, applied=False)
            result.audit_seq = entry.record.seq if entry.record is not None else None
            return result
        report = _locate(workspace, registry, request_id, policy, inventory)
        plan = _own_pack(plan_erasure(workspace, report, policy=policy, inventory=inventory,
                                      subject=registry.subject(request_id)), request.regime, policy)
        if plan.holds:
            with audit_action(workspace.state_dir, "dsr.erase", {"request_id": request_id}) as entry:
                entry.outcome = "refused"
                entry.counts.update(tables=len(plan.steps), holds=len(plan.holds))
                registry.add_event(request_id, "erasure-refused", {"holds": [h.to_dict() for h in plan.holds]})
                registry.set_status(request_id, "refused")
            raise hold_refusal(plan)
        stored = {"request_id": request_id, "plan": _plan_data(plan), "report": _report_data(report),
                  "certificate_dir": str(certificate_dir) if certificate_dir else None}
        params = {"request_id": request_id, "tables": len(plan.steps),
                  "actions": sorted({s.action for s in plan.steps})}
        changed = {s.source for s in plan.steps if s.action in ("delete", "anonymize")}
        with ChangeRun.begin(workspace.state_dir, "dsr.erase", f"dsr:{request_id}", params, stored,
                             files=erasure_files(workspace, plan), sources=changed) as run:
            return _execute_erasure(run, workspace, registry, inventory, policy, request_id, plan, report,
                                    certificate_dir)
    finally:
        registry.close()
        inventory.close()


def _execute_erasure(run: Any, workspace: Workspace, registry: Registry, inventory: Inventory, policy: Policy,
                     request_id: str, plan: ErasurePlan, report: LocateReport,
                     certificate_dir: Path | None) -> ErasureResult:
    """Units, verification, the "finished" record, the certificate, the timeline (first run or resume)."""
    from govkit.change import failpoints

    result = ErasureResult(request_id, plan, applied=False)
    counts: dict[str, int | float] = {"tables": len(plan.steps), "holds": 0}
    with run.failures_audited("dsr.erase"):
        result.committed = apply_plan(workspace, plan, report, inventory=inventory, run=run,
                                      subject=registry.subject(request_id))
        result.applied = True
        done = run.phase_data("verified")
        if done is None:
            failpoints.reach("verify.started")
            after = _locate(workspace, registry, request_id, policy, inventory)
            result.verification = verification(plan, after)
            run.phase("verified", {"verification": result.verification})
            failpoints.reach("run.verified")
        else:
            result.verification = done["verification"]
        for step in plan.steps:
            name = _COUNT_NAMES[step.action]
            count = step.rows if step.action in ("retain", "manual") else step.done or 0
            counts[name] = counts.get(name, 0) + count
        counts["files_changed"] = sum(1 for c in result.committed for f in c.get("files", []) if f["records"])
        counts["remaining_rows"] = result.verification["identifying_rows_remaining"]
        status = _verification_status(result.verification)
        record = run.audited("dsr.erase", {"request_id": request_id, "verification": status}, counts,
                             outcome="ok" if status == "passed" else status if status == "incomplete"
                             else "unverified")
    result.audit_seq = record.seq if record is not None else None
    certified = run.phase_data("certified")
    if certified is None:
        result.certificate = write_certificate(workspace, result, certificate_dir, run_id=run.id)
        run.phase("certified", result.certificate)
    else:
        result.certificate = {k: str(v) for k, v in certified.items()}
    if run.phase_data("recorded") is None:
        if not _has_event(registry, request_id, "erased", run.id):
            registry.add_event(request_id, "erased", {
                "steps": {f"{s.source_name or s.source}:{s.asset}": [s.action, s.done] for s in plan.steps},
                "verified": status == "passed", "verification": status, "run_id": run.id,
                "certificate": result.certificate.get("json")}, audit_seq=result.audit_seq)
        registry.set_status(request_id, "done" if status == "passed" else "unverified")
        run.phase("recorded")
    run.finish("finished" if status == "passed" else "failed")
    return result


def _has_event(registry: Registry, request_id: str, step: str, run_id: str) -> bool:
    """Whether the timeline already has this run's event (a crash after adding it, before the
    run journaled that it had: the resume must not add a second)."""
    return any(e.step == step and (e.detail or {}).get("run_id") == run_id
               for e in registry.get(request_id).events)


def _verification_status(verification: dict[str, Any] | None) -> str:
    if not verification:
        return "incomplete"
    return str(verification.get("status") or ("passed" if verification.get("passed") else "failed"))


def _plan_data(plan: ErasurePlan) -> dict[str, Any]:
    return plan.to_dict()


def _report_data(report: LocateReport) -> dict[str, Any]:
    """The located rows a resume needs (keys included: the run seals its stored plan)."""
    import dataclasses

    from govkit.change.run import encode_value

    hits = [{f.name: getattr(h, f.name) for f in dataclasses.fields(h)} for h in report.hits]
    for hit in hits:
        hit["keys"] = [encode_value(list(k)) for k in hit["keys"]]  # typed: a resume binds what was read
    return {"subject_keys": list(report.subject_keys), "hits": hits}


def _restore_report(data: dict[str, Any]) -> LocateReport:
    from govkit.actions.dsr.locate import TableHit
    from govkit.change.run import decode_value

    hits = [TableHit(**{**h, "keys": [tuple(decode_value(k)) for k in h["keys"]]}) for h in data["hits"]]
    return LocateReport(list(data["subject_keys"]), hits)


def _restore_plan(data: dict[str, Any]) -> ErasurePlan:
    from govkit.actions.dsr.erase import Hold, TableStep

    return ErasurePlan([TableStep(**s) for s in data["steps"]], [Hold(**h) for h in data["holds"]])


def resume_erasure(run: Any, workspace: Workspace) -> ErasureResult:
    """Complete an interrupted erasure from its stored plan (``govkit runs resume``)."""
    stored = run.plan()
    policy = active_policy(workspace.root)
    registry, inventory = Registry(workspace.state_dir), Inventory(workspace.inventory_path)
    try:
        folder = Path(stored["certificate_dir"]) if stored.get("certificate_dir") else None
        return _execute_erasure(run, workspace, registry, inventory, policy, stored["request_id"],
                                _restore_plan(stored["plan"]), _restore_report(stored["report"]), folder)
    finally:
        registry.close()
        inventory.close()


@dataclass(slots=True)
class RectificationResult:
    request_id: str
    plan: RectificationPlan
    applied: bool
    committed: list[dict[str, Any]] = field(default_factory=list)
    verification: dict[str, Any] | None = None
    audit_seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "applied": self.applied, **self.plan.to_dict(),
                "committed": self.committed, "verification": self.verification, "audit_seq": self.audit_seq}


def rectify_request(
    workspace: Workspace, request_id: str, assignments: list[str], *, apply: bool = False,
    policy: Policy | None = None,
) -> RectificationResult:
    """Plan the rectification (columns and row counts); with ``apply``, run it through the change
    engine (one journaled unit per database, resumable), verify it, write the "finished" audit
    record, then update the request's identifiers and close it.

    ``assignments`` are ``FIELD=VALUE`` texts (see :func:`~govkit.actions.dsr.rectify.parse_assignment`).
    """
    from govkit.change.run import ChangeRun, ensure_free
    from govkit.detect.evidence import mask

    policy = policy or active_policy(workspace.root)
    items = [parse_assignment(text) for text in assignments]
    registry, inventory = Registry(workspace.state_dir), Inventory(workspace.inventory_path)
    try:
        request = registry.get(request_id)
        if request.type != "rectification":
            raise UsageError(f"{request_id} is an {request.type} request; only rectification requests "
                             "can be rectified (register one with 'dsr new --type rectification')")
        params: dict[str, Any] = {"request_id": request_id, "fields": [i.field for i in items]}
        if apply:
            ensure_free(workspace.state_dir, f"dsr:{request_id}")
        subject = registry.subject(request_id)
        if not apply:
            with audit_action(workspace.state_dir, "dsr.rectify-plan", params) as entry:
                report = locate(workspace, subject, policy=policy, inventory=inventory)
                plan = plan_rectification(workspace, report, subject, items, policy=policy, inventory=inventory)
                entry.params["values"] = {s.field: mask(plan.values[s.field], s.entity_type) for s in plan.steps}
                entry.counts.update(columns=len(plan.steps), rows=sum(s.rows for s in plan.steps),
                                    manual_files=len(plan.manual))
            result = RectificationResult(request_id, plan, applied=False)
            result.audit_seq = entry.record.seq if entry.record is not None else None
            steps = {f"{s.source_name or s.source}:{s.asset}.{s.column}": s.rows for s in plan.steps}
            registry.add_event(request_id, "rectification-planned", {"steps": steps}, audit_seq=result.audit_seq)
            return result
        report = locate(workspace, subject, policy=policy, inventory=inventory)
        plan = plan_rectification(workspace, report, subject, items, policy=policy, inventory=inventory)
        params["values"] = {s.field: mask(plan.values[s.field], s.entity_type) for s in plan.steps}
        stored = {"request_id": request_id, "subject": subject, "report": _report_data(report),
                  "plan": {**plan.to_dict(), "values": plan.values, "identifiers": plan.identifiers}}
        with ChangeRun.begin(workspace.state_dir, "dsr.rectify", f"dsr:{request_id}", params, stored,
                             sources={s.source for s in plan.steps}) as run:
            return _execute_rectification(run, workspace, registry, inventory, policy, request_id, plan, report,
                                          subject)
    finally:
        registry.close()
        inventory.close()


def _execute_rectification(run: Any, workspace: Workspace, registry: Registry, inventory: Inventory,
                           policy: Policy, request_id: str, plan: RectificationPlan, report: LocateReport,
                           subject: dict[str, str]) -> RectificationResult:
    """Units, verification, the "finished" record, the registry (first run or resume)."""
    from govkit.change import failpoints

    result = RectificationResult(request_id, plan, applied=False)
    with run.failures_audited("dsr.rectify"):
        result.committed = apply_rectification(workspace, plan, report, subject, policy=policy, inventory=inventory,
                                               run=run)
        result.applied = True
        done = run.phase_data("verified")
        if done is None:
            failpoints.reach("verify.started")
            result.verification = _verify_rectification(workspace, plan, report, subject, policy, inventory)
            run.phase("verified", {"verification": result.verification})
            failpoints.reach("run.verified")
        else:
            result.verification = done["verification"]
        passed = bool(result.verification and result.verification["passed"])
        record = run.audited("dsr.rectify", {"request_id": request_id, "fields": sorted(plan.values),
                                             "verification": "passed" if passed else "failed"},
                             {"columns": len(plan.steps), "rows": sum(s.rows for s in plan.steps),
                              "manual_files": len(plan.manual), "rows_changed": sum(s.done or 0 for s in plan.steps)},
                             outcome="ok" if passed else "unverified")
    result.audit_seq = record.seq if record is not None else None
    if run.phase_data("recorded") is None:
        if not _has_event(registry, request_id, "rectified", run.id):
            registry.update_subject(request_id, {**subject, **plan.identifiers})
            steps = {f"{s.source_name or s.source}:{s.asset}.{s.column}": s.done for s in plan.steps}
            registry.add_event(request_id, "rectified", {"steps": steps, "verified": passed, "run_id": run.id,
                                                        "identifiers_updated": sorted(plan.identifiers),
                                                        "manual": [m["asset"] for m in plan.manual]},
                               audit_seq=result.audit_seq)
        registry.set_status(request_id, "done" if passed else "unverified")
        run.phase("recorded")
    run.finish("finished" if passed else "failed")
    return result


def resume_rectification(run: Any, workspace: Workspace) -> RectificationResult:
    """Complete an interrupted rectification from its stored plan (``govkit runs resume``)."""
    from govkit.actions.dsr.rectify import ColumnStep

    stored = run.plan()
    data = stored["plan"]
    plan = RectificationPlan([ColumnStep(**s) for s in data["steps"]], list(data["manual"]),
                             dict(data["values"]), dict(data["identifiers"]))
    policy = active_policy(workspace.root)
    registry, inventory = Registry(workspace.state_dir), Inventory(workspace.inventory_path)
    try:
        return _execute_rectification(run, workspace, registry, inventory, policy, stored["request_id"], plan,
                                      _restore_report(stored["report"]), dict(stored["subject"]))
    finally:
        registry.close()
        inventory.close()


def _verify_rectification(workspace: Workspace, plan: RectificationPlan, report: LocateReport,
                          subject: dict[str, str], policy: Policy, inventory: Inventory) -> dict[str, Any]:
    """The new values are in every rectified row; the updated identifiers find the subject;
    the old identifiers alone find nothing in the databases any more."""
    checks = read_back(workspace, plan, report, subject, policy=policy, inventory=inventory)
    updated = {**subject, **plan.identifiers}
    after = locate(workspace, updated, policy=policy, inventory=inventory)
    keyed = {(s.source, s.asset) for s in plan.steps if s.key is not None}
    found_again = all(any(h.source == src and h.asset == asset and h.rows for h in after.data())
                      for src, asset in keyed)
    old = {k: subject[k] for k in plan.identifiers if k in subject and subject[k].strip().lower()
           != plan.identifiers[k].strip().lower()}
    old_rows = 0
    if old:
        before = locate(workspace, old, policy=policy, inventory=inventory)
        old_rows = sum(h.rows for h in before.data()
                       if source_config(workspace, h.source, h.source_name).kind == "database")
    passed = (bool(checks) and all(c["rows_changed"] and c["rows_with_new_value"] >= c["rows_changed"]
                                   for c in checks) and found_again and old_rows == 0)
    return {"passed": passed, "columns": checks, "found_with_new_identifiers": found_again,
            "old_identifier_rows_remaining": old_rows, "manual_remaining": plan.manual}


def _certificate_number(path: Path) -> int:
    """1 for ``certificate.json``, N for ``certificate-N.json``, 0 for anything else."""
    if path.stem == "certificate":
        return 1
    head, _, number = path.stem.rpartition("-")
    return int(number) if head == "certificate" and number.isdigit() else 0


def _certificates(workspace: Workspace, request_id: str, folder: Path | None) -> list[Path]:
    """The request's certificates (JSON), oldest first."""
    folder = folder or workspace.state_dir / "dsr" / request_id
    found = [p for p in folder.glob("certificate*.json") if _certificate_number(p)] if folder.is_dir() else []
    return sorted(found, key=_certificate_number)


def write_certificate(workspace: Workspace, result: ErasureResult, folder: Path | None, *,
                      run_id: str | None = None) -> dict[str, str]:
    """The erasure certificate (JSON and HTML): per table what was done, kept and why, and the proof.

    Certificates are append-only. The JSON is claimed under the next free name with a hard
    link from a complete, fsynced temporary file (``certificate.json``, then
    ``certificate-N.json``): the link fails if the name exists, so two writers never share a
    name and nothing is ever overwritten or left half-written under it. The new certificate
    names the request's earlier ones (a ``--certificate-dir`` may hold other requests' too).
    A resumed run that had written its certificate before a crash finds it by ``run_id``
    instead of writing a second (and writes its HTML page if the crash came first). Files
    are 0600 in a 0700 folder.
    """
    from govkit import __version__
    from govkit.report.templates import environment

    folder = private_dir(folder or workspace.state_dir / "dsr" / result.request_id)
    template = environment(workspace.root).get_template("dsr_certificate.html.j2")
    taken = _certificates(workspace, result.request_id, folder)
    previous: list[dict[str, Any]] = []
    for path in taken:
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if old.get("request_id") != result.request_id:
            continue
        if run_id is not None and old.get("run_id") == run_id:
            html_path = path.with_suffix(".html")
            if not html_path.exists():
                _write_private_file(html_path, template.render(c=old))
            return {"json": str(path), "html": str(html_path)}
        previous.append({"certificate": path.name, "issued_at": old.get("issued_at"),
                         "verification": _verification_status(old.get("verification"))})
    status = _verification_status(result.verification)
    request, policy = _certificate_request(workspace, result.request_id)
    regime = request["regime"] if request else None
    data = {
        "certificate": "erasure", "request_id": result.request_id, "run_id": run_id,
        "issued_at": datetime.now(UTC).replace(microsecond=0).isoformat(), "govkit_version": __version__,
        "status": status, "request": request,
        "right": ERASURE_RIGHTS.get(regime or ""),
        "steps": [_regime_step(s.to_dict(), regime, policy) for s in result.plan.steps],
        "committed": result.committed,
        "files_changed": [{"source": c["source"], **f} for c in result.committed for f in c.get("files", [])
                          if f["records"]],
        "manual": [{"source": s.source, "asset": s.asset, "rows": s.rows, "why": s.why}
                   for s in result.plan.steps if s.action == "manual"],
        "verification": result.verification, "audit_log": {"seq": result.audit_seq, "action": "dsr.erase"},
        "previous_certificates": previous,
    }
    number = (_certificate_number(taken[-1]) + 1) if taken else 1
    temp = folder / f".certificate.{os.getpid()}.tmp"
    _write_private_file(temp, json.dumps(data, indent=2, ensure_ascii=False))
    try:
        while True:
            json_path = folder / ("certificate.json" if number == 1 else f"certificate-{number}.json")
            try:
                os.link(temp, json_path)
                break
            except FileExistsError:
                number += 1
    finally:
        temp.unlink(missing_ok=True)
    html_path = json_path.with_suffix(".html")
    _write_private_file(html_path, template.render(c=data))
    return {"json": str(json_path), "html": str(html_path)}


#: The right an erasure answers, per regime: the basis for *erasing*, never for keeping.
ERASURE_RIGHTS = {"gdpr": "GDPR art. 17(1)", "ccpa": "CCPA 1798.105", "pipl": "PIPL art. 47"}
#: How a citation names its regime (``cite`` entries are free text such as "GDPR art. 17(3)(b)").
_REGIME_PREFIXES = {"gdpr": ("GDPR",), "ccpa": ("CCPA", "CPRA"), "pipl": ("PIPL",)}
_ERASURE_RIGHT_CITES = ("GDPR art. 17(1)", "CCPA 1798.105", "PIPL art. 47")


def _certificate_request(workspace: Workspace, request_id: str) -> tuple[dict[str, Any] | None, Policy | None]:
    """The request's dates and regime for the certificate (due after extensions, the first due
    date, each extension with its notice), and the active policy; (None, None) if unreadable."""
    from govkit.errors import GovkitError

    registry = Registry(workspace.state_dir)
    try:
        request = registry.get(request_id)
    except GovkitError:
        return None, None
    finally:
        registry.close()
    first_due = next((e.detail.get("due") for e in request.events if e.step == "registered"), None)
    extensions = [{k: e.detail.get(k) for k in ("by", "due_before", "due", "notified", "cite")}
                  for e in request.events if e.step == "extended"]
    data = {"type": request.type, "regime": request.regime, "received": request.received.isoformat(),
            "due": request.due.isoformat(), "deadline": request.deadline,
            "first_due": first_due or request.due.isoformat(), "extensions": extensions}
    try:
        policy = active_policy(workspace.root)
    except GovkitError:
        policy = None
    return data, policy


def _regime_of(cite: str) -> str | None:
    upper = cite.strip().upper()
    return next((r for r, prefixes in _REGIME_PREFIXES.items() if upper.startswith(prefixes)), None)


def _regime_step(step: dict[str, Any], regime: str | None, policy: Policy | None) -> dict[str, Any]:
    """A plan step as the certificate of a request under ``regime`` shows it.

    * citations of other regimes' laws are set apart (``cite_other_regimes``), so a GDPR
      certificate does not argue from PIPL; citations naming no regime (a national tax law)
      stay;
    * the right to erasure itself (GDPR art. 17(1), CCPA 1798.105, PIPL art. 47) is what the
      rows were erased *under* (``erased_under``), never a basis for keeping them: only the
      rule's ``legal_basis`` and its other citations (art. 17(3)(b), (e)) are
      (``keeping_basis``, for rows retained or anonymized);
    * a ``dsr.default_erasure`` the policy took from another regime's shipped pack (the last
      pack extended wins) cites the request's own regime pack when that pack is part of the
      policy and says the same.
    """
    if regime is None:
        return step
    cites = list(step.get("cite") or [])
    mine = [c for c in cites if _regime_of(c) in (None, regime)]
    others = [c for c in cites if c not in mine]
    erased_under = [c for c in mine if c.strip().startswith(_ERASURE_RIGHT_CITES)]
    keeping = [c for c in mine if c not in erased_under]
    out = {**step, "cite": mine, "cite_other_regimes": others, "erased_under": erased_under or
           ([ERASURE_RIGHTS[regime]] if step.get("action") in ("delete", "anonymize") else [])}
    if step.get("action") in ("retain", "anonymize") and (step.get("legal_basis") or keeping):
        out["keeping_basis"] = "; ".join(filter(None, [step.get("legal_basis"), ", ".join(keeping)]))
    else:
        out["keeping_basis"] = None
    out["why"] = _regime_origin(str(step.get("why") or ""), regime, policy)
    return out


def _own_pack(plan: ErasurePlan, regime: str | None, policy: Policy) -> ErasurePlan:
    """The plan as the request's regime reads it: a step chosen by a ``dsr.default_erasure``
    the merged policy took from another regime's pack cites the request's own pack (the plan
    table, the stored plan and the certificate then agree)."""
    if regime is not None:
        for step in plan.steps:
            step.why = _regime_origin(step.why, regime, policy)
    return plan


def _regime_origin(why: str, regime: str, policy: Policy | None) -> str:
    """``dsr.default_erasure ... (govkit:policies/pipl.yaml:93)`` -> the regime's own pack line."""
    import re

    from govkit.policy.loader import load_pack

    if policy is None or "dsr.default_erasure" not in why:
        return why
    match = re.search(r"\(govkit:policies/(\w+)\.yaml:\d+\)$", why)
    own = f"govkit:policies/{regime}.yaml"
    if match is None or match.group(1) == regime or own not in policy.files:
        return why
    pack = load_pack(regime).doc.dsr
    if pack.default_erasure is None or pack.default_erasure != policy.doc.dsr.default_erasure:
        return why
    mark = pack.mark_of("default_erasure")
    return why[:match.start()] + f"({mark.short if mark is not None else own})"


def _write_private_file(path: Path, text: str) -> None:
    """Write ``path`` whole (0600, fsynced) through a temporary name, so it is never seen half-written."""
    write_private_atomic(path, text)
