"""The change engine's own guarantees, unit by unit: journal, exactly-once units, files, shredding."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from govkit.change import failpoints
from govkit.change.journal import Journal
from govkit.change.resume import abandon
from govkit.change.run import ChangeRun, RunConflict, list_runs, unfinished
from govkit.workspace import load_workspace

SECRET = "alice.secret@example.org"


@pytest.fixture
def state(workspace_dir: Path) -> Path:
    return workspace_dir / ".govkit"


class Crash(BaseException):
    """Stands for the process dying at a failpoint (the in-process tests cannot SIGKILL themselves)."""


def _db(tmp_path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    return engine


def _unit(run: ChangeRun, engine: sa.Engine, calls: list[int]) -> dict[str, Any]:
    def read(conn: sa.Connection) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in conn.exec_driver_sql("SELECT id, v FROM t ORDER BY id")]

    def change(conn: sa.Connection) -> dict[str, Any]:
        calls.append(1)
        conn.exec_driver_sql("UPDATE t SET v = v || '!'")
        return {"rows": 2}

    return run.db_unit(engine.connect, "u1", read, change)


def _values(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql("SELECT v FROM t ORDER BY id")]


@pytest.mark.parametrize("point", ["unit.applied", "unit.intended", "unit.committed", "unit.journaled"])
def test_a_unit_interrupted_anywhere_is_applied_exactly_once(point: str, state: Path, tmp_path: Path) -> None:
    engine = _db(tmp_path)
    run = ChangeRun.begin(state, "test", "db", {}, {"plan": 1})
    calls: list[int] = []

    def crash(_: str) -> None:
        raise Crash

    failpoints.register(point, crash)
    try:
        with pytest.raises(Crash):
            _unit(run, engine, calls)
    finally:
        failpoints.clear()
        run.release()
    committed = point in ("unit.committed", "unit.journaled")
    assert _values(engine) == (["a!", "b!"] if committed else ["a", "b"])
    again = ChangeRun.open(state, run.id)
    assert _unit(again, engine, calls) == {"rows": 2}
    assert _values(engine) == ["a!", "b!"]  # never "a!!"
    assert len(calls) == (1 if committed else 2)
    assert again.journal.unit("u1").status == "committed"
    assert again.journal.unit("u1").recovered == (point == "unit.committed")
    again.release()


def test_rows_changed_by_another_writer_after_a_crash_stop_the_resume(state: Path, tmp_path: Path) -> None:
    """Neither the before nor the after digest: resume cannot tell what happened, so it refuses to guess."""
    from govkit.change.run import UnitConflict

    engine = _db(tmp_path)
    run = ChangeRun.begin(state, "test", "db", {}, {})

    def crash(_: str) -> None:
        raise Crash

    failpoints.register("unit.intended", crash)
    try:
        with pytest.raises(Crash):
            _unit(run, engine, [])
    finally:
        failpoints.clear()
        run.release()
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE t SET v = 'edited' WHERE id = 2")  # someone else, meanwhile
    again = ChangeRun.open(state, run.id)
    with pytest.raises(UnitConflict, match="changed since the run was interrupted"):
        _unit(again, engine, [])
    assert _values(engine) == ["a", "edited"]  # nothing applied on a guess
    again.release()


def test_a_torn_journal_line_is_ignored_and_the_next_record_starts_clean(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append({"t": "intent", "unit": "u1", "before": "x", "data": {}})
    with (tmp_path / "journal.jsonl").open("ab") as handle:
        handle.write(b'{"t": "commit", "unit": "u1"')  # the crash cut this record
    again = Journal(tmp_path / "journal.jsonl")
    assert again.unit("u1").status == "intended"
    again.append({"t": "commit", "unit": "u1"})
    assert Journal(tmp_path / "journal.jsonl").unit("u1").status == "committed"


def test_a_second_run_on_the_same_target_is_refused(state: Path) -> None:
    run = ChangeRun.begin(state, "test", "db", {}, {})
    with pytest.raises(RunConflict, match=f"runs resume {run.id}"):
        ChangeRun.begin(state, "test", "db", {}, {})
    other = ChangeRun.begin(state, "test", "other-db", {}, {})  # another target is free
    assert [r.status for r in list_runs(state)] == ["running", "running"]
    run.release()
    assert {r.id: r.status for r in list_runs(state)}[run.id] == "interrupted"
    other.finish()


def test_the_run_folder_is_private_and_shredded_when_the_run_ends(state: Path, tmp_path: Path) -> None:
    run = ChangeRun.begin(state, "test", "db", {"tables": ["t"]}, {"keys": [SECRET]})
    assert stat.S_IMODE(os.stat(run.dir).st_mode) == 0o700
    for name in ("run.json", "run.key", "plan.sealed", "journal.jsonl", "anchor.json"):
        assert stat.S_IMODE(os.stat(run.dir / name).st_mode) == 0o600, name
    assert run.plan() == {"keys": [SECRET]}
    assert all(SECRET.encode() not in p.read_bytes() for p in run.dir.iterdir() if p.is_file())  # sealed
    run.finish()
    assert not (run.dir / "run.key").exists()
    assert not (run.dir / "plan.sealed").exists()
    assert json.loads((run.dir / "run.json").read_text())["status"] == "finished"
    assert unfinished(state) == []


def test_a_file_unit_writes_a_private_temp_file_and_swaps_once(state: Path, tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text(f"hello {SECRET}\n", encoding="utf-8")
    os.chmod(target, 0o640)
    run = ChangeRun.begin(state, "test", "files", {}, {}, files=[target])
    modes: list[int] = []

    def write(fd: int) -> dict[str, Any]:
        modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        os.write(fd, b"hello [REDACTED]\n")
        os.close(fd)
        return {"records": 1}

    def crash(_: str) -> None:
        raise Crash

    failpoints.register("unit.intended", crash)
    try:
        with pytest.raises(Crash):
            run.file_unit("f", target, write)
    finally:
        failpoints.clear()
    assert modes == [0o600]  # the copy holding personal data was never readable by others
    temp = run.temp_path(target)
    assert temp.exists()  # intended, not swapped: the temporary file is what tells resume so
    assert stat.S_IMODE(os.stat(temp).st_mode) == 0o600
    assert SECRET in target.read_text(encoding="utf-8")
    assert run.file_unit("f", target, write) == {"records": 1}
    assert not temp.exists()
    assert target.read_text(encoding="utf-8") == "hello [REDACTED]\n"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640  # the original's mode is kept
    assert run.file_unit("f", target, write) == {"records": 1}  # committed: not written again
    assert len(modes) == 2
    run.finish()


@pytest.mark.parametrize(("point", "swapped"), [("unit.applied", False), ("unit.committed", True)])
def test_a_file_unit_interrupted_before_its_intent_or_after_its_swap(point: str, swapped: bool, state: Path,
                                                                    tmp_path: Path) -> None:
    target = tmp_path / "app.log"
    target.write_text(f"login {SECRET}\n", encoding="utf-8")
    run = ChangeRun.begin(state, "test", "files", {}, {}, files=[target])
    writes: list[int] = []

    def write(fd: int) -> dict[str, Any]:
        writes.append(1)
        os.write(fd, target.read_bytes().replace(SECRET.encode(), b"[REDACTED]"))
        os.close(fd)
        return {"records": 1}

    def crash(_: str) -> None:
        raise Crash

    failpoints.register(point, crash)
    try:
        with pytest.raises(Crash):
            run.file_unit("f", target, write)
    finally:
        failpoints.clear()
    assert not run.temp_path(target).exists()
    with target.open("a", encoding="utf-8") as log:  # the application logs on after the crash
        log.write("login bob@example.org\n")
    assert run.file_unit("f", target, write) == {"records": 1}
    assert len(writes) == (1 if swapped else 2)  # a swapped file is never rewritten again
    text = target.read_text(encoding="utf-8")
    assert SECRET not in text
    assert text.endswith("login bob@example.org\n")  # lines added meanwhile are kept
    run.finish()


def test_abandon_removes_temp_files_and_says_so_in_the_audit_log(workspace_dir: Path, tmp_path: Path) -> None:
    from govkit.audit.log import AuditLog

    target = tmp_path / "notes.txt"
    target.write_text("x\n", encoding="utf-8")
    workspace = load_workspace(workspace_dir)
    run = ChangeRun.begin(workspace.state_dir, "anonymize.in-place", "db", {}, {}, files=[target])
    leftover = run.temp_path(target)
    leftover.write_text("copy of personal data\n", encoding="utf-8")  # a crash between write and swap
    run.release()
    info = abandon(workspace, run.id, "restored from backup")
    assert info.status == "abandoned"
    assert not leftover.exists()
    records = AuditLog(workspace.state_dir).records()
    assert [r.action for r in records] == ["anonymize.in-place.begun", "anonymize.in-place.abandoned"]
    assert records[-1].params["reason"] == "restored from backup"
    assert records[-1].counts["temp_files_removed"] == 1


def test_a_damaged_run_file_is_listed_not_a_crash(state: Path) -> None:
    from click.testing import CliRunner

    from govkit.cli import main

    folder = state / "runs" / "RUN-damaged"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text('{"kind": "x"}', encoding="utf-8")
    [info] = list_runs(state)
    assert info.status == "damaged"
    listed = CliRunner().invoke(main, ["--workspace", str(state.parent), "runs"])
    assert listed.exit_code == 1, listed.output  # something to look at, like an unfinished run
    assert "damaged" in listed.output
    with pytest.raises(Exception, match="is not a run file"):
        ChangeRun(state, "RUN-damaged")
