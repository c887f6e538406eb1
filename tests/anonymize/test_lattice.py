"""``--k`` by the least generalization: the lattice search finds the optimum and prunes."""

from __future__ import annotations

import base64
import csv
import datetime
import itertools
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govkit.actions.anonymize import hierarchies as h
from govkit.actions.anonymize import lattice
from govkit.actions.risk import measure
from govkit.cli import main

KEY = base64.b64encode(b"L" * 32).decode()
COLUMNS = ["birth_date", "postcode", "age", "diagnosis"]
QUASI = ["birth_date", "postcode", "age"]

rows_strategy = st.lists(
    st.tuples(
        st.dates(datetime.date(1930, 1, 1), datetime.date(2010, 12, 31)).map(lambda d: d.isoformat()),
        st.sampled_from(["10115", "10117", "10243", "20095", "20097", "80331", "80335", "01067"]),
        st.integers(0, 99),
        st.sampled_from(["flu", "cold", "asthma", "diabetes"]),
    ),
    min_size=10, max_size=120,
)


def _search(rows: list[tuple[Any, ...]], k: int, budget: float, l_div: int | None = None) -> lattice.LatticePlan:
    context = lattice.context_columns(COLUMNS, QUASI, [h.PostcodeHierarchy() if q == "postcode" else h.Hierarchy()
                                                       for q in QUASI])
    sensitive = "diagnosis" if l_div else None
    sizes = lattice.count(COLUMNS, [rows], QUASI, context, sensitive)
    hierarchies = [lattice.hierarchy_for(q, [key[i] for key in sizes]) if q != "postcode" else h.PostcodeHierarchy()
                   for i, q in enumerate(QUASI)]
    return lattice.search(COLUMNS, sizes, QUASI, hierarchies, context, k, l_div=l_div, sensitive=sensitive,
                          max_suppression=budget)


def _brute_force(rows: list[tuple[Any, ...]], plan: lattice.LatticePlan, l_div: int | None) -> float | None:
    """The least loss of any node meeting the model within the budget, by trying every node."""
    sensitive = "diagnosis" if l_div else None
    sizes = lattice.count(COLUMNS, [rows], QUASI, [{}, {}, {}], sensitive)
    evaluator = lattice._Evaluator(sizes, plan.hierarchies, [{}, {}, {}], plan.k, l_div, bool(sensitive))
    best = None
    for node in itertools.product(*(range(x.top + 1) for x in plan.hierarchies)):
        risky, at_risk = evaluator.risky(node)
        if at_risk <= plan.budget:
            loss = evaluator.loss(node, risky).entropy
            best = loss if best is None else min(best, loss)
    return best


def test_the_loss_is_non_uniform_entropy_row_by_row() -> None:
    """The evaluator's loss, recomputed from the rows with the definition in lattice.py."""
    rows = [("1980-01-02", "10115", 30, "flu"), ("1980-05-06", "10117", 31, "cold"),
            ("1981-03-04", "10115", 44, "flu"), ("1995-07-08", "20095", 52, "asthma")]
    plan = _search(rows, 2, 0.25)
    original = [r[:3] for r in rows]
    out = [plan.generalize(list(r[:3]), [{}, {}, {}]) for r in rows]
    total = top = 0.0
    for i in range(3):
        before = Counter(r[i] for r in original)
        after = Counter(r[i] for r in out)
        for r, o in zip(original, out, strict=True):
            share = len(rows) if o in plan.risky else after[o[i]]
            total += math.log2(share / before[r[i]])
            top += math.log2(len(rows) / before[r[i]])
    assert plan.loss.entropy == pytest.approx(total / top)
    assert plan.top_loss.entropy == pytest.approx(1.0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, k=st.integers(2, 5), budget=st.sampled_from([0.0, 0.05, 0.2]))
def test_the_search_finds_the_least_loss_node_that_meets_k(rows: list[tuple[Any, ...]], k: int, budget: float) -> None:
    plan = _search(rows, k, budget)
    optimum = _brute_force(rows, plan, None)
    if optimum is None:
        assert not plan.budget_met
        assert plan.levels == [x.top for x in plan.hierarchies]
    else:
        assert plan.budget_met
        assert plan.suppressed <= plan.budget
        assert plan.loss.entropy == pytest.approx(optimum)
    assert plan.nodes_checked <= plan.lattice_size
    assert 0.0 <= plan.loss.entropy <= 1.0 + 1e-9
    out = [row for batch, _ in plan.apply(COLUMNS, [rows]) for row in batch]
    assert len(out) + plan.suppressed == len(rows)
    report = measure("out", lambda: (COLUMNS, iter([out])), QUASI, k=k, list_rows=False)
    assert report.k_anonymous
    assert plan.achieved_k == report.k or not out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, k=st.integers(2, 4), l_div=st.integers(2, 3))
