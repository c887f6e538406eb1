"""Databases through SQLAlchemy: reflect the schema, sample rows without reading it all.

Sampling has to be cheap on a billion-row table and reproducible (the same seed picks the
same rows), so each dialect gets the cheapest way it has, behind a registry:

* PostgreSQL: ``TABLESAMPLE BERNOULLI (p) REPEATABLE (seed)`` (``SYSTEM`` beyond 5M rows,
  which samples pages instead of rows);
* SQLite: random ``rowid`` ranges, each an index seek;
* anything else with a single integer primary key: random key ranges, likewise;
* otherwise: the first N rows, and the scan says so.

Small tables (at most about twice the sample) are read whole. ``stream`` reads every row
with a server-side cursor in bounded memory for ``govkit scan --full``.

Values are never put into an exception, a log line or a query string: engines are created
with ``hide_parameters=True`` and error messages are scrubbed of the URL's password.
"""

from __future__ import annotations

import fnmatch
import logging
import math
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from govkit import limits
from govkit.detect.columns import MAX_VALUE_CHARS, ValueKind
from govkit.errors import SourceError, UsageError

_SYSTEM_SCHEMAS = frozenset({
    "information_schema", "pg_catalog", "pg_toast", "mysql", "performance_schema", "sys",
})
_RANGE_ROWS = 20


@dataclass(slots=True)
class ColumnInfo:
    name: str
    kind: ValueKind
    sql_type: str
    nullable: bool = True
    primary_key: bool = False


@dataclass(slots=True)
class ForeignKey:
    columns: list[str]
    referred_table: str
    referred_columns: list[str]


@dataclass(slots=True)
class TableInfo:
    """A table or view, with what DSR and erasure need later: keys, references, indexes."""

    schema: str | None
    name: str
    qualified: str
    kind: str  # "table" | "view"
    columns: list[ColumnInfo]
    primary_key: list[str] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    indexes: list[list[str]] = field(default_factory=list)
    row_estimate: int | None = None


@dataclass(slots=True)
class Sample:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    method: str


#: URL query arguments that hold a secret, by name with separators removed and lower-cased:
#: drivers take a password as ``?password=`` (libpq, PyMySQL) or ``?passwd=`` / ``?pwd=``
#: (MySQLdb, ODBC), a client key or its passphrase (``sslkey``, ``ssl_key``, ``sslpassword``)
#: and cloud drivers tokens and API keys. Matched as substrings, except ``key``, which must
#: end the name (``sslkey``, ``api_key``, ``private_key``; not ``keepalives``). Narrower than
#: the audit log's test (``auth_plugin``, ``require_auth`` are not secrets and stay shown),
#: because a display is a source's identity: it only changes for URLs that carry a secret.
_SECRET_PARAM_PARTS = (
    "password", "passwd", "pwd", "passphrase", "secret", "token", "credential", "apikey",
)
_NOT_A_SECRET_PARAM = frozenset({"keyid", "tokenid", "secretid"})


def is_secret_param(name: str) -> bool:
    """Whether the URL query argument ``name`` holds a secret (its value is never shown)."""
    flat = "".join(c for c in name.lower() if c.isalnum())
    if flat in _NOT_A_SECRET_PARAM:
        return False
    return any(part in flat for part in _SECRET_PARAM_PARTS) or flat.endswith("key")


def secret_params(url: URL) -> list[str]:
    """The names of ``url``'s query arguments that hold a secret."""
    return [name for name in url.query if is_secret_param(name)]


def _rough_redact(text: str) -> str:
    """A string that is not a URL, as it may be shown: whatever could be a password (between
    ``://`` and ``@``) and the query masked, cut to 200 characters."""
    shown = re.sub(r"(://)[^/]*@", r"\1***@", text.split("?", 1)[0])
    return shown if len(shown) <= 200 else shown[:197] + "..."


