"""``evaluate``: inventory x policy -> violations; and rows past retention counted in SQLite."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from faker import Faker

from govkit.errors import SourceError
from govkit.inventory.store import AssetRecord, InventoryRow
from govkit.policy import DatabaseCounter, Policy, evaluate
from govkit.policy.schema import RetentionRule
from tests.policy.helpers import Write, load

NOW = dt.datetime(2026, 11, 22, 12, 0, 0)
SOURCE = "sqlite:///shop.db"


def row(asset: str, field: str, entity_type: str, severity: str = "MEDIUM") -> InventoryRow:
    return InventoryRow(SOURCE, asset, field, entity_type, 0.9, 10, 10, severity, "values", [], "scan-1")


def asset(name: str, *columns: tuple[str, str], kind: str = "table") -> AssetRecord:
    fields = [{"name": c, "sql_type": "", "kind": k, "primary_key": False} for c, k in columns]
    return AssetRecord(SOURCE, "shop", name, kind, 100, [], [], [], fields)


class FakeCounter:
    """Records what it was asked; answers from a table of counts."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self.calls: list[tuple[str, str, dt.datetime]] = []

    def __call__(self, record: AssetRecord, rule: RetentionRule, cutoff: dt.datetime) -> int:
        self.calls.append((record.name, rule.label, cutoff))
        if record.name not in self.counts:
            raise SourceError(f"{record.name}: database unreachable")
        return self.counts[record.name]


@pytest.fixture
def shop_policy(write: Write) -> Policy:
    path = write("shop", """
        extends: gdpr
        classification:
          categories:
            tracking: {sensitivity: restricted, description: no anonymization rule names it}
          entities:
            BADGE_ID: {category: identity, sensitivity: confidential}
            GPS_TRACE: {category: tracking}
          fields:
            - {asset: app_events, field: misc, allow_personal_data: false}
            - {asset: customers, field: notes, sensitivity: restricted, category: other}
        anonymization:
          rules:
            - {category: other, operator: keep}
        processing:
          activities:
            - {name: Accounts, purposes: [accounts], legal_basis: contract, assets: [customers, orders]}
        retention:
          rules:
            - name: customers
              assets: [customers]
              timestamp: created_at
              period: 3 years
              action: anonymize
              exceptions:
                - {where: "status = 'open'", reason: open accounts}
            - {name: orders, assets: [orders], timestamp: placed_on, period: P5Y, action: delete}
            - name: held
              assets: [disputes]
              timestamp: created_at
              period: P1Y
              action: delete
              exceptions: [{legal_hold: LH-1}]
    """)
    return load(path)


def kinds(violations: list[Any]) -> list[tuple[str, str, str | None, str]]:
    return [(v.kind, v.asset, v.field, v.severity.name) for v in violations]


def test_each_kind_of_violation(shop_policy: Policy) -> None:
    rows = [
        row("customers", "email", "EMAIL_ADDRESS"),
        row("customers", "notes", "PERSON"),
        row("customers", "badge", "BADGE_ID"),
        row("customers", "pet_name", "PET_NAME", "LOW"),          # a custom type nobody classified
        row("customers", "card", "CREDIT_CARD", "HIGH"),          # restricted, but baseline masks it
        row("customers", "last_seen_at", "GPS_TRACE", "HIGH"),    # restricted, no operator for it
        row("orders", "shipping_address", "LOCATION"),
        row("app_events", "misc", "EMAIL_ADDRESS"),               # must not hold personal data
        row("tickets", "body", "PERSON"),                         # no retention rule, no activity
        row("disputes", "claimant", "PERSON"),
    ]
    assets = [
        asset("customers", ("id", "integer"), ("created_at", "datetime"), ("status", "text")),
        asset("orders", ("id", "integer"), ("created_at", "datetime")),   # no placed_on column
        asset("app_events", ("misc", "text")),
        asset("tickets", ("body", "text")),
        asset("disputes", ("created_at", "datetime")),
    ]
    counter = FakeCounter({"customers": 17})
    result = evaluate(rows, assets, shop_policy, count_expired=counter, now=NOW)
    assert kinds(result.violations) == [
        ("forbidden-personal-data", "app_events", "misc", "HIGH"),
        ("past-retention", "customers", None, "HIGH"),
        ("no-anonymization-rule", "customers", "last_seen_at", "HIGH"),
        ("bad-retention-rule", "orders", None, "MEDIUM"),
        ("no-retention-rule", "tickets", None, "MEDIUM"),
        ("unclassified", "customers", "pet_name", "LOW"),
        ("no-processing-record", "disputes", None, "LOW"),
        ("no-processing-record", "tickets", None, "LOW"),
    ]
    by_kind = {v.kind: v for v in result.violations}
    past = by_kind["past-retention"]
    assert past.count == 17
    assert past.message == ("17 rows of customers are past retention: created_at before 2023-11-22, "
                            "older than 3 years (exceptions and legal holds left out)")
    assert past.rule == "policies/shop.yaml:19"
    assert counter.calls == [("customers", "customers", dt.datetime(2023, 11, 22, 12, 0, 0))]
    assert by_kind["forbidden-personal-data"].rule == "policies/shop.yaml:9"
    assert by_kind["bad-retention-rule"].message == (
        'retention rule "orders" dates rows by placed_on, which orders lacks (date columns: created_at)')
    assert by_kind["no-anonymization-rule"].message == (
        "customers.last_seen_at holds restricted data (tracking: GPS_TRACE) but no anonymization rule covers it")
    assert by_kind["no-anonymization-rule"].rule == "policies/shop.yaml:7"
    assert by_kind["unclassified"].message == "customers.pet_name holds PET_NAME but no policy rule classifies it"
    assert by_kind["no-retention-rule"].message == (
        "tickets holds personal data (body) but no retention rule selects it")
    assert result.errors == []
    assert (result.assets, result.personal_fields) == (5, 10)


