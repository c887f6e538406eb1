"""``govkit anonymize`` and ``govkit deanonymize``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from govkit.cli import EXIT_FINDINGS, FORMAT_META, AppContext
from govkit.cli.options import (
    FiniteFloatRange,
    check_engine,
    emit,
    engine_options,
    format_option,
    jdbc_split,
    to_json,
    to_table,
)
from govkit.errors import UsageError

if TYPE_CHECKING:
    from govkit.actions.anonymize.export import ExportResult


@click.command("anonymize", short_help="Export a source anonymized: database, table, query or file.")
@click.argument("source")
@click.option("--to", "to", metavar="TARGET",
              help="Database URL (schema copied), file (.csv/.jsonl/.parquet) or folder (one file per table).")
@click.option("--table", multiple=True, metavar="NAME", help="Only this table (repeatable).")
@click.option("--query", metavar="SQL",
              help="Export the rows of this query instead of tables: one SELECT (or WITH ... SELECT), run read-only.")
@click.option("--rule", "rules", multiple=True, metavar="FIELD=OPERATOR[:k=v,...]",
              help="Override the policy for a field, e.g. Customer.Email=pseudonymize (repeatable).")
@click.option("--to-format", "to_format", type=click.Choice(["csv", "jsonl", "parquet"]),
              help="TARGET file format (default: from the TARGET suffix, else csv).")
@click.option("--force", is_flag=True, help="Overwrite an existing TARGET file.")
@format_option("table", "json", "csv", "jsonl", "parquet", default=None,
               help="How the plan and result are printed: table (default) or json. "
                    "(csv, jsonl, parquet: the old spelling of --to-format.)")
@click.option("--dry-run", is_flag=True, help="Print the plan (field, operator, why) and write nothing.")
@click.option("--in-place", is_flag=True, help="Rewrite the source database itself; alone it only plans.")
@click.option("--apply", "apply_", is_flag=True, help="With --in-place: execute, in batched transactions.")
@click.option("--k", "k", type=click.IntRange(min=2),
              help="Generalize the quasi-identifiers, then suppress rows, until the export is k-anonymous.")
@click.option("--quasi-identifiers", metavar="A,B,C", help="Columns an attacker may know (with --k).")
@click.option("--l", "l_diversity", type=click.IntRange(min=2),
              help="With --k and --sensitive: every class also holds at least L distinct sensitive values.")
@click.option("--sensitive", metavar="COLUMN", help="With --l: the column whose values must be diverse.")
@click.option("--no-generalize", is_flag=True, help="With --k: only suppress rows, never coarsen values.")
@click.option("--max-suppression", type=FiniteFloatRange(0, 100), default=5.0, show_default=True, metavar="PCT",
              help="With --k: the share of rows (percent) that may be suppressed; the least generalization "
                   "that meets k with at most this many rows suppressed is chosen.")
@click.option("--no-verify", is_flag=True, help="Skip re-scanning the output (not recommended).")
@click.option("--jobs", type=click.IntRange(min=1, max=64), metavar="N",
              help="Worker processes that transform a file export's batches (default: the CPUs; 1: none).")
@engine_options
@click.option("--json", "as_json", is_flag=True, hidden=True, help="Old spelling of --format json.")
@click.pass_context
def anonymize_command(ctx: click.Context, source: str, to: str | None, to_format: str | None, force: bool,
                      fmt: str | None, table: tuple[str, ...], query: str | None,
                      rules: tuple[str, ...], dry_run: bool, in_place: bool, apply_: bool,
                      k: int | None, l_diversity: int | None, sensitive: str | None,
                      quasi_identifiers: str | None, no_generalize: bool, max_suppression: float, no_verify: bool,
                      jobs: int | None, engine: str, master: str | None, jars: str | None,
                      rows_per_partition: int | None, split_column: dict[str, str], as_json: bool) -> None:
    """Write an anonymized copy of SOURCE to TARGET, as the inventory and policy say.

    SOURCE is a source in govkit.toml, a database URL, or a CSV/JSON/JSONL/Parquet file. Which
    fields are transformed and how comes from the inventory (run 'govkit scan' first) and
    the policy's anonymization rules; --rule overrides them. Keyed operators (hash,
    pseudonymize, fake, encrypt) use the workspace key ('govkit keys init' or GOVKIT_KEY);
    a missing key stops the run before anything is written. Key and foreign-key columns
    get the same deterministic operator on both sides, so joins survive.

    \b
    --k N --quasi-identifiers A,B,C makes a file export k-anonymous on those columns: of
    every combination of generalization levels (dates: month, year, 5 and 10 years; numbers:
    bands; postcodes: area, postal region; locations: the row's city, region, country; text:
    first 5, 3, 1 characters; then *), the one of least information loss whose classes
    smaller than N fit in --max-suppression (default 5% of the rows); those rows are
    suppressed. --l L --sensitive COLUMN also asks L distinct sensitive values per class.
    The levels, the k and l reached and the loss are printed and audited. --no-generalize
    only suppresses.

    \b
    Verification is on by default: the output is read back, and a transformed field that
    still shows personal data fails the run (exit 1) and leaves TARGET.INCOMPLETE beside it.
    --in-place plans a rewrite of the source database itself; --in-place --apply runs it,
    one transaction per batch (key and reference columns are refused in place), then
    re-reads the transformed columns. A failed in-place verification exits 1 naming each
    table.column; the committed changes are not rolled back and the run is recorded as
    incomplete.

    \b
    JSON files (.json, .jsonl, .ndjson, and .gz of them) are rewritten value by value at
    the JSON paths the inventory found ($.user.email, $.items[*].phone); name paths with
    --rule '$.user.email=mask', or a key anywhere with --rule email=mask. Malformed JSON
    lines are left out and counted, never copied through.
    Exit codes: 0 ok; 1 verification failed; 2 bad input or key.
    """
    from govkit.actions.anonymize.export import VerificationFailed
    from govkit.actions.anonymize.run import AnonymizeRequest, anonymize
    from govkit.audit import audit_action

    app: AppContext = ctx.obj
    if fmt in ("csv", "jsonl", "parquet"):  # the old meaning of --format: the TARGET's format
        to_format, fmt = to_format or fmt, None
    as_json = as_json or fmt == "json"
    if as_json:
        ctx.meta[FORMAT_META] = "json"
    if (to is not None and "://" not in to and not (dry_run or in_place) and Path(to).is_file()
            and not force):
        raise UsageError(f"--to {to}: the file exists (use --force to overwrite it)")
    workspace = app.workspace(required=False)
    check_engine(engine, master, jars)
    split = jdbc_split(engine, split_column, rows_per_partition)
    if engine == "spark":  # the same request, run on Spark (docs/spark.md)
        from functools import partial

        from govkit.engines.spark.anonymize import spark_anonymize

        anonymize = partial(spark_anonymize, master=master, jars=jars, force=force, split=split)
    request = AnonymizeRequest(
        source, to=to, table=list(table), query=query, rules=list(rules), fmt=to_format, dry_run=dry_run,
        in_place=in_place, apply=apply_, k=k,
        quasi_identifiers=[q.strip() for q in (quasi_identifiers or "").split(",") if q.strip()],
        generalize=not no_generalize, max_suppression=max_suppression / 100, verify=not no_verify, jobs=jobs,
        l_diversity=l_diversity, sensitive=sensitive)
    dry_run = dry_run or (in_place and not apply_)
    if dry_run or workspace is None or in_place:
        # In place, the change engine writes the "begun" and "finished" audit records itself.
        try:
            result = anonymize(request, workspace)
        except VerificationFailed as failed:
            _report_failure(failed.result, in_place, as_json)
            sys.exit(EXIT_FINDINGS)
    else:
        params: dict[str, Any] = {"source": _display(source), "to": _display(to or "") or "in place",
                                  "rules": list(rules), "k": k}
        if engine == "spark":
            params["engine"] = "spark"
        if split is not None:
            params["jdbc_split"] = split.to_dict()
        if k:
            params["max_suppression"] = max_suppression
        if query is not None:
            params["query"] = _masked_query(query, source, workspace)
        failure: ExportResult | None = None
        with audit_action(workspace.state_dir, "anonymize", params) as entry:
            try:
                result = anonymize(request, workspace)
            except VerificationFailed as failed:
                # recorded as a verification failure (exiting inside the block would record "exit-1")
                failure = failed.result
                entry.outcome = "verification-failed"
                entry.params["verification"] = "failed"
                entry.params["status"] = _status(failure, in_place)
                entry.params["problems"] = failure.problems[:20]  # field names and counts, never values
                entry.counts.update(rows=failure.rows, problems=len(failure.problems))
            else:
                entry.params["plan"] = [f"{p.asset}.{p.field}={p.spec}" for p in result.plan.fields.values()]
                entry.params["verification"] = "passed" if result.verified else "skipped"
                entry.counts.update(rows=result.rows, suppressed=result.suppressed, fields=len(result.plan.fields))
                if result.malformed:
                    entry.counts["malformed"] = result.malformed
                if k:
                    entry.counts["generalized"] = len(result.coarsened)
                    entry.params["generalized"] = [f"{name}={level}" for name, level in result.generalized.items()]
                    entry.params["suppression_budget_met"] = result.budget_met is not False
                    entry.params["anonymity"] = result.anonymity  # levels, k and l reached, loss: no values
        if failure is not None:
            _report_failure(failure, in_place, as_json)
            sys.exit(EXIT_FINDINGS)
    if as_json:
        emit(to_json(_as_dict(result, in_place, dry_run)), None)
        return
    rows = [[p.asset, p.field, p.entity_type or "", p.spec, p.why] for p in result.plan.fields.values()]
    emit(to_table(["asset", "field", "entity", "operator", "why"], rows, title="Anonymization plan"), None)
    for note in result.plan.notes:
        click.echo(f"note: {note}", err=True)
    if dry_run:
        click.echo("dry run: nothing written" + ("; add --apply to execute" if in_place else ""), err=True)
        return
    verified = "verified" if result.verified else "not verified (--no-verify)"
    if in_place:
        click.echo(f"rewrote {result.rows} row(s) in place: {', '.join(result.outputs)}; {verified}", err=True)
        return
    suppressed = ""
    if k:
        levels = ", ".join(f"{name}={level}" for name, level in result.generalized.items())
        suppressed = (f"; quasi-identifiers generalized to {levels}; suppressed {result.suppressed} row(s) "
                      f"in classes smaller than k={k}")
        if result.budget_met is False:
            suppressed += f" (more than the {max_suppression:g}% budget: it could not be met)"
        for report in result.anonymity.values():
            loss = report["loss"]
            reached = f"k={report['achieved_k']}" + (f", l={report['achieved_l']}" if report["l"] else "")
            suppressed += (f"; {reached}; information loss {loss['non_uniform_entropy']:.3f} (non-uniform entropy; "
                           f"1 = every quasi-identifier at *), generalization intensity "
                           f"{loss['generalization_intensity']:.3f}")
    malformed = f"; left out {result.malformed} malformed line(s)" if result.malformed else ""
    click.echo(f"wrote {result.rows} row(s) to {', '.join(result.outputs)}{suppressed}{malformed}; {verified}",
               err=True)


def _status(result: ExportResult, in_place: bool) -> str:
    if result.problems:
        return "incomplete (changes committed)" if in_place else "incomplete"
    return "complete"


def _as_dict(result: ExportResult, in_place: bool, dry_run: bool) -> dict[str, Any]:
    """The result as JSON, with the run's status: ``complete``, ``incomplete`` or ``planned``."""
    data = result.to_dict()
    data["status"] = "planned" if dry_run else _status(result, in_place)
    data["verification"] = ("failed" if result.problems else "passed" if result.verified else
                            "not run" if dry_run else "skipped")
    if in_place and not dry_run:
        data["committed"] = True  # in place, batches are committed as they go; nothing is rolled back
    return data


