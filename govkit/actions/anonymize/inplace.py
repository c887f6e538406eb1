"""Anonymize a database in place: ``--in-place`` plans, ``--apply`` runs, batch by batch.

Rows are read by primary key and rewritten with ``UPDATE ... WHERE pk = :pk``, one
transaction per batch, so a failure rolls back the batch it happened in and leaves every
earlier batch done (re-running is safe: deterministic operators give the same values, and
the plan says which are not). Key and reference columns are refused: rewriting a primary key
under live foreign keys needs the whole graph at once, which is what the database-to-database
copy does. A field planned ``drop`` is set to NULL (a column cannot leave a live table).

Verification (on by default) re-reads every transformed column of a table once its batches
are committed, with the export's checks (:meth:`Transformer.verify`): written values equal
to an input value the run replaced, and personal data the detection engine still finds in
the output of operators that should leave none; a dropped column must read back NULL. The
leak sample holds keyed digests of the inputs that *changed*: a value the operator maps to
itself (a re-run over already masked values) is no leak, so re-running stays possible. A
failed verification cannot undo committed batches and does not try to: the caller reports
the run as incomplete, names each ``table.column``, and says the changes are committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from govkit.actions.anonymize.export import LEAK_CHECKED, LEAK_SAMPLE, ExportResult, Transformer, stream_table
from govkit.actions.anonymize.operators import OperatorContext, build
from govkit.actions.anonymize.plan import FieldPlan, Plan
from govkit.errors import UsageError


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
    *, batch_size: int = 5000, verify: bool = True,
) -> None:
    """Rewrite the planned columns of ``tables`` in ``source``; one transaction per batch.

    With ``verify``, each table's transformed columns are read back after its last batch;
    problems go to ``result.problems`` (``table.column``, never values). Every table is
    rewritten and verified even when an earlier one failed verification: stopping halfway
    would only leave a less predictable mix of changed and unchanged tables.
    """
    check_in_place(plan, tables)
    for table in tables:
        plans = plan.for_asset(table.qualified)
        steps = [(c.name, build(p.operator, p.params, context), p) for c in table.columns
                 if (p := plans.get(c.name.lower())) is not None and p.operator != "keep"]
        if not steps:
            continue
        names = [c.name for c in table.columns]
        pk_index = [names.index(k) for k in table.primary_key]
        clause = sa.table(table.name, *[sa.column(n) for n in names], schema=table.schema)
        update = sa.update(clause).where(
            *[clause.c[k] == sa.bindparam(f"pk_{i}") for i, k in enumerate(table.primary_key)]
        ).values({name: sa.bindparam(f"v_{i}") for i, (name, _, _) in enumerate(steps)})
        tracker = Transformer(names, plans, context)  # the export's verification, and its leak sample
        for batch in stream_table(source, table, batch_size):
            params = [{f"pk_{i}": row[j] for i, j in enumerate(pk_index)} for row in batch]
            for i, (name, operator, chosen) in enumerate(steps):
                column = [row[names.index(name)] for row in batch]
                new = [None] * len(column) if operator.drops_field else operator.apply_many(column, chosen.entity_type)
                if verify and chosen.operator in LEAK_CHECKED:
                    _remember(tracker, chosen, column, new)
                for entry, value in zip(params, new, strict=True):
                    entry[f"v_{i}"] = value
            try:
                with source.engine.begin() as conn:
                    conn.execute(update, params)
            except SQLAlchemyError as exc:
                raise source.error(exc, f"cannot update {table.qualified} (this batch was rolled back; "
                                        f"{result.rows} row(s) before it are done)") from None
            result.rows += len(batch)
        result.outputs.append(f"{source.display} {table.qualified} (in place)")
        if verify:
            result.problems.extend(verify_table(source, table, steps, tracker, batch_size))


def _remember(tracker: Transformer, chosen: FieldPlan, old: Sequence[Any], new: Sequence[Any]) -> None:
    """Digests of the inputs this batch replaced (values mapped to themselves are not kept)."""
    seen = tracker.seen[chosen.field.lower()]
    if len(seen) >= LEAK_SAMPLE:
        return
    fingerprint = tracker.fingerprint
    seen.update(fingerprint(a) for a, b in zip(old, new, strict=True) if isinstance(a, str) and a and a != b)


def verify_table(
    source: Any, table: Any, steps: Sequence[tuple[str, Any, FieldPlan]], tracker: Transformer, batch_size: int,
) -> list[str]:
    """Read back the transformed columns of ``table`` and check them (see the module docstring)."""
    names = [name for name, _, _ in steps]
    clause = sa.table(table.name, *[sa.column(n) for n in names], schema=table.schema)
    select = sa.select(*[clause.c[n] for n in names])
    problems = tracker.verify(names, stream_table(source, table, batch_size, select), table.qualified)
    for index, (name, operator, _) in enumerate(steps):
        if not operator.drops_field:
            continue
        left = sum(1 for batch in stream_table(source, table, batch_size, select) for row in batch
                   if row[index] is not None)
        if left:
            problems.append(f"{table.qualified}.{name}: {left} value(s) still set after drop")
    return problems
