"""Data subject requests as a workflow: born overdue, closed, refused, cancelled, extended with
notice; overdue requests in the audit report; certificates that cite the request's own regime."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from govkit.actions.dsr import (
    Registry,
    cancel_request,
    close_request,
    erase_request,
    extend_request,
    new_request,
    refuse_request,
)
from govkit.audit.log import AuditLog
from govkit.cli import main
from govkit.errors import UsageError
from govkit.report.audit import audit_view, dsr_view, render_audit_view
from govkit.workspace import Workspace, load_workspace
from tests.dsr.conftest import SUBJECT

EMAIL = "luisg@embraer.com.br"


def _new(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(main, ["dsr", "new", "--type", "access", "--subject", f"email={EMAIL}", *args,
                                  "--format", "json"])
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["id"])


def _audit_actions(folder: Path) -> list[str]:
    return [r.action for r in AuditLog(folder / ".govkit").records()]


# -- 2. dsr new --received ---------------------------------------------------------------------


def test_a_request_received_long_ago_is_born_overdue_with_a_warning(workspace_dir: Path) -> None:
    result = CliRunner().invoke(main, ["dsr", "new", "--type", "access", "--subject", f"email={EMAIL}",
                                       "--received", "2026-01-02"])
    assert result.exit_code == 0, result.output
    assert "overdue" in result.stderr
    assert "due on 2026-02-02" in result.stderr
    assert "overdue" not in result.stdout.lower()


def test_a_request_received_today_gives_no_warning(workspace_dir: Path) -> None:
    result = CliRunner().invoke(main, ["dsr", "new", "--type", "access", "--subject", f"email={EMAIL}"])
    assert result.exit_code == 0, result.output
    assert "overdue" not in result.stderr


def test_a_future_received_date_is_refused(workspace_dir: Path) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    result = CliRunner().invoke(main, ["dsr", "new", "--type", "access", "--subject", f"email={EMAIL}",
                                       "--received", tomorrow])
    assert result.exit_code == 2
    assert "is in the future" in result.output
    workspace = load_workspace(workspace_dir, search=False)
    with pytest.raises(UsageError, match="in the future"):
        new_request(workspace, "access", {"email": EMAIL}, received=date.today() + timedelta(days=1))


# -- 3. close, refuse, cancel, extend ----------------------------------------------------------


def test_close_with_a_note_is_audited_and_on_the_timeline(workspace_dir: Path) -> None:
    runner = CliRunner()
    request_id = _new(runner)
    result = runner.invoke(main, ["dsr", "close", request_id, "--note", "answered by post"])
    assert result.exit_code == 0, result.output
    assert "closed; status done" in result.stdout
    registry = Registry(workspace_dir / ".govkit")
    try:
        request = registry.get(request_id)
    finally:
        registry.close()
    assert request.status == "done"
    closed = request.events[-1]
    assert closed.step == "closed"
    assert closed.detail["note"] == "answered by post"
    records = AuditLog(workspace_dir / ".govkit").records()
    assert records[-1].action == "dsr.close"
    assert closed.audit_seq == records[-1].seq
    assert sum(1 for r in records if r.action == "dsr.close") == 1


def test_refuse_needs_a_reason_and_records_it(workspace_dir: Path) -> None:
    runner = CliRunner()
    request_id = _new(runner)
    missing = runner.invoke(main, ["dsr", "refuse", request_id])
    assert missing.exit_code == 2
    result = runner.invoke(main, ["dsr", "refuse", request_id, "--reason", "the fifth identical request this week",
                                  "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "refused"
    assert data["events"][-1]["step"] == "refused"
    assert data["events"][-1]["detail"]["reason"] == "the fifth identical request this week"
    assert "GDPR art. 12(4)" in data["events"][-1]["detail"]["cite"]
    assert _audit_actions(workspace_dir)[-1] == "dsr.refuse"


def test_personal_data_in_a_reason_is_masked(workspace_dir: Path) -> None:
    runner = CliRunner()
    request_id = _new(runner)
    result = runner.invoke(main, ["dsr", "cancel", request_id, "--reason", f"withdrawn by mail from {EMAIL}"])
    assert result.exit_code == 0, result.output
    log = (workspace_dir / ".govkit" / "audit").rglob("*")
    assert all(EMAIL not in p.read_text(errors="replace") for p in log if p.is_file())
    assert EMAIL.encode() not in (workspace_dir / ".govkit" / "dsr.db").read_bytes()


@pytest.mark.parametrize(("first", "then", "message"), [
    (["refuse", "--reason", "excessive"], ["close"], "is refused; only open or unverified requests can be closed"),
    (["cancel", "--reason", "withdrawn"], ["refuse", "--reason", "x"], "is cancelled; only open requests"),
    (["close"], ["extend", "--by", "1 month", "--notified", date.today().isoformat(), "--reason", "complex"],
     "is done; only open requests can be extended"),
    (["close"], ["close"], "is done; only open or unverified requests can be closed"),
])
def test_invalid_transitions_exit_2_with_one_line(workspace_dir: Path, first: list[str], then: list[str],
                                                  message: str) -> None:
    runner = CliRunner()
    request_id = _new(runner)
    assert runner.invoke(main, ["dsr", first[0], request_id, *first[1:]]).exit_code == 0
    before = len(_audit_actions(workspace_dir))
    result = runner.invoke(main, ["dsr", then[0], request_id, *then[1:]])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(_audit_actions(workspace_dir)) == before, "a refused transition changes nothing"


def test_closing_an_unverified_erasure_needs_a_note(workspace_dir: Path) -> None:
    runner = CliRunner()
    request_id = _new(runner)
    registry = Registry(workspace_dir / ".govkit")
    registry.set_status(request_id, "unverified")
    registry.close()
    result = runner.invoke(main, ["dsr", "close", request_id])
    assert result.exit_code == 2
    assert "needs --note" in result.stderr
    assert runner.invoke(main, ["dsr", "close", request_id, "--note", "checked the CRM by hand"]).exit_code == 0


def test_extend_gdpr_by_two_months_with_notice(workspace_dir: Path) -> None:
    workspace = load_workspace(workspace_dir, search=False)
    today = date.today()
    request = new_request(workspace, "erasure", {"email": EMAIL})
    first_due = request.due
    result = CliRunner().invoke(main, ["dsr", "extend", request.id, "--by", "2months", "--notified",
                                       today.isoformat(), "--reason", "complex: twelve systems"])
    assert result.exit_code == 0, result.output
    registry = Registry(workspace.state_dir)
    try:
        extended = registry.get(request.id)
    finally:
        registry.close()
    assert extended.status == "open"
    assert extended.due > first_due
    event = extended.events[-1]
    assert event.step == "extended"
    assert event.detail["due_before"] == first_due.isoformat()
    assert event.detail["notified"] == today.isoformat()
    assert event.detail["cite"] == "GDPR art. 12(3)"
    assert event.audit_seq == AuditLog(workspace.state_dir).records()[-1].seq
    with pytest.raises(UsageError, match="at most 2 months"):
        extend_request(workspace, request.id, "1 day", reason="still complex", notified=today)


def test_extend_twice_within_the_limit_then_beyond(workspace_dir: Path) -> None:
    workspace = load_workspace(workspace_dir, search=False)
    today = date.today()
    request = new_request(workspace, "access", {"email": EMAIL})
    once = extend_request(workspace, request.id, "1 month", reason="complex", notified=today)
    twice = extend_request(workspace, request.id, "1 month", reason="still complex", notified=today)
    assert twice.due > once.due > request.due
    with pytest.raises(UsageError, match="already used"):
        extend_request(workspace, request.id, "1 week", reason="more", notified=today)


def test_ccpa_allows_45_days_and_pipl_none(workspace_dir: Path) -> None:
    workspace = load_workspace(workspace_dir, search=False)
    today = date.today()
    ccpa = new_request(workspace, "access", {"email": EMAIL}, regime="ccpa")
    with pytest.raises(UsageError, match="at most 45 days"):
        extend_request(workspace, ccpa.id, "2 months", reason="complex", notified=today)
    extended = extend_request(workspace, ccpa.id, "45 days", reason="complex", notified=today)
    assert extended.due == ccpa.due + timedelta(days=45)
    pipl = new_request(workspace, "access", {"email": EMAIL}, regime="pipl")
    with pytest.raises(UsageError, match="allows no extension"):
        extend_request(workspace, pipl.id, "5 days", reason="complex", notified=today)


def test_the_notice_must_be_given_in_time(workspace_dir: Path) -> None:
    workspace = load_workspace(workspace_dir, search=False)
    today = date.today()
    late = new_request(workspace, "access", {"email": EMAIL}, received=today - timedelta(days=60))
    with pytest.raises(UsageError, match="after the due date"):
        extend_request(workspace, late.id, "1 month", reason="complex", notified=today)
    fresh = new_request(workspace, "access", {"email": EMAIL})
    with pytest.raises(UsageError, match="in the future"):
        extend_request(workspace, fresh.id, "1 month", reason="complex", notified=today + timedelta(days=1))
    with pytest.raises(UsageError, match="before the request was received"):
        extend_request(workspace, fresh.id, "1 month", reason="complex", notified=today - timedelta(days=1))
    with pytest.raises(UsageError, match="--by"):
        extend_request(workspace, fresh.id, "2 fortnights", reason="complex", notified=today)


def test_statistics_move_refused_cancelled_and_median(workspace_dir: Path) -> None:
    workspace = load_workspace(workspace_dir, search=False)
    today = date.today()
    done = new_request(workspace, "access", {"email": EMAIL}, received=today - timedelta(days=4))
    refused = new_request(workspace, "access", {"email": EMAIL}, received=today - timedelta(days=2))
    cancelled = new_request(workspace, "erasure", {"email": EMAIL})
    close_request(workspace, done.id)
    refuse_request(workspace, refused.id, "manifestly unfounded")
    cancel_request(workspace, cancelled.id, "withdrawn")
    from govkit.policy.loader import load_pack

    view = dsr_view(workspace.state_dir, load_pack("gdpr"))
    assert view is not None
    assert view.counts == {"total": 3, "open": 0, "overdue": 0, "done": 1, "refused": 1, "cancelled": 1}
    assert view.median_days_to_close == 3.0  # 4 and 2 days; a cancelled request was never answered
    assert "1 refused, 1 cancelled" in view.message


# -- 1. overdue requests in the audit report ---------------------------------------------------


def test_overdue_requests_are_top_risks_and_in_the_summary(sqlite_workspace: Workspace) -> None:
    late = new_request(sqlite_workspace, "erasure", {"email": SUBJECT}, received=date.today() - timedelta(days=45))
    new_request(sqlite_workspace, "access", {"email": SUBJECT})
    view = audit_view(sqlite_workspace)
    overdue = [r for r in view.risks if r.kind == "overdue-dsr"]
    assert len(overdue) == 1
    risk = overdue[0]
    assert risk.severity == "HIGH"
    assert risk.where == late.id
    days = (date.today() - late.due).days
    assert f"erasure request under GDPR, due {late.due}, {days} day(s) overdue" == risk.message
    assert "answer it, or extend it with notice" in risk.fix
    html = render_audit_view(view, "html", sqlite_workspace.root)
    summary = html.split('id="summary"')[1].split("</section>")[0]
    assert "open data subject requests, 1" in summary
    assert late.id in summary  # in the top risks table
    md = render_audit_view(view, "md", sqlite_workspace.root)
    assert "Data subject requests: 2 open, **1 overdue**" in md
    assert json.loads(render_audit_view(view, "json"))["risks"][0]["kind"] == "overdue-dsr"


def test_overdue_risks_come_after_unfinished_runs(sqlite_workspace: Workspace) -> None:
    from govkit.change.run import ChangeRun

    new_request(sqlite_workspace, "access", {"email": SUBJECT}, received=date.today() - timedelta(days=45))
    run = ChangeRun.begin(sqlite_workspace.state_dir, "dsr.erase", "dsr:DSR-1", {}, {})
    run.release()
    try:
        kinds = [r.kind for r in audit_view(sqlite_workspace).risks]
    finally:
        ChangeRun.open(sqlite_workspace.state_dir, run.id).finish("abandoned")
    assert kinds[:2] == ["unfinished-run", "overdue-dsr"]


def test_no_overdue_risk_once_answered(sqlite_workspace: Workspace) -> None:
    late = new_request(sqlite_workspace, "access", {"email": SUBJECT}, received=date.today() - timedelta(days=45))
    refuse_request(sqlite_workspace, late.id, "manifestly excessive")
    assert all(r.kind != "overdue-dsr" for r in audit_view(sqlite_workspace).risks)


# -- 4. the erasure certificate ----------------------------------------------------------------

CERT_POLICY = """\
version: 1
extends: [gdpr, pipl]
dsr:
  erasure:
    - asset: Invoice
      action: retain
      legal_basis: "invoices must be kept 10 years for tax law (AO §147)"
      cite: ["GDPR art. 17(3)(b)", "PIPL art. 47(1)(2)"]
    - asset: InvoiceLine
      action: retain
      legal_basis: "part of the invoice"
