"""The two small grammars of a policy: periods and exception predicates (property tests)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from govkit.policy.periods import Period, PeriodError
from govkit.policy.predicates import COMPARISONS, Predicate, PredicateError

# -- periods -----------------------------------------------------------------------------------


@st.composite
def periods(draw: st.DrawFn) -> Period:
    if draw(st.booleans()):
        return Period(working_days=draw(st.integers(1, 5000)))
    years, months, days = draw(st.integers(0, 150)), draw(st.integers(0, 300)), draw(st.integers(0, 3000))
    if not (years or months or days):
        days = 1
    return Period(years=years, months=months, days=days)


@given(periods())
def test_period_round_trips_through_its_canonical_text(period: Period) -> None:
    assert Period.parse(str(period)) == period


@given(periods())
def test_period_round_trips_through_words(period: Period) -> None:
    assert Period.parse(period.human()) == period
    assert Period.parse(period.human().upper()) == period


@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",)), max_size=30))
def test_text_without_digits_is_never_a_period(text: str) -> None:
    with pytest.raises(PeriodError):
        Period.parse(text)


@given(st.text(max_size=30))
def test_parsing_garbage_only_ever_raises_period_error(text: str) -> None:
    try:
        period = Period.parse(text)
    except PeriodError:
        return
    assert Period.parse(str(period)) == period


@pytest.mark.parametrize(("text", "expected"), [
    ("P7Y", Period(years=7)), ("p18m", Period(months=18)), ("P30D", Period(days=30)), ("P2W", Period(days=14)),
    ("P1Y6M", Period(years=1, months=6)), ("7 years", Period(years=7)), ("1 year", Period(years=1)),
    ("18 months", Period(months=18)), ("30 days", Period(days=30)), ("2 weeks", Period(days=14)),
    ("1 year 6 months", Period(years=1, months=6)), ("7 years and 6 months", Period(years=7, months=6)),
    ("1 year, 2 days", Period(years=1, days=2)), ("15 working days", Period(working_days=15)),
    ("10 business days", Period(working_days=10)), ("  3  Days ", Period(days=3)),
])  # fmt: skip
def test_period_spellings(text: str, expected: Period) -> None:
    assert Period.parse(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", 'expected a period such as "P7Y" or "7 years", got an empty string'),
    ("P", 'period "P" is not an ISO 8601 duration; expected whole numbers of Y, M, W or D such as "P7Y", '
          '"P18M", "P2W", "P30D"'),
    ("P1.5Y", 'period "P1.5Y" is not an ISO 8601 duration; expected whole numbers of Y, M, W or D such as '
              '"P7Y", "P18M", "P2W", "P30D"'),
    ("PT24H", 'period "PT24H": hours, minutes and seconds (PT...) are not supported; use days'),
    ("seven years", 'period "seven years" is not understood; expected e.g. "7 years", "18 months", "30 days", '
                    '"15 working days" or "P7Y"'),
    ("0 days", 'period "0 days": a period must be longer than zero'),
    ("P300Y", 'period "P300Y": a period may be at most 200 years'),
    ("1 day 2 days", 'period "1 day 2 days" names days twice'),
    ("3 working days 2 days", 'period "3 working days 2 days": working days cannot be combined with other units'),
    ("7 yrs", 'period "7 yrs": unknown unit "yrs"; expected years, months, weeks, days or working days'),
])  # fmt: skip
def test_period_errors(text: str, message: str) -> None:
    with pytest.raises(PeriodError) as info:
        Period.parse(text)
    assert str(info.value) == message


def test_period_suggestion() -> None:
    with pytest.raises(PeriodError) as info:
        Period.parse("18 monts")
    assert info.value.suggestion == "18 months"


def test_period_arithmetic() -> None:
    assert Period(months=1).before(dt.datetime(2024, 3, 31, 12)) == dt.datetime(2024, 2, 29, 12)
    assert Period(years=1).after(dt.date(2024, 2, 29)) == dt.date(2025, 2, 28)
    assert Period(years=7).before(dt.date(2026, 11, 22)) == dt.date(2019, 11, 22)
    assert Period(days=45).after(dt.date(2026, 1, 1)) == dt.date(2026, 2, 15)
    # Friday 2 Jan 2026 + 15 working days skips three weekends
    assert Period(working_days=15).after(dt.date(2026, 1, 2)) == dt.date(2026, 1, 23)
    assert Period(working_days=1).before(dt.date(2026, 1, 5)) == dt.date(2026, 1, 2)


@given(periods(), st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_before_and_after_bracket_a_date(period: Period, day: dt.date) -> None:
    assert period.before(day) < day < period.after(day)


# -- predicates ----------------------------------------------------------------------------------

scalars = st.one_of(
    st.text(max_size=12), st.integers(-(10**12), 10**12), st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)


@st.composite
def predicates(draw: st.DrawFn) -> Predicate:
    column = draw(st.text(min_size=1, max_size=12))
    op = draw(st.sampled_from([*COMPARISONS, "in", "not in", "is null", "is not null"]))
    if op in ("in", "not in"):
        return Predicate(column, op, tuple(draw(st.lists(scalars, min_size=1, max_size=4))))
    if op in ("is null", "is not null"):
        return Predicate(column, op)
    return Predicate(column, op, draw(scalars))


def _same(a: Predicate, b: Predicate) -> bool:
    """Equal, telling True from 1 and 0.0 from -0.0 apart (Python's == does not)."""
    return repr(a) == repr(b)


@given(predicates())
def test_predicate_round_trips(predicate: Predicate) -> None:
    assert _same(Predicate.parse(str(predicate)), predicate)


@given(st.text(max_size=40))
def test_parsing_garbage_only_ever_raises_predicate_error(text: str) -> None:
    try:
        predicate = Predicate.parse(text)
    except PredicateError:
        return
    assert _same(Predicate.parse(str(predicate)), predicate)


@pytest.mark.parametrize(("text", "expected"), [
    ("status != 'open'", Predicate("status", "!=", "open")),
    ("status <> 'open'", Predicate("status", "!=", "open")),
    ("status == 'open'", Predicate("status", "=", "open")),
    ("amount >= 10.5", Predicate("amount", ">=", 10.5)),
    ("region IN ('EU', 'UK')", Predicate("region", "in", ("EU", "UK"))),
    ("region not in ('it''s')", Predicate("region", "not in", ("it's",))),
    ("closed_at IS NULL", Predicate("closed_at", "is null")),
    ("closed_at is not null", Predicate("closed_at", "is not null")),
    ('"注册时间" < \'2020-01-01\'', Predicate("注册时间", "<", "2020-01-01")),
    ('"order" = 1', Predicate("order", "=", 1)),
    ("active = true", Predicate("active", "=", True)),
])  # fmt: skip
def test_predicate_spellings(text: str, expected: Predicate) -> None:
    assert _same(Predicate.parse(text), expected)


@pytest.mark.parametrize("text", [
    "", "status", "status ~ 'x'", "status = open", "status = null", "= 1", "in = 1", "a in ()", "a in (1",
    "a = 'x", "a = 1 or b = 2", "a = 1; DROP TABLE t", "a = 1 -- comment", "a = (select 1)", "a is nul",
    '"" = 1', "a = 1e", "a = 0x10",
])  # fmt: skip
def test_predicate_rejects(text: str) -> None:
    with pytest.raises(PredicateError):
        Predicate.parse(text)


def test_predicate_sql_binds_values_and_treats_null_as_not_exempt() -> None:
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (id INTEGER, status TEXT)"))
        conn.execute(sa.text("INSERT INTO t VALUES (1, 'open'), (2, 'closed'), (3, NULL), (4, 'x''; DROP')"))
    table = sa.table("t", sa.column("id"), sa.column("status"))

    def exempt(text: str) -> list[int]:
        predicate = Predicate.parse(text)
        query = sa.select(table.c.id).where(predicate.sql(table.c.status)).order_by(table.c.id)
        compiled = str(query.compile(engine))
        assert "open" not in compiled  # values are bound, never inlined
        assert "DROP" not in compiled
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(query)]

    assert exempt("status = 'open'") == [1]
    assert exempt("status != 'open'") == [2, 4]  # NULL is not "not open": not exempt
    assert exempt("status in ('open', 'x''; DROP')") == [1, 4]
    assert exempt("status not in ('open')") == [2, 4]
    assert exempt("status is null") == [3]
    assert exempt("status is not null") == [1, 2, 4]
