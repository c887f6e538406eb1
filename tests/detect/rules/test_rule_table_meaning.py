"""Rules ``place-lookup``, ``organisation`` and ``names-no-person`` (table meaning)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from govkit.detect.columns import ColumnClassifier
from govkit.detect.rules import REGISTRY, TableFacts
from tests.detect.rules.conftest import classify_table

PLACE = REGISTRY.table_rule("place-lookup")
ORGANISATION = REGISTRY.table_rule("organisation")
NAMES_NO_PERSON = REGISTRY.table_rule("names-no-person")
PHONES = ["(503) 555-9931", "(206) 555-8257", "(171) 555-2282", "030-0074321", "(5) 555-4729", "0921-12 34 65"]
CITIES = ["Berlin", "Lyon", "Portland", "São Paulo", "Kirkland", "Seattle", "Madrid", "London"]


@pytest.mark.parametrize("table", ["city", "countries", "dim_region", "sales_territories", "ref.states"])
def test_place_lookup_by_the_tables_last_word(table: str) -> None:
    meaning = PLACE.meaning(TableFacts(table, ["id", "name"]))
    assert meaning is not None
    assert meaning.kind == "place lookup"
    assert meaning.drops("LOCATION")
    assert not meaning.drops("PERSON")


@pytest.mark.parametrize("table", ["customer", "city_customers", "address", "orders"])
def test_other_tables_are_not_place_lookups(table: str) -> None:
    assert PLACE.meaning(TableFacts(table, ["id", "city"])) is None


@pytest.mark.parametrize(("table", "columns", "kind"), [
    ("shippers", ["ShipperID", "CompanyName", "Phone"], "organisation"),
    ("offices", ["officeCode", "city", "phone", "addressLine1"], "organisation"),
    ("suppliers", ["SupplierID", "CompanyName", "ContactName", "Phone"], "organisation with contact person"),
])
def test_organisation(table: str, columns: Sequence[str], kind: str) -> None:
    meaning = ORGANISATION.meaning(TableFacts(table, columns))
    assert meaning is not None
    assert meaning.kind == kind
    assert meaning.drops("URL")
    assert meaning.drops("PHONE_NUMBER") == (kind == "organisation")


def test_a_table_of_people_is_no_organisation() -> None:
    assert ORGANISATION.meaning(TableFacts("customers", ["CompanyName", "Phone"])) is None


@pytest.mark.parametrize(("table", "persons", "unlike", "expected"), [
    ("orders", [], ["ShipName"], True),
    ("hotels", [], ["name"], True),
    ("orders", ["ShipName"], [], False),  # a column holds people's names
    ("orders", [], [], False),  # the name column reads as people
    ("customers", [], ["name"], False),  # rows about people
    ("orders", [], ["ShipCity"], False),  # no name column
])
def test_names_no_person(table: str, persons: list[str], unlike: list[str], expected: bool) -> None:
    facts = TableFacts(table, ["ShipName", "ShipCity", "name"], persons, unlike)
    meaning = NAMES_NO_PERSON.meaning(facts)
    assert (meaning is not None and meaning.kind == "names no person") == expected


def test_place_lookup_is_tried_first() -> None:
    decided = REGISTRY.table_meaning(TableFacts("region", ["name", "phone"], unlike_people=["name"]))
    assert decided is not None
    assert decided[0] == "place-lookup"


def test_the_verdicts_name_the_table_rule(classifier: ColumnClassifier) -> None:
    verdicts = classify_table(classifier, "shippers", {
        "ShipperID": ("integer", list(range(1, 49))),
        "Phone": ("text", PHONES * 8),
    })
    phone = verdicts["Phone"]
    assert phone.entities == []
    assert phone.rule == "table meaning"
    assert [(f["rule"], f["entity"], f["stage"]) for f in phone.fired] == [("organisation", "PHONE_NUMBER", "table")]
    cities = classify_table(classifier, "city", {"city": ("text", CITIES * 6)})["city"]
    assert cities.entities == []
    assert [f["rule"] for f in cities.fired] == ["place-lookup"]
