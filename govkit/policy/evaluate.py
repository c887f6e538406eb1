"""``govkit evaluate``: inventory x policy -> violations, each with a severity and a fix.

:func:`evaluate` is pure: inventory rows and assets in, violations out. The one question it
cannot answer from the inventory, "how many rows are already past retention?", goes through
a port (:data:`ExpiredCounter`), so tests can pass a fake and the CLI passes
:class:`DatabaseCounter`, which asks the database with one bound-parameter
``SELECT COUNT(*)`` per asset and never reads a row into Python.

Kinds of violation:

``unclassified`` (the entity's default severity)
    a field holds personal data that no classification rule covers;
``forbidden-personal-data`` (HIGH)
    a field the policy says must not hold personal data (``allow_personal_data: false``) does;
``no-anonymization-rule`` (HIGH)
    restricted data with no anonymization rule, so exports could not be made safe;
``no-retention-rule`` (MEDIUM)
    an asset holds personal data but no retention rule selects it (storage limitation);
``bad-retention-rule`` (MEDIUM)
    the retention rule names a timestamp or exception column the asset does not have;
``past-retention`` (HIGH for restricted data, else MEDIUM)
    rows older than the period, exceptions and legal holds left out;
``no-processing-record`` (LOW)
    the policy keeps a record of processing activities, but no activity covers the asset.

Violations never contain data values, only names, counts and rule positions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from govkit.detect.entities import Severity, entity
from govkit.errors import GovkitError, SourceError, UsageError
from govkit.inventory.store import AssetRecord, Inventory, InventoryRow
from govkit.policy.loader import Policy, active_policy
from govkit.policy.resolve import FieldClass, Resolver, Where
from govkit.policy.schema import FILE_DATES, MTIME, NAME_DATE, RetentionRule, Sensitivity
from govkit.sources.database import DatabaseSource, TableInfo
from govkit.workspace import Workspace

#: count_expired(asset, rule, cutoff) -> rows older than cutoff and not exempt. May raise
#: GovkitError (e.g. SourceError) when the source cannot be asked.
ExpiredCounter = Callable[[AssetRecord, RetentionRule, datetime], int]


@dataclass(slots=True)
class Violation:
    """One obligation the data does not meet. ``rule`` is ``file:line`` of the deciding rule."""

    kind: str
    severity: Severity
    source: str
    asset: str
    field: str | None
    message: str
    fix: str
    rule: str | None = None
    count: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "severity": self.severity.name, "source": self.source, "asset": self.asset,
            "field": self.field, "message": self.message, "fix": self.fix, "rule": self.rule, "count": self.count,
        }  # fmt: skip


@dataclass(slots=True)
class Evaluation:
    """Violations, plus what could not be checked (a source that did not answer)."""

    violations: list[Violation] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    policy_files: list[str] = field(default_factory=list)
    assets: int = 0
    personal_fields: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy_files": self.policy_files,
            "assets": self.assets,
            "personal_fields": self.personal_fields,
            "violations": [v.to_dict() for v in self.violations],
            "errors": self.errors,
        }

    def at_or_above(self, severity: Severity) -> list[Violation]:
        return [v for v in self.violations if v.severity >= severity]


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def evaluate(
    rows: Sequence[InventoryRow],
    assets: Sequence[AssetRecord],
    policy: Policy,
    *,
    count_expired: ExpiredCounter | None = None,
    now: datetime | None = None,
) -> Evaluation:
    """Check the inventory against the policy. Without ``count_expired`` no rows are counted.

    ``now`` (naive, UTC) fixes the clock for the retention cutoff; databases store naive
    timestamps, so the comparison is naive too.
    """
    now = now or _utcnow()
    resolver = Resolver(policy)
    result = Evaluation(policy_files=list(policy.files))
    by_asset: dict[tuple[str, str], AssetRecord] = {(a.source, a.name): a for a in assets}
    fields: dict[tuple[str, str, str], list[InventoryRow]] = {}
    for row in rows:
        fields.setdefault((row.source, row.asset, row.field), []).append(row)
    result.personal_fields = len(fields)

    asset_fields: dict[tuple[str, str], list[tuple[str, list[str], FieldClass | None]]] = {}
    for (source, asset_name, field_name), found in fields.items():
        record = by_asset.get((source, asset_name))
        where = Where(source, record.source_name if record else None, asset_name, field_name)
        entity_types = list(dict.fromkeys(r.entity_type for r in found))
        default_severity = max(Severity[r.severity] if r.severity in Severity.__members__ else
                               entity(r.entity_type).severity for r in found)
        klass = resolver.classify(where, entity_types)
        forbidden = _field_checks(result, resolver, where, entity_types, klass, default_severity)
        personal = asset_fields.setdefault((source, asset_name), [])
        if not forbidden:  # data that must go is not given retention or a processing record
            personal.append((field_name, entity_types, klass))

    result.assets = len(asset_fields)
    for (source, asset_name), personal in sorted(asset_fields.items()):
        if not personal:
            continue
        record = by_asset.get((source, asset_name))
        where = Where(source, record.source_name if record else None, asset_name)
        _asset_checks(result, resolver, where, record, personal, count_expired, now)
    result.violations.sort(key=lambda v: (-v.severity, v.source, v.asset, v.field or "", v.kind))
    return result


def _field_checks(
    result: Evaluation, resolver: Resolver, where: Where, entity_types: list[str], klass: FieldClass | None,
    default_severity: Severity,
) -> bool:
    """Field-level violations; True when the field must not hold personal data at all."""
    address = f"{where.asset}.{where.field}"
    found = ", ".join(entity_types)
    forbidding = resolver.allows_personal_data(where)
    if forbidding is not None:
        result.violations.append(Violation(
            "forbidden-personal-data", Severity.HIGH, where.source, where.asset, where.field,
            f"{address} holds personal data ({found}) but the policy says it must not",
            "remove or anonymize these values or move them where they belong; if the detector is wrong, "
            f"record that with 'govkit label {address} --not-pii'",
            _ref(forbidding.origin),
        ))
    if klass is None:
        result.violations.append(Violation(
            "unclassified", default_severity, where.source, where.asset, where.field,
            f"{address} holds {found} but no policy rule classifies it",
            f"add {entity_types[0]} with a category and sensitivity under classification.entities, "
            f"or a classification.fields rule for {address}",
        ))
        return forbidding is not None
    if klass.sensitivity is Sensitivity.RESTRICTED and resolver.anonymization(where, entity_types, klass) is None:
        result.violations.append(Violation(
            "no-anonymization-rule", Severity.HIGH, where.source, where.asset, where.field,
            f"{address} holds restricted data ({klass.category}: {found}) but no anonymization rule covers it",
            f"add an anonymization rule for category {klass.category}, entity {entity_types[0]} or field "
            f"{address} (e.g. operator: pseudonymize, or mask with keep_last: 4)",
            _ref(klass.origin),
        ))
    return forbidding is not None


def _asset_checks(
    result: Evaluation, resolver: Resolver, where: Where, record: AssetRecord | None,
    personal: list[tuple[str, list[str], FieldClass | None]], count_expired: ExpiredCounter | None, now: datetime,
) -> None:
    categories = {k.category for _, _, k in personal if k is not None}
    restricted = any(k is not None and k.sensitivity is Sensitivity.RESTRICTED for _, _, k in personal)
    # A whole-file finding (free text in a log) has no field name: say "in its text".
    names = ", ".join(f or "in its text" for f, _, _ in personal)
    chosen = resolver.retention(where, categories)
    if chosen is None:
        result.violations.append(Violation(
            "no-retention-rule", Severity.MEDIUM, where.source, where.asset, None,
            f"{where.asset} holds personal data ({names}) but no retention rule selects it",
            f"add a retention rule with assets: [{where.asset}], the timestamp column that dates each row, "
            "a period (e.g. P3Y) and an action (delete, anonymize or archive)",
        ))
    else:
        _retention_check(result, where, record, chosen.rule, restricted, count_expired, now)
    if resolver.doc.processing.activities and not resolver.activities(where, categories):
        result.violations.append(Violation(
            "no-processing-record", Severity.LOW, where.source, where.asset, None,
            f"{where.asset} holds personal data but no processing activity covers it (record of processing)",
            f"add a processing activity with assets: [{where.asset}] (purposes, legal basis, data subjects)",
        ))


def _retention_check(
    result: Evaluation, where: Where, record: AssetRecord | None, rule: RetentionRule, restricted: bool,
    count_expired: ExpiredCounter | None, now: datetime,
) -> None:
    ref = _ref(rule.origin)
    columns = {str(f["name"]).lower(): f for f in (record.fields if record else [])}
    is_file = record is not None and record.kind == "file"
    problem = None
    if rule.timestamp in FILE_DATES and not is_file:
        problem = (f"retention rule \"{rule.label}\" dates rows by {rule.timestamp}, but {where.asset} is a table, "
                   "not a file")
    elif rule.timestamp == NAME_DATE and file_date(where.asset, rule.timestamp) is None:
        problem = f'retention rule "{rule.label}" dates files by the date in their name, but {where.asset} has none'
    elif rule.timestamp not in FILE_DATES and is_file:
        problem = (f'retention rule "{rule.label}" dates rows by {rule.timestamp}; a file is dated as a whole: '
                   f"use $mtime or $name")
    elif rule.timestamp not in FILE_DATES and record is not None and rule.timestamp.lower() not in columns:
        candidates = [str(f["name"]) for f in columns.values() if f.get("kind") in ("datetime", "date")]
        hint = f" (date columns: {', '.join(candidates)})" if candidates else ""
        problem = f'retention rule "{rule.label}" dates rows by {rule.timestamp}, which {where.asset} lacks{hint}'
    else:
        for exception in rule.exceptions:
            if exception.where is not None and record is not None and not is_file and \
                    exception.where.column.lower() not in columns:
                problem = (f'retention rule "{rule.label}" has an exception on column {exception.where.column}, '
                           f"which {where.asset} lacks")
    if problem is not None:
        result.violations.append(Violation(
            "bad-retention-rule", Severity.MEDIUM, where.source, where.asset, None, problem,
            "fix the column name in the rule, or give this asset its own retention rule", ref,
        ))
        return
    if count_expired is None or record is None:
        return
    if any(e.legal_hold is not None and e.where is None for e in rule.exceptions):
        return  # the whole asset is under a legal hold
    cutoff = rule.period.before(now)
    try:
        count = count_expired(record, rule, cutoff)
    except GovkitError as exc:
        result.errors.append(f"{where.asset}: rows past retention not counted: {exc}")
        return
    if count <= 0:
        return
    kept = " (exceptions and legal holds left out)" if rule.exceptions else ""
    result.violations.append(Violation(
        "past-retention", Severity.HIGH if restricted else Severity.MEDIUM, where.source, where.asset, None,
        f"{count} row{'s' if count != 1 else ''} of {where.asset} {'are' if count != 1 else 'is'} past retention: "
        f"{rule.timestamp} before {cutoff:%Y-%m-%d}, older than {rule.period.human()}{kept}",
        f"{rule.action} them as the rule says, or add an exception or legal hold to the rule if they must be kept",
        ref, count,
    ))


def _ref(mark: Any) -> str | None:
    return mark.short if mark is not None else None


# -- counting rows past retention in a database ------------------------------------------------------


class DatabaseCounter:
    """An :data:`ExpiredCounter` over the workspace's sources.

    One ``SELECT COUNT(*) FROM t WHERE ts < :cutoff AND NOT (exempt)`` per asset, built with
    SQLAlchemy core: identifiers are quoted by the dialect, the cutoff and every literal of
    an exception are bound parameters; nothing from the policy is pasted into SQL text.
    """

    def __init__(self, workspace: Workspace | None) -> None:
        self.workspace = workspace
        self._sources: dict[str, DatabaseSource] = {}
        self._tables: dict[str, dict[str, TableInfo]] = {}

    def __enter__(self) -> DatabaseCounter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for source in self._sources.values():
            source.close()
        self._sources.clear()

    def __call__(self, asset: AssetRecord, rule: RetentionRule, cutoff: datetime) -> int:
        if asset.kind == "file" or rule.timestamp in FILE_DATES:
            return _count_file(asset, cutoff, rule.timestamp)
        source, table, columns, timestamp, value, sql_type = self.dated(asset, rule, cutoff)
        ts_column = sa.column(timestamp.name, sql_type)
        extra: dict[str, sa.ColumnClause[Any]] = {}
        for exception in rule.exceptions:
            if exception.where is not None:
                column = columns.get(exception.where.column.lower())
                if column is None:
                    raise SourceError(f"{table.qualified} has no column {exception.where.column}")
                extra[column.name.lower()] = sa.column(column.name)
        clause = sa.table(table.name, ts_column, *extra.values(), schema=table.schema)
        cutoff_param = sa.bindparam("cutoff", value, sql_type)
        query = sa.select(sa.func.count()).select_from(clause).where(ts_column < cutoff_param)
        exempt = [
            e.where.sql(extra[e.where.column.lower()]) for e in rule.exceptions if e.where is not None
        ]
        if exempt:
            query = query.where(sa.not_(sa.or_(*exempt)))
        try:
            with source.engine.connect() as conn:
                return int(conn.execute(query).scalar_one())
        except SQLAlchemyError as exc:
            raise source.error(exc, f"cannot count rows past retention in {table.qualified}") from None

    def dated(self, asset: AssetRecord, rule: RetentionRule, cutoff: datetime) -> tuple[
            DatabaseSource, TableInfo, dict[str, Any], Any, Any, sa.types.TypeEngine[Any]]:
        """The asset's source and table, its columns by lower-case name, the rule's timestamp
        column, and the cutoff in that column's own terms (value and SQL type)."""
        source = self._source(asset)
        table = self._table(source, asset)
        columns = {c.name.lower(): c for c in table.columns}
        timestamp = columns.get(rule.timestamp.lower())
        if timestamp is None:
            raise SourceError(f"{table.qualified} has no column {rule.timestamp}")
        value, sql_type = _cutoff_value(timestamp.kind, cutoff, timestamp.name)
        return source, table, columns, timestamp, value, sql_type

    def _source(self, asset: AssetRecord) -> DatabaseSource:
        key = asset.source_name or asset.source
        if key in self._sources:
            return self._sources[key]
        config = None
        if self.workspace is not None and asset.source_name in self.workspace.sources:
            config = self.workspace.sources[asset.source_name]
        if config is not None:
            # No include/exclude: the inventory, not today's globs, says which tables exist.
            source = DatabaseSource(config.resolved_url(), schemas=config.schemas)
        elif "://" in asset.source and "***" not in asset.source:
            source = DatabaseSource(asset.source)
        else:
            raise SourceError(f"{asset.source}: not a source of this workspace, so it cannot be queried")
        self._sources[key] = source
        return source

    def _table(self, source: DatabaseSource, asset: AssetRecord) -> TableInfo:
        key = asset.source_name or asset.source
        if key not in self._tables:
            self._tables[key] = {t.qualified.lower(): t for t in source.tables()}
        table = self._tables[key].get(asset.name.lower())
        if table is None:
            raise SourceError(f"{source.display}: table {asset.name} no longer exists")
        return table


