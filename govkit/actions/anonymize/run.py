"""``govkit.anonymize``: resolve the source, make the plan, check the keys, run, verify, audit.

Order matters for safety: the plan is made and every operator is built (which derives its
subkeys) *before* anything is read or written, so a missing key, a bad ``--rule`` or a plan
that would break a join fails with nothing written. The audit record is opened the same
way (``audit_action`` checks the log first) and says what ran, never the data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govkit.actions.anonymize.export import ExportResult, VerificationFailed, copy_database, export_rows, stream_query
from govkit.actions.anonymize.io import FORMATS, Batch, read_batches
from govkit.actions.anonymize.operators import OperatorContext, build
from govkit.actions.anonymize.plan import Plan, Rule, build_plan, check_operators, fit_to_column, propagate_keys
from govkit.errors import UsageError
from govkit.inventory.store import InventoryRow


@dataclass(slots=True)
class AnonymizeRequest:
    """What ``govkit anonymize`` was asked to do (the CLI's options, as data)."""

    source: str
    to: str | None = None
    table: list[str] = field(default_factory=list)
    query: str | None = None
    rules: list[str] = field(default_factory=list)
    fmt: str | None = None
    dry_run: bool = False
    in_place: bool = False
    apply: bool = False
    k: int | None = None
    quasi_identifiers: list[str] = field(default_factory=list)
    #: with ``k``: coarsen the quasi-identifiers before suppressing (False: suppress only)
    generalize: bool = True
    #: with ``k``: the share of rows (0.05 = 5%) that may be suppressed before generalizing
    max_suppression: float = 0.05
    verify: bool = True
    batch_size: int = 5000
    #: worker processes for file exports (None: the CPUs; 1: none); see ``export_rows``
    jobs: int | None = None
    #: with ``k``: l-diversity of the ``sensitive`` column in every class (``--l``, ``--sensitive``)
    l_diversity: int | None = None
    sensitive: str | None = None


def _inventory_rows(workspace: Any, source: str | None, name: str | None) -> list[InventoryRow]:
    from govkit.inventory.store import Inventory

    if workspace is None or not workspace.inventory_path.exists():
        return []
    inventory = Inventory(workspace.inventory_path)
    try:
        return inventory.rows(name or source)
    finally:
        inventory.close()


def _policy(workspace: Any) -> Any:
    if workspace is None:
        return None
    from govkit.policy.loader import active_policy

    return active_policy(workspace.root)


def operator_context(workspace: Any) -> OperatorContext:
    """The keyset for keyed operators; without one, keyed operators say so when they are
    built, before anything is written. Shared by anonymize and DSR erasure."""
    from govkit.keys import env_override, load_keyset

    if workspace is None and env_override() is None:
        return OperatorContext(None)
    state = workspace.state_dir if workspace is not None else Path(".govkit")
    try:
        return OperatorContext(load_keyset(state))
    except Exception as exc:
        from govkit.errors import KeyMaterialError

        if isinstance(exc, KeyMaterialError) and "no keys in" in str(exc):
            return OperatorContext(None)  # keyed operators will say so when they are built
        raise


def _prepare(plan: Plan, context: OperatorContext) -> None:
    check_operators(plan)
    for chosen in plan.fields.values():
        build(chosen.operator, chosen.params, context)  # derives keys now: fail before writing


def anonymize(request: AnonymizeRequest, workspace: Any = None) -> ExportResult:
    """Plan and (unless ``dry_run``) run one anonymization; see the module docstring."""
    rules = [Rule.parse(r) for r in request.rules]
    if request.k is not None and not request.quasi_identifiers:
        raise UsageError("--k needs --quasi-identifiers")
    if request.l_diversity is not None and (request.k is None or not request.sensitive):
        raise UsageError("--l needs --k and --sensitive COLUMN (whose values each class must hold l of)")
    if request.in_place:
        if request.to is not None:
            raise UsageError("--in-place and --to exclude each other")
        if request.k is not None or request.query is not None:
            raise UsageError("--in-place rewrites tables; --k and --query apply to exports")
        request.dry_run = not request.apply  # --in-place alone plans; --apply executes
    elif request.apply:
        raise UsageError("--apply goes with --in-place")
    if not request.dry_run and not request.in_place and request.to is None:
        raise UsageError("say where the anonymized data goes with --to TARGET (or use --dry-run)")
    context = operator_context(workspace)
    policy = _policy(workspace)
    source_path = Path(request.source)
    if "://" not in request.source and (workspace is None or request.source not in workspace.sources):
        if not source_path.is_file():
            raise UsageError(f"{request.source!r} is not a database URL, a file, or a source in govkit.toml")
        if request.in_place:
            raise UsageError("--in-place works on databases; for a file, write an anonymized copy with --to")
        return _anonymize_file(request, source_path, rules, policy, context, workspace)
    return _anonymize_database(request, rules, policy, context, workspace)


def _anonymize_file(
    request: AnonymizeRequest, path: Path, rules: list[Rule], policy: Any, context: OperatorContext, workspace: Any,
) -> ExportResult:
    from govkit.actions.anonymize.textfile import TEXT_SUFFIXES, anonymize_text_file, text_plan

    if path.suffix.lower() in TEXT_SUFFIXES:
        if request.k is not None:
            raise UsageError("--k applies to tabular exports, not free text")
        plan = text_plan(path, rules, policy)
        _prepare(plan, context)
        result = ExportResult(plan)
        if request.dry_run:
            return result
        anonymize_text_file(path, _copy_target(request, path), plan, context, result, verify=request.verify)
        return _finish(result)
    resolved = path.resolve()
    rows = [r for r in _inventory_rows(workspace, None, None)
            if (Path(r.source) / r.asset).resolve() == resolved or r.asset == path.name]
    if _json_paths(request, path):
        return _anonymize_json(request, path, rows, rules, policy, context)
    rows = _top_level_columns(path, rows)
    columns, _ = read_batches(path)
    asset = rows[0].asset if rows else path.name
    plan = build_plan(rows[0].source if rows else str(path.parent), rows, policy, rules, {asset: columns}, fit=True)
    _require_something(plan, rows, rules, request.source)
    _prepare(plan, context)
    result = ExportResult(plan)
    if request.dry_run:
        return result
    target = _copy_target(request, path)

    def opener() -> Iterator[Batch]:
        return read_batches(path, request.batch_size)[1]

    export_rows(columns, opener, plan.for_asset(asset), target, context, result, where=asset, fmt=request.fmt,
                k=request.k, quasi_identifiers=request.quasi_identifiers, generalize=request.generalize,
                max_suppression=request.max_suppression,
                verify=request.verify, jobs=request.jobs, l_diversity=request.l_diversity,
                sensitive=request.sensitive)
    return _finish(result)


def _copy_target(request: AnonymizeRequest, path: Path) -> Path:
    """Where a file's anonymized copy goes: anywhere but over the source itself."""
    assert request.to is not None
    target = Path(request.to)
    if target.resolve() == path.resolve():
        raise UsageError("--to names the source file itself; write the anonymized copy elsewhere")
    return target


def _json_paths(request: AnonymizeRequest, path: Path) -> bool:
    """JSON -> JSON is rewritten path by path; --k, --format csv/parquet or a tabular target
    take the tabular exporter (top-level keys as columns)."""
    from govkit.actions.anonymize.jsonfile import is_json

    if not is_json(path) or request.k is not None or request.fmt not in (None, "jsonl"):
        return False
    return request.to is None or is_json(Path(request.to))


def _top_level_columns(path: Path, rows: list[InventoryRow]) -> list[InventoryRow]:
    """JSON Lines read as a table: the inventory's ``$.email`` is the column ``email``.

    Personal data deeper down (``$.user.email``) would go out whole inside a column that
    no operator can address, so that is refused: such files are rewritten path by path.
    """
    nested = sorted({r.field for r in rows if r.field.startswith("$") and not r.field[2:].isidentifier()})
    if nested:
        raise UsageError(f"{path.name} holds personal data below its top-level keys ({', '.join(nested[:3])}); "
                         f"a table cannot rewrite it: write JSON instead (--to FILE.jsonl), path by path")
    return [dataclasses.replace(r, field=r.field[2:]) if r.field.startswith("$.") else r for r in rows]


def _anonymize_json(
    request: AnonymizeRequest, path: Path, rows: list[InventoryRow], rules: list[Rule], policy: Any,
    context: OperatorContext,
) -> ExportResult:
    from govkit.actions.anonymize.jsonfile import anonymize_json_file, json_plan

    asset = rows[0].asset if rows else path.name
    paths = list(dict.fromkeys(r.field for r in rows))
    base = build_plan(rows[0].source if rows else str(path.parent), rows, policy, [], {asset: paths})
    plan = json_plan(base, asset, paths, rules)
    _require_something(plan, rows, rules, request.source)
    if any(not r.field.startswith("$") for r in rules):  # key rules find their paths while rewriting
        plan.notes = [n for n in plan.notes if n != NOTHING_TO_DO]
    _prepare(plan, context)
    result = ExportResult(plan)
    if request.dry_run:
        return result
    target = _copy_target(request, path)
    anonymize_json_file(path, target, plan, asset, rules, context, result, verify=request.verify)
    return _finish(result)


NOTHING_TO_DO = "no field of the source needs transforming"


def _require_something(plan: Plan, rows: Sequence[InventoryRow], rules: Sequence[Rule], source: str) -> None:
    if not rows and not rules:
        raise UsageError(f"the inventory knows no personal data in {source}: run 'govkit scan' on it first, "
                         f"or say what to transform with --rule FIELD=OPERATOR")
    if not plan.fields:
        plan.notes.append(NOTHING_TO_DO)


def _anonymize_database(
    request: AnonymizeRequest, rules: list[Rule], policy: Any, context: OperatorContext, workspace: Any,
) -> ExportResult:
    from govkit.actions.risk import find_table
    from govkit.sources.database import DatabaseSource, warn_if_password_given

    name: str | None = None
    url = request.source
    if workspace is not None and request.source in workspace.sources:
        name, url = request.source, workspace.sources[request.source].resolved_url()
    else:
        warn_if_password_given(url)
    with DatabaseSource(url) as source:
        if request.in_place and not request.dry_run and workspace is not None:
            from govkit.change.run import ensure_free

            ensure_free(workspace.state_dir, source.display)  # before planning over a half-changed table
        rows = _inventory_rows(workspace, source.display, name)
        all_tables = source.tables()
        tables = [find_table(source, t) for t in request.table] if request.table else [
            t for t in all_tables if t.kind == "table"]
        if request.query is not None:
            columns, opener = stream_query(source, request.query, request.batch_size)
            plan = build_plan(source.display, rows, policy, rules, {"query": columns}, source_name=name, fit=True)
            # A query's columns are matched to the inventory by column name, in any table.
            by_column: dict[str, InventoryRow] = {r.field.lower(): r for r in rows}
            for column in columns:
                row = by_column.get(column.lower())
                if row is not None and ("query", column.lower()) not in plan.fields:
                    sub = build_plan(source.display, [row], policy, [], {row.asset: [column]}, source_name=name)
                    for chosen in sub.fields.values():
                        chosen.params = fit_to_column(chosen.operator, chosen.params, column, columns)
                        chosen.asset = "query"
                        chosen.why += f" (as {row.asset}.{row.field})"
                        plan.add(chosen)
            _require_something(plan, rows, rules, source.display)
            _prepare(plan, context)
            result = ExportResult(plan)
            if not request.dry_run:
                assert request.to is not None
                export_rows(columns, opener, plan.for_asset("query"), Path(request.to), context, result,
                            where="query", fmt=request.fmt, k=request.k, quasi_identifiers=request.quasi_identifiers,
                            generalize=request.generalize, max_suppression=request.max_suppression,
                            verify=request.verify, jobs=request.jobs, l_diversity=request.l_diversity,
                            sensitive=request.sensitive)
            return _finish(result) if not request.dry_run else result
        columns_of = {t.qualified: [c.name for c in t.columns] for t in tables}
        plan = build_plan(source.display, rows, policy, rules, columns_of, source_name=name, fit=True)
        _require_something(plan, rows, rules, source.display)
        if request.in_place:
            from govkit.actions.anonymize.inplace import check_in_place

            check_in_place(plan, tables)
        else:
            propagate_keys(plan, tables, context)
        _prepare(plan, context)
        result = ExportResult(plan)
        if request.dry_run:
            return result
        if request.in_place:
            return run_in_place(request, workspace, source, tables, plan, context)
        assert request.to is not None
        if "://" in request.to:
            if request.k is not None:
                raise UsageError("--k applies to file exports (one table or a query), not database copies")
            copy_database(source, request.to, tables, plan, context, result, batch_size=request.batch_size,
                          verify=request.verify)
            return _finish(result)
        target = Path(request.to)
        single = len(tables) == 1 and target.suffix.lstrip(".").lower() in (*FORMATS, "json", "ndjson")
        for table in tables:
            out = target if single else target / f"{table.qualified}.{request.fmt or 'csv'}"
            from govkit.actions.anonymize.export import stream_table

            def opener(table: Any = table) -> Iterator[Batch]:
                return stream_table(source, table, request.batch_size)

            export_rows([c.name for c in table.columns], opener, plan.for_asset(table.qualified), out, context,
                        result, where=table.qualified, fmt=request.fmt, k=request.k,
                        quasi_identifiers=request.quasi_identifiers, generalize=request.generalize,
                        max_suppression=request.max_suppression,
                        verify=request.verify, jobs=request.jobs, l_diversity=request.l_diversity,
                        sensitive=request.sensitive)
        return _finish(result)


def run_in_place(request: AnonymizeRequest, workspace: Any, source: Any, tables: Sequence[Any], plan: Plan,
                 context: OperatorContext) -> ExportResult:
    """Begin an in-place run in the change engine (plan stored, "begun" audited), then execute it."""
    from govkit.actions.anonymize.inplace import KIND
    from govkit.change.run import ChangeRun

    if workspace is None:
        raise UsageError("--in-place --apply needs a workspace (its journal and audit log make the run "
                         "resumable and provable): run 'govkit init' first")
    touched = sorted({p.asset for p in plan.fields.values() if p.operator != "keep"})
    params = {"source": source.display, "tables": touched, "rules": list(request.rules),
              "plan": [f"{p.asset}.{p.field}={p.spec}" for p in plan.fields.values()]}
    _refuse_null_keys(source, tables, plan)
    stored = {"request": dataclasses.asdict(request), "tables": [t.qualified for t in tables],
              "fields": [p.to_dict() for p in plan.fields.values()], "notes": list(plan.notes)}
    with ChangeRun.begin(workspace.state_dir, KIND, source.display, params, stored,
                         sources=[source.display]) as run:
        return execute_in_place(run, request, source, tables, plan, context)


def _refuse_null_keys(source: Any, tables: Sequence[Any], plan: Plan) -> None:
    """Units page by primary key, which a NULL (SQLite allows one in a non-integer key) cannot
    take part in: refuse before the run begins rather than stop it halfway."""
    import sqlalchemy as sa

    for table in tables:
        if not plan.for_asset(table.qualified) or not table.primary_key:
            continue
        clause = sa.table(table.name, *[sa.column(k) for k in table.primary_key], schema=table.schema)
        query = sa.select(sa.func.count()).select_from(clause).where(
            sa.or_(*[clause.c[k].is_(None) for k in table.primary_key]))
        with source.engine.connect() as conn:
            if conn.execute(query).scalar():
                raise UsageError(f"{table.qualified} has rows with NULL in its primary key; they cannot be "
                                 "rewritten one by one: anonymize the table into a copy with --to instead")


def execute_in_place(run: Any, request: AnonymizeRequest, source: Any, tables: Sequence[Any], plan: Plan,
                     context: OperatorContext) -> ExportResult:
    """Units, verification, the "finished" audit record, then the run closes (first run or resume)."""
    from govkit.actions.anonymize.inplace import apply_in_place

    result = ExportResult(plan)
    with run.failures_audited("anonymize"):
        apply_in_place(source, tables, plan, context, result, run=run, batch_size=request.batch_size,
                       verify=request.verify)
        result.verified = request.verify and not result.problems
        params: dict[str, Any] = {
            "source": source.display, "to": "in place", "rules": list(request.rules),
            "tables": sorted({p.asset for p in plan.fields.values() if p.operator != "keep"}),
            "plan": [f"{p.asset}.{p.field}={p.spec}" for p in plan.fields.values()],
            "verification": ("failed" if result.problems else "passed" if result.verified else "skipped"),
            "status": "incomplete (changes committed)" if result.problems else "complete",
        }
        if result.problems:
            params["problems"] = result.problems[:20]  # table.column and counts, never values
        run.audited("anonymize", params, {"rows": result.rows, "fields": len(plan.fields),
                                          "problems": len(result.problems)},
                    outcome="verification-failed" if result.problems else "ok")
    run.finish("failed" if result.problems else "finished")
    if result.problems:
        return _finish(result, in_place=True)
    return result


def resume_in_place(run: Any, workspace: Any) -> ExportResult:
    """Complete an interrupted in-place run from its stored plan (``govkit runs resume``)."""
    from govkit.actions.anonymize.plan import FieldPlan
    from govkit.actions.risk import find_table
    from govkit.sources.database import DatabaseSource

    stored = run.plan()
    request = AnonymizeRequest(**stored["request"])
    url = request.source
    if workspace is not None and request.source in workspace.sources:
        url = workspace.sources[request.source].resolved_url()
    plan = Plan(run.target, notes=list(stored.get("notes") or []))
    for entry in stored["fields"]:
        plan.add(FieldPlan(**entry))
    context = operator_context(workspace)
    _prepare(plan, context)
    with DatabaseSource(url) as source:
        tables = [find_table(source, name) for name in stored["tables"]]
        return execute_in_place(run, request, source, tables, plan, context)


#: What a failed in-place verification says: the batches are committed and stay so.
IN_PLACE_COMMITTED = ("the changes are committed (not rolled back) and the run is incomplete; "
                      "fix the plan (govkit label, --rule) and re-run, or restore the backup")


def _finish(result: ExportResult, *, in_place: bool = False) -> ExportResult:
    """Mark the result verified, or raise :class:`VerificationFailed` naming the problems.

    In place there is no output file to mark incomplete and no undo: earlier batches are
    committed, and rolling them back silently would hide that the database already
    changed. The message says so; the CLI records the run as incomplete in the audit log.
    """
    result.verified = not result.problems
    if result.problems:
        where = IN_PLACE_COMMITTED if in_place else "output marked incomplete"
        raise VerificationFailed(result,
            f"verification failed: {len(result.problems)} problem(s), {where}: " + "; ".join(result.problems[:5]))
    return result
