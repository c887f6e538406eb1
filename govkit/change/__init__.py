"""The change engine: one journaled, resumable, audited runner for every action that modifies data.

See :mod:`govkit.change.run` for the lifecycle and why resume never applies a unit twice,
and :mod:`govkit.change.resume` for the registry of resumable run kinds.
"""

from govkit.change.run import ChangeRun, RunConflict, RunInfo, RunNotFound, UnitConflict, list_runs, unfinished

__all__ = ["ChangeRun", "RunConflict", "RunInfo", "RunNotFound", "UnitConflict", "list_runs", "unfinished"]
