"""``govkit access show`` and ``export`` (SQLite Chinook: no server needed), and the SQLite review."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from govkit.actions.anonymize.operators import Mask, MaskParams, OperatorContext
from tests.access.conftest import cli, make_workspace


@pytest.fixture
def workspace(tmp_path: Path, chinook_sqlite: Path) -> Path:
    folder = make_workspace(tmp_path / "ws", f"sqlite:///{chinook_sqlite}", ["Customer", "Employee"])
    scanned = cli(folder, "scan", "-q")
    assert scanned.exit_code == 0, scanned.output
    return folder


def _policy_line(folder: Path, needle: str) -> str:
    lines = (folder / "policies" / "shop.yaml").read_text(encoding="utf-8").splitlines()
    return f"policies/shop.yaml:{next(i for i, line in enumerate(lines, 1) if needle in line)}"


def test_show_lists_every_field_with_its_decision_and_rule(workspace: Path) -> None:
    result = cli(workspace, "access", "show", "analyst", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    fields = {f"{f['asset']}.{f['field']}": f for f in data["fields"]}
    email = fields["Customer.Email"]
    assert (email["read"], email["operator"], email["params"]) == ("masked", "mask", {"keep_first": 1})
    assert email["rule"] == _policy_line(workspace, "EMAIL_ADDRESS")
    assert email["why"] == "role analyst: rule for entity type EMAIL_ADDRESS"
    assert fields["Customer.FirstName"]["operator"] == "pseudonymize"
    assert fields["Customer.Address"]["read"] == "none"
    assert fields["Customer.Address"]["rule"] == _policy_line(workspace, "LOCATION")
    assert fields["Employee.BirthDate"]["params"] == {"to": "year"}
    # every inventoried field is listed: those without personal data are clear, and say why
    assert fields["Customer.CustomerId"]["read"] == "clear"
    assert fields["Customer.CustomerId"]["why"] == "no personal data in the inventory"
    assert data["counts"] == {"fields": 28, "personal": 21, "clear": 0, "masked": 11, "none": 10}
    support = json.loads(cli(workspace, "access", "show", "support", "--format", "json").stdout)
    assert {f["read"] for f in support["fields"]} == {"clear"}
    table = cli(workspace, "access", "show", "analyst")
    assert "Access of role analyst" in table.stdout
    assert "0 clear, 11 masked, 10 denied" in table.stdout


def test_show_rejects_an_unknown_role_in_one_line(workspace: Path) -> None:
    result = cli(workspace, "access", "show", "analystt")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert 'did you mean "analyst"' in result.output


def test_export_masks_per_role_leaves_denied_fields_out_and_is_audited(workspace: Path,
                                                                        chinook_sqlite: Path) -> None:
    out = workspace / "out"
    result = cli(workspace, "access", "export", "analyst", "shop", "--to", str(out), "--table", "Customer",
                 "--table", "Employee", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["tables"] == {"Customer": 59, "Employee": 8}
    assert data["verified"] is True
    with (out / "Customer.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert "Address" not in rows[0]
    assert "City" not in rows[0]
    assert "Email" in rows[0]
    with sqlite3.connect(chinook_sqlite) as conn:
        source = dict(conn.execute("SELECT CustomerId, Email FROM Customer").fetchall())
        names = dict(conn.execute("SELECT CustomerId, FirstName FROM Customer").fetchall())
    mask = Mask(MaskParams(keep_first=1), OperatorContext(None))
    for row in rows:
        assert row["Email"] == mask.apply(source[int(row["CustomerId"])])
        assert row["FirstName"] != names[int(row["CustomerId"])]  # pseudonymized (keyed), not clear
    log = json.loads(cli(workspace, "log", "show", "--format", "json").stdout)["records"]
    record = next(r for r in log if r["action"] == "access.export")
    assert record["params"]["role"] == "analyst"
    assert record["params"]["tables"] == ["Customer", "Employee"]
    assert record["counts"]["rows"] == 67
    assert record["counts"]["rows:Customer"] == 59
    assert "Customer.Address" in record["params"]["denied"]
    assert "luisg@embraer.com.br" not in json.dumps(log)  # names and counts only, never a value

    clear = cli(workspace, "access", "export", "support", "shop", "--to", str(workspace / "c.csv"),
                "--table", "Customer")
    assert clear.exit_code == 0, clear.output
    with (workspace / "c.csv").open(encoding="utf-8") as handle:
        emails = {int(r["CustomerId"]): r["Email"] for r in csv.DictReader(handle)}
    assert emails == source  # support reads contact data in clear
    again = cli(workspace, "access", "export", "support", "shop", "--to", str(workspace / "c.csv"),
                "--table", "Customer")
    assert again.exit_code == 2
    assert "--force" in again.output


def test_export_into_a_database_counts_the_rows_written_there(workspace: Path, tmp_path: Path,
                                                             chinook_sqlite: Path) -> None:
    target = tmp_path / "analyst.db"
    result = cli(workspace, "access", "export", "analyst", "shop", "--to", f"sqlite:///{target}",
                 "--table", "Customer", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tables"] == {"Customer": 59}
    with sqlite3.connect(target) as conn:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(Customer)")]
        emails = dict(conn.execute("SELECT CustomerId, Email FROM Customer").fetchall())
    with sqlite3.connect(chinook_sqlite) as conn:
        source = dict(conn.execute("SELECT CustomerId, Email FROM Customer").fetchall())
    assert "Address" not in columns
    assert "Email" in columns
    mask = Mask(MaskParams(keep_first=1), OperatorContext(None))
    assert emails == {key: mask.apply(email) for key, email in source.items()}


def test_sqlite_review_is_not_assessed(workspace: Path) -> None:
    result = cli(workspace, "access", "review", "shop", "--fail-on", "LOW")
    assert result.exit_code == 0, result.output
    assert "not assessed" in result.stdout
    assert "no users or privileges" in result.stdout
    stored = json.loads((workspace / ".govkit" / "access" / "review-shop.json").read_text())
    assert stored["assessed"] is False
    report = cli(workspace, "report", "audit", "--format", "md")
    assert report.exit_code == 0, report.output
    section = report.stdout.split("## Access review", 1)[1].split("\n## ", 1)[0]
    assert "Access review: not assessed" in section
    assert "Not assessed: sqlite has no users or privileges" in section
    applied = cli(workspace, "access", "apply", "shop")
    assert applied.exit_code == 2
    assert "no users or privileges" in applied.output


def test_a_mapping_to_an_unknown_role_names_govkit_toml(tmp_path: Path, chinook_sqlite: Path) -> None:
    folder = make_workspace(tmp_path / "ws", f"sqlite:///{chinook_sqlite}", ["Customer"])
    with (folder / "govkit.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n[access.users]\nbob = 3\n")
    result = cli(folder, "access", "show", "analyst")
    assert result.exit_code == 2
    assert "govkit.toml" in result.output
    assert "access.users.bob must be a policy role name" in result.output
