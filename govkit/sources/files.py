"""File sources: walk a folder, read every file through the format registry, classify, report.

``scan_files(root, options)`` is what ``govkit scan PATH`` (or a ``path`` source of the
workspace) calls. It returns the same pieces a database scan records in the inventory:
assets (files), fields (columns, JSON paths, or the whole text), verdicts and findings, plus
what was skipped and why, and a fingerprint per file for the next, incremental scan.

How a file is judged depends on what it holds:

* **structured** files (CSV/TSV, JSON, JSONL, Excel, Parquet) are read once, start to end,
  keeping a seeded reservoir sample per column; the samples go through the same
  :class:`~govkit.detect.columns.ColumnClassifier` as database columns, so a ``手机号``
  column in a CSV export and in a MySQL table get the same verdict by the same rules;
* **text** (logs, plain text, Markdown, anything else that is not binary) goes through
  :class:`~govkit.sources.formats.spans.SpanScanner`, which counts every validated entity in
  the whole file with its line and column, and samples lines for the NER model.

Nothing about one file can stop the scan: unreadable, binary, oversized files and symlink
loops are skipped with a reason; bad input inside a file (a truncated gzip, malformed JSON
lines, ragged CSV rows, invalid bytes) is counted and reported, and what was read is kept.

Files are scanned in parallel processes (``jobs``); each worker loads the detection engine
once. Results do not depend on ``jobs``: every random choice is seeded per file and column,
and results are sorted by path.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import math
import multiprocessing
import os
import stat
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govkit.detect.columns import ColumnClassifier, ColumnSample, ColumnVerdict, ValueKind
from govkit.detect.engine import DEFAULT_MODEL, DetectionEngine, get_engine
from govkit.detect.entities import entity, known_entities
from govkit.model.findings import Finding, Skipped
from govkit.sources.formats import FileInput, Problems, Reader, TooLarge, open_input
from govkit.sources.formats.sampling import ColumnSampler
from govkit.sources.formats.spans import EntityTally, SpanScanner

log = logging.getLogger(__name__)

#: progress(event, detail): "source" (root), "files" (count to scan), "file" (relative path, when done).
Progress = Callable[[str, Any], None]

IGNORE_FILE = ".govkitignore"
#: Folders never walked into: version control internals and govkit's own state.
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", ".govkit"})
UNCHANGED = "unchanged since last scan"

_VALUE_KINDS: frozenset[str] = frozenset(
    {"text", "integer", "number", "boolean", "date", "datetime", "binary", "other"}
)


@dataclass
class FileScanOptions:
    """How a folder is scanned. ``include``/``exclude`` are gitignore-style globs."""

    include: list[str] = field(default_factory=lambda: ["*"])
    exclude: list[str] = field(default_factory=list)
    max_bytes: int = 100 * 1024 * 1024
    jobs: int | None = None
    force: bool = False
    sample_size: int = 1000
    seed: int = 42
    model: str | None = DEFAULT_MODEL
    min_confidence: float = 0.5
    ner_sample: int = 200

    @property
    def ner_lines(self) -> int:
        """Lines of a text file given to the NER model: ten per distinct value of a column."""
        return self.ner_sample * 10


@dataclass
class FileScanResult:
    """Everything one scan of a folder produced, in the shapes the inventory records."""

    root: str
    assets: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    values_analyzed: int = 0
    fingerprints: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Files left out by include/exclude globs or ``.govkitignore`` (counted, not listed).
    ignored: int = 0
    elapsed_s: float = 0.0


@dataclass(slots=True)
class _Task:
    path: str  # absolute
    relative: str
    size: int
    mtime_ns: int


@dataclass(slots=True)
class _Outcome:
    """One file's part of the result, small enough to send back from a worker."""

    relative: str
    asset: dict[str, Any] | None = None
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    values_analyzed: int = 0
    fingerprint: dict[str, Any] | None = None


# -- public entry point ---------------------------------------------------------------------


