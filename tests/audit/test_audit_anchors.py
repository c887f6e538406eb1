"""Anchors: the stores that cite audit records keep the last one they saw, so that deleting,
cutting or rolling back the audit log no longer verifies as intact (issue #11)."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from govkit.actions.dsr import Registry, locate_request, new_request
from govkit.audit import AuditLog, AuditLogError, anchors, audit_action
from govkit.audit.log import HEAD_FILE, LOG_FILE
from govkit.cli import main
from govkit.inventory.store import Inventory
from govkit.scan import scan
from govkit.workspace import Workspace
from tests.audit.conftest import Tamper
from tests.dsr.conftest import SUBJECT, make_workspace

# -- helpers -------------------------------------------------------------------------------------


def _cli(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--workspace", str(root), *args])


def _delete_log(state_dir: Path) -> None:
    """What issue #11 describes: log.jsonl and head.json deleted, nothing else touched."""
    (state_dir / "audit" / LOG_FILE).unlink()
    (state_dir / "audit" / HEAD_FILE).unlink()


def _own_anchor(state_dir: Path) -> Path:
    return state_dir / anchors.ANCHORS_DIR / "audit.json"


def _db_anchor(path: Path, table: str) -> str | None:
    with sqlite3.connect(path) as conn:
        row = conn.execute(f"SELECT value FROM {table} WHERE key = ?", (anchors.ANCHOR_KEY,)).fetchone()
    return None if row is None else str(row[0])


@pytest.fixture
def scanned(tmp_path: Path, chinook_sqlite: Path) -> Workspace:
    """A workspace over Chinook after one audited scan (pattern-only: fast)."""
    return make_workspace(tmp_path / "ws", f"sqlite:///{chinook_sqlite}")


@pytest.fixture
def with_requests(scanned: Workspace) -> Workspace:
    """Two data subject requests registered after the scan (records 2 and 3)."""
    new_request(scanned, "access", {"email": SUBJECT})
    new_request(scanned, "erasure", {"email": SUBJECT})
    return scanned


# -- a fresh workspace and normal use ---------------------------------------------------------------


def test_fresh_workspace_verifies_as_intact(workspace_dir: Path) -> None:
    result = AuditLog(workspace_dir / ".govkit").verify()
    assert (result.ok, result.records, result.problems, result.anchors) == (True, 0, [], 0)
    verify = _cli(workspace_dir, "log", "verify")
    assert verify.exit_code == 0, verify.output
    assert verify.stdout == "audit log intact: 0 record(s)\n"


def test_normal_flow_verifies_and_anchors_agree(with_requests: Workspace) -> None:
    ws = with_requests
    request = Registry(ws.state_dir).list()[0]
    locate_request(ws, request.id)
    scan(ws)  # a second scan moves the inventory's anchor
    result = AuditLog(ws.state_dir).verify()
    assert result.ok, result.problems
    assert result.records == 5
    held = {a.holder: a for a in anchors.read_all(ws.state_dir)}
    assert set(held) == {"anchors/audit.json", "dsr.db", "inventory.db"}
    records = {r.seq: r for r in AuditLog(ws.state_dir).records()}
    assert held["anchors/audit.json"].seq == 5
    assert held["inventory.db"].seq == 5
    assert records[5].action == "scan"
    assert held["dsr.db"].seq == 4
    assert records[4].action == "dsr.locate"
    for anchor in held.values():
        assert anchor.hash == records[anchor.seq].digest()
    verify = _cli(ws.root, "log", "verify")
    assert verify.exit_code == 0, verify.output
    assert verify.stdout.rstrip().endswith("; 3 anchor(s) agree")


def test_scan_anchors_the_inventory_to_its_own_record(scanned: Workspace) -> None:
    (record,) = AuditLog(scanned.state_dir).records()
    assert record.action == "scan"
    assert anchors.decode(_db_anchor(scanned.inventory_path, "meta") or "") == (1, record.digest())


def test_event_stamped_after_its_action_anchors_the_head(with_requests: Workspace) -> None:
    """An event given an audit_seq outside the action (as erase and rectify do) anchors the
    head, which is at or after the cited record."""
    ws = with_requests
    registry = Registry(ws.state_dir)
    request = registry.list()[0]
    with audit_action(ws.state_dir, "keys.rotate"):  # a record that does not touch the registry
        pass
    registry.add_event(request.id, "noted", {}, audit_seq=3)
    head = AuditLog(ws.state_dir).head()
    assert head is not None
    assert head.seq == 4
    assert anchors.decode(_db_anchor(ws.state_dir / "dsr.db", "dsr_meta") or "") == (4, head.hash)
    registry.close()


