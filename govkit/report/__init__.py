"""Reports: view models built from the inventory, rendered through jinja2 templates.

Templates live in the top-level ``templates/`` folder (packaged into the wheel as
``govkit/_data/templates``); a workspace's own ``templates/`` overrides them by name.
Autoescape is on for HTML, so a column named ``<script>`` is shown, not run.
"""

from govkit.report.audit import AuditView, build_audit_view, render_audit

__all__ = ["AuditView", "build_audit_view", "render_audit"]
