"""Run a plan: table or query -> CSV/JSONL/Parquet, file -> file, database -> database.

Everything streams batch by batch (one batch in memory; with ``jobs`` worker processes, at
most ``2 * jobs`` batches in flight), operators run column-wise on a batch, and every run
ends with verification, on by default: the written output is read
back and each transformed field is checked for (a) values equal to an input value of that
field (a leak, whatever the operator) and (b) personal data the detection engine still
finds in operators' output that should not look personal (mask, replace, redact,
generalize; pseudonyms, fakes, hashes and ciphertexts look personal by design and are
checked by (a) only). A failed verification marks the output incomplete (a
``.INCOMPLETE`` file beside it) and the run fails.
"""

from __future__ import annotations

import itertools
import marshal
import multiprocessing
import os
import secrets
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from operator import eq
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from govkit.actions.anonymize.io import Batch, Writer, read_batches
from govkit.actions.anonymize.operators import Operator, OperatorContext, build
from govkit.actions.anonymize.plan import FieldPlan, Plan, fit_to_column
from govkit.errors import GovkitError, SourceError, UsageError
from govkit.sources.database import create_engine

#: Operators whose output is synthetic personal-looking data by design (checked for leaks only).
SYNTHETIC = frozenset({"pseudonymize", "fake", "hash", "encrypt", "decrypt", "keep"})
#: Whose output must never contain an input value of the field (membership check on read-back).
#: Not ``fake`` (it draws from a pool of real names by design), ``pseudonymize`` (a format-
#: preserving pseudonym of a resident ID may be another person's valid ID) nor ``generalize``
#: (a year generalized to a year is itself). ``UNCHANGED_CHECKED``: whose output must differ
#: from the input in the same row (text only: a permuted integer key may map to itself).
LEAK_CHECKED = frozenset({"hash", "encrypt", "mask", "redact", "replace"})
UNCHANGED_CHECKED = LEAK_CHECKED | {"fake", "pseudonymize"}
#: Operators whose fixed points are exactly the values already in their output form: ``mask``
#: masks at least half of every value (separators aside), ``redact`` and ``replace`` give a
#: constant. A value they leave as it was is anonymized already (a re-run, a value an erasure
#: masked), not personal data left behind, so it is neither "left unchanged" nor an input
#: the output must not contain.
IDEMPOTENT = frozenset({"mask", "redact", "replace"})
LEAK_SAMPLE = 50_000
SCAN_SAMPLE = 500


class VerificationFailed(GovkitError):
    """The output still shows personal data in a field the plan transformed."""

    exit_code = 1

    def __init__(self, result: ExportResult, message: str) -> None:
        super().__init__(message)
        self.result = result


@dataclass(slots=True)
class ExportResult:
    plan: Plan
    outputs: list[str] = field(default_factory=list)
    rows: int = 0
    suppressed: int = 0
    problems: list[str] = field(default_factory=list)
    verified: bool = False
    #: with ``k``: ``asset.column`` -> the generalization level the quasi-identifier reached
    generalized: dict[str, str] = field(default_factory=dict)
    #: with ``k``: whether the rows suppressed fit the suppression budget (None: no ``k``)
    budget_met: bool | None = None
    #: records that could not be parsed and were left out (JSON lines)
    malformed: int = 0
    #: with ``k``: per asset, the lattice search's report (levels, k and l reached, loss)
    anonymity: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def coarsened(self) -> dict[str, str]:
        """The quasi-identifiers actually generalized (level other than ``exact``)."""
        return {name: level for name, level in self.generalized.items() if level != "exact"}

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan.to_dict(), "outputs": self.outputs, "rows": self.rows,
                "suppressed": self.suppressed, "generalized": self.generalized, "budget_met": self.budget_met,
                "malformed": self.malformed, "problems": self.problems, "verified": self.verified,
                "anonymity": self.anonymity}


