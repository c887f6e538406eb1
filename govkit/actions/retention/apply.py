"""``govkit retention apply``: delete, anonymize or archive what is kept past its time.

The plan (a dry run unless ``--apply``) starts from :func:`~govkit.actions.retention.plan.plan_retention`
(the rule per asset, the rows past the period by ``COUNT``) and adds what a change needs, read
from the live schema rather than the inventory (a table added since the scan still has foreign
keys):

* **Children.** A table whose rows reference an expiring row decides the order. A child with a
  retention rule of its own runs first; its rows that survive keep their parent row (the parent
  is *blocked*, counted, and goes in a later run). A child without a rule goes with its parent
  when the parent's rule says ``cascade`` (and so do its own children, which must be cascaded
  too); otherwise, if any of its rows reference an expiring row, the run is refused and the
  message names the child, the count and the two fixes. Nothing is orphaned and no delete
  relies on the database's own ``ON DELETE`` (SQLite does not enforce foreign keys by default).
* **Holds.** Rows under a legal hold (``govkit hold``, resolved once at plan time, their keys
  sealed in the stored plan) and rows a rule's exceptions keep are never touched.
* **Units.** One change-engine unit per key range of ``batch_size`` expiring rows of a table,
  one transaction each (children, then the rows, and for ``archive`` the sealed segment written
  and read back before the delete). A run killed anywhere resumes with ``govkit runs resume``
  and ends as an uninterrupted run would: no row deleted or anonymized twice, no row deleted
  unarchived.
* **Anonymize** runs the in-place machinery (:mod:`govkit.actions.anonymize.inplace`) over the
  expiring rows only, with the policy's operators; key, reference and timestamp columns are
  left alone. A watermark (:mod:`.state`) keeps the next run off rows already anonymized.
* **No orphans, proved per unit.** The statement that deletes a unit's rows also requires that
  no row of any child table references them (``NOT EXISTS``, or ``NOT IN`` over the child's
  keys where the child has no index on its reference), and the unit rolls back unless it
  deleted exactly the rows it read. So a child row a concurrent writer adds after the unit read
  its keys keeps its parent and stops the run; nothing is orphaned, in one statement and one
  transaction, without a second pass over the child tables.
* **Verification** counts again: no row past the cutoff left outside holds, exceptions and
  blocked rows; every archive segment read back against its digest. What could not be checked
  makes the run ``incomplete``, never "passed".

The cutoff is fixed in the plan (``--as-of`` or the time of planning), so a resume a day later
does not widen the run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from govkit.actions.retention import state as retention_state
from govkit.actions.retention.archive import Archive, TableRows, new_archive_id, segment_name
from govkit.actions.retention.plan import RetentionPlan, plan_retention
from govkit.change import failpoints
from govkit.change.run import ChangeRun, UnitConflict, decode_value, encode_value
from govkit.errors import GovkitError, UsageError
from govkit.inventory.store import Inventory
from govkit.policy.evaluate import _cutoff_value
from govkit.policy.loader import Policy
from govkit.policy.predicates import Predicate
from govkit.policy.resolve import Resolver

KIND = "retention.apply"
#: Keys bound per statement (SQLite's old limit is 999 variables).
_CHUNK = 900
#: A ``delete`` unit takes this many times ``--batch-size`` rows: it reads only their keys, so
#: memory stays bounded, and fewer commits (each an fsync) keep it near a hand-written DELETE.
DELETE_KEYS_PER_ROW = 10


class RetentionRefused(UsageError):
    """The plan cannot be applied safely as the policy stands (a child without rule or cascade)."""


@dataclass(slots=True)
class Child:
    """A table referencing the step's table: ``cascade`` (goes with it) or ``blocks`` (keeps it)."""

    table: str
    columns: list[str]
    referred: list[str]
    mode: str
    rows: int | None = None
    children: list[Child] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "columns": self.columns, "referred": self.referred, "mode": self.mode,
                "rows": self.rows, "children": [c.to_dict() for c in self.children]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Child:
        return cls(data["table"], list(data["columns"]), list(data["referred"]), data["mode"], data.get("rows"),
                   [cls.from_dict(c) for c in data.get("children", [])])


@dataclass(slots=True)
class ApplyStep:
    """One asset under one rule, as the run will change it."""

    source: str
    source_name: str | None
    asset: str
    rule: str
    rule_ref: str | None
    action: str
    timestamp: str
    cutoff: str  # ISO datetime: the instant rows must be older than
    status: str  # apply | nothing | held | refused | skipped
    since: str | None = None  # anonymize: the watermark of the previous run
    rows: int = 0  # expiring rows counted by the plan (holds and blocked rows not yet taken out)
    held_rows: int = 0
    blocked_rows: int = 0
    exceptions: list[str] = field(default_factory=list)
    holds: list[str] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    fields: list[dict[str, Any]] = field(default_factory=list)
    detail: str = ""
    # sealed in the stored plan only (never printed): the held rows' keys
    held_keys: list[Any] = field(default_factory=list)
    done: int = 0
    done_children: dict[str, int] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("held_keys")
        data["children"] = [c.to_dict() for c in self.children]
        return data

    def stored(self) -> dict[str, Any]:
        data = self.public()
        data["held_keys"] = [encode_value(k) for k in self.held_keys]
        return data

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> ApplyStep:
        values = dict(data)
        values["children"] = [Child.from_dict(c) for c in data.get("children", [])]
        values["held_keys"] = [tuple(decode_value(k)) for k in data.get("held_keys", [])]
        return cls(**values)


