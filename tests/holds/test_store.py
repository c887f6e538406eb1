"""The hold store: encrypted identifiers, keyed digests, masked listing and audit, lifecycle."""

from __future__ import annotations

import json
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest

from govkit.errors import UsageError
from govkit.holds import DB_FILE, add_hold, list_holds, load_holds, release_hold
from govkit.workspace import Workspace

EMAIL = "Luisg@Embraer.com.br"


def _audit(workspace: Workspace) -> list[dict[str, object]]:
    path = workspace.state_dir / "audit" / "log.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_a_subject_hold_keeps_the_identifier_encrypted_and_shows_it_masked(workspace: Workspace) -> None:
    hold = add_hold(workspace, subject={"email": EMAIL}, reason="litigation, counsel ann@example.com")
    assert hold.id == "HOLD-0001"
    assert hold.kind == "subject"
    assert hold.subject_masked["email"] != EMAIL
    assert hold.subject_masked["email"].startswith("L***@")
    assert "ann@example.com" not in hold.reason  # typed text is masked like a note
    path = workspace.state_dir / DB_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = path.read_bytes()
    assert EMAIL.encode() not in raw
    assert EMAIL.lower().encode() not in raw
    records = [r for r in _audit(workspace) if r["action"] == "hold.add"]
    assert len(records) == 1
    text = json.dumps(records[0])
    assert "HOLD-0001" in text
    assert "embraer" not in text.lower()
    assert "ann@example.com" not in text
    listed = json.dumps([h.to_dict() for h in list_holds(workspace)])
    assert "embraer" not in listed.lower()


def test_digests_match_other_spellings_of_the_same_identifier(workspace: Workspace) -> None:
    add_hold(workspace, subject={"email": EMAIL, "phone": "+55 (12) 3923-5555"}, reason="case 1")
    holds = load_holds(workspace)
    assert [h.id for h in holds.matching_subject({"email": " luisg@embraer.com.br "})] == ["HOLD-0001"]
    assert [h.id for h in holds.matching_subject({"phone": "+551239235555"})] == ["HOLD-0001"]
    assert holds.matching_subject({"email": "someone.else@example.com"}) == []
    assert holds.matching_subject({"phone": "+55 12 3923-5556"}) == []


def test_until_release_and_listing(workspace: Workspace) -> None:
    today = date.today()
    first = add_hold(workspace, asset="Invoice", reason="tax audit", until=today + timedelta(days=30))
    second = add_hold(workspace, asset="Customer", where="Country = 'Brazil'", reason="inquiry")
    assert (first.id, second.id) == ("HOLD-0001", "HOLD-0002")
    assert [h.id for h in list_holds(workspace)] == ["HOLD-0001", "HOLD-0002"]
    # past its until date a hold no longer applies, but is still listed with --all
    later = today + timedelta(days=31)
    assert [h.id for h in load_holds(workspace, on=later).holds] == ["HOLD-0002"]
    assert first.status(later) == "expired"
    released = release_hold(workspace, "hold-0002", reason="inquiry closed")
    assert released.status() == "released"
    assert released.release_reason == "inquiry closed"
    assert [h.id for h in list_holds(workspace)] == ["HOLD-0001"]
    assert [h.id for h in list_holds(workspace, include_all=True)] == ["HOLD-0001", "HOLD-0002"]
    with pytest.raises(UsageError, match="already released"):
        release_hold(workspace, "HOLD-0002", reason="again")
    actions = [r["action"] for r in _audit(workspace) if str(r["action"]).startswith("hold.")]
    assert actions == ["hold.add", "hold.add", "hold.release"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"asset": "Invoice", "where": "Nope = 1"}, "has no column 'Nope'"),
    ({"asset": "Invoice", "where": "BillingCountry = Brazil"}, "--where: bad predicate"),
    ({"asset": "Invoice", "source": "elsewhere"}, "--source 'elsewhere'"),
    ({"asset": "Invoice", "until": date(2001, 1, 1)}, "is in the past"),
    ({"subject": {"email": "a@example.com"}, "asset": "Invoice"}, "one of them"),
    ({"subject": {"email": "a@example.com"}, "where": "x = 1"}, "use them with --asset"),
    ({}, "one of them"),
])
def test_bad_input_is_refused_before_anything_is_stored(workspace: Workspace, kwargs: dict[str, object],
                                                         message: str) -> None:
    with pytest.raises(UsageError, match=message):
        add_hold(workspace, reason="r", **kwargs)  # type: ignore[arg-type]
    assert list_holds(workspace, include_all=True) == []


def test_an_asset_the_inventory_does_not_know_is_accepted(workspace: Workspace) -> None:
    hold = add_hold(workspace, asset="archive_2019", where="kind = 'x'", reason="not scanned yet")
    assert hold.where == "kind = 'x'"


def test_unknown_hold_id(workspace: Workspace) -> None:
    with pytest.raises(UsageError, match="no legal hold 'HOLD-0042'"):
        release_hold(workspace, "HOLD-0042", reason="x")
    add_hold(workspace, asset="Invoice", reason="r")
    with pytest.raises(UsageError, match="no legal hold 'HOLD-0042'"):
        release_hold(workspace, "HOLD-0042", reason="x")


def test_holds_placed_before_a_key_rotation_still_match_and_decrypt(
        tmp_path: Path, chinook_sqlite: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from govkit.holds import HoldStore
    from govkit.keys import init_keys, rotate_keys
    from tests.dsr.conftest import make_workspace

    monkeypatch.delenv("GOVKIT_KEY", raising=False)
    monkeypatch.delenv("GOVKIT_KEY_FILE", raising=False)
    init_keys(tmp_path / "keyed" / ".govkit")
    workspace = make_workspace(tmp_path / "keyed", f"sqlite:///{chinook_sqlite}")
    before = add_hold(workspace, subject={"email": EMAIL}, reason="case 1")
    rotate_keys(workspace.state_dir)
    after = add_hold(workspace, subject={"email": EMAIL}, reason="case 2")
    assert before.key_id != after.key_id
    matched = load_holds(workspace).matching_subject({"email": EMAIL.lower()})
    assert [h.id for h in matched] == [before.id, after.id]
    store = HoldStore(workspace.state_dir)
    try:
        assert store.subject(before.id) == {"email": EMAIL}
    finally:
        store.close()