def redact(url: str | URL) -> str:
    """The URL as it may be shown: the password, and the values of query arguments that hold
    a secret (``?password=``, ``?sslkey=``, ``?token=`` ...), as ``***``. This is the
    findings contract's ``source`` and the inventory's key for the source, so a URL without
    a secret renders exactly as SQLAlchemy renders it."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except (ArgumentError, ValueError):
        return "<unparseable URL>"
    secret = set(secret_params(parsed))
    if not secret:
        return parsed.render_as_string(hide_password=True)
    # SQLAlchemy's own rendering of the query (sorted names, quote_plus), with "***" left
    # unquoted like the password's.
    from urllib.parse import quote_plus

    query = "&".join(
        f"{quote_plus(name)}={'***' if name in secret else quote_plus(value)}"
        for name in sorted(parsed.query)
        for value in _values(parsed.query[name])
    )
    return parsed.set(query={}).render_as_string(hide_password=True) + "?" + query


def _values(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def warn_if_password_given(url: str) -> None:
    """Warn when a URL typed on the command line carries a secret (shell history keeps it).
    Every command that takes a URL argument calls this, so the warning is the same everywhere."""
    if has_password(url):
        logging.getLogger("govkit").warning(
            "a password was given in a URL on the command line, where shell history keeps it; put it in an "
            "environment variable and reference it from govkit.toml")


def has_password(url: str) -> bool:
    """Whether ``url`` carries a secret: a password, or a secret query argument."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return False
    return parsed.password is not None or bool(secret_params(parsed))


#: ``name=value`` as in a libpq conninfo string or a query string; the value may be quoted.
_SECRET_PAIR = re.compile(
    r"""(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<sep>\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'|"[^"]*"|[^\s&;,'")]+)""")
#: ``scheme://user:password@``
_USERINFO = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)[^\s@]*@")


def scrub_secrets(message: str, secrets: Sequence[str] = ()) -> str:
    """``message`` without ``secrets``, URL passwords and secret ``name=value`` pairs."""
    for secret in secrets:
        if len(secret) >= 4:
            message = message.replace(secret, "***")
        elif secret:  # a short secret only as a whole word, or every "a" would go
            message = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "***", message)
    message = _USERINFO.sub(lambda m: f"{m['head']}***@", message)
    return _SECRET_PAIR.sub(
        lambda m: f"{m['name']}{m['sep']}***" if is_secret_param(m["name"]) else m[0], message)


def url_secrets(url: URL) -> list[str]:
    """Every secret in ``url``, in every spelling a driver might echo (as given, URL-quoted),
    longest first, so that error messages can be scrubbed of them."""
    values = [str(url.password)] if url.password is not None else []
    for name in secret_params(url):
        values += _values(url.query[name])
    from urllib.parse import quote, quote_plus

    spellings = {form for v in values if v for form in (v, quote(v, safe=""), quote_plus(v))}
    return sorted(spellings, key=len, reverse=True)


