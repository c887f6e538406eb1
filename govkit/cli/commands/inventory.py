"""``govkit inventory`` and ``govkit inventory diff``."""

from __future__ import annotations

from pathlib import Path

import click

from govkit.cli import AppContext
from govkit.cli.options import emit, output_options, to_csv, to_json, to_table
from govkit.errors import UsageError
from govkit.inventory.store import Inventory, InventoryDiff, InventoryRow

_COLUMNS = ["source", "asset", "field", "entity_type", "severity", "confidence", "hits", "sampled",
            "decided_by", "evidence"]


@click.group("inventory", invoke_without_command=True)
@click.option("--source", help="Only this source (its name in govkit.toml or its redacted URL).")
@output_options("table", "json", "csv")
@click.pass_context
def inventory_group(ctx: click.Context, source: str | None, fmt: str, output: Path | None) -> None:
    """List the personal data the inventory holds (newest scan of each source).

    Human labels (govkit label) are applied. Evidence is masked. Use 'govkit inventory
    diff' to see what changed since the previous scan.
    """
    if ctx.invoked_subcommand is not None:
        return
    app: AppContext = ctx.obj
    inventory = Inventory(app.workspace().inventory_path)
    require_source(inventory, source)
    emit(render_rows(inventory.rows(source), fmt), output)


def require_source(inventory: Inventory, source: str | None) -> None:
    """``--source`` must name a source the inventory knows (by name or redacted URL)."""
    if source is None:
        return
    known = inventory.sources()
    if any(source in (s.display, s.name) for s in known):
        return
    names = sorted({s.name or s.display for s in known})
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "") if names else "none yet: run 'govkit scan'"
    raise UsageError(f"--source {source}: no such source in the inventory (sources: {shown})")


def render_rows(rows: list[InventoryRow], fmt: str) -> str:
    if fmt == "json":
        return to_json({"fields": [r.to_dict() for r in rows]})
    values = [[getattr(r, c) for c in _COLUMNS] for r in rows]
    if fmt == "csv":
        return to_csv(_COLUMNS, [[", ".join(v) if isinstance(v, list) else v for v in row] for row in values])
    if not rows:
        return "The inventory holds no personal data yet (run 'govkit scan').\n"
    short = [[r.asset, r.field, r.entity_type, r.severity, r.confidence, f"{r.hits}/{r.sampled}", r.decided_by]
             for r in rows]
    return to_table(["asset", "field", "entity", "severity", "conf.", "hits", "decided by"], short,
                    title="Personal data inventory")


@inventory_group.command("diff")
@click.option("--source", help="Only this source.")
@output_options("table", "json")
@click.pass_obj
def diff_command(app: AppContext, source: str | None, fmt: str, output: Path | None) -> None:
    """What is new, changed or gone since each source's previous scan."""
    inventory = Inventory(app.workspace().inventory_path)
    require_source(inventory, source)
    emit(render_diff(inventory.diff(source), fmt), output)


def render_diff(diff: InventoryDiff, fmt: str) -> str:
    if fmt == "json":
        return to_json(diff.to_dict())
    if diff.previous_scan is None:
        return "Only one scan so far: nothing to compare.\n"
    if not diff.changes:
        return "No changes since the previous scan.\n"
    rows = [(c.kind, c.asset, c.field or "", c.entity_type or "", c.detail) for c in diff.changes]
    return to_table(["change", "asset", "field", "entity", "detail"], rows, title="Changes since the previous scan")


def register(group: click.Group) -> None:
    group.add_command(inventory_group)
