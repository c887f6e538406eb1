"""Two processes appending at once: the lock keeps every record, and the chain, intact."""

from __future__ import annotations

import itertools
import multiprocessing
from pathlib import Path

from govkit.audit import AuditLog

PER_PROCESS = 50


def _append_many(state_dir: str, worker: str, ready: multiprocessing.synchronize.Barrier) -> None:
    ready.wait(60)  # both workers imported and ready: now they really race
    log = AuditLog(Path(state_dir))
    for n in range(PER_PROCESS):
        log.append("scan", params={"worker": worker, "n": n}, counts={"n": n})


def test_two_processes_append_fifty_records_each(state_dir: Path) -> None:
    log = AuditLog(state_dir)
    log.preflight()  # create the keyset first, as 'govkit init' or the first command would
    # spawn: a clean interpreter per worker, as two separate govkit commands would be.
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(2)
    workers = [context.Process(target=_append_many, args=(str(state_dir), name, ready)) for name in ("a", "b")]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0

    records = log.records()
    assert [r.seq for r in records] == list(range(1, 2 * PER_PROCESS + 1))
    for worker in ("a", "b"):
        assert [r.params["n"] for r in records if r.params["worker"] == worker] == list(range(PER_PROCESS))
    result = log.verify()
    assert result.ok, result.problems
    assert result.records == 2 * PER_PROCESS
    # Both really ran at the same time (otherwise the test proves nothing about the lock).
    order = [r.params["worker"] for r in records]
    assert sum(a != b for a, b in itertools.pairwise(order)) > 1
