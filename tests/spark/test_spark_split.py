"""How a large JDBC table is split for Spark: which integer column (guessed, or named with
``--split-column``), and the options' bad input (no Spark session needed: a usage error is
found before one starts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pyspark.sql.types import (
    DecimalType,
    DoubleType,
    IntegerType,
    LongType,
    ShortType,
    StringType,
    StructField,
    StructType,
)

from govkit.cli import main
from govkit.engines.spark import session
from govkit.engines.spark.jdbc import JdbcSplit, named_column, split_column
from govkit.errors import UsageError

URL = "jdbc:postgresql://db.example:5432/shop?user=app&password=s3cret-pw"


def _schema(*fields: tuple[str, object]) -> StructType:
    return StructType([StructField(name, kind) for name, kind in fields])  # type: ignore[arg-type]


@pytest.mark.parametrize(("table", "fields", "expected"), [
    ("orders", [("note", StringType()), ("id", LongType())], "id"),
    ("public.customer", [("store_id", IntegerType()), ("customer_id", IntegerType())], "customer_id"),
    ("Customer", [("SupportRepId", IntegerType()), ("CustomerId", IntegerType())], "CustomerId"),
    ('"Customer"', [("SupportRepId", IntegerType()), ("CustomerId", IntegerType())], "CustomerId"),
    ("payments", [("payment_no", LongType()), ("amount", DoubleType())], "payment_no"),  # the first column
    ("log", [("line", StringType()), ("level", ShortType()), ("code", IntegerType())], "level"),  # first integer
    ("accounts", [("account_no", DecimalType(12, 0)), ("name", StringType())], "account_no"),  # Oracle NUMBER(12)
    ("prices", [("price", DecimalType(10, 2)), ("name", StringType())], None),  # a fraction is no range key
    ("notes", [("title", StringType()), ("weight", DoubleType())], None),
])
def test_the_split_column(table: str, fields: list[tuple[str, object]], expected: str | None) -> None:
    assert split_column(_schema(*fields), table) == expected


CUSTOMER = _schema(("CustomerId", IntegerType()), ("Email", StringType()), ("SupportRepId", LongType()),
                   ("Balance", DecimalType(10, 2)), ("branch", ShortType()), ("BRANCH", LongType()))


@pytest.mark.parametrize(("given", "expected"), [
    ("SupportRepId", "SupportRepId"),
    ("supportrepid", "SupportRepId"),  # unquoted names fold differently per database: case is forgiven
    ("branch", "branch"),  # an exact match wins over one ignoring case
    ("BRANCH", "BRANCH"),
])
def test_a_named_split_column_is_found_as_the_table_spells_it(given: str, expected: str) -> None:
    assert named_column(CUSTOMER, "Customer", given) == expected


@pytest.mark.parametrize(("given", "message"), [
    ("rep", "--split-column Customer=rep: Customer.rep does not exist (its columns: CustomerId, Email, "
            "SupportRepId, Balance, branch, BRANCH)"),
    ("email", "--split-column Customer=email: Customer.Email is string, not an integer column"),
    ("Balance", "--split-column Customer=Balance: Customer.Balance is decimal(10,2), not an integer column"),
])
def test_a_named_split_column_that_cannot_split_is_a_usage_error(given: str, message: str) -> None:
    with pytest.raises(UsageError) as raised:
        named_column(CUSTOMER, "Customer", given)
    assert str(raised.value) == message


def test_the_split_goes_with_jdbc_urls_and_the_tables_read() -> None:
    split = JdbcSplit(500, {"customer": "customer_id"})
    split.check([URL], ["customer", "invoice"])  # fine
    with pytest.raises(UsageError, match=r"^--split-column and --rows-per-partition go with a jdbc: URL$"):
        split.check([URL, "lake/people.parquet"], ["customer"])
    with pytest.raises(UsageError, match="go with a jdbc: URL"):
        split.check([], ["customer"])
    with pytest.raises(UsageError) as raised:
        split.check([URL], ["invoice"])
    assert str(raised.value) == ("--split-column customer=customer_id: 'customer' is not a table this command "
                                 "reads (it reads invoice)")
    assert JdbcSplit().to_dict() == {"rows_per_partition": 1_000_000, "columns": {}}
    assert split.to_dict() == {"rows_per_partition": 500, "columns": {"customer": "customer_id"}}


BAD = {
    "without spark": (["scan", URL, "--include", "customer", "--split-column", "customer=id"],
                      "govkit: error: --split-column and --rows-per-partition go with --engine spark"),
    "rows without spark": (["anonymize", URL, "--table", "customer", "--to", "out", "--rows-per-partition", "9"],
                           "govkit: error: --split-column and --rows-per-partition go with --engine spark"),
    "not jdbc": (["scan", "--engine", "spark", "people.parquet", "--rows-per-partition", "10"],
                 "govkit: error: --split-column and --rows-per-partition go with a jdbc: URL"),
    "a table not read": (["scan", "--engine", "spark", URL, "--include", "customer", "--split-column", "invoice=id"],
                         "govkit: error: --split-column invoice=id: 'invoice' is not a table this command reads "
                         "(it reads customer)"),
    "anonymize, a table not read": (
        ["anonymize", "--engine", "spark", URL, "--table", "customer", "--to", "out", "--split-column", "invoice=id"],
        "govkit: error: --split-column invoice=id: 'invoice' is not a table this command reads (it reads customer)"),
    "no column": (["scan", "--engine", "spark", URL, "--include", "customer", "--split-column", "customer"],
                  "Invalid value for '--split-column': 'customer': give TABLE=COLUMN"),
    "twice": (["scan", "--engine", "spark", URL, "--include", "customer", "--split-column", "customer=a",
               "--split-column", "customer=b"], "Invalid value for '--split-column': 'customer' is given twice"),
    "zero rows": (["scan", "--engine", "spark", URL, "--include", "customer", "--rows-per-partition", "0"],
                  "Invalid value for '--rows-per-partition'"),
}


@pytest.mark.parametrize(("args", "message"), BAD.values(), ids=BAD.keys())
def test_bad_split_options_exit_2_before_a_session_starts(args: list[str], message: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def no_session(*_: Any, **__: Any) -> None:
        raise AssertionError("a Spark session was started for a usage error")

    monkeypatch.setattr(session, "spark_session", no_session)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    (tmp_path / "people.parquet").write_bytes(b"PAR1")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "s3cret-pw" not in result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert not (tmp_path / "out").exists()
