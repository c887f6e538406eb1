"""File -> file for JSON: values rewritten where the inventory's JSON paths point.

The file scanner names every scalar of a JSON file by its path (``$.user.email``, array
elements as ``[*]``: ``$.items[*].phone``, a top-level array ``$[*].email``, odd keys
``$['e-mail']``; see :mod:`govkit.sources.formats.jsonfile`). This module rewrites the values
at those paths with the planned operators and leaves everything else as it was: keys keep
their order, non-personal values their content.

- **JSON Lines** (``.jsonl``, ``.ndjson``, or a ``.json`` holding one record a line) stream
  line by line, a batch of lines at a time, so memory does not grow with the file;
  operators run once per path per batch (``apply_many``).
- **JSON documents** (``.json``) stream as parser events (ijson), written back token by
  token, so a 2 GB document never sits in memory. Values go through the operator one by
  one (there is no batch to gather without holding the document).
- ``.gz`` of either is read and, when the target ends in ``.gz``, written compressed.

Which path gets which operator: the plan of the inventory's paths (policy, then ``--rule``).
A ``--rule`` whose field starts with ``$`` names a path (``$.user.email=mask``,
``$.items[*].phone=redact``; ``*`` matches any run of characters); any other field names a
key wherever it sits (``email=mask`` matches ``$.email`` and ``$.user.email``), including
paths the inventory does not know, which join the plan as they are met. A plan on an object
or array applies to every value below it unless a deeper path has its own; ``drop`` removes
an object key, and sets an array element to ``null`` (so positions keep their meaning).

Malformed JSON lines are **left out and counted** (``ExportResult.malformed``, a note in the
plan, the audit record), never copied: a line that does not parse cannot be rewritten path
by path, so copying it would hand over whatever personal data it holds. Failing the whole
run for one torn line in a million-line log would make real exports impossible; the count
says how much is missing. A JSON *document* that does not parse stops the run (exit 2)
and the partial output is deleted: a document has no lines to leave out.

JSON nested deeper than ``[limits].json_depth`` (512 levels by default) stops the run the
same way (exit 2, naming the file, the line for JSON Lines, and the limit; nothing
written): the document's parser keeps a path per open container, and 600 KB of
``{"a":`` once grew past 13 GB. The check runs on the parser's events (documents) and on
each line before it is parsed (:func:`govkit.sources.formats.jsonfile.loads`), so memory
stays bounded by the limit, not by the nesting.

Verification (on by default) reads the output back like the tabular exports do: values at
a transformed path equal to an input value the run replaced (operators in ``LEAK_CHECKED``),
values left unchanged, and personal data the detection engine still finds in a sample of
the output of operators that should leave none.
"""

from __future__ import annotations

import fnmatch
import gzip
import json
import secrets
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from govkit.actions.anonymize.export import (
    IDEMPOTENT,
    LEAK_CHECKED,
    LEAK_SAMPLE,
    SCAN_SAMPLE,
    SYNTHETIC,
    UNCHANGED_CHECKED,
    ExportResult,
    _clear_marker,
    _mark_incomplete,
)
from govkit.actions.anonymize.operators import Operator, OperatorContext, build
from govkit.actions.anonymize.plan import FieldPlan, Plan, Rule
from govkit.detect.names import hints_for
from govkit.errors import UsageError
from govkit.sources.formats.jsonfile import MAX_DEPTH, MAX_PATH_CHARS, JsonTooDeep, depth_limit, loads, path_key

LINE_SUFFIXES = frozenset({".jsonl", ".ndjson", ".jsonlines"})
JSON_SUFFIXES = LINE_SUFFIXES | {".json"}
BATCH_LINES = 1000


