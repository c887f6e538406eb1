"""``python -m govkit`` as a real process: what a user or a CI job actually sees."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from govkit import __version__
from govkit.cli import main
from tests import chinook


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govkit", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
    )


def _outside_workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "plain"
    folder.mkdir()
    if any((p / "govkit.toml").is_file() for p in (folder, *folder.parents)):
        pytest.skip("a govkit.toml exists above the temporary folder")
    return folder


@pytest.mark.slow
def test_version(tmp_path: Path) -> None:
    result = _run("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"govkit, version {__version__}"


@pytest.mark.slow
def test_help_lists_every_command(tmp_path: Path) -> None:
    result = _run("--help", cwd=tmp_path)
    assert result.returncode == 0
    listed = result.stdout.split("Commands:", 1)[1]
    # A command's line starts with two spaces; a summary wrapped onto the next line, more.
    names = {line.split()[0] for line in listed.splitlines() if line.startswith("  ") and line[2] != " "}
    assert names == set(main.commands)
    assert {"init", "scan", "inventory", "explain", "label", "report", "demo"} <= names


@pytest.mark.slow
def test_scan_outside_a_workspace_prints_json_and_a_note(tmp_path: Path) -> None:
    folder = _outside_workspace(tmp_path)
    db = chinook.sqlite_copy(tmp_path)
    result = _run("scan", f"sqlite:///{db}", "--format", "json", cwd=folder)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["stats"]["assets"] == 11
    assert ("Customer", "Email", "EMAIL_ADDRESS") in {(f["asset"], f["field"], f["entity_type"])
                                                       for f in data["findings"]}
    assert "no workspace here, so nothing was recorded" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(folder.iterdir()) == []  # nothing recorded, no .govkit/ created


@pytest.mark.slow
def test_bad_url_exits_2_without_traceback(tmp_path: Path) -> None:
    folder = _outside_workspace(tmp_path)
    result = _run("scan", "nosuchdb://host/x", cwd=folder)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == ["govkit: error: nosuchdb://host/x: unknown database type 'nosuchdb'"]


@pytest.mark.slow
def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    """The same error without and with --debug (an error raised before the model loads, to stay quick)."""
    folder = _outside_workspace(tmp_path)
    plain = _run("inventory", cwd=folder)
    debug = _run("--debug", "inventory", cwd=folder)
    assert plain.returncode == 2
    assert "Traceback" not in plain.stderr
    assert plain.stderr.startswith("govkit: error: no govkit.toml")
    assert debug.returncode != 0
    assert "Traceback (most recent call last)" in debug.stderr
    assert "WorkspaceNotFound" in debug.stderr
