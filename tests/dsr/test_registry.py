"""The request registry: ids, due dates from the policy, timelines, identifiers encrypted at rest."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from govkit.actions.dsr import Registry, parse_subject
from govkit.actions.dsr.registry import due_date
from govkit.cli import main
from govkit.errors import UsageError
from govkit.keys import init_keys
from govkit.policy.loader import load_pack

EMAIL = "luisg@embraer.com.br"


@pytest.mark.parametrize(("regime", "received", "due"), [
    ("gdpr", date(2026, 1, 31), date(2026, 2, 28)),   # one calendar month, clamped to the month's end
    ("ccpa", date(2026, 1, 1), date(2026, 2, 15)),    # 45 days
    ("pipl", date(2026, 1, 2), date(2026, 1, 23)),    # 15 working days from a Friday
])
def test_due_dates_follow_the_policy(regime: str, received: date, due: date) -> None:
    assert due_date(load_pack("baseline"), regime, received)[0] == due


def test_due_date_without_policy_uses_the_statutory_default() -> None:
    assert due_date(None, "ccpa", date(2026, 1, 1))[0] == date(2026, 2, 15)


@pytest.mark.parametrize("text", ["", "email", "=x", "email=", "e mail=x"])
def test_parse_subject_rejects_malformed_pairs(text: str) -> None:
    with pytest.raises(UsageError):
        parse_subject(text)


def test_parse_subject() -> None:
    assert parse_subject(" Email = A@B.c , customer_id=3") == {"email": "A@B.c", "customer_id": "3"}


def test_identifiers_are_encrypted_at_rest(tmp_path: Path) -> None:
    init_keys(tmp_path)
    registry = Registry(tmp_path)
    request = registry.create("access", {"email": EMAIL, "phone": "+55 (12) 3923-5555"})
    assert request.subject is None
    assert EMAIL.encode() not in (tmp_path / "dsr.db").read_bytes()
    assert b"3923" not in (tmp_path / "dsr.db").read_bytes()
    assert registry.subject(request.id) == {"email": EMAIL, "phone": "+55 (12) 3923-5555"}
    assert request.subject_keys == ["email", "phone"]
    registry.close()


def test_list_puts_overdue_first(tmp_path: Path) -> None:
    init_keys(tmp_path)
    registry = Registry(tmp_path)
    fresh = registry.create("access", {"email": "a@example.com"}, regime="ccpa")
    late = registry.create("erasure", {"email": "b@example.com"}, received=date(2020, 1, 1))
    done = registry.create("access", {"email": "c@example.com"}, received=date(2019, 1, 1))
    registry.set_status(done.id, "done")
    assert [r.id for r in registry.list()] == [late.id, fresh.id, done.id]
    assert registry.get(late.id).overdue()
    assert not registry.get(done.id).overdue()
    registry.close()


def test_cli_new_list_show(workspace_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["dsr", "new", "--type", "access", "--subject", f"email={EMAIL}",
                                  "--regime", "pipl", "--received", "2026-01-02", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # stderr: the warning that it was born overdue
    assert data["due"] == "2026-01-23"
    assert EMAIL not in result.output
    listed = json.loads(runner.invoke(main, ["dsr", "list", "--format", "json"]).output)
    assert [r["id"] for r in listed["requests"]] == [data["id"]]
    shown = runner.invoke(main, ["dsr", "show", data["id"]])
    assert shown.exit_code == 0
    assert "registered" in shown.output
    assert EMAIL not in shown.output
    revealed = runner.invoke(main, ["dsr", "show", data["id"], "--reveal", "--format", "json"])
    assert json.loads(revealed.output)["subject"] == {"email": EMAIL}
    log = (workspace_dir / ".govkit" / "audit").rglob("*")
    assert all(EMAIL not in p.read_text(errors="replace") for p in log if p.is_file())


def test_cli_unknown_request_is_a_usage_error(workspace_dir: Path) -> None:
    result = CliRunner().invoke(main, ["dsr", "show", "DSR-NOPE"])
    assert result.exit_code == 2
    assert "no DSR request" in result.output