def _display(value: str) -> str:
    """A URL without its password (for the audit record)."""
    if "://" not in value:
        return value
    from govkit.sources.database import redact

    return redact(value)


def _masked_query(query: str, source: str, workspace: Any) -> str:
    """The query for the audit record: keywords and names, its literals masked."""
    from govkit.actions.anonymize.readonly import dialect_of, mask_query

    config = workspace.sources.get(source) if workspace is not None else None
    return mask_query(query, dialect_of(config.url if config is not None else source))


def _report_failure(result: ExportResult, in_place: bool, as_json: bool) -> None:
    if as_json:
        emit(to_json(_as_dict(result, in_place, False)), None)
    if in_place:
        from govkit.actions.anonymize.run import IN_PLACE_COMMITTED

        click.echo(f"govkit: error: verification failed after the in-place rewrite: {IN_PLACE_COMMITTED}:", err=True)
    else:
        click.echo("govkit: error: verification failed, output marked incomplete:", err=True)
    for problem in result.problems:
        click.echo(f"  {problem}", err=True)


@click.command("deanonymize", short_help="Decrypt the values the encrypt operator wrote.")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "to", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where the decrypted copy goes (.csv/.jsonl/.parquet).")
@click.option("--column", "columns", multiple=True, metavar="NAME",
              help="Only these columns (default: every column holding gk1 tokens).")