"""


def test_certificate_names_dates_regime_and_its_own_pack(workspace_factory: Callable[..., Workspace],
                                                          chinook_sqlite: Path) -> None:
    workspace = workspace_factory(f"sqlite:///{chinook_sqlite}", CERT_POLICY)
    request = new_request(workspace, "erasure", {"email": SUBJECT}, received=date.today() - timedelta(days=3))
    extended = extend_request(workspace, request.id, "1 month", reason="many systems", notified=date.today())
    result = erase_request(workspace, request.id, apply=True)
    cert = json.loads(Path(result.certificate["json"]).read_text(encoding="utf-8"))
    assert cert["request"]["regime"] == "gdpr"
    assert cert["request"]["received"] == request.received.isoformat()
    assert cert["request"]["due"] == extended.due.isoformat()
    assert cert["request"]["first_due"] == request.due.isoformat()
    assert cert["request"]["extensions"][0]["notified"] == date.today().isoformat()
    assert cert["right"] == "GDPR art. 17(1)"
    steps = {s["asset"]: s for s in cert["steps"]}
    customer, invoice = steps["Customer"], steps["Invoice"]
    assert "pipl.yaml" not in json.dumps(cert["steps"])
    assert "govkit:policies/gdpr.yaml" in customer["why"] or "dsr.default_erasure" not in customer["why"]
    assert invoice["cite"] == ["GDPR art. 17(3)(b)"]
    assert invoice["cite_other_regimes"] == ["PIPL art. 47(1)(2)"]
    assert "tax law" in invoice["keeping_basis"]
    assert "17(3)(b)" in invoice["keeping_basis"]
    assert all("17(1)" not in (s["keeping_basis"] or "") for s in cert["steps"])
    html = Path(result.certificate["html"]).read_text(encoding="utf-8")
    assert f"<th>Received</th><td>{request.received.isoformat()}</td>" in html
    assert extended.due.isoformat() in html
    assert "erasure under GDPR" in html
    assert "pipl.yaml" not in html


def test_a_default_erasure_from_the_last_pack_cites_the_requests_regime(
        workspace_factory: Callable[..., Workspace], chinook_sqlite: Path) -> None:
    workspace = workspace_factory(f"sqlite:///{chinook_sqlite}", "version: 1\nextends: [gdpr, pipl]\n")
    request = new_request(workspace, "erasure", {"email": SUBJECT})
    planned = erase_request(workspace, request.id)  # the plan table cites the request's own pack too
    assert all("govkit:policies/gdpr.yaml:" in s.why for s in planned.plan.steps
               if "dsr.default_erasure" in s.why), [s.why for s in planned.plan.steps]
    assert not any("pipl.yaml" in s.why for s in planned.plan.steps)  # though the merged policy took pipl's
    result = erase_request(workspace, request.id, apply=True)
    cert = json.loads(Path(result.certificate["json"]).read_text(encoding="utf-8"))
    whys = [s["why"] for s in cert["steps"]]
    assert all("govkit:policies/gdpr.yaml:" in w for w in whys), whys
    assert all(s["erased_under"] == ["GDPR art. 17(1)"] for s in cert["steps"] if s["action"] == "delete")
    assert all(s["keeping_basis"] is None for s in cert["steps"] if s["action"] == "delete")


def test_shipped_policies_never_cite_the_right_to_erasure_for_keeping() -> None:
    import yaml

    root = Path(__file__).resolve().parents[2]
    files = [*sorted((root / "policies").glob("*.yaml")), root / "govkit" / "policy" / "demo_shop.yaml"]
    for path in files:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for rule in (doc.get("dsr") or {}).get("erasure") or []:
            if rule.get("action") == "retain":
                assert not any("17(1)" in c for c in rule.get("cite") or []), (path.name, rule)
        for rule in (doc.get("retention") or {}).get("rules") or []:
            assert not any("17(1)" in c for c in rule.get("cite") or []), (path.name, rule)
