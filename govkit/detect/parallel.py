"""Judging column values in worker processes, for ``scan --full`` of big tables.

A full scan validates every distinct value of every column against the pattern
recognizers; that is CPU-bound Python, so one process uses one core however many the
machine has. :class:`JudgePool` sends each batch's new values to spawned workers (each
loads the engine once) while the scan reads the next batch, and hands back the same
judgements :meth:`PatternTally.judge` would make in-process: results do not depend on the
number of workers, only the time does.

Workers are spawned, not forked, for the same reason as the file scanner's: nothing of the
parent (open database connections, the progress bar's thread, locks) leaks into them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from govkit.detect.columns import ColumnClassifier, PatternTally, ValueKind
from govkit.detect.engine import get_engine

#: Judgements of one value: entity -> (score, text to show), as ``ColumnClassifier._judge``.
Judged = list[dict[str, tuple[float, str]]]

#: Below this many rows a table is judged in-process unless workers are asked for: starting
#: workers (each loads the engine, about two seconds) costs more than it saves.
PARALLEL_MIN_ROWS = 200_000

_worker_classifier: ColumnClassifier | None = None


def _init_worker(model: str | None, language: str) -> None:
    global _worker_classifier
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    _worker_classifier = ColumnClassifier(get_engine(model, language))


#: What a worker sends back per value: (entity, score) pairs. In a full scan the text to
#: show is always the value itself, which the parent has, so it does not travel back.
Compact = list[tuple[tuple[str, float], ...]]


def _judge(hint_strength: dict[str, float], kind: ValueKind, values: list[str]) -> Compact:
    assert _worker_classifier is not None, "worker not initialised"
    judged = _worker_classifier._judge(values, hint_strength, full=True, kind=kind)
    return [tuple((entity, score) for entity, (score, _) in best.items()) for best in judged]


def _expand(values: list[str], compact: Compact) -> Judged:
    return [
        {entity: (score, value) for entity, score in pairs} for value, pairs in zip(values, compact, strict=True)
    ]


def worker_count(jobs: int | None, row_estimate: int | None) -> int:
    """How many workers a full scan of a table gets: 1 means judge in-process."""
    if jobs is not None:
        return max(1, jobs)
    if (row_estimate or 0) < PARALLEL_MIN_ROWS:
        return 1
    return max(1, os.cpu_count() or 1)


class JudgePool:
    """Worker processes judging batches of new column values, results in submission order."""

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

    def submit(self, tally: PatternTally, values: list[str]) -> Future[Compact]:
        return self._executor.submit(_judge, tally.hint_strength, tally.kind, values)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> JudgePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def tally_batches(
    batches: Iterable[list[tuple[Any, ...]]],
    tallies: list[PatternTally],
    pool: JudgePool | None,
    on_batch: Callable[[list[tuple[Any, ...]]], None],
) -> None:
    """Feed every batch's columns into their tallies, judging new values in ``pool``.

    ``on_batch`` sees each batch as it is read (the scan keeps its reservoir sample there).
    Without a pool this is plain :meth:`PatternTally.add`; with one, judgements of up to
    ``pool.in_flight`` batches are pending while further batches are read.
    """
    if pool is None:
        for batch in batches:
            for index, tally in enumerate(tallies):
                tally.add(row[index] for row in batch)
            on_batch(batch)
        return
    pending: deque[list[tuple[PatternTally, Any, list[str], Future[Compact] | None]]] = deque()
    for batch in batches:
        jobs = []
        for index, tally in enumerate(tallies):
            texts, new = tally.prepare(row[index] for row in batch)
            jobs.append((tally, texts, new, pool.submit(tally, new) if new else None))
        pending.append(jobs)
        on_batch(batch)
        while len(pending) >= pool.in_flight:
            _record(pending.popleft())
    while pending:
        _record(pending.popleft())


def _record(jobs: list[tuple[PatternTally, Any, list[str], Future[Compact] | None]]) -> None:
    for tally, texts, new, future in jobs:
        tally.record(texts, new, _expand(new, future.result()) if future is not None else [])

