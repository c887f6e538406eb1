"""Reports: view models built from the inventory and the policy, rendered through jinja2 templates.

Templates live in the top-level ``templates/`` folder (packaged into the wheel as
``govkit/_data/templates``); a workspace's own ``templates/`` overrides them by name.
Autoescape is on for HTML, so a column named ``<script>`` is shown, not run.
"""

from govkit.report.audit import (
    AUDIT_FORMATS,
    AuditView,
    audit_view,
    build_audit_view,
    check_integrity,
    render_audit,
    render_audit_view,
)
from govkit.report.ropa import ROPA_FORMATS, RopaView, build_ropa_view, render_ropa, ropa_view

__all__ = [
    "AUDIT_FORMATS",
    "ROPA_FORMATS",
    "AuditView",
    "RopaView",
    "audit_view",
    "build_audit_view",
    "build_ropa_view",
    "check_integrity",
    "render_audit",
    "render_audit_view",
    "render_ropa",
    "ropa_view",
]