class Transformer:
    """Applies one asset's field plans to batches; remembers a sample of inputs for the leak check.

    The sample holds keyed digests (a random per-run key), not values, so it is no second
    copy of the personal data in memory.
    """

    def __init__(self, columns: Sequence[str], plans: dict[str, FieldPlan], context: OperatorContext) -> None:
        self.columns = list(columns)
        self.plans, self.context = plans, context
        self.steps: list[tuple[int, Operator, FieldPlan]] = []
        dropped: set[int] = set()
        #: field -> the parameters its operator runs with: the plan's, fitted to the column and
        #: its row (``plan.fit_to_column``; the same whoever made the plan, Spark included)
        self.fitted: dict[str, dict[str, Any]] = {}
        for index, name in enumerate(self.columns):
            chosen = plans.get(name.lower())
            if chosen is None or chosen.operator == "keep":
                continue
            params = self.fitted[name.lower()] = fit_to_column(chosen.operator, chosen.params, name, self.columns)
            operator = build(chosen.operator, params, context)
            if operator.drops_field:
                dropped.add(index)
            else:
                self.steps.append((index, operator, chosen))
        self.kept = [i for i in range(len(self.columns)) if i not in dropped]
        # the other columns of the row an operator reads (a fake's country, a street's city)
        position = {name.lower(): i for i, name in enumerate(self.columns)}
        self.row_of: dict[int, dict[str, int]] = {}
        for index, operator, _ in self.steps:
            wanted = {role: position[c.lower()] for role, c in operator.row_columns().items() if c.lower() in position}
            if wanted:
                self.row_of[index] = wanted
        #: field -> level name -> how many values the operator put above the level asked
        self.went_up: dict[str, dict[str, int]] = {}
        self._out_position = {index: position for position, index in enumerate(self.kept)}
        self.out_columns = [self.columns[i] for i in self.kept]
        self._salt = secrets.token_bytes(16)
        self.seen: dict[str, set[int]] = {chosen.field.lower(): set() for _, _, chosen in self.steps}
        self.unchanged: dict[str, int] = {}

    def fingerprint(self, value: Any) -> int:
        return hash((self._salt, str(value)))

    def __call__(self, batch: Batch) -> Batch:
        if not batch:
            return batch
        rows, unchanged = self.apply(batch)
        self.remember(batch, rows)
        self._count_unchanged(unchanged)
        self.add_counts(self.drain_counts())
        return rows

    def drain_counts(self) -> dict[str, dict[str, int]]:
        """What the operators counted since the last call (see ``Operator.take_counts``)."""
        out: dict[str, dict[str, int]] = {}
        for _, operator, chosen in self.steps:
            counts = operator.take_counts()
            if counts:
                out[chosen.field] = counts
        return out

    def add_counts(self, counts: dict[str, dict[str, int]]) -> None:
        for name, levels in counts.items():
            mine = self.went_up.setdefault(name, {})
            for level, count in levels.items():
                mine[level] = mine.get(level, 0) + count

    def notes(self, where: str) -> list[str]:
        """The plan's notes on values that went up a level (``generalize``), per field."""
        return [f"{where}.{name}: {count} value(s) went up to {level} (the value or its row could not place "
                f"them lower)" for name, levels in self.went_up.items() for level, count in sorted(levels.items())]

    def remember(self, batch: Batch, rows: Batch) -> None:
        """Add the inputs of leak-checked fields that the operator changed (``batch`` in,
        ``rows`` out) to the leak sample, as digests. An input the operator left as it was
        is already in its output form (see :data:`IDEMPOTENT`), not a value to look for."""
        for index, _, chosen in self.steps:
            if chosen.operator not in LEAK_CHECKED:
                continue
            seen = self.seen[chosen.field.lower()]
            room = LEAK_SAMPLE - len(seen)
            if room > 0:
                position = self._out_position[index]
                seen.update(self.fingerprint(row[index]) for row, out in zip(batch[:room], rows, strict=False)
                            if isinstance(row[index], str) and row[index] and row[index] != out[position])

    def apply(self, batch: Batch) -> tuple[Batch, dict[str, int]]:
        """The transformed rows and, per field, how many text values came out unchanged.

        Changes nothing in the transformer (operators may remember values they have seen), so
        worker processes can run it on their own copies (see :meth:`map`).
        """
        if not batch:
            return batch, {}
        columns = list(zip(*batch, strict=True))
        out: list[Sequence[Any]] = list(columns)
        unchanged: dict[str, int] = {}
        for index, operator, chosen in self.steps:
            values = columns[index]
            row = self.row_of.get(index)
            new = (operator.apply_with(values, chosen.entity_type, {r: columns[i] for r, i in row.items()}) if row
                   else operator.apply_many(values, chosen.entity_type))
            # map(eq) runs in C; only when something compares equal are the text values counted
            checked = chosen.operator in UNCHANGED_CHECKED and chosen.operator not in IDEMPOTENT
            if checked and any(map(eq, values, new)):
                same = sum(1 for a, b in zip(values, new, strict=True) if isinstance(a, str) and a and a == b)
                if same:
                    unchanged[chosen.field] = same
            out[index] = new
        if len(self.kept) == len(out):
            return list(zip(*out, strict=True)), unchanged
        return list(zip(*(out[i] for i in self.kept), strict=True)), unchanged

    def _count_unchanged(self, unchanged: dict[str, int]) -> None:
        for name, same in unchanged.items():
            self.unchanged[name] = self.unchanged.get(name, 0) + same

    def map(self, batches: Iterable[Batch], jobs: int = 1) -> Iterator[Batch]:
        """``self(batch)`` for each batch, in order; with ``jobs`` > 1 in worker processes.

        The parent keeps the leak sample and the counts and does the reading and writing;
        workers (forked where the platform allows, so the keys are inherited rather than
        sent) transform whole batches. At most ``2 * jobs`` batches are in flight, so memory
        stays constant whatever the input size. A single-batch input never starts a pool.
        """
        it = iter(batches)
        first = next(it, None)
        if first is None:
            return
        second = next(it, None)
        if jobs <= 1 or second is None or not self.steps:
            yield self(first)
            if second is not None:
                yield self(second)
            yield from (self(b) for b in it)
            return
        yield from _parallel(self, itertools.chain((first, second), it), jobs)

    def verify(self, columns: Sequence[str], batches: Iterator[Batch], where: str) -> list[str]:
        """Check the written output (see the module docstring); problems never quote values."""
        from govkit.detect.engine import get_engine

        position = {c.lower(): i for i, c in enumerate(columns)}
        leaks: dict[str, int] = {}
        samples: dict[str, list[str]] = {}
        for batch in batches:
            for _, _, chosen in self.steps:
                index = position.get(chosen.field.lower())
                if index is None:
                    continue
                seen = self.seen[chosen.field.lower()]
                fingerprint = self.fingerprint
                hits = sum(1 for row in batch if isinstance(row[index], str) and row[index]
                           and fingerprint(row[index]) in seen) if seen else 0
                if hits:
                    leaks[chosen.field] = leaks.get(chosen.field, 0) + hits
                if chosen.operator not in SYNTHETIC:
                    sample = samples.setdefault(chosen.field, [])
                    sample.extend(str(row[index]) for row in batch[: SCAN_SAMPLE - len(sample)] if row[index])
        problems = [f"{where}.{name}: {count} value(s) identical to an input value" for name, count in leaks.items()]
        problems += [f"{where}.{name}: {count} value(s) left unchanged" for name, count in self.unchanged.items()]
        if samples:
            engine = get_engine(None)
            by_field = {chosen.field: chosen for _, _, chosen in self.steps}
            for name, values in samples.items():
                wanted = by_field[name].entity_type
                entities = frozenset({wanted}) if wanted else None
                found = sum(1 for spans in engine.find_patterns(values, entities) if spans)
                if found:
                    problems.append(f"{where}.{name}: {found} of {len(values)} sampled value(s) still show "
                                    f"{wanted or 'personal data'} after {by_field[name].spec}")
        return problems