def test_no_data_values_in_violations(shop_policy: Policy) -> None:
    secret = "jane.doe@example.com"
    found = InventoryRow(SOURCE, "app_events", "misc", "EMAIL_ADDRESS", 0.9, 3, 3, "MEDIUM", "values",
                         [secret, "j***@e******.com"], "scan-1")
    result = evaluate([found], [asset("app_events", ("misc", "text"))], shop_policy, now=NOW)
    assert result.violations
    assert secret not in repr(result.to_dict())
    assert "e******" not in repr(result.to_dict())


def test_without_a_counter_nothing_is_counted(shop_policy: Policy) -> None:
    rows = [row("customers", "email", "EMAIL_ADDRESS")]
    assets = [asset("customers", ("created_at", "datetime"), ("status", "text"))]
    assert evaluate(rows, assets, shop_policy, now=NOW).violations == []


def test_a_source_that_cannot_be_counted_is_an_error_not_a_pass(shop_policy: Policy) -> None:
    rows = [row("customers", "email", "EMAIL_ADDRESS")]
    assets = [asset("customers", ("created_at", "datetime"), ("status", "text"))]
    result = evaluate(rows, assets, shop_policy, count_expired=FakeCounter({}), now=NOW)
    assert result.errors == ["customers: rows past retention not counted: customers: database unreachable"]


def test_a_whole_asset_legal_hold_is_not_counted(shop_policy: Policy) -> None:
    counter = FakeCounter({"disputes": 5})
    result = evaluate([row("disputes", "claimant", "PERSON")], [asset("disputes", ("created_at", "datetime"))],
                      shop_policy, count_expired=counter, now=NOW)
    assert counter.calls == []
    assert "past-retention" not in [v.kind for v in result.violations]


def test_baseline_alone_asks_for_retention_rules() -> None:
    from govkit.policy import load_pack

    rows = [row("customers", "email", "EMAIL_ADDRESS"), row("customers", "phone", "PHONE_NUMBER")]
    result = evaluate(rows, [asset("customers", ("email", "text"))], load_pack("baseline"), now=NOW)
    assert kinds(result.violations) == [("no-retention-rule", "customers", None, "MEDIUM")]
    assert result.violations[0].fix == (
        "add a retention rule with assets: [customers], the timestamp column that dates each row, "
        "a period (e.g. P3Y) and an action (delete, anonymize or archive)")


# -- counting in a real database ------------------------------------------------------------------


