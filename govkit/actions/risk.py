"""Re-identification risk of an export: k-anonymity, l-diversity, records at risk.

Removing names and emails is not enough: birth date, postcode and gender together single
out most people. A record whose quasi-identifier combination is shared by fewer than ``k``
records (its *equivalence class*) can be re-identified by anyone holding those attributes
elsewhere. This module measures that in one streaming pass: memory grows with the number
of distinct quasi-identifier combinations, never with the number of rows. Listing the
records at risk takes a second pass, so they are given by row number, never by value.

:func:`generalize_to_k` is how ``govkit anonymize --k`` reaches k: it coarsens the
quasi-identifiers along per-column ladders (Datafly-style, see the comment above it), then
names the classes whose rows must still be suppressed.
"""

from __future__ import annotations

import datetime
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govkit.actions.anonymize.hierarchies import as_number
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


# -- reaching k: generalize first, then suppress ------------------------------------------------
#
# A Datafly-style heuristic (Sweeney 1998, simplified). Each quasi-identifier gets a ladder
# of generalization levels chosen from its values (see :func:`ladder`); while more rows sit
# in classes smaller than k than the suppression budget allows, the column whose next
# level most reduces the number of such rows is coarsened by one level (ties: the column
# with more distinct values at its current level, then the earlier column). It stops when
# the rows in small classes fit in the budget or every column is at its top level; then
# each column is lowered again as far as the rows to suppress stay within the budget, and
# the rows still in small classes are suppressed. Because
# every level is a function of the value, a class of k or more rows only ever merges into
# bigger classes: generalizing never suppresses more rows than suppression alone would.
#
# Memory: the distinct quasi-identifier tuples of the export with their counts (as in
# :func:`equivalence_classes`) and, per column, a value -> generalized value map for each
# level tried; never whole rows.

_DATE_TEXT = re.compile(r"^\d{4}-\d{2}(-\d{2})?")
_TEXT_PREFIXES = (5, 3, 1)


@dataclass(frozen=True, slots=True)
class Level:
    """One rung of a column's ladder: its name (``exact``, ``month``, ``range 10``, ``prefix 3``, ``*``...)."""

    name: str
    apply: Callable[[Any], Any]
    #: whether a missing value (None or "") is generalized too (only ``*``: "unknown" is
    #: something an attacker may know, and at the top level it must not stay a class apart)
    missing: bool = False

    def __call__(self, value: Any) -> Any:
        return value if (value is None or value == "") and not self.missing else self.apply(value)




def _is_code(values: Sequence[Any]) -> bool:
    """Digit strings that are codes, not quantities: a leading zero, or all one length of 4+."""
    texts = [v.strip() for v in values if isinstance(v, str)]
    if len(texts) != len(values) or not all(t.isdigit() for t in texts):
        return False
    return any(len(t) > 1 and t[0] == "0" for t in texts) or (len({len(t) for t in texts}) == 1 and len(texts[0]) >= 4)


