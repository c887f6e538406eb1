"""CSV and TSV: dialect sniffed, header found, rows streamed in batches.

Exports are messy: semicolons from European Excel, tabs, quoted newlines, a header in
Chinese (姓名, 手机号, 身份证号), rows with a cell too many or too few. The dialect is sniffed
from the first 64 KB (delimiter among ``, ; \\t |``), falling back to the extension's
default. A ragged row keeps the cells it has under the header's names (missing cells are
empty, extra cells are dropped) and is counted, because one stray delimiter must not hide a
whole export from the scan.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterator
from typing import ClassVar

from govkit.sources.formats.base import BATCH_ROWS, ColumnBatch, Reader, iter_lines

#: The csv module refuses fields over 128 KB by default; a free-text cell may be larger.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

_DELIMITERS = ",;\t|"
_NUMBER_OR_DATE = re.compile(r"^[-+]?[\d.,:/ -]+$")


class CsvReader(Reader):
    """Comma-separated values (or whatever delimiter the content uses)."""

    name: ClassVar[str] = "csv"
    extensions: ClassVar[tuple[str, ...]] = (".csv",)
    default_delimiter: ClassVar[str] = ","

    def describe(self) -> str:
        return f"{self.name} column"

    def batches(self) -> Iterator[ColumnBatch]:
        with self.source.open_text() as stream:  # a gzip stream cannot seek back: read it twice
            head = stream.read(64 * 1024)
        dialect = self._dialect(head)
        with self.source.open_text() as stream:
            lines = iter_lines(stream, self.problems, keepends=True)
            rows = csv.reader(lines, dialect)
            header = self._header(rows)
            if header is None:
                return
            names, first = header
            width = len(names)
            batch: list[list[str]] = [first] if first is not None else []
            while True:
                try:
                    row = next(rows)
                except StopIteration:
                    break
                except csv.Error:
                    self.problems.malformed += 1
                    self.problems.malformed_what = "CSV rows"
                    continue
                if not row:
                    continue
                if len(row) != width:
                    self.problems.ragged += 1
                    row = (row + [""] * width)[:width]
                batch.append(row)
                if len(batch) >= BATCH_ROWS:
                    yield self._batch(names, batch)
                    batch = []
            if batch:
                yield self._batch(names, batch)

    def _dialect(self, head: str) -> type[csv.Dialect] | csv.Dialect:
        """The sniffed dialect; the extension's delimiter wins when the first line has it."""
        sample = head[: head.rfind("\n")] if "\n" in head else head
        first_line = sample.split("\n", 1)[0]
        delimiters = self.default_delimiter if self.default_delimiter in first_line else _DELIMITERS
        try:
            return csv.Sniffer().sniff(sample, delimiters=delimiters)
        except csv.Error:
            return csv.excel_tab if self.default_delimiter == "\t" else csv.excel

    def _header(self, rows: Iterator[list[str]]) -> tuple[list[str], list[str] | None] | None:
        """Column names, and the first row when it is data rather than a header.

        The first non-empty row is a header when most of its cells are filled and none is
        a number, a date or an e-mail address; otherwise columns are named ``column_1``...
        Empty or repeated header cells get a positional name or a ``_2`` suffix.
        """
        for row in rows:
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            filled = sum(1 for c in cells if c)
            is_header = filled * 2 >= len(cells) and not any(
                _NUMBER_OR_DATE.match(c) or "@" in c for c in cells if c
            )
            if not is_header:
                return [f"column_{i + 1}" for i in range(len(row))], row
            names: list[str] = []
            for index, cell in enumerate(cells):
                name = cell or f"column_{index + 1}"
                while name in names:
                    name = f"{name}_2"
                names.append(name)
            return names, None
        return None

    def _batch(self, names: list[str], rows: list[list[str]]) -> ColumnBatch:
        columns = {name: [cell if cell != "" else None for cell in cells] for name, cells in
                   zip(names, zip(*rows, strict=True), strict=True)}
        return ColumnBatch(columns, len(rows), types=dict.fromkeys(names, self.describe()))


class TsvReader(CsvReader):
    """Tab-separated values; the same reader with a tab as the fallback delimiter."""

    name: ClassVar[str] = "tsv"
    extensions: ClassVar[tuple[str, ...]] = (".tsv", ".tab")
    default_delimiter: ClassVar[str] = "\t"
