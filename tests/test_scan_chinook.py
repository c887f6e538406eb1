"""Acceptance: Chinook on SQLite, PostgreSQL and MariaDB gives the expected verdicts.

PostgreSQL's script uses snake_case names (``customer.first_name``), schema-qualified as
``public.customer``; SQLite and MariaDB use PascalCase (``Customer.FirstName``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from govkit.model.findings import ScanReport
from govkit.scan import scan

PERSONAL = {
    ("Customer", "Email"): "EMAIL_ADDRESS",
    ("Customer", "Phone"): "PHONE_NUMBER",
    ("Customer", "Fax"): "PHONE_NUMBER",
    ("Customer", "FirstName"): "PERSON",
    ("Customer", "LastName"): "PERSON",
    ("Employee", "FirstName"): "PERSON",
    ("Employee", "LastName"): "PERSON",
    ("Customer", "Address"): "LOCATION",
    ("Employee", "BirthDate"): "DATE_TIME",
}
NOT_PERSONAL = [("Genre", "Name"), ("MediaType", "Name"), ("InvoiceLine", "UnitPrice"), ("Track", "Milliseconds")]


def _snake(name: str) -> str:
    out = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return out.replace("media_type", "media_type")


def _verdicts(report: ScanReport) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = {}
    for f in report.findings:
        asset = f.asset.split(".")[-1]
        found.setdefault((asset.lower(), (f.field or "").lower()), set()).add(f.entity_type)
    return found


def _check(report: ScanReport, snake_case: bool) -> None:
    found = _verdicts(report)

    def key(table: str, column: str) -> tuple[str, str]:
        return (_snake(table), _snake(column)) if snake_case else (table.lower(), column.lower())

    for (table, column), entity in PERSONAL.items():
        assert entity in found.get(key(table, column), set()), f"{table}.{column} should be {entity}"
    for table, column in NOT_PERSONAL:
        assert key(table, column) not in found, f"{table}.{column} should not be personal data"
    assert report.stats.assets == 11
    assert not [s for s in report.skipped if s.asset == "*"]


def test_chinook_sqlite(engine: object, chinook_sqlite: Path) -> None:
    report = scan(None, [f"sqlite:///{chinook_sqlite}"])
    _check(report, snake_case=False)
    assert report.sources == [f"sqlite:///{chinook_sqlite}"]


@pytest.mark.server
def test_chinook_postgres(engine: object, chinook_postgres: str) -> None:
    report = scan(None, [chinook_postgres])
    _check(report, snake_case=True)
    assert all(f.asset.startswith("public.") for f in report.findings)


@pytest.mark.server
def test_chinook_mysql(engine: object, chinook_mysql: str) -> None:
    report = scan(None, [chinook_mysql])
    _check(report, snake_case=False)


def test_scan_is_reproducible(engine: object, chinook_sqlite: Path) -> None:
    first = scan(None, [f"sqlite:///{chinook_sqlite}"])
    second = scan(None, [f"sqlite:///{chinook_sqlite}"])
    assert [f.to_dict() for f in first.findings] == [f.to_dict() for f in second.findings]


def test_a_sqlite_file_given_by_its_path_is_scanned_as_a_database(engine: object, chinook_sqlite: Path) -> None:
    """``govkit scan shop.db`` reads the tables, rather than skipping the file as binary."""
    report = scan(None, [str(chinook_sqlite)])
    _check(report, snake_case=False)
    assert report.sources == [f"sqlite:///{chinook_sqlite.resolve()}"]