def _base_suffix(path: Path) -> str:
    """The suffix under a ``.gz``: ``.jsonl`` for ``a.jsonl.gz``."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def is_json(path: Path) -> bool:
    return _base_suffix(path) in JSON_SUFFIXES


#: How much of a ``.json`` file is read to tell JSON Lines from a document (a minified
#: document is one line of any length: never read it whole for that).
SNIFF_CHARS = 1 << 16


def _open_text(path: Path, mode: str) -> IO[str]:
    """UTF-8 text (a BOM is skipped on reading), gzipped when the name ends in ``.gz``."""
    encoding = "utf-8-sig" if mode == "r" else "utf-8"
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, mode + "t", encoding=encoding, newline="")  # type: ignore[return-value]
    return path.open(mode, encoding=encoding, newline="")


def _is_lines(path: Path) -> bool:
    """JSON Lines by suffix, or a ``.json`` whose first two non-empty lines are whole records."""
    if _base_suffix(path) in LINE_SUFFIXES:
        return True
    with _open_text(path, "r") as handle:
        head = handle.read(SNIFF_CHARS)
    lines = [line.strip() for line in head.split("\n")[:-1] if line.strip()][:2]
    if len(lines) < 2:
        return False
    try:
        return all(line.startswith(("{", "[")) and loads(line) is not None for line in lines)
    except ValueError:  # JsonTooDeep as well: the run reads it as a document and stops there
        return False


# -- which path gets which plan ------------------------------------------------------------------


def _path_pattern(pattern: str) -> str:
    """A ``$`` rule as an fnmatch pattern: brackets literal, ``*`` any run of characters."""
    return pattern.replace("[", "[[]")


def rule_matches(rule: Rule, asset: str, path: str) -> bool:
    """``$...`` rules name a path; others name a key anywhere (and, optionally, the file)."""
    if rule.field.startswith("$"):
        return path == rule.field or fnmatch.fnmatchcase(path, _path_pattern(rule.field))
    if not fnmatch.fnmatchcase(asset.lower(), rule.asset.lower()):
        return False
    last = _last_key(path)
    return last is not None and fnmatch.fnmatchcase(last.lower(), rule.field.lower())


def _last_key(path: str) -> str | None:
    """The last object key of ``path`` (``email`` of ``$.user.email``, ``e-mail`` of ``$['e-mail']``)."""
    step = path
    while step.endswith("[*]"):
        step = step[:-3]
    if step.endswith("']"):
        start = step.rfind("['")
        return step[start + 2:-2].replace("\\'", "'").replace("\\\\", "\\") if start >= 0 else None
    dot = step.rfind(".")
    return step[dot + 1:] if dot >= 0 else None


class PathPlans:
    """Path -> its field plan: the plan's paths, and ``--rule``s applied to paths met later."""

    def __init__(self, plan: Plan, asset: str, rules: list[Rule]) -> None:
        self.plan = plan
        self.asset = asset
        self.rules = rules
        self.known: dict[str, FieldPlan | None] = {p.field: p for p in plan.fields.values()}

    def __call__(self, path: str) -> FieldPlan | None:
        try:
            return self.known[path]
        except KeyError:
            pass
        rule = next((r for r in reversed(self.rules) if rule_matches(r, self.asset, path)), None)
        chosen = None
        if rule is not None:
            chosen = FieldPlan(self.asset, path, rule.operator, rule.params, _entity_of(path),
                               f"--rule {rule.text}")
            self.plan.add(chosen)
        self.known[path] = chosen
        return chosen


def _entity_of(path: str) -> str | None:
    key = _last_key(path)
    hints = [h for h in hints_for(key) if h.effective_strength >= 0.5] if key else []
    return hints[0].entity_type if hints else None


def json_plan(base: Plan, asset: str, paths: list[str], rules: list[Rule]) -> Plan:
    """``base`` (the policy's plan of the inventory's ``paths``) with ``rules`` laid over it."""
    plan = Plan(base.source, notes=list(base.notes))
    for chosen in base.fields.values():
        plan.add(chosen)
    by_path = {p.field: p for p in plan.fields.values()}
    # a $ rule naming one path (no wildcard other than [*]) joins the plan before any data is read
    named = [r.field for r in rules if r.field.startswith("$") and not any(
        c in r.field.replace("[*]", "") for c in "*?")]
    for path in [*paths, *(n for n in named if n not in paths)]:
        rule = next((r for r in reversed(rules) if rule_matches(r, asset, path)), None)
        if rule is None:
            continue
        entity = by_path[path].entity_type if path in by_path else _entity_of(path)
        plan.add(FieldPlan(asset, path, rule.operator, rule.params, entity, f"--rule {rule.text}"))
    if any(not r.field.startswith("$") for r in rules):
        plan.notes.append("a --rule naming a key also applies to every path that ends in that key")
    return plan


# -- rewriting -----------------------------------------------------------------------------------