#: Batches in flight per worker process (sent and not yet written): enough that a worker
#: never waits for the next batch, few enough that memory stays small.
IN_FLIGHT = 2

#: A worker process's transformer, made once by :func:`_start_worker`.
_WORKER: Transformer | None = None


def _start_worker(columns: Sequence[str], plans: dict[str, FieldPlan], context: OperatorContext) -> None:
    global _WORKER
    _WORKER = Transformer(columns, plans, context)


def _work(packed: bytes | Batch) -> tuple[bytes | Batch, dict[str, int], dict[str, dict[str, int]]]:
    assert _WORKER is not None
    rows, unchanged = _WORKER.apply(_unpack(packed))
    return _pack(rows), unchanged, _WORKER.drain_counts()


def _pack(batch: Batch) -> bytes | Batch:
    """A batch for the trip between processes: ``marshal`` when the values allow it.

    Pickling ten thousand rows of text costs more than transforming a good part of them;
    ``marshal`` writes them about fifteen times faster. Dates, decimals and the like are
    not marshallable: then the batch is left to pickle.
    """
    try:
        return marshal.dumps(batch)
    except ValueError:
        return batch


def _unpack(packed: bytes | Batch) -> Batch:
    return marshal.loads(packed) if isinstance(packed, bytes) else packed


