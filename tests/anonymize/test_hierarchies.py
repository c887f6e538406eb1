"""Generalization hierarchies and column-aware operators (issue #15).

Properties every hierarchy must have, for the k-anonymity search and for honesty:
- each level is a function of the level below (values equal at level l stay equal at l + 1);
- a value is placed at the level asked or above it, never below; what cannot be placed goes
  up (at worst ``*``), never to a placeholder, and ``generalize`` counts it;
- a street never yields anything from its own text.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govkit.actions.anonymize import hierarchies as h
from govkit.actions.anonymize.export import ExportResult, Transformer, export_rows
from govkit.actions.anonymize.operators import OperatorContext, build
from govkit.actions.anonymize.plan import FieldPlan, Plan, fit_to_column
from govkit.actions.anonymize.roles import locale_of, role_of, siblings

dates = st.one_of(st.dates(datetime.date(1000, 1, 1), datetime.date(2100, 12, 31)),
                  st.dates().map(lambda d: d.isoformat()), st.datetimes().map(str))
numbers = st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False),
                    st.integers(0, 120).map(str))
uk = st.from_regex(r"\A[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}\Z")
us = st.from_regex(r"\A[0-9]{5}(-[0-9]{4})?\Z")
ca = st.from_regex(r"\A[A-Z][0-9][A-Z] [0-9][A-Z][0-9]\Z")
postcodes = st.one_of(uk, us, ca, st.from_regex(r"\A[0-9]{4,6}\Z"), st.text(max_size=10))
countries = st.sampled_from(["USA", "United Kingdom", "Canada", "Germany", "Brazil", "Netherlands", "", None,
                             "Atlantis"])


def _monotone(hierarchy: h.Hierarchy, a: Any, b: Any, row_a: dict[str, Any], row_b: dict[str, Any]) -> None:
    for level in range(hierarchy.top):
        if hierarchy(a, level, row_a) == hierarchy(b, level, row_b):
            assert hierarchy(a, level + 1, row_a) == hierarchy(b, level + 1, row_b), (level, a, b)


def _placed_at_or_above(hierarchy: h.Hierarchy, value: Any, row: dict[str, Any]) -> None:
    for level in range(hierarchy.top + 1):
        placed = hierarchy.place(value, level, row)
        assert placed.level >= level
        made = placed.value not in (value, *row.values())  # not a value of the data itself
        assert not (made and isinstance(placed.value, str) and placed.value.startswith("<"))
        if placed.level == hierarchy.top:
            assert placed.value == h.TOP


@given(a=dates, b=dates)
def test_dates(a: Any, b: Any) -> None:
    dates_ = h.DateHierarchy()
    _monotone(dates_, a, b, {}, {})
    _placed_at_or_above(dates_, a, {})
    year = h.date_parts(a)
    assert year is not None
    low, high = (int(x) for x in dates_(a, 4).split("-"))
    assert low <= year[0] <= high
    assert high - low == 9
    assert low % 10 == 0
    assert dates_(a, 2) == f"{year[0]:04d}"


def test_dates_examples_and_what_cannot_be_placed() -> None:
    dates_ = h.DateHierarchy()
    assert [dates_("1987-03-02", level) for level in range(6)] == [
        "1987-03-02", "1987-03", "1987", "1985-1989", "1980-1989", "*"]
    assert dates_.place("1987", 1) == h.Placed("1987", 2)  # only a year: placed at year
    assert dates_.place("someday", 1) == h.Placed("*", 5)


@given(a=numbers, b=numbers)
def test_numbers(a: Any, b: Any) -> None:
    bands = h.NumberHierarchy((5, 10, 20, 100))
    _monotone(bands, a, b, {}, {})
    _placed_at_or_above(bands, a, {})
    number = h.as_number(a)
    assert number is not None
    for level, width in enumerate(bands.widths, start=1):
        low, high = (int(x) for x in bands(a, level).rsplit("-", 1)) if number >= 0 else (None, None)
        if low is not None and high is not None:
            assert low <= number <= high + 1
            assert high - low == width - 1


def test_ages_and_band_widths() -> None:
    assert [h.AGES(37, level) for level in range(5)] == [37, "35-39", "30-39", "20-39", "*"]
    assert h.AGES.place("unknown", 1) == h.Placed("*", 4)
    assert h.widths_for(0, 2500) == (5, 10, 20, 100, 200, 1000, 2000, 10000)
    with pytest.raises(ValueError, match="divide"):
        h.NumberHierarchy((5, 7))


@given(a=postcodes, b=postcodes, country_a=countries, country_b=countries)
def test_postcodes(a: str, b: str, country_a: Any, country_b: Any) -> None:
    codes = h.PostcodeHierarchy()
    _monotone(codes, a, b, {"country": country_a}, {"country": country_a})
    _placed_at_or_above(codes, a, {"country": country_b})
    placed = codes.place(a, 1, {"country": country_a})
    compact = "".join(c for c in a.upper() if c.isascii() and c.isalnum())
    if placed.value != h.TOP:
        assert compact.startswith(placed.value)
        assert len(placed.value) < len(compact)  # always coarser than the code itself
    if placed.level == 1:
        assert placed.value.startswith(codes(a, 2, {"country": country_a}))


@pytest.mark.parametrize(("code", "country", "area", "region"), [
    ("SW1V 3EN", "United Kingdom", "SW1V", "SW"), ("EH4 1HH", None, "EH4", "EH"), ("H2G 1A7", "Canada", "H2G", "H"),
    ("94043-1351", "USA", "940", "9"), ("01310-200", "Brazil", "01310", "0"), ("1016", "Netherlands", "1016", "1"),
    ("70174", "Germany", "70", "7"), ("75009", "France", "75", "7"),
])
def test_postcode_areas_by_country_convention(code: str, country: str | None, area: str, region: str) -> None:
    assert h.postcode_area(code, country) == area
    assert h.postal_region(code, country) == region


streets = st.text(min_size=1, max_size=40).filter(lambda s: s.strip())
rows = st.fixed_dictionaries({}, optional={"postcode": postcodes, "city": st.text(max_size=12),
                                          "region": st.text(max_size=8), "country": countries})


@given(street=streets, row=rows, other=streets, other_row=rows)
@settings(max_examples=200)
def test_locations_never_leak_a_street(street: str, row: dict[str, Any], other: str, other_row: dict[str, Any]) -> None:
    locations = h.LocationHierarchy("street")
    _monotone(locations, street, other, row, row)
    _placed_at_or_above(locations, street, row)
    for level in range(1, locations.top + 1):
        out = locations(street, level, row)
        assert out in (h.TOP, *row.values()) or (isinstance(out, str) and ("-" in out or out.startswith("postal")
                                                                           or out.isalnum()))
        if street not in {str(v) for v in row.values()} and len(street) > 3:
            assert street not in str(out)


def test_location_levels_come_from_the_row_and_go_up_when_it_has_none() -> None:
    street = h.LocationHierarchy("street")
    assert street.levels == ("exact", "postcode area", "city", "region", "country", "*")
    row = {"city": "Stuttgart", "country": "Germany", "postcode": "70174"}
    assert [street.place("Königstraße 1", lvl, row) for lvl in range(1, 6)] == [
        h.Placed("70", 1), h.Placed("Stuttgart", 2), h.Placed("DE-7", 3), h.Placed("Germany", 4), h.Placed("*", 5)]
    assert street.place("8, rue de Jean", 2, {}) == h.Placed("*", 5)  # nothing from its own text
    assert street.place("8, rue de Jean", 2, {"country": "France"}) == h.Placed("France", 4)
    city = h.LocationHierarchy("city")
    assert city.place("Springfield", 1, {"region": "IL"}) == h.Placed("IL", 1)


# -- roles and column-aware operators ----------------------------------------------------------------


@pytest.mark.parametrize(("name", "role"), [
    ("FirstName", "first_name"), ("last_name", "last_name"), ("Surname", "last_name"), ("user_name", "user_name"),
    ("Company", "company"), ("BillingAddress", "street"), ("PostalCode", "postcode"), ("zip", "postcode"),
    ("BillingState", "region"), ("Country", "country"), ("City", "city"), ("姓名", "full_name"), ("地址", "street"),
    ("Composer", "full_name"), ("email_address", None), ("ip_address", None), ("BirthDate", None),
    ("district", "region"), ("latitude", "coordinate"), ("lng", "coordinate"),
])
def test_column_roles(name: str, role: str | None) -> None:
    assert role_of(name) == role


def test_a_coordinate_column_is_rounded_not_flattened(context: OperatorContext) -> None:
    params = fit_to_column("generalize", {"to": "city"}, "latitude", ["latitude", "longitude", "country"])
    assert params == {"to": "city", "holds": "coordinate", "country_from": "country"}
    operator = build("generalize", params, context)
    assert operator.apply_with([39.90421, "n/a"], "LOCATION", {"country": ["China", "China"]}) == ["39.9", "*"]
    assert operator.take_counts() == {"*": 1}
    to_country = build("generalize", {**params, "to": "country"}, context)
    assert to_country.apply_with([39.90421], "LOCATION", {"country": ["China"]}) == ["China"]


def test_siblings_prefer_the_same_prefix() -> None:
    columns = ["Address", "City", "Country", "BillingAddress", "BillingCity", "BillingCountry", "BillingPostalCode"]
    assert siblings("BillingAddress", columns) == {"city": "BillingCity", "country": "BillingCountry",
                                                   "postcode": "BillingPostalCode"}
    assert siblings("Address", columns)["city"] == "City"


def test_the_plan_fits_operators_to_the_column() -> None:
    columns = ["FirstName", "Address", "City", "Country", "PostalCode"]
    assert fit_to_column("fake", {}, "FirstName", columns) == {"provider": "first_name", "locale_from": "Country"}
    assert fit_to_column("fake", {"provider": "name", "locale": "de_DE"}, "FirstName", columns) == {
        "provider": "name", "locale": "de_DE"}
    assert fit_to_column("generalize", {"to": "city"}, "Address", columns) == {
        "to": "city", "holds": "street", "city_from": "City", "country_from": "Country", "postcode_from": "PostalCode"}
    assert fit_to_column("mask", {}, "FirstName", columns) == {}


def test_fakes_fit_the_column_and_the_row_country(context: OperatorContext) -> None:
    first = build("fake", {"provider": "first_name", "locale_from": "Country"}, context)
    names = ["Jane", "Jane", "Jane", "Ana"]
    fakes = first.apply_with(names, "PERSON", {"country": ["Brazil", "Brazil", "USA", "Brazil"]})
    assert fakes[0] == fakes[1]  # the same person in the same locale: the same fake, in every table
    assert fakes[0] != "Jane"
    assert locale_of("Brazil") == "pt_BR"
    from faker import Faker

    person = next(p for p in Faker("pt_BR").providers if "person" in type(p).__module__)
    assert fakes[0] in person.first_names
    assert " " not in fakes[2]
    again = build("fake", {"provider": "first_name", "locale_from": "Country"}, context)
    assert again.apply_with(["Jane"], "PERSON", {"country": ["Atlantis"]}) == [again.apply("Jane")]  # unknown: en_US


def test_exports_read_the_row_and_report_values_that_went_up(tmp_path: Path, context: OperatorContext) -> None:
    plans = {
        "street": FieldPlan("t", "street", "generalize", {"to": "city", "holds": "street", "city_from": "city",
                                                          "country_from": "country"}, "LOCATION", "test"),
        "first": FieldPlan("t", "first", "fake", {"provider": "first_name", "locale_from": "country"}, "PERSON", "t"),
    }
    columns = ["first", "street", "city", "country"]
    batch = [("Jane", "8, rue de Jean", "Lyon", "France"), ("John", "8, rue de Jean", None, "France"),
             ("Max", "Hauptstr. 1", None, None)]
    transform = Transformer(columns, plans, context)
    out = transform(batch)
    assert [r[1] for r in out] == ["Lyon", "France", "*"]
    assert transform.went_up == {"street": {"country": 1, "*": 1}}
    assert transform.notes("t") == ["t.street: 1 value(s) went up to * (the value or its row could not place them "
                                    "lower)", "t.street: 1 value(s) went up to country (the value or its row could "
                                    "not place them lower)"]
    result = ExportResult(Plan("t"))
    export_rows(columns, lambda: iter([batch[:2], batch[2:]]), plans, tmp_path / "o.csv", context, result, where="t",
                jobs=2, verify=False)
    assert sorted(result.plan.notes) == sorted(transform.notes("t"))  # counted in worker processes too