@dataclass(slots=True)
class ApplyPlan:
    as_of: str
    steps: list[ApplyStep] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    unresolved_holds: list[str] = field(default_factory=list)
    files: list[Any] = field(default_factory=list)  # file steps (see .files)

    def sources(self) -> list[tuple[str, str | None]]:
        return list(dict.fromkeys((s.source, s.source_name) for s in self.steps if s.status == "apply"))

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "steps": [s.public() for s in self.steps], "refusals": self.refusals,
                "unresolved_holds": self.unresolved_holds, "files": [f.to_dict() for f in self.files],
                "totals": {"rows": sum(s.rows - s.held_rows for s in self.steps if s.status == "apply"),
                           "steps": sum(1 for s in self.steps if s.status == "apply"),
                           "files": sum(1 for f in self.files if f.status == "apply")}}


@dataclass(slots=True)
class ApplyResult:
    run_id: str
    source: str
    status: str  # finished | failed | incomplete
    steps: list[ApplyStep]
    problems: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    archive: str | None = None
    file_steps: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "source": self.source, "status": self.status,
                "files": [f.to_dict() for f in self.file_steps],
                "verification": "failed" if self.problems else "incomplete" if self.unchecked else "passed",
                "problems": self.problems, "unchecked": self.unchecked, "archive": self.archive,
                "steps": [{"asset": s.asset, "rule": s.rule, "action": s.action, "rows": s.done,
                           "children": s.done_children} for s in self.steps]}


# -- planning --------------------------------------------------------------------------------------


def plan_apply(workspace: Any, policy: Policy, inventory: Inventory, *, as_of: datetime | None = None,
               source: str | None = None) -> ApplyPlan:
    """What ``retention apply --apply`` would change; reads the sources, changes nothing."""
    from govkit.actions.retention.files import plan_files
    from govkit.holds import load_holds

    counted: RetentionPlan = plan_retention(workspace, policy, inventory, as_of=as_of, source=source,
                                            children=False)
    plan = ApplyPlan(counted.as_of)
    now = (as_of or datetime.now(UTC)).replace(tzinfo=None)
    holds = load_holds(workspace, on=now.date())
    holds.resolve(policy, inventory)
    plan.unresolved_holds = list(holds.unresolved)
    resolver = Resolver(policy)
    assets = {(a.source, a.name): a for a in inventory.assets()}
    by_source: dict[tuple[str, str | None], list[Any]] = {}
    for step in counted.steps:
        record = assets.get((step.source, step.asset))
        if record is not None and record.kind == "file":
            continue
        by_source.setdefault((step.source, step.source_name), []).append(step)
    for (display, name), steps in by_source.items():
        _plan_source(workspace, policy, inventory, resolver, holds, plan, display, name, steps, assets, now)
    plan.files = plan_files(workspace, policy, inventory, counted, holds, now=now, source=source)
    return plan


def _plan_source(workspace: Any, policy: Policy, inventory: Inventory, resolver: Resolver, holds: Any,
                 plan: ApplyPlan, display: str, name: str | None, counted: list[Any],
                 assets: dict[tuple[str, str], Any], now: datetime) -> None:
    from govkit.actions.dsr.locate import source_config
    from govkit.sources.database import DatabaseSource

    ruled = {s.asset.lower() for s in counted}
    try:
        url = source_config(workspace, display, name).resolved_url()
    except GovkitError:
        url = display

    try:
        source = DatabaseSource(url)
    except GovkitError as exc:
        for c in counted:
            plan.steps.append(ApplyStep(display, name, c.asset, c.rule, c.rule_ref, c.action, c.timestamp,
                                        "", "skipped", detail=f"cannot open the source: {exc}"))
        return
    with source:
        tables = {t.qualified.lower(): t for t in source.tables() if t.kind == "table"}
        short = {t.name.lower(): t for t in tables.values()}
        steps: list[ApplyStep] = []
        for c in counted:
            table = tables.get(c.asset.lower()) or short.get(c.asset.lower())
            rule = next((r for r in policy.doc.retention.rules if r.label == c.rule), None)
            step = ApplyStep(display, name, c.asset, c.rule, c.rule_ref, c.action, c.timestamp,
                             c.cutoff.replace(" ", "T"), "nothing", holds=list(c.holds))
            steps.append(step)
            if c.status == "held":
                step.status, step.detail = "held", c.detail
                continue
            if c.status in ("not-counted", "bad-rule") or table is None or rule is None:
                step.status = "skipped"
                step.detail = c.detail or f"{c.asset} is not a table of {display} any more"
                continue
            step.exceptions = [str(e.where) for e in rule.exceptions if e.where is not None]
            step.holds += holds.names(display, name, c.asset)
            if holds.held_clause(display, name, assets.get((display, c.asset)) or _as_asset(table),
                                 _clause(table)) is not None and _whole_asset_held(holds, display, name, table,
                                                                                   assets.get((display, c.asset))):
                step.status, step.detail = "held", "the whole table is under a legal hold"
                continue
            if not table.primary_key:
                step.status = "skipped"
                step.detail = f"{table.qualified} has no primary key: rows cannot be removed in resumable units"
                continue
            if step.action == "anonymize":
                step.since = retention_state.watermark(workspace.state_dir, display, c.asset, c.rule)
                step.fields = _anonymize_fields(workspace, policy, inventory, display, name, table, rule.timestamp)
                if not step.fields:
                    step.status, step.detail = "skipped", "no personal field to anonymize outside keys and timestamp"
                    continue
                clash = _unique_clash(workspace, source, table, step.fields)
                if clash:
                    step.status, step.detail = "skipped", clash
                    continue
            with source.engine.connect() as conn:
                expiring = _expiring(table, step)
                step.rows = int(c.past_rows or 0)  # the same condition, counted by the plan
                held = holds.held_clause(display, name, assets.get((display, c.asset)) or _as_asset(table),
                                         expiring[0])
                if held is not None and step.rows:
                    keys = [expiring[0].c[k] for k in table.primary_key]
                    step.held_keys = [tuple(r) for r in conn.execute(sa.select(*keys).where(expiring[1], held))]
                    step.held_rows = len(step.held_keys)
                if step.action in ("delete", "archive"):
                    step.children = _children(conn, tables, table, rule, ruled, step, plan)
                    step.blocked_rows = _blocked(conn, tables, table, step)
            if step.rows - step.held_rows - step.blocked_rows > 0:
                step.status = "apply"
            elif step.rows and step.rows == step.held_rows:
                step.status, step.detail = "held", "every expiring row is under a legal hold"
        plan.steps.extend(_ordered(steps, tables))


