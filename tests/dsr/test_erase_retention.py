"""Erasure meets retention: rows a law obliges keeping (invoices, 10 years of tax law) follow the
retention rule's ``on_erasure``, and the plan, the stored plan and the certificate name the rule
and its legal basis."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from govkit.actions.dsr import erase_request, locate, new_request
from govkit.actions.dsr.erase import plan_erasure
from govkit.actions.dsr.service import _plan_data, _restore_plan
from govkit.cli import main
from govkit.inventory.store import Inventory
from govkit.policy.loader import active_policy
from govkit.workspace import Workspace
from tests.dsr.conftest import SUBJECT

#: Customer 1 (the subject) has 7 invoices dated 2022-2025; three are moved to 2012 below, so
#: a 10-year rule keeps the four newer ones (the clock is late 2026 or later).
OLD_INVOICES = (98, 121, 143)


def _policy(on_erasure: str | None) -> str:
    line = f"      on_erasure: {on_erasure}\n" if on_erasure else ""
    return f"""\
version: 1
extends: [gdpr]
retention:
  rules:
    - name: invoices
      assets: [Invoice]
      timestamp: InvoiceDate
      period: 10 years
      action: delete
      legal_basis: "commercial and tax law: invoices are kept 10 years (AO §147)"
      cite: ["AO §147", "GDPR art. 17(3)(b)"]
{line}"""


def _age_invoices(database: Path) -> None:
    conn = sqlite3.connect(database)
    conn.execute(f"UPDATE Invoice SET InvoiceDate = '2012-05-01 00:00:00' WHERE InvoiceId IN {OLD_INVOICES}")
    conn.commit()
    conn.close()


def _invoices(database: Path) -> list[tuple[int, str | None]]:
    conn = sqlite3.connect(database)
    rows = conn.execute("SELECT InvoiceId, BillingAddress FROM Invoice WHERE CustomerId = 1 ORDER BY 1").fetchall()
    conn.close()
    return [(int(r[0]), r[1]) for r in rows]


@pytest.fixture
def make(workspace_factory: Callable[..., Workspace], chinook_sqlite: Path) -> Callable[[str | None], Workspace]:
    _age_invoices(chinook_sqlite)

    def build(on_erasure: str | None) -> Workspace:
        return workspace_factory(f"sqlite:///{chinook_sqlite}", _policy(on_erasure))

    return build


def test_invoices_inside_the_period_are_kept_and_the_certificate_names_the_rule(
        make: Callable[[str | None], Workspace], chinook_sqlite: Path) -> None:
    workspace = make(None)  # on_erasure defaults to retain
    request = new_request(workspace, "erasure", {"email": SUBJECT})
    runner = CliRunner()
    shown = runner.invoke(main, ["-w", str(workspace.root), "dsr", "erase", request.id])
    assert shown.exit_code == 0, shown.output
    assert 'retention obligation on Invoice: rule "invoices" keeps 4 row(s)' in shown.output
    assert "AO §147" in shown.output

    result = erase_request(workspace, request.id, apply=True)
    steps = {s.asset: s for s in result.plan.steps}
    invoice = steps["Invoice"]
    assert invoice.action == "retain"
    assert invoice.retention is not None
    assert invoice.retention["obliged_rows"] == 4
    assert invoice.retention["planned"] == "delete"
    assert invoice.legal_basis is not None
    assert "10 years" in invoice.legal_basis
    # the invoices stay (all seven: the three past the period go with 'retention apply');
    # the customer row they reference is anonymized instead of deleted
    assert [i for i, _ in _invoices(chinook_sqlite)] == [98, 121, 143, 195, 316, 327, 382]
    assert steps["Customer"].action == "anonymize"
    assert result.verification is not None
    assert result.verification["passed"]

    certificate = json.loads(Path(result.certificate["json"]).read_text(encoding="utf-8"))
    cert_invoice = next(s for s in certificate["steps"] if s["asset"] == "Invoice")
    assert cert_invoice["retention"]["rule"] == "invoices"
    assert cert_invoice["retention"]["legal_basis"].startswith("commercial and tax law")
    assert "AO §147" in cert_invoice["keeping_basis"]
    html = Path(result.certificate["html"]).read_text(encoding="utf-8")
    assert "Retention obligation" in html
    assert "commercial and tax law" in html

    # the stored plan (sealed in the run, read back by 'govkit runs resume') carries it too
    restored = _restore_plan(json.loads(json.dumps(_plan_data(result.plan))))
    assert next(s for s in restored.steps if s.asset == "Invoice").retention == invoice.retention


def test_on_erasure_anonymize_keeps_the_rows_with_their_personal_fields_anonymized(
        make: Callable[[str | None], Workspace], chinook_sqlite: Path) -> None:
    workspace = make("anonymize")
    before = _invoices(chinook_sqlite)
    request = new_request(workspace, "erasure", {"email": SUBJECT})
    result = erase_request(workspace, request.id, apply=True)
    invoice = next(s for s in result.plan.steps if s.asset == "Invoice")
    assert invoice.action == "anonymize"
    assert invoice.retention is not None
    assert invoice.retention["on_erasure"] == "anonymize"
    assert "BillingAddress" in invoice.operators
    after = _invoices(chinook_sqlite)
    assert [i for i, _ in after] == [i for i, _ in before]
    assert all(new != old for (_, new), (_, old) in zip(after, before, strict=True))
    assert result.verification is not None
    assert result.verification["passed"]


def test_on_erasure_delete_lets_erasure_win_and_says_so(make: Callable[[str | None], Workspace],
                                                        chinook_sqlite: Path) -> None:
    workspace = make("delete")
    request = new_request(workspace, "erasure", {"email": SUBJECT})
    result = erase_request(workspace, request.id, apply=True)
    invoice = next(s for s in result.plan.steps if s.asset == "Invoice")
    assert invoice.action == "delete"
    assert invoice.retention is not None
    assert invoice.retention["obliged_rows"] == 4
    assert invoice.note is not None
    assert "erasure wins" in invoice.note
    assert _invoices(chinook_sqlite) == []


def test_no_row_inside_the_period_leaves_the_plan_as_it_was(
        workspace_factory: Callable[..., Workspace], chinook_sqlite: Path) -> None:
    conn = sqlite3.connect(chinook_sqlite)
    conn.execute("UPDATE Invoice SET InvoiceDate = '2010-01-01 00:00:00' WHERE CustomerId = 1")
    conn.commit()
    conn.close()
    workspace = workspace_factory(f"sqlite:///{chinook_sqlite}", _policy(None))
    request = new_request(workspace, "erasure", {"email": SUBJECT})
    plan = erase_request(workspace, request.id).plan
    invoice = next(s for s in plan.steps if s.asset == "Invoice")
    assert invoice.action == "delete"
    assert invoice.retention is None


@pytest.mark.server
@pytest.mark.parametrize(("server", "timestamp"), [("chinook_postgres", "invoice_date"),
                                                    ("chinook_mysql", "InvoiceDate")])
def test_the_obligation_is_counted_in_the_columns_own_terms_on_servers(
        server: str, timestamp: str, request: pytest.FixtureRequest,
        workspace_factory: Callable[..., Workspace]) -> None:
    """Plan only (the shared server databases are not changed): a 3-year rule on 2026-12-01
    keeps the subject's invoices of 2024-10-27, 2024-12-07 and 2025-08-07, not the four older."""
    policy = _policy(None).replace("assets: [Invoice]", "assets: [invoice]").replace(
        "timestamp: InvoiceDate", f"timestamp: {timestamp}").replace("period: 10 years", "period: 3 years")
    workspace = workspace_factory(request.getfixturevalue(server), policy, name=f"ws-{server}")
    policy_ = active_policy(workspace.root)
    inventory = Inventory(workspace.inventory_path)
    try:
        report = locate(workspace, {"email": SUBJECT}, policy=policy_, inventory=inventory)
        plan = plan_erasure(workspace, report, policy=policy_, inventory=inventory, now=datetime(2026, 12, 1))
    finally:
        inventory.close()
    invoice = next(s for s in plan.steps if s.asset.rsplit(".", 1)[-1].lower() == "invoice")
    assert invoice.retention is not None
    assert invoice.retention["obliged_rows"] == 3
    assert invoice.retention["cutoff"] == "2023-12-01"
    assert invoice.action == "retain"
