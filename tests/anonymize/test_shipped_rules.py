"""Every shipped policy pack, on real data: the export it makes passes its own verification.

Real data: Chinook (a public sample database) and the demo shop (orders with public IPv4
addresses, Chinese resident IDs and mobiles, cards, IBANs, free-text notes), scanned once
for the module. Before issue #15, ``generalize:to=network`` wrote ``192.168.1.0/24`` and
its own verification found an IP address in 300 of 300 sampled values.
"""

from __future__ import annotations

import base64
import shutil
import sqlite3
from pathlib import Path

import pytest

from govkit.actions.anonymize.run import AnonymizeRequest, anonymize
from govkit.scan import scan
from govkit.workspace import init_workspace, load_workspace
from tests.chinook import FIXTURES

KEY = base64.b64encode(b"s" * 32).decode()
PACKS = ("baseline", "gdpr", "ccpa", "pipl")
#: the five public sample databases of shared/fixtures/realworld (see its README)
REALWORLD = ("northwind", "sakila", "classicmodels", "metabase", "employees")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Chinook and a small demo shop, scanned once (the scan is the slow part)."""
    import os

    from govkit.demo import build_demo_database

    root = tmp_path_factory.mktemp("shipped")
    shutil.copyfile(FIXTURES / "Chinook_Sqlite.sqlite", root / "chinook.db")
    for name in REALWORLD:
        shutil.copyfile(FIXTURES.parent / "realworld" / "db" / f"{name}.db", root / f"{name}.db")
    build_demo_database(root / "shop.db", customers=150)
    init_workspace(root, {"chinook": "sqlite:///chinook.db", "shop": "sqlite:///shop.db",
                          **{name: f"sqlite:///{name}.db" for name in REALWORLD}})
    saved = os.environ.get("GOVKIT_KEY")
    os.environ["GOVKIT_KEY"] = KEY
    cwd = Path.cwd()
    os.chdir(root)
    try:
        scan(load_workspace(root, search=False), ["chinook", "shop", *REALWORLD])
    finally:
        os.chdir(cwd)
        if saved is None:
            os.environ.pop("GOVKIT_KEY", None)
        else:
            os.environ["GOVKIT_KEY"] = saved
    return root


@pytest.fixture
def ws(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GOVKIT_KEY", KEY)
    monkeypatch.delenv("GOVKIT_KEY_FILE", raising=False)
    monkeypatch.chdir(workspace)
    return workspace


def _use_pack(root: Path, pack: str) -> None:
    folder = root / "policies"
    folder.mkdir(exist_ok=True)
    (folder / "policy.yaml").write_text(f"version: 1\nname: test\nextends: {pack}\n", encoding="utf-8")


@pytest.mark.parametrize("pack", PACKS)
@pytest.mark.parametrize("source", ["shop", "chinook"])
def test_every_shipped_pack_verifies_on_real_data(ws: Path, pack: str, source: str) -> None:
    _use_pack(ws, pack)
    target = ws / f"{source}-{pack}.db"
    target.unlink(missing_ok=True)
    result = anonymize(AnonymizeRequest(source, to=f"sqlite:///{target}"), load_workspace(ws, search=False))
    assert result.problems == []
    assert result.verified
    assert result.plan.fields  # something was transformed: the pack has rules for this data
    if source == "shop":  # customers.email is UNIQUE and masked: the copy says it dropped that
        assert any(n.startswith("customers(email) is unique in the source") for n in result.plan.notes)


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # MySQL-style types in the SQLite copies
@pytest.mark.parametrize("source", REALWORLD)
def test_the_baseline_verifies_on_the_realworld_databases(ws: Path, source: str) -> None:
    """Values that could not be placed go up a level, and only a few: a coordinate column is
    rounded (metabase), a district is a region (sakila), a BLOB column is copied (classicmodels)."""
    _use_pack(ws, "baseline")
    target = ws / f"{source}-baseline.db"
    target.unlink(missing_ok=True)
    result = anonymize(AnonymizeRequest(source, to=f"sqlite:///{target}"), load_workspace(ws, search=False))
    assert result.problems == []
    assert result.verified
    went_up = [int(n.split(": ", 1)[1].split()[0]) for n in result.plan.notes if "went up" in n]
    assert sum(went_up) <= 10, result.plan.notes


def test_ip_addresses_become_networks_no_detector_calls_an_address(ws: Path) -> None:
    _use_pack(ws, "baseline")
    target = ws / "ip.db"
    target.unlink(missing_ok=True)
    result = anonymize(AnonymizeRequest("shop", to=f"sqlite:///{target}", table=["orders"]),
                       load_workspace(ws, search=False))
    assert result.plan.fields[("orders", "ip_address")].spec == "generalize:to=network"
    with sqlite3.connect(target) as conn:
        networks = [r[0] for r in conn.execute("SELECT ip_address FROM orders")]
    assert networks
    assert all(n.endswith(".*") and n.count(".") == 3 for n in networks)


# -- Chinook with the default policy: useful to an analyst, nothing of the customers kept ---------

JOIN = (
    "SELECT count(*), count(DISTINCT c.CustomerId), count(DISTINCT e.EmployeeId), sum(il.UnitPrice * il.Quantity) "
    "FROM InvoiceLine il JOIN Invoice i ON il.InvoiceId = i.InvoiceId "
    "JOIN Customer c ON i.CustomerId = c.CustomerId JOIN Employee e ON c.SupportRepId = e.EmployeeId"
)
CUSTOMER = "SELECT CustomerId, FirstName, LastName, Email, Address, City, State, Country, PostalCode FROM Customer"


def _first_names(locale: str) -> set[str]:
    from faker import Faker

    person = next(p for p in Faker(locale).providers if "person" in type(p).__module__)
    names: set[str] = set()
    for attribute in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"):
        names.update(getattr(person, attribute, ()) or ())
    return names


@pytest.fixture(scope="module")
def chinook_default(workspace: Path) -> Path:
    import os

    _use_pack(workspace, "baseline")
    target = workspace / "chinook-default.db"
    saved = os.environ.get("GOVKIT_KEY")
    os.environ["GOVKIT_KEY"] = KEY
    try:
        result = anonymize(AnonymizeRequest("chinook", to=f"sqlite:///{target}"),
                           load_workspace(workspace, search=False))
    finally:
        if saved is None:
            os.environ.pop("GOVKIT_KEY", None)
        else:
            os.environ["GOVKIT_KEY"] = saved
    assert result.verified
    return target


def test_chinook_default_policy_keeps_joins_and_no_customer_identity(workspace: Path, chinook_default: Path) -> None:
    with sqlite3.connect(workspace / "chinook.db") as before, sqlite3.connect(chinook_default) as after:
        assert before.execute(JOIN).fetchone() == after.execute(JOIN).fetchone()
        old = {r[0]: r for r in before.execute(CUSTOMER)}
        new = {r[0]: r for r in after.execute(CUSTOMER)}
    assert old.keys() == new.keys()
    for cid, row in old.items():
        _, first, last, email, street, city, state, country, _postcode = row
        _, first2, last2, email2, street2, city2, state2, country2, _ = new[cid]
        assert first2 != first
        assert last2 != last
        assert email2 != email
        assert street2 != street
        assert street not in str(street2)  # no street part left: the row's city took its place
        assert street2 == (city or country)
        assert (city2, state2, country2) == (city, state, country)  # city, region and country kept


def test_chinook_first_name_columns_hold_first_names_of_the_rows_country(chinook_default: Path) -> None:
    from govkit.actions.anonymize.roles import locale_of

    with sqlite3.connect(chinook_default) as conn:
        rows = conn.execute("SELECT FirstName, Country FROM Customer UNION ALL SELECT FirstName, Country FROM Employee")
        rows = rows.fetchall()
    lists: dict[str, set[str]] = {}
    for first, country in rows:
        locale = locale_of(country) or "en_US"
        assert first in lists.setdefault(locale, _first_names(locale)), (first, country)


def test_chinook_no_column_is_flattened_to_one_placeholder(workspace: Path, chinook_default: Path) -> None:
    with sqlite3.connect(workspace / "chinook.db") as before, sqlite3.connect(chinook_default) as after:
        for table in ("Customer", "Employee", "Invoice"):
            columns = [r[1] for r in before.execute(f"PRAGMA table_info({table})")]
            for column in columns:
                query = f'SELECT count(DISTINCT "{column}") FROM {table}'
                if before.execute(query).fetchone()[0] > 1:
                    assert after.execute(query).fetchone()[0] > 1, f"{table}.{column}"
            placeholders = after.execute(f"SELECT count(*) FROM {table} WHERE " + " OR ".join(
                f"CAST(\"{c}\" AS TEXT) LIKE '<%>'" for c in columns)).fetchone()[0]
            assert placeholders == 0, table
