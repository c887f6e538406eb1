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
once. A text file over :data:`PART_BYTES` is cut at line boundaries into byte ranges that
are scanned like separate files and merged back (:class:`_Parts`), so one big log uses
every worker. Results do not depend on ``jobs``: every random choice is seeded per file
and column (and per part, whose cut points depend only on the file's size), and results
are sorted by path.
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
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govkit import limits
from govkit.detect.columns import ColumnClassifier, ColumnSample, ColumnVerdict, ValueKind
from govkit.detect.engine import DEFAULT_MODEL, DetectionEngine, get_engine
from govkit.detect.entities import entity, known_entities
from govkit.limits import Limits
from govkit.model.findings import Finding, Skipped
from govkit.sources.formats import FileInput, Problems, Reader, TooLarge, open_input
from govkit.sources.formats.jsonfile import JsonTooDeep
from govkit.sources.formats.ranges import PART_BYTES as _RANGE_BYTES
from govkit.sources.formats.ranges import line_ranges, range_blocks, splittable
from govkit.sources.formats.sampling import ColumnSampler
from govkit.sources.formats.spans import SpanScanner, TextScan

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
    #: ``(index, start byte, end byte)`` when this is one part of a big text file, and
    #: ``parts`` the number of parts of that file.
    part: tuple[int, int, int] | None = None
    parts: int = 1
    #: The whole file's size when it was cut (a part's share of the NER sample is its share
    #: of these bytes, not of a live log that has grown since).
    file_size: int = 0


@dataclass(slots=True)
class _PartOutcome:
    """One byte range of a big text file, scanned; merged with its siblings by :class:`_Parts`."""

    relative: str
    index: int
    parts: int
    scan: TextScan | None
    problems: Problems
    failure: str | None = None
    format: str = "text"
    described: str = "text"
    encoding: str | None = None
    fingerprint: dict[str, Any] | None = None


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
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:  # an unreadable folder is one skipped entry; the walk goes on
            yield Skipped(relative or ".", _os_reason(exc))
            return
        ignore_file = folder / IGNORE_FILE
        try:
            if ignore_file.is_file():
                lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
                ignores = [*ignores, (relative, self.pathspec.GitIgnoreSpec.from_lines(lines))]
        except OSError as exc:  # Path.is_file raises PermissionError in a folder without x
            yield Skipped(_join(relative, IGNORE_FILE), _os_reason(exc))
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
#: Text files bigger than this are scanned in byte ranges of about this size (see ranges.py).
PART_BYTES = _RANGE_BYTES


def _run(tasks: list[_Task], options: FileScanOptions, display: str, progress: Progress | None) -> Iterator[_Outcome]:
    if options.jobs is None and sum(t.size for t in tasks) < PARALLEL_MIN_BYTES:
        jobs = 1
    else:
        jobs = options.jobs or os.cpu_count() or 1
    units = _split(tasks)
    jobs = max(1, min(jobs, len(units)))
    parts = _Parts(options.min_confidence)
    if jobs == 1:
        engine = get_engine(options.model)
        for unit in units:
            done = parts.add(scan_part(unit, options, engine)) if unit.part else scan_one(unit, options, engine)
            if done is not None:
                if progress:
                    progress("file", done.relative)
                yield done
        return
    # Biggest first, so one large log does not start last and keep the run waiting; the
    # parts of a split file go in file order, so its first part starts first.
    ordered = sorted(units, key=lambda t: (-t.size, t.relative, t.part[0] if t.part else 0))
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_init_worker, initargs=(options.model, limits.active())
    )
    try:
        futures: dict[Future[_Outcome | _PartOutcome], _Task] = {
            pool.submit(_worker_scan, t, options): t for t in ordered
        }
        for future in as_completed(futures):
            task = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # a worker died (out of memory, killed): report the file
                reason = f"scan failed: {type(exc).__name__}"
                if task.part is None:
                    result = _Outcome(task.relative, skipped=[Skipped(task.relative, reason)])
                else:
                    result = _PartOutcome(task.relative, task.part[0], task.parts, None, Problems(), failure=reason)
            merged = parts.add(result) if isinstance(result, _PartOutcome) else result
            if merged is None:
                continue
            if progress:
                progress("file", merged.relative)
            yield merged
    finally:
        # On an error, Ctrl-C or a caller that stops early, the queued files (or parts of a
        # big log) are dropped instead of scanned for nobody; only those running are awaited.
        pool.shutdown(wait=True, cancel_futures=True)
    parts.check_empty()


