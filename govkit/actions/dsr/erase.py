"""Erasure: a plan per table from the policy, then journaled units (databases, files), then proof.

Why it works this way:

* **The plan comes first and is shown as is.** Each table the subject's rows are in gets the
  policy's ``dsr.erasure`` action (``delete``, ``anonymize``, or ``retain`` with its legal
  basis). Two corrections keep the plan executable: a table whose rows are still referenced
  by rows that stay (retained or anonymized rows, or other people's records) is anonymized
  instead of deleted, because deleting it would break those references.
* **Legal holds win.** A retention exception with a ``legal_hold`` whose predicate selects
  any of the subject's rows (or with no predicate: the whole table), or an active hold of
  the hold store (:mod:`govkit.holds`: on the subject, matched by keyed digest or by the rows
  both searches find; on an asset, by its predicate) refuses the erasure with the hold's id
  and reason; nothing is changed.
* **Retention obligations are met, not ignored.** A table the plan deletes from or
  anonymizes whose retention rule names a ``legal_basis`` (invoices kept 10 years for tax
  law) is checked for the subject's rows still inside the period (one ``COUNT`` per key
  chunk, the cutoff typed as ``evaluate`` types it); if there are any, the step follows the
  rule's ``on_erasure`` (``retain`` by default, ``anonymize``, or ``delete``: erasure wins)
  and records the rule, its legal basis and the obliged row count (``TableStep.retention``),
  which the plan table, the stored plan and the certificate show. The whole table's step
  follows it (a step is per table): the subject's rows already past the period stay with
  the obliged ones until retention removes them.
* **One journaled unit per database, one per file** (:mod:`govkit.change.run`): a database's
  statements run in one transaction, in foreign-key-safe order (rows that reference others
  go first), so a failure rolls that database back whole; a file is swapped in with one
  rename. Different databases and files are not atomic together (no two-phase commit);
  instead the run is journaled: killed or failed halfway, it stays unfinished and
  ``govkit runs resume`` completes it, never applying a committed unit twice.
* **Verification by locating again**: only retained tables may still hold the subject's rows.
* **Files are rewritten too** (:mod:`~govkit.actions.dsr.rewrite`): CSV/TSV rows and JSONL
  records follow the plan's action like rows (``delete`` by default); text and log lines keep
  their place and get the subject's identifiers replaced. JSON documents, workbooks and
  Parquet files stay ``manual``: while they hold the subject the verification does not pass,
  and the certificate says what is left to do.

* **Anonymize uses the anonymization operators** (``govkit.actions.anonymize``): each
  personal field of the rows that stay gets the operator the policy's ``anonymization``
  rules assign to it, resolved exactly as ``govkit anonymize`` does (field rule, then entity
  type, then category; ``redact`` where no rule applies). Keyed operators use the workspace
  keys. Primary-key, foreign-key and referenced columns are never transformed, so rows that
  stay still add up. An operator whose output cannot fit the column is replaced by one that
  can: on a column that is not text only ``keep``, ``drop`` (NULL) and ``pseudonymize`` of
  integers fit, anything else sets NULL (the old placeholder behaviour); on a table without a
  primary key rows cannot be rewritten one by one, so value-dependent operators become
  ``redact``. Text results are cut to the column's declared length. The plan and the
  certificate name the operator used per field (``TableStep.operators``); values never
  appear in errors, logs, the audit log or the certificate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from govkit.actions.anonymize.operators import Operator, OperatorContext, build
from govkit.actions.anonymize.plan import DEFAULT_OPERATOR, FieldPlan, build_plan
from govkit.actions.anonymize.run import operator_context
from govkit.actions.dsr.files import LineMatcher, file_path
from govkit.actions.dsr.locate import LocateReport, resolve_reference, selection, source_config, table_clause
from govkit.actions.dsr.rewrite import (
    MANUAL_REASONS,
    REWRITABLE,
    SPAN_ENTITIES,
    FileJob,
    file_format,
    write_into,
)
from govkit.change.run import ChangeRun
from govkit.errors import GovkitError, SourceError, UsageError
from govkit.inventory.store import AssetRecord, Inventory
from govkit.policy.loader import Policy
from govkit.policy.resolve import Resolver, Where
from govkit.policy.schema import matches_asset, matches_source
from govkit.sources.database import DatabaseSource
from govkit.workspace import Workspace

if TYPE_CHECKING:
    from govkit.policy.evaluate import DatabaseCounter

_LENGTH = re.compile(r"\((\d+)")
#: Key prefix of span operators among the built operators (field names never start with it).
SPAN_PREFIX = "\0span:"
#: Operators whose output does not depend on the value: usable without a primary key.
_CONSTANT = frozenset({"redact", "replace", "drop"})


class ErasureRefused(UsageError):
    """The subject is under a legal hold (or the plan cannot be carried out); nothing was changed."""


class ErasureFailed(UsageError):
    """An operator failed while rewriting rows; the database's transaction was rolled back."""


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
    #: anonymize only: per field, the operator used (``operator``, ``params``, ``entity_type``)
    #: and ``why``; never a value.
    operators: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: files only: the reader's format name (``csv``, ``jsonl``, ``text``, ...)
    format: str | None = None
    #: files only: per identifier entity type, the operator that replaces it inside text
    span_operators: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: a retention rule with a ``legal_basis`` obliging to keep some of these rows: ``rule``,
    #: ``rule_ref``, ``legal_basis``, ``cite``, ``period``, ``timestamp``, ``cutoff``,
    #: ``obliged_rows`` (None: could not be counted, ``count_error`` says why), ``on_erasure``
    #: and ``planned`` (the action the erasure rules chose before the obligation was met)
    retention: dict[str, Any] | None = None

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


