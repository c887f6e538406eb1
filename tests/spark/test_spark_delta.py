"""Delta tables on a plain Spark session, through delta-rs (``govkit[delta]``): only the current
snapshot is read, findings equal the local scan's, and an anonymized ``--to X.delta`` is a
Delta table holding the local export's pseudonyms.

The tables are written with ``deltalake`` from Chinook's Parquet export. Customer is first
written with every row twice and then overwritten with the real rows: its folder holds both
versions' files, so reading the folder's Parquet instead of the snapshot would count every
customer three times and fail the comparison.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from govkit.cli import main
from govkit.scan import ScanOptions, scan
from tests.spark.test_spark_engine import _answers, _read, _workspace

deltalake = pytest.importorskip("deltalake", reason="the Delta tests need the delta extra: pip install 'govkit[delta]'")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory, chinook_parquet: Path) -> Path:
    folder = tmp_path_factory.mktemp("lake")
    customers = pq.read_table(chinook_parquet / "Customer.parquet")
    deltalake.write_deltalake(folder / "Customer", pa.concat_tables([customers, customers]))
    deltalake.write_deltalake(folder / "Customer", customers, mode="overwrite")
    deltalake.write_deltalake(folder / "Invoice", pq.read_table(chinook_parquet / "Invoice.parquet"))
    return folder


def test_a_delta_table_is_read_at_its_current_version(spark: Any, lake: Path, chinook_db: Path) -> None:
    from govkit.engines.spark.scan import spark_scan

    assert len(list((lake / "Customer").glob("*.parquet"))) == 2  # both versions' files are on disk
    local = scan(None, [f"sqlite:///{chinook_db}"], ScanOptions(full=True, jobs=1, include=["Customer", "Invoice"]))
    remote = spark_scan(None, [str(lake)], ScanOptions(full=True))
    assert {a.split(".")[-1] for a, _, _ in _answers(remote.findings)} == {"Customer", "Invoice"}
    assert _answers(remote.findings) == _answers(local.findings)
    assert remote.stats.values_analyzed == local.stats.values_analyzed


def test_partitions_empty_tables_and_features_parquet_cannot_honour(spark: Any, tmp_path: Path,
                                                                   chinook_parquet: Path) -> None:
    from govkit.engines.spark.delta import read_delta
    from govkit.errors import UsageError

    customers = pq.read_table(chinook_parquet / "Customer.parquet")
    deltalake.write_deltalake(tmp_path / "by_country", customers, partition_by=["Country"])
    frame = read_delta(spark, str(tmp_path / "by_country"))
    assert frame.count() == customers.num_rows
    rows = {(r["CustomerId"], r["Country"]) for r in frame.select("CustomerId", "Country").collect()}
    assert rows == set(zip(customers.column("CustomerId").to_pylist(), customers.column("Country").to_pylist(),
                           strict=True))  # the partition column comes back from the folder names

    deltalake.write_deltalake(tmp_path / "empty", customers.slice(0, 0))
    empty = read_delta(spark, str(tmp_path / "empty"))
    assert empty.count() == 0
    assert empty.columns == customers.column_names

    deltalake.write_deltalake(tmp_path / "dv", customers, configuration={"delta.enableDeletionVectors": "true"})
    with pytest.raises(UsageError, match="uses deletionVectors, which only delta-spark reads correctly"):
        read_delta(spark, str(tmp_path / "dv"))


def test_anonymize_to_delta_writes_a_delta_table_of_the_local_pseudonyms(
    spark: Any, lake: Path, chinook_db: Path, chinook_parquet: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _workspace(tmp_path, monkeypatch)
    runner = CliRunner()
    for args in (["scan", f"sqlite:///{chinook_db}", "--full", "--jobs", "1", "--include", "Customer"],
                 ["scan", "--engine", "spark", str(lake)]):  # both in the inventory: the same fields planned
        scanned = runner.invoke(main, args)
        assert scanned.exit_code == 0, scanned.output
    rules = ["--rule", "CustomerId=pseudonymize", "--rule", "Email=pseudonymize", "--rule", "Phone=mask",
             "--table", "Customer"]
    local_out = tmp_path / "local"
    done = runner.invoke(main, ["anonymize", f"sqlite:///{chinook_db}", "--to", str(local_out), "--to-format",
                                "parquet", *rules])
    assert done.exit_code == 0, done.output
    target = tmp_path / "customers.delta"
    done = runner.invoke(main, ["anonymize", "--engine", "spark", str(lake / "Customer"), "--to", str(target),
                                *rules, "--format", "json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["verification"] == "passed"
    written = deltalake.DeltaTable(target)  # a Delta table any Delta reader opens
    assert written.version() == 0
    mine = written.to_pyarrow_table().to_pydict()
    theirs = _read(local_out / "Customer.parquet")
    for name in ("CustomerId", "Email", "Phone", "FirstName"):
        assert [str(v) for v in mine[name]] == [str(v) for v in theirs[name]], name
    assert not set(mine["Email"]) & set(pq.read_table(chinook_parquet / "Customer.parquet").column("Email")
                                         .to_pylist())
    again = runner.invoke(main, ["anonymize", "--engine", "spark", str(lake / "Customer"), "--to", str(target),
                                 *rules])
    assert again.exit_code == 2  # an existing table is not overwritten without --force
    forced = runner.invoke(main, ["anonymize", "--engine", "spark", str(lake / "Customer"), "--to", str(target),
                                  *rules, "--force"])
    assert forced.exit_code == 0, forced.output
    assert deltalake.DeltaTable(target).to_pyarrow_table().num_rows == 59  # one table, not old files added
