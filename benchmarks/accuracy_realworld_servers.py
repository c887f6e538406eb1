"""Load the realworld databases into PostgreSQL or MariaDB, each in its own per-run database.

The ``realworld`` group (accuracy_realworld.py) scores five SQLite files; ``--dialect
postgresql|mariadb`` scores the same data on a server. Each load goes into a database named
``gk_rw_<random>`` that :func:`drop` removes at the end, so concurrent runs never meet.

Where an original dump loads as it is on the dialect, it is used (only its own
``CREATE DATABASE``/``USE`` lines are dropped, so it lands in the per-run database):

* MariaDB: classicmodels (``mysqlsampledatabase.sql``), Sakila (``sakila-mv-schema.sql`` +
  ``sakila-mv-data.sql``, triggers and routines included: the ``DELIMITER`` client command is
  honoured by :func:`_mysql_statements`) and Metabase (its four scripts, written for both);
* PostgreSQL: Metabase.

The others have no dump for the dialect: Northwind's is SQLite's own dialect (``[brackets]``,
``X'..'`` blobs, ``PRAGMA``), employees ships only as a SQLite file, and the classicmodels and
Sakila dumps are MySQL's (backticks, ``ENGINE=``, ``DELIMITER`` routines). For those,
:func:`copy_from_sqlite` copies the SQLite file with SQLAlchemy: tables (not views: views are
not scored), declared types as SQLAlchemy reflects them (a length-less text type that is part
of a key or index becomes ``VARCHAR(255)`` on MariaDB, which cannot index ``TEXT``), primary
and foreign keys (not CHECK constraints, written in SQLite's dialect), and every row as SQLite
stores it. :func:`load` returns how it loaded.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PG_ADMIN_URL = os.environ.get("GOVKIT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_ADMIN_URL = os.environ.get("GOVKIT_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306/test")

DIALECTS = ("sqlite", "postgresql", "mariadb")

#: Dumps that load as they are: (dialect, database) -> files in order, under sql/DATABASE/.
DUMPS: dict[tuple[str, str], tuple[str, ...]] = {
    ("mariadb", "classicmodels"): ("mysqlsampledatabase.sql",),
    ("mariadb", "sakila"): ("sakila-mv-schema.sql", "sakila-mv-data.sql"),
    ("mariadb", "metabase"): (
        "metabase_sample_db_creation_script.sql", "people_insert_script.sql", "products_insert_script.sql",
        "reviews_insert_script.sql", "orders_insert_script.sql",
    ),
    ("postgresql", "metabase"): (
        "metabase_sample_db_creation_script.sql", "people_insert_script.sql", "products_insert_script.sql",
        "reviews_insert_script.sql", "orders_insert_script.sql",
    ),
}

#: Lines of a MySQL dump that would leave the per-run database (it is selected on connect).
_LEAVES_DATABASE = re.compile(r"^\s*(?:CREATE\s+(?:DATABASE|SCHEMA)|DROP\s+(?:DATABASE|SCHEMA)|USE)\b", re.I)


def new_name() -> str:
    """``gk_rw_<random>``: unique per run, so concurrent runs never share a database."""
    return f"gk_rw_{secrets.token_hex(5)}"


def _pg_dsn(url: str) -> str:
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def _server_url(dialect: str, name: str) -> str:
    if dialect == "postgresql":
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    return MYSQL_ADMIN_URL.rsplit("/", 1)[0] + "/" + name + "?charset=utf8mb4"


def _mysql_connect(database: str | None = None, multi: bool = False) -> Any:
    import pymysql
    from pymysql.constants import CLIENT
    from sqlalchemy.engine import make_url

    url = make_url(MYSQL_ADMIN_URL)
    return pymysql.connect(
        host=url.host or "127.0.0.1", port=url.port or 3306, user=url.username or "root",
        password=url.password or "", database=database, charset="utf8mb4", autocommit=True,
        client_flag=CLIENT.MULTI_STATEMENTS if multi else 0,
    )


def create(dialect: str, name: str) -> str:
    """Create the empty database ``name``; return its SQLAlchemy URL."""
    if dialect == "postgresql":
        import psycopg

        with psycopg.connect(_pg_dsn(PG_ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    elif dialect == "mariadb":
        conn = _mysql_connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        finally:
            conn.close()
    else:
        raise ValueError(f"no server for dialect {dialect!r}")
    return _server_url(dialect, name)


def drop(dialect: str, name: str) -> None:
    """Drop the per-run database ``name`` (only ``gk_rw_*`` names: never a shared one)."""
    if not name.startswith("gk_rw_"):
        raise ValueError(f"refusing to drop {name!r}: not a per-run realworld database")
    if dialect == "postgresql":
        import psycopg

        with psycopg.connect(_pg_dsn(PG_ADMIN_URL), autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    else:
        conn = _mysql_connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            conn.close()


def _mysql_statements(script: str) -> Iterator[str]:
    """Chunks of a MySQL dump to send in turn, honouring the ``DELIMITER`` client command.

    Text under the default ``;`` delimiter goes as one multi-statement chunk (the server splits
    it, strings and comments included); under another delimiter (``;;``, ``//``, ``$$``: a
    trigger or routine body full of ``;``) each statement goes alone, without its delimiter.
    """
    delimiter = ";"
    chunk: list[str] = []
    for line in script.splitlines():
        if _LEAVES_DATABASE.match(line):
            continue
        command = re.match(r"^\s*DELIMITER\s+(\S+)\s*$", line, re.I)
        if command:
            text = "\n".join(chunk).strip()
            if text:
                yield text
            chunk = []
            delimiter = command.group(1)
            continue
        if delimiter != ";" and line.rstrip().endswith(delimiter):
            chunk.append(line.rstrip()[: -len(delimiter)])
            text = "\n".join(chunk).strip()
            if text:
                yield text
            chunk = []
            continue
        chunk.append(line)
    text = "\n".join(chunk).strip()
    if text:
        yield text


def load_dump(dialect: str, name: str, database: str, sql_dir: Path) -> None:
    """Run the original dump files of ``database`` into the per-run database ``name``."""
    files = [sql_dir / database / f for f in DUMPS[(dialect, database)]]
    if dialect == "postgresql":
        import psycopg

        with psycopg.connect(_pg_dsn(_server_url(dialect, name)), autocommit=False) as conn:
            for path in files:
                conn.execute(path.read_text(encoding="utf-8").encode("utf-8"))
            conn.commit()
        return
    conn = _mysql_connect(name, multi=True)
    try:
        with conn.cursor() as cur:
            for path in files:
                # Sakila's actor_info view names its schema (sakila.film): rename it to ours.
                script = re.sub(rf"\b{database}\.", f"`{name}`.", path.read_text(encoding="utf-8", errors="replace"))
                for statement in _mysql_statements(script):
                    cur.execute(statement)
                    while cur.nextset():
                        pass
    finally:
        conn.close()


def copy_from_sqlite(dialect: str, url: str, source: Path) -> None:
    """Copy the tables of the SQLite file ``source`` into the (empty) database at ``url``."""
    import warnings

    import sqlalchemy as sa

    src = sa.create_engine(f"sqlite:///{source}")
    meta = sa.MetaData()
    try:
        with warnings.catch_warnings():  # "INTEGER(11)": SQLite keeps display widths it ignores
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            meta.reflect(src, views=False)
    finally:
        src.dispose()
    for table in meta.tables.values():
        # CHECK expressions are SQLite's own text ([UnitPrice]>=(0)); they say nothing detection reads.
        table.constraints = {c for c in table.constraints if not isinstance(c, sa.CheckConstraint)}
        keyed = set(table.primary_key.columns) | {fk.parent for fk in table.foreign_keys}
        for index in table.indexes:
            keyed |= set(index.columns)
        for column in table.columns:
            column.type = _portable_type(column.type, dialect, column in keyed)
            column.server_default = None
            column.autoincrement = False
    target = sa.create_engine(url)
    raw = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        meta.create_all(target)
        with target.begin() as conn:
            if dialect == "postgresql":
                conn.exec_driver_sql("SET session_replication_role = replica")  # FKs unchecked while loading
            else:
                conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
            for table in meta.sorted_tables:
                names = [c.name for c in table.columns]
                quoted = ", ".join('"' + n.replace('"', '""') + '"' for n in names)
                cursor = raw.execute(f'SELECT {quoted} FROM "{table.name}"')
                while batch := cursor.fetchmany(2000):
                    conn.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in batch])
    finally:
        raw.close()
        target.dispose()


def _portable_type(type_: Any, dialect: str, keyed: bool) -> Any:
    """The reflected SQLite type as the server can hold it, keeping what it declares."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import mysql

    if isinstance(type_, sa.String) and not isinstance(type_, sa.Enum):
        length = getattr(type_, "length", None)
        if length is None and dialect == "mariadb":
            return sa.String(255) if keyed else sa.Text()
        if length is None:
            return sa.Text()
        return sa.String(length)
    if isinstance(type_, sa.types.NullType):
        return sa.Text()
    if isinstance(type_, sa.LargeBinary):
        return mysql.LONGBLOB() if dialect == "mariadb" else sa.LargeBinary()
    return type_.as_generic()


def load(dialect: str, database: str, root: Path) -> tuple[str, str, str]:
    """Load ``database`` into a new per-run database; (URL, name, "dump"|"copied from SQLite")."""
    name = new_name()
    url = create(dialect, name)
    try:
        if (dialect, database) in DUMPS:
            load_dump(dialect, name, database, root / "sql")
            how = "dump"
        else:
            copy_from_sqlite(dialect, url, root / "db" / f"{database}.db")
            how = "copied from SQLite"
    except BaseException:
        drop(dialect, name)
        raise
    return url, name, how