def _as_asset(table: Any) -> Any:
    """A stand-in for an inventory asset record (a table the inventory does not know)."""
    from types import SimpleNamespace

    return SimpleNamespace(name=table.qualified, kind="table", primary_key=list(table.primary_key),
                           foreign_keys=[{"columns": fk.columns, "referred_table": fk.referred_table,
                                          "referred_columns": fk.referred_columns} for fk in table.foreign_keys],
                           fields=[{"name": c.name} for c in table.columns])


def _whole_asset_held(holds: Any, display: str, name: str | None, table: Any, record: Any) -> bool:
    clause = _clause(table)
    held = holds.held_clause(display, name, record or _as_asset(table), clause)
    return held is not None and isinstance(held, sa.sql.elements.True_)


def _anonymize_fields(workspace: Any, policy: Policy, inventory: Inventory, display: str, name: str | None,
                      table: Any, timestamp: str) -> list[dict[str, Any]]:
    """The policy's operators for the table's personal fields, keys and the timestamp left alone."""
    from govkit.actions.anonymize.plan import build_plan

    rows = [r for r in inventory.rows(name or display) if r.asset.lower() in (table.qualified.lower(),
                                                                                table.name.lower())]
    built = build_plan(display, rows, policy, [], {table.qualified: [c.name for c in table.columns]},
                       source_name=name)
    keys = {k.lower() for k in table.primary_key} | {c.lower() for fk in table.foreign_keys for c in fk.columns}
    return [p.to_dict() for p in built.for_asset(table.qualified).values()
            if p.operator != "keep" and p.field.lower() not in keys and p.field.lower() != timestamp.lower()]


def _unique_clash(workspace: Any, source: Any, table: Any, fields: list[dict[str, Any]]) -> str:
    """Why rewriting ``fields`` in place could break a UNIQUE index or constraint ("" if it cannot).

    An operator that may give two rows one value (a mask, a generalization, a fake) on a unique
    column would fail its unit halfway through the run; the plan says so first. Keyed
    pseudonyms of e-mails and names are 64-bit tokens: a collision is possible but so rare
    (about n²/2⁶⁵) that they are accepted; if one happens, the unit is rolled back and the run
    stops, never a silent merge.
    """
    from govkit.actions.anonymize.operators import build
    from govkit.actions.anonymize.plan import FieldPlan, not_injective
    from govkit.actions.anonymize.run import operator_context

    try:
        inspector = sa.inspect(source.engine)
        unique = [(i["name"], list(i["column_names"])) for i in inspector.get_indexes(table.name, table.schema)
                  if i.get("unique")]
        unique += [(u["name"], list(u["column_names"])) for u in
                   inspector.get_unique_constraints(table.name, table.schema)]
    except (SQLAlchemyError, NotImplementedError):
        return ""
    kinds = {c.name.lower(): c.kind for c in table.columns}
    context = operator_context(workspace)
    for entry in fields:
        chosen = FieldPlan(**entry)
        for index, columns in unique:
            if chosen.field.lower() not in {c.lower() for c in columns if c}:
                continue
            reason = not_injective(chosen, build(chosen.operator, chosen.params, context),
                                   kinds.get(chosen.field.lower()))
            if reason is not None and chosen.operator != "pseudonymize":
                return (f"{table.qualified}.{chosen.field} is unique ({index or 'constraint'}) and {chosen.spec} can "
                        f"give two rows one value ({reason}): give it pseudonymize, deterministic encrypt or a "
                        "full hash in the policy's anonymization rules")
    return ""


def _clause(table: Any) -> sa.TableClause:
    return sa.table(table.name, *[sa.column(c.name) for c in table.columns], schema=table.schema)


