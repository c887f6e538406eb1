"""Locate a data subject: which rows in which databases are theirs, and which merely link to them.

The steps, and why each is shaped this way:

1. **Identity fields come from the inventory** (fields whose findings the policy's
   ``dsr.identifiers`` names, or fields it lists by address), so locating needs no rescan and
   follows the same data map every other command uses.
2. **Bound-parameter queries with normalisation.** E-mails are compared trimmed and
   lower-cased; phone numbers by their digits (E.164 and national number, via
   ``phonenumbers``) so ``+55 (12) 3923-5555`` finds ``+55 (12) 3923-5555``, ``+551239235555``
   and ``(12) 3923-5555`` alike. Where the column has an index the query asks for the stored
   spellings exactly (``col IN (...)``) so the index can be used; without one the database
   scans anyway, so it normalises the column in SQL and catches every spelling.
3. **Foreign keys both ways.** Rows that reference the subject's rows (Invoice -> Customer,
   InvoiceLine -> Invoice) are the subject's data too, unless the referencing table holds
   identity fields of its own (it is then another person's record, e.g. customers whose
   support rep is the subject): those, and rows the subject's rows point to (the Employee who
   supports a customer), are reported as *links*, not as the subject's data.
   A row matched by a shared kind of identifier (a phone number, a name) whose e-mail column
   holds a *different* address is someone else's (a household sharing a landline), so when
   the request gives an e-mail, such rows are left out: an erasure must never reach them.
4. **Mentions**: long free-text columns that contain an identifier (``LIKE`` with bound,
   escaped patterns) are reported, not followed.
5. **File sources**: the lines holding an identifier (:mod:`govkit.actions.dsr.files`).

**Which sources.** Every source of ``govkit.toml`` *and* every source the inventory holds:
a source scanned by URL or path (``govkit scan sqlite:///shop.db``) has no name, but it is
part of the data map, so it is searched too (reopened by :func:`open_url`; a hit from it has
``source_name`` None, and :func:`source_config` rebuilds what export and erasure need to
reopen it). The same database reached both ways is searched once, under its name.

**Nothing silently unsearched.** What could not be searched is listed in
:attr:`LocateReport.not_searched` with a reason: a configured source never scanned, a source
that cannot be reached (or whose password was not kept), a table whose query failed (each
table is queried on its own, so one bad table never stops the rest), a table or file the scan
itself skipped, a file that cannot be read. A report with any of those is not ``complete``:
"no data found" then only means "none where govkit could look". Reasons are one line, with
the subject's identifiers and quoted values removed.

A :class:`LocateReport` keeps the matched keys in memory for export and erasure; its
``to_dict`` gives tables and counts only, never values.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from govkit.errors import GovkitError, SourceError
from govkit.inventory.store import AssetRecord, Inventory
from govkit.policy.loader import Policy
from govkit.policy.resolve import Resolver, Where
from govkit.sources.database import DatabaseSource, has_password, redact
from govkit.workspace import SourceConfig, Workspace

logger = logging.getLogger(__name__)

#: Subject keys that stand for entity types; any other key matches a column of that name.
KEY_ENTITIES: dict[str, tuple[str, ...]] = {
    "email": ("EMAIL_ADDRESS",),
    "phone": ("PHONE_NUMBER", "CN_PHONE_NUMBER"),
}
#: Below this many rows a full scan is cheap and no index is suggested.
ADVICE_ROWS = 10_000
#: An indexed identity column is also searched normalised (a scan) when the exact spellings
#: find nothing, up to this many rows; beyond, only the spellings (see :meth:`Locator.condition`).
NORMALIZED_SCAN_ROWS = 200_000
#: Text columns at least this long (or unbounded) are searched for mentions.
FREE_TEXT_LENGTH = 200
_CHUNK = 500
_LENGTH = re.compile(r"\((\d+)")


@dataclass(slots=True)
class TableHit:
    """Rows of one table: ``role`` is ``subject`` (matched an identifier), ``related`` (reached
    through foreign keys), ``link`` (another record the subject's rows point to or that points
    at them) or ``mention`` (free text naming the subject). ``keys`` stay in memory."""

    source: str
    source_name: str | None
    asset: str
    role: str
    rows: int
    via: list[str] = field(default_factory=list)
    key_columns: list[str] = field(default_factory=list)
    keys: list[tuple[Any, ...]] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "source_name": self.source_name, "asset": self.asset, "role": self.role,
                "rows": self.rows, "via": self.via}

    def config(self, workspace: Workspace) -> SourceConfig:
        """How to reopen this hit's source, named or not: see :func:`source_config`."""
        return source_config(workspace, self.source, self.source_name)


@dataclass(slots=True)
class Advice:
    """An index that would turn a full scan for the subject into an index seek."""

    source: str
    asset: str
    column: str
    row_estimate: int | None
    statement: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(slots=True)