def _referred_columns(asset: AssetRecord, graph: dict[str, AssetRecord]) -> set[str]:
    """Columns of ``asset`` that foreign keys of the source point to."""
    lowered = {name.lower(): other for name, other in graph.items()}
    return {c for other in graph.values() for fk in other.foreign_keys
            if resolve_reference(lowered, fk["referred_table"]) is asset for c in fk["referred_columns"]}


def _personal_fields(inventory_rows: list[Any], asset: AssetRecord,
                     graph: dict[str, AssetRecord] | None = None) -> list[str]:
    keys = set(asset.primary_key) | {c for fk in asset.foreign_keys for c in fk["columns"]}
    if graph is not None:
        keys |= _referred_columns(asset, graph)
    seen: dict[str, None] = {}
    for row in inventory_rows:
        if row.asset == asset.name and row.field not in keys:
            seen[row.field] = None
    return list(seen)


def plan_erasure(
    workspace: Workspace, report: LocateReport, *, policy: Policy, inventory: Inventory,
    subject: dict[str, str] | None = None, now: datetime | None = None,
) -> ErasurePlan:
    """The plan for the subject's rows in ``report`` (reads the databases only to check holds
    and retention obligations).

    ``subject`` (the request's identifiers) is matched against the subject holds of the hold
    store; ``now`` (naive UTC, default the clock) dates the retention obligations.
    """
    from govkit.policy.evaluate import DatabaseCounter

    resolver = Resolver(policy)
    plan = ErasurePlan()
    now = now or datetime.now(UTC).replace(tzinfo=None)
    assets: dict[str, dict[str, AssetRecord]] = {}
    rows_of: dict[str, list[Any]] = {}
    with DatabaseCounter(workspace) as counter:  # one connection and reflection per source
        steps = [_plan_step(workspace, hit, policy, inventory, resolver, counter, assets, rows_of, now)
                 for hit in report.data()]
    plan.steps.extend(steps)
    _keep_references(plan, report, assets, rows_of)
    for step in plan.steps:
        if step.action == "anonymize":
            step.operators = _field_operators(step, assets[step.source][step.asset], rows_of[step.source], policy)
        if step.format in REWRITABLE and step.action in ("delete", "anonymize"):
            step.span_operators = _span_operators(step, policy)
    plan.holds = _holds(workspace, report, policy, assets, inventory=inventory, subject=subject)
    return plan


