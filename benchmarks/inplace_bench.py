"""In-place anonymization through the change engine: 250,000 rows of SQLite, journal overhead.

Run ``python benchmarks/inplace_bench.py`` (options: ``--rows N``, ``--repeat N``). Each
variant runs on a fresh copy of the same table (``people``: name, email, phone, country),
``pseudonymize`` on email, ``mask`` on name, ``hash`` on phone, verification off (it reads
the table once more in every variant alike), in one process, best of ``--repeat``:

(a) **engine, default journal**: :func:`~govkit.actions.anonymize.inplace.apply_in_place`
    with a real :class:`~govkit.change.run.ChangeRun` (begun, audited, journaled and
    fsynced per unit), on SQLite in its default rollback-journal mode.
(b) **engine, WAL**: the same on a WAL database.
(c) **units without the journal**: the same units (one transaction per key range, read and
    write on one connection) with the journal, digests and seals replaced by nothing: the
    difference between (a) and (c) is what the journal costs. Target: < 10%.
(d) **the pre-engine WAL path**: what ``--in-place --apply`` did before the change engine (a
    streaming read cursor on one connection, ``UPDATE`` batches on another; it only worked
    in WAL mode). Target: (a) at least as fast.

No timing is asserted in the test suite; this prints PASS/FAIL and exits 0 either way.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from govkit.actions.anonymize.export import ExportResult, stream_table
from govkit.actions.anonymize.inplace import apply_in_place
from govkit.actions.anonymize.operators import OperatorContext, build
from govkit.actions.anonymize.plan import FieldPlan, Plan
from govkit.change.journal import Journal
from govkit.change.run import ChangeRun
from govkit.keys import Keyset, KeyVersion, key_id_of
from govkit.sources.database import DatabaseSource

RULES = {"email": ("pseudonymize", "EMAIL_ADDRESS"), "name": ("mask", "PERSON"), "phone": ("hash", "PHONE_NUMBER")}


def build_table(path: Path, rows: int, *, wal: bool) -> None:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        if wal:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        conn.exec_driver_sql("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT, "
                             "country TEXT)")
        batch = []
        for i in range(1, rows + 1):
            batch.append((i, f"Person Number{i}", f"person{i}@example{i % 97}.org", f"+44 20 7946 {i % 10000:04d}",
                          ("UK", "FR", "CN")[i % 3]))
            if len(batch) == 10_000:
                conn.exec_driver_sql("INSERT INTO people VALUES (?, ?, ?, ?, ?)", batch)
                batch = []
        if batch:
            conn.exec_driver_sql("INSERT INTO people VALUES (?, ?, ?, ?, ?)", batch)
    engine.dispose()


class NoJournal:
    """The units of (c): what :class:`ChangeRun` offers ``apply_in_place``, doing only the work."""

    def __init__(self) -> None:
        self.journal = Journal(Path("/nonexistent/journal.jsonl"))
        self._high: dict[str, Any] = {}
        self.id = "no-journal"

    def db_unit(self, connect: Callable[[], Any], key: str, read: Callable[[Any], Iterable[Sequence[Any]]],
                change: Callable[[Any], dict[str, Any]], **_: Any) -> dict[str, Any]:
        with connect() as conn, conn.begin():
            read(conn)
            data = change(conn)
        self._high[key] = data.pop("_sealed")
        return data

    def sealed_of(self, key: str) -> Any:
        return self._high.get(key)

    def fingerprint(self, value: Any) -> int:
        return hash(value)

    def phase_data(self, name: str) -> None:
        return None

    def phase(self, name: str, data: Any = None) -> None:
        pass


def plan_for() -> Plan:
    plan = Plan("bench")
    for name, (operator, entity) in RULES.items():
        plan.add(FieldPlan("people", name, operator, {}, entity, "benchmark"))
    return plan


def engine_run(path: Path, context: OperatorContext, state: Path) -> float:
    with DatabaseSource(f"sqlite:///{path}") as source:
        tables = [t for t in source.tables() if t.name == "people"]
        plan = plan_for()
        started = time.perf_counter()
        with ChangeRun.begin(state, "bench.in-place", str(path), {}, {"bench": True}) as run:
            apply_in_place(source, tables, plan, context, ExportResult(plan), run=run, verify=False)
            run.audited("bench", {}, {})
            run.finish()
        return time.perf_counter() - started


def bare_run(path: Path, context: OperatorContext) -> float:
    with DatabaseSource(f"sqlite:///{path}") as source:
        tables = [t for t in source.tables() if t.name == "people"]
        plan = plan_for()
        started = time.perf_counter()
        apply_in_place(source, tables, plan, context, ExportResult(plan), run=NoJournal(),  # type: ignore[arg-type]
                       verify=False)
        return time.perf_counter() - started


def old_wal_run(path: Path, context: OperatorContext) -> float:
    """The pre-engine algorithm: a streaming cursor reads while another connection updates."""
    with DatabaseSource(f"sqlite:///{path}") as source:
        table = next(t for t in source.tables() if t.name == "people")
        names = [c.name for c in table.columns]
        steps = [(name, build(op, {}, context), entity) for name, (op, entity) in RULES.items()]
        clause = sa.table(table.name, *[sa.column(n) for n in names])
        update = sa.update(clause).where(clause.c.id == sa.bindparam("pk_0")).values(
            {name: sa.bindparam(f"v_{i}") for i, (name, _, _) in enumerate(steps)})
        started = time.perf_counter()
        for batch in stream_table(source, table, 5000):
            params = [{"pk_0": row[0]} for row in batch]
            for i, (name, operator, entity) in enumerate(steps):
                new = operator.apply_many([row[names.index(name)] for row in batch], entity)
                for entry, value in zip(params, new, strict=True):
                    entry[f"v_{i}"] = value
            with source.engine.begin() as conn:
                conn.execute(update, params)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    material = b"b" * 32
    context = OperatorContext(Keyset((KeyVersion(key_id_of(material), "", material, "primary"),), "bench"))
    import os

    os.environ["GOVKIT_KEY"] = "YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI="
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        default, wal = root / "default.sqlite", root / "wal.sqlite"
        build_table(default, args.rows, wal=False)
        build_table(wal, args.rows, wal=True)
        times: dict[str, list[float]] = {"a": [], "b": [], "c": [], "d": []}
        for attempt in range(args.repeat):
            for variant, base in (("a", default), ("b", wal), ("c", default), ("d", wal)):
                copy = root / f"{variant}{attempt}.sqlite"
                shutil.copy(base, copy)
                if base == wal and (base.with_name(base.name + "-wal")).exists():
                    shutil.copy(base.with_name(base.name + "-wal"), copy.with_name(copy.name + "-wal"))
                state = root / f"state{variant}{attempt}"
                state.mkdir()
                if variant == "a" or variant == "b":
                    times[variant].append(engine_run(copy, context, state))
                elif variant == "c":
                    times[variant].append(bare_run(copy, context))
                else:
                    times[variant].append(old_wal_run(copy, context))
    best = {k: min(v) for k, v in times.items()}
    rate = {k: args.rows / v for k, v in best.items()}
    print(f"rows: {args.rows:,}, 3 columns (pseudonymize, mask, hash), SQLite, best of {args.repeat}")
    print(f"(a) engine, default journal: {best['a']:.2f} s = {rate['a']:,.0f} rows/s")
    print(f"(b) engine, WAL:             {best['b']:.2f} s = {rate['b']:,.0f} rows/s")
    print(f"(c) units, no journal:       {best['c']:.2f} s = {rate['c']:,.0f} rows/s")
    print(f"(d) pre-engine WAL path:     {best['d']:.2f} s = {rate['d']:,.0f} rows/s")
    overhead = best["a"] / best["c"] - 1
    print(f"journal overhead (a vs c): {overhead:+.1%} ({'PASS' if overhead < 0.10 else 'FAIL'}, target < 10%)")
    ratio = rate["a"] / rate["d"]
    print(f"default journal vs the old WAL path (a vs d): {ratio:.2f}x "
          f"({'PASS' if ratio >= 1.0 else 'FAIL'}, target >= 1.0x)")


if __name__ == "__main__":
    main()
