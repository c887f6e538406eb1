"""``govkit keys init``, ``govkit keys rotate`` and ``govkit keys list``."""

from __future__ import annotations

from pathlib import Path

import click

from govkit.audit import AuditLog, audit_action
from govkit.cli import AppContext
from govkit.cli.options import emit, output_options, to_json, to_table
from govkit.errors import KeyMaterialError
from govkit.keys import (
    Keyset,
    env_override,
    init_keys,
    keys_dir,
    keyset_path,
    load_keyset,
    require_no_override,
    rotate_keys,
)


@click.group("keys", short_help="Create, rotate and list the workspace keys.")
def keys_group() -> None:
    """The workspace keys: they sign the audit log, and keyed operators and packages derive from them.

    \b
    Keys live in .govkit/keys/ (owner-only). Back them up: without them the audit log
    cannot be verified. In CI, set GOVKIT_KEY (32 bytes, base64 or hex) or GOVKIT_KEY_FILE
    (a file holding that, mode 0600) to use a key from your secret store instead.
    """


@keys_group.command("init")
@click.pass_obj
def init_command(app: AppContext) -> None:
    """Create the workspace keyset with a new random primary key."""
    state_dir = app.workspace().state_dir
    keyset = init_keys(state_dir)
    click.echo(f"created {keys_dir(state_dir)} with primary key {keyset.primary.id}; back it up, and keep it "
               f"out of version control")
    _note_override()
    AuditLog(state_dir).append("keys.init", params={"primary": keyset.primary.id})


@keys_group.command("rotate", short_help="Make a new primary key; keep the old ones, retired.")
@click.pass_obj
def rotate_command(app: AppContext) -> None:
    """Make a new primary key; older keys are kept, retired, to verify what they signed."""
    state_dir = app.workspace().state_dir
    require_no_override("rotate")  # before the audit preflight, whose error would be less to the point
    if not keyset_path(state_dir).exists():  # else the audit record would make the keyset it then "rotates"
        raise KeyMaterialError(f"no keys to rotate in {keys_dir(state_dir)}; run 'govkit keys init' first")
    with audit_action(state_dir, "keys.rotate") as entry:
        keyset = rotate_keys(state_dir)
        retired = [v.id for v in keyset.versions if v.status == "retired"]
        entry.params.update(primary=keyset.primary.id, retired=retired)
        entry.counts["keys"] = len(keyset.versions)
    click.echo(f"new primary key {keyset.primary.id}; {len(retired)} retired key(s) kept for verifying")


@keys_group.command("list")
@output_options("table", "json")
@click.pass_obj
def list_command(app: AppContext, fmt: str, output: Path | None) -> None:
    """List key ids, creation times and status (never the key material)."""
    keyset = load_keyset(app.workspace().state_dir)
    _note_override()
    emit(render_keys(keyset, fmt), output)


def render_keys(keyset: Keyset, fmt: str) -> str:
    rows = [version.public() for version in keyset.versions]
    if fmt == "json":
        return to_json({"source": keyset.source, "keys": rows})
    return to_table(["id", "created", "status"],
                    [[r["id"], r["created_at"] or "(set from the environment)", r["status"]] for r in rows],
                    title=f"Keys ({keyset.source})")


def _note_override() -> None:
    override = env_override()
    if override is not None:
        click.echo(f"note: {override} is set and overrides the workspace keyset", err=True)


def register(group: click.Group) -> None:
    group.add_command(keys_group)