def _expiring(table: Any, step: ApplyStep, clause: Any = None) -> tuple[Any, sa.ColumnElement[bool]]:
    """The table clause (``clause``, or a new one) and the condition of its expiring rows
    (exceptions out; holds are set apart by key)."""
    clause = _clause(table) if clause is None else clause
    columns = {c.name.lower(): c for c in table.columns}
    ts_info = columns[step.timestamp.lower()]
    cutoff = datetime.fromisoformat(step.cutoff)
    value, sql_type = _cutoff_value(ts_info.kind, cutoff, ts_info.name)
    ts = clause.c[ts_info.name]
    condition: sa.ColumnElement[bool] = ts < sa.bindparam(None, value, sql_type)
    if step.since:
        since, _ = _cutoff_value(ts_info.kind, datetime.fromisoformat(step.since), ts_info.name)
        condition = sa.and_(condition, ts >= sa.bindparam(None, since, sql_type))
    exempt = []
    for text in step.exceptions:
        predicate = Predicate.parse(text)
        column = columns.get(predicate.column.lower())
        if column is None:
            raise UsageError(f"{table.qualified} has no column {predicate.column} (a retention exception)")
        exempt.append(predicate.sql(clause.c[column.name]))
    if exempt:
        condition = sa.and_(condition, sa.not_(sa.or_(*exempt)))
    return clause, condition


def _key_expr(clause: Any, columns: Sequence[str]) -> Any:
    return clause.c[columns[0]] if len(columns) == 1 else sa.tuple_(*[clause.c[c] for c in columns])


def _references(child: Any, parent: Any) -> list[Any]:
    return [fk for fk in child.foreign_keys
            if fk.referred_table.lower() in (parent.name.lower(), parent.qualified.lower())]


def _children(conn: sa.Connection, tables: dict[str, Any], table: Any, rule: Any, ruled: set[str],
              step: ApplyStep, plan: ApplyPlan) -> list[Child]:
    """The tables referencing ``table``: who blocks, who cascades, and refusals (into ``plan``)."""
    out: list[Child] = []
    parent_clause, condition = _expiring(table, step)
    for other in tables.values():
        for fk in _references(other, table):
            if other is table:
                out.append(Child(other.qualified, list(fk.columns), list(fk.referred_columns), "blocks"))
                continue
            keys = sa.select(*[parent_clause.c[c] for c in fk.referred_columns]).where(condition)
            rows = _count_refs(conn, other, fk.columns, keys)
            own = other.qualified.lower() in ruled or other.name.lower() in ruled
            if own or (rows == 0 and not rule.cascades_to(other.name)):
                out.append(Child(other.qualified, list(fk.columns), list(fk.referred_columns), "blocks", rows))
                continue
            if not rule.cascades_to(other.name) and not rule.cascades_to(other.qualified):
                plan.refusals.append(
                    f"{other.qualified} has {rows} row(s) referencing expiring rows of {table.qualified} "
                    f"({', '.join(fk.columns)}) and no retention rule of its own: add 'cascade: [{other.name}]' "
                    f'to rule "{rule.label}" to remove them with their parent, or give {other.name} a rule')
                continue
            child = Child(other.qualified, list(fk.columns), list(fk.referred_columns), "cascade", rows)
            child.children = _grandchildren(conn, tables, other, rule, keys, fk, plan, seen={table.qualified})
            out.append(child)
    return out


def _grandchildren(conn: sa.Connection, tables: dict[str, Any], child: Any, rule: Any, parent_keys: Any,
                   fk: Any, plan: ApplyPlan, seen: set[str]) -> list[Child]:
    """A cascaded child's own children: cascaded too, or the run is refused."""
    out: list[Child] = []
    clause = _clause(child)
    for other in tables.values():
        for sub in _references(other, child):
            if other.qualified in seen or other is child:
                plan.refusals.append(f"{other.qualified} references {child.qualified} in a cycle; retention "
                                     "cannot order the deletes: delete these rows by hand")
                continue
            referred = sa.select(*[clause.c[c] for c in sub.referred_columns]).where(
                _key_expr(clause, fk.columns).in_(parent_keys))
            rows = _count_refs(conn, other, sub.columns, referred)
            if not rows:
                continue
            if not rule.cascades_to(other.name):
                plan.refusals.append(
                    f"{other.qualified} has {rows} row(s) referencing rows of {child.qualified} that "
                    f'rule "{rule.label}" cascades to: add {other.name} to its cascade list too')
                continue
            node = Child(other.qualified, list(sub.columns), list(sub.referred_columns), "cascade", rows)
            node.children = _grandchildren(conn, tables, other, rule, referred, sub, plan,
                                           seen | {child.qualified})
            out.append(node)
    return out


def _count_refs(conn: sa.Connection, table: Any, columns: Sequence[str], keys: Any) -> int:
    clause = _clause(table)
    query = sa.select(sa.func.count()).select_from(clause).where(_key_expr(clause, columns).in_(keys))
    return int(conn.execute(query).scalar_one())