def _parallel(transform: Transformer, batches: Iterator[Batch], jobs: int) -> Iterator[Batch]:
    """:meth:`Transformer.map` in ``jobs`` processes; order kept, ``2 * jobs`` batches in flight."""
    methods = multiprocessing.get_all_start_methods()
    mp_context = multiprocessing.get_context("fork" if "fork" in methods else None)
    pending: deque[tuple[Batch, Future[tuple[bytes | Batch, dict[str, int], dict[str, dict[str, int]]]]]] = deque()
    with ProcessPoolExecutor(jobs, mp_context=mp_context, initializer=_start_worker,
                             initargs=(transform.columns, transform.plans, transform.context)) as pool:
        try:
            for batch in batches:
                pending.append((batch, pool.submit(_work, _pack(batch))))
                if len(pending) >= IN_FLIGHT * jobs:
                    yield _collect(transform, *pending.popleft())
            while pending:
                yield _collect(transform, *pending.popleft())
        finally:
            for _, future in pending:
                future.cancel()


def _collect(transform: Transformer, batch: Batch,
             future: Future[tuple[bytes | Batch, dict[str, int], dict[str, dict[str, int]]]]) -> Batch:
    packed, unchanged, counts = future.result()
    rows = _unpack(packed)
    transform.remember(batch, rows)
    transform._count_unchanged(unchanged)
    transform.add_counts(counts)
    return rows


