"""The inventory after real scans of Chinook: rows, assets, labels, diff and history.

One workspace per module, scanned twice: the first scan sees Chinook as shipped; before the
second, ``Customer.Email`` is labelled not personal data, ``Customer`` gains a ``mobile``
column of (Faker) phone numbers and a ``photo`` BLOB, and ``Playlist`` is dropped. A copy of
the inventory file taken after the first scan serves the tests that change labels.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from faker import Faker

from govkit.detect.engine import DetectionEngine
from govkit.errors import SourceError, UsageError
from govkit.inventory.store import AssetRecord, Inventory, InventoryRow
from govkit.model.findings import ScanReport
from govkit.scan import scan
from govkit.workspace import Workspace, init_workspace, load_workspace
from tests import chinook


@dataclass
class History:
    workspace: Workspace
    source: str
    first: ScanReport
    second: ScanReport
    after_first: Path  # a copy of inventory.db as it was after the first scan
    rows_first: list[InventoryRow]
    assets_first: list[AssetRecord]
    skipped_first: list[dict[str, object]]


@pytest.fixture(scope="module")
def history(engine: DetectionEngine, tmp_path_factory: pytest.TempPathFactory) -> History:
    root = tmp_path_factory.mktemp("inventory") / "ws"
    init_workspace(root, {"chinook": "sqlite:///chinook.db"})
    shutil.copyfile(chinook.sqlite_copy(tmp_path_factory.mktemp("src")), root / "chinook.db")
    workspace = load_workspace(root, search=False)
    inventory = Inventory(workspace.inventory_path)

    first = scan(workspace, inventory=inventory)
    source = first.sources[0]
    rows_first, assets_first = inventory.rows(), inventory.assets()
    skipped_first = inventory.latest_skipped()
    inventory.close()
    after_first = root.parent / "after_first.db"
    shutil.copyfile(workspace.inventory_path, after_first)

    inventory.set_label(source, "Customer", "Email", None, "test: hide it")
    fake = Faker("en_US")
    fake.seed_instance(20240601)
    with sqlite3.connect(root / "chinook.db") as conn:
        conn.execute("ALTER TABLE Customer ADD COLUMN mobile TEXT")
        conn.execute("ALTER TABLE Customer ADD COLUMN photo BLOB")
        ids = [r[0] for r in conn.execute("SELECT CustomerId FROM Customer")]
        conn.executemany("UPDATE Customer SET mobile = ?, photo = ? WHERE CustomerId = ?",
                         [(fake.phone_number(), fake.binary(64), i) for i in ids])
        conn.execute("DROP TABLE Playlist")
    conn.close()
    second = scan(workspace, inventory=inventory)
    inventory.close()
    return History(workspace, source, first, second, after_first, rows_first, assets_first, skipped_first)


@pytest.fixture
def inventory(history: History) -> Iterator[Inventory]:
    """The inventory after both scans (read it; don't change it)."""
    inv = Inventory(history.workspace.inventory_path)
    yield inv
    inv.close()


@pytest.fixture
def first_copy(history: History, tmp_path: Path) -> Iterator[Inventory]:
    """A private copy of the inventory as it stood after the first scan, free to change."""
    path = tmp_path / "inventory.db"
    shutil.copyfile(history.after_first, path)
    inv = Inventory(path)
    yield inv
    inv.close()


def _keys(rows: list[InventoryRow]) -> set[tuple[str, str, str]]:
    return {(r.asset, r.field, r.entity_type) for r in rows}


def _row(rows: list[InventoryRow], asset: str, field: str) -> InventoryRow:
    found = [r for r in rows if (r.asset, r.field) == (asset, field)]
    assert len(found) == 1, f"{asset}.{field}: {found}"
    return found[0]


# -- the first scan -------------------------------------------------------------------------------


def test_rows_list_personal_fields(history: History) -> None:
    rows = history.rows_first
    email = _row(rows, "Customer", "Email")
    assert email.entity_type == "EMAIL_ADDRESS"
    assert email.source == history.source
    assert email.scan_id == history.first.scan_id
    assert email.hits == email.sampled == 59
    assert email.confidence >= 0.9
    assert email.evidence
    assert all("*" in e for e in email.evidence)
    assert ("Customer", "Phone", "PHONE_NUMBER") in _keys(rows)
    assert not [r for r in rows if r.asset in ("Genre", "MediaType", "InvoiceLine", "PlaylistTrack")]
    # The rows are the findings of the scan that produced them.
    assert _keys(rows) == {(f.asset, f.field, f.entity_type) for f in history.first.findings}


def test_rows_filter_by_source_name_or_display(first_copy: Inventory, history: History) -> None:
    everything = first_copy.rows()
    assert first_copy.rows("chinook") == everything
    assert first_copy.rows(history.source) == everything
    assert first_copy.rows("no-such-source") == []


def test_assets_carry_keys_references_and_fields(history: History) -> None:
    assets = {a.name: a for a in history.assets_first}
    assert len(assets) == 11
    customer = assets["Customer"]
    assert customer.primary_key == ["CustomerId"]
    assert customer.source_name == "chinook"
    assert customer.row_estimate == 59
    assert {f["name"] for f in customer.fields} >= {"CustomerId", "Email", "Phone"}
    assert [f["name"] for f in customer.fields if f["primary_key"]] == ["CustomerId"]
    references = {fk["referred_table"]: fk["columns"] for fk in assets["InvoiceLine"].foreign_keys}
    assert references == {"Invoice": ["InvoiceId"], "Track": ["TrackId"]}
    assert sorted(assets["InvoiceLine"].indexes) == [["InvoiceId"], ["TrackId"]]
    assert assets["PlaylistTrack"].primary_key == ["PlaylistId", "TrackId"]


def test_nothing_skipped_in_plain_chinook(history: History) -> None:
    assert history.skipped_first == []
    assert history.first.skipped == []


# -- labels ---------------------------------------------------------------------------------------


def test_not_pii_label_hides_a_finding_at_once(first_copy: Inventory, history: History) -> None:
    before = first_copy.rows()
    first_copy.set_label(history.source, "Customer", "Email", None, "checked by hand")
    after = first_copy.rows()
    assert ("Customer", "Email") not in {(r.asset, r.field) for r in after}
    assert len(after) == len(before) - 1
    label = first_copy.field_record("Customer", "Email").label
    assert label is not None
    assert label.entity_type is None
    assert label.note == "checked by hand"


def test_label_with_entity_adds_a_row(first_copy: Inventory, history: History) -> None:
    assert ("Genre", "Name") not in {(r.asset, r.field) for r in first_copy.rows()}
    first_copy.set_label(history.source, "Genre", "Name", "PERSON")
    row = _row(first_copy.rows(), "Genre", "Name")
    assert row.entity_type == "PERSON"
    assert row.decided_by == "labelled"
    assert row.confidence == 1.0
    assert row.evidence == []


def test_label_overrides_the_detected_entity(first_copy: Inventory, history: History) -> None:
    first_copy.set_label(history.source, "Customer", "Fax", "EMAIL_ADDRESS")
    rows = [r for r in first_copy.rows() if (r.asset, r.field) == ("Customer", "Fax")]
    assert [(r.entity_type, r.decided_by) for r in rows] == [("EMAIL_ADDRESS", "labelled")]


def test_remove_label_restores_the_detector(first_copy: Inventory, history: History) -> None:
    detected = _row(first_copy.rows(), "Customer", "Email")
    first_copy.set_label(history.source, "Customer", "Email", None)
    first_copy.set_label(history.source, "Genre", "Name", "PERSON")
    assert first_copy.remove_label(history.source, "Customer", "Email") is True
    assert first_copy.remove_label(history.source, "Genre", "Name") is True
    assert first_copy.remove_label(history.source, "Genre", "Name") is False
    rows = first_copy.rows()
    assert _row(rows, "Customer", "Email") == detected
    assert ("Genre", "Name") not in {(r.asset, r.field) for r in rows}
    assert first_copy.labels() == {}


def test_label_on_unknown_field_leaves_rows_alone(first_copy: Inventory, history: History) -> None:
    before = first_copy.rows()
    first_copy.set_label(history.source, "Customer", "NoSuchColumn", "PERSON")
    assert first_copy.rows() == before


def test_not_pii_label_survives_the_next_scan(inventory: Inventory, history: History) -> None:
    assert ("Customer", "Email") not in {(r.asset, r.field) for r in inventory.rows()}
    assert ("Customer", "Email") not in {(f.asset, f.field) for f in history.second.findings}
    record = inventory.field_record("Customer", "Email")
    assert record.rule == "labelled"
    assert "test: hide it" in record.reason
    assert record.scan_id == history.second.scan_id
    # Employee.Email was not labelled and is still found.
    assert _row(inventory.rows(), "Employee", "Email").entity_type == "EMAIL_ADDRESS"


# -- the second scan ------------------------------------------------------------------------------


def test_new_column_is_found(inventory: Inventory) -> None:
    mobile = _row(inventory.rows(), "Customer", "mobile")
    assert mobile.entity_type == "PHONE_NUMBER"
    assert mobile.sampled == 59


def test_diff_shows_new_finding_gone_asset_and_label(inventory: Inventory, history: History) -> None:
    diff = inventory.diff()
    assert diff.latest_scan == history.second.scan_id
    assert diff.previous_scan == history.first.scan_id
    changes = {(c.kind, c.asset, c.field, c.entity_type): c.detail for c in diff.changes}
    assert ("new", "Customer", "mobile", "PHONE_NUMBER") in changes
    assert changes[("gone", "Playlist", None, None)] == "asset no longer present"
    assert changes[("gone", "Customer", "Email", "EMAIL_ADDRESS")].startswith("labelled not personal data")
    # Nothing else changed: no other table or column was touched.
    assert len(diff.changes) == 3
    assert all(c.source == history.source for c in diff.changes)
    assert inventory.diff("chinook").to_dict() == diff.to_dict()


def test_assets_follow_the_newest_scan(inventory: Inventory) -> None:
    assets = {a.name: a for a in inventory.assets()}
    assert "Playlist" not in assets
    assert len(assets) == 10
    fields = {f["name"]: f for f in assets["Customer"].fields}
    assert fields["mobile"]["kind"] == "text"
    assert fields["photo"]["kind"] == "binary"


def test_latest_skipped_names_the_blob_column(inventory: Inventory, history: History) -> None:
    assert inventory.latest_skipped() == [
        {"asset": "Customer", "field": "photo", "reason": "binary column: not scanned", "source": history.source}
    ]


def test_findings_history_counts_personal_fields_per_scan(inventory: Inventory, history: History) -> None:
    past = inventory.findings_history()
    assert [h["scan_id"] for h in past] == [history.first.scan_id, history.second.scan_id]
    first_fields = {(f.asset, f.field) for f in history.first.findings}
    second_fields = {(f.asset, f.field) for f in history.second.findings}
    assert [h["personal_fields"] for h in past] == [len(first_fields), len(second_fields)]
    assert len(second_fields) == len(first_fields)  # Email labelled away, mobile added
    assert all(len(h["started_at"]) == len("2024-01-01 12:00") for h in past)
    assert [h["scan_id"] for h in inventory.findings_history(limit=1)] == [history.second.scan_id]


def test_failed_scan_is_not_history(history: History, tmp_path: Path) -> None:
    path = tmp_path / "inventory.db"
    shutil.copyfile(history.workspace.inventory_path, path)
    inv = Inventory(path)
    with pytest.raises(SourceError):
        scan(history.workspace, [f"sqlite:///{tmp_path / 'missing.db'}"], inventory=inv)
    assert [h["scan_id"] for h in inv.findings_history()] == [history.first.scan_id, history.second.scan_id]


# -- field records --------------------------------------------------------------------------------


def test_field_record_explains_a_field(inventory: Inventory, history: History) -> None:
    record = inventory.field_record("customer", "PHONE")  # case-insensitive lookup
    assert (record.asset, record.field) == ("Customer", "Phone")
    assert record.source == history.source
    assert record.rule == "name + values"
    assert record.sql_type.startswith("NVARCHAR")
    assert record.label is None
    assert [e["entity_type"] for e in record.detail["entities"]] == ["PHONE_NUMBER"]
    assert inventory.resolve_field("customer", "phone") == (history.source, "Customer", "Phone")


@pytest.mark.parametrize(("asset", "field"), [("Customer", "NoSuchColumn"), ("NoSuchTable", "Email")])
def test_field_record_unknown_field_is_a_usage_error(inventory: Inventory, asset: str, field: str) -> None:
    with pytest.raises(UsageError) as info:
        inventory.field_record(asset, field)
    assert f"{asset}.{field}" in str(info.value)
    assert "govkit scan" in str(info.value)


def test_inventory_holds_no_raw_email(history: History) -> None:
    with sqlite3.connect(history.workspace.root / "chinook.db") as conn:
        emails = [r[0] for r in conn.execute("SELECT Email FROM Customer UNION SELECT Email FROM Employee")]
    conn.close()
    data = history.workspace.inventory_path.read_bytes().lower()
    assert len(emails) == 67
    assert [e for e in emails if e.lower().encode() in data] == []
