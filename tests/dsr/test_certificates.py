"""Certificates are append-only: a second erasure refuses, or writes a new certificate naming the first."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from govkit.actions.dsr import erase_request, new_request
from govkit.errors import UsageError
from govkit.workspace import Workspace
from tests.dsr.conftest import SUBJECT


def test_a_verified_erasure_is_not_erased_again(sqlite_workspace: Workspace) -> None:
    request = new_request(sqlite_workspace, "erasure", {"email": SUBJECT})
    first = erase_request(sqlite_workspace, request.id, apply=True)
    assert first.verification is not None
    assert first.verification["passed"]
    written = Path(first.certificate["json"]).read_bytes()
    with pytest.raises(UsageError, match=r"already erased and verified \(certificate .*certificate\.json\)"):
        erase_request(sqlite_workspace, request.id, apply=True)
    assert Path(first.certificate["json"]).read_bytes() == written  # never overwritten
    assert stat.S_IMODE(os.stat(first.certificate["json"]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(Path(first.certificate["json"]).parent).st_mode) == 0o700


def test_an_unverified_erasure_run_again_writes_a_second_certificate_naming_the_first(
    sqlite_workspace: Workspace, tmp_path: Path,
) -> None:
    folder = sqlite_workspace.root / "exports"
    folder.mkdir()
    (folder / "profile.json").write_text(json.dumps({"people": [{"email": SUBJECT}]}), encoding="utf-8")
    with (sqlite_workspace.root / "govkit.toml").open("a", encoding="utf-8") as config:
        config.write('\n[sources.exports]\npath = "exports"\n')
    from govkit.scan import scan
    from govkit.workspace import load_workspace

    workspace = load_workspace(sqlite_workspace.root, search=False)
    scan(workspace)
    request = new_request(workspace, "erasure", {"email": SUBJECT})
    first = erase_request(workspace, request.id, apply=True)
    assert first.verification is not None
    assert not first.verification["passed"]  # a JSON document is a manual step: still holds the subject
    before = Path(first.certificate["json"]).read_bytes()
    (folder / "profile.json").write_text(json.dumps({"people": []}), encoding="utf-8")  # done by hand
    second = erase_request(workspace, request.id, apply=True)
    assert Path(first.certificate["json"]).read_bytes() == before
    assert Path(second.certificate["json"]).name == "certificate-2.json"
    data = json.loads(Path(second.certificate["json"]).read_text(encoding="utf-8"))
    assert [p["certificate"] for p in data["previous_certificates"]] == ["certificate.json"]
    assert data["previous_certificates"][0]["verification"] == "failed"
    assert data["run_id"] != json.loads(before)["run_id"]


def test_an_erasure_that_could_not_check_a_source_is_incomplete_and_exits_1(
    sqlite_workspace: Workspace, tmp_path: Path, chinook_sqlite: Path,
) -> None:
    """A configured source that was never scanned cannot be checked: the certificate says
    incomplete and names it, the request is not done, and the command exits 1."""
    import shutil

    from click.testing import CliRunner

    from govkit.cli import main

    other = tmp_path / "crm.sqlite"
    shutil.copy(chinook_sqlite, other)
    with (sqlite_workspace.root / "govkit.toml").open("a", encoding="utf-8") as config:
        config.write(f'\n[sources.crm]\nurl = "sqlite:///{other}"\n')  # added, never scanned
    runner = CliRunner()
    ws = ["--workspace", str(sqlite_workspace.root), "dsr"]
    made = runner.invoke(main, [*ws, "new", "--type", "erasure", "--subject", f"email={SUBJECT}", "-f", "json"])
    request_id = json.loads(made.output)["id"]
    done = runner.invoke(main, [*ws, "erase", request_id, "--apply", "-f", "json"])
    assert done.exit_code == 1, done.output
    result = json.loads(done.output)
    assert result["verification"]["status"] == "incomplete"
    certificate = json.loads(Path(result["certificate"]["json"]).read_text(encoding="utf-8"))
    assert certificate["status"] == "incomplete"
    assert any("crm" in json.dumps(item) for item in certificate["verification"]["not_checked"])
    shown = runner.invoke(main, [*ws, "show", request_id, "-f", "json"])
    assert json.loads(shown.output)["status"] == "unverified"