def _unreferenced(tables: dict[str, Any], parent: Any, clause: Any, child: Child, dialect: str
                  ) -> sa.ColumnElement[bool]:
    """The rows of ``parent`` (as ``clause``) that no row of ``child`` references.

    A correlated ``NOT EXISTS`` where the child's reference is indexed (one probe per row) or
    on PostgreSQL (its planner makes an anti-join of it); otherwise ``NOT IN`` over the child's
    non-NULL references, which SQLite and MariaDB materialize once per statement: a correlated
    probe of an unindexed child is a scan of the child per parent row.
    """
    name = child.table.rsplit(".", 1)[-1]
    schema = child.table.rsplit(".", 1)[0] if "." in child.table else None
    ref = sa.table(name, *[sa.column(c) for c in child.columns], schema=schema).alias("b")
    info = tables.get(child.table.lower())
    wanted = [c.lower() for c in child.columns]
    indexed = info is not None and any([c.lower() for c in cols[:len(wanted)]] == wanted
                                       for cols in [*info.indexes, list(info.primary_key)])
    if dialect == "postgresql" or indexed:
        match = sa.and_(*[ref.c[col] == clause.c[r] for col, r in zip(child.columns, child.referred, strict=True)])
        return ~sa.exists().where(match)  # also a self reference: another row of the table points here
    inner = sa.select(*[ref.c[c] for c in child.columns]).where(*[ref.c[c].is_not(None) for c in child.columns])
    keys = [clause.c[r] for r in child.referred]
    free = _key_expr(clause, child.referred).not_in(inner)
    nullable = [k for k, r in zip(keys, child.referred, strict=True)
                if r.lower() not in {p.lower() for p in parent.primary_key}]
    return sa.or_(*[k.is_(None) for k in nullable], free) if nullable else free  # a NULL is referenced by none


def _not_blocked(tables: dict[str, Any], table: Any, clause: Any, step: ApplyStep, dialect: str
                 ) -> list[sa.ColumnElement[bool]]:
    """Conditions keeping rows that surviving child rows (or other rows of the table) reference."""
    return [_unreferenced(tables, table, clause, c, dialect) for c in step.children if c.mode == "blocks"]


def _blocked(conn: sa.Connection, tables: dict[str, Any], table: Any, step: ApplyStep) -> int:
    clause, condition = _expiring(table, step)
    blocked = _not_blocked(tables, table, clause, step, conn.dialect.name)
    if not blocked:
        return 0
    query = sa.select(sa.func.count()).select_from(clause).where(condition, sa.not_(sa.and_(*blocked)))
    return int(conn.execute(query).scalar_one())


def _ordered(steps: list[ApplyStep], tables: dict[str, Any]) -> list[ApplyStep]:
    """Children's steps before their parents' (a child with its own rule runs first)."""
    def table_of(step: ApplyStep) -> Any:
        return tables.get(step.asset.lower()) or next(
            (t for t in tables.values() if t.name.lower() == step.asset.lower()), None)

    remaining = list(steps)
    ordered: list[ApplyStep] = []
    while remaining:
        for step in remaining:
            parent = table_of(step)
            if parent is None or not any(o is not step and (child := table_of(o)) is not None
                                         and child is not parent and _references(child, parent)
                                         for o in remaining):
                break
        else:
            step = remaining[0]  # a cycle: the given order
        remaining.remove(step)
        ordered.append(step)
    return ordered


# -- running -----------------------------------------------------------------------------------------


def apply_plan(workspace: Any, plan: ApplyPlan, *, batch_size: int = 5000) -> list[ApplyResult]:
    """Run the plan: one change-engine run per database source (and per file source)."""
    from govkit.actions.retention.files import apply_files

    if plan.refusals:
        raise RetentionRefused(f"retention apply refused: {plan.refusals[0]}"
                               + (f" (and {len(plan.refusals) - 1} more)" if len(plan.refusals) > 1 else ""))
    if plan.unresolved_holds:
        raise RetentionRefused("retention apply refused: legal holds could not be resolved everywhere "
                               f"({plan.unresolved_holds[0]}); held rows might be touched")
    results = []
    for display, name in plan.sources():
        steps = [s for s in plan.steps if s.source == display and s.status == "apply"]
        stored = {"as_of": plan.as_of, "source": display, "source_name": name, "batch_size": batch_size,
                  "steps": [s.stored() for s in steps]}
        params = {"source": display, "as_of": plan.as_of,
                  "steps": [f"{s.asset}: {s.action} before {s.cutoff} ({s.rule})" for s in steps]}
        with ChangeRun.begin(workspace.state_dir, KIND, display, params, stored, sources=[display]) as run:
            results.append(execute(run, workspace, stored))
    results.extend(apply_files(workspace, plan))
    return results


def _connect_source(workspace: Any, display: str, name: str | None) -> Any:
    from govkit.actions.dsr.locate import source_config
    from govkit.sources.database import DatabaseSource

    return DatabaseSource(source_config(workspace, display, name).resolved_url())


