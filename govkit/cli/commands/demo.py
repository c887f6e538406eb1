"""``govkit demo``."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from govkit.cli.commands.evaluate import render as render_violations
from govkit.cli.commands.scan import render_summary
from govkit.cli.options import to_table


@click.command("demo")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path),
                default=Path("govkit-demo"))
@click.option("--fresh", is_flag=True, help="Delete FOLDER first and start over.")
@click.option("--customers", type=click.IntRange(min=10), default=400, show_default=True,
              help="How many fictional customers to generate.")
def demo_command(folder: Path, fresh: bool, customers: int) -> None:
    """Build a demo workspace in FOLDER (default ./govkit-demo), scan it, write the report.

    The demo is a fictional online shop: a SQLite database (customers from several
    countries, Chinese customers included, orders, payments, products, an event log) and a
    folder of exports (a GB18030 CRM export with Chinese headers, a JSONL event log, an
    application log), with traps that look like personal data and are not (order and
    tracking numbers, UUIDs, hashes, versions, prices). The demo policy (policies/shop.yaml,
    extending the GDPR and PIPL packs) is evaluated against what the scan found, and the
    audit report is written to FOLDER/reports/audit.html. Running it again reuses the
    workspace, so the report shows what changed between scans. Nothing leaves the machine.
    """
    from govkit.demo import create_demo_workspace

    if fresh and folder.exists():
        shutil.rmtree(folder)
    result = create_demo_workspace(folder, customers=customers)
    click.echo(f"demo workspace: {result.root}")
    click.echo(to_table(["table", "rows"], sorted(result.row_counts.items()), title="Demo shop database (shop.db)"))
    click.echo(render_summary(result.report))
    click.echo(render_violations(result.evaluation))
    click.echo(f"audit report: {result.report_path}")
    click.echo(f"next: cd {folder} && govkit explain customers.notes   (or: govkit inventory, govkit evaluate)")


def register(group: click.Group) -> None:
    group.add_command(demo_command)
