"""Rectification (GDPR art. 16): correct the subject's data where it is, then prove it.

Why it works this way:

* **What to change is named, not guessed.** ``--set FIELD=VALUE`` names either a subject
  identifier kind (``email``, ``phone``, ``name``, or any key the request was registered
  with) or a column (``table.column``, ``source:table.column``). A kind the subject was
  registered with updates exactly the cells that hold the *old* identifier (compared as
  locate compares it: e-mail trimmed and lower-cased, phone by digits), so a fax column of
  the same type is not overwritten. A kind the subject has no old value for (adding a phone
  number) goes to the one column of that entity type in each of the subject's tables; two
  candidates in one table (``FirstName``, ``LastName`` for ``name``) is an error that asks
  for the column by name.
* **Values are validated before anything is written**, by the entity detected on the
  target column (:data:`VALUE_CHECKS`, a registry: an e-mail column gets a syntactically
  valid e-mail, a phone column a number valid in some region) and by the column's type
  (integers, declared text length). Keys are never rectified: rows must stay linked.
* **The plan shows columns and row counts only**; values (old or new) appear nowhere but in
  the database and the encrypted registry. The audit log gets the new values masked.
* **One transaction per database**, then verification: the rectified rows are read back by
  their keys (the new value is there, in every row), the subject is located again with the
  updated identifiers, and with the *old* identifiers alone (nothing may be found in the
  databases). File sources are not rewritten: lines holding the subject are listed as
  manual steps.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from govkit.actions.dsr.locate import (
    KEY_ENTITIES,
    LocateReport,
    TableHit,
    _digits_of,
    _norm_name,
    identity_fields,
    normalize_email,
    phone_forms,
    selection,
    source_config,
    table_clause,
)
from govkit.change.run import ChangeRun
from govkit.detect.values import phone_score
from govkit.errors import SourceError, UsageError
from govkit.inventory.store import AssetRecord, Inventory
from govkit.policy.loader import Policy
from govkit.policy.resolve import Resolver
from govkit.sources.database import DatabaseSource
from govkit.workspace import Workspace

#: Identifier kinds -> the entity types of the columns that hold them.
KIND_ENTITIES: dict[str, tuple[str, ...]] = {**KEY_ENTITIES, "name": ("PERSON",)}
_LENGTH = re.compile(r"\((\d+)")
_EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)[\w.!#$%&'*+/=?^`{|}~-]{1,64}(?<!\.)@"
    r"(?=.{1,253}$)(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[\w-]{1,59})$",
    re.IGNORECASE,
)


class RectificationFailed(UsageError):
    """The rectification could not be applied; the database's transaction was rolled back."""


def _check_email(value: str) -> str | None:
    return None if _EMAIL.match(value) else "is not a syntactically valid e-mail address"


def _check_phone(value: str) -> str | None:
    return None if phone_score(value) is not None else "is not a valid phone number (use +country code)"


#: Entity type -> ``check(value) -> reason it is invalid, or None``. One line adds an entity.
VALUE_CHECKS: dict[str, Callable[[str], str | None]] = {
    "EMAIL_ADDRESS": _check_email,
    "PHONE_NUMBER": _check_phone,
    "CN_PHONE_NUMBER": _check_phone,
}


@dataclass(slots=True)
class Assignment:
    """One ``--set FIELD=VALUE``: a kind, or a column (``source``, ``table``, ``column``)."""

    field: str
    value: str = dataclasses.field(repr=False)
    kind: str | None = None
    source: str | None = None
    table: str | None = None
    column: str | None = None