def _plan_step(workspace: Workspace, hit: Any, policy: Policy, inventory: Inventory, resolver: Resolver,
               counter: DatabaseCounter, assets: dict[str, dict[str, AssetRecord]], rows_of: dict[str, list[Any]],
               now: datetime) -> TableStep:
    """One located table's or file's step: the erasure rules' action, then the retention
    obligation it meets, then (anonymize) the fields to rewrite."""
    if hit.source not in assets:
        assets[hit.source] = {a.name: a for a in inventory.assets(hit.source)}
        rows_of[hit.source] = inventory.rows(hit.source)
    asset = assets[hit.source][hit.asset]
    chosen = resolver.erasure(Where(hit.source, hit.source_name, hit.asset))
    if asset.kind == "file":
        step = _file_step(workspace, hit, chosen, policy)
    elif chosen is None:
        step = TableStep(hit.source, hit.source_name, hit.asset, "retain", hit.rows,
                         "no dsr.erasure rule and no dsr.default_erasure: left unchanged")
    elif isinstance(chosen.rule, str):
        step = TableStep(hit.source, hit.source_name, hit.asset, chosen.rule, hit.rows, _why(chosen))
    else:
        rule = chosen.rule
        step = TableStep(hit.source, hit.source_name, hit.asset, rule.action, hit.rows, _why(chosen),
                         rule.legal_basis, list(rule.cite), note=rule.note)
    if asset.kind != "file" and step.action in ("delete", "anonymize"):
        _meet_retention(counter, step, hit, asset, rows_of[hit.source], resolver, now)
    if step.action == "anonymize" and step.format in REWRITABLE:
        step.fields = [r.field for r in rows_of[hit.source] if r.asset == hit.asset] \
            if REWRITABLE[step.format] == "records" else []
    elif step.action == "anonymize":
        step.fields = _personal_fields(rows_of[hit.source], asset, assets[hit.source])
    return step


def _file_step(workspace: Workspace, hit: Any, chosen: Any, policy: Policy) -> TableStep:
    """A file's step: the plan's action where the format can be rewritten (text lines: spans
    replaced), ``manual`` with the reason where it cannot (see :mod:`~govkit.actions.dsr.rewrite`)."""
    path = file_path(source_config(workspace, hit.source, hit.source_name), hit.asset)
    fmt = file_format(path) if path is not None and path.is_file() else None
    if fmt not in REWRITABLE:
        reason = MANUAL_REASONS.get(fmt or "", "the file could not be opened for rewriting")
        return TableStep(hit.source, hit.source_name, hit.asset, "manual", hit.rows,
                         f"{reason} (line numbers are in 'govkit dsr export')", format=fmt)
    if chosen is None:
        return TableStep(hit.source, hit.source_name, hit.asset, "retain", hit.rows,
                         "no dsr.erasure rule and no dsr.default_erasure: left unchanged", format=fmt)
    rule = chosen.rule
    action = rule if isinstance(rule, str) else rule.action
    step = TableStep(hit.source, hit.source_name, hit.asset, action, hit.rows, _why(chosen), format=fmt)
    if not isinstance(rule, str):
        step.legal_basis, step.cite, step.note = rule.legal_basis, list(rule.cite), rule.note
    if REWRITABLE[fmt] == "lines" and action == "delete":
        step.action = "anonymize"
        step.note = ("text lines are kept and the subject's identifiers in them replaced: a line may "
                     "record other people's events too")
    return step


def _span_operators(step: TableStep, policy: Policy) -> dict[str, dict[str, Any]]:
    """Per identifier entity type, the operator that replaces it inside text (the policy's
    anonymization rule for that entity type, ``redact`` without one)."""
    resolver = Resolver(policy)
    chosen_by_entity: dict[str, dict[str, Any]] = {}
    for entity in SPAN_ENTITIES.values():
        where = Where(step.source, step.source_name, step.asset)
        chosen = resolver.anonymization(where, [entity], resolver.classify(where, [entity]))
        if chosen is None:
            chosen_by_entity[entity] = {"operator": DEFAULT_OPERATOR, "params": {}, "entity_type": entity,
                                        "why": "no anonymization rule, so the safe default"}
        else:
            chosen_by_entity[entity] = {"operator": chosen.rule.operator, "params": dict(chosen.rule.params),
                                        "entity_type": entity, "why": chosen.why}
    return chosen_by_entity


def _entry(chosen: FieldPlan, operator: str, params: dict[str, Any], why: str) -> dict[str, Any]:
    return {"operator": operator, "params": params, "entity_type": chosen.entity_type, "why": why}


