"""Rules added for schemas written by others (issue 14, benchmarks/accuracy_realworld.py).

Each test pins one general rule with small tables made here, never the fixtures' own: keys
named like a place, companies and job titles under person-like names, enumerations, sales
regions, descriptions, table meaning (place lookups, organisations), coordinates, state
codes, user names, and a note quoting contact data. Each rule has its counterpart that must
still be found.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
from faker import Faker

from govkit.detect.columns import ColumnClassifier, ColumnSample, ColumnVerdict, ValueKind
from govkit.detect.engine import DetectionEngine
from govkit.detect.names import hints_for
from govkit.detect.tables import names_no_person, table_meaning


@pytest.fixture(scope="module")
def classifier(engine: DetectionEngine) -> ColumnClassifier:
    return ColumnClassifier(engine)


def fake(seed: int = 14) -> Faker:
    f = Faker("en_US")
    f.seed_instance(seed)
    return f


Table = dict[str, tuple[ValueKind, Sequence[object]]]


def classify_table(classifier: ColumnClassifier, table: str, columns: Table) -> dict[str, set[str]]:
    samples = [ColumnSample(table, name, kind, list(values)) for name, (kind, values) in columns.items()]
    return {v.column: {e.entity_type for e in v.entities} for v in classifier.classify_many(samples)}


def classify(classifier: ColumnClassifier, table: str, column: str, values: Sequence[object],
             kind: ValueKind = "text") -> ColumnVerdict:
    return classifier.classify(ColumnSample(table, column, kind, list(values)))


def found(verdict: ColumnVerdict) -> set[str]:
    return {e.entity_type for e in verdict.entities}


# -- keys named like a place or a person -------------------------------------------------------


@pytest.mark.parametrize("column", ["address_id", "city_id", "AddressID", "country_key", "contact_fk", "owner_id"])
def test_a_key_named_like_a_place_or_person_is_no_finding(classifier: ColumnClassifier, column: str) -> None:
    values = list(range(1, 301))
    assert found(classify(classifier, "customer", column, values, "integer")) == set()
    assert all(h.effective_strength == 0 for h in hints_for(column, "customer"))


@pytest.mark.parametrize("column", ["postal_code", "zip"])
def test_integer_postcodes_are_still_places(classifier: ColumnClassifier, column: str) -> None:
    rng = random.Random(3)
    values = [rng.randint(10000, 99999) for _ in range(200)]
    assert "LOCATION" in found(classify(classifier, "customer", column, values, "integer"))


def test_email_id_is_still_an_email_address() -> None:
    assert hints_for("email_id", "users")[0].effective_strength > 0.5


# -- companies, job titles, enumerations -------------------------------------------------------

COMPANIES = ["Atlas Freight Ltd.", "Blue River Imports", "Nordic Tools Inc", "Harbor & Sons", "Kestrel Gifts Co.",
             "Summit Trading GmbH", "Maple Leaf Distributors", "Orchid Stores", "Granite Supply LLC",
             "Pelican Souvenirs", "Quartz Group", "Redwood Models"]  # fmt: skip


@pytest.mark.parametrize("column", ["CompanyName", "company_name", "customerName", "client_name", "name"])
def test_company_names_are_not_people(classifier: ColumnClassifier, column: str) -> None:
    f = fake()
    values = [*COMPANIES, *(f.last_name() for _ in range(12))] * 5  # half of them read like surnames
    assert "PERSON" not in found(classify(classifier, "customers", column, values))


@pytest.mark.parametrize("column", ["customerName", "contact_name", "name"])
def test_people_under_the_same_names_are_still_people(classifier: ColumnClassifier, column: str) -> None:
    f = fake()
    values = [f.name() for _ in range(150)]
    assert "PERSON" in found(classify(classifier, "customers", column, values))


@pytest.mark.parametrize("column", ["ContactTitle", "job_title", "contact_position", "owner_role"])
def test_job_titles_are_not_people(classifier: ColumnClassifier, column: str) -> None:
    f = fake()
    values = [f.job() for _ in range(100)] + ["Owner", "Sales Manager", "Marketing Assistant"] * 10
    assert "PERSON" not in found(classify(classifier, "customers", column, values))


@pytest.mark.parametrize("values", [
    ["Shipped", "Resolved", "Cancelled", "On Hold", "Disputed", "In Process"],
    ["Harper", "Lennon", "Marley", "Morrison"],  # plan or tier names that happen to be surnames
])
def test_a_small_enumeration_is_not_people(classifier: ColumnClassifier, values: list[str]) -> None:
    rng = random.Random(5)
    column = [rng.choice(values) for _ in range(300)]
    assert "PERSON" not in found(classify(classifier, "orders", "state_of_order", column))
    assert "PERSON" not in found(classify(classifier, "orders", "label", column))


# -- places that are not a person's --------------------------------------------------------------

SALES_REGIONS = ["Western Europe", "British Isles", "North America", "South America", "Eastern Europe",
                 "Central America", "Scandinavia", "Southern Europe", "EMEA", "APAC"]  # fmt: skip


@pytest.mark.parametrize("column", ["Region", "sales_region", "territory"])
def test_sales_regions_are_not_addresses(classifier: ColumnClassifier, column: str) -> None:
    rng = random.Random(7)
    values = [rng.choice(SALES_REGIONS) for _ in range(200)]
    assert "LOCATION" not in found(classify(classifier, "customers", column, values))


@pytest.mark.parametrize(("table", "column"), [("city", "city"), ("countries", "country_name"), ("tbl_region", "name"),
                                               ("Territories", "TerritoryDescription")])
def test_a_lookup_table_of_places_describes_no_person(classifier: ColumnClassifier, table: str, column: str) -> None:
    f = fake()
    values = [f.city() for _ in range(200)]
    got = classify_table(classifier, table, {f"{table}_id": ("integer", list(range(200))), column: ("text", values)})
    assert "LOCATION" not in got[column]
    assert table_meaning(table, [column]).kind == "place lookup"


def test_the_same_cities_of_people_are_places(classifier: ColumnClassifier) -> None:
    f = fake()
    values = [f.city() for _ in range(200)]
    assert "LOCATION" in classify_table(classifier, "customer", {"city": ("text", values)})["city"]


def _contact_columns(f: Faker, n: int) -> Table:
    return {
        "address": ("text", [f.street_address() for _ in range(n)]),
        "city": ("text", [f.city() for _ in range(n)]),
        "phone": ("text", [f"+1 212 555 {1000 + i:04d}" for i in range(n)]),
        "homepage": ("text", [f"https://www.{f.domain_word()}{i}.com/" for i in range(n)]),
    }


@pytest.mark.parametrize("table", ["offices", "shippers", "Suppliers", "vendor", "warehouse"])
def test_an_organisations_contact_data_is_not_personal(classifier: ColumnClassifier, table: str) -> None:
    f = fake()
    columns = {"company_name": ("text", [COMPANIES[i % len(COMPANIES)] for i in range(60)]), **_contact_columns(f, 60)}
    got = classify_table(classifier, table, columns)
    assert got["address"] == got["city"] == got["phone"] == got["homepage"] == set()


@pytest.mark.parametrize("table", ["suppliers", "vendors"])
def test_an_organisations_contact_person_keeps_address_and_phone(classifier: ColumnClassifier, table: str) -> None:
    f = fake()
    columns = {"contact_name": ("text", [f.name() for _ in range(60)]), **_contact_columns(f, 60)}
    got = classify_table(classifier, table, columns)
    assert "PERSON" in got["contact_name"]
    assert "LOCATION" in got["address"]
    assert "PHONE_NUMBER" in got["phone"]
    assert "URL" not in got["homepage"]
    assert table_meaning(table, list(columns)).kind == "organisation with contact person"


def test_rows_named_by_a_non_person_carry_no_personal_address(classifier: ColumnClassifier) -> None:
    f = fake()
    n = 80
    columns: Table = {
        "ship_name": ("text", [COMPANIES[i % len(COMPANIES)] for i in range(n)]),
        "ship_address": ("text", [f.street_address() for _ in range(n)]),
        "ship_city": ("text", [f.city() for _ in range(n)]),
    }
    got = classify_table(classifier, "orders", columns)
    assert got["ship_address"] == got["ship_city"] == set()
    assert names_no_person("orders", list(columns), []).kind == "names no person"


def test_rows_naming_a_person_keep_their_address(classifier: ColumnClassifier) -> None:
    f = fake()
    n = 80
    columns: Table = {
        "ship_name": ("text", [f.name() for _ in range(n)]),
        "ship_address": ("text", [f.street_address() for _ in range(n)]),
    }
    got = classify_table(classifier, "orders", columns)
    assert "PERSON" in got["ship_name"]
    assert "LOCATION" in got["ship_address"]


# -- descriptions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("table", "column"), [("film", "description"), ("products", "productDescription"),
                                               ("book", "plot_summary")])
def test_a_description_of_a_thing_names_no_person(classifier: ColumnClassifier, table: str, column: str) -> None:
    rng = random.Random(9)
    who = ["John Smith", "Maria Garcia", "a Dentist", "a Robot", "Captain Hook", "Anna Karenina"]
    where = ["in Australia", "in Berlin", "at the Moon", "in a Shark Tank", "in Nigeria", "in Texas"]
    values = [f"A thrilling story of {rng.choice(who)} who must fight {rng.choice(who)} {rng.choice(where)}"
              f" to save the day, number {i}." for i in range(120)]
    assert found(classify(classifier, table, column, values)) == set()


def test_a_description_keeps_quoted_contact_data(classifier: ColumnClassifier) -> None:
    values = [f"Sturdy oak table, ask the maker at maker{i}@example.com for custom sizes and colours."
              for i in range(40)]
    assert "EMAIL_ADDRESS" in found(classify(classifier, "products", "description", values))


# -- misses: coordinates, state codes, districts, user names ------------------------------------


@pytest.mark.parametrize("table", ["people", "customer_address", "address"])
def test_coordinates_of_a_person_or_an_address_are_places(classifier: ColumnClassifier, table: str) -> None:
    rng = random.Random(11)
    lat = [round(rng.uniform(-60, 70), 6) for _ in range(200)]
    lon = [round(rng.uniform(-170, 170), 6) for _ in range(200)]
    got = classify_table(classifier, table, {"latitude": ("number", lat), "lng": ("number", lon)})
    assert got == {"latitude": {"LOCATION"}, "lng": {"LOCATION"}}


@pytest.mark.parametrize("table", ["sensor_readings", "weather_station", "products"])
def test_coordinates_elsewhere_are_no_finding(classifier: ColumnClassifier, table: str) -> None:
    rng = random.Random(11)
    lat = [round(rng.uniform(-60, 70), 6) for _ in range(200)]
    assert classify_table(classifier, table, {"latitude": ("number", lat)})["latitude"] == set()


def test_latitude_that_is_no_coordinate_is_no_finding(classifier: ColumnClassifier) -> None:
    assert found(classify(classifier, "people", "lat", ["high", "low", "mid"] * 50)) == set()


@pytest.mark.parametrize(("table", "column"), [("people", "state_abbrev"), ("customers", "state"),
                                               ("address", "district"), ("customer", "province")])
def test_state_codes_and_districts_of_a_person_are_places(
    classifier: ColumnClassifier, table: str, column: str
) -> None:
    f = fake()
    values = [f.state_abbr() for _ in range(150)] + [f.state() for _ in range(50)]
    assert "LOCATION" in found(classify(classifier, table, column, values))


def test_a_state_of_an_order_is_not_a_place(classifier: ColumnClassifier) -> None:
    rng = random.Random(2)
    values = [rng.choice(["NEW", "PAID", "SHIPPED", "DONE"]) for _ in range(200)]
    assert "LOCATION" not in found(classify(classifier, "orders", "state", values))


@pytest.mark.parametrize(("table", "column", "make"), [
    ("staff", "username", lambda f: f.first_name()),
    ("reviews", "reviewer", lambda f: f"{f.first_name()}.{f.last_name()}".upper()),
    ("accounts", "nickname", lambda f: f.first_name()),
])
def test_user_names_are_found(classifier: ColumnClassifier, table: str, column: str, make) -> None:  # type: ignore[no-untyped-def]
    f = fake()
    values = [make(f) for _ in range(150)]
    assert "PERSON" in found(classify(classifier, table, column, values))


@pytest.mark.parametrize("column", ["username_count", "username_hash"])
def test_properties_of_user_names_are_not(classifier: ColumnClassifier, column: str) -> None:
    assert found(classify(classifier, "staff", column, ["a1f3", "9c2e", "77aa"] * 30)) == set()


# -- a note quoting contact data -------------------------------------------------------------------


@pytest.mark.parametrize("extra", [0, 20])
def test_a_note_quoting_a_phone_and_an_email_is_found(classifier: ColumnClassifier, extra: int) -> None:
    names = ["Mario", "Anna", "Peter", "Laura", "John", "Sofia"]
    values = [f"called {n} at +86 138000000{i:02d}, mail {n.lower()}@example.com" for i, n in enumerate(names)]
    values += ["ok, nothing to add here for this customer today"] * extra
    verdict = classify(classifier, "customers", "notes", values)
    assert verdict.rule == "free text"
    assert {"EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON"} <= found(verdict)


@pytest.mark.parametrize(("table", "kind"), [
    ("main.offices", "organisation"), ("exports/offices.csv.gz", "organisation"), ("dim_country", "place lookup"),
    ("cities.parquet", "place lookup"), ("customers.csv", "other"), ("sales_orders", "other"),
])
def test_table_meaning_reads_the_tables_or_files_name(table: str, kind: str) -> None:
    assert table_meaning(table, ["name", "city", "phone"]).kind == kind
