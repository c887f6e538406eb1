"""``govkit access show | export | review | apply``: the policy's access rules, enforced."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from govkit.cli import EXIT_FINDINGS, AppContext
from govkit.cli.options import emit, fail_on_option, output_options, to_json, to_table
from govkit.detect.entities import Severity


@click.group("access", short_help="Access rules: what each role may read, checked and enforced in the database.")
def access_group() -> None:
    """The policy's access.roles, enforced (docs/access.md): 'show' what a role may read,
    'export' a source as a role may see it, 'review' the privileges the database really
    grants, and 'apply' the masking views, grants and revokes that make it match."""


@access_group.command("show", short_help="What ROLE may read of every inventoried field, and why.")
@click.argument("role")
@click.option("--source", metavar="NAME", help="Only this source (its name in govkit.toml or its redacted URL).")
@output_options("table", "json")
@click.pass_obj
def show_command(app: AppContext, role: str, source: str | None, fmt: str, output: Path | None) -> None:
    """For every field of the inventory: clear, masked (with which operator) or denied for
    ROLE under the policy, and the rule (file:line) that decides it. Fields without personal
    data are clear. Nothing is read from the sources.

    Exit codes: 0 ok; 2 bad input (no such role, empty inventory).
    """
    from govkit.actions.access.show import workspace_role_access
    from govkit.policy.loader import active_policy

    workspace = app.workspace()
    access = workspace_role_access(workspace, active_policy(workspace.root), role, source)
    if fmt == "json":
        emit(to_json(access.to_dict()), output)
        return
    from rich.markup import escape

    rows = [[escape(f.source_name or f.source), escape(f"{f.asset}.{f.field}"), ", ".join(f.entity_types) or "-",
             f.read if f.read != "masked" else f"masked ({_spec(f.operator, f.params)})",
             escape(f.rule or ""), escape(f.why)] for f in access.fields]
    counts = access.counts()
    text = to_table(["source", "field", "holds", "read", "rule", "why"], rows,
                    title=f"Access of role {role}") if rows else "The inventory has no fields.\n"
    text += (f"\n{counts['personal']} personal field(s): {counts['clear']} clear, {counts['masked']} masked, "
             f"{counts['none']} denied; {counts['fields'] - counts['personal']} field(s) without personal data\n")
    emit(text, output)


@access_group.command("export", short_help="Export SOURCE as ROLE may see it: masked per role, denied fields left out.")
@click.argument("role")
@click.argument("source")
@click.option("--to", "to", required=True, metavar="FILE|DIR|URL",
              help="A file (one table), a folder (one file per table) or an empty database URL.")
@click.option("--table", "tables", multiple=True, metavar="NAME", help="Only this table (repeatable).")
@click.option("--to-format", "to_format", type=click.Choice(["csv", "jsonl", "parquet"]),
              help="Format of the files written (default: from the file name, else csv).")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@click.option("--no-verify", is_flag=True, help="Skip reading the output back to check for leaks.")
@output_options("table", "json")
@click.pass_obj
def export_command(app: AppContext, role: str, source: str, to: str, tables: tuple[str, ...], to_format: str | None,
                   force: bool, no_verify: bool, fmt: str, output: Path | None) -> None:
    """Write SOURCE (a database source of govkit.toml) as ROLE may see it: fields the role
    reads in clear as they are, masked ones through the role's operator, denied ones left
    out. Uses the anonymize exporters, verification included. The audit log records the
    role, the tables and the rows written per table.

    Exit codes: 0 written and verified; 1 verification failed (output marked incomplete);
    2 bad input.
    """
    from govkit.actions.access.export import export_for_role
    from govkit.audit import audit_action
    from govkit.errors import UsageError
    from govkit.sources.database import redact

    if "://" not in to and Path(to).is_file() and not force:
        raise UsageError(f"--to {to}: the file exists (use --force to overwrite it)")
    workspace = app.workspace()
    params: dict[str, Any] = {"role": role, "source": source, "to": redact(to) if "://" in to else to,
                              "tables": list(tables) or "all"}
    with audit_action(workspace.state_dir, "access.export", params) as entry:
        result = export_for_role(workspace, role, source, to, fmt=to_format, tables=list(tables) or None,
                                 verify=not no_verify)
        entry.params.update(tables=sorted(result.tables), masked=result.masked, denied=result.denied,
                            verification="passed" if result.verified else "skipped")
        entry.counts.update(rows=sum(result.tables.values()), **{f"rows:{t}": n for t, n in result.tables.items()})
    if fmt == "json":
        emit(to_json(result.to_dict()), output)
        return
    rows = [[table, count] for table, count in result.tables.items()]
    text = to_table(["table", "rows"], rows, title=f"Exported for role {role}")
    text += (f"\nmasked: {', '.join(result.masked) or 'none'}\ndenied (left out): {', '.join(result.denied) or 'none'}"
             f"\nwritten to {', '.join(result.outputs)}; "
             f"{'verified' if result.verified else 'not verified (--no-verify)'}\n")
    emit(text, output)


@access_group.command("review", short_help="Who can really read what in SOURCE, against the policy's roles.")
@click.argument("source")
@output_options("table", "json")
@fail_on_option
@click.pass_obj
def review_command(app: AppContext, source: str, fmt: str, output: Path | None, fail_on: str | None) -> None:
    """Read the privileges SOURCE really grants (PostgreSQL: table and column grants, role
    membership and inheritance, PUBLIC, superusers and BYPASSRLS, default privileges, row
    security; MariaDB/MySQL: global, database, table and column privileges and roles) and
    compare them with the policy, through [access.users] in govkit.toml (user = "role").

    \b
    Kinds: role-violation (HIGH), public-grant (HIGH), unmapped-user (MEDIUM),
    default-privileges (MEDIUM/LOW), administrator (LOW).
    SQLite has no users or privileges: the review says "not assessed".
    Exit codes: 0 ok (or not assessed); 1 a finding at or above --fail-on (a drift check
    for CI); 2 bad input; 3 the database could not be asked.
    """
    from govkit.actions.access.review import review_source, store
    from govkit.audit import audit_action
    from govkit.policy.loader import active_policy

    workspace = app.workspace()
    with audit_action(workspace.state_dir, "access.review", {"source": source, "fail_on": fail_on}) as entry:
        review = review_source(workspace, source, active_policy(workspace.root))
        store(workspace.state_dir, review)
        entry.params["assessed"] = review.assessed
        entry.counts.update(review.counts())
    emit(to_json(review.to_dict()) if fmt == "json" else _render_review(review), output)
    if fail_on and review.assessed and review.at_or_above(Severity.parse(fail_on)):
        sys.exit(EXIT_FINDINGS)


@access_group.command("apply", short_help="Make SOURCE match the policy: role views, grants, revokes (dry run).")
@click.argument("source")
@click.option("--apply", "apply_", is_flag=True, help="Execute the plan (default: print it, change nothing).")
@output_options("text", "json", default="text")
@click.pass_obj
def apply_command(app: AppContext, source: str, apply_: bool, fmt: str, output: Path | None) -> None:
    """Print the SQL that makes SOURCE match the policy's access roles: per role a schema
    (PostgreSQL) or database (MariaDB) of masking views, GRANTs of the views to the role's
    users, and REVOKEs of the personal columns they may not read in clear. With --apply it
    runs through the change engine (audited, resumable with 'govkit runs resume'):
    PostgreSQL in one transaction, MariaDB statement by statement (each idempotent), then
    reviews again to verify.

    Exit codes: 0 ok; 1 verification found a violation still there; 2 bad input (SQLite,
    no workspace); 3 the database refused a statement (the run stays resumable).
    """
    from govkit.actions.access.apply import apply_plan, plan_source
    from govkit.policy.loader import active_policy

    workspace = app.workspace()
    plan, review = plan_source(workspace, source, active_policy(workspace.root))
    outcome = None
    if apply_ and plan.statements:
        outcome = apply_plan(workspace, plan)
    if fmt == "json":
        emit(to_json({"plan": plan.to_dict(), "applied": apply_, "result": outcome}), output)
    else:
        lines = [f"-- govkit access apply {source}: {len(plan.statements)} statement(s), {len(plan.views)} view(s), "
                 f"{plan.revokes} revoke(s); fixes {len(plan.fixes)} of {len(review.violations)} violation(s)"]
        lines += [f"-- note: {note}" for note in plan.notes]
        lines += [statement.rstrip() + ";" for statement in plan.statements]
        emit("\n".join(lines) + "\n", output)
    if not apply_:
        click.echo("dry run: nothing changed; add --apply to execute", err=True)
        return
    if outcome is None:
        click.echo("nothing to do: the database already matches the plan", err=True)
        return
    if outcome["remaining"]:
        click.echo(f"run {outcome['run_id']}: applied, but a second review still finds: "
                   + "; ".join(outcome["remaining"][:5]), err=True)
        sys.exit(EXIT_FINDINGS)
    click.echo(f"run {outcome['run_id']}: applied {len(plan.statements)} statement(s) in {outcome['units']} "
               f"unit(s); a second review finds none of the {len(plan.fixes)} fixed violation(s)", err=True)


def _render_review(review: Any) -> str:
    from rich.markup import escape

    if not review.assessed:
        return f"Access review of {review.source}: not assessed: {review.reason}\n"
    parts = []
    users = [[escape(u.user), u.role or "(unmapped)", u.admin or ", ".join(f"{r} ({h})" for r, h in u.member_of.items())
              or "-", len(u.clear), len(u.masked)] for u in review.users]
    if users:
        parts.append(to_table(["user", "policy role", "admin / member of", "clear", "masked"], users,
                              title=f"Who can read the {review.personal_fields} personal field(s) of {review.source}"))
    if review.findings:
        rows = [[f.severity.name, f.kind, escape(f.user or "") + (f" ({f.role})" if f.role else ""),
                 escape(f"{f.asset}.{f.field}" if f.field else "") or escape(f.message),
                 f"clear, allowed {f.allowed}" if f.allowed else "clear" if f.field else "",
                 escape(f.via or ""), escape(f.rule or "")] for f in review.findings]
        parts.append(to_table(["severity", "kind", "user (role)", "field / finding", "reads", "via", "rule"], rows,
                              title="Findings"))
    for entry in review.row_security:
        policies = ", ".join(p["name"] for p in entry["policies"]) or "no policy (no row visible to non-owners)"
        state = "enabled" + (", forced" if entry["forced"] else "") if entry["enabled"] else "DISABLED"
        parts.append(f"row security on {entry['schema']}.{entry['table']}: {state}; policies: {policies}\n")
    counts = review.counts()
    parts.append(f"\n{counts['violations']} violation(s), {counts['findings']} finding(s); "
                 f"{counts['users']} user(s) reviewed on {review.reviewed_at}\n")
    return "\n".join(parts)


def _spec(operator: str | None, params: dict[str, Any]) -> str:
    joined = ",".join(f"{k}={v}" for k, v in params.items())
    return (operator or "mask") + (f":{joined}" if joined else "")


def register(group: click.Group) -> None:
    group.add_command(access_group)