class DatabaseSource:
    """One database. Create, use, ``close()`` (or use as a context manager)."""

    def __init__(
        self,
        url: str,
        *,
        include: Sequence[str] = ("*",),
        exclude: Sequence[str] = (),
        schemas: Sequence[str] | None = None,
    ) -> None:
        try:
            self.url = make_url(url)
        except (ArgumentError, ValueError):
            raise UsageError(
                f"{_rough_redact(url)}: not a database URL (expected e.g. sqlite:///file.db or "
                f"postgresql://user@host/db)"
            ) from None
        self.display = redact(self.url)
        if self.url.port is not None and not 0 < self.url.port < 65536:
            raise UsageError(f"{self.display}: port {self.url.port} is out of range (1 to 65535)")
        self._secrets = url_secrets(self.url)
        self.include = list(include) or ["*"]
        self.exclude = list(exclude)
        self.schemas = list(schemas) if schemas else None
        self.engine = self._create_engine()

    def __enter__(self) -> DatabaseSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _create_engine(self) -> Engine:
        try:
            engine = create_engine(self.url, pool_pre_ping=True)
        except NoSuchModuleError:
            raise UsageError(f"{self.display}: unknown database type {self.url.drivername!r}") from None
        except (ArgumentError, ImportError) as exc:
            raise UsageError(f"{self.display}: {self.scrub(_first_line(exc))}") from None
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_tolerant_text)
        return engine

    def scrub(self, message: str) -> str:
        """Remove the URL's secrets (password, secret query arguments) from a driver's
        message, should a driver ever echo them, as a value or as a ``password=...`` pair."""
        return scrub_secrets(message, self._secrets)

    def error(self, exc: BaseException, doing: str) -> SourceError:
        orig = getattr(exc, "orig", None) or exc
        message = self.scrub(_first_line(orig))
        if _TIMED_OUT.search(message):
            message += timeout_hint(self.url, connecting=doing == "cannot connect")
        return SourceError(f"{self.display}: {doing}: {message}")

    def check(self) -> None:
        """Connect once, so that a wrong URL or password fails before any work starts."""
        if self.url.get_backend_name() == "sqlite":
            database = self.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                from pathlib import Path

                if not Path(database).is_file():
                    raise SourceError(f"{self.display}: no such SQLite file")
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise self.error(exc, "cannot connect") from None

    # -- reflection -------------------------------------------------------------------

    def tables(self) -> list[TableInfo]:
        """Tables and views selected by the include/exclude globs, with keys and indexes."""
        try:
            inspector = sa.inspect(self.engine)
            default = inspector.default_schema_name
            if self.schemas:
                schemas = self.schemas
            elif self.dialect in ("mysql", "mariadb") and self.url.database:
                # A MySQL "schema" is a database: scan the one the URL names, not every
                # database the account happens to see.
                schemas = [self.url.database]
            else:
                schemas = [s for s in inspector.get_schema_names() if s not in _SYSTEM_SCHEMAS]
            qualify = self.dialect == "postgresql" or len(schemas) > 1
            found: list[TableInfo] = []
            for schema in schemas:
                schema_arg = None if schema == default and not qualify else schema
                names = [(n, "table") for n in inspector.get_table_names(schema=schema_arg)]
                names += [(n, "view") for n in inspector.get_view_names(schema=schema_arg)]
                for name, kind in sorted(names):
                    qualified = f"{schema}.{name}" if qualify else name
                    if not self._selected(qualified, name):
                        continue
                    found.append(self._describe(inspector, schema_arg, name, qualified, kind))
            return found
        except SQLAlchemyError as exc:
            raise self.error(exc, "cannot read the schema") from None

    def _selected(self, qualified: str, name: str) -> bool:
        return selected_by_globs(qualified, self.include, self.exclude, name)

    def _describe(
        self, inspector: sa.Inspector, schema: str | None, name: str, qualified: str, kind: str
    ) -> TableInfo:
        pk = inspector.get_pk_constraint(name, schema=schema).get("constrained_columns") or []
        columns = [
            ColumnInfo(
                name=c["name"],
                kind=kind_of(c["type"]),
                sql_type=_type_name(c["type"]),
                nullable=bool(c.get("nullable", True)),
                primary_key=c["name"] in pk,
            )
            for c in inspector.get_columns(name, schema=schema)
        ]
        fks = []
        indexes: list[list[str]] = []
        if kind == "table":
            for fk in inspector.get_foreign_keys(name, schema=schema):
                referred = fk["referred_table"]
                if fk.get("referred_schema") and (self.dialect == "postgresql" or self.schemas):
                    referred = f"{fk['referred_schema']}.{referred}"
                elif self.dialect == "postgresql" and schema:
                    referred = f"{schema}.{referred}"
                fks.append(ForeignKey(fk["constrained_columns"], referred, fk["referred_columns"]))
            indexes = [
                [c for c in ix["column_names"] if c] for ix in inspector.get_indexes(name, schema=schema)
            ]
        info = TableInfo(schema, name, qualified, kind, columns, pk, fks, indexes)
        info.row_estimate = self._estimate_rows(info)
        return info

    def _estimate_rows(self, table: TableInfo) -> int | None:
        """A cheap row count: catalogue statistics where the database keeps them."""
        queries: dict[str, tuple[str, dict[str, Any]]] = {
            "postgresql": (
                "SELECT c.reltuples::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = :schema AND c.relname = :name",
                {"schema": table.schema or "public", "name": table.name},
            ),
            "mysql": (
                "SELECT table_rows FROM information_schema.tables"
                " WHERE table_schema = COALESCE(:schema, DATABASE()) AND table_name = :name",
                {"schema": table.schema, "name": table.name},
            ),
        }
        try:
            with self.engine.connect() as conn:
                if self.dialect == "sqlite" and table.kind == "table":
                    # Two scalar subqueries: SQLite answers a lone min(rowid) or max(rowid) from
                    # the b-tree's ends, but both in one SELECT scan the whole table (0.3 s a
                    # million rows, paid by every command that reads the schema).
                    rowid: sa.ColumnElement[Any] = sa.literal_column("rowid")
                    ends = [sa.select(f(rowid)).select_from(self.sa_table(table)).scalar_subquery()
                            for f in (sa.func.min, sa.func.max)]
                    low_high: Any = conn.execute(sa.select(*ends)).one()
                    if low_high[0] is None:
                        return 0
                    return int(low_high[1]) - int(low_high[0]) + 1
                query = queries.get(self.dialect)
                if query is not None:
                    value = conn.execute(sa.text(query[0]), query[1]).scalar()
                    # PostgreSQL says -1 before the first ANALYZE.
                    if value is not None and int(value) >= 0:
                        return int(value)
                return None
        except SQLAlchemyError:
            return None

    # -- reading ----------------------------------------------------------------------

    def sa_table(self, table: TableInfo, columns: Sequence[str] | None = None) -> sa.TableClause:
        names = columns if columns is not None else [c.name for c in table.columns]
        return sa.table(table.name, *[sa.column(n) for n in names], schema=table.schema)

    def readable_columns(self, table: TableInfo) -> list[ColumnInfo]:
        return [c for c in table.columns if c.kind != "binary"]

    def _select(self, table: TableInfo, clause: sa.FromClause | None = None) -> sa.Select[Any]:
        """SELECT of the readable columns, long texts cut in the database, not in Python."""
        readable = self.readable_columns(table)
        if clause is None:
            clause = self.sa_table(table, [c.name for c in readable])
        exprs: list[Any] = [
            sa.func.substr(clause.c[c.name], 1, MAX_VALUE_CHARS).label(c.name)
            if c.kind == "text"
            else clause.c[c.name]
            for c in readable
        ]
        return sa.select(*exprs).select_from(clause)

    def sample(self, table: TableInfo, size: int, seed: int) -> Sample:
        """Up to ``size`` rows, chosen reproducibly from ``seed``."""
        names = [c.name for c in self.readable_columns(table)]
        if not names:
            return Sample([], [], "no readable columns")
        try:
            with self.engine.connect() as conn:
                estimate = table.row_estimate
                if estimate is not None and estimate <= size * 2:
                    rows = conn.execute(self._select(table).limit(size * 2 + 10)).all()
                    if len(rows) <= size * 2:
                        return Sample(names, _thin(rows, size, seed), "all rows")
                sampler = _SAMPLERS.get(self.dialect, _key_range_sample)
                rows, method = sampler(self, conn, table, size, seed)
                return Sample(names, [tuple(r) for r in rows], method)
        except SQLAlchemyError as exc:
            raise self.error(exc, f"cannot read {table.qualified}") from None

    def stream(self, table: TableInfo, batch_size: int = 5000) -> Iterator[list[tuple[Any, ...]]]:
        """Every row, in batches, through a server-side cursor."""
        try:
            with self.engine.connect() as conn:
                result = conn.execution_options(stream_results=True, max_row_buffer=batch_size).execute(
                    self._select(table)
                )
                for batch in result.partitions(batch_size):
                    yield [tuple(r) for r in batch]
        except SQLAlchemyError as exc:
            raise self.error(exc, f"cannot read {table.qualified}") from None


