"""``govkit retention plan``: what the retention rules would delete, anonymize or archive, counted.

For every asset holding personal data, the rule that applies (the resolver's choice, as the
audit report and ``evaluate`` make it), and in its source, with SQL only (no row is read into
Python): the rows past the period, the oldest of them, the rows the rule's exceptions and
legal holds keep, and the rows of child tables that reference the expiring rows (a delete
must handle them first). An asset with personal data and no rule is listed with the date
columns the schema offers and the one to suggest, so the policy author can write the rule.

Why counting only: the plan is what a compliance officer signs off before ``retention
apply`` changes anything, and what CI can gate on; it must be cheap on a 10M-row table and
must not copy personal data anywhere. The counts are queries built with SQLAlchemy core:
identifiers quoted by the dialect, the cutoff and every literal of an exception bound.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from govkit.actions.retention import state as retention_state
from govkit.errors import GovkitError, SourceError
from govkit.inventory.store import AssetRecord, Inventory
from govkit.policy.evaluate import DatabaseCounter, _count_file
from govkit.policy.loader import Policy
from govkit.policy.resolve import Resolver, Where
from govkit.policy.schema import FILE_DATES, RetentionRule
from govkit.report.classified import UNCLASSIFIED, classify_fields

#: Column names that date a row's life, best first (a rule is usually written on the first).
_DATE_NAMES = [
    r"created(_?at|_?on|_?date|_?time)?", r"creation_?(date|time)", r"(registered|registration|signup|sign_up)"
    r"(_?at|_?on|_?date)?", r"(inserted|insert)_?(at|date)?", r"(invoice|order|payment|transaction|event|"
    r"booking|visit|rental|hire|contract)_?(date|time|at|on)", r"(start|begin)_?(date|time)",
    r"(last_?)?(updated|modified|update|modify)(_?at|_?on|_?date|_?time)?", r"(date|time|timestamp|ts)",
    r"注册时间|创建时间|下单时间|订单时间|登记时间|日期|时间",
]
_DATE_PATTERNS = [re.compile(rf"^(?:{p})$", re.IGNORECASE) for p in _DATE_NAMES]


@dataclass(slots=True)
class ChildRows:
    """A table whose rows reference the expiring rows (through ``columns``)."""

    asset: str
    columns: list[str]
    rows: int | None


@dataclass(slots=True)
class RetentionStep:
    """One asset under one rule: what is past its period, and what keeps rows anyway."""

    source: str
    source_name: str | None
    asset: str
    rule: str
    rule_ref: str | None
    action: str
    timestamp: str
    period: str
    cutoff: str
    status: str  # past | ok | held | not-counted | bad-rule
    past_rows: int | None = None
    oldest: str | None = None
    kept_rows: int | None = None
    holds: list[str] = field(default_factory=list)
    children: list[ChildRows] = field(default_factory=list)
    detail: str = ""


@dataclass(slots=True)
class Suggestion:
    """An asset holding personal data that no retention rule selects."""

    source: str
    source_name: str | None
    asset: str
    date_columns: list[str]
    suggested: str | None
    why: str


@dataclass(slots=True)
class RetentionPlan:
    as_of: str
    steps: list[RetentionStep] = field(default_factory=list)
    unruled: list[Suggestion] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "steps": [asdict(s) for s in self.steps],
                "unruled": [asdict(u) for u in self.unruled],
                "totals": {"past_rows": sum(s.past_rows or 0 for s in self.steps),
                           "assets_past": sum(1 for s in self.steps if s.status == "past"),
                           "not_counted": sum(1 for s in self.steps if s.status in ("not-counted", "bad-rule")),
                           "without_rule": len(self.unruled)}}


#: Dates that describe the person, not the record: never a retention timestamp.
_PERSON_DATES = re.compile(r"birth|dob|csrq|出生|geburt|naissance|nacimiento|nascimento|death|expir", re.IGNORECASE)


def suggest_date_column(asset: AssetRecord) -> tuple[list[str], str | None, str]:
    """The asset's date columns and the one to suggest for a rule, with why."""
    if asset.kind == "file":
        return [], "$mtime", "a file ages by its modification time ($mtime) unless its name carries a date"
    dated = [str(f["name"]) for f in asset.fields if f.get("kind") in ("datetime", "date")
             and not _PERSON_DATES.search(str(f["name"]))]
    named = [str(f["name"]) for f in asset.fields if any(p.match(str(f["name"])) for p in _DATE_PATTERNS)]
    candidates = list(dict.fromkeys([*dated, *named]))
    for pattern in _DATE_PATTERNS:  # the first kind of name in the list wins (creation before update)
        for name in candidates:
            if pattern.match(name):
                kind = "created" if pattern is _DATE_PATTERNS[0] else "dated"
                return candidates, name, f"{name} names when the row was {kind}"
    if dated:
        return candidates, dated[0], f"{dated[0]} is the only kind of column that dates a row here"
    return candidates, None, ("no date column: the table cannot be aged by its rows (a rule on a parent table, "
                              "or $mtime for files)")


