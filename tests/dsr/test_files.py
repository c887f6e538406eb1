"""Subjects in file sources: the lines that hold an identifier, across a database and a folder at once."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from govkit.actions.dsr import erase_request, export_request, locate, new_request
from govkit.scan import scan
from govkit.workspace import Workspace, load_workspace
from tests.dsr.conftest import SUBJECT


def _workspace(tmp_path: Path, chinook_sqlite: Path) -> Workspace:
    folder = tmp_path / "ws"
    exports = folder / "exports"
    exports.mkdir(parents=True)
    (exports / "newsletter.csv").write_text(
        "email,name,opted_in\n"
        + "".join(f"reader{i}@example.net,Reader {i},yes\n" for i in range(40))
        + f"{SUBJECT.upper()},Luís Gonçalves,yes\n", encoding="utf-8")
    with gzip.open(exports / "support.log.gz", "wt", encoding="utf-8") as log:
        for i in range(30):
            log.write(f"2024-05-0{i % 9 + 1} 10:00 ticket {i} printer jam\n")
        log.write("2024-05-09 10:05 callback requested on +55 12 3923 5555\n")
    (folder / "govkit.toml").write_text(
        f'[detection]\nmodel = "none"\n\n[sources.chinook]\nurl = "sqlite:///{chinook_sqlite}"\n\n'
        '[sources.exports]\npath = "exports"\n', encoding="utf-8")
    workspace = load_workspace(folder, search=False)
    scan(workspace)
    return workspace


def test_files_and_database_together(tmp_path: Path, chinook_sqlite: Path) -> None:
    workspace = _workspace(tmp_path, chinook_sqlite)
    subject = {"email": SUBJECT, "phone": "+551239235555"}
    report = locate(workspace, subject)
    found = {(h.source_name, h.asset): (h.role, h.rows) for h in report.data()}
    assert found[("exports", "newsletter.csv")] == ("subject", 1)
    assert found[("exports", "support.log.gz")] == ("subject", 1)
    assert found[("chinook", "Customer")] == ("subject", 1)

    request = new_request(workspace, "erasure", subject)
    export_request(workspace, request.id, tmp_path / "pkg")
    data = json.loads((tmp_path / "pkg" / "data.json").read_text(encoding="utf-8"))
    files = {t["asset"]: t["rows"] for t in data["tables"] if t["source_name"] == "exports"}
    assert files["newsletter.csv"] == [{"line": 42, "text": f"{SUBJECT.upper()},Luís Gonçalves,yes"}]
    assert "3923 5555" in files["support.log.gz"][0]["text"]
    assert "reader1@example.net" not in (tmp_path / "pkg" / "data.json").read_text(encoding="utf-8")

    result = erase_request(workspace, request.id, apply=True)
    actions = {(s.source_name, s.asset): s.action for s in result.plan.steps}
    assert actions[("exports", "newsletter.csv")] == "delete"  # a record: deleted, like the customer's row
    assert actions[("exports", "support.log.gz")] == "anonymize"  # a log line: kept, identifiers replaced
    assert actions[("chinook", "Customer")] == "delete"
    assert result.verification is not None
    assert result.verification["passed"]  # the files were rewritten too
    assert not locate(workspace, subject).found
    newsletter = (workspace.root / "exports" / "newsletter.csv").read_text(encoding="utf-8")
    assert SUBJECT.upper() not in newsletter
    assert newsletter.count("\n") == 41  # header and the 40 other readers, untouched
    with gzip.open(workspace.root / "exports" / "support.log.gz", "rt", encoding="utf-8") as log:
        lines = log.read().splitlines()
    assert len(lines) == 31
    assert lines[-1].startswith("2024-05-09 10:05 callback requested on ")
    assert "3923" not in lines[-1]
