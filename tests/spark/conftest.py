"""One Spark session (``local[2]``) for every Spark test, and the data they compare on.

The session is started once per test run (about five seconds) and shared; the tests need
pyspark (``pip install 'govkit[spark]'``, which ``make test`` installs) and Java 17.
"""

from __future__ import annotations

import os
import random
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("CI") or os.environ.get("GOVKIT_REQUIRE_SERVERS"):
    import pyspark  # noqa: F401  # CI installs the spark extra (make test): never pass by skipping
else:
    pytest.importorskip("pyspark", reason="the Spark tests need the spark extra: pip install 'govkit[spark]'")

from tests import chinook

#: dialect: (Debian package, the JDBC driver jar it installs); tests/spark/test_spark_jdbc.py
JDBC_DRIVERS = {"postgresql": ("libpostgresql-jdbc-java", "/usr/share/java/postgresql.jar"),
                "mariadb": ("libmariadb-java", "/usr/share/java/mariadb-java-client.jar")}


_INSTALL_FAILED: list[str] = []


def _install_jdbc_drivers() -> None:
    """Install the missing driver packages from Debian, once; a failure is kept for
    :func:`jdbc_jars` to report (the other Spark tests do not need the drivers)."""
    from tests.debian import try_apt_install

    missing = [package for package, jar in JDBC_DRIVERS.values() if not Path(jar).is_file()]
    if missing and not _INSTALL_FAILED:
        failed = try_apt_install(*missing)
        _INSTALL_FAILED.append(failed or "")


@pytest.fixture(scope="session")
def jdbc_jars() -> dict[str, str]:
    """The JDBC driver jars (installed from Debian when missing), or skip/fail (tests/debian.py)."""
    from tests.debian import unavailable

    _install_jdbc_drivers()
    for package, jar in JDBC_DRIVERS.values():
        if not Path(jar).is_file():
            unavailable(f"{jar} is not there after apt-get install {package} ({''.join(_INSTALL_FAILED)})")
    return {dialect: jar for dialect, (_, jar) in JDBC_DRIVERS.items()}


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The shared session. It starts with the JDBC driver jars (installed first when missing):
    a jar cannot be added to a running session's driver, and ``--jars`` starts a user's
    session the same way."""
    from govkit.engines.spark.session import spark_session

    _install_jdbc_drivers()
    jars = ",".join(jar for _, jar in JDBC_DRIVERS.values() if Path(jar).is_file())
    session = spark_session("local[2]", app_name="govkit-tests", jars=jars or None)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def chinook_db() -> Path:
    return chinook.FIXTURES / "Chinook_Sqlite.sqlite"


@pytest.fixture(scope="session")
def chinook_parquet(tmp_path_factory: pytest.TempPathFactory, chinook_db: Path) -> Path:
    """Chinook exported table by table to Parquet, in the SQLite file's row order, with the
    types a lake would give it (timestamps, doubles, 64-bit integers)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from govkit.sources.database import DatabaseSource

    folder = tmp_path_factory.mktemp("chinook-parquet")
    types = {"integer": pa.int64(), "number": pa.float64(), "datetime": pa.timestamp("us"), "text": pa.string()}
    with DatabaseSource(f"sqlite:///{chinook_db}") as source:
        for table in source.tables():
            columns = source.readable_columns(table)
            rows = [row for batch in source.stream(table) for row in batch]
            arrays = {
                column.name: pa.array([_typed(row[i], column.kind) for row in rows], types[column.kind])
                for i, column in enumerate(columns)
            }
            pq.write_table(pa.table(arrays), folder / f"{table.name}.parquet")
    return folder


def _typed(value: Any, kind: str) -> Any:
    """SQLite hands DATETIME columns over as text; Parquet stores timestamps."""
    return datetime.fromisoformat(value) if kind == "datetime" and isinstance(value, str) else value


#: Rows of generated people: more than the 1,000-row reservoir, in several row groups.
GENERATED_ROWS = 3000


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same generated rows as a SQLite table and as a Parquet file of 500-row groups."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from faker import Faker

    folder = tmp_path_factory.mktemp("generated")
    fake = Faker("en_US")
    fake.seed_instance(18)
    rng = random.Random(18)
    start = datetime(2020, 1, 1)
    rows = []
    for index in range(GENERATED_ROWS):
        note = rng.choice([fake.sentence(nb_words=8), f"call me at {fake.email()}", ""]) or None
        rows.append((index + 1, fake.name(), fake.email(), fake.phone_number(), fake.credit_card_number(),
                     fake.city(), note, start + timedelta(minutes=rng.randrange(10**6)), round(rng.random() * 900, 2),
                     rng.randrange(100)))
    names = ["PersonId", "FullName", "Email", "Phone", "CardNumber", "City", "Notes", "CreatedAt", "Amount", "Score"]
    sql_types = ["INTEGER PRIMARY KEY", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "REAL", "INTEGER"]
    database = folder / "people.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE People (" + ", ".join(f"{n} {t}" for n, t in zip(names, sql_types, strict=True))
                     + ")")
        conn.executemany(f"INSERT INTO People VALUES ({', '.join('?' * len(names))})",
                         [(*r[:7], r[7].isoformat(sep=" "), *r[8:]) for r in rows])
    arrow = pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)})
    # CreatedAt is TEXT in SQLite (it is judged as text there); keep it text here too
    arrow = arrow.set_column(7, "CreatedAt", pa.array([r[7].isoformat(sep=" ") for r in rows], pa.string()))
    parquet = folder / "parquet" / "People.parquet"
    parquet.parent.mkdir()
    pq.write_table(arrow, parquet, row_group_size=500)
    return database, parquet