def test_anchors_hold_no_personal_data(with_requests: Workspace) -> None:
    ws = with_requests
    locate_request(ws, Registry(ws.state_dir).list()[0].id)
    values = [_own_anchor(ws.state_dir).read_text(encoding="utf-8"),
              _db_anchor(ws.state_dir / "dsr.db", "dsr_meta"), _db_anchor(ws.inventory_path, "meta")]
    for value in values:
        assert value is not None
        assert SUBJECT not in value
        assert "embraer" not in value
        anchors.decode(value)  # exactly {"seq", "hash"}: nothing else fits
    assert SUBJECT.encode() not in _own_anchor(ws.state_dir).read_bytes()


# -- deleting, cutting, rolling back ---------------------------------------------------------------


def test_log_and_head_deleted_after_dsr_steps_fails_naming_dsr_db(with_requests: Workspace) -> None:
    ws = with_requests
    _delete_log(ws.state_dir)
    result = AuditLog(ws.state_dir).verify()
    assert not result.ok
    assert "audit log is missing but dsr.db saw record 3 (records 1-3 were removed" in "\n".join(result.problems)
    assert any(p.startswith("audit log is missing but inventory.db saw record 1") for p in result.problems)
    assert any("anchors/audit.json saw record 3" in p for p in result.problems)

    verify = _cli(ws.root, "log", "verify")
    assert verify.exit_code == 1
    assert any(line.startswith("audit log is missing but dsr.db saw record 3") for line in verify.stdout.splitlines())
    assert "NOT intact" in verify.stderr


def test_whole_audit_folder_and_own_anchor_deleted_dsr_db_still_tells(with_requests: Workspace) -> None:
    ws = with_requests
    shutil.rmtree(ws.state_dir / "audit")
    shutil.rmtree(ws.state_dir / anchors.ANCHORS_DIR)
    problems = AuditLog(ws.state_dir).verify().problems
    assert [p.split(" (")[0] for p in problems] == [
        "audit log is missing but inventory.db saw record 1", "audit log is missing but dsr.db saw record 3",
    ]


def test_registry_without_anchor_row_is_checked_by_its_timeline(with_requests: Workspace) -> None:
    """A registry written before anchors existed still cites records: its highest audit_seq."""
    ws = with_requests
    with sqlite3.connect(ws.state_dir / "dsr.db") as conn:
        conn.execute("DELETE FROM dsr_meta")
    _delete_log(ws.state_dir)
    problems = AuditLog(ws.state_dir).verify().problems
    assert any(p.startswith("audit log is missing but dsr.db cites record 3") for p in problems)


def test_log_deleted_after_a_scan_fails_naming_inventory_db(scanned: Workspace) -> None:
    _delete_log(scanned.state_dir)
    _own_anchor(scanned.state_dir).unlink()
    problems = AuditLog(scanned.state_dir).verify().problems
    assert [p.split(" (")[0] for p in problems] == ["audit log is missing but inventory.db saw record 1"]
    verify = _cli(scanned.root, "log", "verify")
    assert verify.exit_code == 1
    assert verify.stdout.startswith("audit log is missing but inventory.db saw record 1")


def test_truncated_log_without_head_fails(with_requests: Workspace) -> None:
    ws = with_requests
    tamper = Tamper(AuditLog(ws.state_dir))
    tamper.write_lines(tamper.lines()[:1])
    tamper.head_path.unlink()
    problems = AuditLog(ws.state_dir).verify().problems
    assert "head: deleted" in problems[-1]
    assert any(p.startswith("audit log ends at record 1 but dsr.db saw record 3 (records 2-3 were removed")
               for p in problems)


def test_log_rolled_back_with_its_head_fails(with_requests: Workspace, tmp_path: Path) -> None:
    """The gap the head alone cannot close: log and head restored together from an older copy."""
    ws = with_requests
    audit = ws.state_dir / "audit"
    backup = tmp_path / "backup"
    backup.mkdir()
    for name in (LOG_FILE, HEAD_FILE):
        shutil.copy2(audit / name, backup / name)  # at record 3
    request = Registry(ws.state_dir).list()[0]
    locate_request(ws, request.id)  # record 4, anchored by dsr.db
    for name in (LOG_FILE, HEAD_FILE):
        shutil.copy2(backup / name, audit / name)

    result = AuditLog(ws.state_dir).verify()
    assert not result.ok
    assert [p.split(" (")[0] for p in result.problems] == [
        "audit log ends at record 3 but anchors/audit.json saw record 4",
        "audit log ends at record 3 but dsr.db saw record 4",
    ]
    assert "rolled back" in result.problems[0]