class _Counter(DatabaseCounter):
    """The evaluate counter, plus the oldest row, the rows exceptions keep and child rows."""

    def stats(self, asset: AssetRecord, rule: RetentionRule, cutoff: datetime,
              children: list[tuple[AssetRecord, list[str], list[str]]], since: datetime | None = None,
              ) -> dict[str, Any]:
        source, table, columns, timestamp, value, sql_type = self.dated(asset, rule, cutoff)
        clause = sa.table(table.name, *[sa.column(c.name, sql_type) if c is timestamp else sa.column(c.name)
                                        for c in table.columns], schema=table.schema)
        ts = clause.c[timestamp.name]
        past = ts < sa.bindparam("cutoff", value, sql_type)
        if since is not None:  # an anonymize rule's earlier runs took the rows before the watermark
            _, _, _, _, low, _ = self.dated(asset, rule, since)
            past = sa.and_(past, ts >= sa.bindparam("since", low, sql_type))
        for exception in rule.exceptions:
            if exception.where is not None and exception.where.column.lower() not in columns:
                raise SourceError(f"{table.qualified} has no column {exception.where.column}")
        exempt = [e.where.sql(clause.c[columns[e.where.column.lower()].name]) for e in rule.exceptions
                  if e.where is not None]
        expiring = sa.and_(past, sa.not_(sa.or_(*exempt))) if exempt else past
        out: dict[str, Any] = {}
        try:
            with source.engine.connect() as conn:
                row = conn.execute(sa.select(sa.func.count(), sa.func.min(ts)).select_from(clause)
                                   .where(expiring)).one()
                total = int(row[0])  # without exceptions every row past the period expires: one scan
                if exempt:
                    total = int(conn.execute(sa.select(sa.func.count()).select_from(clause).where(past)).scalar_one())
                out.update(past_rows=int(row[0]), kept_rows=total - int(row[0]),
                           oldest=None if row[1] is None else str(row[1]))
                out["children"] = []
                for child, fk_columns, referred in children:
                    out["children"].append(ChildRows(child.name, fk_columns,
                                                     self._child_rows(conn, source, child, fk_columns, referred,
                                                                      clause, expiring)))
        except SQLAlchemyError as exc:
            raise source.error(exc, f"cannot count rows past retention in {table.qualified}") from None
        return out

    def _child_rows(self, conn: sa.Connection, source: Any, child: AssetRecord, fk_columns: list[str],
                    referred: list[str], parent: sa.TableClause, expiring: Any) -> int | None:
        info = self._table(source, child)
        table = sa.table(info.name, *[sa.column(c) for c in fk_columns], schema=info.schema)
        keys = sa.select(*[parent.c[c] for c in referred]).where(expiring)
        target = table.c[fk_columns[0]] if len(fk_columns) == 1 else sa.tuple_(*[table.c[c] for c in fk_columns])
        query = sa.select(sa.func.count()).select_from(table).where(target.in_(keys))
        return int(conn.execute(query).scalar_one())


