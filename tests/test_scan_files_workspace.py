"""File sources through ``govkit.scan``: recorded in the inventory, incremental, labelled."""

from __future__ import annotations

import csv
from pathlib import Path

from faker import Faker

from govkit.inventory.store import Inventory
from govkit.scan import ScanOptions, scan
from govkit.workspace import load_workspace


def _workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "exports").mkdir(parents=True)
    fake = Faker("en_GB")
    Faker.seed(11)
    with (root / "exports" / "crm.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_name", "email", "order_ref"])
        for i in range(200):
            writer.writerow([fake.name(), fake.email(), f"ORD-{i:06d}"])
    (root / "govkit.toml").write_text('[sources.exports]\npath = "exports"\n', encoding="utf-8")
    return root


def test_unchanged_files_keep_their_findings_in_the_next_scan(engine: object, tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    workspace = load_workspace(root, search=False)
    first = scan(workspace, options=ScanOptions(jobs=1))
    assert {("crm.csv", "email"), ("crm.csv", "customer_name")} <= {(f.asset, f.field) for f in first.findings}

    second = scan(workspace, options=ScanOptions(jobs=1))
    assert [s.reason for s in second.skipped] == ["unchanged since last scan"]
    assert sorted((f.asset, f.field, f.entity_type) for f in second.findings) == sorted(
        (f.asset, f.field, f.entity_type) for f in first.findings
    ), "a --fail-on gate must still see findings of files that did not change"
    rows = Inventory(workspace.inventory_path).rows()
    assert {(r.asset, r.field) for r in rows} >= {("crm.csv", "email"), ("crm.csv", "customer_name")}
    assert Inventory(workspace.inventory_path).diff().changes == []


def test_force_rescans_and_labels_apply_to_files(engine: object, tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    workspace = load_workspace(root, search=False)
    scan(workspace, options=ScanOptions(jobs=1))
    inventory = Inventory(workspace.inventory_path)
    source, asset, field = inventory.resolve_field("crm.csv", "customer_name")
    inventory.set_label(source, asset, field, None, "synthetic test data")
    report = scan(workspace, options=ScanOptions(jobs=1, force=True))
    assert not report.skipped
    assert ("crm.csv", "customer_name") not in {(f.asset, f.field) for f in report.findings}
    assert ("crm.csv", "email") in {(f.asset, f.field) for f in report.findings}


def test_audit_report_lists_files_skipped_as_unchanged(engine: object, tmp_path: Path) -> None:
    """Skipped entries without a field (whole files) render in every report format."""
    from govkit.report import render_audit

    root = _workspace(tmp_path)
    workspace = load_workspace(root, search=False)
    scan(workspace, options=ScanOptions(jobs=1))
    scan(workspace, options=ScanOptions(jobs=1))
    inventory = Inventory(workspace.inventory_path)
    for fmt in ("html", "md"):
        text = render_audit(inventory, fmt, workspace.root)
        assert "unchanged since last scan" in text
        assert "crm.csv" in text


def test_sarif_keeps_line_positions_for_unchanged_files(engine: object, tmp_path: Path) -> None:
    from govkit.report.sarif import to_sarif

    root = _workspace(tmp_path)
    (root / "exports" / "app.log").write_text(
        "".join(f"2024-01-01 INFO retry for person{i}@example.org\n" if i % 5 == 0 else "2024-01-01 INFO ok\n"
                for i in range(100)),
        encoding="utf-8",
    )
    workspace = load_workspace(root, search=False)
    first = scan(workspace, options=ScanOptions(jobs=1))
    second = scan(workspace, options=ScanOptions(jobs=1))
    assert [s.reason for s in second.skipped] == ["unchanged since last scan"] * 2

    def regions(report: object) -> list[object]:
        results = to_sarif(report, report.details)["runs"][0]["results"]  # type: ignore[attr-defined]
        return [loc["physicalLocation"].get("region") for r in results for loc in r["locations"]
                if loc["physicalLocation"]["artifactLocation"]["uri"].endswith("app.log")]

    assert regions(first)
    assert regions(second) == regions(first)