def scan_files(
    root: Path,
    options: FileScanOptions,
    *,
    previous: dict[str, dict[str, Any]] | None = None,
    progress: Progress | None = None,
) -> FileScanResult:
    """Scan a folder (or one file) and return assets, verdicts, findings and fingerprints.

    ``previous`` is the fingerprint map of the last scan of the same root: a file whose
    size and modification time (or, when only the time moved, content hash) are unchanged
    is skipped with reason :data:`UNCHANGED` unless ``options.force``.
    """
    clock = time.perf_counter()
    root = Path(root)
    walker = _Walker(options)
    items: Iterator[tuple[str, str, os.stat_result] | Skipped]
    if root.is_file():
        base = root.resolve().parent
        items = iter([_single(root)])
    else:
        base = root.resolve()
        items = walker.walk(base)
    display = str(base)
    result = FileScanResult(root=display)
    if progress:
        progress("source", display)
    tasks: list[_Task] = []
    for item in items:
        if isinstance(item, Skipped):
            item.source = display
            result.skipped.append(item)
            continue
        path, relative, info = item
        if info.st_size > options.max_bytes:
            result.skipped.append(
                Skipped(relative, f"too large: {info.st_size:,} bytes (limit {options.max_bytes:,})", source=display)
            )
            continue
        old = (previous or {}).get(relative)
        if old is not None and not options.force and _unchanged(path, info, old):
            result.skipped.append(Skipped(relative, UNCHANGED, source=display))
            result.fingerprints[relative] = {**old, "mtime_ns": info.st_mtime_ns}
            continue
        tasks.append(_Task(path, relative, info.st_size, info.st_mtime_ns))
    result.ignored = walker.ignored
    if progress:
        progress("files", len(tasks))
    for outcome in _run(tasks, options, display, progress):
        _merge(result, outcome)
    result.assets.sort(key=lambda a: str(a["name"]))
    result.verdicts.sort(key=lambda v: (str(v["asset"]), str(v["field"])))
    result.findings.sort(key=lambda f: (f.asset, f.field or "", f.entity_type))
    result.skipped.sort(key=lambda s: (s.asset, s.field or "", s.reason))
    result.elapsed_s = time.perf_counter() - clock
    return result


def _merge(result: FileScanResult, outcome: _Outcome) -> None:
    if outcome.asset is not None:
        result.assets.append(outcome.asset)
    result.verdicts.extend(outcome.verdicts)
    result.findings.extend(outcome.findings)
    for skipped in outcome.skipped:
        skipped.source = result.root
        result.skipped.append(skipped)
    for finding in outcome.findings:
        finding.source = result.root
    result.values_analyzed += outcome.values_analyzed
    if outcome.fingerprint is not None:
        result.fingerprints[outcome.relative] = outcome.fingerprint


def _single(path: Path) -> tuple[str, str, os.stat_result] | Skipped:
    try:
        info = path.stat()
    except OSError as exc:
        return Skipped(path.name, _os_reason(exc))
    return str(path.resolve()), path.name, info


# -- walking ----------------------------------------------------------------------------------


class _Walker:
    """Depth-first walk in name order, with globs, ``.govkitignore`` files and loop checks."""

    def __init__(self, options: FileScanOptions) -> None:
        import pathspec

        self.pathspec = pathspec
        self.include = pathspec.PathSpec.from_lines("gitignore", options.include or ["*"])
        self.exclude = pathspec.PathSpec.from_lines("gitignore", options.exclude)
        self.ignored = 0
        self._files_seen: set[tuple[int, int]] = set()

    def walk(self, base: Path) -> Iterator[tuple[str, str, os.stat_result] | Skipped]:
        info = base.stat()
        yield from self._folder(base, "", [(info.st_dev, info.st_ino)], [])

    def _folder(
        self,
        folder: Path,
        relative: str,
        ancestors: list[tuple[int, int]],
        ignores: list[tuple[str, Any]],
    ) -> Iterator[tuple[str, str, os.stat_result] | Skipped]:
        ignore_file = folder / IGNORE_FILE
        if ignore_file.is_file():
            try:
                lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
                ignores = [*ignores, (relative, self.pathspec.GitIgnoreSpec.from_lines(lines))]
            except OSError as exc:
                yield Skipped(_join(relative, IGNORE_FILE), _os_reason(exc))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield Skipped(relative or ".", _os_reason(exc))
            return
        for entry in entries:
            path = _join(relative, entry.name)
            if entry.name == IGNORE_FILE:
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError as exc:
                yield Skipped(path, _os_reason(exc))
                continue
            if is_dir:
                if (
                    entry.name in SKIPPED_DIRS
                    or self._ignored(path + "/", ignores)
                    or self.exclude.match_file(path + "/")
                ):
                    continue
                try:
                    info = os.stat(entry.path)
                except OSError as exc:
                    yield Skipped(path, _os_reason(exc))
                    continue
                key = (info.st_dev, info.st_ino)
                if key in ancestors:
                    yield Skipped(path, "symlink loop (links back to a folder that contains it)")
                    continue
                yield from self._folder(Path(entry.path), path, [*ancestors, key], ignores)
                continue
            if self._ignored(path, ignores) or self.exclude.match_file(path) or not self.include.match_file(path):
                self.ignored += 1
                continue
            try:
                info = os.stat(entry.path)
            except OSError as exc:
                yield Skipped(path, _os_reason(exc))
                continue
            if not stat.S_ISREG(info.st_mode):
                yield Skipped(path, "not a regular file (device, socket or pipe)")
                continue
            key = (info.st_dev, info.st_ino)
            if key in self._files_seen:
                yield Skipped(path, "same file as one already scanned (hard or symbolic link)")
                continue
            self._files_seen.add(key)
            yield entry.path, path, info

    @staticmethod
    def _ignored(path: str, ignores: list[tuple[str, Any]]) -> bool:
        """Whether a ``.govkitignore`` above ``path`` excludes it (deeper files win, as in git)."""
        verdict = False
        for base, spec in ignores:
            local = path[len(base) + 1 :] if base else path
            result = spec.check_file(local)
            if result.include is not None:
                verdict = bool(result.include)
        return verdict


