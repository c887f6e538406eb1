"""``audit_action``: wrap one govkit action so that it leaves exactly one audit record.

Commands use it as::

    with audit_action(workspace.state_dir, "anonymize", {"table": "customers"}) as entry:
        result = anonymize(...)
        entry.counts["rows"] = result.rows

Why a context manager: the record must be written whatever happens (success, a
:class:`~govkit.errors.GovkitError`, a crash, Ctrl-C), and it must say which. Its checks run
*before* the block (:meth:`AuditLog.preflight`), so a missing or garbled key, or a damaged
log, stops the command before it changes any data rather than after, when the change could
no longer be recorded. A failure is recorded by the exception's class name only: messages
may quote the data govkit protects.

Stores written inside the block can ask to be anchored to the record it produces
(:func:`govkit.audit.anchors.anchor_when_recorded`): the DSR registry and the inventory do,
so that they keep the audit record of the action that last changed them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govkit.audit import anchors
from govkit.audit.log import AuditLog, Record

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class AuditEntry:
    """What the wrapped block may still add: parameters, counts, a different outcome
    (e.g. "violations"); after the block, ``record`` is the record written."""

    action: str
    params: dict[str, Any]
    counts: dict[str, int | float] = field(default_factory=dict)
    outcome: str = "ok"
    record: Record | None = None


@contextlib.contextmanager
def audit_action(
    state_dir: Path,
    action: str,
    params: Mapping[str, Any] | None = None,
    *,
    counts: Mapping[str, int | float] | None = None,
) -> Iterator[AuditEntry]:
    """Record ``action`` in the audit log of the workspace at ``state_dir`` when the block ends.

    Outcome: the entry's ``outcome`` ("ok" unless the block changed it) when the block ends
    normally or exits with status 0; ``"failed"`` with the exception's class name when it
    raises; ``"interrupted"`` on Ctrl-C; ``"exit-N"`` when it exits with a non-zero status N
    (``sys.exit`` or click's ``ctx.exit``, e.g. a ``--fail-on`` gate). The exception always
    propagates unchanged.
    """
    log = AuditLog(state_dir)
    log.preflight()
    entry = AuditEntry(action, dict(params or {}), dict(counts or {}))
    with anchors.collecting(state_dir) as pending:
        try:
            yield entry
        except GeneratorExit:
            raise
        except BaseException as exc:
            code = _exit_status(exc)
            if code == 0:
                entry.record = log.append(action, params=entry.params, counts=entry.counts, outcome=entry.outcome)
                anchors.run_writers(pending, entry.record)
                raise
            if code is not None:
                outcome, error = f"exit-{code}", None
            elif isinstance(exc, KeyboardInterrupt):
                outcome, error = "interrupted", type(exc).__name__
            else:
                outcome, error = "failed", type(exc).__name__
            try:
                entry.record = log.append(action, params=entry.params, counts=entry.counts, outcome=outcome,
                                          error=error)
            except Exception as audit_exc:
                # The action's own error matters more to the user than the audit failure; say
                # both, and let the action's propagate.
                logger.error("could not record the failed %s in the audit log (%s: %s)", action,
                             type(audit_exc).__name__, audit_exc)
            else:
                anchors.run_writers(pending, entry.record)
            raise
        else:
            entry.record = log.append(action, params=entry.params, counts=entry.counts, outcome=entry.outcome)
            anchors.run_writers(pending, entry.record)


def _exit_status(exc: BaseException) -> int | None:
    """The status of a deliberate exit (``SystemExit``, click's ``Exit``), else ``None``.

    click is recognised by duck typing so that this library module does not import it.
    """
    if isinstance(exc, SystemExit):
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    if type(exc).__name__ == "Exit" and type(exc).__module__.startswith("click"):
        status = getattr(exc, "exit_code", None)
        return status if isinstance(status, int) else None
    return None
