"""Judging column values in worker processes, for ``scan --full`` of big tables.

A full scan validates every distinct value of every column against the pattern
recognizers; that is CPU-bound Python, so one process uses one core however many the
machine has. :class:`JudgePool` sends each batch's counted values, column by column, to
spawned workers (each loads the engine once) while the scan reads the next batch. A worker
keeps a :class:`PatternTally` per column, judges what it has not seen, and returns the
batch's counts, which the scan merges in batch order. The counts (and the examples kept)
do not depend on the number of workers, only the time does; a value repeated across
batches may be judged once per worker instead of once.

Workers are spawned, not forked, for the same reason as the file scanner's: nothing of the
parent (open database connections, the progress bar's thread, locks) leaks into them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from govkit.detect.columns import ColumnClassifier, EntityStat, PatternTally, ValueKind
from govkit.detect.engine import get_engine
from govkit.errors import SourceError

#: Below this many rows a table is judged in-process unless workers are asked for: starting
#: workers (each loads the engine, about two seconds) costs more than it saves.
PARALLEL_MIN_ROWS = 200_000

#: A batch's counts for one column, as :meth:`PatternTally.take` returns them.
Delta = tuple[int, dict[str, EntityStat], dict[tuple[str, str], dict[str, EntityStat]]]

_worker_classifier: ColumnClassifier | None = None
_worker_tallies: dict[tuple[str, str], PatternTally] = {}


def _init_worker(model: str | None, language: str) -> None:
    global _worker_classifier
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")  # a spawned worker's stderr is the terminal: no raw warnings
    _worker_classifier = ColumnClassifier(get_engine(model, language))


def _tally_batch(table: str, column: str, kind: ValueKind, texts: Counter[str]) -> Delta:
    assert _worker_classifier is not None, "worker not initialised"
    tally = _worker_tallies.get((table, column))
    if tally is None:
        tally = _worker_tallies[(table, column)] = _worker_classifier.pattern_tally(table, column, kind)
    tally.add_counts(texts)
    return tally.take()


def worker_count(jobs: int | None, row_estimate: int | None) -> int:
    """How many workers a full scan of a table gets: 1 means judge in-process."""
    if jobs is not None:
        return max(1, jobs)
    if (row_estimate or 0) < PARALLEL_MIN_ROWS:
        return 1
    return max(1, os.cpu_count() or 1)


class JudgePool:
    """Worker processes tallying batches of column values; results in submission order."""

    def __init__(self, jobs: int, model: str | None, language: str) -> None:
        self._executor = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(model, language),
        )
        #: Batches in flight at most: enough to keep every worker busy while the next batch
        #: is read, few enough that memory stays bounded.
        self.in_flight = jobs + 1

    def submit(self, table: str, tally: PatternTally, texts: Counter[str]) -> Future[Delta]:
        return self._executor.submit(_tally_batch, table, tally.column, tally.kind, texts)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> JudgePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def tally_batches(
    table: str,
    batches: Iterable[list[tuple[Any, ...]]],
    tallies: list[PatternTally],
    pool: JudgePool | None,
    on_batch: Callable[[list[tuple[Any, ...]]], None],
) -> None:
    """Feed every batch's columns into their tallies, in ``pool``'s workers if given.

    ``on_batch`` sees each batch as it is read (the scan keeps its reservoir sample there).
    With a pool, up to ``pool.in_flight`` batches are being tallied while further batches
    are read; their counts are merged in batch order.
    """
    if pool is None:
        for batch in batches:
            for tally, values in zip(tallies, _columns(batch, len(tallies)), strict=True):
                tally.add(values)
            on_batch(batch)
        return
    pending: deque[list[tuple[PatternTally, Future[Delta]]]] = deque()
    for batch in batches:
        pending.append([
            (tally, pool.submit(table, tally, tally.count(values)))
            for tally, values in zip(tallies, _columns(batch, len(tallies)), strict=True)
        ])
        on_batch(batch)
        while len(pending) >= pool.in_flight:
            _merge(table, pending.popleft())
    while pending:
        _merge(table, pending.popleft())


def _columns(batch: list[tuple[Any, ...]], width: int) -> list[tuple[Any, ...]]:
    """A batch of rows as columns (``zip`` transposes in C)."""
    return list(zip(*batch, strict=True)) if batch else [() for _ in range(width)]


def _merge(table: str, jobs: list[tuple[PatternTally, Future[Delta]]]) -> None:
    for tally, future in jobs:
        try:
            delta = future.result()
        except BrokenProcessPool:
            raise SourceError(
                f"{table}: a worker process died while judging values (out of memory?); "
                "run the scan again with --jobs 1"
            ) from None
        tally.merge(*delta)
