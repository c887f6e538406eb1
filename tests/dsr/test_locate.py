"""Locating a subject: identity fields from the inventory, normalisation, foreign keys both ways."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from govkit.actions.dsr import locate
from govkit.actions.dsr.locate import phone_forms
from govkit.cli import main
from govkit.workspace import Workspace
from tests.dsr.conftest import SUBJECT

EXPECTED = {"customer": ("subject", 1), "invoice": ("related", 7), "invoiceline": ("related", 38)}


def _summary(report: object) -> dict[str, tuple[str, int]]:
    return {h.asset.rpartition(".")[2].replace("_", "").lower(): (h.role, h.rows)
            for h in report.hits}  # type: ignore[attr-defined]


def _check_chinook(workspace: Workspace) -> None:
    report = locate(workspace, {"email": SUBJECT})
    found = _summary(report)
    for table, expected in EXPECTED.items():
        assert found[table] == expected
    assert found["employee"] == ("link", 1)  # the support rep: a link, not the subject's data
    assert {h.asset.rpartition(".")[2].replace("_", "").lower() for h in report.data()} == set(EXPECTED)
    assert len(report.data()) == 3


def test_chinook_sqlite(sqlite_workspace: Workspace) -> None:
    _check_chinook(sqlite_workspace)


@pytest.mark.parametrize("subject", [
    {"email": "  LuisG@Embraer.com.BR "},
    {"phone": "+55 (12) 3923-5555"},
    {"phone": "+551239235555"},
    {"phone": "+55 12 3923 5555"},
    {"customer_id": "1"},
])
def test_normalised_identifiers_match_the_stored_format(sqlite_workspace: Workspace, subject: dict[str, str]) -> None:
    found = _summary(locate(sqlite_workspace, subject))
    assert found["customer"] == ("subject", 1)
    assert found["invoiceline"] == ("related", 38)


def test_unknown_subject_gives_an_empty_valid_report(sqlite_workspace: Workspace) -> None:
    report = locate(sqlite_workspace, {"email": "nobody@example.com", "phone": "+1 555 0100 999"})
    assert not report.found
    assert report.hits == []
    data = report.to_dict()
    assert data["rows"] == 0
    assert data["tables"] == []
    assert json.dumps(data)


def test_report_never_holds_values(sqlite_workspace: Workspace) -> None:
    text = json.dumps(locate(sqlite_workspace, {"email": SUBJECT}).to_dict())
    assert "luisg" not in text.lower()
    assert "3923" not in text


def test_phone_forms() -> None:
    spellings, digits = phone_forms("+55 (12) 3923-5555")
    assert "+551239235555" in spellings
    assert "+55 12 3923-5555" in spellings
    assert {"551239235555", "1239235555"} <= digits


def test_cli_locate(sqlite_workspace: Workspace) -> None:
    runner = CliRunner()
    args = ["--workspace", str(sqlite_workspace.root), "dsr"]
    new = runner.invoke(main, [*args, "new", "--type", "access", "--subject", f"email={SUBJECT}", "-f", "json"])
    request_id = json.loads(new.output)["id"]
    result = runner.invoke(main, [*args, "locate", request_id, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["rows"] == 46
    assert SUBJECT not in result.output
    table = runner.invoke(main, [*args, "locate", request_id])
    assert "InvoiceLine" in table.output
    assert "link" in table.output


def _people_db(path: Path, *, index: bool) -> str:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, email VARCHAR(120) NOT NULL, city VARCHAR(40))")
    conn.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO people (email, city) VALUES (?, ?)",
                     [(f"user{i}@example.org", "Lyon") for i in range(20_000)])
    conn.execute("INSERT INTO people (email, city) VALUES ('Mixed.Case@Example.org', 'Nice')")
    conn.executemany("INSERT INTO tickets (body) VALUES (?)",
                     [(f"printer on floor {i} is broken again, please send someone",) for i in range(300)])
    conn.execute("INSERT INTO tickets (body) VALUES ('customer user77@example.org called about the invoice')")
    if index:
        conn.execute("CREATE INDEX ix_people_email ON people (email)")
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


@pytest.mark.parametrize("index", [False, True])
def test_index_advice_and_mentions(tmp_path: Path, workspace_factory: Callable[..., Workspace], index: bool) -> None:
    workspace = workspace_factory(_people_db(tmp_path / "people.db", index=index))
    report = locate(workspace, {"email": "User77@example.org"})
    found = _summary(report)
    assert found["people"] == ("subject", 1)
    assert found["tickets"] == ("mention", 1)
    # A stored spelling the index cannot match exactly is still found (normalised scan on a small table).
    assert _summary(locate(workspace, {"email": "mixed.case@example.org"}))["people"] == ("subject", 1)
    if index:
        assert report.advice == []
    else:
        assert [a.column for a in report.advice] == ["email"]
        assert report.advice[0].statement == "CREATE INDEX ix_people_email ON people (email)"


@pytest.mark.server
def test_chinook_postgres(chinook_postgres: str, workspace_factory: Callable[..., Workspace]) -> None:
    _check_chinook(workspace_factory(chinook_postgres))


@pytest.mark.server
def test_chinook_mysql(chinook_mysql: str, workspace_factory: Callable[..., Workspace]) -> None:
    _check_chinook(workspace_factory(chinook_mysql))


def test_a_shared_phone_does_not_make_another_customer_the_subject(
    sqlite_workspace: Workspace, chinook_sqlite: Path
) -> None:
    """Customer 1's phone given to a second customer (one landline, two people): with the
    subject's e-mail in the request, the other customer's row is not the subject's."""
    with sqlite3.connect(chinook_sqlite) as conn:
        phone, = conn.execute("SELECT Phone FROM Customer WHERE Email = ?", (SUBJECT,)).fetchone()
        conn.execute("UPDATE Customer SET Phone = ? WHERE CustomerId = 2", (phone,))
        conn.execute("UPDATE Customer SET Email = '' WHERE CustomerId = 3")
        conn.execute("UPDATE Customer SET Phone = ? WHERE CustomerId = 3", (phone,))
    both = _summary(locate(sqlite_workspace, {"email": SUBJECT, "phone": phone}))
    # Customer 2 has another e-mail: someone else. Customer 3's is blank: nothing contradicts.
    assert both["customer"] == ("subject", 2)
    phone_only = _summary(locate(sqlite_workspace, {"phone": phone}))
    assert phone_only["customer"] == ("subject", 3)  # without an e-mail nothing can contradict