def test_l_diversity_holds_in_every_class(rows: list[tuple[Any, ...]], k: int, l_div: int) -> None:
    plan = _search(rows, k, 0.1, l_div)
    out = [row for batch, _ in plan.apply(COLUMNS, [rows]) for row in batch]
    report = measure("out", lambda: (COLUMNS, iter([out])), QUASI, k=k, sensitive="diagnosis", list_rows=False)
    if out:
        assert report.l_diversity is not None
        assert report.l_diversity >= l_div
        assert plan.achieved_l == report.l_diversity
    optimum = _brute_force(rows, plan, l_div)
    if optimum is not None:
        assert plan.loss.entropy == pytest.approx(optimum)


def test_pruning_checks_fewer_nodes_than_the_lattice_has() -> None:
    rows = [(f"19{50 + i % 40}-0{1 + i % 9}-1{i % 10}", ["10115", "10117", "20095"][i % 3], 20 + i % 50, "flu")
            for i in range(600)]
    plan = _search(rows, 5, 0.0)
    assert plan.budget_met
    assert plan.nodes_checked < plan.lattice_size
    top = plan.top_loss
    assert plan.loss.entropy < top.entropy
    assert top.entropy == pytest.approx(1.0)


def test_the_search_keeps_city_from_the_row_where_k_allows() -> None:
    """A city column's levels are the row's region (else its postcode's postal region) and country."""
    columns = ["city", "postcode", "country"]
    rows = [("Stuttgart", f"70{i % 10}{i % 7}{i % 3}", "Germany") for i in range(30)]
    rows += [(f"Town{i}", f"7{i % 10}000", "Germany") for i in range(6)]
    rows += [(f"Village{i}", f"1{i}000", "Germany") for i in range(5)]
    quasi = ["city"]
    hierarchies: list[h.Hierarchy] = [h.LocationHierarchy("city")]
    context = lattice.context_columns(columns, quasi, hierarchies)
    assert context == [{"postcode": "postcode", "country": "country"}]
    sizes = lattice.count(columns, [rows], quasi, context)
    plan = lattice.search(columns, sizes, quasi, hierarchies, context, 5, max_suppression=0.0)
    assert plan.reached == {"city": "region"}
    out = [row for batch, _ in plan.apply(columns, [rows]) for row in batch]
    assert Counter(r[0] for r in out) == {"DE-7": 36, "DE-1": 5}


def test_cli_reports_k_l_and_the_loss(tmp_path: Path, workspace_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", KEY)
    source = tmp_path / "patients.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", *COLUMNS])
        for i in range(300):
            writer.writerow([f"p{i}@example.com", f"19{40 + i % 50}-0{1 + i % 9}-1{i % 10}",
                             ["10115", "10117", "20095", "80331"][i % 4], 18 + i % 60,
                             ["flu", "cold", "asthma"][i % 3]])
    runner = CliRunner()
    args = ["anonymize", str(source), "--rule", "email=redact", "--k", "4", "--quasi-identifiers",
            "birth_date,postcode,age", "--l", "2", "--sensitive", "diagnosis"]
    text = runner.invoke(main, [*args, "--to", str(tmp_path / "a.csv")])
    assert text.exit_code == 0, text.output
    assert "information loss" in text.output
    assert ", l=" in text.output
    result = runner.invoke(main, [*args, "--to", str(tmp_path / "b.csv"), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    report = data["anonymity"]["patients.csv"]
    assert report["achieved_k"] >= 4
    assert report["achieved_l"] >= 2
    assert 0 < report["loss"]["non_uniform_entropy"] < report["loss_if_all_at_top"]["non_uniform_entropy"]
    missing = runner.invoke(main, [*args[:-4], "--l", "2", "--to", str(tmp_path / "c.csv")])
    assert missing.exit_code == 2
    assert "--l needs --k and --sensitive" in missing.output
