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
from govkit.sources.formats._encoding import detect_encoding, looks_binary
from govkit.sources.formats.base import HEAD_BYTES
from govkit.sources.formats.jsonfile import JsonTooDeep, loads

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
        # Decoded as 'govkit scan' decodes it (so the inventory's columns are these columns):
        # the encoding sniffed from the head, a stray broken byte replaced.
        handle = path.open(newline="", encoding=_text_encoding(path, "CSV"), errors="replace")
        reader = csv.reader(handle)
        try:
            columns = next(reader, [])
        except csv.Error as exc:
            handle.close()
            raise UsageError(f"{path.name}:1: not valid CSV ({exc})") from None
        return columns, _csv_batches(handle, reader, batch_size, path, len(columns))
    if kind == "jsonl":
        _text_encoding(path, "JSON")
        return _jsonl(path, batch_size)
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    try:
        parquet = pq.ParquetFile(path)
        columns = list(parquet.schema_arrow.names)
    except pa.ArrowException as exc:
        raise UsageError(f"{path.name}: not a readable Parquet file ({type(exc).__name__})") from None

    def batches() -> Iterator[Batch]:
        try:
            for record_batch in parquet.iter_batches(batch_size=batch_size):
                data = record_batch.to_pydict()
                yield list(zip(*(data[c] for c in columns), strict=True))
        except pa.ArrowException as exc:
            raise UsageError(f"{path.name}: the Parquet file is damaged ({type(exc).__name__})") from None

    return columns, batches()


def _text_encoding(path: Path, what: str) -> str:
    """The encoding of a text file, sniffed as 'govkit scan' does; a binary file is refused."""
    with path.open("rb") as raw:
        head = raw.read(HEAD_BYTES)
    if looks_binary(head):
        raise UsageError(f"{path.name}: binary content, not {what} text")
    return detect_encoding(head)


def _csv_batches(handle: IO[str], reader: Any, batch_size: int, path: Path, width: int) -> Iterator[Batch]:
    """Rows as tuples, a batch at a time. Blank lines are left out (as 'govkit scan' does); a
    row with more or fewer cells than the header is an error naming it, since its cells
    cannot be told apart by column (the scan pads or cuts such rows; an export must not)."""
    size = max(1, batch_size)
    done = 0
    with handle:
        while True:
            try:
                batch = list(map(tuple, itertools.islice(reader, size)))  # in C, not row by row
            except csv.Error as exc:
                raise UsageError(f"{path.name}:{reader.line_num}: not valid CSV ({exc})") from None
            if not batch:
                return
            if any(len(row) != width for row in batch):
                batch = [row for row in batch if row]
                for number, row in enumerate(batch, done + 1):
                    if len(row) != width:
                        raise UsageError(
                            f"{path.name}: row {number} after the header has {len(row)} cells, the header "
                            f"{width}; a ragged CSV cannot be anonymized column by column")
            done += len(batch)
            yield batch


def _jsonl(path: Path, batch_size: int) -> tuple[list[str], Iterator[Batch]]:
    """JSON Lines: the columns are the keys of the first record (later keys are added on)."""
    first = next(_records(path), None)
    columns = list(first) if first is not None else []

    def batches() -> Iterator[Batch]:
        batch: Batch = []
        for record in _records(path):
            batch.append(tuple(record.get(c) for c in columns))
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    return columns, batches()


def _records(path: Path) -> Iterator[dict[str, Any]]:
    """The objects of a JSON Lines file; a line that is not one is an error naming file and line."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise UsageError(f"{path.name}:{number}: not UTF-8; JSON is read as UTF-8, so re-encode it "
                                 f"first") from None
            if not line.strip():
                continue
            try:
                record = loads(line)
            except JsonTooDeep as exc:
                raise UsageError(f"{path.name}:{number}: {exc}") from None
            except json.JSONDecodeError:
                record = None
            if not isinstance(record, dict):
                raise UsageError(f"{path.name}:{number}: not a JSON object (JSON Lines: one object per line)")
            yield record


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
