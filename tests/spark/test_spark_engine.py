"""``--engine spark`` gives the answers a local run gives (issue 18), on Chinook and generated data.

Every comparison runs the local path and the Spark path in the same test, so the expected
values are whatever the local code produces today (pseudonyms included), never constants.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from govkit.cli import main
from govkit.model.findings import Finding
from govkit.scan import ScanOptions, scan

pytestmark = pytest.mark.slow

KEY = "a2lsbC1pbmplY3Rpb24tdGVzdHMta2V5LTMyYnl0ZSE="


def _answers(findings: list[Finding]) -> dict[tuple[str, str, str], tuple[float, int, int]]:
    """What "the same findings" means: per table, field and entity, the confidence (rounded),
    the hits and what they were counted over."""
    return {(f.asset.split(".")[-1], f.field or "", f.entity_type): (round(f.confidence, 3), f.hits, f.sampled)
            for f in findings}


def test_chinook_on_spark_finds_what_a_local_full_scan_finds(spark: Any, chinook_db: Path,
                                                              chinook_parquet: Path) -> None:
    from govkit.engines.spark.scan import spark_scan

    local = scan(None, [f"sqlite:///{chinook_db}"], ScanOptions(full=True, jobs=1))
    remote = spark_scan(None, [str(chinook_parquet)], ScanOptions(full=True))
    expected = _answers(local.findings)
    assert len(expected) >= 20  # Chinook has e-mails, phones, names, addresses...
    assert ("Customer", "Email", "EMAIL_ADDRESS") in expected
    assert _answers(remote.findings) == expected
    # the masked evidence is the same too, and no raw value of the data reached the report
    assert {(f.asset, f.field, f.entity_type): f.evidence for f in remote.findings} == {
        (f.asset, f.field, f.entity_type): f.evidence for f in local.findings}
    assert remote.stats.values_analyzed == local.stats.values_analyzed
    assert "luisg@embraer.com.br" not in json.dumps(remote.to_dict())


def test_generated_data_across_partitions_matches_and_loads_the_engine_once(
    spark: Any, generated: tuple[Path, Path]
) -> None:
    from govkit.detect.engine import DEFAULT_MODEL
    from govkit.engines.spark.scan import scan_table
    from govkit.workspace import DetectionSettings

    database, parquet = generated
    spark.conf.set("spark.sql.files.maxPartitionBytes", "24k")  # several partitions of the one file
    try:
        frame = spark.read.parquet(str(parquet))
        scanned = scan_table(spark, "People", frame, DetectionSettings(model=DEFAULT_MODEL), ScanOptions(full=True))
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert scanned.partitions >= 3
    assert scanned.rows == 3000
    # every executor Python process loaded the engine once, and processes served several partitions
    assert set(scanned.engines.values()) == {1}
    assert len(scanned.engines) < scanned.partitions
    local = scan(None, [f"sqlite:///{database}"], ScanOptions(full=True, jobs=1))
    expected = _answers(local.findings)
    assert {e for _, _, e in expected} >= {"EMAIL_ADDRESS", "PERSON", "CREDIT_CARD"}
    assert {("People", v.column, e.entity_type): (round(e.confidence, 3), e.hits, e.of or v.sampled)
            for v in scanned.verdicts for e in v.entities} == expected
    assert {(v.column, e.entity_type, e.rule) for v in scanned.verdicts for e in v.entities} == {
        (f.field, f.entity_type, f.decided_by) for f in local.findings}


def test_reservoir_replay_is_the_local_full_scan_reservoir() -> None:
    import random

    from govkit.engines.spark.scan import reservoir_rows

    total, size, seed = 5000, 100, 42
    rng, reservoir = random.Random(seed), []
    for seen, row in enumerate(range(total), start=1):  # govkit.scan._full_read's loop, on row numbers
        if len(reservoir) < size:
            reservoir.append(row)
        else:
            slot = rng.randrange(seen)
            if slot < size:
                reservoir[slot] = row
    assert reservoir_rows(total, size, seed) == reservoir
    assert reservoir_rows(50, size, seed) == list(range(50))


def _workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "ws"
    assert CliRunner().invoke(main, ["init", str(root)]).exit_code == 0
    monkeypatch.chdir(root)
    monkeypatch.setenv("GOVKIT_KEY", KEY)
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    return root


def _read(path: Path) -> dict[str, list[Any]]:
    table = pq.read_table(path) if path.is_file() else pq.ParquetDataset(path).read()
    return {name: table.column(name).to_pylist() for name in table.column_names}


def test_anonymize_on_spark_writes_the_local_pseudonyms_and_masks_and_joins_survive(
    spark: Any, chinook_db: Path, chinook_parquet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _workspace(tmp_path, monkeypatch)
    runner = CliRunner()
    for args in (["scan", f"sqlite:///{chinook_db}", "--full", "--jobs", "1"],
                 ["scan", "--engine", "spark", str(chinook_parquet), "--include", "Customer", "--include", "Invoice"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
    rules = ["--rule", "CustomerId=pseudonymize", "--rule", "Email=pseudonymize", "--rule", "Phone=mask",
             "--rule", "LastName=hash", "--table", "Customer", "--table", "Invoice"]
    local_out, spark_out = tmp_path / "local", tmp_path / "spark"
    result = runner.invoke(main, ["anonymize", f"sqlite:///{chinook_db}", "--to", str(local_out), "--to-format",
                                  "parquet", *rules])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["anonymize", "--engine", "spark", str(chinook_parquet), "--to", str(spark_out),
                                  *rules, "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["verification"] == "passed"
    assert report["rows"] == 59 + 412
    original = {t: _read(chinook_parquet / f"{t}.parquet") for t in ("Customer", "Invoice")}
    for table, fields in (("Customer", ("CustomerId", "Email", "Phone", "LastName", "FirstName")),
                          ("Invoice", ("CustomerId", "InvoiceId", "Total"))):
        mine, theirs = _read(spark_out / table), _read(local_out / f"{table}.parquet")
        for name in fields:
            assert [str(v) for v in mine[name]] == [str(v) for v in theirs[name]], f"{table}.{name}"
        assert mine["CustomerId"] != original[table]["CustomerId"]
    customers, invoices = _read(spark_out / "Customer"), _read(spark_out / "Invoice")
    assert customers["Email"] != original["Customer"]["Email"]
    assert set(invoices["CustomerId"]) <= set(customers["CustomerId"])  # every invoice still finds its customer
    # each invoice joins the anonymized row of the customer it joined before
    anonymized_email = dict(zip(original["Customer"]["CustomerId"], customers["Email"], strict=True))
    joined = dict(zip(customers["CustomerId"], customers["Email"], strict=True))
    assert [joined[c] for c in invoices["CustomerId"]] == [
        anonymized_email[c] for c in original["Invoice"]["CustomerId"]]
    # one file of the scanned folder finds its plan in the folder's inventory rows
    result = runner.invoke(main, ["anonymize", "--engine", "spark", str(chinook_parquet / "Customer.parquet"),
                                  "--dry-run", "--format", "json"])
    assert result.exit_code == 0, result.output
    planned = {(f["asset"], f["field"]) for f in json.loads(result.stdout)["plan"]["fields"]}
    assert ("Customer", "Email") in planned
    # the Spark scan's findings are in the inventory and the report, like any source's
    inventory = runner.invoke(main, ["inventory", "--format", "json"])
    assert inventory.exit_code == 0, inventory.output
    rows = [r for r in json.loads(inventory.stdout)["fields"] if r["source"] == str(chinook_parquet)]
    assert {r["asset"] for r in rows} == {"Customer", "Invoice"}  # --include kept the scan to these
    assert ("Customer", "Email", "EMAIL_ADDRESS") in {(r["asset"], r["field"], r["entity_type"]) for r in rows}
    audit = runner.invoke(main, ["report", "audit", "--format", "json"])
    assert audit.exit_code == 0, audit.output
    assert str(chinook_parquet) in audit.stdout
    # the audit log names the engine, for the scan and for the export
    records = [json.loads(line) for line in (root / ".govkit" / "audit" / "log.jsonl").read_text().splitlines()]
    spark_records = [r for r in records if r.get("params", {}).get("engine") == "spark"]
    assert [r["action"] for r in spark_records] == ["scan", "anonymize"]
    assert spark_records[0]["params"]["master"].startswith("local")


def test_executors_get_subkeys_never_the_workspace_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    from govkit.actions.anonymize.operators import OperatorContext, build
    from govkit.engines.spark.anonymize import subkeys_only
    from govkit.keys import load_keyset

    monkeypatch.setenv("GOVKIT_KEY", KEY)
    keyset = load_keyset(tmp_path / ".govkit")
    context = OperatorContext(keyset)
    operator = build("pseudonymize", {}, context)
    shipped = pickle.loads(pickle.dumps(subkeys_only(context)))  # what a task closure carries
    assert shipped.keyset is None
    assert keyset.primary.material not in pickle.dumps(shipped)
    assert build("pseudonymize", {}, shipped).apply("ann@example.com", "EMAIL_ADDRESS") == operator.apply(
        "ann@example.com", "EMAIL_ADDRESS")
    with pytest.raises(Exception, match="hash subkey was not derived"):
        build("hash", {}, shipped)


def test_a_folder_whose_tables_cannot_be_read_is_a_failed_source(spark: Any, tmp_path: Path) -> None:
    bad = tmp_path / "lake"
    bad.mkdir()
    (bad / "Customer.parquet").write_bytes(b"PAR1 this is not a parquet file PAR1")
    result = CliRunner().invoke(main, ["scan", "--engine", "spark", str(bad)])
    assert result.exit_code == 3  # not 0 with "no personal data found"
    assert "no table could be read" in result.stderr
    assert "No personal data found" not in result.stdout


def test_a_file_system_uri_is_one_table_and_delta_needs_a_delta_reader(spark: Any, chinook_parquet: Path,
                                                                     tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from govkit.engines.spark.scan import spark_scan

    uri = (chinook_parquet / "Employee.parquet").as_uri()  # file:///...: read through Hadoop's FileSystem
    by_uri = spark_scan(None, [uri], ScanOptions(full=True))
    by_path = spark_scan(None, [str(chinook_parquet / "Employee.parquet")], ScanOptions(full=True))
    assert by_uri.sources == [uri]
    assert _answers(by_uri.findings) == _answers(by_path.findings)
    assert ("Employee", "Email", "EMAIL_ADDRESS") in _answers(by_uri.findings)
    lake = tmp_path / "orders"
    (lake / "_delta_log").mkdir(parents=True)
    result = CliRunner().invoke(main, ["scan", "--engine", "spark", str(lake)])
    assert result.exit_code == 2
    assert "orders: not a readable Delta table" in _one_line(result.stderr)  # a log with no commit
    monkeypatch.setitem(sys.modules, "deltalake", None)  # neither delta-rs nor delta-spark here
    result = CliRunner().invoke(main, ["scan", "--engine", "spark", str(lake)])
    assert result.exit_code == 2
    assert "is a Delta table: reading and writing Delta needs pip install 'govkit[delta]'" in _one_line(
        result.stderr)


def test_a_jdbc_source_never_shows_its_password(spark: Any) -> None:
    url = "jdbc:sqlserver://reader:s3cr3t-pw@127.0.0.1:1433/shop?ssl=true&password=an0ther-pw"
    result = CliRunner().invoke(main, ["scan", "--engine", "spark", url, "--include", "customers"])
    assert result.exit_code == 2  # no SQL Server driver jar on the classpath: a setup error, before any table
    message = _one_line(result.stderr)
    assert "jdbc:sqlserver://reader:***@127.0.0.1:1433/shop?ssl=true&password=***" in message
    assert "com.microsoft.sqlserver.jdbc.SQLServerDriver is not on Spark's classpath" in message
    shown = result.output + result.stderr
    assert "s3cr3t" not in shown
    assert "an0ther" not in shown
    result = CliRunner().invoke(main, ["scan", "--engine", "spark", url])
    assert result.exit_code == 2
    assert _one_line(result.stderr).endswith("name the tables to read with --include TABLE")


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_leaky_rule_fails_verification_on_spark_as_it_does_locally(spark: Any, chinook_parquet: Path,
                                                                      tmp_path: Path) -> None:
    from govkit.actions.anonymize.export import VerificationFailed
    from govkit.actions.anonymize.run import AnonymizeRequest, anonymize
    from govkit.engines.spark.anonymize import spark_anonymize

    rules = ["Email=generalize:to=prefix,bucket=200"]  # keeps most of each address: still e-mails
    source = str(chinook_parquet / "Customer.parquet")
    with pytest.raises(VerificationFailed) as local:
        anonymize(AnonymizeRequest(source, to=str(tmp_path / "local.parquet"), rules=rules))
    out = tmp_path / "spark.parquet"
    with pytest.raises(VerificationFailed, match="still show EMAIL_ADDRESS") as remote:
        spark_anonymize(AnonymizeRequest(source, to=str(out), rules=rules))
    assert (tmp_path / "spark.parquet.INCOMPLETE").exists()
    assert "@" not in str(remote.value)  # the message names fields, never values
    assert not remote.value.result.verified
    # the same problems as the local export, table name aside (Customer.parquet locally)
    assert [p.split(": ", 1)[1] for p in remote.value.result.problems] == [
        p.split(": ", 1)[1] for p in local.value.result.problems]


def test_one_master_per_process(spark: Any) -> None:
    from govkit.engines.spark.session import spark_session
    from govkit.errors import UsageError

    assert spark_session() is spark  # the running session is joined (spark-submit, a notebook, these tests)
    assert spark_session(spark.sparkContext.master) is spark
    with pytest.raises(UsageError, match=r"already running in this process; it cannot also use --master local\[1\]"):
        spark_session("local[1]")
