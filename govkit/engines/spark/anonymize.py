"""``govkit anonymize --engine spark``: the plan's operators applied partition by partition.

The plan is made on the driver exactly as for a local export (inventory rows of the source
as the Spark scan recorded them, the policy, ``--rule``), and every operator is built there
first, so a missing key or a bad rule fails before Spark reads a row. The executors then
run the local :class:`~govkit.actions.anonymize.export.Transformer` (the operator registry's
``build`` and ``apply_many``) on each partition, batch by batch: a pseudonym, a hash or a
mask is the one a local export writes for the same value, and a key pseudonymized in two
tables still joins.

**Keys.** The workspace key never leaves the driver: the operators derive their
purpose-bound subkeys there, and the executors receive an
:class:`~govkit.actions.anonymize.operators.OperatorContext` holding only those subkeys.
They travel inside Spark's task closures; on a cluster, turn on Spark's RPC and disk
encryption (docs/spark.md).

**Output.** Parquet, one dataset folder per table (``--to DIR``: ``DIR/TABLE``; one table
and ``--to X.parquet``: that folder), written by Spark, so any path Spark can write (HDFS,
S3, ABFS, DBFS) works. A ``--to`` ending in ``.delta`` writes Delta when delta-spark is
installed. Kept columns keep their Spark type; a transformed column takes the type its
output has (integers stay integers), else text, as the local Parquet writer does.

**Verification**, on by default, checks what a local export checks: output values equal to
an input value the operator changed (keyed digests of those inputs, at most
:data:`~govkit.actions.anonymize.export.LEAK_SAMPLE` per field, are compared on the
executors), values left unchanged, and a re-scan of a sample of the output of operators
whose output must not look personal. A failed verification leaves ``TARGET.INCOMPLETE``
and fails the run. ``--k``, ``--query`` and ``--in-place`` are local only.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from govkit.actions.anonymize.export import (
    LEAK_CHECKED,
    LEAK_SAMPLE,
    SCAN_SAMPLE,
    SYNTHETIC,
    ExportResult,
    Transformer,
    VerificationFailed,
)
from govkit.actions.anonymize.operators import OperatorContext, build
from govkit.actions.anonymize.plan import FieldPlan, Rule, build_plan, check_operators
from govkit.engines.spark import worker
from govkit.engines.spark.delta import read_delta, write_delta
from govkit.engines.spark.jdbc import JdbcSplit
from govkit.errors import KeyMaterialError, UsageError

#: Rows whose transformed values show each output column's type before the real pass.
PROBE_ROWS = 500


class DerivedKeys(OperatorContext):
    """Subkeys derived on the driver, and no keyset: the operator context executors get."""

    def __init__(self, subkeys: dict[tuple[str, str | None, int], tuple[str, bytes]]) -> None:
        super().__init__(None)
        self._subkeys = dict(subkeys)

    def subkey(self, purpose: str, key_id: str | None = None, length: int = 32) -> tuple[str, bytes]:
        found = self._subkeys.get((purpose, key_id, length))
        if found is None:  # every operator was built on the driver first: this is a bug, not bad input
            raise KeyMaterialError(f"the {purpose} subkey was not derived before the run started")
        return found


def subkeys_only(context: OperatorContext) -> OperatorContext:
    """A context holding the subkeys already derived from ``context`` and no keyset: what
    the executors get (made after every operator of the plan was built once)."""
    return DerivedKeys(context._subkeys)


def spark_anonymize(request: Any, workspace: Any = None, *, master: str | None = None,
                    jars: str | None = None, force: bool = False, split: JdbcSplit | None = None) -> ExportResult:
    """Plan and (unless a dry run) run ``request`` (an ``AnonymizeRequest``) on Spark;
    ``force``: overwrite an existing output folder; ``split``: how large JDBC tables are read."""
    from govkit.actions.anonymize.run import NOTHING_TO_DO, _inventory_rows, _policy, operator_context
    from govkit.engines.spark.scan import resolve
    from govkit.engines.spark.session import spark_session

    if request.k is not None:
        raise UsageError("--k is not available with --engine spark: make the export k-anonymous locally")
    if request.in_place or request.apply:
        raise UsageError("--in-place rewrites a database; with --engine spark, write a copy with --to")
    if request.query is not None:
        raise UsageError("--query is not available with --engine spark: name tables with --table")
    if not request.dry_run and request.to is None:
        raise UsageError("say where the anonymized data goes with --to TARGET (or use --dry-run)")
    if request.to is not None and "://" in request.to and not request.to.startswith(("s3", "hdfs", "abfs", "dbfs",
                                                                                      "gs://", "file://")):
        raise UsageError(f"--to {request.to}: with --engine spark the target is a path (Parquet or Delta)")
    if request.fmt not in (None, "parquet"):
        raise UsageError(f"--to-format {request.fmt}: --engine spark writes Parquet (or Delta)")
    if split is not None:
        split.check([request.source], list(request.table))
    rules = [Rule.parse(r) for r in request.rules]
    context = operator_context(workspace)
    policy = _policy(workspace)
    spark = spark_session(master, jars=jars)
    target = resolve(spark, workspace, request.source, request.table, [], split)
    name = request.source if workspace is not None and request.source in workspace.sources else None
    rows = _inventory_rows(workspace, target.display, name)
    if not rows and name is None and "://" not in target.display and target.kind == "files":
        # one file or dataset of a folder that was scanned as a whole: the folder's rows for it
        wanted = {asset.name for asset in target.assets}
        rows = [r for r in _inventory_rows(workspace, str(Path(target.display).parent), None) if r.asset in wanted]
    frames = {asset.name: asset.load(spark) for asset in target.assets}
    plan = build_plan(target.display, rows, policy, rules, {n: list(f.columns) for n, f in frames.items()},
                      source_name=name)
    if not rows and not rules:
        raise UsageError(f"the inventory knows no personal data in {target.display}: run 'govkit scan --engine "
                         "spark' on it first, or say what to transform with --rule FIELD=OPERATOR")
    if not plan.fields:
        plan.notes.append(NOTHING_TO_DO)
    check_operators(plan)
    for chosen in plan.fields.values():
        build(chosen.operator, chosen.params, context)  # derives the subkeys: fail before writing
    result = ExportResult(plan)
    if request.dry_run:
        return result
    assert request.to is not None
    shipped = subkeys_only(context)
    single = len(frames) == 1 and request.to.rstrip("/").endswith((".parquet", ".delta"))
    for asset_name, frame in frames.items():
        out = request.to.rstrip("/") if single else f"{request.to.rstrip('/')}/{asset_name}"
        export_frame(spark, frame, plan.for_asset(asset_name), out, shipped, result, where=asset_name,
                     force=force, verify=request.verify, batch_size=request.batch_size)
    result.verified = request.verify and not result.problems
    if result.problems:
        raise VerificationFailed(result, f"verification failed: {len(result.problems)} problem(s), output marked "
                                         "incomplete: " + "; ".join(result.problems[:5]))
    return result


def _local_path(out: str) -> Path | None:
    if out.startswith("file://"):
        return Path(out[len("file://"):])
    return None if "://" in out else Path(out)


def _mark(out: str, problems: Sequence[str] | None) -> None:
    """``OUT.INCOMPLETE`` beside a local output while it is unfinished or failed verification."""
    path = _local_path(out)
    if path is None:
        return
    marker = path.with_name(path.name + ".INCOMPLETE")
    if problems is None:
        marker.unlink(missing_ok=True)
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("verification failed; do not hand this output over:\n" + "\n".join(problems) + "\n",
                      encoding="utf-8")


def _exists(out: str) -> bool:
    path = _local_path(out)
    return path is not None and path.exists()


def export_frame(
    spark: Any, frame: Any, plans: dict[str, FieldPlan], out: str, context: OperatorContext, result: ExportResult,
    *, where: str, force: bool = False, verify: bool = True, batch_size: int = 5000,
) -> None:
    """Transform one DataFrame with ``plans`` into ``out`` (Parquet or Delta), then verify."""
    if _exists(out) and not force:
        raise UsageError(f"--to {out}: exists (use --force to overwrite it)")
    columns = list(frame.columns)
    probe = Transformer(columns, plans, context)  # the driver's copy: the column layout only, no data
    schema = _output_schema(frame, probe, plans, context)
    salt = secrets.token_bytes(16)
    tally = spark.sparkContext.accumulator(_empty(), _outcome_param())
    typed = [(f.name, f.dataType.typeName()) for f in schema.fields]
    source = frame.rdd
    # the leak sample is bounded in all (LEAK_SAMPLE per field, as locally), shared by the partitions
    share = max(1_000, LEAK_SAMPLE // max(1, source.getNumPartitions()))
    transformed = source.mapPartitions(partial(
        _transform_partition, columns=columns, plans=plans, context=context, batch_size=batch_size, salt=salt,
        typed=typed, tally=tally, leak_sample=share))
    writer = spark.createDataFrame(transformed, schema, verifySchema=False).write.mode(
        "overwrite" if force else "errorifexists")
    _mark(out, ["the export did not finish"])
    if out.endswith(".delta"):
        write_delta(writer, out, spark)
    else:
        writer.parquet(out)
    outcome: dict[str, Any] = tally.value
    result.rows += outcome["rows"]
    result.outputs.append(out)
    problems: list[str] = []
    if verify:
        reread = read_delta(spark, out) if out.endswith(".delta") else spark.read.parquet(out)
        problems = _verify(reread, probe, plans, outcome, salt, where)
    result.problems.extend(problems)
    _mark(out, problems or None)


def _empty() -> dict[str, Any]:
    return {"rows": 0, "unchanged": {}, "changed": {}}


def _outcome_param() -> Any:
    """An accumulator rule adding partitions' outcomes: rows, unchanged counts, changed-input
    digests (bounded). Made on first use: pyspark is optional."""
    from pyspark.accumulators import AccumulatorParam

    class OutcomeParam(AccumulatorParam[dict[str, Any]]):
        def zero(self, value: dict[str, Any]) -> dict[str, Any]:
            return _empty()

        def addInPlace(self, mine: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
            mine["rows"] += theirs["rows"]
            for name, count in theirs["unchanged"].items():
                mine["unchanged"][name] = mine["unchanged"].get(name, 0) + count
            for name, digests in theirs["changed"].items():
                seen = mine["changed"].setdefault(name, set())
                seen.update(list(digests)[: max(0, LEAK_SAMPLE - len(seen))])
            return mine

    return OutcomeParam()


def _output_schema(frame: Any, probe: Transformer, plans: dict[str, FieldPlan], context: OperatorContext) -> Any:
    """Kept columns keep their type; a transformed one takes its output's (see the module doc)."""
    from pyspark.sql import types as t

    columns = list(frame.columns)
    changed = {columns[index] for index, _, _ in probe.steps}
    seen: list[dict[str, list[str]]] = frame.limit(PROBE_ROWS).rdd.mapPartitions(partial(
        _probe_partition, columns=columns, plans=plans, context=context)).collect()
    kinds: dict[str, set[str]] = {}
    for part in seen:
        for name, names in part.items():
            kinds.setdefault(name, set()).update(names)
    by_name = {f.name: f for f in frame.schema.fields}
    simple = {"int": t.LongType(), "float": t.DoubleType(), "bool": t.BooleanType(), "str": t.StringType()}
    fields = []
    for name in probe.out_columns:
        if name not in changed:
            fields.append(by_name[name])
            continue
        found = kinds.get(name, set())
        data_type = simple[next(iter(found))] if len(found) == 1 and next(iter(found)) in simple else t.StringType()
        fields.append(t.StructField(name, data_type, True))
    return t.StructType(fields)


