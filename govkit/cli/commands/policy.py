"""``govkit policy validate | show | explain``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from govkit.cli import EXIT_USAGE, AppContext
from govkit.cli.commands.explain import split_field
from govkit.cli.options import emit, output_options, to_json
from govkit.policy import Policy, PolicyError, active_policy, load_pack, load_policy
from govkit.policy.explain import explain_field, render_explanation
from govkit.policy.resolve import Resolver, Where


@click.group("policy")
def policy_group() -> None:
    """Check and read the policy: the workspace's policies/*.yaml (or the shipped baseline).

    Shipped packs: baseline, gdpr, ccpa, pipl. A workspace file starts with e.g.
    'extends: gdpr' and overrides what it needs (docs/policies.md).
    """


def _policy(app: AppContext, files: tuple[Path, ...] = (), pack: str | None = None) -> Policy:
    if pack is not None:
        return load_pack(pack)
    if files:
        return load_policy(list(files))
    return active_policy(app.workspace().root)


@policy_group.command("validate")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pack", help="Validate a shipped pack (baseline, gdpr, ccpa, pipl) instead.")
@click.pass_obj
def validate_command(app: AppContext, files: tuple[Path, ...], pack: str | None) -> None:
    """Check policy FILES (default: the workspace's policies/*.yaml) and what they extend.

    FILES are loaded together, as the workspace loads its folder. Every problem is printed
    as one line 'message at file:line:column'. Exit code 0 when valid, 2 when not.
    """
    try:
        policy = _policy(app, files, pack)
    except PolicyError as exc:
        for problem in exc.problems:
            click.echo(f"govkit: error: {problem}", err=True)
        sys.exit(EXIT_USAGE)
    doc = policy.doc
    counts = {
        "entity classes": len(doc.classification.entities),
        "field rules": len(doc.classification.fields),
        "processing activities": len(doc.processing.activities),
        "retention rules": len(doc.retention.rules),
        "anonymization rules": len(doc.anonymization.rules),
        "roles": len(doc.access.roles),
        "erasure rules": len(doc.dsr.erasure),
    }
    summary = ", ".join(f"{n} {what}" for what, n in counts.items())
    click.echo(f"policy ok: {', '.join(policy.files)}")
    click.echo(f"  {summary}")


@policy_group.command("show")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pack", help="Show a shipped pack (with what it extends) instead.")
@output_options("yaml", "json", default="yaml")
@click.pass_obj
def show_command(app: AppContext, files: tuple[Path, ...], pack: str | None, fmt: str, output: Path | None) -> None:
    """Print the effective policy: every file merged, inherited rules included."""
    policy = _policy(app, files, pack)
    emit(policy.to_json() if fmt == "json" else policy.to_yaml(), output)


@policy_group.command("explain")
@click.argument("address", metavar="TABLE.COLUMN")
@click.option("--entity", "entities", multiple=True, metavar="TYPE",
              help="Entity type the field holds (repeatable); default: what the inventory found.")
@click.option("--source", help="Which source, when several have this table.")
@click.option("--pack", help="Explain with a shipped pack instead of the workspace's policy.")
@output_options("text", "json", default="text")
@click.pass_obj
def explain_command(app: AppContext, address: str, entities: tuple[str, ...], source: str | None,
                    pack: str | None, fmt: str, output: Path | None) -> None:
    """Which rules apply to TABLE.COLUMN, from which file and line, and why.

    Classification, anonymization, retention, access per role, DSR handling and
    processing activities, each with the rule's file:line and the reason it (and not a
    less specific rule) applies.
    """
    workspace = app.workspace(required=pack is None)
    asset, field = split_field(address)
    if workspace is not None and workspace.inventory_path.exists():
        from govkit.inventory.store import Inventory

        asset, field = Inventory(workspace.inventory_path).split_address(address, source)
    policy = _policy(app, pack=pack) if pack or workspace is None else active_policy(workspace.root)
    where = Where(source or "", None, asset, field)
    found: list[str] = []
    asset_types: dict[str, list[str]] = {}
    if workspace is not None and workspace.inventory_path.exists():
        from govkit.inventory.store import Inventory

        inventory = Inventory(workspace.inventory_path)
        try:
            records = [a for a in inventory.assets(source) if a.name.lower() == asset.lower()]
            rows = [r for r in inventory.rows(source) if r.asset.lower() == asset.lower()]
        finally:
            inventory.close()
        if records:
            record = records[0]
            spelled = next((str(f["name"]) for f in record.fields if str(f["name"]).lower() == field.lower()), field)
            where = Where(record.source, record.source_name, record.name, spelled)
        found = list(dict.fromkeys(r.entity_type for r in rows if r.field.lower() == field.lower()))
        for row in rows:
            asset_types.setdefault(row.field, []).append(row.entity_type)
    entity_types = [e.upper() for e in entities] or found
    resolver = Resolver(policy)
    categories = []
    for other_field, types in asset_types.items():
        klass = resolver.classify(Where(where.source, where.source_name, where.asset, other_field), types)
        if klass is not None:
            categories.append(klass.category)
    data = explain_field(policy, where, entity_types, asset_categories=categories,
                         entity_source="option" if entities else "inventory")
    emit(to_json(data) if fmt == "json" else render_explanation(data), output)


def register(group: click.Group) -> None:
    group.add_command(policy_group)