# -- timeouts -----------------------------------------------------------------------------


#: What drivers say when a timeout ended the wait (psycopg: "connection timeout expired",
#: "canceling statement due to statement timeout"; PyMySQL: "... (timed out)"; SQLite,
#: after its lock wait: "database is locked").
_TIMED_OUT = re.compile(r"time(?:d)?[ -]?out|database is locked", re.IGNORECASE)


def _query_keys(url: URL) -> set[str]:
    return {name.lower() for name in url.query}


def connect_args(url: URL, active: limits.Limits | None = None) -> dict[str, Any]:
    """The driver arguments that bound waiting on ``url``'s database (docs/limits.md).

    From ``[limits]`` (``connect_timeout``, ``statement_timeout``; 0 leaves a wait
    unbounded), per driver; an argument already in the URL's query (``?connect_timeout=3``,
    ``?options=...``, ``?read_timeout=...``, ``?timeout=...``) wins:

    * PostgreSQL (psycopg, psycopg2): libpq ``connect_timeout`` (whole seconds, at least 2)
      bounds connecting and logging in; ``options=-c statement_timeout=MS`` makes the server
      cancel a longer statement;
    * MySQL/MariaDB (PyMySQL): ``connect_timeout``, and ``read_timeout``/``write_timeout``
      for the handshake; once connected, reads and writes wait up to the statement timeout
      (:func:`_pymysql_statement_timeout`): a server that stops answering mid-query ends it;
    * SQLite: ``timeout``, how long to wait for another process's lock.
    """
    active = active or limits.active()
    backend = url.get_backend_name()
    try:
        driver = url.get_driver_name()
    except Exception:  # an unknown dialect: create_engine reports it
        return {}
    given = _query_keys(url)
    connect, statement = active.connect_timeout, active.statement_timeout
    args: dict[str, Any] = {}
    if backend == "postgresql" and driver in ("psycopg", "psycopg2", "psycopg2cffi"):
        if connect and "connect_timeout" not in given:
            args["connect_timeout"] = max(2, math.ceil(connect))
        if statement and "options" not in given:
            args["options"] = f"-c statement_timeout={max(1, round(statement * 1000))}"
    elif backend in ("mysql", "mariadb") and driver == "pymysql":
        if connect:
            for key in ("connect_timeout", "read_timeout", "write_timeout"):
                if key not in given:
                    args[key] = connect
    elif backend == "sqlite" and connect and "timeout" not in given:
        args["timeout"] = connect
    return args


