"""Rectification: plan per column, validated values, one transaction per database, verification."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from govkit.actions.dsr import Registry, locate, new_request, parse_assignment, rectify_request
from govkit.actions.dsr.rectify import VALUE_CHECKS, validate
from govkit.cli import main
from govkit.errors import SourceError, UsageError
from govkit.scan import scan
from govkit.workspace import Workspace, load_workspace
from tests.dsr.conftest import SUBJECT

NEW_EMAIL = "luis.goncalves@novo-dominio.com.br"
PHONE = "+55 (12) 3923-5555"


def _customer(db: Path, *columns: str) -> tuple[object, ...]:
    conn = sqlite3.connect(db)
    row = conn.execute(f"SELECT {', '.join(columns)} FROM Customer WHERE CustomerId = 1").fetchone()
    conn.close()
    return tuple(row)


def _state_text(workspace: Workspace) -> str:
    return "".join(p.read_text(errors="replace") for p in (workspace.state_dir / "audit").rglob("*") if p.is_file())


def test_plan_then_apply_an_email(sqlite_workspace: Workspace, chinook_sqlite: Path) -> None:
    request = new_request(sqlite_workspace, "rectification", {"email": SUBJECT})
    plan = rectify_request(sqlite_workspace, request.id, [f"email={NEW_EMAIL}"])
    assert [(s.asset, s.column, s.rows, s.done) for s in plan.plan.steps] == [("Customer", "Email", 1, None)]
    assert plan.plan.steps[0].entity_type == "EMAIL_ADDRESS"
    assert _customer(chinook_sqlite, "Email") == (SUBJECT,)  # the plan changes nothing
    assert NEW_EMAIL not in json.dumps(plan.to_dict())

    result = rectify_request(sqlite_workspace, request.id, [f"email={NEW_EMAIL}"], apply=True)
    assert result.plan.steps[0].done == 1
    assert _customer(chinook_sqlite, "Email", "Phone") == (NEW_EMAIL, PHONE)  # nothing else touched
    assert result.verification is not None
    assert result.verification["passed"]
    assert result.verification["old_identifier_rows_remaining"] == 0
    assert not locate(sqlite_workspace, {"email": SUBJECT}).found
    assert locate(sqlite_workspace, {"email": NEW_EMAIL}).found
    registry = Registry(sqlite_workspace.state_dir)
    try:
        assert registry.subject(request.id) == {"email": NEW_EMAIL}
        stored = registry.get(request.id)
    finally:
        registry.close()
    assert stored.status == "done"
    assert [e.step for e in stored.events] == ["registered", "rectification-planned", "rectified"]
    assert stored.events[-1].audit_seq == result.audit_seq
    audit = _state_text(sqlite_workspace)
    assert "dsr.rectify" in audit
    assert NEW_EMAIL not in audit
    assert SUBJECT not in audit
    assert "l***@n" in audit  # the new value, masked


def test_phone_changes_only_the_cells_holding_the_old_number(sqlite_workspace: Workspace,
                                                            chinook_sqlite: Path) -> None:
    fax = _customer(chinook_sqlite, "Fax")
    request = new_request(sqlite_workspace, "rectification", {"email": SUBJECT, "phone": "+551239235555"})
    result = rectify_request(sqlite_workspace, request.id, ["phone=+55 12 3923 0000", "Customer.City=Lisboa"],
                             apply=True)
    assert {(s.column, s.done) for s in result.plan.steps} == {("Phone", 1), ("City", 1)}
    assert _customer(chinook_sqlite, "Phone", "City", "Fax", "Email") == ("+55 12 3923 0000", "Lisboa", *fax,
                                                                          SUBJECT)
    assert result.verification is not None
    assert result.verification["passed"]
    registry = Registry(sqlite_workspace.state_dir)
    try:
        assert registry.subject(request.id) == {"email": SUBJECT, "phone": "+55 12 3923 0000"}
    finally:
        registry.close()


@pytest.mark.parametrize(("assignment", "message"), [
    ("email=not-an-email", r"email: the new value is not a syntactically valid e-mail address \(Customer.Email"),
    ("phone=12", "not a valid phone number"),
    ("name=Luis Goncalves", "Customer.FirstName, Customer.LastName could each hold it"),
    ("Customer.CustomerId=9", "is a key"),
    ("Customer.Nope=1", "has no column Nope"),
    ("Artist.Name=x", "holds none of the subject's rows"),
    ("Customer.Country=" + "x" * 41, r"longer than the column allows \(40"),
])
def test_bad_assignments_are_refused_with_one_line(sqlite_workspace: Workspace, chinook_sqlite: Path,
                                                   assignment: str, message: str) -> None:
    request = new_request(sqlite_workspace, "rectification", {"email": SUBJECT, "phone": "+551239235555"})
    with pytest.raises(UsageError, match=message) as caught:
        rectify_request(sqlite_workspace, request.id, [assignment], apply=True)
    value = assignment.partition("=")[2]
    assert len(value) < 3 or value not in str(caught.value)  # never echoes the value
    assert "\n" not in str(caught.value)
    assert _customer(chinook_sqlite, "Email") == (SUBJECT,)


def test_only_rectification_requests(sqlite_workspace: Workspace) -> None:
    request = new_request(sqlite_workspace, "erasure", {"email": SUBJECT})
    with pytest.raises(UsageError, match="only rectification requests"):
        rectify_request(sqlite_workspace, request.id, [f"email={NEW_EMAIL}"])


def test_failure_rolls_back_and_keeps_the_identifiers(sqlite_workspace: Workspace, chinook_sqlite: Path) -> None:
    conn = sqlite3.connect(chinook_sqlite)
    conn.execute("CREATE TRIGGER no_city BEFORE UPDATE OF City ON Customer BEGIN SELECT RAISE(ABORT, 'no'); END")
    conn.commit()
    conn.close()
    request = new_request(sqlite_workspace, "rectification", {"email": SUBJECT})
    with pytest.raises(SourceError, match="rolled back"):
        rectify_request(sqlite_workspace, request.id, [f"email={NEW_EMAIL}", "Customer.City=Lisboa"], apply=True)
    assert _customer(chinook_sqlite, "Email") == (SUBJECT,)  # the e-mail update, run first, is undone
    registry = Registry(sqlite_workspace.state_dir)
    try:
        assert registry.subject(request.id) == {"email": SUBJECT}
        assert registry.get(request.id).status == "open"
    finally:
        registry.close()


def test_two_databases_at_once(tmp_path: Path, chinook_sqlite: Path) -> None:
    second = tmp_path / "copy.db"
    shutil.copy(chinook_sqlite, second)
    folder = tmp_path / "two"
    folder.mkdir()
    (folder / "govkit.toml").write_text(
        f'[detection]\nmodel = "none"\n\n[sources.shop]\nurl = "sqlite:///{chinook_sqlite}"\n\n'
        f'[sources.crm]\nurl = "sqlite:///{second}"\n', encoding="utf-8")
    workspace = load_workspace(folder, search=False)
    scan(workspace)
    request = new_request(workspace, "rectification", {"email": SUBJECT})
    result = rectify_request(workspace, request.id, [f"email={NEW_EMAIL}"], apply=True)
    assert sorted((s.source_name, s.done) for s in result.plan.steps) == [("crm", 1), ("shop", 1)]
    assert len(result.committed) == 2
    assert _customer(chinook_sqlite, "Email") == _customer(second, "Email") == (NEW_EMAIL,)
    assert result.verification is not None
    assert result.verification["passed"]


def test_cli_rectify(sqlite_workspace: Workspace) -> None:
    runner = CliRunner()
    ws = ["--workspace", str(sqlite_workspace.root), "dsr"]
    request_id = json.loads(runner.invoke(main, [*ws, "new", "--type", "rectification", "--subject",
                                                 f"email={SUBJECT}", "-f", "json"]).output)["id"]
    plan = runner.invoke(main, [*ws, "rectify", request_id, "--set", f"email={NEW_EMAIL}"])
    assert plan.exit_code == 0, plan.output
    assert "Customer" in plan.output
    assert "--apply" in plan.output
    assert NEW_EMAIL not in plan.output
    done = runner.invoke(main, [*ws, "rectify", request_id, "--set", f"email={NEW_EMAIL}", "--apply",
                                "--format", "json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert data["verification"]["passed"]
    assert data["identifiers_updated"] == ["email"]
    assert NEW_EMAIL not in done.output
    bad = runner.invoke(main, [*ws, "rectify", request_id, "--set", "email=nope"])
    assert bad.exit_code == 2
    assert bad.output.startswith("govkit: error: --set email:")
    assert "Traceback" not in bad.output
    missing = runner.invoke(main, [*ws, "rectify", request_id])
    assert missing.exit_code == 2  # --set is required


@pytest.mark.parametrize("text", ["email", "=x", "a:b=1", ":T.c=1", "T.=1", "bad-kind=1", "luis@x.com",
                                  "a.b@x.com=y"])
def test_assignment_parser_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="--set") as caught:
        parse_assignment(text)
    assert "x.com" not in str(caught.value)


def test_assignment_parser_forms() -> None:
    item = parse_assignment("chinook:main.Customer.Email = a@b.co ")
    assert (item.source, item.table, item.column, item.kind, item.value) == ("chinook", "main.Customer", "Email",
                                                                              None, "a@b.co")
    assert parse_assignment("EMAIL=x=y").kind == "email"
    assert parse_assignment("EMAIL=x=y").value == "x=y"
    assert "a@b.co" not in repr(item)


@settings(max_examples=200, deadline=None)
@given(st.emails())
def test_valid_emails_pass(email: str) -> None:
    assert VALUE_CHECKS["EMAIL_ADDRESS"](email) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30).filter(lambda t: t.count("@") != 1))
def test_without_exactly_one_at_sign_is_not_an_email(text: str) -> None:
    assert validate(text, "EMAIL_ADDRESS", "VARCHAR(60)", "text") is not None


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=12).filter(lambda t: not t.strip().lstrip("+-").isdigit()))
def test_integer_columns_take_integers_only(text: str) -> None:
    assert validate(text, None, "INTEGER", "integer") == "is not an integer"


@pytest.mark.server
@pytest.mark.parametrize("server", ["chinook_postgres", "chinook_mysql"])
def test_rectify_on_servers(server: str, request: pytest.FixtureRequest, reload_servers: None,
                            workspace_factory: Callable[..., Workspace]) -> None:
    workspace = workspace_factory(request.getfixturevalue(server), name=f"ws-{server}")
    dsr_request = new_request(workspace, "rectification", {"email": SUBJECT})
    result = rectify_request(workspace, dsr_request.id, [f"email={NEW_EMAIL}"], apply=True)
    assert [s.done for s in result.plan.steps] == [1]
    assert result.verification is not None
    assert result.verification["passed"]
    assert not locate(workspace, {"email": SUBJECT}).found
    assert locate(workspace, {"email": NEW_EMAIL}).found