def default_jobs() -> int:
    """The CPUs this process may use (what ``jobs`` defaults to)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def _mark_incomplete(path: Path, problems: list[str]) -> None:
    marker = path.with_name(path.name + ".INCOMPLETE")
    marker.write_text("verification failed; do not hand this output over:\n" + "\n".join(problems) + "\n",
                      encoding="utf-8")


def _clear_marker(path: Path) -> None:
    path.with_name(path.name + ".INCOMPLETE").unlink(missing_ok=True)


def export_rows(
    columns: list[str],
    opener: Callable[[], Iterator[Batch]],
    plans: dict[str, FieldPlan],
    target: Path,
    context: OperatorContext,
    result: ExportResult,
    *,
    where: str,
    fmt: str | None = None,
    k: int | None = None,
    quasi_identifiers: Sequence[str] = (),
    generalize: bool = True,
    max_suppression: float = 0.0,
    verify: bool = True,
    jobs: int | None = None,
    l_diversity: int | None = None,
    sensitive: str | None = None,
) -> None:
    """Transform the rows ``opener`` yields into the file ``target``, then verify it.

    ``jobs``: worker processes for the transformation (default :func:`default_jobs`; 1 runs
    everything in this process); see :meth:`Transformer.map`.

    With ``k``, a first pass counts the distinct quasi-identifier tuples of the *transformed*
    rows (with the row columns their hierarchies read, and the ``sensitive`` value for
    ``l_diversity``; memory: the distinct tuples, not the rows); :func:`.lattice.search`
    chooses the generalization levels of least information loss that meet k (and l) within
    the ``max_suppression`` budget (``generalize=False``: suppression only), and the second
    pass writes the quasi-identifiers generalized and leaves out the rows of classes still
    too small. ``result.generalized`` records the level each quasi-identifier reached,
    ``result.suppressed`` the rows left out, ``result.anonymity`` the search's report (k and
    l reached, loss), and verification also measures the written output's k (and l).
    """
    transform = Transformer(columns, plans, context)
    jobs = default_jobs() if jobs is None else max(1, jobs)
    kplan = None
    if k is not None:
        if not quasi_identifiers:
            raise UsageError("--k needs --quasi-identifiers")
        kplan = _lattice_plan(transform, opener, jobs, list(quasi_identifiers), k, l_diversity, sensitive,
                              generalize, max_suppression)
        result.budget_met = kplan.budget_met and result.budget_met is not False
        for name, level in kplan.reached.items():
            result.generalized[f"{where}.{name}"] = level
        result.anonymity[where] = kplan.to_dict()
        transform = Transformer(columns, plans, context)  # a fresh leak sample for the real pass
    writer = Writer(target, transform.out_columns, fmt)
    _mark_incomplete(target, ["the export did not finish"])
    try:
        batches = transform.map(opener(), jobs)
        for batch, dropped in kplan.apply(transform.out_columns, batches) if kplan is not None else (
                (b, 0) for b in batches):
            writer.write(batch)
            result.suppressed += dropped
    finally:
        writer.close()
    result.rows += writer.rows
    result.outputs.append(str(target))
    result.plan.notes.extend(transform.notes(where))
    problems: list[str] = []
    if verify:
        out_columns, out_batches = read_batches(target, fmt=writer.format)
        problems = transform.verify(out_columns, out_batches, where)
        if k is not None:  # the output itself must be k-anonymous (the source may change between passes)
            from govkit.actions.risk import measure

            report = measure(str(target), lambda: read_batches(target, fmt=writer.format), quasi_identifiers, k=k,
                             sensitive=sensitive if l_diversity else None, list_rows=False)
            if not report.k_anonymous:
                problems.append(f"{where}: the output is not {k}-anonymous on {', '.join(quasi_identifiers)} "
                                f"(smallest class {report.k})")
            if l_diversity and report.rows and (report.l_diversity or 0) < l_diversity:
                problems.append(f"{where}: the output is not {l_diversity}-diverse in {sensitive} "
                                f"(l = {report.l_diversity})")
    result.problems.extend(problems)
    if problems:
        _mark_incomplete(target, problems)
    else:
        _clear_marker(target)


def _lattice_plan(transform: Transformer, opener: Callable[[], Iterator[Batch]], jobs: int,
                  quasi_identifiers: list[str], k: int, l_diversity: int | None, sensitive: str | None,
                  generalize: bool, max_suppression: float) -> Any:
    """The first pass of a ``k`` export: count the distinct tuples, choose the hierarchies, search."""
    from govkit.actions.anonymize import lattice

    columns = transform.out_columns
    known, context = lattice.prepare(columns, quasi_identifiers)
    sizes = lattice.count(columns, transform.map(opener(), jobs), quasi_identifiers, context, sensitive)
    hierarchies = lattice.finish(known, quasi_identifiers, sizes)
    plan = lattice.search(columns, sizes, quasi_identifiers, hierarchies, context, k, l_div=l_diversity,
                          sensitive=sensitive, max_suppression=max_suppression, generalize=generalize)
    # A location column generalized to its row's quasi-identifier (a street to the row's city)
    # holds a copy of it: the copy follows the quasi-identifier's level.
    qis = {q.lower(): q for q in quasi_identifiers}
    for chosen in transform.plans.values():
        params = transform.fitted.get(chosen.field.lower(), chosen.params)
        if chosen.operator == "generalize" and chosen.field.lower() not in qis:
            source = params.get(f"{params.get('to')}_from")
            if isinstance(source, str) and source.lower() in qis:
                plan.followers[chosen.field] = qis[source.lower()]
    return plan


# -- database sources ---------------------------------------------------------------------------


def _full_select(source: Any, table: Any) -> sa.Select[Any]:
    """Every column, untruncated (the scanner's reader cuts long texts; an export must not)."""
    columns: list[Any] = [sa.column(c.name) for c in table.columns]
    return sa.select(*columns).select_from(
        sa.table(table.name, *[sa.column(c.name) for c in table.columns], schema=table.schema))


def stream_table(
    source: Any, table: Any, batch_size: int = 5000, select: sa.Select[Any] | None = None,
) -> Iterator[Batch]:
    """Every row of ``table``; ``select`` (typed, from reflection) when values must convert."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with source.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, max_row_buffer=batch_size).execute(
                _full_select(source, table) if select is None else select)
            for part in result.partitions(batch_size):
                yield [tuple(r) for r in part]
    except SQLAlchemyError as exc:
        raise source.error(exc, f"cannot read {table.qualified}") from None


def stream_query(source: Any, query: str, batch_size: int = 5000) -> tuple[list[str], Callable[[], Iterator[Batch]]]:
    """Columns and a re-openable stream of a read-only query's rows.

    The query must be one SELECT (or WITH ... SELECT), and it runs in a read-only
    transaction whatever it says (see :mod:`govkit.actions.anonymize.readonly`). An error
    is one line that names the source without its password and quotes no literal of the query.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from govkit.actions.anonymize.readonly import check_read_only, read_only, scrub_error

    check_read_only(query, source.dialect)
    # every ':' escaped: the query has no bind parameters, and ':' in a string is no parameter
    statement = sa.text(query.replace(":", "\\:"))

    def failed(exc: SQLAlchemyError) -> GovkitError:
        prefix = f"{source.display}: cannot run the query: "
        message = str(source.error(exc, "cannot run the query"))
        return SourceError(prefix + scrub_error(message.removeprefix(prefix), query, source.dialect))

    try:
        with read_only(source.engine) as conn:
            columns = list(conn.execute(statement).keys())
    except SQLAlchemyError as exc:
        raise failed(exc) from None

    def batches() -> Iterator[Batch]:
        try:
            with read_only(source.engine) as conn:
                result = conn.execution_options(stream_results=True, max_row_buffer=batch_size).execute(statement)
                for part in result.partitions(batch_size):
                    yield [tuple(r) for r in part]
        except SQLAlchemyError as exc:
            raise failed(exc) from None

    return columns, batches


def copy_database(
    source: Any, target_url: str, tables: Sequence[Any], plan: Plan, context: OperatorContext, result: ExportResult,
    *, batch_size: int = 5000, verify: bool = True,
) -> None:
    """Copy ``tables`` of ``source`` into an empty database at ``target_url``, anonymized.

    The schema comes from SQLAlchemy reflection of the source and ``create_all`` on the
    target, so primary keys, foreign keys, NOT NULL and unique constraints are kept; the
    tables are filled parents first. A transformed non-key text column becomes TEXT, since a
    pseudonym may be longer than the original's declared length. Each batch is its own
    transaction; on failure the output is marked incomplete.
    """
    from sqlalchemy.exc import SQLAlchemyError

    wanted = {t.name for t in tables}
    metadata = sa.MetaData()
    try:
        schema = tables[0].schema if tables else None
        metadata.reflect(source.engine, schema=schema, only=sorted(wanted))
    except SQLAlchemyError as exc:
        raise source.error(exc, "cannot read the schema") from None
    target = _target_engine(target_url)
    result.outputs.append(target.url.render_as_string(hide_password=True))
    try:
        existing = set(sa.inspect(target).get_table_names())
        clash = sorted(existing & wanted)
        if clash:
            raise UsageError(f"the target already has table(s) {', '.join(clash)}; anonymize into an empty database")
        out_meta = sa.MetaData()
        transformers: dict[str, Transformer] = {}
        by_name = {t.name: t for t in tables}
        # reflect() also brings in tables the selected ones reference; only the selected
        # ones are copied, and references to the others are not recreated.
        selected = [t for t in metadata.sorted_tables if t.name in by_name]
        for table in selected:
            info = by_name[table.name]
            plans = plan.for_asset(info.qualified)
            transformers[table.name] = Transformer([c.name for c in info.columns], plans, context)
            dropped = {c.lower() for c, p in plans.items() if build(p.operator, p.params, context).drops_field}
            key_columns = {c.name for c in table.primary_key.columns} | {
                fk.parent.name for fk in table.foreign_keys}
            new_columns = []
            for column in table.columns:
                if column.name.lower() in dropped:
                    continue
                column_type = _portable(column.type)
                chosen = plans.get(column.name.lower())
                # A transformed value may change type (a birth date generalized to "1962", a
                # number to a range) or outgrow its declared length: store it as TEXT.
                if chosen is not None and chosen.operator != "keep" and column.name not in key_columns:
                    column_type = sa.Text()
                new_columns.append(sa.Column(column.name, column_type, primary_key=column.primary_key,
                                             nullable=column.nullable, autoincrement=False))
            kept = {c.name for c in new_columns}
            # A UNIQUE column whose operator can map two values to one (a masked e-mail) would
            # stop the copy halfway: its uniqueness is not copied, and the plan says so.
            collapsing = _collapsing(info, plans, context)
            constraints: list[Any] = [
                sa.ForeignKeyConstraint([e.parent.name for e in fk.elements],
                                        [f"{fk.referred_table.name}.{e.column.name}" for e in fk.elements])
                for fk in table.foreign_key_constraints
                if fk.referred_table.name in by_name
            ]
            for uc in table.constraints:
                if isinstance(uc, sa.UniqueConstraint) and {c.name for c in uc.columns} <= kept:
                    if collapsing & {c.name for c in uc.columns}:
                        _unique_dropped(plan, info.qualified, [c.name for c in uc.columns])
                    else:
                        constraints.append(sa.UniqueConstraint(*[c.name for c in uc.columns]))
            out_table = sa.Table(table.name, out_meta, *new_columns, *constraints)
            for index in table.indexes:
                names = [c.name for c in index.columns]
                if names and set(names) <= kept:
                    unique = bool(index.unique)
                    if unique and collapsing & set(names):
                        _unique_dropped(plan, info.qualified, names)
                        unique = False
                    sa.Index(index.name, *[out_table.c[n] for n in names], unique=unique)
        out_meta.create_all(target)
        for table in selected:
            info = by_name[table.name]
            transform = transformers[table.name]
            out_table = out_meta.tables[table.name]
            typed = sa.select(*[table.c[c.name] for c in info.columns])
            for batch in stream_table(source, info, batch_size, typed):
                rows = transform(batch)
                with target.begin() as conn:
                    conn.execute(out_table.insert(), [dict(zip(transform.out_columns, r, strict=True)) for r in rows])
                result.rows += len(rows)
            result.plan.notes.extend(transform.notes(info.qualified))
            if verify:
                select = sa.select(*[out_table.c[c] for c in transform.out_columns])
                result.problems.extend(
                    transform.verify(transform.out_columns, _stream(target, select, batch_size), info.qualified))
    except SQLAlchemyError as exc:
        detail = source.scrub(str(exc).splitlines()[0])[:300]
        raise UsageError(f"cannot write the target database: {detail}") from None
    finally:
        target.dispose()


def _collapsing(info: Any, plans: dict[str, FieldPlan], context: OperatorContext) -> set[str]:
    """The columns of ``info`` whose planned operator is not injective (see ``plan.not_injective``)."""
    from govkit.actions.anonymize.plan import not_injective

    out = set()
    for column in info.columns:
        chosen = plans.get(column.name.lower())
        if chosen is not None and not_injective(chosen, build(chosen.operator, chosen.params, context),
                                                column.kind) is not None:
            out.add(column.name)
    return out


def _unique_dropped(plan: Plan, table: str, names: Sequence[str]) -> None:
    note = (f"{table}({', '.join(names)}) is unique in the source; its operator can give two rows one value, "
            f"so the copy does not keep that uniqueness")
    if note not in plan.notes:
        plan.notes.append(note)


def _target_engine(url: str) -> sa.Engine:
    """The engine of ``--to URL``; a URL no driver takes is a one-line error (password masked)."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from govkit.sources.database import redact

    try:
        return create_engine(url)
    except NoSuchModuleError:
        scheme = url.split("://", 1)[0]
        raise UsageError(f"--to {redact(url)}: unknown database type {scheme!r}") from None
    except (ArgumentError, ImportError, ValueError) as exc:
        raise UsageError(f"--to {redact(url)}: not a usable database URL ({type(exc).__name__})") from None


def _stream(engine: sa.Engine, select: sa.Select[Any], batch_size: int) -> Iterator[Batch]:
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, max_row_buffer=batch_size).execute(select)
        for part in result.partitions(batch_size):
            yield [tuple(r) for r in part]


def _portable(sql_type: Any) -> Any:
    """A reflected type the target dialect can create (dialect-specific types -> generic).

    A type reflection could not name (``NullType``: a ``mediumblob`` read back from a SQLite
    copy) has no DDL; it becomes a binary column, what such columns hold in practice.
    """
    if isinstance(sql_type, sa.types.NullType):
        return sa.LargeBinary()
    try:
        return sql_type.as_generic()
    except NotImplementedError:
        return sql_type
