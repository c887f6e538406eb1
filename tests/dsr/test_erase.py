"""Erasure: plan from the policy, FK-safe single transaction, legal holds, verification, certificate."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from govkit.actions.anonymize.operators import OperatorContext, build
from govkit.actions.anonymize.plan import build_plan
from govkit.actions.dsr import ErasureRefused, erase_request, locate, new_request
from govkit.cli import main
from govkit.errors import SourceError, UsageError
from govkit.inventory.store import Inventory
from govkit.policy.loader import active_policy
from govkit.workspace import Workspace
from tests.dsr.conftest import SUBJECT

RETAIN_POLICY = """\
version: 1
extends: [gdpr]
dsr:
  erasure:
    - asset: Invoice
      action: retain
      legal_basis: "invoices must be kept 10 years for tax law (AO §147)"
      cite: ["GDPR art. 17(3)(b)"]
    - asset: InvoiceLine
      action: retain
      legal_basis: "part of the invoice"
"""

HOLD_POLICY = """\
version: 1
extends: [gdpr]
retention:
  rules:
    - assets: [Invoice]
      timestamp: InvoiceDate
      period: 10 years
      action: archive
      exceptions:
        - where: "BillingCountry = 'Brazil'"
          legal_hold: LH-2026-01
          reason: tax audit of Brazilian sales
"""


def _counts(url: str) -> dict[str, int]:
    """Row counts of the three tables erasure touches (SQLite Chinook)."""
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    counts = {t.lower(): int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
              for t in ("Customer", "Invoice", "InvoiceLine")}
    conn.close()
    return counts


def test_erasure_deletes_in_fk_order_and_verifies(sqlite_workspace: Workspace) -> None:
    url = sqlite_workspace.source("chinook").resolved_url()
    before = _counts(url)
    request = new_request(sqlite_workspace, "erasure", {"email": SUBJECT})
    plan = erase_request(sqlite_workspace, request.id)
    assert {s.asset: s.action for s in plan.plan.steps} == {"Customer": "delete", "Invoice": "delete",
                                                              "InvoiceLine": "delete"}
    assert _counts(url) == before  # planning changes nothing
    result = erase_request(sqlite_workspace, request.id, apply=True)
    assert result.applied
    assert result.verification is not None
    assert result.verification["passed"]
    assert {s.asset: s.done for s in result.plan.steps} == {"Customer": 1, "Invoice": 7, "InvoiceLine": 38}
    assert _counts(url) == {"customer": before["customer"] - 1, "invoice": before["invoice"] - 7,
                            "invoiceline": before["invoiceline"] - 38}
    assert not locate(sqlite_workspace, {"email": SUBJECT}).found
    certificate = json.loads(Path(result.certificate["json"]).read_text())
    assert certificate["verification"]["passed"]
    assert certificate["audit_log"]["seq"] == result.audit_seq
    assert SUBJECT not in Path(result.certificate["html"]).read_text()
    audit = (sqlite_workspace.state_dir / "audit").rglob("*")
    assert all(SUBJECT not in p.read_text(errors="replace") for p in audit if p.is_file())


def test_retained_tables_keep_rows_and_the_customer_is_anonymized(
    chinook_sqlite: Path, workspace_factory: Callable[..., Workspace],
) -> None:
    workspace = workspace_factory(f"sqlite:///{chinook_sqlite}", RETAIN_POLICY)
    request = new_request(workspace, "erasure", {"email": SUBJECT})
    result = erase_request(workspace, request.id, apply=True)
    steps = {s.asset: s for s in result.plan.steps}
    assert steps["Invoice"].action == "retain"
    assert "tax law" in (steps["Invoice"].legal_basis or "")
    assert steps["Customer"].action == "anonymize"
    assert "Invoice" in (steps["Customer"].note or "")
    assert "Email" in steps["Customer"].fields
    assert "CustomerId" not in steps["Customer"].fields
    conn = sqlite3.connect(chinook_sqlite)
    email, first = conn.execute("SELECT Email, FirstName FROM Customer WHERE CustomerId = 1").fetchone()
    invoices = conn.execute("SELECT COUNT(*) FROM Invoice WHERE CustomerId = 1").fetchone()[0]
    conn.close()
    operators = steps["Customer"].operators
    assert operators["Email"]["operator"] == "mask"  # baseline: category contact
    assert email is not None
    assert email != SUBJECT
    assert email.startswith("l")
    assert "*" in email
    assert invoices == 7
    assert operators["FirstName"]["operator"] == "fake"  # baseline: entity PERSON
    assert first is not None
    assert first != "Luís"
    assert not {"CustomerId", "SupportRepId"} & set(operators)
    assert result.verification is not None
    assert result.verification["passed"]
    assert not locate(workspace, {"email": SUBJECT}).found


ANONYMIZE_POLICY = """\
version: 1
extends: [gdpr]
dsr:
  erasure:
    - asset: Invoice
      action: anonymize
      legal_basis: "invoices must be kept 10 years for tax law (AO §147)"
      cite: ["GDPR art. 17(3)(b)"]
    - asset: InvoiceLine
      action: retain
      legal_basis: "part of the invoice"