class NotSearched:
    """Something locate could not search, and why: a whole ``source``, a ``table`` or a ``file``.

    ``source`` is the display (as in :class:`TableHit`), ``source_name`` the workspace name (None
    for a source scanned by URL or path), ``asset`` the table or file (None for a whole source).
    ``reason`` is one line and never holds an identifier or a value.
    """

    kind: str
    source: str
    source_name: str | None
    asset: str | None
    reason: str

    @property
    def label(self) -> str:
        where = self.source_name or self.source
        return f"{where}: {self.asset}" if self.asset else where

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "source_name": self.source_name, "asset": self.asset,
                "reason": self.reason}


@dataclass(slots=True)
class LocateReport:
    subject_keys: list[str]
    hits: list[TableHit] = field(default_factory=list)
    advice: list[Advice] = field(default_factory=list)
    #: what could not be searched, with the reason; any entry makes the report incomplete
    not_searched: list[NotSearched] = field(default_factory=list)
    #: the sources searched (display, or workspace name when there is one)
    searched: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def data(self, source: str | None = None) -> list[TableHit]:
        """The subject's own rows (``subject`` and ``related``), optionally of one source."""
        return [h for h in self.hits if h.role in ("subject", "related") and source in (None, h.source)]

    @property
    def found(self) -> bool:
        return any(h.rows for h in self.data())

    @property
    def complete(self) -> bool:
        """Whether everything the workspace and the inventory know of was searched."""
        return not self.not_searched

    @property
    def skipped(self) -> list[dict[str, str]]:
        """The older shape of :attr:`not_searched` (``source``, ``reason``)."""
        return [{"source": n.source_name or n.source, "reason": f"{n.asset}: {n.reason}" if n.asset else n.reason}
                for n in self.not_searched]

    def not_searched_add(self, kind: str, source: str, source_name: str | None, asset: str | None,
                         reason: str) -> None:
        """Record a gap (once per source and asset: the first reason is kept)."""
        if any(n.source == source and n.asset == asset for n in self.not_searched):
            return
        self.not_searched.append(NotSearched(kind, source, source_name, asset, reason))

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject_keys": self.subject_keys, "found": self.found, "complete": self.complete,
            "rows": sum(h.rows for h in self.data()),
            "tables": [h.to_dict() for h in self.hits], "advice": [a.to_dict() for a in self.advice],
            "searched": self.searched, "not_searched": [n.to_dict() for n in self.not_searched],
            "elapsed_s": round(self.elapsed_s, 4),
        }


# -- normalisation ------------------------------------------------------------------------------


def normalize_email(value: str) -> str:
    return value.strip().lower()


