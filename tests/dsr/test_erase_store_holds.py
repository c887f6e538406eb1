"""Erasure respects the hold store (``govkit hold``): a held subject's erasure is refused,
naming the hold, and nothing is changed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from govkit.actions.dsr import ErasureRefused, erase_request, new_request
from govkit.actions.dsr.registry import Registry
from govkit.holds import add_hold, release_hold
from govkit.workspace import Workspace
from tests.dsr.conftest import SUBJECT


def _counts(workspace: Workspace) -> tuple[int, int, int]:
    database = workspace.source("chinook").resolved_url().removeprefix("sqlite:///")
    conn = sqlite3.connect(database)
    counts = tuple(int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
                   for t in ("Customer", "Invoice", "InvoiceLine"))
    conn.close()
    return counts  # type: ignore[return-value]


def _refused(workspace: Workspace, subject: dict[str, str], hold_id: str) -> None:
    before = _counts(workspace)
    request = new_request(workspace, "erasure", subject)
    plan = erase_request(workspace, request.id).plan
    assert hold_id in {h.hold for h in plan.holds}
    with pytest.raises(ErasureRefused, match=hold_id):
        erase_request(workspace, request.id, apply=True)
    assert _counts(workspace) == before
    registry = Registry(workspace.state_dir)
    try:
        assert registry.get(request.id).status == "refused"
    finally:
        registry.close()


@pytest.mark.parametrize("held", [
    {"email": SUBJECT.upper()},  # the same address spelled otherwise: matched by digest
    {"phone": "+55 12 3923 5555"},  # another identifier: matched by the rows both searches find
])
def test_a_subject_hold_refuses_the_erasure(sqlite_workspace: Workspace, held: dict[str, str]) -> None:
    add_hold(sqlite_workspace, subject=held, reason="litigation 2026-114")
    _refused(sqlite_workspace, {"email": SUBJECT}, "HOLD-0001")


def test_an_asset_hold_whose_predicate_selects_the_subjects_rows_refuses(sqlite_workspace: Workspace) -> None:
    add_hold(sqlite_workspace, asset="Invoice", where="BillingCountry = 'Brazil'", reason="tax audit")
    _refused(sqlite_workspace, {"email": SUBJECT}, "HOLD-0001")


def test_holds_that_do_not_cover_the_subject_leave_the_erasure_alone(sqlite_workspace: Workspace) -> None:
    add_hold(sqlite_workspace, asset="Invoice", where="BillingCountry = 'Norway'", reason="other audit")
    add_hold(sqlite_workspace, subject={"email": "leonekohler@surfeu.de"}, reason="someone else")
    released = add_hold(sqlite_workspace, subject={"email": SUBJECT}, reason="over")
    release_hold(sqlite_workspace, released.id, reason="case closed")
    request = new_request(sqlite_workspace, "erasure", {"email": SUBJECT})
    result = erase_request(sqlite_workspace, request.id, apply=True)
    assert result.plan.holds == []
    assert result.verification is not None
    assert result.verification["passed"]


def test_the_refusal_names_no_identifier(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    add_hold(sqlite_workspace, subject={"email": SUBJECT}, reason="litigation")
    request = new_request(sqlite_workspace, "erasure", {"email": SUBJECT})
    with pytest.raises(ErasureRefused) as refused:
        erase_request(sqlite_workspace, request.id, apply=True)
    assert "HOLD-0001" in str(refused.value)
    assert "luisg" not in str(refused.value).lower()
    log = (sqlite_workspace.state_dir / "audit" / "log.jsonl").read_text(encoding="utf-8")
    assert "luisg" not in log.lower()