def _join(relative: str, name: str) -> str:
    return f"{relative}/{name}" if relative else name


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    if exc.errno == errno.ENOENT:
        return "broken symlink or vanished during the scan"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "unreadable: permission denied"
    return f"unreadable: {exc.strerror or type(exc).__name__}"


# -- incremental --------------------------------------------------------------------------------


def fingerprint(path: str | Path, info: os.stat_result | None = None) -> dict[str, Any]:
    """Size, modification time and SHA-256 of a file (read in 1 MB chunks)."""
    info = info or os.stat(path)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "sha256": digest.hexdigest()}


def _unchanged(path: str, info: os.stat_result, old: dict[str, Any]) -> bool:
    """Same size and time: unchanged. Same size, new time: unchanged only if the hash agrees."""
    if old.get("size") != info.st_size:
        return False
    if old.get("mtime_ns") == info.st_mtime_ns:
        return True
    try:
        return bool(fingerprint(path, info)["sha256"] == old.get("sha256"))
    except OSError:
        return False


# -- running ------------------------------------------------------------------------------------


#: Below this many bytes in all, files are scanned in-process unless ``jobs`` is given: each
#: worker process loads its own NLP model (seconds), which small inputs never win back.
PARALLEL_MIN_BYTES = 64 * 1024 * 1024


def _run(tasks: list[_Task], options: FileScanOptions, display: str, progress: Progress | None) -> Iterator[_Outcome]:
    if options.jobs is None and sum(t.size for t in tasks) < PARALLEL_MIN_BYTES:
        jobs = 1
    else:
        jobs = options.jobs or os.cpu_count() or 1
    jobs = max(1, min(jobs, len(tasks)))
    if jobs == 1:
        engine = get_engine(options.model)
        for task in tasks:
            outcome = scan_one(task, options, engine)
            if progress:
                progress("file", task.relative)
            yield outcome
        return
    # Biggest first, so one large log does not start last and keep the run waiting.
    ordered = sorted(tasks, key=lambda t: -t.size)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(options.model,)
    ) as pool:
        futures: dict[Future[_Outcome], _Task] = {pool.submit(_worker_scan, t, options): t for t in ordered}
        for future in as_completed(futures):
            task = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # a worker died (out of memory, killed): report the file
                outcome = _Outcome(
                    task.relative, skipped=[Skipped(task.relative, f"scan failed: {type(exc).__name__}")]
                )
            if progress:
                progress("file", task.relative)
            yield outcome


def _init_worker(model: str | None) -> None:
    """Load the engine once per worker process (spawned, so no state is shared by accident)."""
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    get_engine(model)


def _worker_scan(task: _Task, options: FileScanOptions) -> _Outcome:
    return scan_one(task, options, get_engine(options.model))


def scan_one(task: _Task, options: FileScanOptions, engine: DetectionEngine) -> _Outcome:
    """Scan one file; never raises for anything the file contains."""
    outcome = _Outcome(task.relative)
    try:
        source, reader_class = open_input(Path(task.path))
    except OSError as exc:
        outcome.skipped.append(Skipped(task.relative, _os_reason(exc)))
        return outcome
    except EOFError:
        outcome.skipped.append(Skipped(task.relative, "truncated gzip: nothing could be read"))
        return outcome
    if reader_class is None:
        outcome.skipped.append(Skipped(task.relative, "binary file"))
        return outcome
    problems = Problems()
    reader = reader_class(source, problems, max_bytes=options.max_bytes)
    try:
        if reader.structured:
            _scan_structured(task, reader, source, problems, options, engine, outcome)
        else:
            _scan_text(task, reader, source, problems, options, engine, outcome)
    finally:
        source.close()
    try:
        outcome.fingerprint = fingerprint(task.path)
    except OSError:
        outcome.fingerprint = None
    return outcome