def _field_operators(step: TableStep, asset: AssetRecord, inventory_rows: list[Any],
                     policy: Policy) -> dict[str, dict[str, Any]]:
    """Per personal field, the operator erasure applies: the policy's, as ``govkit anonymize``
    resolves it (``redact`` without a rule), or a fallback that fits the column."""
    found = build_plan(step.source, inventory_rows, policy, [], {asset.name: step.fields},
                       source_name=step.source_name).for_asset(asset.name)
    kinds = {f["name"]: f["kind"] for f in asset.fields}
    chosen_by_field: dict[str, dict[str, Any]] = {}
    for name in step.fields:
        if name not in kinds:
            continue
        chosen = found.get(name.lower()) or FieldPlan(asset.name, name, DEFAULT_OPERATOR, {}, None,
                                                      "no anonymization rule, so the safe default")
        operator, params, why = chosen.operator, dict(chosen.params), chosen.why
        if asset.kind == "file":  # every cell is text and records are rewritten one by one
            chosen_by_field[name] = _entry(chosen, operator, params, why)
            continue
        if not asset.primary_key and operator not in _CONSTANT and operator != "keep":
            operator, params = DEFAULT_OPERATOR, {}
            why = f"{chosen.spec} needs rows updated one by one and {asset.name} has no primary key ({why})"
        kind = kinds[name]
        if kind != "text" and not (operator in ("keep", "drop") or (operator == "pseudonymize" and kind == "integer")):
            operator, params = "null", {}
            why = f"{chosen.spec} does not fit a {kind} column, so it is set to NULL ({chosen.why})"
        chosen_by_field[name] = _entry(chosen, operator, params, why)
    return chosen_by_field


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
                step.fields = _personal_fields(rows_of[step.source], parent, graph)
                step.note = (f"anonymized instead of deleted: still referenced by rows that stay in "
                             f"{', '.join(sorted(set(staying + others)))}")
                changed = True


def _holds(workspace: Workspace, report: LocateReport, policy: Policy,
           assets: dict[str, dict[str, AssetRecord]], *, inventory: Inventory | None = None,
           subject: dict[str, str] | None = None) -> list[Hold]:
    """The legal holds over the subject's rows: the policy's (retention exceptions with a
    ``legal_hold``) and the hold store's (:mod:`govkit.holds`)."""
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
                if exc.where is not None:
                    table = table_clause(asset)
                    if exc.where.column not in table.c:
                        continue
                    count = _count_where(workspace, hit, table, exc.where.sql(table.c[exc.where.column]))
                if count:
                    holds.append(Hold(hit.source, hit.asset, exc.legal_hold, exc.reason, count))
    holds += _store_holds(workspace, report, policy, assets, inventory, subject)
    return holds


def _count_where(workspace: Workspace, hit: Any, table: sa.TableClause, test: Any) -> int:
    """How many of the subject's rows of ``hit`` satisfy ``test`` (one COUNT per key chunk)."""
    count = 0
    config = source_config(workspace, hit.source, hit.source_name)
    with DatabaseSource(config.resolved_url()) as source, source.engine.connect() as conn:
        for clause in selection(table, hit.key_columns, hit.keys):
            query = sa.select(sa.func.count()).select_from(table).where(clause, test)
            count += int(conn.execute(query).scalar() or 0)
    return count


def _store_holds(workspace: Workspace, report: LocateReport, policy: Policy,
                 assets: dict[str, dict[str, AssetRecord]], inventory: Inventory | None,
                 subject: dict[str, str] | None) -> list[Hold]:
    """The active holds of the hold store over the subject's rows.

    * a subject hold whose identifiers share a keyed digest with the request's holds every
      row found; one that does not (the hold names an e-mail, the request a customer id) is
      located itself (:meth:`HoldSet.resolve`) and holds the rows both searches found;
    * an asset hold holds the subject's rows of that table its predicate selects (all of
      them without a predicate, or when the table lacks the predicate's column: nothing
      unknown is read as "not held").
    """
    from govkit.holds import load_holds

    store = load_holds(workspace)
    if not store:
        return []
    data = [h for h in report.data() if h.rows]
    holds: list[Hold] = []
    matched = store.matching_subject(subject or {})
    for held in matched:
        holds += [Hold(hit.source, hit.asset, held.id, held.reason, hit.rows) for hit in data]
    others = [h for h in store.subject_holds() if h not in matched]
    if others and inventory is not None and data:
        store.resolve(policy, inventory)
        for hit in data:
            for hold_id, keys in store.held_keys(hit.source, hit.source_name, hit.asset).items():
                if hold_id in {h.id for h in matched}:
                    continue
                overlap = len(set(hit.keys) & keys)
                if overlap:
                    reason = next(h.reason for h in others if h.id == hold_id)
                    holds.append(Hold(hit.source, hit.asset, hold_id, reason, overlap))
    for hit in data:
        asset = assets[hit.source][hit.asset]
        for held in store.asset_holds(hit.source, hit.source_name, hit.asset):
            predicate = held.predicate
            count = hit.rows
            if predicate is not None and asset.kind != "file":
                table = table_clause(asset)
                column = next((c for c in table.c if c.name.lower() == predicate.column.lower()), None)
                if column is not None:
                    count = _count_where(workspace, hit, table, predicate.sql(column))
            if count:
                holds.append(Hold(hit.source, hit.asset, held.id, held.reason, count))
    return holds


