"""``--in-place --apply`` re-reads what it wrote: personal data left in a transformed column fails the run."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from govkit.actions.anonymize.export import VerificationFailed
from govkit.actions.anonymize.run import AnonymizeRequest, anonymize
from govkit.cli import main
from govkit.workspace import Workspace, load_workspace

KEY = base64.b64encode(b"v" * 32).decode()
#: keeps 200 characters of an email: still an email, which verification must catch
LEAKY = "Customer.Email=generalize:to=prefix,bucket=200"


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", KEY)
    monkeypatch.delenv("GOVKIT_KEY_FILE", raising=False)


@pytest.fixture
def ws(workspace_dir: Path) -> Workspace:
    """In-place runs need a workspace: their journal and audit log live in it."""
    return load_workspace(workspace_dir)


def emails(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT Email FROM Customer ORDER BY CustomerId")]


def test_in_place_verification_passes_and_says_so(chinook_sqlite: Path, ws: Workspace) -> None:
    source = f"sqlite:///{chinook_sqlite}"
    result = anonymize(AnonymizeRequest(source, in_place=True, apply=True, table=["Customer"],
                                        rules=["Customer.Email=mask:keep_first=1", "Customer.Fax=drop"]), ws)
    assert result.verified
    assert result.problems == []
    with sqlite3.connect(chinook_sqlite) as conn:
        assert conn.execute("SELECT count(*) FROM Customer WHERE Fax IS NOT NULL").fetchone() == (0,)
    # re-running over masked values is safe: a value masked to itself is no leak
    again = anonymize(AnonymizeRequest(source, in_place=True, apply=True, table=["Customer"],
                                       rules=["Customer.Email=mask:keep_first=1"]), ws)
    assert again.verified, again.problems


def test_in_place_verification_failure_names_the_column_and_keeps_the_commit(chinook_sqlite: Path,
                                                                             ws: Workspace) -> None:
    source = f"sqlite:///{chinook_sqlite}"
    before = emails(chinook_sqlite)
    with pytest.raises(VerificationFailed, match="committed") as info:
        anonymize(AnonymizeRequest(source, in_place=True, apply=True, table=["Customer"], rules=[LEAKY]), ws)
    message = str(info.value)
    assert "Customer.Email" in message
    assert "still show EMAIL_ADDRESS" in message
    assert not any(e in message for e in before)  # names the field, never a value
    assert not info.value.result.verified
    assert info.value.result.rows == 59  # the batches were committed, not rolled back


def test_in_place_no_verify_skips_the_read_back(chinook_sqlite: Path, ws: Workspace) -> None:
    result = anonymize(AnonymizeRequest(f"sqlite:///{chinook_sqlite}", in_place=True, apply=True,
                                        table=["Customer"], rules=[LEAKY], verify=False), ws)
    assert not result.verified
    assert result.problems == []


def test_in_place_verification_in_the_cli_json_and_audit(chinook_sqlite: Path, workspace_dir: Path) -> None:
    runner = CliRunner()
    source = f"sqlite:///{chinook_sqlite}"
    result = runner.invoke(main, ["anonymize", source, "--in-place", "--apply", "--table", "Customer",
                                  "--rule", LEAKY, "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "incomplete (changes committed)"
    assert data["verification"] == "failed"
    assert data["committed"] is True
    assert any(p.startswith("Customer.Email:") for p in data["problems"])
    assert "committed (not rolled back)" in result.stderr
    ok = runner.invoke(main, ["anonymize", source, "--in-place", "--apply", "--table", "Customer",
                              "--rule", "Customer.Email=redact"])
    assert ok.exit_code == 0, ok.output
    assert "verified" in ok.stderr
    log = runner.invoke(main, ["log", "show", "--format", "json"])
    records = [r for r in json.loads(log.output)["records"] if r["action"] == "anonymize"]
    assert records[-2]["outcome"] == "verification-failed"
    assert records[-2]["params"]["verification"] == "failed"
    assert records[-2]["params"]["status"] == "incomplete (changes committed)"
    assert records[-1]["params"]["verification"] == "passed"
    assert "@" not in json.dumps(records)  # no email, original or left over, in the log