def _probe_partition(rows: Iterable[Any], columns: Sequence[str], plans: dict[str, FieldPlan],
                     context: OperatorContext) -> Iterator[dict[str, list[str]]]:
    """On an executor: the Python types of a few transformed rows, per output column (no values)."""
    transformer = Transformer(columns, plans, context)
    batch = [tuple(row) for row in rows]
    out, _ = transformer.apply(batch)
    types: dict[str, set[str]] = {}
    for row in out:
        for name, value in zip(transformer.out_columns, row, strict=True):
            if value is not None:
                types.setdefault(name, set()).add(type(value).__name__)
    yield {name: sorted(found) for name, found in types.items()}


def _coerce(value: Any, type_name: str) -> Any:
    """A transformed value in its column's output type (text for anything a type won't take)."""
    if value is None:
        return None
    if type_name == "string" and not isinstance(value, str):
        from govkit.actions.anonymize.io import _parquet_value

        return str(_parquet_value(value))
    if type_name == "long" and (not isinstance(value, int) or isinstance(value, bool)):
        raise ValueError("an operator's output changed type within a column; give it a --rule that writes text")
    return value


def _transform_partition(
    rows: Iterable[Any], columns: Sequence[str], plans: dict[str, FieldPlan], context: OperatorContext,
    batch_size: int, salt: bytes, typed: Sequence[tuple[str, str]], tally: Any, leak_sample: int = LEAK_SAMPLE,
) -> Iterator[tuple[Any, ...]]:
    """On an executor: one partition through the local Transformer, typed for the schema."""
    transformer = Transformer(columns, plans, context)
    outcome = worker.TransformOutcome(0, {}, {})
    coerce = [type_name for _, type_name in typed]
    for row in worker.transform_rows(rows, transformer, batch_size, outcome, salt, leak_sample):
        yield tuple(_coerce(v, kind) for v, kind in zip(row, coerce, strict=True))
    tally.add({"rows": outcome.rows, "unchanged": outcome.unchanged, "changed": outcome.changed})


