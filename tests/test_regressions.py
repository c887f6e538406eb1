"""Regressions found by reading the product as a user: each test names the failure it pins."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from govkit.detect.columns import ColumnClassifier, ColumnSample
from govkit.detect.engine import DetectionEngine
from govkit.detect.evidence import mask
from govkit.inventory.store import Inventory
from govkit.scan import ScanOptions, scan
from govkit.workspace import init_workspace, load_workspace
from tests import chinook


def _chinook_workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    init_workspace(root, {"chinook": "sqlite:///chinook.db"})
    chinook.sqlite_copy(root)
    return root


def test_scanning_a_few_tables_keeps_the_rest_of_the_map(engine: object, tmp_path: Path) -> None:
    """`scan --include Genre` used to replace the whole source's inventory with one table."""
    workspace = load_workspace(_chinook_workspace(tmp_path), search=False)
    scan(workspace)
    inventory = Inventory(workspace.inventory_path)
    before = {(r.asset, r.field, r.entity_type) for r in inventory.rows()}
    scan(workspace, options=ScanOptions(include=["Genre"]))
    assert {(r.asset, r.field, r.entity_type) for r in inventory.rows()} == before
    assert inventory.diff().changes == []
    assert inventory.field_record("Customer", "Email").rule != "not scanned"


def test_a_dropped_table_is_gone_even_after_a_filtered_scan(engine: object, tmp_path: Path) -> None:
    root = _chinook_workspace(tmp_path)
    workspace = load_workspace(root, search=False)
    scan(workspace)
    with sqlite3.connect(root / "chinook.db") as conn:
        conn.execute("DROP TABLE PlaylistTrack")
    scan(workspace)
    gone = [c for c in Inventory(workspace.inventory_path).diff().changes if c.kind == "gone"]
    assert [(c.asset, c.field) for c in gone] == [("PlaylistTrack", None)]


def test_an_inventory_from_an_older_govkit_still_opens(tmp_path: Path) -> None:
    path = tmp_path / "inventory.db"
    Inventory(path).close()
    with sqlite3.connect(path) as conn:  # what schema version 1 looked like: no sources.state
        conn.execute("ALTER TABLE sources DROP COLUMN state")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    inventory = Inventory(path)
    assert inventory.source_state("nowhere") == {}
    with sqlite3.connect(path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(sources)")}
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert "state" in columns
    assert version == "2"


@pytest.mark.parametrize(
    ("value", "hidden"),
    [("1ZM3V9BE0312345542", "M3V9BE"), ("06e5acd4a99a21ea7d1bf33e555e9999c84c0c57", "acd4a99a21ea")],
)
def test_letters_inside_identifiers_are_masked_too(value: str, hidden: str) -> None:
    masked = mask(value)
    assert hidden not in masked
    assert masked.count("*") >= len(value) - 8


def test_rejected_pattern_evidence_is_the_stated_rule(engine: DetectionEngine) -> None:
    values = [f"{i % 4}.{i % 11}.{i % 7}.{i % 13}" for i in range(200)]
    verdict = ColumnClassifier(engine).classify(ColumnSample("app_events", "misc", "text", values))
    assert not verdict.entities
    assert verdict.rule == "implausible values"
    assert "version" in verdict.reason


@pytest.mark.server
def test_mysql_scans_only_the_database_in_the_url(engine: object, chinook_mysql: str) -> None:
    report = scan(None, [chinook_mysql], ScanOptions(include=["Customer", "Genre"]))
    assert {f.asset for f in report.findings} == {"Customer"}