def phone_forms(value: str, region: str | None = None) -> tuple[set[str], set[str]]:
    """(spellings to match exactly, digit strings to match the column's digits against)."""
    raw = value.strip()
    spellings = {raw}
    digits = {re.sub(r"\D", "", raw)}
    try:
        number = phonenumbers.parse(raw, None if raw.startswith("+") else region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None:
        fmt = phonenumbers.PhoneNumberFormat
        for style in (fmt.E164, fmt.INTERNATIONAL, fmt.NATIONAL):
            spellings.add(phonenumbers.format_number(number, style))
        national = phonenumbers.format_number(number, fmt.NATIONAL)
        e164 = re.sub(r"\D", "", phonenumbers.format_number(number, fmt.E164))
        # also dialled with an exit code (00 55 ..., 011 55 ...) and with the trunk 0 kept
        # after the country code, as in +44 (0)20 7946 0000
        digits |= {e164, str(number.national_number), re.sub(r"\D", "", national), "00" + e164, "011" + e164,
                   f"{number.country_code}0{number.national_number}"}
    digits.discard("")
    return spellings, digits


def email_spellings(value: str) -> list[str]:
    """Exact spellings of an e-mail worth an index seek: as given, lower case, upper case, and
    the local part as given with the domain lower-cased (domains are case-insensitive)."""
    raw = value.strip()
    local, at, domain = raw.rpartition("@")
    found = {raw, raw.lower(), raw.upper()}
    if at:
        found.add(f"{local}@{domain.lower()}")
    return sorted(found)


def _digits_of(column: Any) -> Any:
    """The column with the usual phone punctuation removed, in SQL (portable nested REPLACE)."""
    expr = column
    for char in (" ", "(", ")", "-", "+", ".", "/"):
        expr = sa.func.replace(expr, char, "")
    return expr


def _like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# -- identity fields ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Identity:
    asset: str
    column: str
    key: str
    entity: str | None
    reason: str


def _norm_name(name: str) -> str:
    return name.replace("_", "").lower()


def identity_fields(inventory: Inventory, resolver: Resolver, source: str) -> list[_Identity]:
    """Fields of ``source`` that identify a subject, each with the subject key it answers to."""
    found: dict[tuple[str, str, str], _Identity] = {}
    assets = inventory.assets(source)
    names = {a.name: a.source_name for a in assets}
    for row in inventory.rows(source):
        where = Where(row.source, names.get(row.asset), row.asset, row.field)
        reason = resolver.identifier(where, [row.entity_type])
        if reason is None:
            continue
        for key, entities in KEY_ENTITIES.items():
            if row.entity_type in entities:
                found[(row.asset, row.field, key)] = _Identity(row.asset, row.field, key, row.entity_type, reason)
                break
        else:
            key = row.entity_type.lower()
            found[(row.asset, row.field, key)] = _Identity(row.asset, row.field, key, row.entity_type, reason)
    for asset in assets:
        for fld in asset.fields:
            where = Where(asset.source, asset.source_name, asset.name, fld["name"])
            reason = resolver.identifier(where, [])
            if reason is not None:
                key = _norm_name(fld["name"])
                found.setdefault((asset.name, fld["name"], key), _Identity(asset.name, fld["name"], key, None, reason))
    return list(found.values())


# -- locating ------------------------------------------------------------------------------------


class _Graph:
    """The inventory's tables of one source, looked up case-insensitively."""

    def __init__(self, assets: Sequence[AssetRecord]) -> None:
        self.assets = {a.name.lower(): a for a in assets if a.kind == "table"}
        self._tables: dict[str, sa.TableClause] = {}

    def get(self, name: str) -> AssetRecord | None:
        return resolve_reference(self.assets, name)

    def children(self, parent: AssetRecord) -> list[tuple[AssetRecord, dict[str, Any]]]:
        out = []
        for asset in self.assets.values():
            for fk in asset.foreign_keys:
                if self.get(fk["referred_table"]) is parent:
                    out.append((asset, fk))
        return out

    def table(self, asset: AssetRecord) -> sa.TableClause:
        """One table clause per asset, so that a query and its subqueries name the same table."""
        found = self._tables.get(asset.name)
        if found is None:
            found = self._tables[asset.name] = table_clause(asset)
        return found

    @staticmethod
    def key_columns(asset: AssetRecord) -> list[str]:
        return list(asset.primary_key) or [f["name"] for f in asset.fields if f["kind"] != "binary"]


def resolve_reference(assets: dict[str, AssetRecord], name: str) -> AssetRecord | None:
    """The asset a foreign key's ``referred_table`` names. Qualification may differ between the
    two (MariaDB reflects ``db.Invoice`` referring to plain ``Customer``), so an unmatched name
    is compared by its bare table name, provided that is unambiguous."""
    found = assets.get(name.lower())
    if found is not None:
        return found
    bare = name.rpartition(".")[2].lower()
    candidates = [a for a in assets.values() if a.name.rpartition(".")[2].lower() == bare]
    return candidates[0] if len(candidates) == 1 else None


def table_clause(asset: AssetRecord) -> sa.TableClause:
    """A lightweight table clause for an inventory asset (``schema.table`` split for PostgreSQL)."""
    schema, dot, name = asset.name.rpartition(".")
    cols = [f["name"] for f in asset.fields]
    return sa.table(name if dot else asset.name, *[sa.column(c) for c in cols], schema=schema or None)


def indexed(asset: AssetRecord, column: str) -> bool:
    """Whether an index (or the primary key) starts with ``column``, so an equality can seek."""
    leading = [ix[0] for ix in asset.indexes if ix]
    if asset.primary_key:
        leading.append(asset.primary_key[0])
    return column.lower() in (c.lower() for c in leading)


def selection(table: sa.TableClause, key_columns: Sequence[str], keys: Sequence[tuple[Any, ...]]) -> list[Any]:
    """WHERE clauses (one per chunk of keys) selecting exactly the given rows of ``table``."""
    clauses = []
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start:start + _CHUNK])
        if len(key_columns) == 1:
            clauses.append(table.c[key_columns[0]].in_([k[0] for k in chunk]))
        else:
            clauses.append(sa.tuple_(*[table.c[c] for c in key_columns]).in_(chunk))
    return clauses