def create_engine(url: URL | str, **options: Any) -> Engine:
    """``sa.create_engine`` with values hidden from errors and the waits bounded (:func:`connect_args`)."""
    url = make_url(url) if isinstance(url, str) else url
    engine = sa.create_engine(url, hide_parameters=True, connect_args=connect_args(url), **options)
    active = limits.active()
    if engine.dialect.driver == "pymysql" and not _query_keys(url) & {"read_timeout", "write_timeout"}:
        sa.event.listen(engine, "connect", _pymysql_statement_timeout(active.statement_timeout))
    return engine


def _pymysql_statement_timeout(seconds: float) -> Callable[[Any, Any], None]:
    """After the handshake (bounded by the connect timeout), reads and writes wait up to
    ``seconds`` (0: no limit). PyMySQL reads these attributes before every socket wait."""

    def apply(dbapi_connection: Any, _record: Any) -> None:
        if hasattr(dbapi_connection, "_read_timeout"):
            dbapi_connection._read_timeout = seconds or None
            dbapi_connection._write_timeout = seconds or None

    return apply


def timeout_hint(url: URL, *, connecting: bool) -> str:
    """`` (limit: ...)`` for an error that a timeout caused: which setting, and its value."""
    given = sorted(_query_keys(url) & {"connect_timeout", "read_timeout", "write_timeout", "options", "timeout"})
    if given:
        return f" (limit: {', '.join(given)} in the URL)"
    if url.get_backend_name() == "sqlite":
        return f" (limit: connect_timeout = {limits.active().connect_timeout:g} s, the wait for a lock)"
    which = "connect_timeout" if connecting else "statement_timeout"
    return f" (limit: {which} = {getattr(limits.active(), which):g} s; set it in govkit.toml under limits)"


# -- samplers (registry by dialect) ------------------------------------------------------

Sampler = Callable[[DatabaseSource, Connection, TableInfo, int, int], tuple[Sequence[Any], str]]


def _postgres_sample(
    source: DatabaseSource, conn: Connection, table: TableInfo, size: int, seed: int
) -> tuple[Sequence[Any], str]:
    estimate = max(table.row_estimate or 0, 1)
    if table.kind != "table" or estimate <= size * 2:
        return conn.execute(source._select(table).limit(size)).all(), "first rows"
    percent = min(100.0, 100.0 * size * 1.5 / estimate)
    method = "SYSTEM" if estimate > 5_000_000 else "BERNOULLI"
    sampled = sa.tablesample(
        source.sa_table(table), getattr(sa.func, method.lower())(percent), seed=sa.literal_column(str(int(seed)))
    )
    select = source._select(table, sampled)
    return conn.execute(select.limit(size)).all(), f"TABLESAMPLE {method} ({percent:.4f}%)"


