"""govkit: find personal data, keep a data map, and act on privacy policy.

The library API, which the CLI is a thin layer over::

    import govkit

    workspace = govkit.load_workspace(Path("path/to/workspace"))
    report = govkit.scan(workspace)                       # sources -> inventory
    evaluation = govkit.evaluate_workspace(workspace)      # inventory x policy -> violations
    html = govkit.render_audit_view(govkit.audit_view(workspace), "html", workspace.root)

Names are imported on first use (PEP 562), so ``import govkit`` stays cheap: the NLP model
and Presidio load only when detection actually runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> module that defines it.
_API: dict[str, str] = {
    # workspace and errors
    "Workspace": "govkit.workspace",
    "load_workspace": "govkit.workspace",
    "init_workspace": "govkit.workspace",
    "GovkitError": "govkit.errors",
    # scanning and the inventory
    "scan": "govkit.scan",
    "ScanOptions": "govkit.scan",
    "ScanReport": "govkit.model.findings",
    "Finding": "govkit.model.findings",
    "Inventory": "govkit.inventory.store",
    "get_engine": "govkit.detect.engine",
    "ColumnClassifier": "govkit.detect.columns",
    "ColumnSample": "govkit.detect.columns",
    # policy
    "load_policy": "govkit.policy",
    "active_policy": "govkit.policy",
    "evaluate_workspace": "govkit.policy",
    # actions
    "anonymize": "govkit.actions.anonymize.run",
    "AnonymizeRequest": "govkit.actions.anonymize.run",
    "measure_risk": "govkit.actions.risk",
    "new_request": "govkit.actions.dsr",
    "locate_request": "govkit.actions.dsr",
    "export_request": "govkit.actions.dsr",
    "erase_request": "govkit.actions.dsr",
    # reports and the audit log
    "audit_view": "govkit.report",
    "render_audit_view": "govkit.report",
    "AuditLog": "govkit.audit",
}
_RENAMED = {"measure_risk": "measure"}

__all__ = [
    "AnonymizeRequest",
    "AuditLog",
    "ColumnClassifier",
    "ColumnSample",
    "Finding",
    "GovkitError",
    "Inventory",
    "ScanOptions",
    "ScanReport",
    "Workspace",
    "__version__",
    "active_policy",
    "anonymize",
    "audit_view",
    "erase_request",
    "evaluate_workspace",
    "export_request",
    "get_engine",
    "init_workspace",
    "load_policy",
    "load_workspace",
    "locate_request",
    "measure_risk",
    "new_request",
    "render_audit_view",
    "scan",
]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'govkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from govkit.actions.anonymize.run import AnonymizeRequest, anonymize
    from govkit.actions.dsr import erase_request, export_request, locate_request, new_request
    from govkit.actions.risk import measure as measure_risk
    from govkit.audit import AuditLog
    from govkit.detect.columns import ColumnClassifier, ColumnSample
    from govkit.detect.engine import get_engine
    from govkit.errors import GovkitError
    from govkit.inventory.store import Inventory
    from govkit.model.findings import Finding, ScanReport
    from govkit.policy import active_policy, evaluate_workspace, load_policy
    from govkit.report import audit_view, render_audit_view
    from govkit.scan import ScanOptions, scan
    from govkit.workspace import Workspace, init_workspace, load_workspace