def _split(tasks: list[_Task]) -> list[_Task]:
    """Tasks with every big, splittable text file replaced by one task per byte range."""
    out: list[_Task] = []
    for task in tasks:
        ranges = _ranges_of(task)
        if len(ranges) <= 1:
            out.append(task)
            continue
        for index, (start, end) in enumerate(ranges):
            part = (index, start, end)
            out.append(_Task(task.path, task.relative, end - start, task.mtime_ns, part, len(ranges), task.size))
    return out


def _ranges_of(task: _Task) -> list[tuple[int, int]]:
    if task.size <= PART_BYTES:
        return []
    try:
        source, reader_class = open_input(Path(task.path))
    except (OSError, EOFError):
        return []  # scan_one reports it
    try:
        if reader_class is None or reader_class.structured or not splittable(source):
            return []
        return line_ranges(task.path, task.size, PART_BYTES)
    except OSError:
        return []
    finally:
        source.close()


class _Parts:
    """Collects the parts of split files; hands back a file's outcome once all its parts are in."""

    def __init__(self, min_confidence: float) -> None:
        self.min_confidence = min_confidence
        self.pending: dict[str, dict[int, _PartOutcome]] = {}

    def add(self, part: _PartOutcome) -> _Outcome | None:
        got = self.pending.setdefault(part.relative, {})
        got[part.index] = part
        if len(got) < part.parts:
            return None
        del self.pending[part.relative]
        return _merge_parts([got[i] for i in range(part.parts)], self.min_confidence)

    def check_empty(self) -> None:
        """Every part of every split file was merged (a lost part would lose a file)."""
        if self.pending:  # pragma: no cover - every submitted part yields a result or an error
            raise RuntimeError(f"parts of {len(self.pending)} files were never merged")


def _merge_parts(parts: list[_PartOutcome], min_confidence: float) -> _Outcome:
    """One file's outcome from its parts, as if it had been read in one go."""
    first = parts[0]
    outcome = _Outcome(first.relative)
    problems = Problems()
    for part in parts:
        problems.malformed += part.problems.malformed
        problems.ragged += part.problems.ragged
        problems.invalid_bytes += part.problems.invalid_bytes
        problems.overlong_lines += part.problems.overlong_lines
        problems.notes.extend(n for n in part.problems.notes if n not in problems.notes)
    scans = [p.scan for p in parts if p.scan is not None]
    failures = sorted({p.failure for p in parts if p.failure is not None})
    if not scans:
        outcome.skipped.extend(Skipped(first.relative, reason) for reason in failures)
        return outcome
    scan = TextScan.merge(scans)
    meta = {
        "format": first.format,
        "encoding": first.encoding,
        "compressed": False,
        "lines": scan.lines,
        "problems": problems.to_dict(),
        "parts": len(parts),
    }
    _text_outcome(first.relative, first.described, meta, scan, min_confidence, outcome)
    outcome.skipped.extend(Skipped(first.relative, reason) for reason in failures)
    outcome.skipped.extend(Skipped(first.relative, message) for message in problems.messages())
    outcome.fingerprint = first.fingerprint
    return outcome


def _init_worker(model: str | None, active: Limits | None = None) -> None:
    """Load the engine once per worker process (spawned, so no state is shared by accident);
    the parent's limits (``[limits]`` of govkit.toml) are passed on explicitly."""
    limits.configure(active)
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")  # the worker's stderr is the terminal: no raw warnings
    get_engine(model)


def _worker_scan(task: _Task, options: FileScanOptions) -> _Outcome | _PartOutcome:
    engine = get_engine(options.model)
    return scan_part(task, options, engine) if task.part else scan_one(task, options, engine)


def scan_part(task: _Task, options: FileScanOptions, engine: DetectionEngine) -> _PartOutcome:
    """Scan one byte range of a big text file; never raises for anything the file contains.

    The part gets its share of the file's NER sample (in proportion to its bytes) and its
    own seed, so the sample is stratified over the file and the same for any ``jobs``.
    """
    assert task.part is not None
    index, start, end = task.part
    problems = Problems()
    part = _PartOutcome(task.relative, index, task.parts, None, problems)
    try:
        source, reader_class = open_input(Path(task.path))
    except (OSError, EOFError) as exc:
        part.failure = _os_reason(exc) if isinstance(exc, OSError) else "unreadable"
        return part
    try:
        whole = max(1, task.file_size or end)
        share = math.ceil(options.ner_lines * (end - start) / whole)
        scanner = SpanScanner(engine, ner_lines=share, seed=options.seed, key=f"{task.relative}#{index}")
        try:
            for block in range_blocks(source, start, end, problems):
                scanner.feed(block)
        except Exception as exc:
            part.failure = _read_failure(exc, source)
        scanner.finish()
        part.scan = scanner.result()
        if reader_class is not None:
            reader = reader_class(source, problems, max_bytes=options.max_bytes)
            part.format, part.described = reader.name, reader.describe()
        part.encoding = source.encoding
    finally:
        source.close()
    if index == 0:
        try:
            part.fingerprint = _cut_fingerprint(task.path, task.file_size or end, task.mtime_ns)
        except OSError:
            part.fingerprint = None
    return part