def ladder(values: Iterable[Any]) -> tuple[str, list[Level]]:
    """The kind of a quasi-identifier column and its generalization levels, finest first.

    Judged on the column's distinct non-empty values (as the export writes them, i.e. after
    the plan's operators):

    - ``date`` (date/datetime values or ``YYYY-MM[-DD]`` text): exact -> month -> year ->
      decade (``1980-1989``);
    - ``number`` (numbers, or numeric text that is not a code): exact -> ranges of width 5,
      10, 50, 100, 500, ... up to the first width that puts every value in one range;
    - ``code`` (digit strings with a leading zero or all of one length of 4 or more, such as
      postcodes) and ``text`` (anything else): exact -> first 5 -> 3 -> 1 characters (those
      shorter than the longest value) -> ``*`` (which also covers missing values).

    Other levels leave a missing value (None or empty) as it is.

    The date, range and prefix levels are the ``generalize`` operator's (``to=month``,
    ``year``, ``range``, ``prefix``), so an export reads the same as one generalized by a rule.
    """
    from govkit.actions.anonymize.operators import Generalize, GeneralizeParams, OperatorContext

    def generalize(to: Any, bucket: int | None = None) -> Callable[[Any], Any]:
        operator = Generalize(GeneralizeParams(to=to, bucket=bucket), OperatorContext(None))
        return lambda value: operator.apply(value)

    distinct = [v for v in set(values) if v is not None and v != ""]
    exact = Level("exact", lambda value: value)
    if not distinct:
        return "empty", [exact]
    if all(isinstance(v, datetime.date) or (isinstance(v, str) and _DATE_TEXT.match(v.strip())) for v in distinct):
        year, decade = generalize("year"), generalize("range", 10)
        return "date", [exact, Level("month", generalize("month")), Level("year", year),
                        Level("decade", lambda value: decade(year(value)) if year(value) else "")]
    numbers = [as_number(v) for v in distinct]
    if all(n is not None for n in numbers) and not _is_code(distinct):
        low, high = min(n for n in numbers if n is not None), max(n for n in numbers if n is not None)
        levels = [exact]
        width = 5
        while low != high:
            levels.append(Level(f"range {width}", generalize("range", width)))
            if low // width == high // width:
                break
            width = width * 2 if str(width).startswith("5") else width * 5
        return "number", levels
    kind = "code" if _is_code(distinct) else "text"
    longest = max(len(str(v).replace(" ", "")) for v in distinct)
    levels = [exact] + [Level(f"prefix {n}", generalize("prefix", n)) for n in _TEXT_PREFIXES if n < longest]
    return kind, [*levels, Level("*", lambda value: "*", missing=True)]


