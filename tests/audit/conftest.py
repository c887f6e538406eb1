"""Fixtures for the audit log tests: a clean key environment, a state folder, a filled log,
and helpers that tamper with the stored files the way an attacker (or an accident) would."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from govkit.audit import AuditLog
from govkit.audit.log import HEAD_FILE, LOG_FILE


@pytest.fixture(autouse=True)
def clean_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key or actor from the developer's (or CI's) environment leaks into a test."""
    for name in ("GOVKIT_KEY", "GOVKIT_KEY_FILE", "GOVKIT_ACTOR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    folder = tmp_path / ".govkit"
    folder.mkdir()
    return folder


@pytest.fixture
def filled_log(state_dir: Path) -> AuditLog:
    """A log of five records, seq 1-5, counts {"rows": seq * 10}."""
    log = AuditLog(state_dir)
    for seq in range(1, 6):
        log.append("scan", params={"source": "shop"}, counts={"rows": seq * 10})
    return log


class Tamper:
    """Direct edits of ``log.jsonl`` and ``head.json``, bypassing govkit."""

    def __init__(self, log: AuditLog) -> None:
        self.log_path = log.folder / LOG_FILE
        self.head_path = log.folder / HEAD_FILE

    def lines(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8").splitlines()

    def write_lines(self, lines: list[str]) -> None:
        self.log_path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    def records(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.lines()]

    def head(self) -> dict[str, object]:
        data: dict[str, object] = json.loads(self.head_path.read_text(encoding="utf-8"))
        return data

    def write_head(self, head: dict[str, object]) -> None:
        self.head_path.write_text(json.dumps(head), encoding="utf-8")

    def edit(self, seq: int, change: Callable[[dict[str, object]], None]) -> None:
        """Change record ``seq`` in place, re-encoding it canonically (as a careful forger would)."""
        from govkit.audit.record import canonical

        lines = self.lines()
        record = json.loads(lines[seq - 1])
        change(record)
        lines[seq - 1] = canonical(record).decode("utf-8")
        self.write_lines(lines)


@pytest.fixture
def tamper(filled_log: AuditLog) -> Tamper:
    return Tamper(filled_log)