def execute(run: ChangeRun, workspace: Any, stored: dict[str, Any]) -> ApplyResult:
    """Units, verification, audit, watermark (a first run or a resume)."""
    steps = [ApplyStep.from_stored(s) for s in stored["steps"]]
    batch = int(stored.get("batch_size") or 5000)
    result = ApplyResult(run.id, stored["source"], "finished", steps)
    needs_archive = any(s.action == "archive" for s in steps)
    archive = Archive(workspace.state_dir, new_archive_id(run.id)) if needs_archive else None
    if archive is not None:
        archive.create()
        result.archive = archive.id
    with run.failures_audited("retention.apply"), \
            _connect_source(workspace, stored["source"], stored.get("source_name")) as source:
        tables = {t.qualified.lower(): t for t in source.tables() if t.kind == "table"}
        segments: list[dict[str, Any]] = []
        for index, step in enumerate(steps):
            table = tables[step.asset.lower()] if step.asset.lower() in tables else next(
                t for t in tables.values() if t.name.lower() == step.asset.lower())
            if step.action == "anonymize":
                _anonymize(run, workspace, source, table, step, index, batch, result)
            else:
                _remove(run, source, tables, table, step, index, batch, archive, segments)
        done = run.phase_data("verified")
        if done is None:
            failpoints.reach("verify.started")
            problems, unchecked = _verify(source, tables, steps, archive)
            run.phase("verified", {"problems": problems, "unchecked": unchecked})
            failpoints.reach("run.verified")
        else:
            problems, unchecked = list(done["problems"]), list(done["unchecked"])
        result.problems += problems
        result.unchecked += unchecked
        if archive is not None and not (archive.dir / "manifest.json").exists():
            archive.write_manifest({"run_id": run.id, "source": stored["source"],
                                    "source_name": stored.get("source_name"), "as_of": stored["as_of"],
                                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                                    "tables": _table_meta(tables, steps),
                                    "steps": [{"asset": s.asset, "rule": s.rule, "cutoff": s.cutoff}
                                              for s in steps if s.action == "archive"]}, segments)
        result.status = "failed" if result.problems else "incomplete" if result.unchecked else "finished"
        run.audited("retention.apply", {
            "source": stored["source"], "as_of": stored["as_of"], "archive": result.archive,
            "steps": [f"{s.asset}: {s.action} {s.done} row(s) before {s.cutoff} ({s.rule})"
                      + (f"; cascaded {s.done_children}" if s.done_children else "") for s in steps],
            "verification": result.to_dict()["verification"], "problems": result.problems[:20],
            "unchecked": result.unchecked[:20],
        }, {"rows": sum(s.done for s in steps), "child_rows": sum(sum(s.done_children.values()) for s in steps)},
            outcome="verification-failed" if result.problems else "incomplete" if result.unchecked else "ok")
    retention_state.record_run(workspace.state_dir, run.id, datetime.now(UTC).isoformat(timespec="seconds"),
                               result.status, [s.public() for s in steps])
    run.finish("failed" if result.problems else "finished")
    return result


def _table_meta(tables: dict[str, Any], steps: list[ApplyStep]) -> dict[str, Any]:
    names: list[str] = []

    def walk(children: list[Child]) -> None:
        for c in children:
            if c.mode == "cascade":
                names.append(c.table)
                walk(c.children)

    for s in steps:
        if s.action == "archive":
            names.append(s.asset)
            walk(s.children)
    out = {}
    for name in dict.fromkeys(names):
        t = tables.get(name.lower()) or next(x for x in tables.values() if x.name.lower() == name.lower())
        out[t.qualified] = {"columns": [{"name": c.name, "sql_type": c.sql_type, "kind": c.kind}
                                        for c in t.columns], "primary_key": list(t.primary_key),
                            "foreign_keys": [dataclasses.asdict(fk) for fk in t.foreign_keys]}
    return out


