"""Review fixes: other people's records untouched, JSONL fields by path, files changed
meanwhile, no copies of the subject's data left, a rectification or erasure failing in one
database completed by resume, and driver messages that quote values."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from govkit.actions.dsr import erase_request, new_request, rectify_request
from govkit.actions.dsr import rewrite as rewrite_module
from govkit.actions.dsr.files import LineMatcher
from govkit.actions.dsr.rewrite import FileJob, replace_spans
from govkit.change import failpoints
from govkit.change.resume import resume
from govkit.change.run import ChangeRun, UnitConflict, unfinished
from govkit.errors import SourceError
from govkit.scan import scan
from govkit.sources import database as database_module
from govkit.workspace import Workspace, load_workspace
from tests.dsr.conftest import SUBJECT, rewrite_file

NEW_EMAIL = "luis.goncalves@novo-dominio.com.br"


@pytest.mark.parametrize("other", [f"jo{SUBJECT}", f"{SUBJECT}.evil", f"mail.{SUBJECT}",
                                   SUBJECT.replace("@", "-x@"), f"x{SUBJECT.upper()}"])
def test_a_longer_address_holding_the_subjects_is_someone_else(other: str) -> None:
    matcher = LineMatcher({"email": SUBJECT})
    assert not matcher(f"2026-01-01 login {other} ok")
    assert replace_spans(f"to {other}", matcher, FileJob(Path("x"), "anonymize")) == f"to {other}"
    for line in (f"to {SUBJECT}.", f"<{SUBJECT}>", f"mailto:{SUBJECT.upper()},", f'"{SUBJECT}"'):
        assert matcher(line)
        assert "[REDACTED]" in replace_spans(line, matcher, FileJob(Path("x"), "anonymize"))


def test_erasure_keeps_the_csv_record_of_another_person(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text(f"id,email\n1,jo{SUBJECT}\n2,{SUBJECT}\n", encoding="utf-8")
    assert rewrite_file(FileJob(path, "delete"), LineMatcher({"email": SUBJECT})) == 1
    assert path.read_text(encoding="utf-8") == f"id,email\n1,jo{SUBJECT}\n"


def _jsonl_workspace(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    (root / "exports").mkdir(parents=True)
    people = [{"id": i, "email": f"p{i}@example.org", "contact": {"street": f"{i} Main Street"}}
              for i in range(30)]
    people.append({"id": 99, "email": SUBJECT, "contact": {"street": "Avenida Brigadeiro 1"}})
    (root / "exports" / "people.jsonl").write_text("".join(json.dumps(p) + "\n" for p in people),
                                                   encoding="utf-8")
    (root / "govkit.toml").write_text('[detection]\nmodel = "none"\n\n[sources.exports]\npath = "exports"\n',
                                      encoding="utf-8")
    (root / "policies").mkdir()
    (root / "policies" / "p.yaml").write_text(
        'version: 1\nextends: [gdpr]\ndsr:\n  erasure:\n    - asset: "*.jsonl"\n      action: anonymize\n'
        '      legal_basis: "kept"\n', encoding="utf-8")
    workspace = load_workspace(root, search=False)
    scan(workspace)
    return workspace


def test_jsonl_anonymize_applies_the_operators_of_nested_paths(tmp_path: Path) -> None:
    workspace = _jsonl_workspace(tmp_path)
    request = new_request(workspace, "erasure", {"email": SUBJECT})
    result = erase_request(workspace, request.id, apply=True)
    step = next(s for s in result.plan.steps if s.asset == "people.jsonl")
    assert "$.contact.street" in step.operators  # the inventory names it by path
    lines = (workspace.root / "exports" / "people.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["contact"]["street"] == "0 Main Street"  # other records untouched
    erased = json.loads(lines[-1])
    assert erased["id"] == 99
    assert "Brigadeiro" not in erased["contact"]["street"]


def test_a_file_changed_after_it_was_read_is_not_replaced(tmp_path: Path, workspace_dir: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(f"10:00 login {SUBJECT}\n", encoding="utf-8")
    run = ChangeRun.begin(workspace_dir / ".govkit", "test.rewrite", "app.log", {}, {}, files=[log])

    def write(fd: int) -> dict[str, int]:
        records = rewrite_module.write_into(FileJob(log, "anonymize"), LineMatcher({"email": SUBJECT}), fd)
        with log.open("a", encoding="utf-8") as out:  # the application logs on meanwhile
            out.write("10:01 login ana@example.org\n")
        return {"records": records}

    with pytest.raises(UnitConflict, match="changed while it was being rewritten"):
        run.file_unit("file:app.log", log, write)
    assert log.read_text(encoding="utf-8") == f"10:00 login {SUBJECT}\n10:01 login ana@example.org\n"
    assert [p.name for p in tmp_path.iterdir() if p.name != "ws"] == ["app.log"]
    run.release()


def _two_databases(tmp_path: Path, chinook_sqlite: Path, files: bool = False) -> tuple[Workspace, Path]:
    second = tmp_path / "copy.db"
    shutil.copy(chinook_sqlite, second)
    folder = tmp_path / "two"
    folder.mkdir()
    config = (f'[detection]\nmodel = "none"\n\n[sources.shop]\nurl = "sqlite:///{chinook_sqlite}"\n\n'
              f'[sources.crm]\nurl = "sqlite:///{second}"\n')
    if files:
        (folder / "exports").mkdir()
        (folder / "exports" / "app.log").write_text(f"10:00 login {SUBJECT}\n10:01 login ana@example.org\n",
                                                    encoding="utf-8")
        config += '\n[sources.exports]\npath = "exports"\n'
    (folder / "govkit.toml").write_text(config, encoding="utf-8")
    workspace = load_workspace(folder, search=False)
    scan(workspace)
    return workspace, second


def _email(db: Path) -> str:
    conn = sqlite3.connect(db)
    row = conn.execute("SELECT Email FROM Customer WHERE CustomerId = 1").fetchone()
    conn.close()
    return str(row[0])


def test_rectification_failing_in_one_database_is_completed_by_resume(
    tmp_path: Path, chinook_sqlite: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    workspace, second = _two_databases(tmp_path, chinook_sqlite)
    request = new_request(workspace, "rectification", {"email": SUBJECT})
    plan = rectify_request(workspace, request.id, [f"email={NEW_EMAIL}"])
    last = {"shop": chinook_sqlite, "crm": second}[plan.plan.steps[-1].source_name or ""]
    first = second if last == chinook_sqlite else chinook_sqlite
    conn = sqlite3.connect(last)  # the database updated last refuses
    conn.execute("CREATE TRIGGER no_mail BEFORE UPDATE OF Email ON Customer BEGIN SELECT RAISE(ABORT, 'x'); END")
    conn.commit()
    conn.close()
    # as MariaDB words a unique violation: the driver's message quotes the new value
    monkeypatch.setattr(database_module, "_first_line", lambda exc: f"(1062, \"Duplicate entry '{NEW_EMAIL}' "
                                                                    f"for key 'Email'\")")
    with pytest.raises(SourceError, match="rolled back") as caught:
        rectify_request(workspace, request.id, [f"email={NEW_EMAIL}"], apply=True)
    assert NEW_EMAIL not in str(caught.value)
    assert "Duplicate entry '***'" in str(caught.value)
    assert "runs resume" in str(caught.value)
    assert _email(last) == SUBJECT  # its transaction was rolled back
    assert _email(first) == NEW_EMAIL  # the database before it committed, and the run stays open
    [run] = unfinished(workspace.state_dir)
    another = new_request(workspace, "rectification", {"email": SUBJECT})
    assert another.id != request.id
    conn = sqlite3.connect(last)
    conn.execute("DROP TRIGGER no_mail")
    conn.commit()
    conn.close()
    monkeypatch.undo()
    result = resume(workspace, run.id)
    assert result.verification is not None
    assert result.verification["passed"]
    assert _email(last) == _email(first) == NEW_EMAIL
    assert unfinished(workspace.state_dir) == []


def test_an_erasure_failing_in_a_later_database_leaves_no_copy_and_resumes(
    tmp_path: Path, chinook_sqlite: Path,
) -> None:
    workspace, _ = _two_databases(tmp_path, chinook_sqlite, files=True)
    exports = workspace.root / "exports"
    commits: list[str] = []

    def failing_commit(point: str) -> None:
        commits.append(point)
        if len(commits) == 2:  # the second database's commit fails (a lost connection, a full disk)
            raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

    failpoints.register("unit.intended", failing_commit)
    request = new_request(workspace, "erasure", {"email": SUBJECT})
    try:
        with pytest.raises(SourceError, match="rolled back; 'govkit runs resume RUN-"):
            erase_request(workspace, request.id, apply=True)
    finally:
        failpoints.clear()
    assert [p.name for p in exports.iterdir()] == ["app.log"]  # no temporary or backup copy
    [run] = unfinished(workspace.state_dir)
    result = resume(workspace, run.id)
    assert result.verification is not None
    assert result.verification["passed"], result.verification
    assert SUBJECT not in (exports / "app.log").read_text(encoding="utf-8")
    assert [p.name for p in exports.iterdir()] == ["app.log"]
