"""One scanned workspace for the report tests: Chinook plus a table with a hostile column name.

It is scanned twice (a table added in between), so the reports have history and changes,
and it has a policy of its own (``policies/music.yaml``) that gives every report section
something real to show: a restricted field, personal data where the policy forbids it,
employees' rows past retention, one processing activity and assets no activity declares.
Tests that change the workspace work on :func:`workspace_copy`.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from govkit.detect.engine import DetectionEngine
from govkit.report import AuditView, RopaView, audit_view, ropa_view
from govkit.scan import scan
from govkit.workspace import Workspace, init_workspace, load_workspace
from tests import chinook

SCRIPT_COLUMN = "<script>alert(1)</script>"

POLICY = """\
version: 1
name: music
extends: [gdpr]
classification:
  fields:
    - asset: Track
      allow_personal_data: false
    - asset: Employee
      field: Address
      sensitivity: restricted
processing:
  controller: Chinook Music Ltd, privacy@chinook.example
  activities:
    - name: Customer accounts and invoicing
      purposes: [sales, invoicing]
      legal_basis: contract
      data_subjects: [customers]
      assets: [Customer, Invoice]
      recipients: [payment processor]
      safeguards: [encryption at rest]
retention:
  rules:
    - name: staff records
      assets: [Employee]
      timestamp: HireDate
      period: 10 years
      action: delete
"""


@dataclass
class Scanned:
    root: Path
    workspace: Workspace
    audit: AuditView
    ropa: RopaView


def add_hostile_table(database: Path) -> None:
    """A table whose column is named like an XSS payload, holding e-mail addresses."""
    with sqlite3.connect(database) as conn:
        conn.execute(f'CREATE TABLE contacts (id INTEGER PRIMARY KEY, "{SCRIPT_COLUMN}" TEXT)')
        conn.executemany(f'INSERT INTO contacts ("{SCRIPT_COLUMN}") VALUES (?)',
                         [(f"person{i}@example.org",) for i in range(40)])


@pytest.fixture(scope="session")
def scanned(engine: DetectionEngine, tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    root = tmp_path_factory.mktemp("report") / "ws"
    root.mkdir()
    chinook.sqlite_copy(root)
    init_workspace(root, {"chinook": "sqlite:///chinook.db"})
    (root / "policies").mkdir()
    (root / "policies" / "music.yaml").write_text(POLICY, encoding="utf-8")
    workspace = load_workspace(root, search=False)
    scan(workspace)
    add_hostile_table(root / "chinook.db")
    scan(workspace)
    return Scanned(root, workspace, audit_view(workspace), ropa_view(workspace))


@pytest.fixture
def workspace_copy(scanned: Scanned, tmp_path: Path) -> Path:
    """A private copy of the scanned workspace (database, policy, inventory, audit log, keys)."""
    target = tmp_path / "ws"
    shutil.copytree(scanned.root, target, ignore=shutil.ignore_patterns("reports"))
    return target
