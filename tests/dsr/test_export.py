"""Access/portability packages: every record of the subject, nothing of anyone else, provably intact."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from govkit.actions.dsr import decrypt_package, export_request, new_request, verify_manifest
from govkit.cli import main
from govkit.errors import UsageError
from govkit.workspace import Workspace
from tests.dsr.conftest import SUBJECT


def _db_path(workspace: Workspace) -> str:
    return workspace.source("chinook").resolved_url().removeprefix("sqlite:///")


def test_export_holds_the_subjects_rows_and_nothing_else(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    request = new_request(sqlite_workspace, "access", {"email": SUBJECT})
    result = export_request(sqlite_workspace, request.id, tmp_path / "pkg")
    data = json.loads((tmp_path / "pkg" / "data.json").read_text(encoding="utf-8"))
    tables = {t["asset"]: t for t in data["tables"]}
    assert set(tables) == {"Customer", "Invoice", "InvoiceLine"}
    assert [r["Email"] for r in tables["Customer"]["rows"]] == [SUBJECT]
    customer_id = tables["Customer"]["rows"][0]["CustomerId"]
    conn = sqlite3.connect(_db_path(sqlite_workspace))
    invoices = {r[0] for r in conn.execute("SELECT InvoiceId FROM Invoice WHERE CustomerId = ?", (customer_id,))}
    lines = {r[0] for r in conn.execute(
        "SELECT InvoiceLineId FROM InvoiceLine WHERE InvoiceId IN (SELECT InvoiceId FROM Invoice WHERE CustomerId = ?)",
        (customer_id,))}
    others = [r[0] for r in conn.execute("SELECT Email FROM Customer WHERE CustomerId != ?", (customer_id,))]
    conn.close()
    assert {r["InvoiceId"] for r in tables["Invoice"]["rows"]} == invoices
    assert all(r["CustomerId"] == customer_id for r in tables["Invoice"]["rows"])
    assert {r["InvoiceLineId"] for r in tables["InvoiceLine"]["rows"]} == lines
    everything = "\n".join(p.read_text(encoding="utf-8") for p in (tmp_path / "pkg").rglob("*") if p.is_file())
    assert not any(email in everything for email in others)
    assert "contact" in tables["Customer"]["categories"]
    assert result.rows == 1 + len(invoices) + len(lines)
    assert verify_manifest(tmp_path / "pkg") == []
    assert (tmp_path / "pkg" / "csv" / "chinook" / "InvoiceLine.csv").read_text().count("\n") == len(lines) + 1
    html = (tmp_path / "pkg" / "report.html").read_text(encoding="utf-8")
    assert SUBJECT in html
    assert request.id in html
    (tmp_path / "pkg" / "data.json").write_text("{}", encoding="utf-8")
    assert verify_manifest(tmp_path / "pkg") == ["data.json"]


def test_unknown_subject_gives_an_empty_package(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    request = new_request(sqlite_workspace, "portability", {"email": "nobody@example.com"})
    result = export_request(sqlite_workspace, request.id, tmp_path / "pkg")
    assert result.rows == 0
    assert json.loads((tmp_path / "pkg" / "data.json").read_text())["tables"] == []
    assert "found no records" in (tmp_path / "pkg" / "report.html").read_text()


def test_encrypted_package_round_trip(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    request = new_request(sqlite_workspace, "access", {"email": SUBJECT})
    result = export_request(sqlite_workspace, request.id, tmp_path / "pkg", passphrase="correct horse battery")
    assert result.encrypted is not None
    assert [p.name for p in (tmp_path / "pkg").iterdir()] == [result.encrypted.name]
    assert SUBJECT.encode() not in result.encrypted.read_bytes()
    with pytest.raises(UsageError, match="wrong passphrase"):
        decrypt_package(result.encrypted, "not the passphrase", tmp_path / "bad")
    files = decrypt_package(result.encrypted, "correct horse battery", tmp_path / "open")
    assert "data.json" in files
    assert verify_manifest(tmp_path / "open") == []


def test_cli_export_encrypt_and_decrypt(sqlite_workspace: Workspace, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_DSR_PASSPHRASE", "a long passphrase")
    runner = CliRunner()
    ws = ["--workspace", str(sqlite_workspace.root)]
    new = runner.invoke(main, [*ws, "dsr", "new", "--type", "access", "--subject", f"email={SUBJECT}", "-f", "json"])
    request_id = json.loads(new.output)["id"]
    out = runner.invoke(main, [*ws, "dsr", "export", request_id, "--to", str(tmp_path / "p"), "--encrypt",
                               "--format", "json"])
    assert out.exit_code == 0, out.output
    package = json.loads(out.output)["encrypted"]
    opened = runner.invoke(main, ["dsr", "decrypt", package, "--to", str(tmp_path / "o"), "--format", "json"])
    assert opened.exit_code == 0, opened.output
    assert json.loads(opened.output)["manifest_ok"] is True
    shown = json.loads(runner.invoke(main, [*ws, "dsr", "show", request_id, "-f", "json"]).output)
    assert shown["status"] == "done"
    assert [e["step"] for e in shown["events"]] == ["registered", "exported"]
    assert all(e["audit_seq"] for e in shown["events"])


def test_export_refuses_a_non_empty_folder(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    request = new_request(sqlite_workspace, "access", {"email": SUBJECT})
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "x").write_text("x")
    with pytest.raises(UsageError, match="not empty"):
        export_request(sqlite_workspace, request.id, tmp_path / "pkg")
