"""What retention asks the holds: per table, a condition true for the held rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from govkit.actions.dsr.locate import table_clause
from govkit.holds import add_hold, load_holds
from govkit.inventory.store import AssetRecord, Inventory
from govkit.policy.loader import active_policy
from govkit.workspace import Workspace, load_workspace


def _asset(workspace: Workspace, name: str) -> AssetRecord:
    inventory = Inventory(workspace.inventory_path)
    try:
        return next(a for a in inventory.assets() if a.name == name)
    finally:
        inventory.close()


def _held(workspace: Workspace, database: Path, asset_name: str) -> tuple[list[int], list[str]]:
    """The primary keys the hold set's clause selects in ``asset_name``, and the hold ids named."""
    holds = load_holds(workspace)
    inventory = Inventory(workspace.inventory_path)
    try:
        holds.resolve(active_policy(workspace.root), inventory)
    finally:
        inventory.close()
    asset = _asset(workspace, asset_name)
    table = table_clause(asset)
    clause = holds.held_clause(asset.source, asset.source_name, asset, table)
    names = holds.names(asset.source, asset.source_name, asset.name)
    if clause is None:
        return [], names
    key = table.c[asset.primary_key[0]]
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        rows = [int(r[0]) for r in conn.execute(sa.select(key).where(clause).order_by(key))]
    engine.dispose()
    return rows, names


def test_a_subject_hold_holds_the_subjects_rows_and_those_referencing_them(
        workspace: Workspace, chinook_sqlite: Path) -> None:
    hold = add_hold(workspace, subject={"email": "luisg@embraer.com.br"}, reason="litigation")
    invoices, names = _held(workspace, chinook_sqlite, "Invoice")
    conn = sqlite3.connect(chinook_sqlite)
    expected = [r[0] for r in conn.execute("SELECT InvoiceId FROM Invoice WHERE CustomerId = 1 ORDER BY 1")]
    conn.close()
    assert invoices == expected
    assert len(invoices) == 7
    assert names == [hold.id]
    customers, _ = _held(workspace, chinook_sqlite, "Customer")
    assert customers == [1]
    # a table with none of the subject's rows holds nothing
    assert _held(workspace, chinook_sqlite, "Artist") == ([], [])


def test_asset_holds_whole_or_by_predicate(workspace: Workspace, chinook_sqlite: Path) -> None:
    add_hold(workspace, asset="Invoice", where="BillingCountry = 'Brazil'", reason="tax audit")
    rows, names = _held(workspace, chinook_sqlite, "Invoice")
    assert len(rows) == 35
    assert names == ["HOLD-0001"]
    add_hold(workspace, asset="Customer", reason="all customers")
    holds = load_holds(workspace)
    asset = _asset(workspace, "Customer")
    assert holds.held_clause(asset.source, asset.source_name, asset, table_clause(asset)) is not None
    rows, _ = _held(workspace, chinook_sqlite, "Customer")
    assert len(rows) == 59


def test_bound_parameters_only(workspace: Workspace) -> None:
    add_hold(workspace, asset="Invoice", where="BillingCountry = 'x'' OR 1=1 --'", reason="odd but harmless")
    holds = load_holds(workspace)
    asset = _asset(workspace, "Invoice")
    clause = holds.held_clause(asset.source, asset.source_name, asset, table_clause(asset))
    assert clause is not None
    sql = str(clause.compile(dialect=sa.dialects.sqlite.dialect()))
    assert "OR 1=1" not in sql
    assert "?" in sql


def test_a_subject_hold_must_be_resolved_first(workspace: Workspace) -> None:
    add_hold(workspace, subject={"email": "luisg@embraer.com.br"}, reason="litigation")
    holds = load_holds(workspace)
    asset = _asset(workspace, "Invoice")
    with pytest.raises(RuntimeError, match="resolve"):
        holds.held_clause(asset.source, asset.source_name, asset, table_clause(asset))


def test_what_locate_could_not_search_is_unresolved_and_counts_as_held(
        workspace: Workspace, chinook_sqlite: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    sqlite3.connect(other).close()
    config = workspace.root / "govkit.toml"
    config.write_text(config.read_text(encoding="utf-8") + f'\n[sources.crm]\nurl = "sqlite:///{other}"\n',
                      encoding="utf-8")
    workspace = load_workspace(workspace.root, search=False)
    add_hold(workspace, subject={"email": "luisg@embraer.com.br"}, reason="litigation")
    holds = load_holds(workspace)
    inventory = Inventory(workspace.inventory_path)
    try:
        holds.resolve(active_policy(workspace.root), inventory)
    finally:
        inventory.close()
    assert len(holds.unresolved) == 1
    assert holds.unresolved[0].startswith("HOLD-0001: crm")
    assert "luisg" not in holds.unresolved[0]
    # a table of the unsearched source (as retention would meet it) is wholly held
    ghost = AssetRecord(f"sqlite:///{other}", "crm", "contacts", "table", 0, ["id"], [], [],
                        [{"name": "id", "kind": "integer"}])
    clause = holds.held_clause(ghost.source, "crm", ghost, table_clause(ghost))
    assert clause is not None
    assert str(clause.compile()) == "true"
    assert holds.names(ghost.source, "crm", "contacts") == ["HOLD-0001"]


def test_a_predicate_column_a_table_lacks_is_unresolved_after_resolve(
        workspace: Workspace, chinook_sqlite: Path) -> None:
    """The hold on Invoice* also reaches InvoiceLine, which has no BillingCountry: that table
    counts as wholly held, and resolve() already says so (callers read ``unresolved`` then)."""
    add_hold(workspace, asset="Invoice*", where="BillingCountry = 'Brazil'", reason="tax audit")
    holds = load_holds(workspace)
    inventory = Inventory(workspace.inventory_path)
    try:
        holds.resolve(active_policy(workspace.root), inventory)
    finally:
        inventory.close()
    assert holds.unresolved == ["HOLD-0001: InvoiceLine has no column 'BillingCountry'; the whole table counts as "
                                "held"]
    rows, names = _held(workspace, chinook_sqlite, "InvoiceLine")
    assert len(rows) == 2240
    assert names == ["HOLD-0001"]
    rows, _ = _held(workspace, chinook_sqlite, "Invoice")
    assert len(rows) == 35
