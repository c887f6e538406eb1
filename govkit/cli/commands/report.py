"""``govkit report``: the audit report and the record of processing activities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from govkit.audit import audit_action
from govkit.cli import AppContext
from govkit.cli.options import emit, output_options
from govkit.report import AUDIT_FORMATS, ROPA_FORMATS, audit_view, render_audit_view, render_ropa, ropa_view


@click.group("report")
def report_group() -> None:
    """Reports for compliance officers and auditors."""


@report_group.command("audit")
@output_options(*AUDIT_FORMATS, default="html")
@click.pass_obj
def audit_command(app: AppContext, fmt: str, output: Path | None) -> None:
    """The audit report: personal data held, how the policy rates it, what is wrong, what changed.

    Sections: executive summary (counts by sensitivity, top risks, changes since the previous
    scan), inventory with the policy's classification, policy violations, retention status
    (rows past retention are counted in the sources, as 'govkit evaluate' does), access
    review and data subject requests (said plainly when not run yet), audit-log integrity.

    HTML is one self-contained file (inline CSS and SVG charts, no scripts) for screen and
    print; md is for wikis; json is for tools. Without --output, HTML goes to
    reports/audit.html in the workspace (owner-only) and the path is printed; md and json
    go to stdout.
    """
    workspace = app.workspace()
    with audit_action(workspace.state_dir, "report.audit", {"format": fmt}):
        text = render_audit_view(audit_view(workspace), fmt, workspace.root)
    if output is None and fmt == "html":
        output = reports_dir(workspace.root) / "audit.html"
    emit(text, output, private=_private(output, workspace))


@report_group.command("ropa")
@output_options(*ROPA_FORMATS, default="html")
@click.pass_obj
def ropa_command(app: AppContext, fmt: str, output: Path | None) -> None:
    """Record of Processing Activities (GDPR art. 30, PIPL processing record).

    One row per processing activity of the policy's 'processing' section (purposes, legal
    basis, data subjects, recipients, transfers, safeguards), with the data categories,
    retention and assets the inventory shows it covers; then one row per asset holding
    personal data that no activity declares. Where the policy is silent the record says
    "not declared in the policy". Without --output, HTML goes to reports/ropa.html in the
    workspace (owner-only); csv goes to stdout.
    """
    workspace = app.workspace()
    with audit_action(workspace.state_dir, "report.ropa", {"format": fmt}):
        text = render_ropa(ropa_view(workspace), fmt, workspace.root)
    if output is None and fmt == "html":
        output = reports_dir(workspace.root) / "ropa.html"
    emit(text, output, private=_private(output, workspace))


def reports_dir(root: Path) -> Path:
    """Where reports go without --output, for every workspace, the demo's too: ``reports/``
    at the workspace root, in sight (not hidden in .govkit/), owner-only (0700, files 0600):
    reports quote masked evidence only, but they map where personal data lives."""
    return root / "reports"


def _private(output: Path | None, workspace: Any) -> bool:
    """A report in the workspace's reports/ or .govkit/ is owner-only like the rest of the
    state; one written elsewhere (``--output``) is the user's file, with the usual mode."""
    if output is None:
        return False
    where = output.resolve()
    return any(where.is_relative_to(folder.resolve())
               for folder in (workspace.state_dir, reports_dir(workspace.root)))


def register(group: click.Group) -> None:
    group.add_command(report_group)
