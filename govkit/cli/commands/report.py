"""``govkit report``."""

from __future__ import annotations

from pathlib import Path

import click

from govkit.cli import AppContext
from govkit.cli.options import emit, output_options
from govkit.inventory.store import Inventory
from govkit.report import render_audit


@click.group("report")
def report_group() -> None:
    """Reports for compliance officers and auditors."""


@report_group.command("audit")
@output_options("html", "md", "json", default="html")
@click.pass_obj
def audit_command(app: AppContext, fmt: str, output: Path | None) -> None:
    """The audit report: personal data held, where, how sensitive, what changed.

    HTML is one self-contained file (inline CSS and charts) for screen and print; md is
    for wikis; json is for tools. Without --output, HTML goes to
    .govkit/reports/audit.html and the path is printed; md and json go to stdout.
    """
    workspace = app.workspace()
    text = render_audit(Inventory(workspace.inventory_path), fmt, workspace.root)
    if output is None and fmt == "html":
        output = workspace.state_dir / "reports" / "audit.html"
    emit(text, output)


def register(group: click.Group) -> None:
    group.add_command(report_group)
