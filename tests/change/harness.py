"""Shared pieces of the kill-injection tests: databases of each dialect, a govkit subprocess
that dies at a failpoint, and the checks every resumed run must pass."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests import chinook

ROOT = Path(__file__).resolve().parents[2]
KEY = "a2lsbC1pbmplY3Rpb24tdGVzdHMta2V5LTMyYnl0ZSE="  # base64 of 32 bytes

#: The kill points of every destructive action, with the occurrence to stop at: between units,
#: mid-unit (applied, not committed), intent journaled, after commit before its journal
#: record, during verification, after verification, after the "finished" audit record.
POINTS: list[tuple[str, int]] = [
    ("run.begun", 1),
    ("unit.applied", 2),
    ("unit.intended", 1),
    ("unit.committed", 2),
    ("unit.journaled", 1),
    ("verify.started", 1),
    ("run.verified", 1),
    ("run.audited", 1),
]


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("GOVKIT_")}
    out["GOVKIT_KEY"] = KEY
    out["PYTHONPATH"] = str(ROOT)
    return out


def govkit(cwd: Path, *args: str, kill_at: tuple[str, int] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a child process; with ``kill_at``, it dies at that failpoint."""
    if kill_at is None:
        command = [sys.executable, "-m", "govkit", *args]
    else:
        command = [sys.executable, "-m", "tests.change.killer", kill_at[0], str(kill_at[1]), *args]
    return subprocess.run(command, cwd=cwd, env=env(), capture_output=True, text=True, timeout=300)


def killed(proc: subprocess.CompletedProcess[str]) -> bool:
    return proc.returncode == -signal.SIGKILL


def cli(cwd: Path, *args: str) -> Any:
    """The CLI in this process (``CliRunner``), in the workspace ``cwd`` (faster than a child)."""
    from click.testing import CliRunner

    from govkit.cli import main

    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), env={"GOVKIT_KEY": KEY, "GOVKIT_KEY_FILE": None})
    finally:
        os.chdir(old)


def unfinished_run(cwd: Path) -> str:
    listing = cli(cwd, "runs", "--format", "json")
    assert listing.exit_code == 1, listing.output  # unfinished runs make 'govkit runs' exit 1
    runs = json.loads(listing.stdout)["runs"]
    assert len(runs) == 1, listing.stdout
    assert runs[0]["status"] == "interrupted"
    return str(runs[0]["id"])


def audit_records(cwd: Path) -> list[dict[str, Any]]:
    shown = cli(cwd, "log", "show", "--format", "json")
    assert shown.exit_code == 0, shown.output
    return list(json.loads(shown.stdout)["records"])


def assert_run_closed(cwd: Path, action: str) -> None:
    """The log verifies and holds, for the one run, exactly one begun and one finished record."""
    check = cli(cwd, "log", "verify")
    assert check.exit_code == 0, check.output
    records = audit_records(cwd)
    begun = [r for r in records if r["action"].endswith(".begun")]
    assert len(begun) == 1, [r["action"] for r in records]
    run_id = begun[0]["params"]["run_id"]
    finished = [r for r in records if r["action"] == action and r["params"].get("run_id") == run_id
                and r["outcome"] not in ("failed", "interrupted")]
    assert len(finished) == 1, [(r["action"], r["outcome"]) for r in records]
    assert finished[0]["seq"] > begun[0]["seq"]
    listing = cli(cwd, "runs", "--format", "json")
    assert listing.exit_code == 0, listing.output
    assert json.loads(listing.stdout)["runs"] == []


def no_temp_files(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if ".govkit-tmp" in p.name or ".govkit-orig" in p.name]


# -- databases -------------------------------------------------------------------------------

DIALECTS = ["sqlite", "sqlite-wal", "postgresql", "mariadb"]


def database_url(dialect: str, folder: Path, name: str) -> str:
    """A fresh, empty database of ``dialect`` for one test (servers: a database per name)."""
    if dialect.startswith("sqlite"):
        return f"sqlite:///{folder / (name + '.sqlite')}"
    if dialect == "postgresql":
        admin = sa.create_engine(chinook.PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return chinook.PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    admin = sa.create_engine(chinook.MYSQL_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    admin.dispose()
    return chinook.MYSQL_ADMIN_URL.rsplit("/", 1)[0] + "/" + name + "?charset=utf8mb4"


def drop_database(dialect: str, name: str) -> None:
    if dialect == "postgresql":
        admin = sa.create_engine(chinook.PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    elif dialect == "mariadb":
        admin = sa.create_engine(chinook.MYSQL_ADMIN_URL)
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


def people_rows(count: int) -> list[dict[str, Any]]:
    """Deterministic people: the same rows in every database of a test."""
    return [{"id": i, "name": f"Person Number{i:06d}", "email": f"person{i}@example{i % 97}.org",
             "phone": f"+44 20 7946 {i % 10000:04d}", "country": ("UK", "FR", "CN")[i % 3]}
            for i in range(1, count + 1)]


def create_people(url: str, count: int, *, wal: bool = False) -> None:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = sa.Table("people", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                     sa.Column("name", sa.String(120)), sa.Column("email", sa.String(200)),
                     sa.Column("phone", sa.String(200)), sa.Column("country", sa.String(8)))
    with engine.begin() as conn:
        if wal:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        meta.create_all(conn)
        rows = people_rows(count)
        for start in range(0, len(rows), 5000):
            conn.execute(table.insert(), rows[start:start + 5000])
    engine.dispose()


def table_state(url: str, table: str, order: str = "id") -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY {order}"))]
    engine.dispose()
    return rows
