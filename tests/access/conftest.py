"""Fixtures for the access tests: a workspace with a policy that gives the analyst role every
kind of decision (masks SQL computes, a keyed pseudonym SQL must not, a denied field, a
generalized date), and per-test databases with seeded roles on the real servers.

Every server object is uniquely named (``gk_acc_<random>``) and dropped at teardown: the
database, the role view databases (MariaDB), the roles and users, and any grant left behind.
"""

from __future__ import annotations

import os
import secrets
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests import chinook

KEY = "a2lsbC1pbmplY3Rpb24tdGVzdHMta2V5LTMyYnl0ZSE="

POLICY = """\
extends: baseline
access:
  roles:
    analyst:
      default: masked
      rules:
        - {entity: EMAIL_ADDRESS, read: masked, operator: mask, params: {keep_first: 1}}
        - {entity: PHONE_NUMBER, read: masked, operator: mask, params: {keep_last: 4}}
        - {entity: PERSON, read: masked, operator: pseudonymize}
        - {entity: LOCATION, read: none}
        - {entity: DATE_TIME, read: masked, operator: generalize, params: {to: year}}
"""


def make_workspace(folder: Path, url: str, include: list[str], users: dict[str, str] | None = None) -> Path:
    """A workspace on ``url`` (pattern-only detection: fast), the analyst policy, ``[access.users]``."""
    from govkit.workspace import init_workspace

    init_workspace(folder)
    config = folder / "govkit.toml"
    text = config.read_text(encoding="utf-8").replace('model = "en_core_web_sm"', 'model = "none"')
    text = "\n".join('model = "none"' if line.startswith("model = ") else line for line in text.splitlines())
    text += f'\n\n[sources.shop]\nurl = "{url}"\ninclude = {include!r}\n'.replace("'", '"')
    if users:
        text += "\n[access.users]\n" + "".join(f'"{u}" = "{r}"\n' for u, r in users.items())
    config.write_text(text, encoding="utf-8")
    (folder / "policies").mkdir(exist_ok=True)
    (folder / "policies" / "shop.yaml").write_text(textwrap.dedent(POLICY), encoding="utf-8")
    return folder


def cli(folder: Path, *args: str) -> Any:
    from click.testing import CliRunner

    from govkit.cli import main

    old = Path.cwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(main, list(args), env={"GOVKIT_KEY": KEY, "GOVKIT_KEY_FILE": None})
    finally:
        os.chdir(old)


@dataclass
class Seeded:
    """A per-test Chinook database with seeded roles: see :func:`seed`."""

    dialect: str
    name: str
    url: str
    prefix: str
    #: policy role per user, as govkit.toml maps them
    users: dict[str, str]
    passwords: dict[str, str]

    def user(self, short: str) -> str:
        return f"{self.prefix}_{short}"

    def login_url(self, short: str) -> str:
        """A URL connecting as one of the seeded users, with its own credentials."""
        user = self.user(short)
        if self.dialect == "postgresql":
            return f"postgresql+psycopg://{user}@127.0.0.1:5432/{self.name}"
        return f"mysql+pymysql://{user}:{self.passwords[short]}@127.0.0.1:3306/{self.name}?charset=utf8mb4"