# -- erasure meets retention: rows a law obliges keeping --------------------------------------------


def _asset_categories(resolver: Resolver, inventory_rows: list[Any], asset: AssetRecord) -> set[str]:
    """The policy categories of the asset's personal fields (a retention rule may select by them)."""
    found: set[str] = set()
    for row in inventory_rows:
        if row.asset != asset.name:
            continue
        klass = resolver.classify(Where(asset.source, asset.source_name, asset.name, row.field), [row.entity_type])
        if klass is not None:
            found.add(klass.category)
    return found


def _obliged_rows(counter: DatabaseCounter, hit: Any, asset: AssetRecord, rule: Any, cutoff: datetime) -> int:
    """How many of the subject's rows of ``hit`` are still inside ``rule``'s period: the
    timestamp on or after ``cutoff``, compared in the column's own terms (dates, Unix seconds,
    text) exactly as ``evaluate`` counts the rows past it. Raises :class:`GovkitError` when
    the source or the column cannot be asked."""
    source, table, _, timestamp, value, sql_type = counter.dated(asset, rule, cutoff)
    clause = sa.table(table.name, *[sa.column(c.name, sql_type) if c is timestamp else sa.column(c.name)
                                    for c in table.columns], schema=table.schema)
    missing = [c for c in hit.key_columns if c not in clause.c]
    if missing:
        raise SourceError(f"{table.qualified} has no column {missing[0]}")
    inside = clause.c[timestamp.name] >= sa.bindparam("cutoff", value, sql_type)
    count = 0
    try:
        with source.engine.connect() as conn:
            for chosen in selection(clause, hit.key_columns, hit.keys):
                query = sa.select(sa.func.count()).select_from(clause).where(chosen, inside)
                count += int(conn.execute(query).scalar_one())
    except SQLAlchemyError as exc:
        raise source.error(exc, f"cannot count the rows {table.qualified} must keep") from None
    return count


def _meet_retention(counter: DatabaseCounter, step: TableStep, hit: Any, asset: AssetRecord,
                    inventory_rows: list[Any], resolver: Resolver, now: datetime) -> None:
    """Where the asset's retention rule has a ``legal_basis`` (a law obliging to keep the rows
    for its period) and some of the subject's rows are still inside that period, the step
    follows the rule's ``on_erasure``: ``retain`` (the rows are kept, restricted to that
    obligation), ``anonymize`` (kept, personal fields anonymized) or ``delete`` (erasure
    wins). The step records the rule, its legal basis and the obliged row count. Rows that
    cannot be counted are taken as obliged: an erasure must not destroy what a law keeps."""
    chosen = resolver.retention(Where(hit.source, hit.source_name, hit.asset),
                                _asset_categories(resolver, inventory_rows, asset))
    if chosen is None or not (chosen.rule.legal_basis or "").strip() or chosen.rule.timestamp.startswith("$"):
        return
    rule = chosen.rule
    cutoff = rule.period.before(now)
    obligation: dict[str, Any] = {
        "rule": rule.label, "rule_ref": chosen.origin.short if chosen.origin is not None else None,
        "legal_basis": rule.legal_basis, "cite": list(rule.cite), "period": rule.period.human(),
        "timestamp": rule.timestamp, "cutoff": f"{cutoff:%Y-%m-%d}", "on_erasure": rule.on_erasure or "retain",
        "planned": step.action, "obliged_rows": None, "count_error": None,
    }
    try:
        obligation["obliged_rows"] = _obliged_rows(counter, hit, asset, rule, cutoff)
    except GovkitError as exc:
        obligation["count_error"] = str(exc)[:300]
    obliged = obligation["obliged_rows"]
    if obliged == 0:
        return
    step.retention = obligation
    rows = f"{obliged} of these rows" if obliged is not None else "these rows (not counted: taken as obliged)"
    because = (f'retention rule "{rule.label}" obliges keeping {rows} for {rule.period.human()} after '
               f"{rule.timestamp} (on or after {cutoff:%Y-%m-%d}): {rule.legal_basis}")
    on_erasure = obligation["on_erasure"]
    if on_erasure == "delete":
        step.note = "; ".join(filter(None, [step.note, f"{because}; the rule's on_erasure: delete, so erasure wins"]))
        return
    planned = step.action
    step.action = on_erasure
    step.why = f"{because} (on_erasure: {on_erasure}, instead of {planned}: {step.why})"
    step.legal_basis = rule.legal_basis
    step.cite = list(dict.fromkeys([*rule.cite, *step.cite]))
    step.note = ("kept and restricted to that obligation; the subject's rows past the period are kept with them "
                 "until 'retention apply' removes them" if on_erasure == "retain" else
                 "the rows stay for that obligation, their personal fields anonymized")


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


