"""Seeded reservoir samples: of a column's values, of a log's candidate lines.

A structured file is read once, start to end, and the classifier wants a uniform sample of
each column (``sample_size`` values, like a table's sampled rows). Algorithm L (Li, 1994)
keeps a uniform reservoir while drawing a random number only for the items it keeps, so the
cost is ``O(k log(n/k))`` random draws instead of one per value: a million-row CSV costs a
few thousand draws per column. Each reservoir has its own generator seeded from the scan
seed, the file and the column, so a scan is reproducible and does not depend on the order in
which files or columns happen to be read, or on how many processes read them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar

from govkit.sources.formats.base import ColumnBatch

T = TypeVar("T")


class Reservoir(Generic[T]):
    """A uniform sample of at most ``size`` items from a stream of unknown length."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.size = size
        self.rng = rng
        self.items: list[T] = []
        self.seen = 0
        self._w = 1.0
        self._next = 0

    def select(self, count: int) -> list[tuple[int, int | None]]:
        """Which of the next ``count`` items to keep: (their index, slot to overwrite or None).

        ``None`` means append (the reservoir is still filling). Use :meth:`offer` for
        items at hand, this for batches where taking an item has a cost of its own.
        """
        out: list[tuple[int, int | None]] = []
        start, end = self.seen, self.seen + count
        index = start
        filled = len(self.items)
        while index < end and filled < self.size:
            out.append((index - start, None))
            index += 1
            filled += 1
            if filled == self.size:
                self._w = math.exp(math.log(self._uniform()) / self.size)
                self._next = index + self._skip()
        if self.size and filled >= self.size:
            while self._next < end:
                out.append((self._next - start, self.rng.randrange(self.size)))
                self._w *= math.exp(math.log(self._uniform()) / self.size)
                self._next += self._skip() + 1
        self.seen = end
        return out

    def offer(self, item: T) -> None:
        for _, slot in self.select(1):
            self.place(item, slot)

    def place(self, item: T, slot: int | None) -> None:
        if slot is None:
            self.items.append(item)
        else:
            self.items[slot] = item

    def _uniform(self) -> float:
        return 1.0 - self.rng.random()  # in (0, 1]: safe under log

    def _skip(self) -> int:
        weight = min(self._w, 1.0 - 1e-12)
        return math.floor(math.log(self._uniform()) / math.log(1.0 - weight))


class Pickable(Protocol):
    """A column that can hand over values by index without converting all of them."""

    nulls: int

    def __len__(self) -> int: ...

    def pick(self, indexes: list[int]) -> list[Any]: ...


@dataclass(slots=True)
class ColumnStats:
    """One column of one file: its reservoir, null count and declared type."""

    reservoir: Reservoir[Any]
    type_name: str
    kind: str | None = None
    nulls: int = 0
    values: int = 0


@dataclass(slots=True)
class SampledColumn:
    name: str
    kind: str
    type_name: str
    values: list[Any]
    nulls: int
    total: int


@dataclass
class ColumnSampler:
    """Per-column reservoirs over the batches of one structured file."""

    size: int
    seed: int
    key: str
    rows: int = 0
    columns: dict[str, ColumnStats] = field(default_factory=dict)

    def add(self, batch: ColumnBatch) -> None:
        self.rows += batch.rows
        for name, cells in batch.columns.items():
            stats = self.columns.get(name)
            if stats is None:
                rng = random.Random(f"{self.seed}:{self.key}:{name}")
                stats = ColumnStats(Reservoir(self.size, rng), batch.types.get(name, "value"), batch.kinds.get(name))
                self.columns[name] = stats
            if hasattr(cells, "pick"):
                pickable: Pickable = cells  # type: ignore[assignment]  # a Parquet ArrowColumn
                self._add_pickable(stats, pickable)
                continue
            present = [cell for cell in cells if cell is not None]
            stats.nulls += len(cells) - len(present)
            stats.values += len(present)
            for index, slot in stats.reservoir.select(len(present)):
                stats.reservoir.place(present[index], slot)

    def _add_pickable(self, stats: ColumnStats, cells: Pickable) -> None:
        stats.nulls += cells.nulls
        stats.values += len(cells)
        chosen = stats.reservoir.select(len(cells))
        if chosen:
            picked = cells.pick([index for index, _ in chosen])
            for value, (_, slot) in zip(picked, chosen, strict=True):
                stats.reservoir.place(value, slot)

    def samples(self) -> list[SampledColumn]:
        out = []
        for name, stats in self.columns.items():
            values = _expand(stats.reservoir.items)
            kind = stats.kind or infer_kind(values)
            out.append(SampledColumn(name, kind, stats.type_name, values, stats.nulls, stats.values))
        return out


def _expand(values: Sequence[Any]) -> list[Any]:
    """List cells (Parquet list columns) contribute each element; nulls inside are dropped."""
    out: list[Any] = []
    for value in values:
        if isinstance(value, list):
            out.extend(v for v in value if v is not None)
        else:
            out.append(value)
    return out


def infer_kind(values: Sequence[Any]) -> str:
    """The classifier's value kind from the Python types a reader produced.

    CSV gives strings (``text``); JSON and Excel give numbers, booleans and dates, judged
    as the database would judge columns of those types.
    """
    kinds = {type(v) for v in values}
    if not kinds:
        return "text"
    if kinds <= {bool}:
        return "boolean"
    if kinds <= {int}:
        return "integer"
    if kinds <= {int, float, Decimal}:
        return "number"
    if kinds <= {datetime}:
        return "datetime"
    if kinds <= {date, datetime}:
        return "date"
    if kinds <= {time}:
        return "other"
    if kinds <= {bytes, bytearray, memoryview}:
        return "binary"
    return "text"