class _Checks:
    """Per planned path: keyed digests of replaced inputs, unchanged counts, the verification.

    Keyed by the plan's path (``FieldPlan.field``), so values under an object planned as a
    whole are checked against that plan; ``applied`` maps each path met to its plan.
    """

    def __init__(self) -> None:
        self._salt = secrets.token_bytes(16)
        self.seen: dict[str, set[int]] = {}
        self.unchanged: dict[str, int] = {}
        self.applied: dict[str, FieldPlan] = {}

    def fingerprint(self, value: Any) -> int:
        return hash((self._salt, str(value)))

    def note(self, chosen: FieldPlan, old: list[Any], new: list[Any]) -> None:
        """Remember what this batch replaced. A value the operator maps to itself is not
        remembered as an input, and is not "left unchanged" for a masking operator
        (:data:`IDEMPOTENT`): it is already in the operator's output form (a re-run, a value
        an erasure masked), and counting it would fail the verification of clean output."""
        if chosen.operator in LEAK_CHECKED:
            seen = self.seen.setdefault(chosen.field, set())
            if len(seen) < LEAK_SAMPLE:
                seen.update(self.fingerprint(a) for a, b in zip(old, new, strict=True)
                            if isinstance(a, str) and a and a != b)
        if chosen.operator in UNCHANGED_CHECKED and chosen.operator not in IDEMPOTENT:
            same = sum(1 for a, b in zip(old, new, strict=True) if isinstance(a, str) and a and a == b)
            if same:
                self.unchanged[chosen.field] = self.unchanged.get(chosen.field, 0) + same

    def verify(self, values: Iterator[tuple[str, Any]], dropping: set[str], where: str) -> list[str]:
        """Check the ``(path, value)`` pairs read back from the output; problems never quote values.

        ``dropping``: the plans (by path) whose values must be gone (absent, or null in arrays).
        """
        from govkit.detect.engine import get_engine

        leaks: dict[str, int] = {}
        left: dict[str, int] = {}
        samples: dict[str, list[str]] = {}
        plans: dict[str, FieldPlan] = {}
        for path, value in values:
            chosen = self.applied.get(path)
            if chosen is None or value is None or value == "":
                continue
            field = chosen.field
            plans[field] = chosen
            if field in dropping:
                left[field] = left.get(field, 0) + 1
                continue
            if isinstance(value, str) and self.fingerprint(value) in self.seen.get(field, ()):
                leaks[field] = leaks.get(field, 0) + 1
            if chosen.operator not in SYNTHETIC:
                sample = samples.setdefault(field, [])
                if len(sample) < SCAN_SAMPLE:
                    sample.append(str(value))
        problems = [f"{where}:{path}: {n} value(s) identical to an input value" for path, n in leaks.items()]
        problems += [f"{where}:{path}: {n} value(s) left unchanged" for path, n in self.unchanged.items()]
        problems += [f"{where}:{path}: {n} value(s) still present after drop" for path, n in left.items()]
        if samples:
            engine = get_engine(None)
            for path, sample in samples.items():
                wanted = plans[path].entity_type
                found = sum(1 for spans in engine.find_patterns(sample, frozenset({wanted}) if wanted else None)
                            if spans)
                if found:
                    problems.append(f"{where}:{path}: {found} of {len(sample)} sampled value(s) still show "
                                    f"{wanted or 'personal data'} after {plans[path].spec}")
        return problems


class _Operators:
    """The operator of each field plan, built once."""

    def __init__(self, context: OperatorContext) -> None:
        self.context = context
        self._built: dict[int, Operator] = {}

    def __call__(self, chosen: FieldPlan) -> Operator:
        operator = self._built.get(id(chosen))
        if operator is None:
            operator = self._built[id(chosen)] = build(chosen.operator, chosen.params, self.context)
        return operator


def _active(chosen: FieldPlan | None) -> bool:
    return chosen is not None and chosen.operator != "keep"


_MISSING: Any = object()
#: Child paths remembered per (parent path, key); emptied when full (documents keyed by id).
CHILD_PATHS = 100_000