"""


def test_anonymized_invoice_rows_get_the_policy_operator(
    chinook_sqlite: Path, workspace_factory: Callable[..., Workspace],
) -> None:
    workspace = workspace_factory(f"sqlite:///{chinook_sqlite}", ANONYMIZE_POLICY)
    conn = sqlite3.connect(chinook_sqlite)
    before = dict(conn.execute("SELECT InvoiceId, BillingAddress FROM Invoice WHERE CustomerId = 1").fetchall())
    conn.close()
    request = new_request(workspace, "erasure", {"email": SUBJECT})
    result = erase_request(workspace, request.id, apply=True)
    steps = {s.asset: s for s in result.plan.steps}
    invoice = steps["Invoice"]
    assert invoice.action == "anonymize"
    assert invoice.done == 7
    assert "tax law" in (invoice.legal_basis or "")
    assert not {"InvoiceId", "CustomerId"} & set(invoice.operators)
    # What the policy assigns, resolved as 'govkit anonymize' does (baseline: entity LOCATION).
    planned = build_plan(invoice.source, Inventory(workspace.inventory_path).rows("chinook"),
                         active_policy(workspace.root), [], {"Invoice": ["BillingAddress"]}, source_name="chinook")
    chosen = planned.for_asset("Invoice")["billingaddress"]
    used = invoice.operators["BillingAddress"]
    assert (used["operator"], used["params"]) == (chosen.operator, chosen.params) == ("generalize", {"to": "city"})
    operator = build(chosen.operator, chosen.params, OperatorContext(None))
    conn = sqlite3.connect(chinook_sqlite)
    after = dict(conn.execute("SELECT InvoiceId, BillingAddress FROM Invoice WHERE CustomerId = 1").fetchall())
    conn.close()
    assert after.keys() == before.keys()  # the rows stay, with their keys
    for invoice_id, address in before.items():
        assert after[invoice_id] is not None
        assert after[invoice_id] != address
        assert after[invoice_id] == operator.apply(address, chosen.entity_type)
    assert result.verification is not None
    assert result.verification["passed"]
    assert not locate(workspace, {"email": SUBJECT}).found
    certificate = json.loads(Path(result.certificate["json"]).read_text())
    named = {s["asset"]: s["operators"] for s in certificate["steps"]}
    assert named["Invoice"]["BillingAddress"]["operator"] == "generalize"
    assert named["Customer"]["Email"]["operator"] == "mask"
    written = [Path(result.certificate["html"]), Path(result.certificate["json"]),
               *(p for p in (workspace.state_dir / "audit").rglob("*") if p.is_file())]
    for path in written:
        text = path.read_text(errors="replace")
        assert SUBJECT not in text
        assert all(address not in text for address in before.values())


def test_legal_hold_refuses_and_changes_nothing(chinook_sqlite: Path,
                                                 workspace_factory: Callable[..., Workspace]) -> None:
    workspace = workspace_factory(f"sqlite:///{chinook_sqlite}", HOLD_POLICY)
    before = _counts(f"sqlite:///{chinook_sqlite}")
    request = new_request(workspace, "erasure", {"email": SUBJECT})
    with pytest.raises(ErasureRefused, match=r"LH-2026-01.*tax audit"):
        erase_request(workspace, request.id, apply=True)
    assert _counts(f"sqlite:///{chinook_sqlite}") == before
    result = CliRunner().invoke(main, ["--workspace", str(workspace.root), "dsr", "show", request.id, "-f", "json"])
    shown = json.loads(result.output)
    assert shown["status"] == "refused"
    assert shown["events"][-1]["step"] == "erasure-refused"
    other = new_request(workspace, "erasure", {"email": "jenniferp@rogers.ca"})  # a Canadian: not held
    assert erase_request(workspace, other.id).plan.holds == []


def test_failure_in_the_middle_rolls_back_everything(chinook_sqlite: Path, sqlite_workspace: Workspace) -> None:
    url = f"sqlite:///{chinook_sqlite}"
    conn = sqlite3.connect(chinook_sqlite)
    conn.execute("CREATE TRIGGER no_customer_delete BEFORE DELETE ON Customer "
                 "BEGIN SELECT RAISE(ABORT, 'injected failure'); END")
    conn.commit()
    conn.close()
    before = _counts(url)
    request = new_request(sqlite_workspace, "erasure", {"email": SUBJECT})
    with pytest.raises(SourceError, match="rolled back"):
        erase_request(sqlite_workspace, request.id, apply=True)
    assert _counts(url) == before  # InvoiceLine and Invoice deletes, which ran first, are undone
    assert locate(sqlite_workspace, {"email": SUBJECT}).found


def test_cli_erase_plan_and_apply(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    runner = CliRunner()
    ws = ["--workspace", str(sqlite_workspace.root), "dsr"]
    request_id = json.loads(runner.invoke(main, [*ws, "new", "--type", "erasure", "--subject", f"email={SUBJECT}",
                                                 "-f", "json"]).output)["id"]
    plan = runner.invoke(main, [*ws, "erase", request_id])
    assert plan.exit_code == 0
    assert "--apply" in plan.output
    done = runner.invoke(main, [*ws, "erase", request_id, "--apply", "--certificate-dir", str(tmp_path / "c"),
                                "--format", "json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["verification"]["passed"]
    assert (tmp_path / "c" / "certificate.html").is_file()
    shown = json.loads(runner.invoke(main, [*ws, "show", request_id, "-f", "json"]).output)
    assert [e["step"] for e in shown["events"]] == ["registered", "erasure-planned", "erased"]
    assert shown["status"] == "done"


@pytest.mark.server
@pytest.mark.parametrize("server", ["chinook_postgres", "chinook_mysql"])
def test_erasure_on_servers(server: str, request: pytest.FixtureRequest, reload_servers: None,
                            workspace_factory: Callable[..., Workspace]) -> None:
    url = request.getfixturevalue(server)
    workspace = workspace_factory(url)
    result = erase_request(workspace, new_request(workspace, "erasure", {"email": SUBJECT}).id, apply=True)
    assert sorted(s.done or 0 for s in result.plan.steps) == [1, 7, 38]
    assert result.verification is not None
    assert result.verification["passed"]
    assert not locate(workspace, {"email": SUBJECT}).found


@pytest.mark.server
@pytest.mark.parametrize("server", ["chinook_postgres", "chinook_mysql"])
def test_anonymizing_erasure_on_servers(server: str, request: pytest.FixtureRequest, reload_servers: None,
                                        workspace_factory: Callable[..., Workspace]) -> None:
    url = request.getfixturevalue(server)
    workspace = workspace_factory(url, ANONYMIZE_POLICY, name=f"ws-{server}")
    result = erase_request(workspace, new_request(workspace, "erasure", {"email": SUBJECT}).id, apply=True)
    steps = {s.asset.rsplit(".", 1)[-1].lower(): s for s in result.plan.steps}  # names differ by server
    assert (steps["customer"].action, steps["customer"].done) == ("anonymize", 1)
    assert (steps["invoice"].action, steps["invoice"].done) == ("anonymize", 7)
    operators = {name.lower(): chosen["operator"] for name, chosen in steps["invoice"].operators.items()}
    assert operators.get("billingaddress", operators.get("billing_address")) == "generalize"  # PG: snake_case
    assert result.verification is not None
    assert result.verification["passed"]
    assert not locate(workspace, {"email": SUBJECT}).found


def test_only_erasure_requests_can_be_applied(sqlite_workspace: Workspace) -> None:
    request = new_request(sqlite_workspace, "access", {"email": SUBJECT})
    with pytest.raises(UsageError, match="only erasure requests"):
        erase_request(sqlite_workspace, request.id, apply=True)


def test_operators_fall_back_to_what_fits_the_column() -> None:
    from govkit.actions.dsr.erase import TableStep, _field_operators
    from govkit.inventory.store import AssetRecord, InventoryRow
    from govkit.policy.loader import load_pack

    def finding(field: str, entity_type: str) -> InventoryRow:
        return InventoryRow("db", "People", field, entity_type, 0.9, 1, 1, "MEDIUM", "test", [], "s")

    fields = [{"name": "Id", "kind": "integer", "sql_type": "INTEGER", "primary_key": True},
              {"name": "Born", "kind": "datetime", "sql_type": "DATETIME", "primary_key": False},
              {"name": "Email", "kind": "text", "sql_type": "VARCHAR(60)", "primary_key": False},
              {"name": "Note", "kind": "text", "sql_type": "TEXT", "primary_key": False}]
    rows = [finding("Born", "DATE_TIME"), finding("Email", "EMAIL_ADDRESS"), finding("Note", "NO_RULE_TYPE")]
    step = TableStep("db", None, "People", "anonymize", 1, "test", fields=["Born", "Email", "Note"])
    with_pk = AssetRecord("db", None, "People", "table", 1, ["Id"], [], [], fields)
    chosen = _field_operators(step, with_pk, rows, load_pack("baseline"))
    assert chosen["Born"]["operator"] == "null"  # generalize:to=year gives text: no fit for a datetime
    assert "generalize" in chosen["Born"]["why"]
    assert (chosen["Email"]["operator"], chosen["Email"]["params"]) == ("mask", {"char": "*", "keep_first": 1})
    assert chosen["Note"]["operator"] == "redact"  # no rule: the safe default
    without_pk = AssetRecord("db", None, "People", "table", 1, [], [], [], fields)
    chosen = _field_operators(step, without_pk, rows, load_pack("baseline"))
    assert chosen["Email"]["operator"] == "redact"
    assert "no primary key" in chosen["Email"]["why"]