def _cut(value: Any, sql_type: str) -> Any:
    """A text result cut to the column's declared length (other values as they are)."""
    length = _LENGTH.search(sql_type or "")
    return value[: int(length.group(1))] if isinstance(value, str) and length else value


def _operators(workspace: Workspace, plan: ErasurePlan) -> dict[tuple[str, str, str], Operator | None]:
    """Every operator the plan needs, built before anything is written (keys derived now).

    ``None`` stands for "set NULL" (``drop`` and the fallback for columns no operator fits).
    """
    context: OperatorContext | None = None
    built: dict[tuple[str, str, str], Operator | None] = {}
    for step in plan.steps:
        chosen_by_name = {**step.operators} if step.action == "anonymize" else {}
        chosen_by_name.update({SPAN_PREFIX + e: c for e, c in step.span_operators.items()})
        for name, chosen in chosen_by_name.items():
            if chosen["operator"] == "keep":
                continue  # an explicit policy decision: the column is not touched
            if chosen["operator"] in ("null", "drop"):
                built[(step.source, step.asset, name)] = None
                continue
            if context is None:
                context = operator_context(workspace)
            built[(step.source, step.asset, name)] = build(chosen["operator"], chosen["params"], context)
    return built


def _anonymize_rows(conn: sa.Connection, table: sa.TableClause, clause: Any, step: TableStep,
                    asset: AssetRecord, built: dict[tuple[str, str, str], Operator | None]) -> int:
    """Rewrite the personal fields of the rows ``clause`` selects; returns the rows changed."""
    types = {f["name"]: f["sql_type"] for f in asset.fields}
    plans = {name: chosen for name, chosen in step.operators.items()
             if name in types and name in table.c and chosen["operator"] != "keep"}
    if not plans:
        return 0
    constant = all(chosen["operator"] in (*_CONSTANT, "null") for chosen in plans.values())
    if constant or not asset.primary_key:  # one UPDATE for all the rows: values do not depend on them
        values: dict[str, Any] = {}
        for name, chosen in plans.items():
            operator = built[(step.source, step.asset, name)]
            values[name] = None if operator is None else _cut(operator.apply("", chosen["entity_type"]), types[name])
        return int(conn.execute(sa.update(table).where(clause).values(values)).rowcount or 0)
    names = list(plans)
    pk = list(asset.primary_key)
    rows = conn.execute(sa.select(*[table.c[k] for k in pk], *[table.c[n] for n in names]).where(clause)).all()
    if not rows:
        return 0
    new: dict[str, list[Any]] = {}
    for i, name in enumerate(names):
        operator = built[(step.source, step.asset, name)]
        column = [row[len(pk) + i] for row in rows]
        try:
            out = [None] * len(column) if operator is None else operator.apply_many(column, plans[name]["entity_type"])
        except Exception as exc:  # never let a value reach the message
            raise ErasureFailed(f"operator {plans[name]['operator']} failed on {step.asset}.{name} "
                                f"({type(exc).__name__}); erasure was rolled back") from None
        new[name] = [_cut(v, types[name]) for v in out]
    update = sa.update(table).where(*[table.c[k] == sa.bindparam(f"pk_{j}") for j, k in enumerate(pk)]).values(
        {name: sa.bindparam(f"v_{i}") for i, name in enumerate(names)})
    params = [{**{f"pk_{j}": row[j] for j in range(len(pk))},
               **{f"v_{i}": new[name][r] for i, name in enumerate(names)}} for r, row in enumerate(rows)]
    conn.execute(update, params)
    return len(rows)


