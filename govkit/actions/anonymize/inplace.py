"""Anonymize a database in place: ``--in-place`` plans, ``--apply`` runs, batch by batch.

Rows are read by primary key and rewritten with ``UPDATE ... WHERE pk = :pk``, one
transaction per batch, so a failure rolls back the batch it happened in and leaves every
earlier batch done (re-running is safe: deterministic operators give the same values, and
the plan says which are not). Key and reference columns are refused: rewriting a primary key
under live foreign keys needs the whole graph at once, which is what the database-to-database
copy does. A field planned ``drop`` is set to NULL (a column cannot leave a live table).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from govkit.actions.anonymize.export import ExportResult, stream_table
from govkit.actions.anonymize.operators import OperatorContext, build
from govkit.actions.anonymize.plan import Plan
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
    *, batch_size: int = 5000,
) -> None:
    """Rewrite the planned columns of ``tables`` in ``source``; one transaction per batch."""
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
        for batch in stream_table(source, table, batch_size):
            params = [{f"pk_{i}": row[j] for i, j in enumerate(pk_index)} for row in batch]
            for i, (name, operator, chosen) in enumerate(steps):
                column = [row[names.index(name)] for row in batch]
                new = [None] * len(column) if operator.drops_field else operator.apply_many(column, chosen.entity_type)
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