def _cutoff_value(kind: str, cutoff: datetime, column: str) -> tuple[Any, sa.types.TypeEngine[Any]]:
    """The cutoff in the column's own terms; integer and real columns are Unix seconds."""
    if kind == "datetime":
        return cutoff, sa.DateTime()
    if kind == "date":
        return cutoff.date(), sa.Date()
    if kind == "integer":
        return int(cutoff.replace(tzinfo=UTC).timestamp()), sa.Integer()
    if kind == "number":
        return cutoff.replace(tzinfo=UTC).timestamp(), sa.Float()
    if kind == "text":
        return cutoff.strftime("%Y-%m-%d %H:%M:%S"), sa.String()
    raise SourceError(f"timestamp column {column} holds {kind} values, not dates or times")


def _count_file(asset: AssetRecord, cutoff: datetime, timestamp: str = MTIME) -> int:
    """A file is one "row": 1 if it is dated (modified, or by its name) before the cutoff."""
    dated = file_date(Path(asset.source) / asset.name, timestamp)
    if dated is None:
        raise SourceError(f"{asset.name}: no date in its name (timestamp: $name)")
    return 1 if dated < cutoff else 0


#: Dates in file names: 2021-03-04, 2021_03_04, 2021.03.04, 20210304 (not inside a longer number).
_NAME_DATE = re.compile(r"(?<!\d)(19\d\d|20\d\d)([-_.]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?!\d)")