class _Collector:
    """Walks records and gathers the places each plan transforms, batch by batch.

    ``slots`` (plan -> places) and ``drops`` are per batch (:meth:`take`); ``applied``
    (path -> the plan it got, for verification) is per run. Scalars are handled in the
    loop over their container, and child paths are cached: most of a record is scalars
    under paths already seen, and a call and a string concatenation per value was most of
    the cost of a JSON Lines run.
    """

    def __init__(self, resolve: PathPlans, operators: _Operators, applied: dict[str, FieldPlan] | None) -> None:
        self.resolve = resolve
        self.operators = operators
        self.applied = applied
        self.slots: dict[int, tuple[FieldPlan, list[tuple[Any, Any]]]] = {}
        self.drops: list[tuple[Any, Any]] = []
        self._children: dict[tuple[str, str], str] = {}
        self._dropping: dict[int, bool] = {}

    def take(self) -> tuple[list[tuple[FieldPlan, list[tuple[Any, Any]]]], list[tuple[Any, Any]]]:
        slots, drops = list(self.slots.values()), self.drops
        self.slots, self.drops = {}, []
        return slots, drops

    def _plan(self, path: str, inherited: FieldPlan | None) -> FieldPlan | None:
        own = self.resolve.known.get(path, _MISSING)
        if own is _MISSING:
            own = self.resolve(path)
        return inherited if own is None else own

    def _drops(self, chosen: FieldPlan) -> bool:
        dropping = self._dropping.get(id(chosen))
        if dropping is None:
            dropping = self._dropping[id(chosen)] = self.operators(chosen).drops_field
        return dropping

    def _place(self, parent: Any, key: Any, path: str, value: Any, chosen: FieldPlan | None) -> None:
        """A scalar (or a container too deep to walk) under ``chosen``."""
        if chosen is None or chosen.operator == "keep":
            return
        if self._drops(chosen):
            self.drops.append((parent, key))
        elif value is not None:
            self.slots.setdefault(id(chosen), (chosen, []))[1].append((parent, key))
        else:
            return
        if self.applied is not None:
            self.applied[path] = chosen

    def visit(self, parent: Any, key: Any, path: str, inherited: FieldPlan | None, depth: int = 0) -> None:
        value = parent[key]
        chosen = self._plan(path, inherited)
        deep = depth >= MAX_DEPTH
        if deep or not isinstance(value, dict | list) or (
                chosen is not None and chosen.operator != "keep" and self._drops(chosen)):
            self._place(parent, key, path, value, chosen)
            return
        known, resolve, place = self.resolve.known, self.resolve, self._place
        if isinstance(value, dict):
            children = self._children
            if len(children) > CHILD_PATHS:
                children.clear()
            for name, item in list(value.items()):
                child = children.get((path, name))
                if child is None:
                    child = children[(path, name)] = path + path_key(str(name))
                if isinstance(item, dict | list):
                    self.visit(value, name, child, chosen, depth + 1)
                    continue
                own = known.get(child, _MISSING)  # inlined _plan: most values are under no plan
                if own is _MISSING:
                    own = resolve(child)
                if own is not None or chosen is not None:
                    place(value, name, child, item, chosen if own is None else own)
        else:
            child = path + "[*]"
            for index, item in enumerate(value):
                if isinstance(item, dict | list):
                    self.visit(value, index, child, chosen, depth + 1)
                else:
                    place(value, index, child, item, self._plan(child, chosen))


def _apply_drops(drops: list[tuple[Any, Any]]) -> None:
    for parent, key in drops:
        if isinstance(parent, dict):
            parent.pop(key, None)
        else:
            parent[key] = None  # an array element: null keeps the positions of the others


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def rewrite_lines(
    path: Path, target: Path, resolve: PathPlans, operators: _Operators, checks: _Checks | None, result: ExportResult,
    batch: int = BATCH_LINES,
) -> None:
    """JSON Lines, a batch of lines at a time; malformed lines are left out and counted."""
    collector = _Collector(resolve, operators, None if checks is None else checks.applied)
    with _open_text(path, "r") as source, _open_text(target, "w") as out:
        lines: list[str] = []
        done = 0
        for line in source:
            lines.append(line)
            if len(lines) >= batch:
                _rewrite_batch(lines, out, collector, checks, result, done)
                done += len(lines)
                lines = []
        if lines:
            _rewrite_batch(lines, out, collector, checks, result, done)


