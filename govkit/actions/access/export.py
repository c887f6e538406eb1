"""``govkit access export ROLE SOURCE --to FILE|URL``: the source as one role may see it.

The role's decisions (:mod:`govkit.actions.access.show`) become one anonymization rule per
personal field: ``keep`` where the role reads in clear, the role's operator where it reads
masked, ``drop`` where it may not read at all. Everything after that is the anonymize
exporters' (:func:`~govkit.actions.anonymize.export.export_rows` for files,
:func:`~govkit.actions.anonymize.export.copy_database` for a database URL): the same
streaming, key checks (a reference column gets the same operator on both sides) and
read-back verification. Rules are given as :class:`~govkit.actions.anonymize.plan.Rule`
objects, not re-parsed text, so an operator parameter holding a comma stays intact.

The audit record (``access.export``) names the role, the tables and the rows written per
table; never a value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govkit.actions.access.show import RoleAccess, role_access, source_inventory
from govkit.errors import UsageError


@dataclass(slots=True)
class RoleExport:
    role: str
    source: str
    outputs: list[str] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    masked: list[str] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)
    verified: bool = False
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


def rules_for(access: RoleAccess) -> list[Any]:
    """One rule per personal field: keep (clear), the role's operator (masked), drop (none)."""
    from govkit.actions.anonymize.plan import Rule

    rules = []
    for decision in access.fields:
        if not decision.personal:
            continue
        if decision.read == "clear":
            operator, params = "keep", {}
        elif decision.read == "masked":
            operator, params = decision.operator or "mask", dict(decision.params)
        else:
            operator, params = "drop", {}
        spec = operator + (":" + ",".join(f"{k}={v}" for k, v in params.items()) if params else "")
        rules.append(Rule(decision.asset, decision.field, operator, params,
                          f"{decision.asset}.{decision.field}={spec} (role {access.role}: {decision.why})"))
    return rules


def export_for_role(workspace: Any, role: str, source_name: str, to: str, *, fmt: str | None = None,
                    tables: list[str] | None = None, verify: bool = True, batch_size: int = 5000) -> RoleExport:
    """Write ``source_name`` (a source of govkit.toml) as ``role`` may see it to ``to``."""
    from govkit.actions.anonymize.export import (
        ExportResult,
        VerificationFailed,
        copy_database,
        export_rows,
        stream_table,
    )
    from govkit.actions.anonymize.io import FORMATS, Batch
    from govkit.actions.anonymize.plan import build_plan, propagate_keys
    from govkit.actions.anonymize.run import _prepare, operator_context
    from govkit.actions.risk import find_table
    from govkit.policy.loader import active_policy
    from govkit.sources.database import DatabaseSource

    config = workspace.source(source_name)
    if config.kind != "database":
        raise UsageError(f"source {source_name!r} is a folder of files; 'access export' exports databases "
                         "(for a file use 'govkit anonymize FILE --to ...')")
    policy = active_policy(workspace.root)
    assets, rows = source_inventory(workspace, source_name)
    if not rows:
        raise UsageError(f"the inventory knows no personal data in {source_name}: run 'govkit scan {source_name}' "
                         "first")
    access = role_access(policy, role, assets, rows)
    rules = rules_for(access)
    context = operator_context(workspace)
    out = RoleExport(role, source_name)
    with DatabaseSource(config.resolved_url()) as source:
        chosen = [find_table(source, t) for t in tables] if tables else [
            t for t in source.tables() if t.kind == "table"]
        columns_of = {t.qualified: [c.name for c in t.columns] for t in chosen}
        plan = build_plan(source.display, rows, policy, rules, columns_of, source_name=source_name)
        propagate_keys(plan, chosen, context)
        _prepare(plan, context)
        for entry in plan.fields.values():
            name = f"{entry.asset}.{entry.field}"
            {"keep": out.kept, "drop": out.denied}.get(entry.operator, out.masked).append(name)
        result = ExportResult(plan)
        if "://" in to:
            copy_database(source, to, chosen, plan, context, result, batch_size=batch_size, verify=verify)
            out.tables = _count_target(to, [t.name for t in chosen])
        else:
            target = Path(to)
            single = len(chosen) == 1 and target.suffix.lstrip(".").lower() in (*FORMATS, "json", "ndjson")
            for table in chosen:
                path = target if single else target / f"{table.qualified}.{fmt or 'csv'}"
                if not single:
                    path.parent.mkdir(parents=True, exist_ok=True)

                def opener(table: Any = table) -> Iterator[Batch]:
                    return stream_table(source, table, batch_size)

                before = result.rows
                export_rows([c.name for c in table.columns], opener, plan.for_asset(table.qualified), path, context,
                            result, where=table.qualified, fmt=fmt, verify=verify, jobs=1)
                out.tables[table.qualified] = result.rows - before
        out.outputs = list(result.outputs)
        out.problems = list(result.problems)
        out.verified = verify and not result.problems
        if result.problems:
            raise VerificationFailed(result, f"verification failed: {len(result.problems)} problem(s), output "
                                             "marked incomplete: " + "; ".join(result.problems[:5]))
    return out


def _count_target(url: str, tables: list[str]) -> dict[str, int]:
    """Rows per table as written to the target database (counted there, after the copy)."""
    import sqlalchemy as sa

    from govkit.sources.database import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {name: int(conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar() or 0)
                    for name in tables}
    finally:
        engine.dispose()
