"""Which integer column a large JDBC table is read in ranges of (no Spark session needed)."""

from __future__ import annotations

import pytest
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

from govkit.engines.spark.scan import split_column


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