def _file_jobs(workspace: Workspace, plan: ErasurePlan,
               built: dict[tuple[str, str, str], Operator | None]) -> list[FileJob]:
    """The rewrite of every file step the plan deletes from or anonymizes."""
    jobs: list[FileJob] = []
    for step in plan.steps:
        if step.format not in REWRITABLE or step.action not in ("delete", "anonymize"):
            continue
        job = FileJob(file_path(source_config(workspace, step.source, step.source_name), step.asset), step.action)
        job.span_operators = {e: built.get((step.source, step.asset, SPAN_PREFIX + e)) for e in step.span_operators}
        if step.action == "anonymize":
            for name, chosen in step.operators.items():
                if chosen["operator"] != "keep":
                    job.operators[name] = built.get((step.source, step.asset, name))
                    job.entities[name] = chosen["entity_type"]
        jobs.append(job)
    return jobs


def _run_steps(conn: sa.Connection, steps: list[TableStep], graph: dict[str, AssetRecord],
               keys: dict[tuple[str, str], Any], built: dict[tuple[str, str, str], Operator | None]) -> dict[str, Any]:
    """The statements of one database, in foreign-key-safe order, inside its open transaction;
    returns the rows changed per table (journaled with the unit)."""
    done: dict[str, int] = {}
    for step in safe_order(steps, graph):
        if step.action not in ("delete", "anonymize"):
            continue
        asset = graph[step.asset]
        table = table_clause(asset)
        hit = keys[(step.source, step.asset)]
        count = 0
        for clause in selection(table, hit.key_columns, hit.keys):
            if step.action == "delete":
                count += int(conn.execute(sa.delete(table).where(clause)).rowcount or 0)
            else:
                count += _anonymize_rows(conn, table, clause, step, asset, built)
        done[step.asset] = count
    return {"rows": sum(done.values()), "steps": done}


def apply_plan(
    workspace: Workspace, plan: ErasurePlan, report: LocateReport, *, inventory: Inventory, run: ChangeRun,
    subject: dict[str, str] | None = None, region: str | None = None,
) -> list[dict[str, Any]]:
    """Carry out the plan through the change engine: one unit per database (one transaction, its
    statements in foreign-key-safe order), then one unit per file (one atomic swap).

    Every operator is built first (keys derived), so a missing key fails before any change.
    A unit that fails rolls back alone; the units before it stay committed and the run stays
    unfinished, so ``govkit runs resume`` completes it (a unit that committed before a crash
    is recognised by its digest and never applied twice). Returns per source what was
    committed (files: per file, records changed).
    """
    if plan.holds:
        raise hold_refusal(plan)
    built = _operators(workspace, plan)
    keys = {(h.source, h.asset): h for h in report.data()}
    committed: list[dict[str, Any]] = []
    for source_display in dict.fromkeys(s.source for s in plan.steps):
        steps = [s for s in plan.steps if s.source == source_display]
        config = source_config(workspace, source_display, steps[0].source_name)
        if config.kind != "database":
            continue
        graph = {a.name: a for a in inventory.assets(source_display)}

        def read(conn: sa.Connection, steps: list[TableStep] = steps,
                 graph: dict[str, AssetRecord] = graph) -> list[tuple[Any, ...]]:
            return _snapshot(conn, steps, graph, keys)

        def change(conn: sa.Connection, steps: list[TableStep] = steps,
                   graph: dict[str, AssetRecord] = graph) -> dict[str, Any]:
            return _run_steps(conn, steps, graph, keys, built)

        with DatabaseSource(config.resolved_url()) as source:
            try:
                data = run.db_unit(source.engine.connect, f"db:{source_display}", read, change)
            except SQLAlchemyError as exc:
                raise source.error(exc, f"erasure failed in this source and was rolled back; 'govkit runs resume "
                                        f"{run.id}' retries it") from None
        for step in steps:
            step.done = int((data.get("steps") or {}).get(step.asset, 0)) if step.action != "manual" else None
        committed.append({"source": source_display, "committed": True, "rows": int(data.get("rows", 0))})
    jobs = _file_jobs(workspace, plan, built)
    matcher = LineMatcher(subject or {}, region)
    changed: dict[Path, int] = {}
    for job in jobs:

        def write(fd: int, job: FileJob = job) -> dict[str, Any]:
            return {"records": write_into(job, matcher, fd)}

        data = run.file_unit(f"file:{job.path}", job.path, write)
        changed[job.path] = int(data.get("records", 0))
    _files_done(plan, workspace, changed, committed)
    return committed