def _verify(reread: Any, probe: Transformer, plans: dict[str, FieldPlan], outcome: dict[str, Any], salt: bytes,
            where: str) -> list[str]:
    """The local export's checks, with the output read back by Spark (see the module docstring)."""
    columns = list(reread.columns)
    position = {c.lower(): i for i, c in enumerate(columns)}
    checked = {chosen.field: position[chosen.field.lower()] for _, _, chosen in probe.steps
               if chosen.operator in LEAK_CHECKED and chosen.field.lower() in position}
    scanned = {chosen.field: position[chosen.field.lower()] for _, _, chosen in probe.steps
               if chosen.operator not in SYNTHETIC and chosen.field.lower() in position}
    changed: dict[str, set[bytes]] = {name: outcome["changed"].get(name, set()) for name in checked}
    parts = reread.rdd.mapPartitions(partial(_verify_partition, checked=checked, scanned=scanned, changed=changed,
                                             salt=salt)).collect()
    leaks: dict[str, int] = {}
    sample: list[tuple[Any, ...]] = []
    for counts, rows in parts:
        for name, count in counts.items():
            leaks[name] = leaks.get(name, 0) + count
        sample.extend(rows[: SCAN_SAMPLE - len(sample)])
    problems = [f"{where}.{name}: {count} value(s) identical to an input value" for name, count in leaks.items()
                if count]
    probe.unchanged = dict(outcome["unchanged"])
    probe.seen = {name: set() for name in probe.seen}  # leaks were counted on the executors above
    return problems + probe.verify(columns, iter([sample]), where)


def _verify_partition(rows: Iterable[Any], checked: dict[str, int], scanned: dict[str, int],
                      changed: dict[str, set[bytes]], salt: bytes) -> Iterator[tuple[dict[str, int], list[Any]]]:
    """On an executor: output values equal to a changed input; a few rows of scanned fields."""
    leaks = dict.fromkeys(checked, 0)
    keep: list[tuple[Any, ...]] = []
    wanted = set(scanned.values())
    for row in rows:
        for name, index in checked.items():
            value = row[index]
            if isinstance(value, str) and value and changed[name] and worker.digest(salt, value) in changed[name]:
                leaks[name] += 1
        if scanned and len(keep) < SCAN_SAMPLE:
            # only the columns the re-scan reads (mask, redact, replace, generalize output)
            keep.append(tuple(v if i in wanted else None for i, v in enumerate(row)))
    yield leaks, keep
