"""``--k``: generalize the quasi-identifiers (Datafly-style), then suppress what is left."""

from __future__ import annotations

import base64
import csv
import datetime
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govkit.actions.risk import Batch, equivalence_classes, generalize_to_k, ladder, measure
from govkit.cli import main

KEY = base64.b64encode(b"q" * 32).decode()
COLUMNS = ["birth_date", "postcode", "age"]
QUASI = COLUMNS

rows_strategy = st.lists(
    st.tuples(
        st.dates(datetime.date(1930, 1, 1), datetime.date(2010, 12, 31)).map(lambda d: d.isoformat()),
        st.sampled_from(["10115", "10117", "10243", "20095", "20097", "80331", "80335", "01067"]),
        st.integers(0, 99),
    ),
    min_size=20, max_size=200,
)


def k_procedure(rows: list[tuple[Any, ...]], k: int, *, generalize: bool = True) -> tuple[list[Any], Any]:
    """What ``export_rows`` does with ``k``: count, plan, then generalize and suppress in a pass."""
    sizes, _, _ = equivalence_classes(COLUMNS, [rows], QUASI)
    plan = generalize_to_k(sizes, QUASI, k, generalize=generalize)
    out: list[Any] = []
    dropped = 0
    for batch, count in plan.apply(COLUMNS, iter([rows[:7], rows[7:]])):
        out.extend(batch)
        dropped += count
    assert dropped == plan.suppressed
    return out, plan


def opener_of(rows: list[Any]) -> Any:
    def opener() -> tuple[list[str], Iterator[Batch]]:
        return COLUMNS, iter([list(rows)])

    return opener


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, k=st.integers(2, 5))
def test_output_is_k_anonymous_and_never_suppresses_more(rows: list[tuple[Any, ...]], k: int) -> None:
    out, plan = k_procedure(rows, k)
    report = measure("out", opener_of(out), QUASI, k=k, list_rows=False)
    assert report.k_anonymous, (plan.reached, report.k)
    assert len(out) + plan.suppressed == len(rows)
    _, plain = k_procedure(rows, k, generalize=False)
    assert plain.reached == dict.fromkeys(QUASI, "exact")
    assert plan.suppressed <= plain.suppressed


def test_ladders_follow_the_kind_of_values() -> None:
    kind, levels = ladder(["1980-05-06", datetime.date(1991, 2, 3)])
    assert kind == "date"
    assert [level(datetime.date(1987, 6, 5)) for level in levels] == [datetime.date(1987, 6, 5), "1987-06", "1987",
                                                                       "1980-1989"]
    kind, levels = ladder(["10115", "20095", "01067"])
    assert kind == "code"
    assert [level.name for level in levels] == ["exact", "prefix 3", "prefix 1", "*"]
    assert [level("10115") for level in levels] == ["10115", "101", "1", "*"]
    kind, levels = ladder([3, "47", 88.5])
    assert kind == "number"
    assert [level.name for level in levels] == ["exact", "range 5", "range 10", "range 50", "range 100"]
    assert levels[2](47) == "40-49"
    assert ladder(["Berlin", "Paris"])[0] == "text"
    assert ladder([None, ""])[0] == "empty"


def test_greedy_coarsens_the_column_that_helps_most() -> None:
    # each (postcode, age) is unique; the postcodes' prefix 3 makes two classes of 3,
    # while no range of ages up to 10 groups three of them
    sizes = Counter([("10115", 20), ("10117", 41), ("10119", 62), ("20095", 23), ("20097", 44), ("20099", 65)])
    plan = generalize_to_k(sizes, ["postcode", "age"], 3)
    assert plan.reached == {"postcode": "prefix 3", "age": "range 100"}
    assert plan.suppressed == 0
    assert plan.generalize(("10115", 20)) == ("101", "0-99")


@pytest.fixture
def customers(chinook_sqlite: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GOVKIT_KEY", KEY)
    monkeypatch.delenv("GOVKIT_KEY_FILE", raising=False)
    return f"sqlite:///{chinook_sqlite}"


def test_chinook_customers_k5_via_the_cli(customers: str, tmp_path: Path) -> None:
    out = tmp_path / "customers.csv"
    args = ["anonymize", customers, "--table", "Customer", "--to", str(out), "--rule", "Customer.Email=redact",
            "--k", "5", "--quasi-identifiers", "Country,City,PostalCode"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "quasi-identifiers generalized to Customer.Country=" in result.output
    assert "Customer.PostalCode=" in result.output
    assert "suppressed" in result.output
    with out.open(encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    report = measure(str(out), lambda: (["Country", "City", "PostalCode"],
                                        iter([[(r["Country"], r["City"], r["PostalCode"]) for r in written]])),
                     ["Country", "City", "PostalCode"], k=5)
    assert report.k_anonymous
    result = CliRunner().invoke(main, [*args, "--to", str(tmp_path / "again.csv"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{"):])
    levels = data["generalized"]
    assert set(levels) == {"Customer.Country", "Customer.City", "Customer.PostalCode"}
    assert any(level != "exact" for level in levels.values())
    assert data["rows"] + data["suppressed"] == 59
    assert data["rows"] == len(written)
    # plain suppression loses more of the 59 customers
    plain = CliRunner().invoke(main, [*args, "--to", str(tmp_path / "plain.csv"), "--json", "--no-generalize"])
    assert plain.exit_code == 0, plain.output
    plain_data = json.loads(plain.output[plain.output.index("{"):])
    assert set(plain_data["generalized"].values()) == {"exact"}
    assert plain_data["suppressed"] >= data["suppressed"]


def test_levels_and_suppressed_rows_are_audited(tmp_path: Path, workspace_dir: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", KEY)
    source = tmp_path / "people.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "birth_date", "postcode"])
        for i, (born, postcode) in enumerate([("1980-01-02", "10115"), ("1981-03-04", "10117"),
                                              ("1982-05-06", "10119"), ("1990-07-08", "20095")]):
            writer.writerow([f"p{i}@example.com", born, postcode])
    runner = CliRunner()
    args = ["anonymize", str(source), "--rule", "email=redact", "--k", "3", "--quasi-identifiers",
            "birth_date,postcode"]
    # The default budget (5% of 4 rows: none) leaves no node but the top: one class of 4.
    strict = runner.invoke(main, [*args, "--to", str(tmp_path / "strict.csv")])
    assert strict.exit_code == 0, strict.output
    assert "people.csv.birth_date=*, people.csv.postcode=*;" in strict.output
    assert "suppressed 0 row(s)" in strict.output
    # One row of four may go: 5-year bands and postcode areas (a postcode column's hierarchy; no
    # country, so its first 2 digits) leave (1980-1984, 10) x3 and (1990-1994, 20) x1, the least
    # loss of the nodes that meet k=3 suppressing at most 1 row.
    result = runner.invoke(main, [*args, "--to", str(tmp_path / "out.csv"), "--max-suppression", "25"])
    assert result.exit_code == 0, result.output
    assert "people.csv.birth_date=5 years, people.csv.postcode=area;" in result.output
    assert "suppressed 1 row(s)" in result.output
    log = runner.invoke(main, ["log", "show", "--format", "json"])
    assert log.exit_code == 0, log.output
    records = [r for r in json.loads(log.output)["records"] if r["action"] == "anonymize"]
    assert records[-1]["counts"]["suppressed"] == 1
    assert records[-1]["counts"]["generalized"] == 2
    assert records[-1]["params"]["generalized"] == ["people.csv.birth_date=5 years", "people.csv.postcode=area"]
    assert "example.com" not in log.output