@click.option("--pseudonym", "pseudonyms", multiple=True, metavar="COLUMN=ENTITY",
              help="Reverse this column's format-preserving pseudonyms, made as ENTITY (PHONE_NUMBER, "
                   "CN_RESIDENT_ID, ... or integer); repeatable.")
@click.pass_obj
def deanonymize_command(app: AppContext, source: Path, to: Path, columns: tuple[str, ...],
                        pseudonyms: tuple[str, ...]) -> None:
    """Write a copy of SOURCE with every gk1 encryption token decrypted.

    Needs the key the tokens were written with (any version still in the keyset, so
    rotation does not lock data away). --pseudonym COLUMN=ENTITY also reverses the
    pseudonyms of identifiers (FF3-1, a bijection); keyed tokens (e-mails, names) are
    one-way. The command is recorded in the audit log: it hands personal data back.
    """
    from govkit.actions.anonymize.reverse import deanonymize_file
    from govkit.audit import audit_action

    reverse: dict[str, str] = {}
    for spec in pseudonyms:
        column, sep, entity = spec.partition("=")
        if not sep or not column.strip() or not entity.strip():
            raise UsageError(f'--pseudonym expects COLUMN=ENTITY, e.g. phone=PHONE_NUMBER; got "{spec}"')
        reverse[column.strip()] = entity.strip()
    workspace = app.workspace(required=False)
    if workspace is None:
        count = deanonymize_file(source, to, list(columns), None, reverse)
    else:
        with audit_action(workspace.state_dir, "deanonymize", {"source": str(source), "to": str(to),
                                                               "pseudonyms": sorted(reverse)}) as entry:
            count = deanonymize_file(source, to, list(columns), workspace.state_dir, reverse)
            entry.counts["values"] = count
    click.echo(f"decrypted {count} value(s) into {to}", err=True)


def register(group: click.Group) -> None:
    group.add_command(anonymize_command)
    group.add_command(deanonymize_command)
