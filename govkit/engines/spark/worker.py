"""What runs on the Spark executors: partition functions and a per-process engine cache.

Every function here is shipped to the executors by reference (pyspark pickles the module
path and the arguments), so it must import only what an executor has: govkit itself,
installed on every node (docs/spark.md). Nothing returned from here carries a raw value:

* :func:`tally_partition` returns a partition's row count and, per column, the pattern
  counts of :class:`~govkit.detect.columns.PatternTally` (hits, score sums and at most three
  examples, masked when they were recorded);
* :func:`classify_partition` returns :class:`~govkit.detect.columns.ColumnVerdict`\\ s,
  whose evidence is masked like a local scan's;
* :func:`transform_partition` returns transformed rows, which Spark writes out, and keyed
  digests of inputs for the leak check (never the inputs).

The detection engine (the Presidio registry and the spaCy model, two seconds to load) is
built once per executor Python process by :func:`classifier` and reused by every task that
process runs (pyspark reuses its Python workers between tasks by default).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from govkit.detect.columns import MAX_VALUE_CHARS, ColumnClassifier, ColumnSample, ColumnVerdict, ValueKind

#: (model, language, min_confidence, ner_sample): what a classifier is built from.
Settings = tuple[str | None, str, float, int]
#: One column's counts from one partition, as :meth:`PatternTally.take` returns them.
Delta = tuple[int, dict[str, Any], dict[tuple[str, str], dict[str, Any]]]

_CLASSIFIERS: dict[Settings, ColumnClassifier] = {}
#: How many times this process built a classifier (the engine load): once per settings.
_LOADS = 0


def classifier(settings: Settings) -> ColumnClassifier:
    """This process's classifier for ``settings``; the engine is loaded on first use only."""
    global _LOADS
    found = _CLASSIFIERS.get(settings)
    if found is None:
        _LOADS += 1
        import logging
        import warnings

        from govkit.detect.engine import get_engine

        logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
        warnings.simplefilter("ignore")
        model, language, min_confidence, ner_sample = settings
        found = _CLASSIFIERS[settings] = ColumnClassifier(
            get_engine(model, language), min_confidence=min_confidence, ner_sample=ner_sample)
    return found


def loaded_engines() -> int:
    """How many times this process has loaded the engine (the tests check: once)."""
    return _LOADS


def cell(value: Any) -> Any:
    """A Spark value as the local readers hand it over: texts cut like the database reader
    cuts them, structs and maps as plain Python (their text is what is judged)."""
    if isinstance(value, str):
        return value[:MAX_VALUE_CHARS]
    if hasattr(value, "asDict"):  # a Row (struct)
        return str(value.asDict(recursive=True))
    return value


@dataclass(slots=True)
class PartitionCounts:
    """One partition's share of a table: its index, rows, and each column's counts."""

    index: int
    rows: int
    deltas: list[Delta]
    #: how many times the executor process had loaded the engine when the partition was done
    engines: int
    #: the executor Python process that counted the partition
    pid: int = 0


def tally_partition(
    index: int, rows: Iterable[Sequence[Any]], table: str, columns: Sequence[tuple[str, ValueKind]],
    settings: Settings, batch_size: int,
) -> Iterator[PartitionCounts]:
    """Count pattern hits over every row of one partition, batch by batch, as a local
    ``--full`` scan counts them (the same :class:`PatternTally`, the same batch size)."""
    judge = classifier(settings)
    tallies = [judge.pattern_tally(table, name, kind) for name, kind in columns]
    width = len(columns)
    count = 0
    batch: list[Sequence[Any]] = []

    def flush() -> None:
        for position, values in enumerate(zip(*batch, strict=True)):
            tallies[position].add(values)
        batch.clear()

    for row in rows:
        batch.append(row[:width])
        count += 1
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    yield PartitionCounts(index, count, [t.take() for t in tallies], loaded_engines(), os.getpid())


def classify_partition(
    picked: Iterable[tuple[int, Sequence[Any]]], table: str, columns: Sequence[tuple[str, ValueKind]],
    settings: Settings, deltas: Sequence[Delta],
) -> Iterator[list[ColumnVerdict]]:
    """Classify a table from its reservoir rows (``(slot, values)``, in any order) and its
    merged pattern counts: :meth:`ColumnClassifier.classify_many`, as a local scan calls it.

    Runs as one task per table, so the reservoir's raw values stay on the executors.
    """
    rows = [values for _, values in sorted(picked, key=lambda p: p[0])]
    judge = classifier(settings)
    samples = []
    for position, ((name, kind), delta) in enumerate(zip(columns, deltas, strict=True)):
        tally = judge.pattern_tally(table, name, kind)
        tally.merge(*delta)
        values = [cell(row[position]) for row in rows if row[position] is not None]
        samples.append(ColumnSample(table, name, kind, values, len(rows) - len(values), full_patterns=tally))
    yield judge.classify_many(samples) if samples else []


# -- anonymization ------------------------------------------------------------------------------


def digest(salt: bytes, value: Any) -> bytes:
    """A keyed digest of a value for the leak check (Python's ``hash`` differs per process)."""
    return hashlib.blake2b(str(value).encode("utf-8", "surrogatepass"), key=salt, digest_size=12).digest()


@dataclass(slots=True)
class TransformOutcome:
    """What one partition's transformation reports beside its rows (no values)."""

    rows: int
    unchanged: dict[str, int]
    #: per leak-checked field, digests of the inputs the operator changed (bounded)
    changed: dict[str, set[bytes]]


def transform_rows(
    rows: Iterable[Sequence[Any]], transformer: Any, batch_size: int, outcome: TransformOutcome, salt: bytes,
    leak_sample: int,
) -> Iterator[tuple[Any, ...]]:
    """Apply ``transformer`` (an :class:`~govkit.actions.anonymize.export.Transformer`) batch
    by batch, and note in ``outcome`` what the local exporter notes."""
    from govkit.actions.anonymize.export import LEAK_CHECKED

    checked = [(index, chosen.field, transformer.kept.index(index) if index in transformer.kept else None)
               for index, _, chosen in transformer.steps if chosen.operator in LEAK_CHECKED]
    batch: list[tuple[Any, ...]] = []

    def run() -> Iterator[tuple[Any, ...]]:
        out, unchanged = transformer.apply(batch)
        for name, same in unchanged.items():
            outcome.unchanged[name] = outcome.unchanged.get(name, 0) + same
        for index, name, position in checked:
            seen = outcome.changed.setdefault(name, set())
            for row, new in zip(batch, out, strict=True):
                if len(seen) >= leak_sample:
                    break
                value = row[index]
                if isinstance(value, str) and value and (position is None or value != new[position]):
                    seen.add(digest(salt, value))
        outcome.rows += len(batch)
        batch.clear()
        yield from (tuple(r) for r in out)

    for row in rows:
        batch.append(tuple(row))
        if len(batch) >= batch_size:
            yield from run()
    if batch:
        yield from run()


def warm_up(_: Iterable[Any], settings: Settings, hold: float = 1.0) -> Iterator[int]:
    """Load this executor process's engine now (benchmarks time scans, not model loading);
    ``hold`` keeps the task busy so that the other task slots get processes of their own."""
    import time

    classifier(settings)
    time.sleep(hold)
    yield loaded_engines()