def _sqlite_sample(
    source: DatabaseSource, conn: Connection, table: TableInfo, size: int, seed: int
) -> tuple[Sequence[Any], str]:
    if table.kind != "table" or table.row_estimate is None:
        return conn.execute(source._select(table).limit(size)).all(), "first rows"
    rowid: Any = sa.literal_column("rowid")
    bounds = sa.select(sa.func.min(rowid), sa.func.max(rowid)).select_from(source.sa_table(table))
    low, high = conn.execute(bounds).one()
    return _ranges(conn, source._select(table), rowid, int(low), int(high), size, seed), "random rowid ranges"


def _key_range_sample(
    source: DatabaseSource, conn: Connection, table: TableInfo, size: int, seed: int
) -> tuple[Sequence[Any], str]:
    key = table.primary_key[0] if len(table.primary_key) == 1 else None
    key_info = next((c for c in table.columns if c.name == key), None)
    if key is None or key_info is None or key_info.kind != "integer" or table.kind != "table":
        return conn.execute(source._select(table).limit(size)).all(), "first rows (no sampling key)"
    column: Any = sa.column(key)
    bounds = sa.select(sa.func.min(column), sa.func.max(column)).select_from(source.sa_table(table, [key]))
    low, high = conn.execute(bounds).one()
    if low is None:
        return [], "empty"
    return _ranges(conn, source._select(table), column, int(low), int(high), size, seed), "random key ranges"


def _ranges(
    conn: Connection, select: sa.Select[Any], key: Any, low: int, high: int, size: int, seed: int
) -> list[Any]:
    """Rows from ``size / 20`` random ranges of 20 consecutive keys: index seeks only."""
    rng = random.Random(seed)
    wanted = max(1, -(-size // _RANGE_ROWS))
    starts = sorted({rng.randint(low, high) for _ in range(wanted * 2)})[: wanted * 2]
    rng.shuffle(starts)
    rows: list[Any] = []
    for start in starts:
        if len(rows) >= size:
            break
        rows.extend(conn.execute(select.where(key >= start).order_by(key).limit(_RANGE_ROWS)).all())
    return rows[:size]


_SAMPLERS: dict[str, Sampler] = {
    "postgresql": _postgres_sample,
    "sqlite": _sqlite_sample,
}


# -- helpers -------------------------------------------------------------------------------


def selected_by_globs(qualified: str, include: Sequence[str], exclude: Sequence[str], name: str = "") -> bool:
    """Whether a table passes include/exclude globs (matched case-insensitively against
    the qualified name ``schema.table`` and the bare table name)."""

    def match(patterns: Sequence[str]) -> bool:
        return any(
            fnmatch.fnmatchcase(qualified.lower(), p.lower()) or (name and fnmatch.fnmatchcase(name.lower(), p.lower()))
            for p in patterns
        )

    return match(include or ["*"]) and not match(exclude)


def _thin(rows: Sequence[Any], size: int, seed: int) -> list[tuple[Any, ...]]:
    out = [tuple(r) for r in rows]
    if len(out) > size:
        out = random.Random(seed).sample(out, size)
    return out


def kind_of(sql_type: Any) -> ValueKind:
    """Map a reflected SQL type to the classifier's coarse kind."""
    checks: list[tuple[type, ValueKind]] = [
        (sa.Boolean, "boolean"),
        (sa.LargeBinary, "binary"),
        (sa.types._Binary, "binary"),
        (sa.Integer, "integer"),
        (sa.Numeric, "number"),
        (sa.Float, "number"),  # not a Numeric subclass in SQLAlchemy 2.1
        (sa.DateTime, "datetime"),
        (sa.Date, "date"),
        (sa.Time, "other"),
        (sa.String, "text"),
        (sa.Enum, "text"),
    ]
    for cls, kind in checks:
        if isinstance(sql_type, cls):
            return kind
    name = type(sql_type).__name__.upper()
    if "BLOB" in name or "BINARY" in name or "BYTEA" in name:
        return "binary"
    if "JSON" in name or "TEXT" in name or "CHAR" in name:
        return "text"
    return "other"


def _type_name(sql_type: Any) -> str:
    try:
        return str(sql_type)
    except Exception:  # some dialect types cannot render without a dialect
        return type(sql_type).__name__


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line[:300]


def _sqlite_tolerant_text(dbapi_connection: Any, _record: Any) -> None:
    """Decode invalid UTF-8 with replacement instead of failing the whole table."""
    dbapi_connection.text_factory = lambda raw: raw.decode("utf-8", "replace")