def plan_retention(workspace: Any, policy: Policy, inventory: Inventory, *, as_of: datetime | None = None,
                   source: str | None = None, children: bool = True) -> RetentionPlan:
    """The retention plan of the workspace (see the module docstring); nothing is changed.

    ``children=False`` leaves child rows uncounted (``retention apply`` counts them itself,
    from the live schema)."""
    now = (as_of or datetime.now(UTC)).replace(tzinfo=None)
    plan = RetentionPlan(now.date().isoformat())
    resolver = Resolver(policy)
    assets = [a for a in inventory.assets() if source in (None, a.source_name, a.source)]
    fields = classify_fields(inventory.rows(), assets, policy)
    categories: dict[tuple[str, str], set[str]] = {}
    for f in fields:
        if f.sensitivity != UNCLASSIFIED:
            categories.setdefault((f.source, f.asset), set()).add(f.category)
        else:
            categories.setdefault((f.source, f.asset), set())
    by_name = {(a.source, a.name.lower()): a for a in assets}
    counter = _Counter(workspace)
    with counter:
        for asset in assets:
            if (asset.source, asset.name) not in categories:
                continue  # no personal data here: retention rules are about personal data
            where = Where(asset.source, asset.source_name, asset.name)
            chosen = resolver.retention(where, categories[(asset.source, asset.name)])
            if chosen is None:
                columns, suggested, why = suggest_date_column(asset)
                plan.unruled.append(Suggestion(asset.source, asset.source_name, asset.name, columns, suggested, why))
                continue
            since = None
            if chosen.rule.action == "anonymize" and workspace is not None:
                mark = retention_state.watermark(workspace.state_dir, asset.source, asset.name, chosen.rule.label)
                since = datetime.fromisoformat(mark) if mark else None
            related = _children(asset, assets, by_name) if children else []
            plan.steps.append(_step(counter, asset, chosen.rule, chosen.origin, now, related,
                                    since))
    return plan


def _children(parent: AssetRecord, assets: list[AssetRecord],
              by_name: dict[tuple[str, str], AssetRecord]) -> list[tuple[AssetRecord, list[str], list[str]]]:
    out = []
    for child in assets:
        if child.source != parent.source or child is parent:
            continue
        for fk in child.foreign_keys:
            referred = by_name.get((child.source, str(fk["referred_table"]).lower()))
            if referred is parent:
                out.append((child, list(fk["columns"]), list(fk["referred_columns"])))
    return out


def _step(counter: _Counter, asset: AssetRecord, rule: RetentionRule, origin: Any, now: datetime,
          children: list[tuple[AssetRecord, list[str], list[str]]], since: datetime | None = None) -> RetentionStep:
    cutoff = rule.period.before(now)
    step = RetentionStep(asset.source, asset.source_name, asset.name, rule.label,
                         origin.short if origin is not None else None, rule.action, rule.timestamp,
                         rule.period.human(), cutoff.isoformat(sep=" "), "ok")
    step.holds = [e.legal_hold for e in rule.exceptions if e.legal_hold is not None]
    if any(e.legal_hold is not None and e.where is None for e in rule.exceptions):
        step.status, step.detail = "held", "the whole asset is under a legal hold"
        return step
    try:
        if asset.kind == "file" or rule.timestamp in FILE_DATES:
            step.past_rows = _count_file(asset, cutoff, rule.timestamp)
        else:
            stats = counter.stats(asset, rule, cutoff, children, since)
            step.past_rows, step.kept_rows, step.oldest = stats["past_rows"], stats["kept_rows"], stats["oldest"]
            step.children = stats["children"]
    except GovkitError as exc:
        step.status, step.detail = ("bad-rule" if "has no column" in str(exc) else "not-counted"), str(exc)
        return step
    step.status = "past" if step.past_rows else "ok"
    if since is not None:
        step.detail = f"rows before {since.date().isoformat()} were anonymized by an earlier run"
    return step