def parse_assignment(text: str) -> Assignment:
    """``email=a@b.c``, ``Customer.Email=a@b.c`` or ``chinook:Customer.Email=a@b.c``."""
    name, eq, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not eq or not name or not value:  # the text is not echoed: it may be the value itself
        raise UsageError("--set expects FIELD=VALUE, e.g. email=new@example.com")
    if "@" in name:
        raise UsageError("--set: the field before '=' holds an '@'; write the kind first, e.g. email=VALUE")
    source, colon, rest = name.rpartition(":")
    if colon and not source:
        raise UsageError(f"--set {name}: empty source name before ':'")
    table, dot, column = rest.rpartition(".")
    if dot:
        if not table or not column:
            raise UsageError(f"--set {name}: expected TABLE.COLUMN or SOURCE:TABLE.COLUMN")
        return Assignment(name, value, source=source or None, table=table, column=column)
    if colon:
        raise UsageError(f"--set {name}: a source needs TABLE.COLUMN after it (SOURCE:TABLE.COLUMN)")
    kind = rest.lower()
    if not kind.replace("_", "").isalnum():
        raise UsageError(f"--set {name}: a field is an identifier kind (email, phone, name) or TABLE.COLUMN")
    return Assignment(name, value, kind=kind)


def validate(value: str, entity_type: str | None, sql_type: str | None, kind: str | None) -> str | None:
    """Why ``value`` cannot go into a column of this entity and type (None: it can)."""
    check = VALUE_CHECKS.get(entity_type or "")
    if check is not None and (reason := check(value)) is not None:
        return reason
    if kind == "integer":
        try:
            int(value)
        except ValueError:
            return "is not an integer"
    length = _LENGTH.search(sql_type or "") if kind == "text" else None
    if length is not None and len(value) > int(length.group(1)):
        return f"is longer than the column allows ({length.group(1)} characters)"
    return None


@dataclass(slots=True)
class ColumnStep:
    """Rows of one column to set to one assignment's value."""

    source: str
    source_name: str | None
    asset: str
    column: str
    field: str
    entity_type: str | None
    rows: int
    why: str
    #: the subject key whose old value selects the rows (None: every located row of the table)
    key: str | None = None
    done: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(slots=True)
class RectificationPlan:
    steps: list[ColumnStep] = field(default_factory=list)
    #: files holding the subject: not rewritten, listed for a person to correct
    manual: list[dict[str, Any]] = field(default_factory=list)
    #: assignment field -> new value; kept out of ``to_dict``
    values: dict[str, str] = field(default_factory=dict, repr=False)
    #: subject key -> new value for the identifiers the registry must update
    identifiers: dict[str, str] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [s.to_dict() for s in self.steps], "manual": self.manual,
                "identifiers_updated": sorted(self.identifiers)}