def _cut_fingerprint(path: str | Path, size: int, mtime_ns: int) -> dict[str, Any]:
    """:func:`fingerprint` of the file as it was when cut into parts: its first ``size`` bytes.

    The parts end where the file ended then; a live log grows meanwhile, and a fingerprint
    of the grown file would make the next incremental scan skip the lines never read.
    """
    digest = hashlib.sha256()
    left = size
    with open(path, "rb") as handle:
        while left > 0 and (chunk := handle.read(min(left, 1024 * 1024))):
            digest.update(chunk)
            left -= len(chunk)
    return {"size": size, "mtime_ns": mtime_ns, "sha256": digest.hexdigest()}


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
    except Exception as exc:  # a sniffer choking on the file's head: this file only, never the scan
        outcome.skipped.append(Skipped(task.relative, f"could not be read ({type(exc).__name__})"))
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
    if isinstance(exc, JsonTooDeep):
        return f"{exc}: read up to there, partial results kept"
    if isinstance(exc, RecursionError | MemoryError):
        return f"too deeply nested or too large to read ({type(exc).__name__}): partial results kept"
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
    scanner.finish()
    scan = scanner.result()
    meta = _file_meta(reader, source, problems, scan.lines)
    _text_outcome(task.relative, reader.describe(), meta, scan, options.min_confidence, outcome)
    _report_problems(task, problems, failure, outcome, source)


def _text_outcome(
    relative: str, described: str, meta: dict[str, Any], scan: TextScan, min_confidence: float, outcome: _Outcome
) -> None:
    """Asset, verdict and findings of a text file from what its scan (or its parts) found."""
    catalogue = set(known_entities())
    found = _text_findings(relative, scan, catalogue, min_confidence)
    detail = {
        "file": meta,
        "entities": {name: tally.to_dict() for name, tally in scan.entities.items() if name in catalogue},
        "ner": {
            "candidate_lines": scan.ner_lines_offered,
            "analysed_lines": scan.ner_lines_analysed,
            "sampled": scan.ner_lines_offered > scan.ner_lines_analysed,
        },
        "candidate_windows": scan.candidate_windows,
    }
    reported = [f.entity_type for f in found]
    outcome.asset = {
        "name": relative,
        "kind": "file",
        "row_estimate": scan.lines,
        "primary_key": [],
        "foreign_keys": [],
        "indexes": [],
        "fields": [{"name": "", "sql_type": described, "kind": "text", "nullable": False, "primary_key": False}],
    }
    outcome.verdicts.append(
        {
            "asset": relative,
            "field": "",
            "rule": "free text",
            "reason": ("free text mentioning " + ", ".join(reported))
            if reported
            else "free text with no personal data found",
            "sampled": scan.lines,
            "detail": detail,
        }
    )
    outcome.findings.extend(found)
    outcome.values_analyzed = scan.lines


def _text_findings(asset: str, scan: TextScan, catalogue: set[str], min_confidence: float) -> list[Finding]:
    """Findings for a text file, one per entity type, field ``None`` (the whole file).

    Validated pattern hits grow more certain with each independent hit:
    ``1 - (1 - score) ** (1 + log2(hits))`` turns one e-mail (score 1.0) into a finding at
    once, and phone numbers (libphonenumber-valid, score 0.4) into one from two hits on.
    NER hits are weaker evidence (spaCy's small model tags words in log lines as names):
    at least two are needed, and confidence rises with their number to at most 0.85.
    """
    out = []
    for name, tally in scan.entities.items():
        if name not in catalogue or not tally.count:
            continue
        if tally.source == "ner":
            if tally.count < 2:
                continue
            confidence = min(0.85, 0.45 + 0.1 * math.log2(tally.count))
            sampled = scan.ner_lines_analysed
        else:
            score = min(tally.mean_score, 0.999)
            confidence = 1.0 - (1.0 - score) ** (1.0 + math.log2(tally.count))
            sampled = scan.lines
        confidence = round(min(confidence, 0.99), 3)
        if confidence < min_confidence:
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
