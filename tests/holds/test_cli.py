"""``govkit hold add|list|release``: output, masking, and bad input as one line with exit 2."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from govkit.cli import main
from govkit.workspace import Workspace


def _run(workspace: Workspace, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["-w", str(workspace.root), "hold", *args])
    return result.exit_code, result.stdout, result.stderr


def test_add_list_release(workspace: Workspace) -> None:
    code, out, _ = _run(workspace, "add", "--subject", "email=luisg@embraer.com.br", "--reason", "litigation 114")
    assert code == 0
    assert out.startswith("HOLD-0001  subject email=l***@e")
    assert "luisg" not in out
    code, out, _ = _run(workspace, "add", "--asset", "Invoice", "--source", "chinook", "--where",
                        "BillingCountry = 'Brazil'", "--until", "2099-12-31", "--reason", "tax audit", "--format",
                        "json")
    assert code == 0
    added = json.loads(out)
    assert added["id"] == "HOLD-0002"
    assert added["until"] == "2099-12-31"
    assert added["where"] == "BillingCountry = 'Brazil'"
    code, out, _ = _run(workspace, "list", "--format", "json")
    assert code == 0
    listed = json.loads(out)["holds"]
    assert [h["id"] for h in listed] == ["HOLD-0001", "HOLD-0002"]
    assert "luisg" not in out
    code, out, _ = _run(workspace, "release", "HOLD-0001", "--reason", "settled")
    assert code == 0
    assert "HOLD-0001 released" in out
    code, out, _ = _run(workspace, "list")
    assert "HOLD-0002" in out
    assert "HOLD-0001" not in out
    code, out, _ = _run(workspace, "list", "--all", "--format", "json")
    assert [h["status"] for h in json.loads(out)["holds"]] == ["released", "active"]


@pytest.mark.parametrize(("args", "message"), [
    (["add", "--asset", "Invoice", "--where", "Nope = 1", "--reason", "r"], "has no column 'Nope'"),
    (["add", "--asset", "Invoice", "--until", "2026-13-40", "--reason", "r"], "'--until'"),
    (["add", "--asset", "Invoice", "--until", "tomorrow", "--reason", "r"], "'--until'"),
    (["add", "--subject", "email", "--reason", "r"], "--subject expects KEY=VALUE"),
    (["add", "--asset", "Invoice", "--where", "BillingCountry = ", "--reason", "r"], "--where: bad predicate"),
    (["add", "--asset", "Invoice"], "--reason"),
    (["release", "HOLD-0007", "--reason", "r"], "no legal hold 'HOLD-0007'"),
])
def test_bad_input_is_one_line_and_exit_2(workspace: Workspace, args: list[str], message: str) -> None:
    if args[0] == "release":
        _run(workspace, "add", "--asset", "Invoice", "--reason", "r")
    code, out, err = _run(workspace, *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("govkit: error: ")
    assert message in lines[0]
    assert "Traceback" not in out + err
