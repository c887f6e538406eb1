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


def test_json_path_fields_can_be_explained_and_labelled(engine: object, tmp_path: Path) -> None:
    """`explain 'events.jsonl.$.user.email'` used to split at the last dot and find nothing."""
    import json

    from click.testing import CliRunner

    from govkit.cli import main

    root = tmp_path / "ws"
    (root / "logs").mkdir(parents=True)
    with (root / "logs" / "events.jsonl").open("w", encoding="utf-8") as handle:
        for i in range(120):
            handle.write(json.dumps({"user": {"email": f"user{i}@example.org"}, "n": i}) + "\n")
    (root / "govkit.toml").write_text('[sources.logs]\npath = "logs"\n', encoding="utf-8")
    scan(load_workspace(root, search=False), options=ScanOptions(jobs=1))
    runner = CliRunner()
    explained = runner.invoke(main, ["--workspace", str(root), "explain", "events.jsonl.$.user.email"])
    assert explained.exit_code == 0, explained.output
    assert "EMAIL_ADDRESS" in explained.stdout
    labelled = runner.invoke(main, ["--workspace", str(root), "label", "events.jsonl.$.user.email", "--not-pii"])
    assert labelled.exit_code == 0, labelled.output
    rows = Inventory(root / ".govkit" / "inventory.db").rows()
    assert ("events.jsonl", "$.user.email") not in {(r.asset, r.field) for r in rows}


def test_anonymized_copy_of_one_table_and_of_everything(engine: object, tmp_path: Path) -> None:
    """A table with references to tables left out, and DATETIME columns generalized to text."""
    from click.testing import CliRunner

    from govkit.cli import main

    root = _chinook_workspace(tmp_path)
    scan(load_workspace(root, search=False))
    runner = CliRunner()
    one = runner.invoke(main, ["--workspace", str(root), "anonymize", "chinook", "--table", "Customer",
                               "--to", f"sqlite:///{tmp_path / 'one.db'}"])
    assert one.exit_code == 0, one.output
    everything = runner.invoke(main, ["--workspace", str(root), "anonymize", "chinook",
                                      "--to", f"sqlite:///{tmp_path / 'all.db'}"])
    assert everything.exit_code == 0, everything.output
    with sqlite3.connect(tmp_path / "all.db") as conn:
        joined = conn.execute(
            "SELECT COUNT(*) FROM InvoiceLine JOIN Invoice USING (InvoiceId) JOIN Customer USING (CustomerId)"
            " JOIN Employee ON Customer.SupportRepId = Employee.EmployeeId"
        ).fetchone()[0]
        emails = {r[0] for r in conn.execute("SELECT Email FROM Customer")}
    assert joined == 2240
    assert "luisg@embraer.com.br" not in emails
    with sqlite3.connect(tmp_path / "one.db") as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["Customer"]


def test_evaluate_and_report_are_recorded_in_the_audit_log(engine: object, tmp_path: Path) -> None:
    """Issue 7: every action leaves an audit record, evaluate and report included."""
    from click.testing import CliRunner

    from govkit.audit import AuditLog
    from govkit.cli import main

    root = _chinook_workspace(tmp_path)
    scan(load_workspace(root, search=False))
    runner = CliRunner()
    assert runner.invoke(main, ["--workspace", str(root), "evaluate", "-f", "json"]).exit_code == 0
    assert runner.invoke(main, ["--workspace", str(root), "report", "audit", "-f", "md"]).exit_code == 0
    log = AuditLog(root / ".govkit")
    records = log.records()
    assert [r.action for r in records] == ["scan", "evaluate", "report.audit"]
    assert records[1].counts["violations"] >= 1
    assert log.verify().ok
