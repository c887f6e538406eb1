"""The DSR steps as library calls: each one audited and added to the request's timeline.

The CLI (``govkit dsr ...``) and scripts call these; every call leaves one audit record
(parameters: request id, counts, paths, never identifiers) and one timeline event carrying
that record's sequence number, so ``dsr show`` and the audit log can be cross-checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from govkit.actions.dsr.erase import ErasurePlan, ErasureRefused, apply_plan, plan_erasure, verification
from govkit.actions.dsr.export import ExportResult, collect, write_package
from govkit.actions.dsr.locate import LocateReport, locate
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
            entry.counts.update(tables=len(report.data()), rows=sum(h.rows for h in report.data()),
                                links=sum(1 for h in report.hits if h.role == "link"),
                                mentions=sum(1 for h in report.hits if h.role == "mention"))
            registry.add_event(request_id, "located", {
                "tables": {f"{h.source_name}:{h.asset}": h.rows for h in report.data()},
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
    """Plan the erasure; with ``apply``, carry it out, verify it, and write the certificate.

    Refused (:class:`ErasureRefused`, nothing changed) when a legal hold covers the subject's rows.
    """
    policy = policy or active_policy(workspace.root)
    registry, inventory = Registry(workspace.state_dir), Inventory(workspace.inventory_path)
    try:
        request = registry.get(request_id)
        if apply and request.type != "erasure":
            raise UsageError(f"{request_id} is an {request.type} request; only erasure requests can be applied")
        action = "dsr.erase" if apply else "dsr.erase-plan"
        with audit_action(workspace.state_dir, action, {"request_id": request_id}) as entry:
            report = _locate(workspace, registry, request_id, policy, inventory)
            plan = plan_erasure(workspace, report, policy=policy, inventory=inventory)
            result = ErasureResult(request_id, plan, applied=False)
            entry.counts.update(tables=len(plan.steps), holds=len(plan.holds))
            if not apply:
                registry.add_event(request_id, "erasure-planned", {
                    "steps": {f"{s.source_name}:{s.asset}": s.action for s in plan.steps},
                    "holds": [h.hold for h in plan.holds]})
            else:
                try:
                    result.committed = apply_plan(workspace, plan, report, inventory=inventory,
                                                  subject=registry.subject(request_id))
                except ErasureRefused:
                    entry.outcome = "refused"
                    registry.add_event(request_id, "erasure-refused", {"holds": [h.to_dict() for h in plan.holds]})
                    registry.set_status(request_id, "refused")
                    raise
                result.applied = True
                after = _locate(workspace, registry, request_id, policy, inventory)
                result.verification = verification(plan, after)
                for step in plan.steps:
                    name = _COUNT_NAMES[step.action]
                    done = step.rows if step.action in ("retain", "manual") else step.done or 0
                    entry.counts[name] = entry.counts.get(name, 0) + done
                entry.counts["files_changed"] = sum(1 for c in result.committed for f in c.get("files", [])
                                                    if f["records"])
                entry.counts["remaining_rows"] = result.verification["identifying_rows_remaining"]
                if not result.verification["passed"]:
                    entry.outcome = "unverified"
        result.audit_seq = entry.record.seq if entry.record is not None else None
        if apply:
            result.certificate = write_certificate(workspace, result, certificate_dir)
            registry.add_event(request_id, "erased", {
                "steps": {f"{s.source_name}:{s.asset}": [s.action, s.done] for s in plan.steps},
                "verified": bool(result.verification and result.verification["passed"]),
                "certificate": result.certificate.get("json")}, audit_seq=result.audit_seq)
            registry.set_status(request_id, "done" if result.verification and result.verification["passed"]
                                else "unverified")
        else:
            _stamp(registry, request_id, entry.record)
        return result
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
    """Plan the rectification (columns and row counts); with ``apply``, carry it out in one
    transaction per database, verify it, update the request's identifiers and close it.

    ``assignments`` are ``FIELD=VALUE`` texts (see :func:`~govkit.actions.dsr.rectify.parse_assignment`).
    """
    from govkit.detect.evidence import mask

    policy = policy or active_policy(workspace.root)
    items = [parse_assignment(text) for text in assignments]
    registry, inventory = Registry(workspace.state_dir), Inventory(workspace.inventory_path)
    try:
        request = registry.get(request_id)
        if request.type != "rectification":
            raise UsageError(f"{request_id} is an {request.type} request; only rectification requests "
                             "can be rectified (register one with 'dsr new --type rectification')")
        params = {"request_id": request_id, "fields": [i.field for i in items]}
        with audit_action(workspace.state_dir, "dsr.rectify" if apply else "dsr.rectify-plan", params) as entry:
            subject = registry.subject(request_id)
            report = locate(workspace, subject, policy=policy, inventory=inventory)
            plan = plan_rectification(workspace, report, subject, items, policy=policy, inventory=inventory)
            entry.params["values"] = {s.field: mask(plan.values[s.field], s.entity_type) for s in plan.steps}
            entry.counts.update(columns=len(plan.steps), rows=sum(s.rows for s in plan.steps),
                                manual_files=len(plan.manual))
            result = RectificationResult(request_id, plan, applied=False)
            if apply:
                result.committed = apply_rectification(workspace, plan, report, subject, policy=policy,
                                                       inventory=inventory)
                result.applied = True
                result.verification = _verify_rectification(workspace, plan, report, subject, policy, inventory)
                entry.counts.update(rows_changed=sum(s.done or 0 for s in plan.steps))
                if not result.verification["passed"]:
                    entry.outcome = "unverified"
                registry.update_subject(request_id, {**subject, **plan.identifiers})
        result.audit_seq = entry.record.seq if entry.record is not None else None
        steps = {f"{s.source_name}:{s.asset}.{s.column}": s.rows if not apply else s.done for s in plan.steps}
        if apply:
            passed = bool(result.verification and result.verification["passed"])
            registry.add_event(request_id, "rectified", {"steps": steps, "verified": passed,
                                                        "identifiers_updated": sorted(plan.identifiers),
                                                        "manual": [m["asset"] for m in plan.manual]},
                               audit_seq=result.audit_seq)
            registry.set_status(request_id, "done" if passed else "unverified")
        else:
            registry.add_event(request_id, "rectification-planned", {"steps": steps}, audit_seq=result.audit_seq)
        return result
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
        old_rows = sum(h.rows for h in before.data() if h.source_name is not None
                       and workspace.source(h.source_name).kind == "database")
    passed = (bool(checks) and all(c["rows_changed"] and c["rows_with_new_value"] >= c["rows_changed"]
                                   for c in checks) and found_again and old_rows == 0)
    return {"passed": passed, "columns": checks, "found_with_new_identifiers": found_again,
            "old_identifier_rows_remaining": old_rows, "manual_remaining": plan.manual}


def write_certificate(workspace: Workspace, result: ErasureResult, folder: Path | None) -> dict[str, str]:
    """The erasure certificate (JSON and HTML): per table what was done, kept and why, and the proof."""
    from govkit import __version__
    from govkit.report.templates import environment

    folder = folder or workspace.state_dir / "dsr" / result.request_id
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "certificate": "erasure", "request_id": result.request_id,
        "issued_at": datetime.now(UTC).replace(microsecond=0).isoformat(), "govkit_version": __version__,
        "steps": [s.to_dict() for s in result.plan.steps], "committed": result.committed,
        "files_changed": [{"source": c["source"], **f} for c in result.committed for f in c.get("files", [])
                          if f["records"]],
        "manual": [{"source": s.source, "asset": s.asset, "rows": s.rows, "why": s.why}
                   for s in result.plan.steps if s.action == "manual"],
        "verification": result.verification, "audit_log": {"seq": result.audit_seq, "action": "dsr.erase"},
    }
    json_path, html_path = folder / "certificate.json", folder / "certificate.html"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    html_path.write_text(environment(workspace.root).get_template("dsr_certificate.html.j2").render(c=data),
                         encoding="utf-8")
    return {"json": str(json_path), "html": str(html_path)}
