"""Reading a table through JDBC on Spark: the driver, secrets kept out of messages, and the
split of a large table into ranges of an integer column, read in parallel.

A JDBC table of at least ``rows_per_partition`` rows (a million unless ``--rows-per-partition``
says otherwise) is read in ranges of one integer column, one Spark partition per
``rows_per_partition`` rows (at least the session's parallelism, at most
:data:`JDBC_MAX_PARTITIONS`); a smaller table in one query. The column is the one
``--split-column TABLE=COLUMN`` names, else the one :func:`split_column` guesses.

Why the user may name it: the guess (``id``, ``<table>_id``, the first integer column) is a
key in most schemas, but where it is not (a table keyed by a text code, a sparse or skewed
number), ranges of equal width hold very unequal rows, and one executor reads most of the
table. Only the user knows a better column; a named column that does not exist, or is not
an integer, stops the command (exit 2) rather than quietly reading the table in one query.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from govkit.errors import UsageError

#: The driver class of a JDBC URL's sub-protocol. Named explicitly: Spark otherwise asks
#: ``DriverManager``, which does not see a jar added with ``--jars`` in every deployment.
JDBC_DRIVERS = {"postgresql": "org.postgresql.Driver", "mariadb": "org.mariadb.jdbc.Driver",
                "mysql": "com.mysql.cj.jdbc.Driver", "sqlserver": "com.microsoft.sqlserver.jdbc.SQLServerDriver",
                "oracle": "oracle.jdbc.OracleDriver", "db2": "com.ibm.db2.jcc.DB2Driver"}
#: Rows a JDBC read asks the database for at a time (PostgreSQL's driver otherwise reads a
#: whole table into the executor's memory before the first row).
JDBC_FETCH_SIZE = 10_000
#: Rows per Spark partition of a split read, and the size from which a table is split.
JDBC_ROWS_PER_PARTITION = 1_000_000
#: At most this many partitions (queries open on the database at once is the executors' slots).
JDBC_MAX_PARTITIONS = 1_000
MARIADB_ANSI_QUOTES = "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',ANSI_QUOTES')"
_SECRET_PARAM = re.compile(r"((?:password|passwd|pwd|secret|token)=)[^&;]*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class JdbcSplit:
    """How large JDBC tables are split: rows per partition, and the column per table
    (``--rows-per-partition``, ``--split-column``); tables not named get the guessed column."""

    rows_per_partition: int = JDBC_ROWS_PER_PARTITION
    columns: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """As the audit log records it."""
        return {"rows_per_partition": self.rows_per_partition, "columns": dict(self.columns)}

    def check(self, targets: Sequence[str], tables: Sequence[str]) -> None:
        """Before a session starts: the options only make sense for jdbc: URLs, and a column
        can only be named for a table the command reads (``--include``/``--table``)."""
        if not targets or not all(t.startswith("jdbc:") for t in targets):
            raise UsageError("--split-column and --rows-per-partition go with a jdbc: URL")
        for table in self.columns:
            if table not in tables:
                reads = ", ".join(tables) or "no table"
                raise UsageError(f"--split-column {table}={self.columns[table]}: {table!r} is not a table this "
                                 f"command reads (it reads {reads})")


def redact_jdbc(url: str) -> str:
    """A JDBC URL with its password and other secrets shown as ``***``."""
    url = re.sub(r"(//[^/:@]+:)[^@/]*@", r"\1***@", url)
    return _SECRET_PARAM.sub(r"\1***", url)


def jdbc_secrets(url: str) -> tuple[str, ...]:
    """The password (and other secret values) of a JDBC URL, to mask wherever Spark echoes them."""
    found = [m.group(1) for m in re.finditer(r"(?:password|passwd|pwd|secret|token)=([^&;]+)", url, re.IGNORECASE)]
    found += [m.group(1) for m in re.finditer(r"//[^/:@]+:([^@/]+)@", url)]
    return tuple(sorted(set(found), key=len, reverse=True))


def jdbc_driver(url: str) -> str | None:
    found = re.match(r"jdbc:([a-z0-9]+):", url)
    return JDBC_DRIVERS.get(found.group(1)) if found else None


def _jdbc_reader(spark: Any, url: str) -> Any:
    reader = spark.read.format("jdbc").option("url", url).option("fetchsize", JDBC_FETCH_SIZE)
    driver = jdbc_driver(url)
    if driver is not None:
        reader = reader.option("driver", driver)
    if url.startswith("jdbc:mariadb:"):
        # Spark has no dialect for jdbc:mariadb: its generic one quotes columns with double
        # quotes, which MariaDB reads as strings unless the session is in ANSI_QUOTES mode.
        reader = reader.option("sessionInitStatement", MARIADB_ANSI_QUOTES)
    return reader


def _integral(kind: Any) -> bool:
    from pyspark.sql.types import ByteType, DecimalType, IntegerType, LongType, ShortType

    return isinstance(kind, ByteType | ShortType | IntegerType | LongType) or (
        isinstance(kind, DecimalType) and kind.scale == 0)


def split_column(schema: Any, table: str) -> str | None:
    """The integer column to read a large JDBC table in ranges of: ``id``, ``<table>_id``
    or ``<table>id``, else the first column if it is an integer, else the first integer
    column; None when there is none. Any integer column gives every row exactly once (Spark's
    first and last ranges are open, NULLs go to the first); a key spreads them evenly."""
    columns = [str(f.name) for f in schema.fields if _integral(f.dataType)]
    if not columns:
        return None
    bare = table.rsplit(".", 1)[-1].strip('"`[]').lower()
    for name in columns:
        if name.lower() in ("id", f"{bare}_id", f"{bare}id"):
            return name
    first = str(schema.fields[0].name)
    return first if first in columns else columns[0]


def named_column(schema: Any, table: str, column: str) -> str:
    """The column ``--split-column`` names, as the table spells it (an exact match first,
    then one ignoring case, since databases fold unquoted names differently); a missing or
    non-integer column is a usage error naming ``table.column``."""
    fields = {str(f.name): f for f in schema.fields}
    found = fields.get(column) or next((f for name, f in fields.items() if name.lower() == column.lower()), None)
    if found is None:
        raise UsageError(f"--split-column {table}={column}: {table}.{column} does not exist "
                         f"(its columns: {', '.join(fields)})")
    if not _integral(found.dataType):
        raise UsageError(f"--split-column {table}={column}: {table}.{found.name} is "
                         f"{found.dataType.simpleString()}, not an integer column")
    return str(found.name)


def _quote(url: str, name: str) -> str:
    if url.startswith("jdbc:mysql:"):
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'  # ANSI: PostgreSQL, MariaDB (ANSI_QUOTES above), the rest


def _bounds(spark: Any, url: str, table: str, column: str, split: JdbcSplit) -> tuple[int, int, int] | None:
    """(lowest, highest, partitions) to read ``table`` in ranges of ``column``, or None (one query)."""
    quoted = _quote(url, column)
    bounds = _jdbc_reader(spark, url).option(
        "query", f"SELECT COUNT(*) AS n, MIN({quoted}) AS lo, MAX({quoted}) AS hi FROM {table}").load().collect()[0]
    rows, low, high = int(bounds[0]), bounds[1], bounds[2]
    if rows < split.rows_per_partition or low is None or int(high) <= int(low):
        return None
    wanted = max(spark.sparkContext.defaultParallelism, -(-rows // split.rows_per_partition))
    return int(low), int(high), min(wanted, JDBC_MAX_PARTITIONS, int(high) - int(low) + 1)


def jdbc_loader(url: str, table: str, split: JdbcSplit | None = None) -> Callable[[Any], Any]:
    """How to read ``table`` of ``url`` as a DataFrame: in one query, or in ranges (above)."""
    split = split or JdbcSplit()

    def load(spark: Any) -> Any:
        driver = jdbc_driver(url)
        try:
            frame = _jdbc_reader(spark, url).option("dbtable", table).load()  # the schema only
            named = split.columns.get(table)
            column = named_column(frame.schema, table, named) if named else split_column(frame.schema, table)
            if column is None:
                return frame
            try:
                bounds = _bounds(spark, url, table, column, split)
            except Exception:  # e.g. a dbtable the bounds query cannot wrap, a COUNT refused
                bounds = None  # splitting only spreads the work: read the table in one query
            if bounds is None:
                return frame
            low, high, partitions = bounds
            # Ranges in ascending order: the rows come range by range, in the column's order
            # where the table's own order follows it (a table filled in key order).
            return _jdbc_reader(spark, url).option("dbtable", table).option("partitionColumn", column) \
                .option("lowerBound", low).option("upperBound", high + 1).option("numPartitions", partitions).load()
        except UsageError:
            raise
        except Exception as exc:
            from govkit.engines.spark.session import spark_error

            line = spark_error(exc, jdbc_secrets(url))
            if "ClassNotFoundException" in line or "No suitable driver" in line:  # every table would fail alike
                named_driver = f"the JDBC driver {driver}" if driver else "no JDBC driver for this URL"
                raise UsageError(f"{redact_jdbc(url)}: {named_driver} is not on Spark's classpath; give its jar "
                                 "with --jars PATH (or spark-submit --jars)") from None
            raise  # this table only: the scan reports it as skipped, with Spark's message

    return load