class _Planner:
    """Resolves assignments to columns of the subject's tables, one source at a time."""

    def __init__(self, workspace: Workspace, report: LocateReport, subject: dict[str, str], policy: Policy,
                 inventory: Inventory) -> None:
        self.workspace, self.report, self.subject = workspace, report, subject
        self.resolver, self.inventory = Resolver(policy), inventory
        self._assets: dict[str, dict[str, AssetRecord]] = {}
        self._entities: dict[str, dict[tuple[str, str], str]] = {}
        self._identities: dict[str, list[Any]] = {}

    def assets(self, source: str) -> dict[str, AssetRecord]:
        if source not in self._assets:
            self._assets[source] = {a.name: a for a in self.inventory.assets(source)}
            self._entities[source] = {(r.asset, r.field): r.entity_type for r in self.inventory.rows(source)}
            self._identities[source] = identity_fields(self.inventory, self.resolver, source)
        return self._assets[source]

    def entity(self, source: str, asset: str, column: str) -> str | None:
        self.assets(source)
        return self._entities[source].get((asset, column))

    def db_hits(self) -> list[TableHit]:
        return [h for h in self.report.data() if h.rows and self.assets(h.source)[h.asset].kind != "file"]

    def targets(self, item: Assignment) -> list[tuple[TableHit, str, str | None, str]]:
        """``(hit, column, subject key selecting the rows, why)`` for one assignment."""
        if item.table is not None:
            return self._column(item)
        kind = item.kind or ""
        found: list[tuple[TableHit, str, str | None, str]] = []
        for hit in self.db_hits():
            if kind in self.subject:
                columns = [i.column for i in self._identities[hit.source] if i.asset == hit.asset and i.key == kind]
                found += [(hit, c, kind, f"the column that holds the subject's {kind}") for c in columns]
                continue
            if hit.role != "subject":
                continue
            entities = KIND_ENTITIES.get(kind, ())
            asset = self.assets(hit.source)[hit.asset]
            columns = [f["name"] for f in asset.fields if not _is_key(asset, f["name"]) and (
                self.entity(hit.source, hit.asset, f["name"]) in entities or _norm_name(f["name"]) == kind)]
            if len(columns) > 1:
                named = ", ".join(f"{hit.asset}.{c}" for c in columns)
                raise UsageError(f"--set {item.field}: {named} could each hold it; name one, e.g. "
                                 f"--set {hit.asset}.{columns[0]}=...")
            found += [(hit, c, None, f"the subject's {kind} (a new identifier)") for c in columns]
        if not found:
            raise UsageError(f"--set {item.field}: no column of the subject's tables holds a {kind} "
                             "(name one as TABLE.COLUMN)")
        return found

    def _column(self, item: Assignment) -> list[tuple[TableHit, str, str | None, str]]:
        table = (item.table or "").lower()
        hits = [h for h in self.report.data() if h.rows and (item.source is None or h.source_name == item.source)
                and table in (h.asset.lower(), h.asset.rpartition(".")[2].lower())]
        if not hits:
            raise UsageError(f"--set {item.field}: {item.table} holds none of the subject's rows "
                             "(see 'govkit dsr locate ID')")
        found: list[tuple[TableHit, str, str | None, str]] = []
        for hit in hits:
            asset = self.assets(hit.source)[hit.asset]
            if asset.kind == "file":
                raise UsageError(f"--set {item.field}: {hit.asset} is a file; files are not rectified")
            column = next((f["name"] for f in asset.fields if f["name"].lower() == (item.column or "").lower()), None)
            if column is None:
                raise UsageError(f"--set {item.field}: {hit.asset} has no column {item.column}")
            if _is_key(asset, column):
                raise UsageError(f"--set {item.field}: {hit.asset}.{column} is a key; keys are not rectified")
            key = next((i.key for i in self._identities[hit.source] if i.asset == hit.asset and i.column == column
                        and i.key in self.subject), None)
            found.append((hit, column, key, "named on the command line"))
        return found


def _is_key(asset: AssetRecord, column: str) -> bool:
    return column in asset.primary_key or any(column in fk["columns"] for fk in asset.foreign_keys)


def _old_value_clause(table: sa.TableClause, column: str, key: str, old: str, kind: str) -> Any:
    """Rows whose ``column`` holds the subject's ``old`` identifier, compared as locate compares."""
    col = table.c[column]
    if key == "email":
        return sa.func.lower(sa.func.trim(col)) == normalize_email(old)
    if key == "phone":
        return _digits_of(col).in_(sorted(phone_forms(old)[1]))
    if kind == "integer":
        try:
            return col == int(old)
        except ValueError:
            return sa.false()
    return col == old.strip()


def _typed(value: str, kind: str) -> Any:
    return int(value) if kind == "integer" else value