class Locator:
    """Locates one subject in one database source (see the module docstring for the method)."""

    def __init__(self, source: DatabaseSource, assets: Sequence[AssetRecord], identities: Sequence[_Identity],
                 source_name: str | None, *, region: str | None = None, display: str | None = None) -> None:
        self.source = source
        #: the inventory's key for the source, carried by every hit (the URL's display by default)
        self.display = display or source.display
        self.graph = _Graph(assets)
        self.identities = identities
        self.source_name = source_name
        self.region = region
        self._secrets: list[str] = []

    def condition(self, asset: AssetRecord, column: str, key: str, value: str) -> list[Any]:
        """WHERE clauses to try in order: the first that finds rows wins.

        On an indexed column the first clause asks for the exact spellings (an index seek) and
        the second normalises the column (a scan), tried only when the seek found nothing and
        the table is small enough (:data:`NORMALIZED_SCAN_ROWS`) for a scan to be cheap.
        """
        table = self.graph.table(asset)
        col = table.c[column]
        seek = indexed(asset, column)
        if key == "email":
            scan = sa.func.lower(sa.func.trim(col)) == normalize_email(value)
            return [col.in_(email_spellings(value)), scan] if seek else [scan]
        if key == "phone":
            spellings, digits = phone_forms(value, self.region)
            scan = _digits_of(col).in_(sorted(digits))
            return [col.in_(sorted(spellings)), scan] if seek else [scan]
        kind = next((f["kind"] for f in asset.fields if f["name"] == column), "text")
        if kind == "integer":
            try:
                return [col == int(value)]
            except ValueError:
                return [sa.false()]
        return [col == value.strip()]

    def _match(self, conn: Connection, asset: AssetRecord, column: str, key: str, value: str, via: str,
               subject_rows: dict[str, TableHit], order: list[str], guard: Any = None) -> None:
        """Run :meth:`condition`'s clauses. For e-mails every clause runs (within the row limit),
        so a second row spelling the address in another case is found even when the seek found
        one; for other keys the first clause that finds rows wins."""
        clauses = self.condition(asset, column, key, value)
        for number, clause in enumerate(clauses):
            if number and (asset.row_estimate or 0) > NORMALIZED_SCAN_ROWS:
                break
            where = clause if guard is None else sa.and_(clause, guard)
            if self._add(conn, asset, where, "subject", via, subject_rows, order) and key != "email":
                break

    def _not_contradicted(self, asset: AssetRecord, key: str, subject: dict[str, str]) -> Any:
        """A condition keeping the rows whose e-mail columns do not name someone else (None:
        nothing to check). E-mail addresses belong to one person; phones and names do not."""
        email = next((v for k, v in subject.items() if _norm_name(k) == "email"), None)
        if email is None or _norm_name(key) == "email":
            return None
        columns = [i.column for i in self.identities
                   if i.asset.lower() == asset.name.lower() and _norm_name(i.key) == "email"]
        if not columns:
            return None
        table = self.graph.table(asset)
        normalized = normalize_email(email)
        trimmed = [sa.func.trim(table.c[c]) for c in columns]
        return sa.and_(*[
            sa.or_(table.c[c].is_(None), t == "", sa.func.lower(t) == normalized)
            for c, t in zip(columns, trimmed, strict=True)
        ])

    def run(self, subject: dict[str, str], report: LocateReport) -> None:
        """Locate ``subject``; a table whose query fails is recorded in ``report.not_searched`` and
        the rest are still searched. Raises :class:`SourceError` only when no connection can be made."""
        display = self.display
        self._secrets = _secrets(subject, self.region)
        subject_rows: dict[str, TableHit] = {}
        order: list[str] = []
        try:
            conn = self.source.engine.connect()
        except SQLAlchemyError as exc:
            raise self.source.error(exc, "cannot connect") from None
        with conn:
            self._anchors(conn, subject, subject_rows, order, report)
            self._follow(conn, subject_rows, order, report)
            self._links(conn, subject_rows, report)
            self._mentions(conn, subject, subject_rows, report)
        report.hits[:0] = [subject_rows[name] for name in order]
        logger.debug("located in %s: %d tables", display, len(order))

    @contextlib.contextmanager
    def _table(self, conn: Connection, asset: AssetRecord, doing: str, report: LocateReport) -> Iterator[None]:
        """Queries of one table: any failure is recorded as that table not searched, and the
        connection is rolled back so the next table's queries can run (PostgreSQL refuses every
        statement of a failed transaction)."""
        try:
            yield
        except Exception as exc:  # any failure of one table's query: record it, go on with the rest
            with contextlib.suppress(Exception):
                conn.rollback()
            reason = f"{doing}: {scrub_reason(exc, self.source, self._secrets)}"
            logger.debug("not searched %s %s: %s", self.display, asset.name, reason)
            report.not_searched_add("table", self.display, self.source_name, asset.name, reason)

    def _add(self, conn: Connection, asset: AssetRecord, where: Any, role: str, via: str,
             subject_rows: dict[str, TableHit], order: list[str]) -> bool:
        keys_cols = self.graph.key_columns(asset)
        table = self.graph.table(asset)
        keys = [tuple(r) for r in conn.execute(sa.select(*[table.c[c] for c in keys_cols]).where(where))]
        if not keys:
            return False
        name = asset.name.lower()
        hit = subject_rows.get(name)
        if hit is None:
            hit = TableHit(self.display, self.source_name, asset.name, role, 0, [], keys_cols, [])
            subject_rows[name] = hit
            order.append(name)
        known = set(hit.keys)
        new = [k for k in dict.fromkeys(keys) if k not in known]
        if via not in hit.via:
            hit.via.append(via)
        hit.keys.extend(new)
        hit.rows = len(hit.keys)
        return bool(new)

    def _anchors(self, conn: Connection, subject: dict[str, str], subject_rows: dict[str, TableHit],
                 order: list[str], report: LocateReport) -> None:
        wanted = {_norm_name(k): (k, v) for k, v in subject.items()}
        searched: set[tuple[str, str]] = set()
        for ident in self.identities:
            asset = self.graph.get(ident.asset)
            match = wanted.get(_norm_name(ident.key))
            if asset is None or match is None:
                continue
            key, value = match
            searched.add((asset.name, ident.column))
            self._advise(asset, ident.column, "identity column", report)
            via = f"{asset.name}.{ident.column} ({ident.entity or 'identifier'})"
            with self._table(conn, asset, f"searching {ident.column} failed", report):
                self._match(conn, asset, ident.column, key, value, via, subject_rows, order,
                            self._not_contradicted(asset, key, subject))
        # Other keys (customer_id=...) match a column of that name, the primary key first.
        for norm, (key, value) in wanted.items():
            if norm in (_norm_name(k) for k in KEY_ENTITIES) or any(_norm_name(i.key) == norm for i in self.identities):
                continue
            columns = [(a, f["name"], f["primary_key"]) for a in self.graph.assets.values() for f in a.fields
                       if _norm_name(f["name"]) == norm]
            primary = [c for c in columns if c[2]]
            for asset, column, _ in primary or columns:
                if (asset.name, column) in searched:
                    continue
                via = f"{asset.name}.{column} (subject key {key})"
                with self._table(conn, asset, f"searching {column} failed", report):
                    self._match(conn, asset, column, key, value, via, subject_rows, order)

    def _identity_tables(self) -> set[str]:
        return {i.asset.lower() for i in self.identities}

    def _follow(self, conn: Connection, subject_rows: dict[str, TableHit], order: list[str],
                report: LocateReport) -> None:
        """Breadth-first down the references: rows pointing at the subject's rows."""
        queue = list(order)
        others = self._identity_tables()
        while queue:
            parent_name = queue.pop(0)
            parent = self.graph.assets[parent_name]
            parent_hit = subject_rows[parent_name]
            for child, fk in self.graph.children(parent):
                if child is parent or (child.name.lower() in others and child.name.lower() not in subject_rows):
                    continue  # another person's record: reported by _links
                ptable = self.graph.table(parent)
                ctable = self.graph.table(child)
                via = (f"{child.name}.{','.join(fk['columns'])} -> "
                       f"{parent.name}.{','.join(fk['referred_columns'])}")
                with self._table(conn, child, f"following {via} failed", report):
                    for clause in selection(self.graph.table(parent), parent_hit.key_columns, parent_hit.keys):
                        inner = sa.select(*[ptable.c[c] for c in fk["referred_columns"]]).where(clause)
                        if len(fk["columns"]) == 1:
                            where = ctable.c[fk["columns"][0]].in_(inner)
                        else:
                            where = sa.tuple_(*[ctable.c[c] for c in fk["columns"]]).in_(inner)
                        self._advise(child, fk["columns"][0], "foreign key followed", report)
                        added = self._add(conn, child, where, "related", via, subject_rows, order)
                        if added and child.name.lower() not in queue:
                            queue.append(child.name.lower())

    def _links(self, conn: Connection, subject_rows: dict[str, TableHit], report: LocateReport) -> None:
        """Records the subject's rows point to, and others' records that point at them: counted only."""
        links: list[TableHit] = []
        for name, hit in list(subject_rows.items()):
            asset = self.graph.assets[name]
            table = self.graph.table(asset)
            for fk in asset.foreign_keys:
                target = self.graph.get(fk["referred_table"])
                if target is None or target.name.lower() in subject_rows:
                    continue
                count = 0
                with self._table(conn, target, "counting the records the subject's rows point to failed", report):
                    cols = [table.c[c] for c in fk["columns"]]
                    for clause in selection(self.graph.table(asset), hit.key_columns, hit.keys):
                        query = sa.select(*cols).where(clause, *[c.is_not(None) for c in cols]).distinct()
                        count += len(conn.execute(query).all())
                if count:
                    links.append(TableHit(self.display, self.source_name, target.name, "link", count,
                                          [f"{asset.name}.{','.join(fk['columns'])} -> {target.name}"]))
            for child, fk in self.graph.children(asset):
                if child.name.lower() in subject_rows:
                    continue
                ptable, ctable = self.graph.table(asset), self.graph.table(child)
                count = 0
                with self._table(conn, child, "counting the records that point at the subject's rows failed", report):
                    for clause in selection(self.graph.table(asset), hit.key_columns, hit.keys):
                        inner = sa.select(*[ptable.c[c] for c in fk["referred_columns"]]).where(clause)
                        where = (ctable.c[fk["columns"][0]].in_(inner) if len(fk["columns"]) == 1
                                 else sa.tuple_(*[ctable.c[c] for c in fk["columns"]]).in_(inner))
                        query = sa.select(sa.func.count()).select_from(ctable).where(where)
                        count += int(conn.execute(query).scalar() or 0)
                if count:
                    links.append(TableHit(self.display, self.source_name, child.name, "link", count,
                                          [f"{child.name}.{','.join(fk['columns'])} -> {asset.name} (another record)"]))
        report.hits.extend(links)

    def _mentions(self, conn: Connection, subject: dict[str, str], subject_rows: dict[str, TableHit],
                  report: LocateReport) -> None:
        """Long free-text columns that contain an identifier (e-mail or phone spellings)."""
        needles: set[str] = set()
        if "email" in subject:
            needles.add(normalize_email(subject["email"]))
            needles.add(normalize_email(subject["email"]).replace("@", "%40"))  # URL-encoded
        if "phone" in subject:
            spellings, _ = phone_forms(subject["phone"], self.region)
            needles |= {s for s in spellings if len(re.sub(r"\D", "", s)) >= 6}
        if not needles:
            return
        identity_cols = {(i.asset.lower(), i.column.lower()) for i in self.identities}
        for asset in self.graph.assets.values():
            table = self.graph.table(asset)
            for fld in asset.fields:
                if fld["kind"] != "text" or (asset.name.lower(), fld["name"].lower()) in identity_cols:
                    continue
                length = _LENGTH.search(fld["sql_type"] or "")
                if length is not None and int(length.group(1)) < FREE_TEXT_LENGTH:
                    continue
                with self._table(conn, asset, f"searching free text in {fld['name']} failed", report):
                    col = sa.func.lower(table.c[fld["name"]])
                    where = sa.or_(*[col.like(_like_pattern(n.lower()), escape="\\") for n in sorted(needles)])
                    query = sa.select(sa.func.count()).select_from(table).where(where)
                    count = int(conn.execute(query).scalar() or 0)
                    if count:
                        report.hits.append(TableHit(self.display, self.source_name, asset.name, "mention",
                                                    count, [f"{asset.name}.{fld['name']} (free text)"]))

    def _advise(self, asset: AssetRecord, column: str, why: str, report: LocateReport) -> None:
        if indexed(asset, column) or (asset.row_estimate or 0) < ADVICE_ROWS:
            return
        if any(a.asset == asset.name and a.column == column for a in report.advice):
            return
        _, dot, bare = asset.name.rpartition(".")
        name = re.sub(r"\W", "_", f"ix_{bare if dot else asset.name}_{column}").lower()
        report.advice.append(Advice(
            self.display, asset.name, column, asset.row_estimate,
            f"CREATE INDEX {name} ON {asset.name} ({column})",
            f"{why} without an index: every lookup scans about {asset.row_estimate} rows",
        ))