def _remove(run: ChangeRun, source: Any, tables: dict[str, Any], table: Any, step: ApplyStep, index: int,
            batch: int, archive: Archive | None, segments: list[dict[str, Any]]) -> None:
    """Delete (or archive, then delete) the step's expiring rows, one unit per key range."""
    pk = list(table.primary_key)
    clause, condition = _expiring(table, step)
    condition = sa.and_(condition, *_not_blocked(tables, table, clause, step, source.dialect))
    # the delete's own guard: no child row references a deleted row (MariaDB refuses a DELETE
    # whose subquery reads its own table; a self reference is kept out by ``condition``)
    guard = [_unreferenced(tables, table, clause, c, source.dialect) for c in step.children
             if c.table.lower() != table.qualified.lower()]
    key_expr = _key_expr(clause, pk)
    held = set(step.held_keys)
    archiving = step.action == "archive"
    self_reference = any(c.mode == "blocks" and c.table.lower() == table.qualified.lower() for c in step.children)
    if not archiving:
        batch *= DELETE_KEYS_PER_ROW  # a delete unit holds only keys in memory
    columns = [c.name for c in table.columns] if archiving else pk
    select = sa.select(*[clause.c[c] for c in columns]).where(condition).order_by(*[clause.c[k] for k in pk])
    key_at = [columns.index(k) for k in pk]
    prefix = f"{index}:{table.qualified}#"
    # A plain delete by a one-column key reads no key into Python: the unit is the key range
    # (low, high] of its first ``batch`` expiring rows, and its digest is their count and the
    # range's ends. That is what the delete statement selects again and what a resume reads
    # again (committed: nothing left in the range); reading a million keys through the driver
    # and hashing them was a third of such a run.
    summary = not archiving and not held and len(pk) == 1 and not self_reference

    def bound(value: Any) -> Any:
        return sa.literal(value[0]) if len(pk) == 1 else sa.tuple_(*[sa.literal(v) for v in value])

    def key_of(row: Sequence[Any]) -> tuple[Any, ...]:
        return (row[key_at[0]],) if len(key_at) == 1 else tuple(row[i] for i in key_at)

    def unit(number: int, low: Any, high: Any) -> tuple[dict[str, Any], Any]:
        rows: list[tuple[Any, ...]] = []
        last: list[Any] = [high]

        def fetch(conn: sa.Connection, upper: Any) -> list[tuple[Any, ...]]:
            query = select if low is None else select.where(key_expr > bound(low))
            query = query.where(key_expr <= bound(upper)) if upper is not None else query.limit(batch)
            if summary:
                keys = query.subquery("k").c[pk[0]]
                return [tuple(conn.execute(sa.select(sa.func.count(), sa.func.min(keys), sa.func.max(keys))).one())]
            result = conn.execute(query)
            if archiving or held:  # whole rows, or keys compared with the held ones: typed by SQLAlchemy
                return [tuple(r) for r in result.all()]
            # keys only: the DBAPI cursor's tuples as they are (no Row objects: a third of the
            # run's time on a million keys); a resume reads them the same way, so digests agree
            return list(result.cursor.fetchall()) if result.cursor is not None else []

        fetched_keys: list[Any] = []

        def read(conn: sa.Connection) -> list[tuple[Any, ...]]:
            fetched = fetch(conn, high)
            if summary:  # one row: (count, lowest key, highest key)
                if not fetched[0][0] and high is None:
                    raise _Done
                if high is None:
                    last[0] = (fetched[0][2],)
                rows[:] = fetched
                return rows
            if not fetched and high is None:
                raise _Done
            if high is None:
                last[0] = key_of(fetched[-1])
            # keys only, one column: each row already is its key tuple (no per-row call for a million keys)
            fetched_keys[:] = fetched if columns == pk and len(pk) == 1 else [key_of(r) for r in fetched]
            rows[:] = [r for r, k in zip(fetched, fetched_keys, strict=True) if k not in held] if held else fetched
            return rows

        def after(conn: sa.Connection) -> list[tuple[Any, ...]]:
            """The unit's rows once changed: none (held rows are not the unit's). Not read back:
            ``change`` checked that the delete removed exactly the rows read, or it rolled back;
            a resume that finds the range empty has the committed state, as this digest says."""
            return [(0, None, None)] if summary else []

        def change(conn: sa.Connection) -> dict[str, Any]:
            keys = [key_of(r) for r in rows] if held else fetched_keys
            expected = int(rows[0][0]) if summary else len(keys)
            data: dict[str, Any] = {"rows": 0, "children": {},
                                    "_sealed": {"low": encode_value(low), "high": encode_value(last[0])}}
            if not expected:
                return data
            cascaded = [c for c in step.children if c.mode == "cascade"]
            kept: list[TableRows] = []
            # One range statement when the unit's rows are exactly "expiring within (low, last]";
            # explicit key lists when held rows sit inside the range, or for a composite key or
            # a self reference (MariaDB refuses a DELETE whose subquery reads its own table).
            ranged = summary or (len(pk) == 1 and len(keys) == len(fetched_keys) and not self_reference)
            if ranged:
                in_range = sa.and_(condition, key_expr > bound(low)) if low is not None else condition
                selections = [sa.and_(in_range, key_expr <= bound(last[0]))]
            else:
                selections = [key_expr.in_([k[0] if len(pk) == 1 else k for k in chunk]) for chunk in _chunks(keys)]
            for selected in selections:
                _remove_children(conn, tables, table, clause, selected, cascaded, data["children"],
                                 kept if archiving else None, source.dialect)
            if archiving:
                assert archive is not None
                kept.insert(0, TableRows(table.qualified, columns, rows))
                entry = archive.write_segment(segment_name(index * 1_000_000 + number, table.name), kept)
                data["segment"] = entry
            for selected in selections:
                data["rows"] += int(conn.execute(sa.delete(clause).where(selected, *guard)).rowcount or 0)
            if data["rows"] != expected:  # rolled back: what is deleted is exactly what was read (and archived)
                raise UnitConflict(f"{table.qualified}: {data['rows']} row(s) matched the delete, {expected} were "
                                   "read; rows changed meanwhile, or a child row references one of them again "
                                   f"(another writer?); 'govkit runs resume {run.id}' redoes this unit")
            return data

        try:
            return run.db_unit(source.engine.connect, f"{prefix}{number}", read, change, after=after), last[0]
        except _Done:
            return {"rows": 0}, low
        except SQLAlchemyError as exc:
            raise source.error(exc, f"cannot remove expiring rows of {table.qualified} (this unit was rolled "
                                    f"back; 'govkit runs resume {run.id}' continues)") from None

    def take(data: dict[str, Any]) -> None:
        step.done += int(data.get("rows", 0))
        for name, count in (data.get("children") or {}).items():
            step.done_children[name] = step.done_children.get(name, 0) + int(count)
        if data.get("segment"):
            segments.append(data["segment"])

    journaled = [u for u in run.journal.order if u.startswith(prefix)]
    low: Any = None
    for number, key in enumerate(journaled):
        state = run.journal.unit(key)
        bounds = run.sealed_of(key) or {}
        high = _decode_key(bounds.get("high")) if "high" in bounds else low
        data = state.data if state.status == "committed" else unit(number, _decode_key(bounds.get("low")), high)[0]
        take(data)
        low = high
    if run.phase_data("verified") is not None:
        return
    number = len(journaled)
    while True:
        data, new_low = unit(number, low, None)
        if new_low == low and not data.get("rows"):
            break
        take(data)
        low = new_low
        number += 1


def _decode_key(value: Any) -> Any:
    if value is None:
        return None
    decoded = decode_value(value)
    return tuple(decoded) if isinstance(decoded, list) else decoded