def _rewrite_batch(lines: list[str], out: IO[str], collector: _Collector, checks: _Checks | None,
                   result: ExportResult, done: int = 0) -> None:
    holders: list[list[Any]] = []
    for number, line in enumerate(lines, done + 1):
        if not line.strip():
            continue
        try:
            record = loads(line)
        except JsonTooDeep as exc:
            exc.line = number
            raise
        except ValueError:
            result.malformed += 1  # left out: it cannot be rewritten path by path (module docstring)
            continue
        holder = [record]
        holders.append(holder)
        collector.visit(holder, 0, "$", None)
    slots, drops = collector.take()
    for chosen, places in slots:
        old = [parent[key] for parent, key in places]
        new = collector.operators(chosen).apply_many(old, chosen.entity_type)
        if checks is not None:
            checks.note(chosen, old, new)
        for (parent, key), value in zip(places, new, strict=True):
            parent[key] = value
    _apply_drops(drops)
    out.write("".join(_dumps(holder[0]) + "\n" for holder in holders))
    result.rows += len(holders)


def _events(stream: IO[bytes]) -> Iterator[tuple[str, str, Any, str | None]]:
    """(path, event, value, object key or None) of a JSON document, paths as the scanner writes them.

    Numbers come as ``int`` or ``Decimal`` (ijson's default), so a number written back keeps
    its digits.
    """
    import ijson  # type: ignore[import-untyped]

    stack: list[tuple[str, bool]] = []  # (path, is an array) of the open containers
    key = ""
    limit = depth_limit()
    # basic_parse: no prefix string built per event (ijson.parse's cost grows with the depth)
    for event, value in ijson.basic_parse(stream):
        if event == "map_key":
            key = str(value)
            continue
        if event in ("end_map", "end_array"):
            stack.pop()
            yield "", event, None, None
            continue
        if not stack:
            here, name = "$", None
        elif stack[-1][1]:
            here, name = stack[-1][0] + "[*]", None
        else:
            here, name = stack[-1][0] + path_key(key), key
        if event in ("start_map", "start_array"):
            if len(stack) >= limit:
                raise JsonTooDeep(limit)
            if len(here) > MAX_PATH_CHARS:
                raise JsonTooDeep(MAX_PATH_CHARS, path_chars=True)
            yield here, event, value, name
            stack.append((here, event == "start_array"))
        else:
            yield here, event, value, name


def _binary(path: Path) -> IO[bytes]:
    """The bytes, gunzipped when the name ends in ``.gz``, a UTF-8 BOM skipped (ijson rejects it)."""
    if path.name.lower().endswith(".gz"):
        stream: IO[bytes] = gzip.open(path, "rb")  # type: ignore[assignment]  # noqa: SIM115 - the caller closes it
    else:
        stream = path.open("rb")
    if stream.read(3) != b"\xef\xbb\xbf":
        stream.seek(0)
    return stream


def rewrite_document(
    path: Path, target: Path, resolve: PathPlans, operators: _Operators, checks: _Checks | None, result: ExportResult,
) -> None:
    """A JSON document, streamed as events and written back token by token."""
    import ijson

    open_: list[tuple[bool, bool, FieldPlan | None]] = []  # (is an array, first item still to come, plan)
    skip = 0  # depth inside a dropped container
    records = 0
    try:
        with _binary(path) as source, _open_text(target, "w") as out:
            for here, event, value, name in _events(source):
                starts = event in ("start_map", "start_array")
                if skip:
                    skip += 1 if starts else -1 if event in ("end_map", "end_array") else 0
                    continue
                if event in ("end_map", "end_array"):
                    open_.pop()
                    out.write("}" if event == "end_map" else "]")
                    continue
                if len(open_) == 1 and open_[0][0]:
                    records += 1  # an element of a top-level array is a record
                own = resolve(here)
                chosen = own if own is not None else (open_[-1][2] if open_ else None)
                dropped = _active(chosen) and operators(chosen).drops_field  # type: ignore[arg-type]
                if dropped and checks is not None:
                    checks.applied[here] = chosen  # type: ignore[assignment]
                if dropped and name is not None:  # an object key: left out with its value
                    skip = 1 if starts else 0
                    continue
                if open_:
                    is_array, first, plan = open_[-1]
                    if not first:
                        out.write(", ")
                    open_[-1] = (is_array, False, plan)
                if name is not None:
                    out.write(_dumps(name) + ": ")
                if dropped:  # an array element: null keeps the positions of the others
                    out.write("null")
                    skip = 1 if starts else 0
                    continue
                if starts:
                    out.write("{" if event == "start_map" else "[")
                    open_.append((event == "start_array", True, chosen))
                    continue
                if value is not None and chosen is not None and chosen.operator != "keep":
                    new = operators(chosen).apply_many([value], chosen.entity_type)
                    if checks is not None:
                        checks.note(chosen, [value], new)
                        checks.applied[here] = chosen
                    value = new[0]
                out.write(str(value) if isinstance(value, Decimal) else _dumps(value))
            out.write("\n")
        result.rows += max(records, 1)
    except ijson.JSONError as exc:
        target.unlink(missing_ok=True)
        raise UsageError(f"{path.name}: not valid JSON ({str(exc).splitlines()[0][:80]}); nothing written") from None