def test_replaced_record_fails(filled_log: AuditLog, state_dir: Path) -> None:
    """An authentic record at an anchor's seq that is not the one the anchor saw: the log was swapped."""
    anchors.record_anchor(state_dir, "change", 4, hashlib.sha256(b"another record 4").hexdigest())
    problems = filled_log.verify().problems
    assert len(problems) == 1
    assert problems[0].startswith("seq 4: replaced (anchors/change.json saw another record 4")


def test_run_anchor_file_ahead_of_the_log_fails(filled_log: AuditLog, state_dir: Path) -> None:
    run = state_dir / anchors.RUNS_DIR / "run-1"
    anchors.write_anchor_file(run / anchors.RUN_ANCHOR_FILE, 7, "ab" * 32)
    assert (run / "anchor.json").read_text(encoding="utf-8") == '{"hash":"' + "ab" * 32 + '","seq":7}\n'
    problems = filled_log.verify().problems
    assert problems == ["audit log ends at record 5 but runs/run-1/anchor.json saw record 7 (records 6-7 were "
                        "removed, or the log and its head were rolled back to an older copy)"]


def test_garbled_anchor_file_is_a_note_not_a_failure(filled_log: AuditLog, state_dir: Path) -> None:
    run = state_dir / anchors.RUNS_DIR / "run-2"
    run.mkdir(parents=True)
    (run / "anchor.json").write_text('{"seq": 3}', encoding="utf-8")
    result = filled_log.verify()
    assert result.ok, result.problems
    assert any(n.startswith("runs/run-2/anchor.json: not a valid anchor") for n in result.notes)


def test_anchor_api_rejects_bad_values(state_dir: Path) -> None:
    with pytest.raises(ValueError, match="holder"):
        anchors.record_anchor(state_dir, "../escape", 1, "ab" * 32)
    with pytest.raises(ValueError, match="seq"):
        anchors.record_anchor(state_dir, "change", 0, "ab" * 32)
    with pytest.raises(ValueError, match="hash"):
        anchors.record_anchor(state_dir, "change", 1, "a@example.com")


# -- the damage stays visible until a deliberate restart ---------------------------------------------


def test_append_refuses_while_an_anchor_is_ahead(with_requests: Workspace) -> None:
    ws = with_requests
    _delete_log(ws.state_dir)
    with pytest.raises(AuditLogError, match=r"the log is missing but .* record 3, so govkit will not add to it"):
        new_request(ws, "access", {"email": SUBJECT})
    assert not (ws.state_dir / "audit" / LOG_FILE).exists()
    assert len(Registry(ws.state_dir).list()) == 2  # the refused action changed nothing


def test_restart_supersedes_the_old_anchors(with_requests: Workspace, tmp_path: Path) -> None:
    ws = with_requests
    log = AuditLog(ws.state_dir)
    with pytest.raises(AuditLogError, match="still holds a log"):
        log.restart()
    aside = tmp_path / "old-audit"
    shutil.move(ws.state_dir / "audit", aside)  # investigated and kept

    restart = _cli(ws.root, "log", "restart")
    assert restart.exit_code == 0, restart.output
    assert "supersedes 3 anchor(s)" in restart.stdout
    (first,) = log.records()
    assert first.action == "log.restart"
    assert {item["holder"] for item in first.params["superseded"]} == {"anchors/audit.json", "dsr.db", "inventory.db"}

    result = log.verify()
    assert result.ok, result.problems
    assert sum("superseded by log.restart" in n for n in result.notes) == 2  # dsr.db and inventory.db
    new_request(ws, "access", {"email": SUBJECT})  # appends again, and moves dsr.db's anchor to the new log
    result = log.verify()
    assert result.ok, result.problems
    assert [n for n in result.notes if "superseded" in n] == [
        "inventory.db saw record 1 of the previous log (superseded by log.restart, seq 1)"]


def test_restart_has_help() -> None:
    result = CliRunner().invoke(main, ["log", "restart", "--help"])
    assert result.exit_code == 0
    assert "moved aside" in result.output


def test_library_inventory_outside_an_action_keeps_no_anchor(tmp_path: Path) -> None:
    """Stores written outside an audited action (a scan without a workspace) anchor nothing."""
    state = tmp_path / ".govkit"
    inventory = Inventory(state / "inventory.db")
    inventory.begin_scan("s1", datetime(2026, 1, 1), "sample")
    inventory.finish_scan("s1", stats={}, skipped=[], status="ok")
    inventory.close()
    assert _db_anchor(state / "inventory.db", "meta") is None
    assert AuditLog(state).verify().ok


def test_audit_report_shows_the_failure(with_requests: Workspace) -> None:
    from govkit.report.audit import check_integrity

    _delete_log(with_requests.state_dir)
    view = check_integrity(with_requests.state_dir)
    assert view.ok is False
    assert any(p.startswith("audit log is missing but dsr.db saw record 3") for p in view.problems)
