"""Erasure in file sources: records deleted or anonymized, spans replaced, each file swapped exactly once."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from govkit.actions.dsr import erase_request, locate, new_request
from govkit.actions.dsr import rewrite as rewrite_module
from govkit.actions.dsr.files import LineMatcher
from govkit.actions.dsr.rewrite import FileJob, RewriteFailed, replace_spans
from govkit.cli import main
from govkit.scan import scan
from govkit.workspace import Workspace, load_workspace
from tests.dsr.conftest import SUBJECT, rewrite_file

PHONE = "+551239235555"
ANONYMIZE_FILES = """\
version: 1
extends: [gdpr]
dsr:
  erasure:
    - asset: "*.jsonl"
      action: anonymize
      legal_basis: "order history kept for warranty claims"
"""


def _files(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "crm.csv").write_bytes(  # semicolons, CRLF, a quoted multi-line note: kept byte for byte
        b"id;email;note\r\n1;ana@example.org;\"first line\r\nsecond line\"\r\n"
        + f"2;{SUBJECT};call back\r\n3;bo@example.org;ok\r\n".encode())
    (folder / "orders.jsonl").write_text(
        '{"order": 1, "email": "ana@example.org", "total": 3}\n'
        + json.dumps({"order": 2, "contact": {"email": SUBJECT.upper()}, "total": 9}) + "\n", encoding="utf-8")
    with gzip.open(folder / "app.log.gz", "wt", encoding="utf-8", newline="") as log:
        log.write("10:00 login ana@example.org\n")
        log.write(f"10:01 mail to {SUBJECT} and ana@example.org, phone +55 12 3923 5555 ok\n")
    (folder / "profile.json").write_text(json.dumps({"people": [{"email": SUBJECT}]}, indent=1) + "\n",
                                         encoding="utf-8")


def _workspace(tmp_path: Path, chinook_sqlite: Path, policy: str | None = None) -> Workspace:
    folder = tmp_path / "ws"
    _files(folder / "exports")
    (folder / "govkit.toml").write_text(
        f'[detection]\nmodel = "none"\n\n[sources.chinook]\nurl = "sqlite:///{chinook_sqlite}"\n\n'
        '[sources.exports]\npath = "exports"\n', encoding="utf-8")
    if policy is not None:
        (folder / "policies").mkdir()
        (folder / "policies" / "p.yaml").write_text(policy, encoding="utf-8")
    workspace = load_workspace(folder, search=False)
    scan(workspace)
    return workspace


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _customers(db: Path) -> int:
    conn = sqlite3.connect(db)
    count = int(conn.execute("SELECT COUNT(*) FROM Customer").fetchone()[0])
    conn.close()
    return count


def test_structured_records_deleted_text_spans_replaced(tmp_path: Path, chinook_sqlite: Path) -> None:
    workspace = _workspace(tmp_path, chinook_sqlite)
    exports = workspace.root / "exports"
    request = new_request(workspace, "erasure", {"email": SUBJECT, "phone": PHONE})
    plan = erase_request(workspace, request.id)
    steps = {s.asset: s for s in plan.plan.steps}
    assert (steps["crm.csv"].action, steps["crm.csv"].format) == ("delete", "csv")
    assert steps["app.log.gz"].action == "anonymize"
    assert "other people" in (steps["app.log.gz"].note or "")
    assert steps["profile.json"].action == "manual"
    assert "JSON documents" in steps["profile.json"].why
    assert _snapshot(exports)["crm.csv"] == (tmp_path / "ws" / "exports" / "crm.csv").read_bytes()

    result = erase_request(workspace, request.id, apply=True)
    done = {s.asset: s.done for s in result.plan.steps}
    assert (done["crm.csv"], done["orders.jsonl"], done["app.log.gz"]) == (1, 1, 1)
    assert (exports / "crm.csv").read_bytes() == (
        b"id;email;note\r\n1;ana@example.org;\"first line\r\nsecond line\"\r\n3;bo@example.org;ok\r\n")
    assert (exports / "orders.jsonl").read_text(encoding="utf-8") == (
        '{"order": 1, "email": "ana@example.org", "total": 3}\n')
    with gzip.open(exports / "app.log.gz", "rt", encoding="utf-8", newline="") as log:
        lines = log.read().splitlines(keepends=True)
    assert lines[0] == "10:00 login ana@example.org\n"
    assert lines[1].startswith("10:01 mail to ")
    assert lines[1].endswith(" and ana@example.org, phone +** ** **** 5555 ok\n")  # baseline: mask
    assert SUBJECT not in lines[1]
    assert not [p for p in exports.iterdir() if p.name.startswith(".")]  # no temporary files or backups left
    assert result.verification is not None
    assert not result.verification["passed"]  # profile.json still holds the subject: said, not hidden
    assert [h["asset"] for h in result.verification["manual_remaining"]] == ["profile.json"]
    certificate = json.loads(Path(result.certificate["json"]).read_text(encoding="utf-8"))
    assert {f["file"]: f["records"] for f in certificate["files_changed"]} == {
        "crm.csv": 1, "orders.jsonl": 1, "app.log.gz": 1}
    assert [m["asset"] for m in certificate["manual"]] == ["profile.json"]
    html = Path(result.certificate["html"]).read_text(encoding="utf-8")
    assert "Files rewritten" in html
    assert "profile.json" in html
    assert SUBJECT not in html
    assert [h.asset for h in locate(workspace, {"email": SUBJECT}).data()] == ["profile.json"]


def test_anonymize_rule_rewrites_the_matching_fields_of_jsonl(tmp_path: Path, chinook_sqlite: Path) -> None:
    workspace = _workspace(tmp_path, chinook_sqlite, ANONYMIZE_FILES)
    request = new_request(workspace, "erasure", {"email": SUBJECT})
    result = erase_request(workspace, request.id, apply=True)
    step = next(s for s in result.plan.steps if s.asset == "orders.jsonl")
    assert (step.action, step.done, step.legal_basis) == ("anonymize", 1, "order history kept for warranty claims")
    records = [json.loads(line) for line in
               (workspace.root / "exports" / "orders.jsonl").read_text(encoding="utf-8").splitlines()]
    assert records[0] == {"order": 1, "email": "ana@example.org", "total": 3}
    assert records[1]["order"] == 2
    assert records[1]["total"] == 9
    assert records[1]["contact"]["email"] != SUBJECT.upper()
    assert "*" in records[1]["contact"]["email"]  # baseline masks contact data
    assert "orders.jsonl" not in {h.asset for h in locate(workspace, {"email": SUBJECT}).data()}


@pytest.mark.parametrize("fail_on", ["write", "replace"])
def test_a_failing_file_rewrite_leaves_a_resumable_run_and_no_copy(
    tmp_path: Path, chinook_sqlite: Path, monkeypatch: pytest.MonkeyPatch, fail_on: str,
) -> None:
    """A file that cannot be rewritten (disk full, read-only) stops the erasure with the run
    unfinished: the database unit and the files before it stay done, and 'runs resume'
    completes the erasure once the cause is gone, leaving no temporary copy behind."""
    from govkit.change.resume import resume
    from govkit.change.run import unfinished

    workspace = _workspace(tmp_path, chinook_sqlite)
    exports = workspace.root / "exports"
    before = _snapshot(exports)
    calls: list[Path] = []
    if fail_on == "write":
        real_write = rewrite_module._write

        def failing_write(job: FileJob, *args: object) -> int:
            calls.append(job.path)
            if len(calls) == 2:
                raise OSError("disk full")
            return real_write(job, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(rewrite_module, "_write", failing_write)
        expected: type[Exception] = RewriteFailed
    else:
        real_replace = os.replace

        def failing_replace(src: str, dst: str) -> None:
            if str(src).endswith(".govkit-tmp"):
                calls.append(Path(dst))
                if len(calls) == 2:
                    raise PermissionError("read-only")
            real_replace(src, dst)

        monkeypatch.setattr(os, "replace", failing_replace)
        expected = PermissionError
    request = new_request(workspace, "erasure", {"email": SUBJECT, "phone": PHONE})
    with pytest.raises(expected):
        erase_request(workspace, request.id, apply=True)
    temps = [p for p in exports.iterdir() if p.name.startswith(".")]
    if fail_on == "write":
        assert temps == []  # the half-written copy went with the failure
    else:  # written and journaled, not swapped in: kept (0600) to tell resume so, then removed by it
        assert [stat.S_IMODE(os.stat(p).st_mode) for p in temps] == [0o600]
    rewritten = {k: v for k, v in _snapshot(exports).items() if not k.startswith(".")}
    assert rewritten != before  # the first file stays rewritten
    [run] = unfinished(workspace.state_dir)
    monkeypatch.undo()
    result = resume(workspace, run.id)
    assert not [p for p in exports.iterdir() if p.name.startswith(".")]  # no temporary copy left
    assert result.verification is not None
    assert {f["file"] for c in result.committed for f in c.get("files", []) if f["records"]} == {
        "crm.csv", "orders.jsonl", "app.log.gz"}
    assert SUBJECT not in (exports / "crm.csv").read_text(encoding="utf-8")
    assert unfinished(workspace.state_dir) == []


def test_cli_erase_reports_the_files(tmp_path: Path, chinook_sqlite: Path) -> None:
    workspace = _workspace(tmp_path, chinook_sqlite)
    runner = CliRunner()
    ws = ["--workspace", str(workspace.root), "dsr"]
    request_id = json.loads(runner.invoke(main, [*ws, "new", "--type", "erasure", "--subject", f"email={SUBJECT}",
                                                 "-f", "json"]).output)["id"]
    table = runner.invoke(main, [*ws, "erase", request_id])
    assert table.exit_code == 0, table.output
    assert "crm.csv" in table.output
    assert "JSON documents" in table.output
    done = runner.invoke(main, [*ws, "erase", request_id, "--apply", "-f", "json"])
    assert done.exit_code == 1, done.output  # profile.json is a manual step: the erasure is not verified yet
    assert json.loads(done.output)["verification"]["status"] == "failed"
    files = [c for c in json.loads(done.output)["committed"] if "files" in c]
    assert {f["file"]: f["records"] for f in files[0]["files"]} == {"crm.csv": 1, "orders.jsonl": 1,
                                                                     "app.log.gz": 1}
    assert SUBJECT not in done.output


_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=40)


@settings(max_examples=150, deadline=None)
@given(before=_TEXT, after=_TEXT, upper=st.booleans())
def test_replaced_spans_no_longer_match(before: str, after: str, upper: bool) -> None:
    matcher = LineMatcher({"email": SUBJECT, "phone": PHONE})
    email = SUBJECT.upper() if upper else SUBJECT
    line = f"{before} {email} {after} tel +55 (12) 3923-5555 ok {before}"  # words end a phone run, as in locate
    out = replace_spans(line, matcher, FileJob(Path("x"), "anonymize"))
    assert not matcher(out) or matcher(before) or matcher(after)
    assert out.count("[REDACTED]") >= 2
    if not matcher(before + " " + after):
        assert out.startswith(before)


def test_rewrite_keeps_encoding_and_untouched_lines(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(f"Grüße an {SUBJECT}\r\nnichts hier\r\n".encode("utf-16"))
    assert rewrite_file(FileJob(path, "anonymize"), LineMatcher({"email": SUBJECT})) == 1
    assert path.read_bytes().decode("utf-16") == "Grüße an [REDACTED]\r\nnichts hier\r\n"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_gzipped_csv_stays_gzipped_and_keeps_its_dialect(tmp_path: Path) -> None:
    path = tmp_path / "list.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as out:
        out.write("name\temail\nAna\tana@example.org\nLuís\t" + SUBJECT + "\n")
    assert rewrite_file(FileJob(path, "delete"), LineMatcher({"email": SUBJECT})) == 1
    with gzip.open(path, "rt", encoding="utf-8", newline="") as back:
        assert back.read() == "name\temail\nAna\tana@example.org\n"


def test_a_truncated_gzip_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "app.log.gz"
    whole = gzip.compress("".join(f"line {i} {SUBJECT}\n" for i in range(2000)).encode())
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(RewriteFailed, match=r"app\.log\.gz: cannot be rewritten safely \(ValueError\)"):
        rewrite_file(FileJob(path, "anonymize"), LineMatcher({"email": SUBJECT}))
    assert path.read_bytes() == whole[: len(whole) // 2]
    assert [p.name for p in tmp_path.iterdir()] == ["app.log.gz"]