# -- which sources -------------------------------------------------------------------------------


class SourceUnavailable(SourceError):
    """A located source cannot be reopened (its password was not kept, its file is gone...)."""


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")


def _secrets(subject: dict[str, str], region: str | None = None) -> list[str]:
    """Every spelling of the subject's identifiers that an error message could echo."""
    found: set[str] = set()
    for key, value in subject.items():
        if not value or not value.strip():
            continue
        found |= {value, value.strip(), value.strip().lower()}
        if _norm_name(key) == "phone":
            spellings, digits = phone_forms(value, region)
            found |= spellings | {d for d in digits if len(d) >= 4}
    return sorted((f for f in found if f), key=len, reverse=True)


def scrub_reason(exc: BaseException, source: DatabaseSource | None, secrets: Sequence[str]) -> str:
    """One line saying why, safe to show and to log: the driver's first line with the password,
    quoted text (where databases echo values: ``Duplicate entry '...'``, ``invalid input syntax
    ... "..."``) and the subject's identifiers taken out."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig)
    if source is not None:
        text = source.scrub(text)
    text = scrub_text(text, secrets)
    name = type(orig).__name__
    return (f"{name}: {text}" if text and not text.startswith(name) else text or name)[:300]


def scrub_text(text: str, secrets: Sequence[str]) -> str:
    """The first line of ``text`` without quoted text and without any of ``secrets``."""
    lines = text.strip().splitlines()
    line = _QUOTED.sub("'...'", lines[0] if lines else "")
    for secret in secrets:
        line = re.sub(re.escape(secret), "***", line, flags=re.IGNORECASE)
    return line.strip()[:300]


def _sqlite_file(database: str, workspace: Workspace) -> Path | None:
    """The file a SQLite URL's database names: absolute, or relative to the workspace (as for
    configured sources), else to the current folder (as ``govkit scan URL`` read it)."""
    path = Path(database)
    if path.is_absolute():
        return path if path.is_file() else None
    for base in (workspace.root, Path.cwd()):
        if (base / path).is_file():
            return (base / path).resolve()
    return None


def open_url(workspace: Workspace, display: str) -> str:
    """The connectable URL of a database source known only by its display (the inventory's key:
    the URL with the password shown as ``***``), e.g. one scanned as ``govkit scan URL``.

    A display without a password is the URL itself (a relative SQLite path is found as the scan
    found it). A masked password is taken from the workspace source with the same display, if
    there is one; govkit keeps no password anywhere else, so otherwise the source cannot be
    reopened: :class:`SourceUnavailable` says so, and how to fix it.
    """
    for name, config in workspace.sources.items():
        if config.kind != "database":
            continue
        try:
            url = config.resolved_url()
        except GovkitError:
            continue
        if redact(url) == display:
            logger.debug("source %s: the password of workspace source %r", display, name)
            return url
    try:
        parsed = make_url(display)
    except (ArgumentError, ValueError):
        raise SourceUnavailable(f"{display}: not a database URL") from None
    if has_password(display):  # a masked password or secret query argument (?password=***)
        raise SourceUnavailable(
            f"{display}: scanned by URL with a password, which govkit does not keep; add it to govkit.toml "
            "as a source (password from an environment variable, ${VAR}) to search it")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            found = _sqlite_file(database, workspace)
            if found is None:
                raise SourceUnavailable(f"{display}: no such SQLite file")
            return parsed.set(database=str(found)).render_as_string(hide_password=False)
    return parsed.render_as_string(hide_password=False)


def source_config(workspace: Workspace, display: str, source_name: str | None = None) -> SourceConfig:
    """What reopens a located source (:attr:`TableHit.source`, :attr:`TableHit.source_name`): the
    workspace's source when it has a name; else, for a source scanned by URL or path, a
    :class:`SourceConfig` built from its display (``kind``, ``resolved_url()`` and the file
    helpers work on it as on a configured one). Raises :class:`SourceUnavailable` when a URL
    source's password was not kept."""
    if source_name is not None:
        return workspace.source(source_name)
    if "://" in display:
        return SourceConfig(name=display, url=open_url(workspace, display))
    return SourceConfig(name=display, path=display, root=workspace.root)