def plan_rectification(
    workspace: Workspace, report: LocateReport, subject: dict[str, str], assignments: list[Assignment], *,
    policy: Policy, inventory: Inventory,
) -> RectificationPlan:
    """Which columns of which rows each assignment changes, validated; reads counts, writes nothing."""
    if not assignments:
        raise UsageError("nothing to rectify: give at least one --set FIELD=VALUE")
    planner = _Planner(workspace, report, subject, policy, inventory)
    plan = RectificationPlan()
    for item in assignments:
        if item.field in plan.values:
            raise UsageError(f"--set {item.field} is given twice")
        plan.values[item.field] = item.value
        for hit, column, key, why in planner.targets(item):
            asset = planner.assets(hit.source)[hit.asset]
            spec = next(f for f in asset.fields if f["name"] == column)
            entity = planner.entity(hit.source, hit.asset, column)
            if entity is None and item.kind in KIND_ENTITIES:
                entity = KIND_ENTITIES[item.kind][0]
            reason = validate(item.value, entity, spec.get("sql_type"), spec.get("kind"))
            if reason is not None:
                raise UsageError(f"--set {item.field}: the new value {reason} ({hit.asset}.{column}"
                                 f"{', ' + entity if entity else ''})")
            if any(s.source == hit.source and s.asset == hit.asset and s.column == column for s in plan.steps):
                raise UsageError(f"--set {item.field}: {hit.asset}.{column} is already set by another --set")
            plan.steps.append(ColumnStep(hit.source, hit.source_name, hit.asset, column, item.field, entity,
                                         hit.rows, why, key))
            if key is not None:
                plan.identifiers[key] = item.value
        if item.kind is not None and (item.kind in subject or item.kind in KEY_ENTITIES):
            plan.identifiers[item.kind] = item.value
    _count(workspace, plan, report, subject, planner)
    plan.steps = [s for s in plan.steps if s.key is None or s.rows]  # e.g. a fax column: not the old number
    for item in assignments:
        if not any(s.field == item.field for s in plan.steps):
            raise UsageError(f"--set {item.field}: no row of the subject holds the current {item.kind or item.field} "
                             "any more (see 'govkit dsr locate ID')")
    plan.manual = [{"source": h.source, "source_name": h.source_name, "asset": h.asset, "rows": h.rows,
                    "why": "files are not rectified: correct these lines by hand (line numbers in 'dsr export')"}
                   for h in report.data() if h.rows and planner.assets(h.source)[h.asset].kind == "file"]
    return plan


def _count(workspace: Workspace, plan: RectificationPlan, report: LocateReport, subject: dict[str, str],
           planner: _Planner) -> None:
    """Rows per step: the located rows, narrowed to the old identifier where a key selects them."""
    for source_display in dict.fromkeys(s.source for s in plan.steps if s.key is not None):
        steps = [s for s in plan.steps if s.source == source_display and s.key is not None]
        config = source_config(workspace, source_display, steps[0].source_name)
        with DatabaseSource(config.resolved_url()) as source, source.engine.connect() as conn:
            for step in steps:
                step.rows = sum(int(conn.execute(sa.select(sa.func.count()).select_from(table).where(clause)).scalar()
                                    or 0) for table, clause in _where(step, report, subject, planner))


def _where(step: ColumnStep, report: LocateReport, subject: dict[str, str],
           planner: _Planner) -> list[tuple[sa.TableClause, Any]]:
    """``(table, clause)`` per chunk of the step's located rows (and old identifier)."""
    asset = planner.assets(step.source)[step.asset]
    table = table_clause(asset)
    hit = next(h for h in report.data() if h.source == step.source and h.asset == step.asset)
    kind = next(f["kind"] for f in asset.fields if f["name"] == step.column)
    extra = (_old_value_clause(table, step.column, step.key, subject[step.key], kind)
             if step.key is not None and step.key in subject else sa.true())
    return [(table, sa.and_(clause, extra)) for clause in selection(table, hit.key_columns, hit.keys)]