def hold_refusal(plan: ErasurePlan) -> ErasureRefused:
    """The error that refuses a plan whose rows are under a legal hold (nothing is changed)."""
    first = plan.holds[0]
    return ErasureRefused(f"the subject is under legal hold {first.hold} ({first.reason or 'no reason given'}; "
                          f"{first.rows} row(s) in {first.asset}); nothing was erased")


def erasure_files(workspace: Workspace, plan: ErasurePlan) -> list[Path]:
    """The files the plan rewrites (so a run can find its temporary files after a crash)."""
    return [file_path(source_config(workspace, s.source, s.source_name), s.asset) for s in plan.steps
            if s.format in REWRITABLE and s.action in ("delete", "anonymize")]


def _snapshot(conn: sa.Connection, steps: list[TableStep], graph: dict[str, AssetRecord],
              keys: dict[tuple[str, str], Any]) -> list[Any]:
    """What the unit's digests are taken over: per table it deletes from, the keys of the
    subject's rows still there; per table it anonymizes, those keys and the fields the plan
    rewrites. Only what the stored plan names is read (a scan between a crash and its resume
    must not change the digest), and rows are sorted here, not by the database (ties)."""
    out: list[Any] = []
    for step in safe_order(steps, graph):
        if step.action not in ("delete", "anonymize"):
            continue
        table = table_clause(graph[step.asset])
        hit = keys[(step.source, step.asset)]
        wanted = [*hit.key_columns, *(sorted(step.operators) if step.action == "anonymize" else [])]
        columns = [table.c[c] for c in dict.fromkeys(wanted) if c in table.c]
        rows: list[tuple[Any, ...]] = []
        for clause in selection(table, hit.key_columns, hit.keys):
            rows.extend(tuple(r) for r in conn.execute(sa.select(*columns).where(clause)))
        out.append(("table", step.asset, step.action, len(rows)))
        out.extend(sorted(rows, key=repr))
    return out


def _files_done(plan: ErasurePlan, workspace: Workspace, changed: dict[Path, int],
                committed: list[dict[str, Any]]) -> None:
    """Record the rewritten files' counts on their steps and in ``committed``, per source."""
    per_source: dict[str, list[dict[str, Any]]] = {}
    for step in plan.steps:
        if step.format not in REWRITABLE:
            continue
        if step.action == "retain":
            step.done = 0
            continue
        records = changed.get(file_path(source_config(workspace, step.source, step.source_name), step.asset), 0)
        step.done = records
        per_source.setdefault(step.source, []).append({"file": step.asset, "action": step.action,
                                                       "records": records})
    for source, files in per_source.items():
        committed.append({"source": source, "committed": True, "rows": sum(f["records"] for f in files),
                          "files": files})


def verification(plan: ErasurePlan, after: LocateReport) -> dict[str, Any]:
    """Compare a fresh locate with the plan: only retained tables may still hold the subject's rows.

    ``status`` is ``failed`` when identifying rows remain outside the retained tables,
    ``incomplete`` when none remain where the search could look but something could not be
    searched (``not_checked``: each source, table or file, and why), else ``passed``. ``passed``
    is true only for ``passed``: a verification that could not look everywhere proves nothing
    about where it did not look.
    """
    retained = {(s.source, s.asset) for s in plan.steps if s.action == "retain"}
    remaining = [h.to_dict() for h in after.data() if h.rows]
    unexpected = [h for h in remaining if (h["source"], h["asset"]) not in retained]
    manual = [h for h in unexpected if any(s.action == "manual" and (s.source, s.asset) == (h["source"], h["asset"])
                                           for s in plan.steps)]
    not_checked = [n.to_dict() for n in after.not_searched]
    status = "failed" if unexpected else "incomplete" if not_checked else "passed"
    return {
        "status": status,
        "passed": status == "passed",
        "manual_remaining": manual,
        "identifying_rows_remaining": sum(h["rows"] for h in unexpected),
        "remaining_in_retained_tables": [h for h in remaining if (h["source"], h["asset"]) in retained],
        "unexpected": unexpected,
        "not_checked": not_checked,
    }
