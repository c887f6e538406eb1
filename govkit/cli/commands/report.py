"""``govkit report``: the audit report and the record of processing activities."""

from __future__ import annotations

from pathlib import Path

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
    .govkit/reports/audit.html and the path is printed; md and json go to stdout.
    """
    workspace = app.workspace()
    with audit_action(workspace.state_dir, "report.audit", {"format": fmt}):
        text = render_audit_view(audit_view(workspace), fmt, workspace.root)
    if output is None and fmt == "html":
        output = workspace.state_dir / "reports" / "audit.html"
    emit(text, output, private=_in_state(output, workspace.state_dir))


@report_group.command("ropa")
@output_options(*ROPA_FORMATS, default="html")
@click.pass_obj
def ropa_command(app: AppContext, fmt: str, output: Path | None) -> None:
    """Record of Processing Activities (GDPR art. 30, PIPL processing record).

    One row per processing activity of the policy's 'processing' section (purposes, legal
    basis, data subjects, recipients, transfers, safeguards), with the data categories,
    retention and assets the inventory shows it covers; then one row per asset holding
    personal data that no activity declares. Where the policy is silent the record says
    "not declared in the policy". Without --output, HTML goes to .govkit/reports/ropa.html;
    csv goes to stdout.
    """
    workspace = app.workspace()
    text = render_ropa(ropa_view(workspace), fmt, workspace.root)
    if output is None and fmt == "html":
        output = workspace.state_dir / "reports" / "ropa.html"
    emit(text, output, private=_in_state(output, workspace.state_dir))


def _in_state(output: Path | None, state_dir: Path) -> bool:
    """A report kept in .govkit/ is owner-only like the rest of it; one written elsewhere
    (``--output``) is the user's file, with the usual mode."""
    return output is not None and output.resolve().is_relative_to(state_dir.resolve())


def register(group: click.Group) -> None:
    group.add_command(report_group)