def _make_shop(path: Path, n: int = 200) -> list[dict[str, Any]]:
    """A SQLite shop with Faker people, timestamps over ten years, and some NULL statuses."""
    fake = Faker("en_US")
    Faker.seed(11)
    rng = random.Random(11)
    people = []
    for i in range(1, n + 1):
        created = dt.datetime(2016, 1, 1) + dt.timedelta(seconds=rng.randrange(10 * 365 * 86400))
        people.append({
            "id": i, "name": fake.name(), "email": fake.unique.email(), "created_at": created,
            "status": rng.choice(["open", "closed", "closed", None]),
        })
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, created_at DATETIME, "
                 "created_epoch INTEGER, created_day DATE, created_text TEXT, status TEXT)")
    conn.executemany(
        "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(p["id"], p["name"], p["email"], f"{p['created_at']:%Y-%m-%d %H:%M:%S}",
          int(p["created_at"].replace(tzinfo=dt.UTC).timestamp()), f"{p['created_at']:%Y-%m-%d}",
          f"{p['created_at']:%Y-%m-%d %H:%M:%S}", p["status"]) for p in people],
    )
    conn.commit()
    conn.close()
    return people


def _rule(**extra: Any) -> RetentionRule:
    data = {"assets": ["customers"], "timestamp": "created_at", "period": "P3Y", "action": "delete", **extra}
    return RetentionRule.model_validate(data)


@pytest.mark.parametrize("column", ["created_at", "created_epoch", "created_day", "created_text"])
def test_counter_counts_rows_past_retention_in_sqlite(tmp_path: Path, column: str) -> None:
    people = _make_shop(tmp_path / "shop.db")
    record = AssetRecord(f"sqlite:///{tmp_path / 'shop.db'}", None, "customers", "table", None, [], [], [], [])
    rule = _rule(timestamp=column, exceptions=[{"where": "status = 'open'"}])
    cutoff = dt.datetime(2022, 6, 1)
    if column == "created_day":
        expected = sum(1 for p in people if p["created_at"].date() < cutoff.date() and p["status"] != "open")
    else:
        expected = sum(1 for p in people if p["created_at"] < cutoff and p["status"] != "open")
    with DatabaseCounter(None) as counter:
        assert counter(record, rule, cutoff) == expected
    assert 0 < expected < len(people)


def test_counter_exceptions_combine_with_or_and_null_is_not_exempt(tmp_path: Path) -> None:
    people = _make_shop(tmp_path / "shop.db")
    record = AssetRecord(f"sqlite:///{tmp_path / 'shop.db'}", None, "customers", "table", None, [], [], [], [])
    cutoff = dt.datetime(2024, 1, 1)
    rule = _rule(exceptions=[{"where": "status != 'closed'"}, {"where": "id in (1, 2, 3)", "legal_hold": "LH-9"}])
    expected = sum(
        1 for p in people
        if p["created_at"] < cutoff and not ((p["status"] is not None and p["status"] != "closed") or p["id"] <= 3)
    )
    with DatabaseCounter(None) as counter:
        assert counter(record, rule, cutoff) == expected
    # rows with a NULL status were counted: "status != 'closed'" does not exempt them
    assert expected > sum(1 for p in people if p["created_at"] < cutoff and p["status"] == "closed" and p["id"] > 3)


def test_counter_reports_a_missing_table_or_column(tmp_path: Path) -> None:
    _make_shop(tmp_path / "shop.db", n=5)
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    with DatabaseCounter(None) as counter:
        gone = AssetRecord(url, None, "old_customers", "table", None, [], [], [], [])
        with pytest.raises(SourceError, match="table old_customers no longer exists"):
            counter(gone, _rule(), NOW)
        record = AssetRecord(url, None, "customers", "table", None, [], [], [], [])
        with pytest.raises(SourceError, match="customers has no column placed_on"):
            counter(record, _rule(timestamp="placed_on"), NOW)
        with pytest.raises(SourceError, match="customers has no column colour"):
            counter(record, _rule(exceptions=[{"where": "colour = 'red'"}]), NOW)


def test_counter_refuses_a_redacted_url() -> None:
    record = AssetRecord("postgresql://app:***@db/shop", None, "customers", "table", None, [], [], [], [])
    with DatabaseCounter(None) as counter, pytest.raises(SourceError, match="not a source of this workspace"):
        counter(record, _rule(), NOW)


def test_files_are_dated_by_their_modification_time(tmp_path: Path) -> None:
    import os

    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    old.write_text("x")
    new.write_text("x")
    os.utime(old, (dt.datetime(2020, 1, 1).timestamp(),) * 2)
    rule = _rule(timestamp="$mtime")
    with DatabaseCounter(None) as counter:
        for name, expected in (("old.csv", 1), ("new.csv", 0)):
            record = AssetRecord(str(tmp_path), None, name, "file", None, [], [], [], [])
            assert counter(record, rule, dt.datetime(2024, 1, 1)) == expected
