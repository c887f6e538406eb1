"""Record readers and writers for exports: CSV, JSON Lines and Parquet, batch by batch.

Rows travel as lists of tuples in a fixed column order, a batch at a time, so an export of
any size holds one batch in memory (constant memory), and operators run column-wise on a
batch (``Operator.apply_many``).
"""

from __future__ import annotations

import csv
import datetime
import itertools
import json
import sys
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from govkit.errors import UsageError

FORMATS = ("csv", "jsonl", "parquet")
Batch = list[tuple[Any, ...]]

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def format_of(path: Path, given: str | None = None) -> str:
    """The file format from ``given`` or the suffix; a clear error for anything else."""
    fmt = (given or path.suffix.lstrip(".")).lower()
    fmt = {"ndjson": "jsonl", "json": "jsonl", "pq": "parquet"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise UsageError(f"{path.name}: cannot tell the format (use .csv, .jsonl or .parquet)")
    return fmt


def read_batches(path: Path, batch_size: int = 5000, fmt: str | None = None) -> tuple[list[str], Iterator[Batch]]:
    """The column names and an iterator of row batches of the file at ``path``."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    kind = format_of(path, fmt)
    if kind == "csv":
        handle = path.open(newline="", encoding="utf-8-sig")
        reader = csv.reader(handle)
        columns = next(reader, [])
        return columns, _csv_batches(handle, reader, batch_size)
    if kind == "jsonl":
        return _jsonl(path, batch_size)
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    parquet = pq.ParquetFile(path)
    columns = list(parquet.schema_arrow.names)

    def batches() -> Iterator[Batch]:
        for record_batch in parquet.iter_batches(batch_size=batch_size):
            data = record_batch.to_pydict()
            yield list(zip(*(data[c] for c in columns), strict=True))

    return columns, batches()


def _csv_batches(handle: IO[str], reader: Any, batch_size: int) -> Iterator[Batch]:
    size = max(1, batch_size)
    with handle:
        while batch := list(map(tuple, itertools.islice(reader, size))):  # in C, not row by row
            yield batch


def _jsonl(path: Path, batch_size: int) -> tuple[list[str], Iterator[Batch]]:
    """JSON Lines: the columns are the keys of the first record (later keys are added on)."""
    with path.open(encoding="utf-8") as handle:
        first = next((line for line in handle if line.strip()), None)
    columns = list(json.loads(first)) if first else []

    def batches() -> Iterator[Batch]:
        with path.open(encoding="utf-8") as handle:
            batch: Batch = []
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    raise UsageError(f"{path.name}:{number}: not a JSON object") from None
                batch.append(tuple(record.get(c) for c in columns))
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
            if batch:
                yield batch

    return columns, batches()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


class Writer:
    """Writes batches to one CSV, JSON Lines or Parquet file; ``close()`` finishes it."""

    def __init__(self, path: Path, columns: Sequence[str], fmt: str | None = None) -> None:
        self.path = path
        self.columns = list(columns)
        self.format = format_of(path, fmt)
        self.rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: IO[str] | None = None
        self._parquet: Any = None
        if self.format in ("csv", "jsonl"):
            self._handle = path.open("w", newline="", encoding="utf-8")
            if self.format == "csv":
                self._csv = csv.writer(self._handle)
                self._csv.writerow(self.columns)

    def write(self, batch: Batch) -> None:
        self.rows += len(batch)
        if self.format == "csv":
            self._csv.writerows(batch)
        elif self.format == "jsonl":
            assert self._handle is not None
            dumps, columns = json.dumps, self.columns
            self._handle.write("".join(
                dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False, default=_json_default) + "\n"
                for row in batch
            ))
        else:
            self._write_parquet(batch)

    def _write_parquet(self, batch: Batch) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        data: dict[str, list[Any]] = {}
        for i, column in enumerate(self.columns):
            values = [_parquet_value(row[i]) for row in batch]
            if len({type(v) for v in values if v is not None}) > 1:  # mixed: text for all
                values = [None if v is None else str(v) for v in values]
            data[column] = values
        if self._parquet is None:
            table = pa.table(data)
            self._parquet = pq.ParquetWriter(self.path, table.schema)
        else:
            table = pa.table(data, schema=self._parquet.schema)
        self._parquet.write_table(table)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._parquet is not None:
            self._parquet.close()
        elif self.format == "parquet":  # no rows: still a valid file with the columns
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({c: pa.array([], pa.string()) for c in self.columns}), self.path)


def _parquet_value(value: Any) -> Any:
    """Parquet columns need one type: keep numbers and booleans, write the rest as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return _json_default(value)
