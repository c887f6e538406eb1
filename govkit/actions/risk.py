"""Re-identification risk of an export: k-anonymity, l-diversity, records at risk.

Removing names and emails is not enough: birth date, postcode and gender together single
out most people. A record whose quasi-identifier combination is shared by fewer than ``k``
records (its *equivalence class*) can be re-identified by anyone holding those attributes
elsewhere. This module measures that in one streaming pass: memory grows with the number
of distinct quasi-identifier combinations, never with the number of rows. Listing the
records at risk takes a second pass, so they are given by row number, never by value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govkit.errors import UsageError

Batch = list[tuple[Any, ...]]
#: Opens the data afresh: (columns, batches). Called once per pass.
Opener = Callable[[], tuple[list[str], Iterator[Batch]]]
MAX_LISTED = 1000


@dataclass(slots=True)
class RiskReport:
    """What ``govkit risk`` says. ``k`` is the smallest class size (0 for no rows)."""

    target: str
    rows: int
    quasi_identifiers: list[str]
    threshold: int
    classes: int = 0
    k: int = 0
    #: class size -> how many classes have that size (sizes above 10 share the key ">10")
    distribution: dict[str, int] = field(default_factory=dict)
    records_at_risk: int = 0
    classes_at_risk: int = 0
    at_risk_rows: list[int] = field(default_factory=list)
    sensitive: str | None = None
    l_diversity: int | None = None
    classes_below_l: int | None = None

    @property
    def k_anonymous(self) -> bool:
        return self.rows == 0 or self.k >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__slots__}
        data["k_anonymous"] = self.k_anonymous
        return data


def equivalence_classes(
    columns: Sequence[str], batches: Iterable[Batch], quasi_identifiers: Sequence[str], sensitive: str | None = None,
) -> tuple[Counter[tuple[Any, ...]], dict[tuple[Any, ...], set[Any]], int]:
    """Class sizes, distinct sensitive values per class, and the row count, in one pass."""
    indexes = column_indexes(columns, [*quasi_identifiers, *([sensitive] if sensitive else [])])
    qi_index = indexes[: len(quasi_identifiers)]
    sensitive_index = indexes[-1] if sensitive else None
    sizes: Counter[tuple[Any, ...]] = Counter()
    values: dict[tuple[Any, ...], set[Any]] = {}
    rows = 0
    for batch in batches:
        rows += len(batch)
        keys = [tuple(row[i] for i in qi_index) for row in batch]
        sizes.update(keys)
        if sensitive_index is not None:
            for key, row in zip(keys, batch, strict=True):
                values.setdefault(key, set()).add(row[sensitive_index])
    return sizes, values, rows


def column_indexes(columns: Sequence[str], wanted: Sequence[str]) -> list[int]:
    """Positions of ``wanted`` in ``columns`` (case-insensitive); a clear error if missing."""
    lower = {c.lower(): i for i, c in enumerate(columns)}
    missing = [w for w in wanted if w.lower() not in lower]
    if missing:
        raise UsageError(f"no column {', '.join(missing)} (columns: {', '.join(columns)})")
    return [lower[w.lower()] for w in wanted]


def measure(
    target: str, opener: Opener, quasi_identifiers: Sequence[str], *, k: int = 5, sensitive: str | None = None,
    list_rows: bool = True,
) -> RiskReport:
    """Measure k-anonymity (and l-diversity for ``sensitive``) of the data ``opener`` yields."""
    if not quasi_identifiers:
        raise UsageError("name the quasi-identifiers, e.g. --quasi-identifiers birth_date,postcode,gender")
    if k < 1:
        raise UsageError("k must be at least 1")
    columns, batches = opener()
    sizes, values, rows = equivalence_classes(columns, batches, quasi_identifiers, sensitive)
    report = RiskReport(target, rows, list(quasi_identifiers), k, classes=len(sizes), sensitive=sensitive)
    if not sizes:
        return report
    report.k = min(sizes.values())
    distribution: Counter[str] = Counter()
    for size in sizes.values():
        distribution[str(size) if size <= 10 else ">10"] += 1
    report.distribution = dict(sorted(distribution.items(), key=lambda kv: (kv[0] == ">10", int(kv[0].strip(">")))))
    risky = {key for key, size in sizes.items() if size < k}
    report.classes_at_risk = len(risky)
    report.records_at_risk = sum(sizes[key] for key in risky)
    if sensitive:
        report.l_diversity = min(len(v) for v in values.values())
        report.classes_below_l = sum(1 for v in values.values() if len(v) < 2)
    if risky and list_rows:
        columns, batches = opener()
        qi_index = column_indexes(columns, quasi_identifiers)
        number = 0
        for batch in batches:
            for row in batch:
                number += 1
                if tuple(row[i] for i in qi_index) in risky:
                    report.at_risk_rows.append(number)
                    if len(report.at_risk_rows) >= MAX_LISTED:
                        return report
    return report


def file_opener(path: Path) -> Opener:
    from govkit.actions.anonymize.io import read_batches

    return lambda: read_batches(path)


def table_opener(url: str, table: str) -> Opener:
    """Stream a table of the database at ``url`` (name as ``table`` or ``schema.table``)."""
    from govkit.sources.database import DatabaseSource

    def open_table() -> tuple[list[str], Iterator[Batch]]:
        source = DatabaseSource(url)
        info = find_table(source, table)
        columns = [c.name for c in source.readable_columns(info)]

        def batches() -> Iterator[Batch]:
            try:
                yield from source.stream(info)
            finally:
                source.close()

        return columns, batches()

    return open_table


def find_table(source: Any, name: str) -> Any:
    """The :class:`TableInfo` called ``name`` (qualified or not, any case)."""
    tables = source.tables()
    for info in tables:
        if name.lower() in (info.qualified.lower(), info.name.lower()):
            return info
    raise UsageError(f"{source.display}: no table {name} (tables: {', '.join(t.qualified for t in tables)})")


def suppress_to_k(
    columns: Sequence[str], opener: Callable[[], Iterator[Batch]], quasi_identifiers: Sequence[str], k: int,
) -> tuple[set[tuple[Any, ...]], int]:
    """The classes smaller than ``k`` (whose rows an export must suppress) and their row count."""
    sizes, _, _ = equivalence_classes(columns, opener(), quasi_identifiers)
    risky = {key for key, size in sizes.items() if size < k}
    return risky, sum(sizes[key] for key in risky)