def _read_failure(exc: BaseException, source: FileInput) -> str:
    """A one-line, data-free reason for an error that ended reading a file early."""
    if isinstance(exc, EOFError) and source.compressed:
        return "truncated gzip: partial results kept"
    if isinstance(exc, TooLarge):
        return f"too large: {exc}"
    if isinstance(exc, OSError) and source.compressed:
        return f"corrupt gzip ({type(exc).__name__}): partial results kept"
    if isinstance(exc, OSError):
        return _os_reason(exc) + ": partial results kept"
    return f"could not be read to the end ({type(exc).__name__}): partial results kept"


def _file_meta(reader: Reader, source: FileInput, problems: Problems, rows: int) -> dict[str, Any]:
    return {
        "format": reader.name,
        "encoding": source.encoding,
        "compressed": source.compressed,
        "rows" if reader.structured else "lines": rows,
        "problems": problems.to_dict(),
    }


def _scan_structured(
    task: _Task,
    reader: Reader,
    source: FileInput,
    problems: Problems,
    options: FileScanOptions,
    engine: DetectionEngine,
    outcome: _Outcome,
) -> None:
    sampler = ColumnSampler(options.sample_size, options.seed, task.relative)
    failure: str | None = None
    try:
        for batch in reader.batches():
            sampler.add(batch)
    except Exception as exc:
        failure = _read_failure(exc, source)
    columns = sampler.samples()
    classifier = ColumnClassifier(engine, min_confidence=options.min_confidence, ner_sample=options.ner_sample)
    samples = []
    for column in columns:
        leaf, context = _leaf(column.name)
        kind: ValueKind = column.kind if column.kind in _VALUE_KINDS else "other"  # type: ignore[assignment]
        samples.append(ColumnSample(f"{task.relative} {context}".strip(), leaf, kind, column.values, column.nulls))
    verdicts = classifier.classify_many(samples) if samples else []
    meta = _file_meta(reader, source, problems, sampler.rows)
    outcome.asset = {
        "name": task.relative,
        "kind": "file",
        "row_estimate": sampler.rows,
        "primary_key": [],
        "foreign_keys": [],
        "indexes": [],
        "fields": [
            {"name": c.name, "sql_type": c.type_name, "kind": c.kind, "nullable": c.nulls > 0, "primary_key": False}
            for c in columns
        ],
    }
    for column, verdict in zip(columns, verdicts, strict=True):
        verdict.table, verdict.column = task.relative, column.name
        outcome.verdicts.append(_verdict_row(task.relative, column.name, verdict, meta))
        if verdict.skipped:
            outcome.skipped.append(Skipped(task.relative, verdict.skipped, column.name))
        for found in verdict.entities:
            outcome.findings.append(
                Finding(
                    source="",
                    asset=task.relative,
                    field=column.name,
                    entity_type=found.entity_type,
                    confidence=found.confidence,
                    hits=found.hits,
                    sampled=verdict.sampled,
                    evidence=found.evidence,
                    decided_by=found.rule,
                    severity=entity(found.entity_type).severity.name,
                )
            )
    outcome.values_analyzed = sum(c.total for c in columns)
    _report_problems(task, problems, failure, outcome, source)


def _leaf(name: str) -> tuple[str, str]:
    """The column name the classifier reads hints from, and the rest as context.

    ``$.customer.email`` -> (``email``, ``$.customer``); ``客户!手机号`` -> (``手机号``,
    ``客户``). The context joins the file name as the classifier's "table", so a ``name``
    inside ``customer`` or ``customers.csv`` is read as a person's name.
    """
    if "!" in name:
        sheet, _, column = name.partition("!")
        return column, sheet
    if name.startswith("$"):
        trimmed = name
        while trimmed.endswith("[*]"):
            trimmed = trimmed[:-3]
        cut = max(trimmed.rfind("."), trimmed.rfind("["))
        if cut <= 0:
            return trimmed.lstrip("$") or name, ""
        leaf = trimmed[cut + 1 :] if trimmed[cut] == "." else trimmed[cut + 2 : -2]
        return leaf, trimmed[:cut]
    return name, ""


