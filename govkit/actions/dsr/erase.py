"""Erasure: a plan per table from the policy, then one transaction per database, then proof.

Why it works this way:

* **The plan comes first and is shown as is.** Each table the subject's rows are in gets the
  policy's ``dsr.erasure`` action (``delete``, ``anonymize``, or ``retain`` with its legal
  basis). Two corrections keep the plan executable: a table whose rows are still referenced
  by rows that stay (retained or anonymized rows, or other people's records) is anonymized
  instead of deleted, because deleting it would break those references.
* **Legal holds win.** A retention exception with a ``legal_hold`` whose predicate selects
  any of the subject's rows (or with no predicate: the whole table) refuses the erasure with
  the hold's reason; nothing is changed.
* **One transaction per database**, statements in foreign-key-safe order (rows that
  reference others go first), so a failure halfway leaves the database as it was.
  Transactions of *different* databases are not atomic together (no two-phase commit):
  the certificate says per source what was committed.
* **Verification by locating again**: only retained tables may still hold the subject's rows.
  Lines in file sources are planned as ``manual`` (files are not rewritten yet), so while
  they remain the verification does not pass: the certificate says what is left to do.

Anonymize is, for now, set-to-placeholder: text columns with personal data become
``[erased]`` (cut to the column's declared length), other columns NULL; primary and foreign
keys are kept so retained rows still add up. This switches to the anonymization operator
registry (``govkit.actions.anonymize``) once its API is settled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from govkit.actions.dsr.locate import LocateReport, resolve_reference, selection, table_clause
from govkit.errors import UsageError
from govkit.inventory.store import AssetRecord, Inventory
from govkit.policy.loader import Policy
from govkit.policy.resolve import Resolver, Where
from govkit.policy.schema import matches_asset, matches_source
from govkit.sources.database import DatabaseSource
from govkit.workspace import Workspace

PLACEHOLDER = "[erased]"
_LENGTH = re.compile(r"\((\d+)")


class ErasureRefused(UsageError):
    """The subject is under a legal hold (or the plan cannot be carried out); nothing was changed."""


@dataclass(slots=True)
class TableStep:
    """What erasure does to one table's rows about the subject, and why."""

    source: str
    source_name: str | None
    asset: str
    action: str
    rows: int
    why: str
    legal_basis: str | None = None
    cite: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    note: str | None = None
    done: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(slots=True)
class Hold:
    source: str
    asset: str
    hold: str
    reason: str | None
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(slots=True)
class ErasurePlan:
    steps: list[TableStep] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [s.to_dict() for s in self.steps], "holds": [h.to_dict() for h in self.holds]}


def _personal_fields(inventory_rows: list[Any], asset: AssetRecord) -> list[str]:
    keys = set(asset.primary_key) | {c for fk in asset.foreign_keys for c in fk["columns"]}
    seen: dict[str, None] = {}
    for row in inventory_rows:
        if row.asset == asset.name and row.field not in keys:
            seen[row.field] = None
    return list(seen)


def plan_erasure(
    workspace: Workspace, report: LocateReport, *, policy: Policy, inventory: Inventory,
) -> ErasurePlan:
    """The plan for the subject's rows in ``report`` (reads the databases only to check holds)."""
    resolver = Resolver(policy)
    plan = ErasurePlan()
    assets: dict[str, dict[str, AssetRecord]] = {}
    rows_of: dict[str, list[Any]] = {}
    for hit in report.data():
        if hit.source not in assets:
            assets[hit.source] = {a.name: a for a in inventory.assets(hit.source)}
            rows_of[hit.source] = inventory.rows(hit.source)
        asset = assets[hit.source][hit.asset]
        chosen = resolver.erasure(Where(hit.source, hit.source_name, hit.asset))
        if asset.kind == "file":
            step = TableStep(hit.source, hit.source_name, hit.asset, "manual", hit.rows,
                             "files are not rewritten by erasure: remove or redact these lines by hand "
                             "(their line numbers are in 'govkit dsr export')")
        elif chosen is None:
            step = TableStep(hit.source, hit.source_name, hit.asset, "retain", hit.rows,
                             "no dsr.erasure rule and no dsr.default_erasure: left unchanged")
        elif isinstance(chosen.rule, str):
            step = TableStep(hit.source, hit.source_name, hit.asset, chosen.rule, hit.rows, _why(chosen))
        else:
            rule = chosen.rule
            step = TableStep(hit.source, hit.source_name, hit.asset, rule.action, hit.rows, _why(chosen),
                             rule.legal_basis, list(rule.cite), note=rule.note)
        if step.action == "anonymize":
            step.fields = _personal_fields(rows_of[hit.source], asset)
        plan.steps.append(step)
    _keep_references(plan, report, assets, rows_of)
    plan.holds = _holds(workspace, report, policy, assets)
    return plan


def _why(chosen: Any) -> str:
    return f"{chosen.why} ({chosen.origin.short})" if chosen.origin is not None else chosen.why


def _references(child: AssetRecord, parent: AssetRecord, graph: dict[str, AssetRecord]) -> bool:
    lowered = {name.lower(): asset for name, asset in graph.items()}
    return any(resolve_reference(lowered, fk["referred_table"]) is parent for fk in child.foreign_keys)


