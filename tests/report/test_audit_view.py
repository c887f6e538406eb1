"""The audit view model on a scanned Chinook workspace with a policy of its own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from govkit.inventory.store import Inventory
from govkit.policy import load_pack
from govkit.report import audit_view, render_audit, render_audit_view
from govkit.report.classified import UNCLASSIFIED
from govkit.workspace import load_workspace
from tests.report.conftest import SCRIPT_COLUMN, Scanned


def _field(scanned: Scanned, asset: str, name: str):  # type: ignore[no-untyped-def]
    view = next(a for a in scanned.audit.assets if a.name == asset)
    return next(f for f in view.personal if f.field == name)


def test_totals_and_sensitivity_counts_agree(scanned: Scanned) -> None:
    view = scanned.audit
    personal = [f for a in view.assets for f in a.personal]
    assert view.totals["personal_fields"] == len(personal) == sum(view.by_sensitivity.values())
    assert view.totals["sources"] == 1
    assert view.totals["assets"] == 12  # Chinook's 11 tables and the contacts table
    assert list(view.by_sensitivity) == ["restricted", "confidential", "internal", "public", UNCLASSIFIED]
    assert sum(view.by_category.values()) == len(personal)


def test_classification_comes_from_the_policy(scanned: Scanned) -> None:
    address = _field(scanned, "Employee", "Address")
    assert address.sensitivity == "restricted"
    assert "classification.fields rule for Employee.Address" in address.classified_by
    assert address.rule is not None
    assert address.rule.startswith("policies/music.yaml:")
    email = _field(scanned, "Customer", "Email")
    assert (email.category, email.sensitivity) == ("contact", "confidential")
    assert "EMAIL_ADDRESS" in email.classified_by
    assert email.anonymization is not None
    assert email.anonymization.startswith("mask")
    assert scanned.audit.by_sensitivity["restricted"] >= 1


def test_violations_and_top_risks(scanned: Scanned) -> None:
    policy = scanned.audit.policy
    assert not policy.baseline
    assert policy.files[-1] == "policies/music.yaml"
    assert policy.by_kind["forbidden-personal-data"] == 1
    assert policy.by_kind["past-retention"] == 1
    assert policy.by_kind["no-processing-record"] >= 2  # Employee, Artist, contacts
    risks = {(r.kind, r.where) for r in scanned.audit.risks}
    assert ("forbidden-personal-data", "Track.Composer") in risks
    assert ("past-retention", "Employee") in risks
    assert all(r.severity == "HIGH" for r in scanned.audit.risks[:2])
    assert all(r.kind != "no-processing-record" for r in scanned.audit.risks)


def test_retention_status_per_asset(scanned: Scanned) -> None:
    retention = {r.asset: r for r in scanned.audit.retention}
    employee = retention["Employee"]
    assert (employee.status, employee.past_rows) == ("past", 8)  # all hired 2002-2004
    assert (employee.rule, employee.period, employee.action, employee.timestamp) == (
        "staff records", "10 years", "delete", "HireDate")
    assert retention["Customer"].status == "no-rule"
    assert scanned.audit.totals["rows_past_retention"] == 8


def test_audit_log_integrity_is_verified(scanned: Scanned) -> None:
    integrity = scanned.audit.integrity
    assert integrity.ok is True
    assert integrity.problems == []
    assert integrity.records >= 2
    assert integrity.actions.get("scan") == 2
    assert integrity.head_seq == integrity.records


def test_tampered_audit_log_is_reported(workspace_copy: Path) -> None:
    log = workspace_copy / ".govkit" / "audit" / "log.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    lines[0] = lines[0].replace(b'"outcome":"ok"', b'"outcome":"no"')
    log.write_bytes(b"".join(lines))
    view = audit_view(load_workspace(workspace_copy, search=False))
    assert view.integrity.ok is False
    assert any(p.startswith("seq 1:") for p in view.integrity.problems)
    html = render_audit_view(view, "html", workspace_copy)
    assert "tampered with or damaged" in html
    assert "TAMPERED" in render_audit_view(view, "md", workspace_copy)


def test_pending_sections_say_so(scanned: Scanned) -> None:
    view = scanned.audit
    assert view.dsr.status == "none"
    assert view.dsr.message.startswith("No data-subject requests recorded yet")
    assert view.access_review.status == "not-run"
    assert "not run yet" in view.access_review.message.lower()
    html = render_audit_view(view, "html")
    assert "No data-subject requests recorded yet" in html
    assert "Access review not run yet" in html


def test_changes_and_history_since_previous_scan(scanned: Scanned) -> None:
    view = scanned.audit
    assert len(view.history) == 2
    new = [c for c in view.changes if c.kind == "new"]
    assert {(c.asset, c.field) for c in new} == {("contacts", None), ("contacts", SCRIPT_COLUMN)}
    assert view.changes_by_kind == {"new": len(new), "changed": 0, "gone": 0}


def test_without_a_policy_the_baseline_applies(workspace_copy: Path) -> None:
    shutil.rmtree(workspace_copy / "policies")
    view = audit_view(load_workspace(workspace_copy, search=False))
    assert view.policy.baseline
    assert view.policy.files == load_pack("baseline").files
    assert "past-retention" not in view.policy.by_kind
    assert "shipped baseline" in render_audit_view(view, "html", workspace_copy)


def test_render_audit_keeps_its_inventory_only_form(scanned: Scanned) -> None:
    """``render_audit(inventory, fmt)`` without a workspace still works (the baseline, no counting)."""
    inventory = Inventory(scanned.workspace.inventory_path)
    try:
        data = json.loads(render_audit(inventory, "json"))
    finally:
        inventory.close()
    assert data["policy"]["baseline"] is True
    assert data["integrity"]["ok"] is None
    assert {r["status"] for r in data["retention"]} <= {"no-rule", "not-checked", "bad-rule", "legal-hold"}


def test_an_unfinished_run_is_the_first_top_risk(workspace_copy: Path) -> None:
    from govkit.change.run import ChangeRun

    workspace = load_workspace(workspace_copy, search=False)
    run = ChangeRun.begin(workspace.state_dir, "dsr.erase", "dsr:DSR-1", {}, {})
    run.release()  # as a killed process leaves it: unfinished, nobody working on it
    view = audit_view(workspace)
    first = view.risks[0]
    assert first.kind == "unfinished-run"
    assert first.severity == "HIGH"
    assert run.id in first.message
    assert "interrupted" in first.message
    assert f"govkit runs resume {run.id}" in first.fix
    assert "Unfinished change run" in render_audit_view(view, "html", workspace_copy)
    ChangeRun.open(workspace.state_dir, run.id).finish("abandoned")
    assert all(r.kind != "unfinished-run" for r in audit_view(workspace).risks)
