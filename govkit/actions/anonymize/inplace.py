"""Anonymize a database in place: ``--in-place`` plans, ``--apply`` runs it through the change engine.

Each table is rewritten in **units of one key range** (``batch_size`` rows in primary-key
order). A unit reads its rows and writes them back *in one transaction on one connection*
(``SELECT ... WHERE pk > :last ORDER BY pk LIMIT n``, then ``UPDATE ... WHERE pk = :pk``), so
no read cursor stays open while another connection writes: that is what made SQLite in its
default rollback-journal mode fail with "database is locked" on tables over one batch.
Every unit goes through :meth:`~govkit.change.run.ChangeRun.db_unit`: the journal records its
key range (sealed) and the keyed digest of its rows before the change, so a run killed at
any moment resumes (``govkit runs resume``) where it stopped and never applies an operator
twice to a value (see :mod:`govkit.change.run`).

Key and reference columns are refused: rewriting a primary key under live foreign keys needs
the whole graph at once, which is what the database-to-database copy does. A field planned
``drop`` is set to NULL (a column cannot leave a live table).

Verification (on by default) re-reads every transformed column once every unit is
committed, with the export's checks (:meth:`Transformer.verify`): written values equal to an
input value the run replaced, and personal data the detection engine still finds in the
output of operators that should leave none; a dropped column must read back NULL. The leak
sample holds keyed digests (under the run's key) of the inputs that *changed*, journaled
with each unit, so a resumed run verifies against the whole run, not only its own part. A
failed verification cannot undo committed units and does not try to: the run ends
``failed``, the audit record names each ``table.column``, and says the changes are committed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from govkit.actions.anonymize.export import LEAK_CHECKED, LEAK_SAMPLE, ExportResult, Transformer, stream_table
from govkit.actions.anonymize.operators import OperatorContext, build
from govkit.actions.anonymize.plan import FieldPlan, Plan
from govkit.change import failpoints
from govkit.change.run import ChangeRun, decode_value, encode_value
from govkit.errors import UsageError

#: The change engine's name for this kind of run.
KIND = "anonymize.in-place"


def check_in_place(plan: Plan, tables: Sequence[Any]) -> None:
    """Refuse what in place cannot do safely (before any write)."""
    for table in tables:
        plans = plan.for_asset(table.qualified)
        if not plans:
            continue
        if not table.primary_key:
            raise UsageError(f"{table.qualified} has no primary key, so its rows cannot be updated one by one; "
                             "anonymize it into a copy with --to instead")
        keys = {c.lower() for c in table.primary_key} | {c.lower() for fk in table.foreign_keys for c in fk.columns}
        referred = {(fk.referred_table.lower(), c.lower()) for t in tables for fk in t.foreign_keys
                    for c in fk.referred_columns}
        for name, chosen in plans.items():
            if chosen.operator == "keep":
                continue
            if name in keys or (table.name.lower(), name) in referred:
                raise UsageError(f"{table.qualified}.{chosen.field} is a key or reference column; in place it "
                                 "cannot change (use --to for a copy with keys rewritten consistently)")


def apply_in_place(
    source: Any, tables: Sequence[Any], plan: Plan, context: OperatorContext, result: ExportResult,
    *, run: ChangeRun, batch_size: int = 5000, verify: bool = True,
    rows_filter: Callable[[Any], Any] | None = None, unit_prefix: str = "",
) -> None:
    """Rewrite the planned columns of ``tables`` in ``source``, one journaled unit per key range.

    With ``verify``, the transformed columns are read back once every table is rewritten;
    problems go to ``result.problems`` (``table.column``, never values). Every table is
    rewritten and verified even when an earlier one failed verification: stopping halfway
    would only leave a less predictable mix of changed and unchanged tables.

    ``rows_filter(table_clause)``, when given, limits the rewrite (and its verification) to the
    rows it selects (retention anonymizes only the rows past their period); ``unit_prefix``
    keeps the units of several calls in one run apart.
    """
    check_in_place(plan, tables)
    checks: list[tuple[Any, list[tuple[str, Any, FieldPlan]], Transformer]] = []
    for table in tables:
        plans = plan.for_asset(table.qualified)
        steps = [(c.name, build(p.operator, p.params, context), p) for c in table.columns
                 if (p := plans.get(c.name.lower())) is not None and p.operator != "keep"]
        if not steps:
            continue
        tracker = Transformer([c.name for c in table.columns], plans, context)
        tracker.fingerprint = run.fingerprint  # type: ignore[method-assign]  # stable across a resume
        _rewrite_table(run, source, table, steps, tracker, result, batch_size, remember=verify,
                       more=run.phase_data(f"{unit_prefix}verified") is None, rows_filter=rows_filter,
                       unit_prefix=unit_prefix)
        result.outputs.append(f"{source.display} {table.qualified} (in place)")
        checks.append((table, steps, tracker))
    if not verify:
        return
    done = run.phase_data(f"{unit_prefix}verified")
    if done is None:
        failpoints.reach("verify.started")
        problems = [p for table, steps, tracker in checks
                    for p in verify_table(source, table, steps, tracker, batch_size, rows_filter=rows_filter)]
        run.phase(f"{unit_prefix}verified", {"problems": problems})
        failpoints.reach("run.verified")
    else:
        problems = list(done.get("problems") or [])
    result.problems.extend(problems)


def _rewrite_table(
    run: ChangeRun, source: Any, table: Any, steps: list[tuple[str, Any, FieldPlan]], tracker: Transformer,
    result: ExportResult, batch_size: int, *, remember: bool, more: bool = True,
    rows_filter: Callable[[Any], Any] | None = None, unit_prefix: str = "",
) -> None:
    names = [c.name for c in table.columns]
    pk = list(table.primary_key)
    wanted = list(dict.fromkeys([*pk, *(name for name, _, _ in steps)]))
    clause = sa.table(table.name, *[sa.column(n) for n in names], schema=table.schema)
    key_expr = clause.c[pk[0]] if len(pk) == 1 else sa.tuple_(*[clause.c[k] for k in pk])
    select = sa.select(*[clause.c[n] for n in wanted]).order_by(*[clause.c[k] for k in pk])
    if rows_filter is not None:
        select = select.where(rows_filter(clause))
    update = sa.update(clause).where(
        *[clause.c[k] == sa.bindparam(f"pk_{i}") for i, k in enumerate(pk)]
    ).values({name: sa.bindparam(f"v_{i}") for i, (name, _, _) in enumerate(steps)})
    position = {n: i for i, n in enumerate(wanted)}
    prefix = f"{unit_prefix}{table.qualified}#"

    def bound(value: Any) -> Any:
        return sa.literal(value) if len(pk) == 1 else sa.tuple_(*[sa.literal(v) for v in value])

    def key_of(row: Sequence[Any]) -> Any:
        return row[0] if len(pk) == 1 else [row[i] for i in range(len(pk))]

    def unit(number: int, low: Any, high: Any) -> tuple[dict[str, Any], Any]:
        """The unit ``number``: rows after ``low`` (and up to ``high`` when redoing a journaled one);
        returns its data and its last key (kept in memory: the journal's copy is sealed JSON)."""
        rows: list[Sequence[Any]] = []
        last: list[Any] = [high]

        def read(conn: sa.Connection) -> list[Sequence[Any]]:
            query = select
            if low is not None:
                query = query.where(key_expr > bound(low))
            # a journaled unit is redone over exactly its range; a new one takes the next rows
            query = query.where(key_expr <= bound(high)) if high is not None else query.limit(batch_size)
            rows[:] = [tuple(r) for r in conn.execute(query)]
            if not rows and high is None:
                raise _TableDone  # past the last key: nothing to journal
            if any(row[i] is None for row in rows for i in range(len(pk))):
                raise UsageError(f"{table.qualified} has rows with NULL in its primary key; they cannot be "
                                 "rewritten one by one: anonymize the table into a copy with --to instead")
            return rows

        written: list[Sequence[Any]] = []
        names = [f"pk_{i}" for i in range(len(pk))] + [f"v_{i}" for i in range(len(steps))]

        def change(conn: sa.Connection) -> dict[str, Any]:
            # column-wise: one operator call per column, rows rebuilt with zip (C speed)
            columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [() for _ in wanted]
            new_columns: list[Sequence[Any]] = []
            fingerprints: dict[str, list[int]] = {}
            for name, operator, chosen in steps:
                column = columns[position[name]]
                new = [None] * len(column) if operator.drops_field else operator.apply_many(column, chosen.entity_type)
                if remember and chosen.operator in LEAK_CHECKED:
                    fingerprints[chosen.field.lower()] = _replaced(tracker, chosen, column, new)
                columns[position[name]] = new
                new_columns.append(new)
            params = [dict(zip(names, values, strict=True))
                      for values in zip(*columns[:len(pk)], *new_columns, strict=True)]
            written[:] = list(zip(*columns, strict=True))
            if params:
                conn.execute(update, params)
            last[0] = key_of(rows[-1]) if rows else low
            return {"rows": len(rows), "fp": fingerprints,
                    "_sealed": {"low": encode_value(low), "high": encode_value(last[0])}}

        def after(conn: sa.Connection) -> list[Sequence[Any]]:
            """The unit's rows as written (reading them back would cost a second query per unit;
            a value the database stores differently only makes a resume stop, never repeat)."""
            return written

        try:
            return run.db_unit(source.engine.connect, f"{prefix}{number}", read, change, after=after), last[0]
        except _TableDone:
            return {"rows": 0}, low
        except SQLAlchemyError as exc:
            raise source.error(exc, f"cannot update {table.qualified} (this unit was rolled back; "
                                    f"{result.rows} row(s) before it are done; 'govkit runs resume "
                                    f"{run.id}' continues)") from None

    def take(data: dict[str, Any]) -> None:
        result.rows += int(data.get("rows", 0))
        for name, digests in (data.get("fp") or {}).items():
            seen = tracker.seen.setdefault(name, set())
            seen.update(digests[: max(0, LEAK_SAMPLE - len(seen))])

    journaled = [u for u in run.journal.order if u.startswith(prefix)]
    low: Any = None
    for number, key in enumerate(journaled):
        state = run.journal.unit(key)
        bounds = run.sealed_of(key) or {}
        high = decode_value(bounds.get("high")) if "high" in bounds else low
        data = state.data if state.status == "committed" else unit(
            number, decode_value(bounds.get("low")), high)[0]
        take(data)
        low = high
    if not more:  # verified already: rows added since are not this run's to change
        return
    number = len(journaled)
    while True:
        data, low = unit(number, low, None)
        if not data.get("rows"):
            break
        take(data)
        number += 1


class _TableDone(Exception):
    """Raised inside a unit's transaction when no row is left after its lower bound."""


def _replaced(tracker: Transformer, chosen: FieldPlan, old: Sequence[Any], new: Sequence[Any]) -> list[int]:
    """Digests of the inputs this unit replaced (values mapped to themselves are not kept)."""
    if len(tracker.seen.get(chosen.field.lower(), ())) >= LEAK_SAMPLE:
        return []
    fingerprint = tracker.fingerprint
    return [fingerprint(a) for a, b in zip(old, new, strict=True) if isinstance(a, str) and a and a != b]


def verify_table(
    source: Any, table: Any, steps: Sequence[tuple[str, Any, FieldPlan]], tracker: Transformer, batch_size: int,
    *, rows_filter: Callable[[Any], Any] | None = None,
) -> list[str]:
    """Read back the transformed columns of ``table`` (the rows ``rows_filter`` selects) and check
    them (see the module docstring)."""
    names = [name for name, _, _ in steps]
    clause = sa.table(table.name, *[sa.column(c.name) for c in table.columns], schema=table.schema)
    select = sa.select(*[clause.c[n] for n in names])
    if rows_filter is not None:
        select = select.where(rows_filter(clause))
    problems = tracker.verify(names, stream_table(source, table, batch_size, select), table.qualified)
    for index, (name, operator, _) in enumerate(steps):
        if not operator.drops_field:
            continue
        left = sum(1 for batch in stream_table(source, table, batch_size, select) for row in batch
                   if row[index] is not None)
        if left:
            problems.append(f"{table.qualified}.{name}: {left} value(s) still set after drop")
    return problems