def file_date(path: Path | str, timestamp: str) -> datetime | None:
    """When a file is dated: its modification time (UTC, naive) or the last date in its name."""
    if timestamp == NAME_DATE:
        found = list(_NAME_DATE.finditer(Path(path).name))
        if not found:
            return None
        year, _, month, day = found[-1].groups()
        try:
            return datetime(int(year), int(month), int(day))
        except ValueError:
            return None
    try:
        return datetime.fromtimestamp(Path(path).stat().st_mtime, UTC).replace(tzinfo=None)
    except OSError as exc:
        raise SourceError(f"{Path(path).name}: cannot read its modification time ({type(exc).__name__})") from None


# -- the workspace entry point -------------------------------------------------------------------------


def evaluate_workspace(
    workspace: Workspace, policy: Policy | None = None, *, source: str | None = None, now: datetime | None = None,
) -> Evaluation:
    """Evaluate the workspace's inventory against its policy, counting expired rows in its sources."""
    policy = policy or active_policy(workspace.root)
    inventory = Inventory(workspace.inventory_path)
    try:
        if not inventory.latest_scans():
            raise UsageError("the inventory is empty: run 'govkit scan' first")
        rows, assets = inventory.rows(source), inventory.assets(source)
    finally:
        inventory.close()
    with DatabaseCounter(workspace) as counter:
        return evaluate(rows, assets, policy, count_expired=counter, now=now)
