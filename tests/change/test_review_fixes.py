"""Review findings on the change engine, each with the scenario that broke it."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from govkit.actions.anonymize.run import AnonymizeRequest, anonymize
from govkit.audit.log import AuditLog
from govkit.change import failpoints
from govkit.change.resume import resume
from govkit.change.run import ChangeRun, RunConflict, decode_value, encode_value, ensure_free, unfinished
from govkit.errors import UsageError
from govkit.workspace import Workspace, load_workspace


@pytest.fixture
def ws(workspace_dir: Path) -> Workspace:
    return load_workspace(workspace_dir)


def _table(db: Path, key_type: str, keys: list[object]) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(f"CREATE TABLE people (id {key_type} PRIMARY KEY, email TEXT)")
        conn.executemany("INSERT INTO people VALUES (?, ?)", [(k, f"p{i}@example.org") for i, k in enumerate(keys)])


def _emails(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT email FROM people ORDER BY email")]


@pytest.mark.parametrize("value", [b"\x00\xffkey", uuid.UUID(int=7), 12, "text", 1.5,
                                   __import__("datetime").datetime(2024, 5, 1, 9, 30),
                                   __import__("decimal").Decimal("10.25"), [1, "a"]])
def test_key_values_survive_the_journal_with_their_type(value: object) -> None:
    back = decode_value(__import__("json").loads(__import__("json").dumps(encode_value(value))))
    assert back == value
    assert type(back) is type(value)


@pytest.mark.parametrize(("key_type", "keys"), [
    ("BLOB", [bytes([i, 255 - i]) for i in range(7)]),  # stringified, a blob key ranked above every text
    ("TEXT", [f"K{i:02d}" for i in range(7)]),
])
def test_small_units_over_typed_keys_rewrite_every_row_exactly_once(key_type: str, keys: list[object],
                                                                     ws: Workspace, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = tmp_path / "one.sqlite", tmp_path / "two.sqlite"
    _table(one, key_type, keys)
    _table(two, key_type, keys)
    rule = ["people.email=pseudonymize"]
    whole = anonymize(AnonymizeRequest(f"sqlite:///{one}", in_place=True, apply=True, rules=rule), ws)
    small = anonymize(AnonymizeRequest(f"sqlite:///{two}", in_place=True, apply=True, rules=rule, batch_size=2), ws)
    assert whole.rows == small.rows == 7
    assert _emails(one) == _emails(two)  # two-row units give what one unit gives: nothing twice


def test_a_null_primary_key_is_refused_before_the_run_begins(ws: Workspace, tmp_path: Path) -> None:
    db = tmp_path / "nulls.sqlite"
    _table(db, "TEXT", [None, "a", "b"])  # SQLite allows NULL in a non-integer primary key
    with pytest.raises(UsageError, match="NULL in its primary key"):
        anonymize(AnonymizeRequest(f"sqlite:///{db}", in_place=True, apply=True, rules=["people.email=redact"]), ws)
    assert unfinished(ws.state_dir) == []
    assert "p0@example.org" in _emails(db)


def test_a_run_interrupted_by_ctrl_c_still_gets_its_finished_record(ws: Workspace, tmp_path: Path) -> None:
    db = tmp_path / "people.sqlite"
    _table(db, "INTEGER", list(range(1, 8)))

    def interrupt(_: str) -> None:
        raise KeyboardInterrupt

    failpoints.register("unit.journaled", interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            anonymize(AnonymizeRequest(f"sqlite:///{db}", in_place=True, apply=True,
                                       rules=["people.email=redact"], batch_size=3), ws)
    finally:
        failpoints.clear()
    [run] = unfinished(ws.state_dir)
    resume(ws, run.id)
    records = [(r.action, r.outcome) for r in AuditLog(ws.state_dir).records() if r.params.get("run_id") == run.id]
    assert records == [("anonymize.in-place.begun", "begun"), ("anonymize", "interrupted"),
                       ("anonymize.in-place.resumed", "resumed"), ("anonymize", "ok")]


def test_an_unfinished_run_blocks_runs_of_any_kind_on_the_same_source(ws: Workspace) -> None:
    run = ChangeRun.begin(ws.state_dir, "anonymize.in-place", "sqlite:////srv/shop.db", {}, {},
                          sources=["sqlite:////srv/shop.db"])
    run.release()
    with pytest.raises(RunConflict, match=r"sqlite:////srv/shop\.db is unfinished"):
        ensure_free(ws.state_dir, "dsr:DSR-1", ["sqlite:////srv/shop.db", "/srv/exports"])
    ensure_free(ws.state_dir, "dsr:DSR-1", ["/srv/exports"])  # another source: free


def test_a_crash_inside_begin_before_its_record_is_begun_late_by_resume(ws: Workspace, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "people.sqlite"
    _table(db, "INTEGER", list(range(1, 4)))

    def crash(self: ChangeRun, *, late: bool = False) -> None:
        raise KeyboardInterrupt  # stands for the process dying between run.json and the begun record

    with monkeypatch.context() as patched:
        patched.setattr(ChangeRun, "write_begun", crash)
        with pytest.raises(KeyboardInterrupt):
            anonymize(AnonymizeRequest(f"sqlite:///{db}", in_place=True, apply=True, rules=["people.email=redact"]),
                      ws)
    [run] = unfinished(ws.state_dir)
    assert AuditLog(ws.state_dir).records() == []
    resume(ws, run.id)
    records = [(r.action, r.params.get("late")) for r in AuditLog(ws.state_dir).records()]
    assert records[0] == ("anonymize.in-place.begun", True)
    assert records[-1][0] == "anonymize"
    assert not any("@" in e for e in _emails(db))


def test_a_run_whose_key_was_lost_can_still_be_abandoned(ws: Workspace) -> None:
    from govkit.change.resume import abandon

    run = ChangeRun.begin(ws.state_dir, "anonymize.in-place", "db", {}, {})
    run.release()
    (run.dir / "run.key").unlink()
    with pytest.raises(Exception, match="only abandoned"):
        resume(ws, run.id)
    assert abandon(ws, run.id, "key lost").status == "abandoned"


def test_resume_refuses_after_a_key_rotation(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    run = ChangeRun.begin(ws.state_dir, "anonymize.in-place", "db", {}, {})
    run.release()
    monkeypatch.setenv("GOVKIT_KEY", "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMzI=")
    with pytest.raises(UsageError, match="began under key"):
        resume(ws, run.id)