def _verdict_row(asset: str, column: str, verdict: ColumnVerdict, meta: dict[str, Any]) -> dict[str, Any]:
    detail = verdict.to_dict()
    detail["file"] = meta
    return {
        "asset": asset,
        "field": column,
        "rule": verdict.rule,
        "reason": verdict.reason,
        "sampled": verdict.sampled,
        "detail": detail,
    }


def _scan_text(
    task: _Task,
    reader: Reader,
    source: FileInput,
    problems: Problems,
    options: FileScanOptions,
    engine: DetectionEngine,
    outcome: _Outcome,
) -> None:
    scanner = SpanScanner(engine, ner_lines=options.ner_lines, seed=options.seed, key=task.relative)
    failure: str | None = None
    try:
        for block in reader.blocks():
            scanner.feed(block)
    except Exception as exc:
        failure = _read_failure(exc, source)
    tallies = scanner.finish()
    catalogue = set(known_entities())
    found = _text_findings(task.relative, tallies, scanner, options, catalogue)
    meta = _file_meta(reader, source, problems, scanner.lines)
    detail = {
        "file": meta,
        "entities": {name: tally.to_dict() for name, tally in tallies.items() if name in catalogue},
        "ner": {
            "candidate_lines": scanner.ner_lines_offered,
            "analysed_lines": scanner.ner_lines_analysed,
            "sampled": scanner.ner_lines_offered > scanner.ner_lines_analysed,
        },
        "candidate_windows": scanner.candidate_windows,
    }
    reported = [f.entity_type for f in found]
    outcome.asset = {
        "name": task.relative,
        "kind": "file",
        "row_estimate": scanner.lines,
        "primary_key": [],
        "foreign_keys": [],
        "indexes": [],
        "fields": [
            {"name": "", "sql_type": reader.describe(), "kind": "text", "nullable": False, "primary_key": False}
        ],
    }
    outcome.verdicts.append(
        {
            "asset": task.relative,
            "field": "",
            "rule": "free text",
            "reason": ("free text mentioning " + ", ".join(reported))
            if reported
            else "free text with no personal data found",
            "sampled": scanner.lines,
            "detail": detail,
        }
    )
    outcome.findings.extend(found)
    outcome.values_analyzed = scanner.lines
    _report_problems(task, problems, failure, outcome, source)


def _text_findings(
    asset: str,
    tallies: dict[str, EntityTally],
    scanner: SpanScanner,
    options: FileScanOptions,
    catalogue: set[str],
) -> list[Finding]:
    """Findings for a text file, one per entity type, field ``None`` (the whole file).

    Validated pattern hits grow more certain with each independent hit:
    ``1 - (1 - score) ** (1 + log2(hits))`` turns one e-mail (score 1.0) into a finding at
    once, and phone numbers (libphonenumber-valid, score 0.4) into one from two hits on.
    NER hits are weaker evidence (spaCy's small model tags words in log lines as names):
    at least two are needed, and confidence rises with their number to at most 0.85.
    """
    out = []
    for name, tally in tallies.items():
        if name not in catalogue or not tally.count:
            continue
        if tally.source == "ner":
            if tally.count < 2:
                continue
            confidence = min(0.85, 0.45 + 0.1 * math.log2(tally.count))
            sampled = scanner.ner_lines_analysed
        else:
            score = min(tally.mean_score, 0.999)
            confidence = 1.0 - (1.0 - score) ** (1.0 + math.log2(tally.count))
            sampled = scanner.lines
        confidence = round(min(confidence, 0.99), 3)
        if confidence < options.min_confidence:
            continue
        out.append(
            Finding(
                source="",
                asset=asset,
                field=None,
                entity_type=name,
                confidence=confidence,
                hits=tally.count,
                sampled=sampled,
                evidence=list(tally.examples),
                decided_by=f"free text ({tally.source})",
                severity=entity(name).severity.name,
            )
        )
    return out


def _report_problems(
    task: _Task, problems: Problems, failure: str | None, outcome: _Outcome, source: FileInput
) -> None:
    if source.damaged is not None:
        outcome.skipped.append(Skipped(task.relative, source.damaged))
    if failure is not None:
        outcome.skipped.append(Skipped(task.relative, failure))
    for message in problems.messages():
        outcome.skipped.append(Skipped(task.relative, message))


__all__ = ["UNCHANGED", "FileScanOptions", "FileScanResult", "fingerprint", "scan_files"]
