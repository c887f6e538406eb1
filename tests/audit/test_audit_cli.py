"""``govkit keys ...`` and ``govkit log ...`` through click's CliRunner."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from govkit.audit import AuditLog
from govkit.cli import main
from govkit.cli.commands.log import parse_since
from govkit.errors import UsageError
from govkit.keys import keyset_path, load_keyset
from govkit.workspace import STATE_DIR
from tests.audit.conftest import Tamper


def _run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--workspace", str(root), *args])


@pytest.fixture
def root(workspace_dir: Path) -> Path:
    return workspace_dir


def test_keys_init_list_rotate(root: Path) -> None:
    init = _run(root, "keys", "init")
    assert init.exit_code == 0, init.output
    state = root / STATE_DIR
    first = load_keyset(state).primary
    assert first.id in init.stdout

    again = _run(root, "keys", "init")
    assert again.exit_code == 2
    assert again.stderr.startswith("govkit: error:")
    assert "already exists" in again.stderr

    rotate = _run(root, "keys", "rotate")
    assert rotate.exit_code == 0, rotate.output
    listed = _run(root, "keys", "list", "--format", "json")
    data = json.loads(listed.stdout)
    assert [(k["id"], k["status"]) for k in data["keys"]] == [
        (first.id, "retired"), (load_keyset(state).primary.id, "primary"),
    ]
    assert all(set(k) == {"id", "created_at", "status"} for k in data["keys"])
    table = _run(root, "keys", "list")
    assert first.id in table.stdout
    assert "retired" in table.stdout
    material = keyset_path(state).read_text()
    for version in load_keyset(state).versions:
        for output in (init.output, rotate.output, listed.output, table.output):
            assert base64.b64encode(version.material).decode() not in output
    assert json.loads(material)  # still a keyset


def test_key_commands_are_audited(root: Path) -> None:
    _run(root, "keys", "init")
    _run(root, "keys", "rotate")
    shown = _run(root, "log", "show", "--format", "json")
    assert shown.exit_code == 0, shown.output
    records = json.loads(shown.stdout)["records"]
    assert [r["action"] for r in records] == ["keys.init", "keys.rotate"]
    keyset = load_keyset(root / STATE_DIR)
    assert records[1]["params"] == {"primary": keyset.primary.id, "retired": [keyset.versions[0].id]}
    assert records[1]["key_id"] == keyset.primary.id  # signed with the new key
    verify = _run(root, "log", "verify")
    assert verify.exit_code == 0, verify.output
    assert verify.stdout.startswith("audit log intact: 2 record(s); head seq 2 sha256 ")


def test_keys_list_without_keys(root: Path) -> None:
    result = _run(root, "keys", "list")
    assert result.exit_code == 2
    assert "run 'govkit keys init'" in result.stderr


def test_open_key_file_is_refused_in_one_line(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "ci.key"
    key.write_text(bytes(32).hex())
    key.chmod(0o644)
    monkeypatch.setenv("GOVKIT_KEY_FILE", str(key))
    result = _run(root, "keys", "list")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert f"chmod 600 {key}" in result.stderr
    assert bytes(32).hex() not in result.output


def test_keys_list_under_override(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", bytes(range(32)).hex())
    result = _run(root, "keys", "list")
    assert result.exit_code == 0, result.output
    assert "GOVKIT_KEY is set and overrides" in result.stderr
    assert "(set from the environment)" in result.stdout
    rotate = _run(root, "keys", "rotate")
    assert rotate.exit_code == 2
    assert "rotate that key in your secret store" in rotate.stderr


def test_log_show_table_and_since(root: Path) -> None:
    log = AuditLog(root / STATE_DIR)
    log.append("scan", params={"source": "shop"}, counts={"assets": 2})
    table = _run(root, "log", "show")
    assert table.exit_code == 0, table.output
    assert "scan" in table.stdout
    assert "source=shop" in table.stdout
    assert "assets=2" in table.stdout
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    later = _run(root, "log", "show", "--since", tomorrow)
    assert "no records" in later.stdout
    recent = _run(root, "log", "show", "--since", "1h", "--format", "json")
    assert len(json.loads(recent.stdout)["records"]) == 1
    bad = _run(root, "log", "show", "--since", "last tuesday")
    assert bad.exit_code == 2
    assert "--since" in bad.stderr


def test_log_verify_reports_each_problem_and_exits_1(root: Path) -> None:
    log = AuditLog(root / STATE_DIR)
    for n in range(5):
        log.append("scan", params={"n": n})
    tamper = Tamper(log)
    lines = tamper.lines()
    lines[1], lines[2] = lines[2], lines[1]
    tamper.write_lines(lines[:-1])
    result = _run(root, "log", "verify")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "seq 2: reordered (found after seq 3, line 3)",
        "seq 5: truncated (the log ends at seq 4, its head says seq 5)",
    ]
    assert "NOT intact: 2 problem(s) in 4 record(s)" in result.stderr


def test_log_verify_without_keys_is_a_usage_error(root: Path) -> None:
    log = AuditLog(root / STATE_DIR)
    log.append("scan", params={})
    keyset_path(root / STATE_DIR).unlink()
    result = _run(root, "log", "verify")
    assert result.exit_code == 2
    assert "restore the keyset" in result.stderr


def test_log_export(root: Path, tmp_path: Path) -> None:
    log = AuditLog(root / STATE_DIR)
    log.append("scan", params={"source": "shop"})
    log.append("anonymize", params={"table": "customers"}, counts={"rows": 9})
    jsonl = _run(root, "log", "export")
    assert jsonl.exit_code == 0, jsonl.output
    assert jsonl.stdout == log.path.read_text(encoding="utf-8")
    target = tmp_path / "out" / "audit.csv"
    to_file = _run(root, "log", "export", "--format", "csv", "--output", str(target))
    assert to_file.exit_code == 0, to_file.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [(r["seq"], r["action"]) for r in rows] == [("1", "scan"), ("2", "anonymize")]


def test_log_export_of_an_empty_log_prints_nothing(root: Path) -> None:
    result = _run(root, "log", "export")
    assert (result.exit_code, result.stdout) == (0, "")


def test_parse_since() -> None:
    now = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
    assert parse_since(None) is None
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("12h", now) == now - timedelta(hours=12)
    assert parse_since("30m", now) == now - timedelta(minutes=30)
    assert parse_since("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_since("2024-05-01T09:30Z") == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    assert parse_since("2024-05-01T09:30+02:00") == datetime(2024, 5, 1, 7, 30, tzinfo=UTC)
    with pytest.raises(UsageError):
        parse_since("yesterday")
