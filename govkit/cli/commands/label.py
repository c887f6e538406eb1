"""``govkit label``."""

from __future__ import annotations

import click

from govkit.audit import audit_action
from govkit.cli import AppContext
from govkit.detect.entities import known_entities
from govkit.errors import UsageError
from govkit.inventory.store import Inventory


@click.command("label")
@click.argument("address", metavar="TABLE.COLUMN")
@click.argument("entity_type", required=False, metavar="[ENTITY]")
@click.option("--not-pii", is_flag=True, help="Mark the column as holding no personal data.")
@click.option("--remove", is_flag=True, help="Remove the label; the detector decides again.")
@click.option("--note", default="",
              help="Why (kept with the label, shown by explain); personal data quoted in it is kept masked.")
@click.option("--source", help="Which source, when several have this table.")
@click.pass_obj
def label_command(app: AppContext, address: str, entity_type: str | None, not_pii: bool, remove: bool,
                  note: str, source: str | None) -> None:
    """Tell govkit what TABLE.COLUMN holds; this overrides the detector from now on.

    \b
    Examples:
      govkit label orders.ref_code --not-pii --note "internal order reference"
      govkit label crm.misc EMAIL_ADDRESS
      govkit label crm.misc --remove
    """
    if sum([bool(entity_type), not_pii, remove]) != 1:
        raise UsageError("give exactly one of ENTITY, --not-pii or --remove")
    workspace = app.workspace()
    inventory = Inventory(workspace.inventory_path)
    asset, field = inventory.split_address(address, source)
    src, asset, field = inventory.resolve_field(asset, field, source)
    if remove:
        with audit_action(workspace.state_dir, "label.remove", {"source": src, "asset": asset, "field": field}):
            found = inventory.remove_label(src, asset, field)
        click.echo(f"label removed from {asset}.{field}" if found else f"{asset}.{field} had no label")
        return
    if entity_type is not None:
        entity_type = entity_type.upper()
        if entity_type not in known_entities():
            import difflib

            close = difflib.get_close_matches(entity_type, known_entities(), n=1)
            hint = f"; did you mean {close[0]}?" if close else f" (known: {', '.join(known_entities())})"
            raise UsageError(f"unknown entity type {entity_type!r}{hint}")
    if note:
        from govkit.detect.notes import mask_note

        masked = mask_note(note, workspace.detection.model, workspace.detection.language)
        if masked.changed:
            click.echo(f"govkit: note: the note quoted personal data ({', '.join(masked.entities)}); "
                       "it is kept masked", err=True)
        note = masked.text
    params = {"source": src, "asset": asset, "field": field, "label": entity_type or "not-pii"}
    with audit_action(workspace.state_dir, "label.set", params):
        inventory.set_label(src, asset, field, entity_type, note)
    click.echo(f"{asset}.{field} labelled {entity_type or 'not personal data'}; later scans keep this decision")


def register(group: click.Group) -> None:
    group.add_command(label_command)
