"""Named points in the change engine where a test can stop the process.

The engine calls :func:`reach` at the moments a crash matters (between units, inside a
unit's transaction, after a commit and before its journal record, during verification,
after the audit record and before the certificate). In production nothing is registered
and :func:`reach` is a dictionary lookup. The kill-injection tests run govkit in a child
process whose start-up registers a hook that sends itself ``SIGKILL`` on the N-th time a
point is reached (``tests/change/killer.py``), so the crash is real: no ``finally`` block,
no ``atexit``, no flushed buffers, exactly as a power cut or the OOM killer.

Why hooks rather than an environment variable read here: a variable that can make a
production process kill itself mid-erasure is a foot-gun; a hook needs code in the process.
"""

from __future__ import annotations

from collections.abc import Callable

#: The points, in the order a run reaches them. Tests iterate over this list.
POINTS = (
    "run.begun",            # the plan and the "begun" audit record are written; no change yet
    "unit.applied",         # inside a unit: its changes are made but not committed
    "unit.intended",        # inside a unit: its intent (before-digest) is journaled, not committed
    "unit.committed",       # a unit is committed in the database (or the file swapped), not journaled
    "unit.journaled",       # between units: the unit's commit is journaled
    "verify.started",       # every unit is done; verification is reading the data back
    "run.verified",         # verification is journaled; the "finished" audit record is not written
    "run.audited",          # the "finished" audit record is written; the certificate is not
)

_HOOKS: dict[str, Callable[[str], None]] = {}


def register(point: str, hook: Callable[[str], None]) -> None:
    """Call ``hook(point)`` whenever the engine reaches ``point`` (tests only)."""
    if point not in POINTS:
        raise ValueError(f"unknown failpoint {point!r}")
    _HOOKS[point] = hook


def clear() -> None:
    _HOOKS.clear()


def reach(point: str) -> None:
    hook = _HOOKS.get(point)
    if hook is not None:
        hook(point)
