"""Access/portability packages: every record of the subject, nothing of anyone else, provably intact."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
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


ART15_POLICY = """\
version: 1
extends: [gdpr]
processing:
  controller: "Example Music Ltd, privacy@music.example"
  activities:
    - name: Customer accounts
      purposes: [account management, invoicing]
      legal_basis: contract
      assets: [Customer, Invoice]
      recipients: [payment processor]
retention:
  rules:
    - assets: [Invoice]
      timestamp: InvoiceDate
      period: 10 years
      action: archive
"""


def _files_workspace(tmp_path: Path, chinook_sqlite: Path, policy: str | None = None) -> Workspace:
    from govkit.scan import scan
    from govkit.workspace import load_workspace

    folder = tmp_path / "ws"
    exports = folder / "exports"
    exports.mkdir(parents=True)
    (exports / "crm_export.csv").write_text(
        "email,name,city,opted_in\n"
        + "".join(f"reader{i}@example.net,Reader {i},Lisboa,yes\n" for i in range(30))
        + f"{SUBJECT},Luís Gonçalves,São José dos Campos,yes\n", encoding="utf-8")
    (exports / "crm_export.jsonl").write_text(
        "".join(json.dumps({"contact": {"email": f"reader{i}@example.net"}, "plan": "free"}) + "\n"
                for i in range(30))
        + json.dumps({"contact": {"email": SUBJECT, "street": "Av. Brig. Faria Lima"}, "plan": "pro"}) + "\n",
        encoding="utf-8")
    (folder / "govkit.toml").write_text(
        f'[detection]\nmodel = "none"\n\n[sources.chinook]\nurl = "sqlite:///{chinook_sqlite}"\n\n'
        '[sources.exports]\npath = "exports"\n', encoding="utf-8")
    if policy is not None:
        (folder / "policies").mkdir()
        (folder / "policies" / "music.yaml").write_text(policy, encoding="utf-8")
    workspace = load_workspace(folder, search=False)
    scan(workspace)
    return workspace


def test_file_tables_are_named_once_and_shown_as_fields(tmp_path: Path, chinook_sqlite: Path) -> None:
    workspace = _files_workspace(tmp_path, chinook_sqlite)
    request = new_request(workspace, "access", {"email": SUBJECT})
    export_request(workspace, request.id, tmp_path / "pkg")
    names = sorted(p.name for p in (tmp_path / "pkg" / "csv" / "exports").iterdir())
    assert names == ["crm_export-2.csv", "crm_export.csv"], "no .csv.csv; two files of one stem kept apart"
    data = json.loads((tmp_path / "pkg" / "data.json").read_text(encoding="utf-8"))
    files = {t["asset"]: t for t in data["tables"] if t["source_name"] == "exports"}
    assert files["crm_export.csv"]["records"] == [
        {"email": SUBJECT, "name": "Luís Gonçalves", "city": "São José dos Campos", "opted_in": "yes"}]
    assert files["crm_export.jsonl"]["records"][0]["$.contact.street"] == "Av. Brig. Faria Lima"
    html = (tmp_path / "pkg" / "report.html").read_text(encoding="utf-8")
    assert "<tr><th>city</th><td>São José dos Campos</td></tr>" in html
    assert "<tr><th>$.contact.email</th><td>" + SUBJECT + "</td></tr>" in html
    assert f"{SUBJECT},Luís Gonçalves" not in html, "the record as fields, not the raw CSV line"
    assert "reader1@example.net" not in html


def test_wide_tables_scroll_inside_their_box(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    request = new_request(sqlite_workspace, "access", {"email": SUBJECT})
    export_request(sqlite_workspace, request.id, tmp_path / "pkg")
    html = (tmp_path / "pkg" / "report.html").read_text(encoding="utf-8")
    assert ".scroll { overflow-x: auto" in html
    assert html.count('<div class="scroll">') == 3  # every data table in its scrolling box
    assert '<meta name="viewport"' in html


def test_access_package_carries_the_art_15_information(tmp_path: Path, chinook_sqlite: Path) -> None:
    workspace = _files_workspace(tmp_path, chinook_sqlite, ART15_POLICY)
    request = new_request(workspace, "access", {"email": SUBJECT})
    export_request(workspace, request.id, tmp_path / "pkg")
    data = json.loads((tmp_path / "pkg" / "data.json").read_text(encoding="utf-8"))
    tables = {t["asset"]: t for t in data["tables"]}
    assert tables["Customer"]["purposes"] == ["account management", "invoicing"]
    assert tables["Customer"]["recipients"] == ["payment processor"]
    assert tables["Invoice"]["retention"] == "10 years after InvoiceDate, then archive"
    assert tables["Customer"]["retention"] is None
    info = data["information"]
    assert info["controller"] == "Example Music Ltd, privacy@music.example"
    assert info["dpo"] == "not stated in the policy"
    assert {r["cite"] for r in info["rights"]} >= {"GDPR art. 16", "GDPR art. 17", "GDPR art. 18", "GDPR art. 21"}
    html = (tmp_path / "pkg" / "report.html").read_text(encoding="utf-8")
    for text in ("Example Music Ltd", "account management, invoicing", "payment processor",
                 "10 years after InvoiceDate, then archive", "to have inaccurate data rectified (GDPR art. 16)",
                 "to restrict its processing (GDPR art. 18)", "to object to its processing (GDPR art. 21)",
                 "supervisory authority", "GDPR art. 77", "Source of the data"):
        assert text in html, text
    customer = html.split("<h2>Customer")[1].split("<h2>")[0]
    assert "<dt>Kept for</dt><dd><span class=\"unstated\">not stated in the policy</span>" in customer
    crm = html.split("<h2>crm_export.csv")[1].split("<h2>")[0]
    assert crm.count("not stated in the policy") >= 3  # purposes, recipients, retention: the policy is silent


def test_ccpa_package_names_ccpa_rights(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    request = new_request(sqlite_workspace, "access", {"email": SUBJECT}, regime="ccpa")
    export_request(sqlite_workspace, request.id, tmp_path / "pkg")
    html = (tmp_path / "pkg" / "report.html").read_text(encoding="utf-8")
    assert "CCPA 1798.105" in html
    assert "California Privacy Protection Agency" in html
    assert "GDPR art. 77" not in html


_WIDTH_PROBE = """<script>
window.addEventListener("load", () => {
  const out = document.createElement("pre");
  out.id = "probe";
  const table = document.querySelector("table.wide");
  out.textContent = JSON.stringify({viewport: document.documentElement.clientWidth,
                                    scroll: document.documentElement.scrollWidth,
                                    table: Math.round(table.getBoundingClientRect().width),
                                    box: Math.round(table.parentElement.getBoundingClientRect().right)});
  document.body.appendChild(out);
});
</script>"""


@pytest.mark.slow
def test_a_wide_table_scrolls_inside_the_page_in_chromium(chromium: str, tmp_path: Path) -> None:
    """Layout facts at 1280 px in headless Chromium: a 40-column table is wider than the window
    but the page does not scroll sideways; the table's box ends inside the window."""
    import re
    import subprocess

    from govkit.actions.dsr.export import NOT_STATED, TableData, access_information
    from govkit.actions.dsr.registry import Request
    from govkit.report.templates import environment

    columns = [f"column_number_{i}" for i in range(40)]
    table = TableData("sqlite:///x.db", "crm", "Wide", "subject", [], columns,
                      [{c: f"a rather long value in {c}" for c in columns}])
    request = Request("DSR-1", "access", "gdpr", date(2026, 12, 1), date(2027, 1, 1), "P1M", "open",
                      datetime(2026, 12, 1), ["email"])
    html = environment(None).get_template("dsr_export.html.j2").render(
        meta={"request_id": "DSR-1", "type": "access", "regime": "gdpr", "received": "2026-12-01",
              "generated_at": "2026-12-01T00:00:00", "govkit_version": "test"},
        tables=[table], total=1, info=access_information(request, None), not_stated=NOT_STATED)
    html = html.replace('<div class="scroll">\n<table>', '<div class="scroll">\n<table class="wide">', 1)
    page = tmp_path / "report.html"
    page.write_text(html.replace("</body>", _WIDTH_PROBE + "</body>"), encoding="utf-8")
    dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1000",
                          "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout, re.S)
    assert found, dom.stderr[-2000:]
    facts = json.loads(found.group(1).replace("&quot;", '"'))
    assert facts["table"] > facts["viewport"], facts  # the table really is wider than the window
    assert facts["scroll"] == facts["viewport"], facts  # yet the page does not scroll sideways
    assert facts["box"] <= facts["viewport"], facts
