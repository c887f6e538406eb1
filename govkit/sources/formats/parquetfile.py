"""Parquet: each column, read one batch of a row group at a time.

pyarrow reads batches row group by row group (``iter_batches``), so memory follows the row
group size, not the file. Nested structs are flattened into dotted names
(``address.city``); list columns give one value per element. Column kinds come from the
Parquet schema (an ``int64`` column is judged like an INTEGER column of a database), and
values are converted to Python only for the rows the sample keeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from govkit.sources.formats.base import BATCH_ROWS, ColumnBatch, FileInput, Reader

_MAGIC = b"PAR1"


class ParquetReader(Reader):
    """Apache Parquet files."""

    name: ClassVar[str] = "parquet"
    extensions: ClassVar[tuple[str, ...]] = (".parquet", ".pq")
    binary: ClassVar[bool] = True

    def describe(self) -> str:
        return "parquet column"

    @classmethod
    def signature(cls, source: FileInput) -> bool:
        return source.head.startswith(_MAGIC)

    def batches(self) -> Iterator[ColumnBatch]:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        with pq.ParquetFile(self.source.local_path(self.max_bytes)) as parquet:
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
                table = pa.Table.from_batches([batch])
                while any(pa.types.is_struct(f.type) for f in table.schema):
                    table = table.flatten()
                columns: dict[str, Any] = {}
                kinds: dict[str, str] = {}
                types: dict[str, str] = {}
                for name, column in zip(table.column_names, table.columns, strict=True):
                    array = column.combine_chunks()
                    kinds[name] = _kind(pa, array.type)
                    types[name] = f"parquet {array.type}"
                    columns[name] = ArrowColumn(array)
                yield ColumnBatch(columns, table.num_rows, kinds=kinds, types=types)


class ArrowColumn:
    """A pyarrow array behind the small interface the sampler needs.

    The sampler asks for the count of non-null values and for the values at a few indexes
    among them; converting only those to Python keeps a million-row column cheap.
    """

    def __init__(self, array: Any) -> None:
        self.array = array.drop_null()
        self.nulls = int(array.null_count)

    def __len__(self) -> int:
        return len(self.array)

    def pick(self, indexes: list[int]) -> list[Any]:
        values: list[Any] = self.array.take(indexes).to_pylist()
        return values


def _kind(pa: Any, arrow_type: Any) -> str:
    types = pa.types
    if types.is_boolean(arrow_type):
        return "boolean"
    if types.is_integer(arrow_type):
        return "integer"
    if types.is_floating(arrow_type) or types.is_decimal(arrow_type):
        return "number"
    if types.is_timestamp(arrow_type):
        return "datetime"
    if types.is_date(arrow_type):
        return "date"
    if types.is_binary(arrow_type) or types.is_large_binary(arrow_type) or types.is_fixed_size_binary(arrow_type):
        return "binary"
    if types.is_string(arrow_type) or types.is_large_string(arrow_type):
        return "text"
    return "other"
