"""``govkit init``."""

from __future__ import annotations

from pathlib import Path

import click

from govkit.workspace import init_workspace


@click.command("init")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@click.option("--source", "sources", multiple=True, metavar="NAME=URL",
              help="Add a database source (repeatable). Reference secrets as ${ENV_VAR}.")
@click.option("--force", is_flag=True, help="Overwrite an existing govkit.toml.")
def init_command(folder: Path, sources: tuple[str, ...], force: bool) -> None:
    """Make FOLDER (default: here) a govkit workspace.

    Writes a commented govkit.toml (settings and named sources) and a .govkit/ folder for
    the inventory, keys and audit log. Commands run in FOLDER or below it find it.

    \b
    Example:
      govkit init --source 'shop=postgresql://app:${SHOP_DB_PASSWORD}@db/shop'
    """
    parsed: dict[str, str] = {}
    for item in sources:
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise click.BadParameter(f"expected NAME=URL, got {item!r}", param_hint="--source")
        parsed[name.strip()] = url.strip()
    path = init_workspace(folder, parsed, force=force)
    click.echo(f"created {path}")
    click.echo("next: add sources to govkit.toml, then run 'govkit scan'")


def register(group: click.Group) -> None:
    group.add_command(init_command)