def _keep_references(plan: ErasurePlan, report: LocateReport, assets: dict[str, dict[str, AssetRecord]],
                     rows_of: dict[str, list[Any]]) -> None:
    """Turn ``delete`` into ``anonymize`` where rows that stay still reference the table."""
    changed = True
    while changed:
        changed = False
        for step in plan.steps:
            if step.action != "delete":
                continue
            graph = assets[step.source]
            parent = graph[step.asset]
            staying = [s.asset for s in plan.steps if s.source == step.source and s.action != "delete"
                       and s.asset != step.asset and _references(graph[s.asset], parent, graph)]
            others = [h.asset for h in report.hits if h.source == step.source and h.role == "link"
                      and h.asset in graph and _references(graph[h.asset], parent, graph)]
            if staying or others:
                step.action = "anonymize"
                step.fields = _personal_fields(rows_of[step.source], parent)
                step.note = (f"anonymized instead of deleted: still referenced by rows that stay in "
                             f"{', '.join(sorted(set(staying + others)))}")
                changed = True


def _holds(workspace: Workspace, report: LocateReport, policy: Policy,
           assets: dict[str, dict[str, AssetRecord]]) -> list[Hold]:
    holds: list[Hold] = []
    for hit in report.data():
        for rule in policy.doc.retention.rules:
            if not matches_source(rule.source, hit.source, hit.source_name):
                continue
            if not any(matches_asset(p, hit.asset) for p in rule.assets):
                continue
            for exc in rule.exceptions:
                if exc.legal_hold is None:
                    continue
                count = hit.rows
                asset = assets[hit.source][hit.asset]
                if exc.where is not None and asset.kind == "file":
                    continue  # a predicate names a column; file lines have none to test
                if exc.where is not None and hit.source_name is not None:
                    table = table_clause(asset)
                    if exc.where.column not in table.c:
                        continue
                    test = exc.where.sql(table.c[exc.where.column])
                    count = 0
                    with DatabaseSource(workspace.source(hit.source_name).resolved_url()) as source, \
                            source.engine.connect() as conn:
                        for clause in selection(table, hit.key_columns, hit.keys):
                            query = sa.select(sa.func.count()).select_from(table).where(clause, test)
                            count += int(conn.execute(query).scalar() or 0)
                if count:
                    holds.append(Hold(hit.source, hit.asset, exc.legal_hold, exc.reason, count))
    return holds


def safe_order(steps: list[TableStep], graph: dict[str, AssetRecord]) -> list[TableStep]:
    """Steps ordered so that a table's rows are changed before the rows they reference."""
    remaining = list(steps)
    ordered: list[TableStep] = []
    while remaining:
        for step in remaining:
            parent = graph[step.asset]
            blocked = any(o is not step and _references(graph[o.asset], parent, graph)
                          and graph[o.asset] is not parent for o in remaining)
            if not blocked:
                break
        else:  # a reference cycle: keep the given order for the rest
            step = remaining[0]
        remaining.remove(step)
        ordered.append(step)
    return ordered


def _placeholder(sql_type: str) -> str:
    length = _LENGTH.search(sql_type or "")
    return PLACEHOLDER[: int(length.group(1))] if length else PLACEHOLDER


def apply_plan(
    workspace: Workspace, plan: ErasurePlan, report: LocateReport, *, inventory: Inventory,
) -> list[dict[str, Any]]:
    """Carry out the plan: one transaction per database. Returns per source what was committed."""
    if plan.holds:
        first = plan.holds[0]
        raise ErasureRefused(
            f"the subject is under legal hold {first.hold} ({first.reason or 'no reason given'}; "
            f"{first.rows} row(s) in {first.asset}); nothing was erased"
        )
    committed: list[dict[str, Any]] = []
    keys = {(h.source, h.asset): h for h in report.data()}
    for source_display in dict.fromkeys(s.source for s in plan.steps):
        steps = [s for s in plan.steps if s.source == source_display]
        name = steps[0].source_name
        if name is None or workspace.source(name).kind != "database":
            continue  # files: "manual" steps, reported, not executed
        graph = {a.name: a for a in inventory.assets(source_display)}
        with DatabaseSource(workspace.source(name).resolved_url()) as source:
            try:
                with source.engine.begin() as conn:
                    for step in safe_order(steps, graph):
                        step.done = 0
                        if step.action == "retain":
                            continue
                        asset = graph[step.asset]
                        table = table_clause(asset)
                        hit = keys[(step.source, step.asset)]
                        for clause in selection(table, hit.key_columns, hit.keys):
                            if step.action == "delete":
                                result = conn.execute(sa.delete(table).where(clause))
                            else:
                                types = {f["name"]: (f["kind"], f["sql_type"]) for f in asset.fields}
                                values = {c: (_placeholder(types[c][1]) if types[c][0] == "text" else None)
                                          for c in step.fields if c in types}
                                if not values:
                                    continue
                                result = conn.execute(sa.update(table).where(clause).values(values))
                            step.done += int(result.rowcount or 0)
            except SQLAlchemyError as exc:
                for step in steps:
                    step.done = 0
                raise source.error(exc, "erasure failed and was rolled back") from None
        committed.append({"source": source_display, "committed": True,
                          "rows": sum(s.done or 0 for s in steps)})
    return committed


def verification(plan: ErasurePlan, after: LocateReport) -> dict[str, Any]:
    """Compare a fresh locate with the plan: only retained tables may still hold the subject's rows."""
    retained = {(s.source, s.asset) for s in plan.steps if s.action == "retain"}
    remaining = [h.to_dict() for h in after.data() if h.rows]
    unexpected = [h for h in remaining if (h["source"], h["asset"]) not in retained]
    manual = [h for h in unexpected if any(s.action == "manual" and (s.source, s.asset) == (h["source"], h["asset"])
                                           for s in plan.steps)]
    return {
        "passed": not unexpected,
        "manual_remaining": manual,
        "identifying_rows_remaining": sum(h["rows"] for h in unexpected),
        "remaining_in_retained_tables": [h for h in remaining if (h["source"], h["asset"]) in retained],
        "unexpected": unexpected,
    }