def _load(dialect: str, name: str) -> str:
    if dialect == "postgresql":
        import psycopg

        admin = sa.create_engine(chinook.PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = chinook.PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        body = (chinook.FIXTURES / "Chinook_PostgreSql.sql").read_text(encoding="utf-8").split("\\c chinook;", 1)[1]
        with psycopg.connect(chinook._pg_dsn(url)) as conn:
            conn.execute(body.encode("utf-8"))
            conn.commit()
        return url
    import pymysql
    from pymysql.constants import CLIENT

    host, port, user = chinook._mysql_parts(chinook.MYSQL_ADMIN_URL)
    body = (chinook.FIXTURES / "Chinook_MySql.sql").read_text(encoding="utf-8").split("USE `Chinook`;", 1)[1]
    conn = pymysql.connect(host=host, port=port, user=user, password="", charset="utf8mb4",
                           client_flag=CLIENT.MULTI_STATEMENTS, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            cur.execute(f"USE `{name}`")
            cur.execute(body)
            while cur.nextset():
                pass
    finally:
        conn.close()
    return chinook.MYSQL_ADMIN_URL.rsplit("/", 1)[0] + "/" + name + "?charset=utf8mb4"


def _admin(dialect: str) -> sa.Engine:
    if dialect == "postgresql":
        return sa.create_engine(chinook.PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    return sa.create_engine(chinook.MYSQL_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _exec(conn: sa.Connection, statement: str) -> list[Any]:
    """One statement through the driver's own cursor: no parameter parsing of ``%`` in hosts."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(statement)
        return list(cursor.fetchall()) if cursor.description else []
    finally:
        cursor.close()


def _run(dialect: str, url: str, statements: list[str]) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                _exec(conn, statement)
    finally:
        engine.dispose()


def seed(dialect: str) -> Seeded:
    """Chinook plus: ``analyst`` (column-level grant incl. email), ``reporting`` (a NOLOGIN group
    role with SELECT on customer) and ``bi`` (inherits it), ``support`` (SELECT on customer,
    allowed in clear), ``nomap`` (no mapping, SELECT on employee), and PUBLIC SELECT on phone."""
    token = secrets.token_hex(3)
    prefix = f"gk_acc_{token}"
    name = prefix
    try:
        url = _load(dialect, name)
    except Exception as exc:  # no server here
        if os.environ.get("GOVKIT_REQUIRE_SERVERS") == "1":
            raise
        pytest.skip(f"{dialect} not reachable for tests: {type(exc).__name__}")
    p = prefix
    passwords = {short: secrets.token_hex(8) for short in ("analyst", "bi", "support", "nomap")}
    if dialect == "postgresql":
        statements = [
            f"CREATE ROLE {p}_analyst LOGIN", f"CREATE ROLE {p}_reporting NOLOGIN",
            f"CREATE ROLE {p}_bi LOGIN INHERIT", f"CREATE ROLE {p}_support LOGIN", f"CREATE ROLE {p}_nomap LOGIN",
            f"GRANT SELECT (customer_id, company, email) ON customer TO {p}_analyst",
            f"GRANT SELECT ON customer TO {p}_reporting", f"GRANT {p}_reporting TO {p}_bi",
            f"GRANT SELECT ON customer TO {p}_support", "GRANT SELECT (phone) ON customer TO PUBLIC",
            f"GRANT SELECT ON employee TO {p}_nomap",
            # what the review lists without judging: row security, and future tables' grants
            "ALTER TABLE invoice ENABLE ROW LEVEL SECURITY",
            f"CREATE POLICY {p}_own_rows ON invoice USING (billing_country = 'Norway')",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {p}_nomap",
        ]
        users = {f"{p}_analyst": "analyst", f"{p}_bi": "analyst", f"{p}_support": "support"}
    else:
        statements = [
            *(f"CREATE USER '{p}_{s}'@'%' IDENTIFIED BY '{pw}'" for s, pw in passwords.items()),
            f"CREATE ROLE {p}_reporting",
            f"GRANT SELECT (CustomerId, Company, Email) ON Customer TO '{p}_analyst'@'%'",
            f"GRANT SELECT ON Customer TO {p}_reporting", f"GRANT {p}_reporting TO '{p}_bi'@'%'",
            f"SET DEFAULT ROLE {p}_reporting FOR '{p}_bi'@'%'",
            f"GRANT SELECT ON Customer TO '{p}_support'@'%'", "GRANT SELECT (Phone) ON Customer TO PUBLIC",
            f"GRANT SELECT ON Employee TO '{p}_nomap'@'%'",
        ]
        users = {f"{p}_analyst": "analyst", f"{p}_bi": "analyst", f"{p}_support": "support"}
    found = Seeded(dialect, name, url, prefix, users, passwords)
    try:
        _run(dialect, url, statements)
    except BaseException:
        teardown(found)
        raise
    return found


def teardown(seeded: Seeded) -> None:
    p = seeded.prefix
    engine = _admin(seeded.dialect)
    try:
        with engine.connect() as conn:
            if seeded.dialect == "postgresql":
                _exec(conn, f'DROP DATABASE IF EXISTS "{seeded.name}" WITH (FORCE)')
                for short in ("analyst", "bi", "support", "nomap", "reporting"):
                    _exec(conn, f"DROP ROLE IF EXISTS {p}_{short}")
                return
            for short in ("analyst", "bi", "support", "nomap"):
                _exec(conn, f"DROP USER IF EXISTS '{p}_{short}'@'%'")
            _exec(conn, f"DROP ROLE IF EXISTS {p}_reporting")
            for (database,) in _exec(conn, f"SHOW DATABASES LIKE '{p}%'"):
                _exec(conn, f"DROP DATABASE IF EXISTS `{database}`")
            # grants outlive a dropped database in MariaDB (PUBLIC's, here): remove them too
            for table in ("tables_priv", "columns_priv", "db"):
                _exec(conn, f"DELETE FROM mysql.{table} WHERE Db LIKE '{p}%'")
            _exec(conn, "FLUSH PRIVILEGES")
    finally:
        engine.dispose()


@pytest.fixture(params=["postgresql", "mariadb"])
def seeded(request: pytest.FixtureRequest) -> Iterator[Seeded]:
    found = seed(request.param)
    try:
        yield found
    finally:
        teardown(found)


@pytest.fixture
def seeded_workspace(seeded: Seeded, tmp_path: Path) -> Path:
    include = ["customer", "employee"] if seeded.dialect == "postgresql" else ["Customer", "Employee"]
    folder = make_workspace(tmp_path / "ws", seeded.url, include, seeded.users)
    scanned = cli(folder, "scan", "-q")
    assert scanned.exit_code == 0, scanned.output
    return folder