def apply_rectification(
    workspace: Workspace, plan: RectificationPlan, report: LocateReport, subject: dict[str, str], *,
    policy: Policy, inventory: Inventory, run: ChangeRun,
) -> list[dict[str, Any]]:
    """One journaled unit (one transaction) per database; returns per source what was committed.

    A failing statement (a trigger, a constraint, a type) rolls its database back; databases
    committed before it stay committed and the run stays unfinished, so ``govkit runs resume``
    completes it. A unit that committed before a crash is recognised by its digest and never
    applied again (see :mod:`govkit.change.run`).
    """
    planner = _Planner(workspace, report, subject, policy, inventory)
    committed: list[dict[str, Any]] = []
    hidden = [*plan.values.values(), *subject.values()]
    for source_display in dict.fromkeys(s.source for s in plan.steps):
        steps = [s for s in plan.steps if s.source == source_display]
        config = source_config(workspace, source_display, steps[0].source_name)

        def read(conn: sa.Connection, steps: list[ColumnStep] = steps) -> list[tuple[Any, ...]]:
            rows: list[tuple[Any, ...]] = []
            for step in steps:  # the located rows' keys and the rectified column only, sorted here
                hit = next(h for h in report.data() if h.source == step.source and h.asset == step.asset)
                table = table_clause(planner.assets(step.source)[step.asset])
                columns = [table.c[c] for c in dict.fromkeys([*hit.key_columns, step.column]) if c in table.c]
                found: list[tuple[Any, ...]] = []
                for clause in selection(table, hit.key_columns, hit.keys):
                    found.extend(tuple(r) for r in conn.execute(sa.select(*columns).where(clause)))
                rows.append(("column", step.asset, step.column))
                rows.extend(sorted(found, key=repr))
            return rows

        def change(conn: sa.Connection, steps: list[ColumnStep] = steps) -> dict[str, Any]:
            done: dict[str, int] = {}
            for step in steps:
                asset = planner.assets(step.source)[step.asset]
                kind = next(f["kind"] for f in asset.fields if f["name"] == step.column)
                value = _typed(plan.values[step.field], kind)
                count = 0
                for table, clause in _where(step, report, subject, planner):
                    count += int(conn.execute(sa.update(table).where(clause).values({step.column: value})).rowcount
                                 or 0)
                done[f"{step.asset}.{step.column}"] = count
            return {"rows": sum(done.values()), "steps": done}

        with DatabaseSource(config.resolved_url()) as source:
            try:
                data = run.db_unit(source.engine.connect, f"db:{source_display}", read, change)
            except SQLAlchemyError as exc:
                raise _failed(source, exc, f"rectification failed in this source and was rolled back; "
                                           f"'govkit runs resume {run.id}' retries it", hidden) from None
        for step in steps:
            step.done = int((data.get("steps") or {}).get(f"{step.asset}.{step.column}", 0))
        committed.append({"source": source_display, "committed": True, "rows": int(data.get("rows", 0))})
    return committed


def _failed(source: DatabaseSource, exc: SQLAlchemyError, doing: str, values: list[str]) -> SourceError:
    """The source's one-line error without the values: drivers quote them (MariaDB's
    ``Duplicate entry 'new@example.com'``, a trigger's message built from ``NEW.Email``)."""
    error = source.error(exc, doing)
    message = str(error)
    for value in sorted({v.strip() for v in values if len(v.strip()) >= 3}, key=len, reverse=True):
        message = re.sub(re.escape(value), "***", message, flags=re.IGNORECASE)
    error.args = (message,)
    return error


def read_back(workspace: Workspace, plan: RectificationPlan, report: LocateReport, subject: dict[str, str], *,
              policy: Policy, inventory: Inventory) -> list[dict[str, Any]]:
    """Per step, how many of the rectified rows now hold the new value (by their unchanged keys)."""
    planner = _Planner(workspace, report, subject, policy, inventory)
    out: list[dict[str, Any]] = []
    for source_display in dict.fromkeys(s.source for s in plan.steps):
        steps = [s for s in plan.steps if s.source == source_display]
        with DatabaseSource(source_config(workspace, source_display, steps[0].source_name).resolved_url()) as source, \
                source.engine.connect() as conn:
            for step in steps:
                asset = planner.assets(step.source)[step.asset]
                kind = next(f["kind"] for f in asset.fields if f["name"] == step.column)
                table = table_clause(asset)
                hit = next(h for h in report.data() if h.source == step.source and h.asset == step.asset)
                new = table.c[step.column] == _typed(plan.values[step.field], kind)
                found = sum(int(conn.execute(sa.select(sa.func.count()).select_from(table).where(clause, new))
                                .scalar() or 0) for clause in selection(table, hit.key_columns, hit.keys))
                out.append({"source_name": step.source_name, "asset": step.asset, "column": step.column,
                            "rows_changed": step.done or 0, "rows_with_new_value": found})
    return out