# -- reading the output back ---------------------------------------------------------------------


def _gather(value: Any, path: str, wanted: dict[str, FieldPlan], out: list[tuple[str, Any]],
            children: dict[tuple[str, str], str], depth: int = 0) -> None:
    """Append the (path, value) pairs under ``value`` whose path is ``wanted`` (containers too:
    a dropped object must not be there)."""
    if path in wanted:
        out.append((path, value))
    if depth >= MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            child = children.get((path, key))
            if child is None:
                child = children[(path, key)] = path + path_key(str(key))
            if isinstance(item, dict | list):
                _gather(item, child, wanted, out, children, depth + 1)
            elif child in wanted:
                out.append((child, item))
    elif isinstance(value, list):
        child = path + "[*]"
        for item in value:
            if isinstance(item, dict | list):
                _gather(item, child, wanted, out, children, depth + 1)
            elif child in wanted:
                out.append((child, item))


def read_back(target: Path, lines: bool, wanted: dict[str, FieldPlan]) -> Iterator[tuple[str, Any]]:
    """The (path, value) pairs of the written output at the ``wanted`` paths."""
    if lines:
        children: dict[tuple[str, str], str] = {}
        with _open_text(target, "r") as handle:
            for line in handle:
                if line.strip():
                    found: list[tuple[str, Any]] = []
                    _gather(json.loads(line), "$", wanted, found, children)
                    yield from found
                    if len(children) > CHILD_PATHS:
                        children.clear()
        return
    with _binary(target) as stream:
        for here, _, value, _ in _events(stream):
            if here in wanted:
                yield here, value


def anonymize_json_file(
    path: Path, target: Path, plan: Plan, asset: str, rules: list[Rule], context: OperatorContext,
    result: ExportResult, *, verify: bool = True,
) -> None:
    """Rewrite ``path`` into ``target`` (see the module docstring); problems go to ``result``."""
    resolve = PathPlans(plan, asset, rules)
    operators = _Operators(context)
    checks = _Checks() if verify else None
    target.parent.mkdir(parents=True, exist_ok=True)
    _mark_incomplete(target, ["the export did not finish"])
    try:
        lines = _is_lines(path)
        if lines:
            rewrite_lines(path, target, resolve, operators, checks, result)
        else:
            rewrite_document(path, target, resolve, operators, checks, result)
    except UnicodeDecodeError as exc:
        target.unlink(missing_ok=True)
        raise UsageError(f"{path.name}: not UTF-8 (byte {exc.start} of a chunk); JSON files are anonymized "
                         f"as UTF-8, so re-encode it first; nothing written") from None
    except JsonTooDeep as exc:
        target.unlink(missing_ok=True)
        where = f"{path.name}:{exc.line}" if exc.line else path.name
        raise UsageError(f"{where}: {exc}; nothing written") from None
    result.outputs.append(str(target))
    if result.malformed:
        plan.notes.append(f"{result.malformed} malformed JSON line(s) left out (never copied unredacted)")
    if checks is None:
        _clear_marker(target)
        return
    dropping = {p.field for p in checks.applied.values() if operators(p).drops_field}
    problems = checks.verify(read_back(target, lines, checks.applied), dropping, path.name)
    result.problems.extend(problems)
    if problems:
        _mark_incomplete(target, problems)
    else:
        _clear_marker(target)
