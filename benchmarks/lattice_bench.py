"""k-anonymity by the least generalization: the lattice search against the top-level baseline.

Run ``python benchmarks/lattice_bench.py`` (options: ``--rows N`` for the synthetic census,
default 100,000; ``--k 2,5,10``; ``--max-suppression 5``). One process, per data set and k:

(a) **govkit**: :func:`govkit.actions.anonymize.lattice.search`, the least-loss node that
    meets k within the suppression budget (the hierarchies ``govkit anonymize --k`` uses).
(b) **baseline**: every quasi-identifier generalized to its top level (``*``): always
    k-anonymous, nothing suppressed, everything lost.
(c) for reference, the Datafly-style greedy (:func:`govkit.actions.risk.generalize_to_k`)
    that ``anonymize --k`` used before issue #15, on its own ladders.

Loss is measured the same way for all three, on the rows: non-uniform entropy (ARX's NUE,
suppressed rows counted as fully generalized), normalized by the baseline's; and the share
of rows suppressed. Printed: time of (a) and (b), loss ratios (a)/(b) and (c)/(b), and the
k each output reaches. Target: the same k at a fraction of the baseline's loss.

Data: ``employees`` (1,000 rows of the public employees sample in ``shared/fixtures/realworld``:
birth date, gender, hire date), Chinook invoices (412 rows: billing country, city, postcode,
invoice date) and a synthetic census (seeded: age, 5-digit ZIP drawn from 300 ZIPs, sex,
birth date) of ``--rows`` rows. No timing is asserted in the test suite.
"""

from __future__ import annotations

import argparse
import datetime
import math
import random
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from govkit.actions.anonymize import lattice
from govkit.actions.risk import equivalence_classes, generalize_to_k

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
if not FIXTURES.is_dir():
    FIXTURES = Path("/work/shared/fixtures")


def employees() -> tuple[list[str], list[tuple[Any, ...]], list[str]]:
    with sqlite3.connect(FIXTURES / "realworld" / "db" / "employees.db") as conn:
        rows = conn.execute("SELECT birth_date, gender, hire_date FROM employee").fetchall()
    return ["birth_date", "gender", "hire_date"], rows, ["birth_date", "gender", "hire_date"]


def chinook() -> tuple[list[str], list[tuple[Any, ...]], list[str]]:
    with sqlite3.connect(FIXTURES / "chinook" / "Chinook_Sqlite.sqlite") as conn:
        rows = conn.execute("SELECT BillingCountry, BillingCity, BillingPostalCode, substr(InvoiceDate, 1, 10) "
                            "FROM Invoice").fetchall()
    columns = ["BillingCountry", "BillingCity", "BillingPostalCode", "InvoiceDate"]
    return columns, rows, columns


def census(n: int) -> tuple[list[str], list[tuple[Any, ...]], list[str]]:
    rng = random.Random(15)
    zips = [f"{rng.randint(10000, 99999)}" for _ in range(300)]
    rows = []
    for _ in range(n):
        age = min(90, max(17, int(rng.gauss(40, 14))))
        born = datetime.date(2026 - age, 1, 1) + datetime.timedelta(days=rng.randint(0, 364))
        rows.append((age, rng.choice(zips), rng.choice("MF"), born.isoformat()))
    return ["age", "zip", "sex", "birth_date"], rows, ["age", "zip", "sex", "birth_date"]


def nue(original: Sequence[tuple[Any, ...]], generalized: Sequence[tuple[Any, ...]],
        suppressed: Sequence[bool]) -> float:
    """Non-uniform entropy on the rows, as lattice.py defines it: ``log2`` of the rows sharing the
    generalized value over those sharing the value; a suppressed row counts as ``*`` (all rows)."""
    n = len(original)
    width = len(original[0])
    total = 0.0
    for i in range(width):
        before = Counter(row[i] for row in original)
        after = Counter(row[i] for row in generalized)
        for row, out, gone in zip(original, generalized, suppressed, strict=True):
            share = n if gone else after[out[i]]
            total += math.log2(share / before[row[i]])
    return total


def k_of(generalized: Sequence[tuple[Any, ...]], suppressed: Sequence[bool]) -> int:
    sizes = Counter(row for row, gone in zip(generalized, suppressed, strict=True) if not gone)
    return min(sizes.values()) if sizes else 0


def run(name: str, data: tuple[list[str], list[tuple[Any, ...]], list[str]], ks: list[int], budget: float) -> None:
    columns, rows, quasi = data
    originals = [tuple(row[columns.index(q)] for q in quasi) for row in rows]
    print(f"\n{name}: {len(rows):,} rows, quasi-identifiers {', '.join(quasi)}")
    print(f"{'k':>3} | {'loss/top':>8} | {'datafly/top':>11} | {'supp.':>6} | {'df supp.':>8} | {'time s':>7} | "
          f"{'df time s':>8} | {'top s':>7} | k (lattice, df) | nodes checked | lattice levels")
    for k in ks:
        started = time.perf_counter()
        known, context = lattice.prepare(columns, quasi)
        sizes = lattice.count(columns, [rows], quasi, context)
        hierarchies = lattice.finish(known, quasi, sizes)
        plan = lattice.search(columns, sizes, quasi, hierarchies, context, k, max_suppression=budget)
        idx = [columns.index(q) for q in quasi]
        ctx = [{role: columns.index(c) for role, c in c_.items()} for c_ in context]
        out = [plan.generalize([row[i] for i in idx], [{r: row[i] for r, i in c_.items()} for c_ in ctx])
               for row in rows]
        gone = [key in plan.risky for key in out]
        elapsed = time.perf_counter() - started

        started = time.perf_counter()
        top = [tuple("*" for _ in quasi) for _ in rows]
        top_elapsed = time.perf_counter() - started
        top_loss = nue(originals, top, [False] * len(rows))

        started = time.perf_counter()
        classes, _, _ = equivalence_classes(columns, [rows], quasi)
        greedy = generalize_to_k(classes, quasi, k, max_suppression=budget)
        datafly = [greedy.generalize(key) for key in originals]
        datafly_gone = [key in greedy.risky for key in datafly]
        datafly_elapsed = time.perf_counter() - started

        loss = nue(originals, out, gone) / top_loss
        datafly_loss = nue(originals, datafly, datafly_gone) / top_loss
        levels = ", ".join(f"{q}={level}" for q, level in plan.reached.items())
        print(f"{k:>3} | {loss:>8.3f} | {datafly_loss:>11.3f} | {sum(gone) / len(rows):>6.1%} | "
              f"{sum(datafly_gone) / len(rows):>8.1%} | {elapsed:>7.3f} | {datafly_elapsed:>8.3f} | "
              f"{top_elapsed:>7.4f} | {k_of(out, gone):>3}, {k_of(datafly, datafly_gone):<3} | "
              f"{plan.nodes_checked}/{plan.lattice_size} | {levels}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--k", default="2,5,10")
    parser.add_argument("--max-suppression", type=float, default=5.0)
    args = parser.parse_args()
    ks = [int(k) for k in args.k.split(",")]
    budget = args.max_suppression / 100
    print(f"k-anonymity by lattice search vs every quasi-identifier at its top level; budget {args.max_suppression:g}%")
    run("employees (realworld)", employees(), ks, budget)
    run("Chinook invoices", chinook(), ks, budget)
    run("synthetic census", census(args.rows), ks, budget)


if __name__ == "__main__":
    main()