def _same_url(url: str) -> str:
    """A comparable form of a connectable URL (two spellings of one SQLite file compare equal)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return url
    if parsed.get_backend_name() == "sqlite" and parsed.database and Path(parsed.database).is_absolute():
        parsed = parsed.set(database=str(Path(parsed.database).resolve()))
    return parsed.render_as_string(hide_password=False)


@dataclass(slots=True)
class _Target:
    """One source to search: the inventory entry that maps it (``display``, which hits carry so
    that export and erasure find the same inventory entry), its workspace ``name`` (None for a
    source scanned by URL or path), and how to open it (``config``)."""

    display: str
    name: str | None
    kind: str
    config: SourceConfig


def _targets(workspace: Workspace, inventory: Inventory, report: LocateReport) -> list[_Target]:
    """Every source of govkit.toml and every source of the inventory, each once; what cannot be
    searched goes to ``report.not_searched`` with the reason."""
    from govkit.actions.dsr.files import file_root

    latest = inventory.latest_scans()
    known = {src.display: src for src in inventory.sources()}
    mapped = {display for display, src in known.items() if src.id in latest}
    # How to reach each inventory source, so that one database scanned both by name and by URL
    # (two displays: a relative and an absolute SQLite path) is searched once.
    reach: dict[str, str] = {}
    unreachable: dict[str, str] = {}
    for display, src in known.items():
        if src.kind == "files":
            reach[display] = str(Path(display).resolve())
            continue
        try:
            reach[display] = _same_url(open_url(workspace, display))
        except SourceUnavailable as exc:
            unreachable[display] = str(exc).removeprefix(f"{display}: ")
    targets: list[_Target] = []
    claimed: set[str] = set()
    reached: set[str] = set()
    for name, config in sorted(workspace.sources.items()):
        if config.kind == "database":
            try:
                display = redact(config.resolved_url())
                key = _same_url(config.resolved_url())
            except GovkitError as exc:
                report.not_searched_add("source", redact(config.url or ""), name, None, str(exc))
                continue
        else:
            display = str(file_root(config))
            key = display
        if key in reached:
            continue  # two names for one database or folder: searched once
        # its inventory entry: by display, else by name (a moved workspace not rescanned yet),
        # else one that reaches the same database (scanned by URL before it was named)
        candidates = [display] + [d for d, src in known.items() if src.name == name] + [
            d for d in sorted(reach) if reach[d] == key]
        entry = next((d for d in candidates if d in mapped and d not in claimed), None)
        claimed.update(d for d in candidates if d == display or reach.get(d) == key)
        if entry is None:
            never = "no successful scan yet" if display in known else "not scanned yet"
            report.not_searched_add("source", display, name, None, f"{never}: run 'govkit scan {name}'")
            continue
        claimed.add(entry)
        reached.add(key)
        targets.append(_Target(entry, name, config.kind, config))
    for display, src in sorted(known.items()):
        if display in claimed:
            continue  # searched under its name
        if not src.name:
            label = "scanned by URL or path"
        elif src.name in workspace.sources:
            label = f"scanned as source {src.name!r}, which govkit.toml now points elsewhere"
        else:
            label = f"scanned as source {src.name!r}, no longer in govkit.toml"
        if src.id not in latest:
            report.not_searched_add("source", display, None, None, f"{label}: no successful scan to search by")
            continue
        if display in unreachable:
            report.not_searched_add("source", display, None, None, f"{label}: {unreachable[display]}")
            continue
        if reach[display] in reached:
            continue  # the same database or folder, already searched
        reached.add(reach[display])
        config = source_config(workspace, display)
        targets.append(_Target(display, None, src.kind, config))
    return targets


def _scan_gaps(skipped: Sequence[dict[str, Any]], target: _Target, assets: Sequence[AssetRecord],
               report: LocateReport, secrets: Sequence[str]) -> None:
    """Tables and files the newest scan skipped as a whole: locate knows nothing of them."""
    from govkit.sources.files import UNCHANGED

    not_gaps = (UNCHANGED, "binary file", "symlink loop", "same file as", "not a regular file")
    present = {a.name for a in assets}
    for item in skipped:
        asset, reason = item.get("asset"), str(item.get("reason", ""))
        if (item.get("source") != target.display or item.get("field") or not asset or asset == "*"
                or asset in present or reason.startswith(not_gaps)):
            continue
        reason = scrub_text(reason.removeprefix(f"{target.display}: "), secrets)
        report.not_searched_add("table" if target.kind == "database" else "file", target.display, target.name,
                                asset, f"skipped by the scan: {reason}")


def locate(
    workspace: Workspace, subject: dict[str, str], *, policy: Policy | None = None,
    inventory: Inventory | None = None, region: str | None = None,
) -> LocateReport:
    """Locate ``subject`` in every source of the workspace and of the inventory (see the module
    docstring); what cannot be searched is in ``not_searched``."""
    from govkit.actions.dsr.files import locate_files
    from govkit.policy.loader import active_policy

    started = time.perf_counter()
    policy = policy or active_policy(workspace.root)
    resolver = Resolver(policy)
    own_inventory = inventory is None
    inv = inventory or Inventory(workspace.inventory_path)
    report = LocateReport(sorted(subject))
    secrets = _secrets(subject, region)
    try:
        skipped = inv.latest_skipped()
        for target in _targets(workspace, inv, report):
            assets = inv.assets(target.display)
            _scan_gaps(skipped, target, assets, report, secrets)
            if target.kind != "database":
                files = [a for a in assets if a.kind == "file"]
                locate_files(target.config, target.display, files, subject, report, region, source_name=target.name)
                report.searched.append(target.name or target.display)
                continue
            shown = target.display
            try:
                shown = redact(target.config.resolved_url())
                with DatabaseSource(target.config.resolved_url()) as source:
                    source.check()
                    identities = identity_fields(inv, resolver, target.display)
                    tables = [a for a in assets if a.kind == "table"]
                    locator = Locator(source, tables, identities, target.name, region=region, display=target.display)
                    locator.run(subject, report)
            except GovkitError as exc:
                reason = scrub_reason(exc, None, secrets).removeprefix(f"{type(exc).__name__}: ")
                report.not_searched_add("source", target.display, target.name, None,
                                        reason.removeprefix(f"{shown}: ").removeprefix(f"{target.display}: "))
                continue
            report.searched.append(target.name or target.display)
    finally:
        if own_inventory:
            inv.close()
    order = {"subject": 0, "related": 1, "link": 2, "mention": 3}
    report.hits.sort(key=lambda h: (h.source, order[h.role]))
    report.elapsed_s = time.perf_counter() - started
    return report
