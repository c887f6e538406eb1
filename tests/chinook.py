"""Load the Chinook sample database into real SQLite, PostgreSQL and MariaDB servers.

The fixture scripts create a database named ``chinook``/``Chinook``; tests load them under
their own name (``govkit_chinook``) so that they never clobber a developer's copy. Loading
goes through the Python drivers, so no ``psql`` or ``mysql`` client is needed.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "chinook"
if not FIXTURES.is_dir():  # CI clones the repo next to shared/; a developer may set it
    FIXTURES = Path(os.environ.get("GOVKIT_CHINOOK_DIR", "/work/shared/fixtures/chinook"))

DATABASE = "govkit_chinook"
PG_ADMIN_URL = os.environ.get("GOVKIT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_ADMIN_URL = os.environ.get("GOVKIT_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306/test")


def sqlite_copy(target_dir: Path) -> Path:
    target = target_dir / "chinook.db"
    shutil.copyfile(FIXTURES / "Chinook_Sqlite.sqlite", target)
    target.chmod(0o644)
    return target


def load_postgres(database: str = DATABASE) -> str:
    """(Re)create ``database`` (``govkit_chinook``) on the local PostgreSQL; return its URL."""
    import psycopg

    script = (FIXTURES / "Chinook_PostgreSql.sql").read_text(encoding="utf-8")
    body = script.split("\\c chinook;", 1)[1]
    admin = _pg_dsn(PG_ADMIN_URL)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )
        conn.execute(f"DROP DATABASE IF EXISTS {database}")
        conn.execute(f"CREATE DATABASE {database}")
    target = admin.rsplit("/", 1)[0] + "/" + database
    with psycopg.connect(target, autocommit=False) as conn:
        conn.execute(body.encode("utf-8"))
        conn.commit()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


def load_mysql(database: str = DATABASE) -> str:
    """(Re)create ``database`` (``govkit_chinook``) on the local MariaDB/MySQL; return its URL."""
    import pymysql
    from pymysql.constants import CLIENT

    script = (FIXTURES / "Chinook_MySql.sql").read_text(encoding="utf-8")
    body = script.split("USE `Chinook`;", 1)[1]
    host, port, user = _mysql_parts(MYSQL_ADMIN_URL)
    conn = pymysql.connect(host=host, port=port, user=user, password="", charset="utf8mb4",
                           client_flag=CLIENT.MULTI_STATEMENTS, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
            cur.execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
            cur.execute(f"USE `{database}`")
            cur.execute(body)
            while cur.nextset():
                pass
    finally:
        conn.close()
    return MYSQL_ADMIN_URL.rsplit("/", 1)[0] + "/" + database + "?charset=utf8mb4"


def _pg_dsn(url: str) -> str:
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def _mysql_parts(url: str) -> tuple[str, int, str]:
    match = re.match(r"^mysql\+pymysql://(\w+)@([\w.]+):(\d+)/", url)
    if not match:
        raise ValueError("GOVKIT_TEST_MYSQL must look like mysql+pymysql://user@host:port/db")
    return match.group(2), int(match.group(3)), match.group(1)