@dataclass(slots=True)
class KPlan:
    """How an export reaches k: the level each quasi-identifier is generalized to, then
    the (generalized) classes still smaller than k, whose rows are suppressed."""

    quasi_identifiers: list[str]
    k: int
    kinds: list[str]
    ladders: list[list[Level]]
    levels: list[int]
    risky: set[tuple[Any, ...]] = field(default_factory=set)
    suppressed: int = 0
    #: the most rows the plan may suppress (:func:`suppression_budget`), and whether it held
    budget: int = 0
    budget_met: bool = True
    _maps: list[dict[Any, Any]] = field(default_factory=list)

    @property
    def reached(self) -> dict[str, str]:
        """Column -> the name of the level it was generalized to (``exact`` if untouched)."""
        return {name: ladder[level].name
                for name, ladder, level in zip(self.quasi_identifiers, self.ladders, self.levels, strict=True)}

    def generalize(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        if not self._maps:
            self._maps = [{} for _ in self.levels]
        out = []
        for value, ladder, level, cache in zip(key, self.ladders, self.levels, self._maps, strict=True):
            if level == 0:
                out.append(value)
                continue
            try:
                out.append(cache[value])
            except KeyError:
                cache[value] = new = ladder[level](value)
                out.append(new)
            except TypeError:  # an unhashable value
                out.append(ladder[level](value))
        return tuple(out)

    def apply(self, columns: Sequence[str], batches: Iterable[Batch]) -> Iterator[tuple[Batch, int]]:
        """Each batch with its quasi-identifiers generalized and small-class rows left out, and how many."""
        indexes = column_indexes(columns, self.quasi_identifiers)
        coarsened = any(self.levels)
        for batch in batches:
            kept: Batch = []
            for row in batch:
                key = self.generalize(tuple(row[i] for i in indexes))
                if key in self.risky:
                    continue
                if coarsened:
                    values = list(row)
                    for i, value in zip(indexes, key, strict=True):
                        values[i] = value
                    row = tuple(values)
                kept.append(row)
            yield kept, len(batch) - len(kept)


def _at_risk(sizes: Counter[tuple[Any, ...]], k: int) -> int:
    return sum(size for size in sizes.values() if size < k)


def suppression_budget(rows: int, max_suppression: float) -> int:
    """The most rows a ``max_suppression`` fraction (0.05 = 5%) of ``rows`` allows, rounded down."""
    if not 0 <= max_suppression <= 1:
        raise UsageError("the suppression budget is a share of the rows between 0% and 100%")
    return math.floor(rows * max_suppression + 1e-9)


def generalize_to_k(
    sizes: Counter[tuple[Any, ...]], quasi_identifiers: Sequence[str], k: int, *, generalize: bool = True,
    max_suppression: float = 0.0,
) -> KPlan:
    """Choose generalization levels for ``sizes`` (class sizes, as from
    :func:`equivalence_classes`), greedily, then the classes left to suppress; see above.

    ``max_suppression`` is the suppression budget, a fraction of the rows: while the rows in
    classes smaller than k fit in it, they are suppressed rather than the quasi-identifiers
    coarsened (suppressing the rows of the smallest classes costs a few records; coarsening
    costs every record precision). Generalization starts only when suppression alone would
    exceed the budget, and stops as soon as the rows left at risk fit in it. When every
    column is at its top level and they still do not fit, the plan suppresses them anyway
    (the output must be k-anonymous) and says so with ``budget_met=False``.

    With ``generalize=False`` nothing is coarsened: plain suppression (the budget is then
    only reported on).
    """
    width = len(quasi_identifiers)
    kinds: list[str] = []
    ladders: list[list[Level]] = []
    for i in range(width):
        kind, rungs = ladder(key[i] for key in sizes) if generalize else ("", [Level("exact", lambda v: v)])
        kinds.append(kind)
        ladders.append(rungs)
    # per column and level: distinct value -> generalized value (distinct values only)
    maps: list[dict[int, dict[Any, Any]]] = [{} for _ in range(width)]

    def column_map(i: int, level: int) -> dict[Any, Any]:
        if level not in maps[i]:
            maps[i][level] = {key[i]: ladders[i][level](key[i]) for key in sizes}
        return maps[i][level]

    def classes(levels: Sequence[int]) -> Counter[tuple[Any, ...]]:
        if not any(levels):
            return sizes
        columns = [column_map(i, level) if level else None for i, level in enumerate(levels)]
        out: Counter[tuple[Any, ...]] = Counter()
        for key, size in sizes.items():
            out[tuple(v if m is None else m[v] for v, m in zip(key, columns, strict=True))] += size
        return out

    budget = suppression_budget(sum(sizes.values()), max_suppression)
    levels = [0] * width
    current = classes(levels)
    risk = _at_risk(current, k)
    while risk > budget:
        best: tuple[int, int, int] | None = None  # (rows no longer at risk, distinct values, -column)
        best_classes: Counter[tuple[Any, ...]] | None = None
        for i in range(width):
            if levels[i] + 1 >= len(ladders[i]):
                continue
            trial = classes([*levels[:i], levels[i] + 1, *levels[i + 1:]])
            distinct = len({key[i] for key in current})
            score = (risk - _at_risk(trial, k), distinct, -i)
            if best is None or score > best:
                best, best_classes = score, trial
        if best is None or best_classes is None:
            break  # every column at its top level
        levels[-best[2]] += 1
        current = best_classes
        risk = _at_risk(current, k)
    # Undo coarsening that bought nothing: lower each column again while that suppresses no
    # more rows than the budget allows, or than were already left (the greedy steps that
    # merged no small class, such as a postcode taken to "*" when its prefix already did all
    # it could).
    for i in range(width):
        while levels[i]:
            trial = classes([*levels[:i], levels[i] - 1, *levels[i + 1:]])
            trial_risk = _at_risk(trial, k)
            if trial_risk > max(risk, budget):
                break
            levels[i] -= 1
            current, risk = trial, trial_risk
    plan = KPlan(list(quasi_identifiers), k, kinds, ladders, levels, budget=budget)
    plan.risky = {key for key, size in current.items() if size < k}
    plan.suppressed = sum(current[key] for key in plan.risky)
    plan.budget_met = plan.suppressed <= budget
    if any(levels):  # the second pass maps values the first pass saw without recomputing them
        plan._maps = [maps[i].get(level, {}) if level else {} for i, level in enumerate(levels)]
    return plan
