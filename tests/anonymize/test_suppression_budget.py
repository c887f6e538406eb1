"""``--max-suppression``: suppress small classes while they fit in the budget, generalize beyond it."""

from __future__ import annotations

import base64
import csv
import datetime
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govkit.actions.anonymize.operators import OperatorContext, build
from govkit.actions.risk import KPlan, equivalence_classes, generalize_to_k, measure, suppression_budget
from govkit.cli import main
from govkit.errors import UsageError
from tests.anonymize.test_k_anonymity import COLUMNS, opener_of

KEY = base64.b64encode(b"b" * 32).decode()

rows_strategy = st.lists(
    st.tuples(
        st.dates(datetime.date(1930, 1, 1), datetime.date(2010, 12, 31)).map(lambda d: d.isoformat()),
        st.sampled_from(["10115", "10117", "10243", "20095", "20097", "80331", "80335", "01067", ""]),
        st.one_of(st.integers(0, 99), st.none()),
    ),
    min_size=1, max_size=150,
)


def run_k(rows: list[tuple[Any, ...]], k: int, budget: float) -> tuple[list[Any], Any]:
    sizes, _, _ = equivalence_classes(COLUMNS, [rows], COLUMNS)
    plan = generalize_to_k(sizes, COLUMNS, k, max_suppression=budget)
    out: list[Any] = []
    for batch, _ in plan.apply(COLUMNS, iter([rows[:5], rows[5:]])):
        out.extend(batch)
    return out, plan


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, k=st.integers(2, 6), budget=st.sampled_from([0.0, 0.01, 0.05, 0.2, 0.5]))
def test_k_anonymous_and_within_budget_unless_reported(rows: list[tuple[Any, ...]], k: int, budget: float) -> None:
    out, plan = run_k(rows, k, budget)
    assert measure("out", opener_of(out), COLUMNS, k=k, list_rows=False).k_anonymous
    assert len(out) + plan.suppressed == len(rows)
    assert plan.budget == suppression_budget(len(rows), budget)
    assert plan.budget_met == (plan.suppressed <= plan.budget)
    if not plan.budget_met:  # only when even the top of every ladder leaves more rows at risk
        top = KPlan(plan.quasi_identifiers, k, plan.kinds, plan.ladders, [len(ladder) - 1 for ladder in plan.ladders])
        sizes_at_top: Counter[tuple[Any, ...]] = Counter()
        for key, size in equivalence_classes(COLUMNS, [rows], COLUMNS)[0].items():
            sizes_at_top[top.generalize(key)] += size
        assert sum(size for size in sizes_at_top.values() if size < k) > plan.budget
    # suppression alone within the budget: nothing is generalized
    _, plain = run_k(rows, k, 1.0)
    sizes, _, _ = equivalence_classes(COLUMNS, [rows], COLUMNS)
    if sum(n for n in sizes.values() if n < k) <= suppression_budget(len(rows), budget):
        assert set(plan.reached.values()) == {"exact"}
    assert set(plain.reached.values()) == {"exact"}


def test_a_budget_trades_generalization_for_a_few_suppressed_rows() -> None:
    # 20 rows in (1980s birth dates, postcode 101xx) pairs of 2 plus one stray record
    sizes = Counter({(f"1980-01-{d:02d}", f"1011{d % 5}", 30): 2 for d in range(1, 11)})
    sizes[("1984-05-05", "80331", 70)] = 1
    strict = generalize_to_k(sizes, COLUMNS, 2, max_suppression=0.0)
    assert strict.suppressed == 0
    assert strict.budget_met
    assert set(strict.reached.values()) != {"exact"}  # every record kept, at the cost of precision
    loose = generalize_to_k(sizes, COLUMNS, 2, max_suppression=0.05)  # 1 of 21 rows may go
    assert loose.suppressed == 1
    assert set(loose.reached.values()) == {"exact"}  # the stray record alone did not coarsen anything
    assert loose.budget_met


def test_budget_that_cannot_be_met_is_reported() -> None:
    # dates have no "*" level: two lone decades cannot merge, so both rows must go
    sizes = Counter({("1950-01-01", "x", 1): 1, ("1990-01-01", "x", 1): 1, ("1991-01-01", "x", 1): 5})
    plan = generalize_to_k(sizes, COLUMNS, 2, max_suppression=0.0)
    assert plan.suppressed == 1
    assert not plan.budget_met
    with pytest.raises(UsageError):
        suppression_budget(10, 1.5)


def test_max_suppression_in_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", KEY)
    source = tmp_path / "people.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "postcode"])
        for i in range(19):
            writer.writerow([f"p{i}@example.com", "10115" if i % 2 else "10117"])
        writer.writerow(["z@example.com", "80331"])  # alone: 1 of 20 rows = 5%
    args = ["anonymize", str(source), "--rule", "email=redact", "--k", "2", "--quasi-identifiers", "postcode",
            "--json"]
    loose = CliRunner().invoke(main, [*args, "--to", str(tmp_path / "a.csv")])
    assert loose.exit_code == 0, loose.output
    data = json.loads(loose.stdout)
    assert (data["suppressed"], data["generalized"], data["budget_met"]) == (1, {"people.csv.postcode": "exact"}, True)
    strict = CliRunner().invoke(main, [*args, "--to", str(tmp_path / "b.csv"), "--max-suppression", "0"])
    assert strict.exit_code == 0, strict.output
    data = json.loads(strict.stdout)
    assert data["suppressed"] == 0
    assert data["generalized"]["people.csv.postcode"] != "exact"
    bad = CliRunner().invoke(main, [*args, "--to", str(tmp_path / "c.csv"), "--max-suppression", "150"])
    assert bad.exit_code == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1 Main St, Springfield", "*"), ("Berlin", "*"), ("Av. Paulista 1578", "*"),
     ("8, rue de Jean", "*"), ("Av. Brigadeiro Faria Lima, 2170", "*"), ("", ""), ("  ", "")],
)
def test_generalize_to_city_never_empties_a_location(value: str, expected: str) -> None:
    """Without its role and row (issue #15), a location cannot be placed: it goes to the top
    (``*``), counted, never to its last comma-separated part, which may be the street."""
    operator = build("generalize", {"to": "city"}, OperatorContext(None))
    assert operator.apply(value, "LOCATION") == expected
    assert operator.apply_many([value, None], "LOCATION") == [expected, None]
    assert operator.take_counts() == ({"*": 2} if expected == "*" else {})
