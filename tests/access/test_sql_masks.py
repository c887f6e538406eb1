"""The masking views' SQL gives what the operators give, value for value, on the real servers.

The ``mask`` helper (PL/pgSQL, a MariaDB stored function) mirrors ``Mask`` with its kept
separators and its "never more than half" shrink; the expressions of ``redact``,
``replace`` and ``generalize`` mirror theirs. Hypothesis draws the values (letters of many
scripts, digits, the separators, spaces), so a difference in any branch shows.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govkit.actions.access.sql import expression, helper_statements, quote_ident
from govkit.actions.anonymize.operators import OperatorContext, build
from tests.change.harness import database_url, drop_database

pytestmark = pytest.mark.server

VALUES = st.lists(st.text(alphabet=st.characters(categories=["L", "Nd"], include_characters="@.-_ +()/é中"),
                          max_size=24), min_size=1, max_size=40)


@pytest.fixture(scope="module", params=["postgresql", "mariadb"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    dialect = request.param
    name = f"gk_acc_{secrets.token_hex(3)}"
    try:
        url = database_url(dialect, tmp_path_factory.mktemp("db"), name)
    except Exception as exc:  # no server here
        pytest.skip(f"{dialect} not reachable: {type(exc).__name__}")
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    helpers = quote_ident(engine.dialect.name, "gk_fn" if dialect == "postgresql" else name)
    with engine.connect() as conn:
        cursor = conn.connection.cursor()
        if dialect == "postgresql":
            cursor.execute(f"CREATE SCHEMA {helpers}")
        for statement in helper_statements(engine.dialect.name, helpers):
            cursor.execute(statement)
        cursor.close()
    try:
        yield engine.dialect.name, (engine, helpers)
    finally:
        engine.dispose()
        drop_database(dialect, name)


def _evaluate(server: tuple[str, Any], operator: str, params: dict[str, Any], values: list[Any],
              sql_type: str = "TEXT") -> list[Any]:
    dialect, (engine, helpers) = server
    columns = []
    for index, _ in enumerate(values):
        placeholder = f"CAST(:v{index} AS {'CHAR' if dialect != 'postgresql' else 'text'})"
        if sql_type != "TEXT":
            placeholder = f"CAST(:v{index} AS {'SIGNED' if dialect != 'postgresql' else 'integer'})"
        masked = expression(dialect, operator, params, placeholder, entity_type="EMAIL_ADDRESS",
                            sql_type=sql_type, helpers=helpers)
        assert masked.sql is not None, masked.reason
        columns.append(masked.sql)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT " + ", ".join(columns)),
                           {f"v{i}": v for i, v in enumerate(values)}).one()
    return list(row)


def _expected(operator: str, params: dict[str, Any], values: list[Any]) -> list[Any]:
    return build(operator, params, OperatorContext(None)).apply_many(values, "EMAIL_ADDRESS")


@pytest.mark.parametrize("params", [{}, {"keep_first": 1}, {"keep_last": 4}, {"keep_first": 3, "keep_last": 4,
                                                                              "char": "#"}])
def test_mask_in_sql_equals_the_operator(server: tuple[str, Any], params: dict[str, Any]) -> None:
    fixed = ["luisg@embraer.com.br", "+55 (12) 3923-5555", "", "a", "ab", "abc", "Zoë", "中文名字", "  x  ", None]

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(VALUES)
    def check(values: list[str]) -> None:
        assert _evaluate(server, "mask", params, values) == _expected("mask", params, values)

    assert _evaluate(server, "mask", params, fixed) == _expected("mask", params, fixed)
    check()


@pytest.mark.parametrize(("operator", "params", "values"), [
    ("redact", {}, ["someone@example.org", None, ""]),
    ("replace", {}, ["someone@example.org", None]),
    ("replace", {"value": "it's <hidden>"}, ["x"]),
    ("generalize", {"to": "year"}, ["1962-02-18 00:00:00", " 1958-12-08", "1962", "0000-01-01", "1962-13-01",
                                    "not a date", "", "  ", None]),
    ("generalize", {"to": "month"}, ["1962-02-18 00:00:00", "2026-12", "2026-3-1", "1962", "12/02/2026", None]),
    ("generalize", {"to": "year", "bucket": 5}, ["1962-02-18", "0007", "x", None]),
    ("generalize", {"to": "year", "bucket": 7}, ["1962-02-18", "2026", None]),
    ("generalize", {"to": "prefix", "bucket": 3}, ["SW1A 1AA", "75001", "a b", "  ", None]),
])
def test_other_masks_in_sql_equal_the_operators(server: tuple[str, Any], operator: str, params: dict[str, Any],
                                                values: list[Any]) -> None:
    assert _evaluate(server, operator, params, values) == _expected(operator, params, values)


def test_bands_on_numeric_columns(server: tuple[str, Any]) -> None:
    values = [7, 42, 130, 0, None]
    got = _evaluate(server, "generalize", {"to": "band"}, values, sql_type="INTEGER")
    assert got == _expected("generalize", {"to": "band"}, values)


def test_keyed_operators_are_denied_with_the_reason() -> None:
    for operator in ("pseudonymize", "hash", "fake", "encrypt"):
        masked = expression("postgresql", operator, {}, '"email"', entity_type=None, sql_type="TEXT",
                            helpers='"gk"')
        assert masked.sql is None
        assert "view's definition" in masked.reason
    city = expression("mysql", "generalize", {"to": "city"}, "`a`", entity_type=None, sql_type="TEXT", helpers="`x`")
    assert city.sql is None
    assert "Python" in city.reason
