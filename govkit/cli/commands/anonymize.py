"""``govkit anonymize`` and ``govkit deanonymize``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from govkit.cli import EXIT_FINDINGS, AppContext
from govkit.cli.options import emit, to_json, to_table


@click.command("anonymize", short_help="Export a source anonymized: database, table, query or file.")
@click.argument("source")
@click.option("--to", "to", metavar="TARGET",
              help="Database URL (schema copied), file (.csv/.jsonl/.parquet) or folder (one file per table).")
@click.option("--table", multiple=True, metavar="NAME", help="Only this table (repeatable).")
@click.option("--query", metavar="SQL", help="Export the rows of this read-only query instead of tables.")
@click.option("--rule", "rules", multiple=True, metavar="FIELD=OPERATOR[:k=v,...]",
              help="Override the policy for a field, e.g. Customer.Email=pseudonymize (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]),
              help="Output file format (default: from the TARGET suffix, else csv).")
@click.option("--dry-run", is_flag=True, help="Print the plan (field, operator, why) and write nothing.")
@click.option("--in-place", is_flag=True, help="Rewrite the source database itself; alone it only plans.")
@click.option("--apply", "apply_", is_flag=True, help="With --in-place: execute, in batched transactions.")
@click.option("--k", "k", type=click.IntRange(min=2),
              help="Generalize the quasi-identifiers, then suppress rows, until the export is k-anonymous.")
@click.option("--quasi-identifiers", metavar="A,B,C", help="Columns an attacker may know (with --k).")
@click.option("--no-generalize", is_flag=True, help="With --k: only suppress rows, never coarsen values.")
@click.option("--no-verify", is_flag=True, help="Skip re-scanning the output (not recommended).")
@click.option("--json", "as_json", is_flag=True, help="Print the plan and result as JSON.")
@click.pass_obj
def anonymize_command(app: AppContext, source: str, to: str | None, table: tuple[str, ...], query: str | None,
                      rules: tuple[str, ...], fmt: str | None, dry_run: bool, in_place: bool, apply_: bool,
                      k: int | None,
                      quasi_identifiers: str | None, no_generalize: bool, no_verify: bool, as_json: bool) -> None:
    """Write an anonymized copy of SOURCE to TARGET, as the inventory and policy say.

    SOURCE is a source in govkit.toml, a database URL, or a CSV/JSONL/Parquet file. Which
    fields are transformed and how comes from the inventory (run 'govkit scan' first) and
    the policy's anonymization rules; --rule overrides them. Keyed operators (hash,
    pseudonymize, fake, encrypt) use the workspace key ('govkit keys init' or GOVKIT_KEY);
    a missing key stops the run before anything is written. Key and foreign-key columns
    get the same deterministic operator on both sides, so joins survive.

    \b
    --k N --quasi-identifiers A,B,C makes a file export k-anonymous on those columns: each
    is coarsened along a ladder (dates: month, year, decade; numbers: ranges of 5, 10, 50,
    100...; codes and text: first 5, 3, 1 characters, then *), the column that most reduces
    the rows in classes smaller than N first, until every class has N rows or every column
    is at its top level; rows still in small classes are suppressed. The levels reached and
    the rows suppressed are printed and audited. --no-generalize only suppresses.

    \b
    Verification is on by default: the output is read back, and a transformed field that
    still shows personal data fails the run (exit 1) and leaves TARGET.INCOMPLETE beside it.
    --in-place plans a rewrite of the source database itself; --in-place --apply runs it,
    one transaction per batch (key and reference columns are refused in place).
    Exit codes: 0 ok; 1 verification failed; 2 bad input or key.
    """
    from govkit.actions.anonymize.export import VerificationFailed
    from govkit.actions.anonymize.run import AnonymizeRequest, anonymize
    from govkit.audit import audit_action

    workspace = app.workspace(required=False)
    request = AnonymizeRequest(
        source, to=to, table=list(table), query=query, rules=list(rules), fmt=fmt, dry_run=dry_run,
        in_place=in_place, apply=apply_, k=k,
        quasi_identifiers=[q.strip() for q in (quasi_identifiers or "").split(",") if q.strip()],
        generalize=not no_generalize, verify=not no_verify)
    dry_run = dry_run or (in_place and not apply_)
    if dry_run or workspace is None:
        result = anonymize(request, workspace)
    else:
        params = {"source": _display(source), "to": _display(to or "") or "in place", "rules": list(rules), "k": k}
        with audit_action(workspace.state_dir, "anonymize", params) as entry:
            try:
                result = anonymize(request, workspace)
            except VerificationFailed as failed:
                entry.outcome = "verification-failed"
                entry.counts.update(rows=failed.result.rows, problems=len(failed.result.problems))
                _report_failure(failed.result.problems)
                sys.exit(EXIT_FINDINGS)
            entry.params["plan"] = [f"{p.asset}.{p.field}={p.spec}" for p in result.plan.fields.values()]
            entry.counts.update(rows=result.rows, suppressed=result.suppressed, fields=len(result.plan.fields))
            if k:
                entry.counts["generalized"] = len(result.coarsened)
                entry.params["generalized"] = [f"{name}={level}" for name, level in result.generalized.items()]
    if as_json:
        emit(to_json(result.to_dict()), None)
        return
    rows = [[p.asset, p.field, p.entity_type or "", p.spec, p.why] for p in result.plan.fields.values()]
    emit(to_table(["asset", "field", "entity", "operator", "why"], rows, title="Anonymization plan"), None)
    for note in result.plan.notes:
        click.echo(f"note: {note}", err=True)
    if dry_run:
        click.echo("dry run: nothing written" + ("; add --apply to execute" if in_place else ""), err=True)
        return
    if in_place:
        click.echo(f"rewrote {result.rows} row(s) in place: {', '.join(result.outputs)}", err=True)
        return
    suppressed = ""
    if k:
        levels = ", ".join(f"{name}={level}" for name, level in result.generalized.items())
        suppressed = (f"; quasi-identifiers generalized to {levels}; suppressed {result.suppressed} row(s) "
                      f"in classes smaller than k={k}")
    click.echo(f"wrote {result.rows} row(s) to {', '.join(result.outputs)}{suppressed}; verified", err=True)


def _display(value: str) -> str:
    """A URL without its password (for the audit record)."""
    if "://" not in value:
        return value
    from govkit.sources.database import redact

    return redact(value)


def _report_failure(problems: list[str]) -> None:
    click.echo("govkit: error: verification failed, output marked incomplete:", err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)


@click.command("deanonymize", short_help="Decrypt the values the encrypt operator wrote.")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "to", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where the decrypted copy goes (.csv/.jsonl/.parquet).")
@click.option("--column", "columns", multiple=True, metavar="NAME",
              help="Only these columns (default: every column holding gk1 tokens).")
@click.pass_obj
def deanonymize_command(app: AppContext, source: Path, to: Path, columns: tuple[str, ...]) -> None:
    """Write a copy of SOURCE with every gk1 encryption token decrypted.

    Needs the key the tokens were written with (any version still in the keyset, so
    rotation does not lock data away). The command is recorded in the audit log: it hands
    personal data back.
    """
    from govkit.actions.anonymize.reverse import deanonymize_file
    from govkit.audit import audit_action

    workspace = app.workspace(required=False)
    if workspace is None:
        count = deanonymize_file(source, to, list(columns), None)
    else:
        with audit_action(workspace.state_dir, "deanonymize", {"source": str(source), "to": str(to)}) as entry:
            count = deanonymize_file(source, to, list(columns), workspace.state_dir)
            entry.counts["values"] = count
    click.echo(f"decrypted {count} value(s) into {to}", err=True)


def register(group: click.Group) -> None:
    group.add_command(anonymize_command)
    group.add_command(deanonymize_command)
