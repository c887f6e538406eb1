"""The write-ahead journal of one change run: JSON lines, each fsynced before the step it announces.

Records (``t`` is the type):

* ``begun``: the run's plan digest and the "begun" audit record's sequence number.
* ``intent``: a unit is about to commit; ``before`` is the keyed digest of what the unit
  reads (its rows, its file) *before* changing it, ``data`` its counts and range (keys are
  sealed, see :mod:`govkit.change.run`).
* ``commit``: the unit committed (``recovered``: found committed on resume).
* ``phase``: a run-level step (``verified``, ``audited``, ``certified``) with its data.
* ``end``: ``finished`` or ``abandoned``.

A crash can leave a torn last line: it is ignored when read (the step it announced had not
happened yet, because every record is fsynced *before* the step). Values never enter the
journal: keys are sealed under the run's key and everything else is digests and counts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass(slots=True)
class UnitState:
    """What the journal says of one unit: ``new``, ``intended`` or ``committed``."""

    status: str = "new"
    before: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    recovered: bool = False
    #: the intent's sealed data (keys), still sealed
    sealed: str | None = None


class Journal:
    """Append-only, fsynced JSON lines at ``path`` (0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.units: dict[str, UnitState] = {}
        self.order: list[str] = []
        self.phases: dict[str, dict[str, Any]] = {}
        self.begun: dict[str, Any] | None = None
        self.end: str | None = None
        for record in self._read():
            self._apply(record)

    def _read(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            for raw in handle:
                if not raw.endswith(b"\n"):
                    return  # torn by a crash: the step it announced never ran
                try:
                    yield json.loads(raw)
                except ValueError:
                    continue  # a torn line that a later append terminated

    def _apply(self, record: dict[str, Any]) -> None:
        kind = record.get("t")
        if kind == "begun":
            self.begun = record
        elif kind == "intent":
            unit = record["unit"]
            if unit not in self.units:
                self.order.append(unit)
            self.units[unit] = UnitState("intended", record.get("before"), dict(record.get("data") or {}),
                                         sealed=record.get("sealed"))
        elif kind == "commit":
            state = self.units.setdefault(record["unit"], UnitState())
            if record["unit"] not in self.order:
                self.order.append(record["unit"])
            state.status = "committed"
            state.recovered = bool(record.get("recovered"))
            state.data.update(record.get("data") or {})
        elif kind == "phase":
            self.phases[record["name"]] = dict(record.get("data") or {})
        elif kind == "end":
            self.end = record.get("status")

    def append(self, record: dict[str, Any], *, sync: bool = True) -> None:
        """Write one record and (unless ``sync`` is false) fsync it; the caller acts only after
        this returns. A unit's commit record needs no fsync: lost in a crash, it is recovered
        from the data (the after-digest), so the next fsynced record carries it to disk."""
        record = {**record, "at": now()}
        line = (json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
                + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            self._terminate_torn(fd)
            os.write(fd, line)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        self._apply(record)

    def _terminate_torn(self, fd: int) -> None:
        """A torn last line (a crash mid-write) is ended, so the next record starts clean."""
        size = os.fstat(fd).st_size
        if size == 0:
            return
        with self.path.open("rb") as handle:
            handle.seek(size - 1)
            if handle.read(1) != b"\n":
                os.write(fd, b"\n")

    def unit(self, key: str) -> UnitState:
        return self.units.get(key, UnitState())

    def committed(self) -> list[str]:
        return [u for u in self.order if self.units[u].status == "committed"]
