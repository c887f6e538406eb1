"""Excel workbooks (``.xlsx``, ``.xlsm``): every sheet, every column, streamed read-only.

openpyxl's read-only mode parses the sheet XML as a stream, so a workbook of a million rows
is not loaded whole. Each sheet's first non-empty row is its header; a field is addressed
``Sheet!Header`` (Excel's own ``Sheet!A1`` notation), so ``customers.xlsx`` with sheets
``客户`` and ``Orders`` gives fields such as ``客户!手机号`` and ``Orders!email``. Cached
formula results are read (``data_only``), never the formulas.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from govkit.sources.formats.base import BATCH_ROWS, ColumnBatch, FileInput, Reader, zip_names

_ZIP_MAGIC = b"PK\x03\x04"


class ExcelReader(Reader):
    """Office Open XML workbooks."""

    name: ClassVar[str] = "xlsx"
    extensions: ClassVar[tuple[str, ...]] = (".xlsx", ".xlsm")
    binary: ClassVar[bool] = True

    def describe(self) -> str:
        return "xlsx column"

    @classmethod
    def signature(cls, source: FileInput) -> bool:
        """A zip whose entries include ``xl/workbook.xml`` (checked on the file itself)."""
        if not source.head.startswith(_ZIP_MAGIC):
            return False
        if source.compressed:
            return source.name.lower().endswith(cls.extensions)
        return "xl/workbook.xml" in zip_names(source.path)

    def batches(self) -> Iterator[ColumnBatch]:
        import openpyxl  # type: ignore[import-untyped]

        workbook = openpyxl.load_workbook(
            self.source.local_path(self.max_bytes), read_only=True, data_only=True
        )
        try:
            for sheet in workbook.worksheets:
                yield from self._sheet(sheet)
        finally:
            workbook.close()

    def _sheet(self, sheet: Any) -> Iterator[ColumnBatch]:
        title = str(sheet.title)
        names: list[str] | None = None
        rows: list[tuple[Any, ...]] = []
        for row in sheet.iter_rows(values_only=True):
            if names is None:
                if not any(cell not in (None, "") for cell in row):
                    continue
                names = _header(title, row)
                continue
            if not any(cell not in (None, "") for cell in row):
                continue
            rows.append(row)
            if len(rows) >= BATCH_ROWS:
                yield self._batch(names, rows)
                rows = []
        if names is not None and rows:
            yield self._batch(names, rows)

    def _batch(self, names: list[str], rows: list[tuple[Any, ...]]) -> ColumnBatch:
        width = len(names)
        columns: dict[str, list[Any]] = {name: [] for name in names}
        lists = list(columns.values())
        for row in rows:
            if len(row) != width:
                if any(cell not in (None, "") for cell in row[width:]):
                    self.problems.ragged += 1
                row = (tuple(row) + (None,) * width)[:width]
            for index, cell in enumerate(row):
                lists[index].append(None if cell == "" else cell)
        return ColumnBatch(columns, len(rows), types=dict.fromkeys(names, self.describe()))


def _header(title: str, row: tuple[Any, ...]) -> list[str]:
    """``Sheet!Header`` names; empty or repeated headers get the column letter."""
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    names: list[str] = []
    for index, cell in enumerate(row):
        label = str(cell).strip() if cell not in (None, "") else get_column_letter(index + 1)
        name = f"{title}!{label}"
        while name in names:
            name = f"{name}_2"
        names.append(name)
    return names
