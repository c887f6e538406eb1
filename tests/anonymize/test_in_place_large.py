"""In place on a 250,000-row SQLite table in its default (rollback) journal mode.

Before the change engine, a read cursor stayed open on one connection while batches were
written on another; SQLite's default journal lets no writer commit under a reader, so any
table over one batch failed with "database is locked". Each unit now reads and writes its
key range in one transaction on one connection.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from govkit.actions.anonymize.run import AnonymizeRequest, anonymize
from govkit.workspace import load_workspace
from tests.change.harness import KEY, create_people

ROWS = 250_000


@pytest.mark.slow
def test_in_place_on_250k_rows_in_the_default_journal_mode(tmp_path: Path, workspace_dir: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", KEY)
    db = tmp_path / "big.sqlite"
    create_people(f"sqlite:///{db}", ROWS)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        before = dict(conn.execute("SELECT id, email FROM people"))
    result = anonymize(AnonymizeRequest(f"sqlite:///{db}", in_place=True, apply=True, table=["people"],
                                        rules=["people.email=pseudonymize", "people.name=mask"]),
                       load_workspace(workspace_dir))
    assert result.rows == ROWS
    assert result.verified, result.problems
    with sqlite3.connect(db) as conn:
        after = dict(conn.execute("SELECT id, email FROM people"))
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert len(after) == ROWS
    assert not set(after.values()) & set(before.values())  # every address replaced
    assert len(set(after.values())) == ROWS  # pseudonyms stay distinct
