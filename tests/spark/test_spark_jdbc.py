"""``--engine spark`` on JDBC sources: Chinook on the local PostgreSQL and MariaDB, read through
their JDBC drivers, finds what a local ``--full`` scan of the same database finds, and
anonymizes to the local export's pseudonyms.

The drivers are Debian's (``libpostgresql-jdbc-java``, ``libmariadb-java``), installed with
apt-get when missing (tests/spark/conftest.py); ``--jars`` puts them on Spark's classpath.
The in-process tests use the shared session, started with them; the subprocess test
starts a new session with ``--jars``, as a user's command does, and without them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from govkit.cli import main
from govkit.scan import ScanOptions, scan
from tests import chinook
from tests.debian import unavailable
from tests.spark.test_spark_engine import KEY, _answers, _read, _workspace

pytestmark = [pytest.mark.slow, pytest.mark.server]

DATABASE = "govkit_chinook_jdbc"
JDBC_URLS = {"postgresql": f"jdbc:postgresql://127.0.0.1:5432/{DATABASE}?user=postgres",
             "mariadb": f"jdbc:mariadb://127.0.0.1:3306/{DATABASE}?user=root"}
#: The tables compared: people, their invoices and Chinook's employees (names as each dump spells them).
TABLES = {"postgresql": ["customer", "employee", "invoice"], "mariadb": ["Customer", "Employee", "Invoice"]}


@pytest.fixture(scope="module")
def jars(jdbc_jars: dict[str, str], spark: Any) -> dict[str, str]:
    """The jars, and a shared session that started with them (the order of fixtures: a session
    started by an earlier test before the jars were installed has none)."""
    started = spark.sparkContext.getConf().get("spark.jars", "")
    if not all(jar in started for jar in jdbc_jars.values()):
        unavailable("the shared Spark session started before the JDBC jars were installed; run again")
    return jdbc_jars


@pytest.fixture(scope="module")
def databases() -> dict[str, str]:
    """Chinook loaded from its PostgreSQL and MySQL dumps; the SQLAlchemy URLs."""
    return {"postgresql": chinook.load_postgres(DATABASE), "mariadb": chinook.load_mysql(DATABASE)}


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
def test_a_jdbc_table_on_spark_finds_what_a_local_full_scan_finds(dialect: str, spark: Any, jars: dict[str, str],
                                                                   databases: dict[str, str]) -> None:
    from govkit.engines.spark.scan import spark_scan

    tables = TABLES[dialect]
    local = scan(None, [databases[dialect]], ScanOptions(full=True, jobs=1, include=tables))
    remote = spark_scan(None, [JDBC_URLS[dialect]], ScanOptions(full=True, include=tables), jars=jars[dialect])
    expected = _answers(local.findings)
    assert {a for a, _, _ in expected} == set(tables)
    assert (tables[0], "email", "EMAIL_ADDRESS") in {(a, f.lower(), e) for a, f, e in expected}
    assert _answers(remote.findings) == expected
    assert remote.stats.values_analyzed == local.stats.values_analyzed
    assert not remote.skipped


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
def test_a_large_jdbc_table_is_read_in_key_ranges_with_the_same_answers(
        dialect: str, spark: Any, jars: dict[str, str], databases: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the split size a table is read in ranges of its key, in parallel: every row once,
    and the findings of the one-query read (Chinook's customers are stored in key order, so
    even the sample is the same). The sizes are scaled down: 59 customers, ranges of 20."""
    from govkit.engines.spark import jdbc
    from govkit.engines.spark.scan import spark_scan

    url, table = JDBC_URLS[dialect], TABLES[dialect][0]
    key = {"postgresql": "customer_id", "mariadb": "CustomerId"}[dialect]
    options = ScanOptions(full=True, include=[table])
    whole = spark_scan(None, [url], options, jars=jars[dialect])
    assert jdbc.jdbc_loader(url, table)(spark).rdd.getNumPartitions() == 1  # under the split size
    small = jdbc.JdbcSplit(rows_per_partition=20)
    frame = jdbc.jdbc_loader(url, table, small)(spark)
    assert frame.rdd.getNumPartitions() == 3  # ceil(59 / 20)
    keys = [row[0] for row in frame.select(key).collect()]
    assert sorted(keys) == list(range(1, 60))  # every row, once
    assert keys == sorted(keys)  # range by range, in key order
    split = spark_scan(None, [url], options, jars=jars[dialect], split=small)
    assert _answers(split.findings) == _answers(whole.findings)
    assert (table, "email", "EMAIL_ADDRESS") in {(a, f.lower(), e) for a, f, e in _answers(split.findings)}
    assert split.stats.values_analyzed == whole.stats.values_analyzed

    def refused(*args: Any) -> None:
        raise RuntimeError("the bounds query failed")

    monkeypatch.setattr(jdbc, "_bounds", refused)  # splitting only spreads the work
    assert jdbc.jdbc_loader(url, table, small)(spark).rdd.getNumPartitions() == 1


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
def test_split_column_chooses_the_column_and_a_bad_one_stops_the_scan(
        dialect: str, spark: Any, jars: dict[str, str], databases: dict[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``--split-column`` reads the table in ranges of the named column instead of its key:
    Chinook's customers by support rep (3, 4 and 5), each range one partition, every row
    once; the findings are the local scan's. A column that is missing or not an integer is
    exit 2 naming table.column, not a quiet one-query read."""
    from govkit.engines.spark import jdbc

    url, table = JDBC_URLS[dialect], TABLES[dialect][0]
    key, rep = {"postgresql": ("customer_id", "support_rep_id"), "mariadb": ("CustomerId", "SupportRepId")}[dialect]
    by_rep = jdbc.JdbcSplit(rows_per_partition=20, columns={table: rep.lower()})  # case forgiven
    frame = jdbc.jdbc_loader(url, table, by_rep)(spark)
    parts = frame.select(rep).rdd.glom().map(lambda rows: sorted({r[0] for r in rows})).collect()
    assert parts == [[3], [4], [5]]  # ranges of the rep column, not of the key
    assert sorted(r[0] for r in frame.select(key).collect()) == list(range(1, 60))

    root = _workspace(tmp_path, monkeypatch)
    runner = CliRunner()
    local = scan(None, [databases[dialect]], ScanOptions(full=True, jobs=1, include=[table]))
    done = runner.invoke(main, ["scan", "--engine", "spark", "--jars", jars[dialect], url, "--include", table,
                                "--rows-per-partition", "20", "--split-column", f"{table}={rep}", "--format", "json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["stats"]["values_analyzed"] == local.stats.values_analyzed
    emails = [f for f in report["findings"] if f["field"].lower() == "email"]
    assert [(f["entity_type"], f["hits"]) for f in emails] == [("EMAIL_ADDRESS", 59)]
    records = [json.loads(line) for line in (root / ".govkit" / "audit" / "log.jsonl").read_text().splitlines()]
    scans = [r for r in records if r.get("action") == "scan" and r.get("params", {}).get("engine") == "spark"]
    assert scans
    assert scans[-1]["params"]["jdbc_split"] == {"rows_per_partition": 20, "columns": {table: rep}}

    for column, said in (("no_such", f"{table}.no_such does not exist"), ("email" if dialect == "postgresql"
                                                                            else "Email", "not an integer column")):
        bad = runner.invoke(main, ["scan", "--engine", "spark", "--jars", jars[dialect], url, "--include", table,
                                   "--split-column", f"{table}={column}"])
        assert bad.exit_code == 2, bad.output
        assert said in bad.stderr
        assert "Traceback" not in bad.output + bad.stderr


def test_anonymize_from_jdbc_writes_the_local_pseudonyms(spark: Any, jars: dict[str, str], databases: dict[str, str],
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _workspace(tmp_path, monkeypatch)
    runner = CliRunner()
    for scan_args in (["scan", databases["postgresql"], "--full", "--jobs", "1", "--include", "customer"],
                      ["scan", "--engine", "spark", "--jars", jars["postgresql"], JDBC_URLS["postgresql"],
                       "--include", "customer"]):  # both sources in the inventory: the policy plans the same fields
        scanned = runner.invoke(main, scan_args)
        assert scanned.exit_code == 0, scanned.output
    rules = ["--rule", "customer_id=pseudonymize", "--rule", "email=pseudonymize", "--rule", "phone=mask",
             "--table", "customer"]
    local_out, spark_out = tmp_path / "local", tmp_path / "spark"
    done = runner.invoke(main, ["anonymize", databases["postgresql"], "--to", str(local_out), "--to-format",
                                "parquet", *rules])
    assert done.exit_code == 0, done.output
    done = runner.invoke(main, ["anonymize", "--engine", "spark", "--jars", jars["postgresql"],
                                JDBC_URLS["postgresql"], "--to", str(spark_out), *rules, "--format", "json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["verification"] == "passed"
    mine = _read(spark_out / "customer")
    theirs = _read(next(local_out.glob("*customer.parquet")))
    fields = ("customer_id", "email", "phone", "first_name")

    def rows(table: dict[str, list[Any]]) -> set[tuple[str, ...]]:  # the two read the table in different orders
        return set(zip(*[[str(v) for v in table[name]] for name in fields], strict=True))

    assert len(mine["email"]) == 59
    assert rows(mine) == rows(theirs)  # row for row: the same pseudonyms, masks and kept names
    assert "luisg@embraer.com.br" not in mine["email"]


def test_a_new_session_takes_the_jars_and_a_missing_driver_is_one_line(jars: dict[str, str],
                                                                      databases: dict[str, str],
                                                                      tmp_path: Path) -> None:
    """A real ``govkit`` process: its session starts with ``spark.jars``; without them, one line."""
    env = {**os.environ, "GOVKIT_KEY": KEY}
    env.pop("SPARK_MASTER", None)
    command = [sys.executable, "-m", "govkit", "scan", "--engine", "spark", JDBC_URLS["postgresql"],
               "--include", "customer", "--format", "json"]
    done = subprocess.run([*command, "--jars", jars["postgresql"]], capture_output=True, text=True, timeout=300,
                          env=env, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    entities = {(f["field"], f["entity_type"]) for f in json.loads(done.stdout)["findings"]}
    assert ("email", "EMAIL_ADDRESS") in entities
    missing = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
                             check=False)
    assert missing.returncode == 2, missing.stderr[-2000:]
    line = [x for x in missing.stderr.splitlines() if x.startswith("govkit: error")]
    assert line == [f"govkit: error: {JDBC_URLS['postgresql']}: the JDBC driver org.postgresql.Driver is not on "
                    "Spark's classpath; give its jar with --jars PATH (or spark-submit --jars)"], missing.stderr
    assert "Traceback" not in missing.stderr