def _chunks(keys: list[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start:start + _CHUNK]


def _remove_children(conn: sa.Connection, tables: dict[str, Any], parent: Any, parent_clause: Any,
                     parent_keys: sa.ColumnElement[bool], cascaded: list[Child], counts: dict[str, int],
                     kept: list[TableRows] | None, dialect: str) -> None:
    """Delete (after reading, when archiving) the cascaded children's rows, deepest first.

    A child row still referenced by a grandchild is not deleted (the same guard as the
    parent's); its parent row then stays referenced, the parent's delete count falls short and
    the unit rolls back."""
    for child in cascaded:
        info = tables[child.table.lower()]
        clause = _clause(info)
        referred = sa.select(*[parent_clause.c[c] for c in child.referred]).where(parent_keys)
        mine = _key_expr(clause, child.columns).in_(referred)
        if child.children:
            _remove_children(conn, tables, info, clause, mine, child.children, counts, kept, dialect)
            mine = sa.and_(mine, *[_unreferenced(tables, info, clause, g, dialect) for g in child.children])
        read = None
        if kept is not None:
            names = [c.name for c in info.columns]
            order = [clause.c[k] for k in info.primary_key] or [clause.c[n] for n in names]
            rows = [tuple(r) for r in conn.execute(sa.select(*[clause.c[n] for n in names]).where(mine)
                                                   .order_by(*order))]
            read = len(rows)
            if rows:
                kept.append(TableRows(info.qualified, names, rows))
        deleted = int(conn.execute(sa.delete(clause).where(mine)).rowcount or 0)
        if read is not None and deleted != read:
            raise UnitConflict(f"{info.qualified}: {deleted} row(s) matched the delete, {read} were archived; "
                               "rows changed meanwhile (another writer?); resuming the run redoes this unit")
        counts[info.qualified] = counts.get(info.qualified, 0) + deleted


class _Done(Exception):
    """No expiring row after the unit's lower bound."""


def _anonymize(run: ChangeRun, workspace: Any, source: Any, table: Any, step: ApplyStep, index: int,
               batch: int, result: ApplyResult) -> None:
    """The in-place machinery over the step's expiring rows (not held)."""
    from govkit.actions.anonymize.export import ExportResult
    from govkit.actions.anonymize.inplace import apply_in_place
    from govkit.actions.anonymize.plan import FieldPlan, Plan
    from govkit.actions.anonymize.run import _prepare, operator_context

    plan = Plan(source.display)
    for entry in step.fields:
        plan.add(FieldPlan(**entry))
    context = operator_context(workspace)
    _prepare(plan, context)
    pk = list(table.primary_key)
    held = list(step.held_keys)

    def rows_filter(clause: Any) -> sa.ColumnElement[bool]:
        _, condition = _expiring(table, step, clause)
        if held:
            values = [k[0] if len(pk) == 1 else k for k in held]
            condition = sa.and_(condition, sa.not_(_key_expr(clause, pk).in_(values)))
        return condition

    out = ExportResult(plan)
    apply_in_place(source, [table], plan, context, out, run=run, batch_size=batch, verify=True,
                   rows_filter=rows_filter, unit_prefix=f"{index}:")
    step.done = out.rows
    result.problems.extend(out.problems)


# -- verification -----------------------------------------------------------------------------------


def _verify(source: Any, tables: dict[str, Any], steps: list[ApplyStep],
            archive: Archive | None) -> tuple[list[str], list[str]]:
    """Count again: nothing expiring left outside holds, exceptions and blocked rows; every archive
    segment reads back as written. (No orphan is possible: each unit's delete proved it.)"""
    problems: list[str] = []
    unchecked: list[str] = []
    with source.engine.connect() as conn:
        for step in steps:
            table = tables.get(step.asset.lower()) or next(t for t in tables.values()
                                                           if t.name.lower() == step.asset.lower())
            if step.action == "anonymize":
                continue  # verified by the in-place rewriter (leaks, values left) into result.problems
            clause, condition = _expiring(table, step)
            condition = sa.and_(condition, *_not_blocked(tables, table, clause, step, source.dialect))
            pk = list(table.primary_key)
            if len(step.held_keys) > 50_000:
                unchecked.append(f"{table.qualified}: {len(step.held_keys)} held rows are too many to set apart "
                                 "in one count; rows left past the cutoff were not counted")
                continue
            if step.held_keys:
                values = [k[0] if len(pk) == 1 else k for k in step.held_keys]
                condition = sa.and_(condition, sa.not_(_key_expr(clause, pk).in_(values)))
            left = int(conn.execute(sa.select(sa.func.count()).select_from(clause).where(condition)).scalar_one())
            if left:
                problems.append(f"{table.qualified}: {left} row(s) still past the cutoff {step.cutoff}")
    if archive is not None:
        problems += _archive_problems(archive)
    return problems, unchecked


def _archive_problems(archive: Archive) -> list[str]:
    problems = []
    for path in sorted(archive.dir.glob("*.seg")):
        try:
            archive.authenticate(path.stem)
        except GovkitError as exc:
            problems.append(str(exc))
    return problems


# -- resume -------------------------------------------------------------------------------------------


def resume(run: ChangeRun, workspace: Any) -> ApplyResult:
    """Complete an interrupted retention run from its stored plan (``govkit runs resume``)."""
    return execute(run, workspace, run.plan())
