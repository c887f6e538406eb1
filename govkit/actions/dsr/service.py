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
    """Register a request; its due date comes from the policy's ``dsr.deadlines``."""
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
            result = write_package(workspace, request, tables, target, passphrase=passphrase)
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
                plan = plan_erasure(workspace, report, policy=policy, inventory=inventory)
                entry.counts.update(tables=len(plan.steps), holds=len(plan.holds))
                registry.add_event(request_id, "erasure-planned", {
                    "steps": {f"{s.source_name or s.source}:{s.asset}": s.action for s in plan.steps},
                    "holds": [h.hold for h in plan.holds]})
            _stamp(registry, request_id, entry.record)
            result = ErasureResult(request_id, plan, applied=False)
            result.audit_seq = entry.record.seq if entry.record is not None else None
            return result
        report = _locate(workspace, registry, request_id, policy, inventory)
        plan = plan_erasure(workspace, report, policy=policy, inventory=inventory)
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
    data = {
        "certificate": "erasure", "request_id": result.request_id, "run_id": run_id,
        "issued_at": datetime.now(UTC).replace(microsecond=0).isoformat(), "govkit_version": __version__,
        "status": status,
        "steps": [s.to_dict() for s in result.plan.steps], "committed": result.committed,
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


def _write_private_file(path: Path, text: str) -> None:
    """Write ``path`` whole (0600, fsynced) through a temporary name, so it is never seen half-written."""
    write_private_atomic(path, text)
