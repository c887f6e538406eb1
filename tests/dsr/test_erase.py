"""Erasure: plan from the policy, FK-safe single transaction, legal holds, verification, certificate."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from govkit.actions.dsr import ErasureRefused, erase_request, locate, new_request
from govkit.cli import main
from govkit.errors import SourceError, UsageError
from govkit.workspace import Workspace
from tests import chinook
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
    assert email == "[erased]"
    assert invoices == 7
    assert first == "[erased]" or first == "Luís"  # names need NER; pattern-only scans may not list them
    assert result.verification is not None
    assert result.verification["passed"]
    assert not locate(workspace, {"email": SUBJECT}).found


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


@pytest.fixture
def reload_servers() -> Iterator[None]:
    """Server databases are shared by the session: put Chinook back after erasing from it."""
    yield
    chinook.load_postgres()
    chinook.load_mysql()


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


def test_only_erasure_requests_can_be_applied(sqlite_workspace: Workspace) -> None:
    request = new_request(sqlite_workspace, "access", {"email": SUBJECT})
    with pytest.raises(UsageError, match="only erasure requests"):
        erase_request(sqlite_workspace, request.id, apply=True)
