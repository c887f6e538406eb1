"""Erasure in file sources: delete the subject's records or replace their identifiers, atomically.

Why it works this way:

* **What is rewritten, and how.** CSV/TSV rows and JSONL records are *records*: the plan's
  action applies to them as to a table's rows (``delete`` drops the record, ``anonymize``
  rewrites the cells that hold an identifier and the file's personal fields with the
  policy's operators). Plain text and logs are *lines* that often carry other people's
  events too, so whatever the plan says (short of ``retain``), only the subject's spans are
  replaced (e-mail and phone, with the policy's operator for that entity type) and the line
  stays. Formats that cannot be rewritten safely here (JSON documents, workbooks, Parquet)
  stay ``manual`` steps with the reason (see :data:`REWRITABLE`).
* **Records are matched again, not by line number**: the same :class:`LineMatcher` that
  located them runs over each record (all of a quoted multi-line CSV row), so the rewrite
  cannot drift from the file as it is now.
* **Untouched records are copied byte for byte** (line endings, quoting, BOM); a rewritten
  CSV row is written with the file's sniffed dialect, a JSONL record as compact JSON. The
  text encoding is the one the reader detected (strict: a file that does not decode is not
  rewritten), and a ``.gz`` file is written compressed again.
* **All or nothing.** :func:`prepare` writes every new version into a temporary file in the
  same folder (fsynced) before anything is replaced; :meth:`Rewrites.commit` then keeps a
  hard-linked (or copied) backup of each original and ``os.replace``-s them all, restoring
  every replaced file if one replace fails. The caller commits the databases after the files
  and calls :meth:`Rewrites.restore` if a database commit fails, so a failure anywhere leaves
  the files as they were.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from govkit.actions.anonymize.operators import Operator
from govkit.actions.dsr.files import _PHONE_RUN, LineMatcher
from govkit.errors import UsageError
from govkit.sources.formats import READERS, FileInput, Problems, open_input
from govkit.sources.formats.jsonfile import MAX_DEPTH, path_key

#: Reader name -> how erasure rewrites it. Anything else stays a manual step.
REWRITABLE: dict[str, str] = {"csv": "records", "tsv": "records", "jsonl": "records", "text": "lines"}
#: Why a format is left to a person.
MANUAL_REASONS: dict[str, str] = {
    "json": "JSON documents are not rewritten (their structure is not line-based): edit them by hand",
    "xlsx": "workbooks are not rewritten: edit the rows by hand",
    "parquet": "Parquet files are not rewritten: rewrite them with the tool that produced them",
}
#: Entity type of each identifier a span can be.
SPAN_ENTITIES = {"email": "EMAIL_ADDRESS", "phone": "PHONE_NUMBER"}


class RewriteFailed(UsageError):
    """A file could not be rewritten; no file (and no database) was changed."""


def file_format(path: Path) -> str | None:
    """The reader's name for ``path`` (``None``: binary)."""
    _, reader = open_input(path)
    return None if reader is None else reader.name


@dataclass(slots=True)
class FileJob:
    """How one file is rewritten: ``action`` is ``delete`` or ``anonymize`` (records) or ``spans``."""

    path: Path
    action: str
    #: field name (CSV header, JSONL key) or entity type (spans) -> operator (None: empty/null)
    operators: dict[str, Operator | None] = field(default_factory=dict)
    #: field name -> entity type passed to its operator
    entities: dict[str, str | None] = field(default_factory=dict)
    #: entity type of an identifier span (``EMAIL_ADDRESS``, ``PHONE_NUMBER``) -> operator (None: removed)
    span_operators: dict[str, Operator | None] = field(default_factory=dict)


@dataclass(slots=True)
class Rewrite:
    path: Path
    temp: Path
    records: int
    #: ``(device, inode, size, mtime_ns)`` of the original when it was read: a file changed since
    #: (a log appended to) is not replaced, or the lines added meanwhile would be lost
    identity: tuple[int, int, int, int] | None = None
    backup: Path | None = None
    replaced: bool = False


@dataclass(slots=True)
class Rewrites:
    """Temporary files ready to replace their originals (see the module docstring)."""

    items: list[Rewrite] = field(default_factory=list)

    def commit(self) -> None:
        """Replace every original; on any failure put back the ones already replaced."""
        try:
            for item in self.items:
                if item.records == 0:
                    continue
                if item.identity is not None and _identity(item.path) != item.identity:
                    self.restore()
                    raise RewriteFailed(f"{item.path.name} changed while it was being rewritten; every file "
                                        "was restored and nothing was erased (run the erasure again)")
                item.backup = _backup(item.path)
                os.replace(item.temp, item.path)
                item.replaced = True
                _fsync_dir(item.path.parent)
        except OSError as exc:
            self.restore()
            raise RewriteFailed(f"could not replace a file ({type(exc).__name__}); every file was restored "
                                "and nothing was erased") from None

    def restore(self) -> None:
        """Put back the originals of the files already replaced, and drop the temporary files."""
        for item in self.items:
            if item.replaced and item.backup is not None:
                os.replace(item.backup, item.path)
                item.replaced = False
                item.backup = None
        self.discard()

    def discard(self) -> None:
        """Remove temporary files and backups (the originals' copies hold personal data)."""
        for item in self.items:
            for path in (item.temp, item.backup):
                if path is not None:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()


def _identity(path: Path) -> tuple[int, int, int, int]:
    info = os.stat(path)
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def _backup(path: Path) -> Path:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".govkit-orig")
    os.close(fd)
    backup = Path(name)
    backup.unlink()
    try:
        os.link(path, backup)
    except OSError:
        shutil.copy2(path, backup)
    return backup


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def prepare(jobs: list[FileJob], matcher: LineMatcher) -> Rewrites:
    """Write the new version of every file into a temporary file next to it; nothing is replaced."""
    rewrites = Rewrites()
    try:
        for job in jobs:
            rewrites.items.append(_prepare_one(job, matcher))
    except Exception as exc:  # the type only: a message might quote the file's content
        rewrites.discard()
        raise RewriteFailed(f"{job.path.name}: cannot be rewritten safely ({type(exc).__name__}); "
                            "no file and no database was changed") from None
    except BaseException:
        rewrites.discard()
        raise
    return rewrites


def _prepare_one(job: FileJob, matcher: LineMatcher) -> Rewrite:
    identity = _identity(job.path)
    source, reader = open_input(job.path)
    if reader is None or reader.name not in REWRITABLE:
        raise ValueError("the format changed since the plan")
    encoding = source.encoding or "utf-8"
    fd, name = tempfile.mkstemp(dir=job.path.parent, prefix=f".{job.path.name}.", suffix=".govkit-tmp")
    temp = Path(name)
    try:
        records = _write(job, matcher, source, reader.name, encoding, fd)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    shutil.copymode(job.path, temp)
    return Rewrite(job.path, temp, records, identity)


def _write(job: FileJob, matcher: LineMatcher, source: FileInput, fmt: str, encoding: str, fd: int) -> int:
    """Write the new version of ``source`` into the open temporary file ``fd``; returns records changed."""
    records = 0
    reader = READERS[fmt]
    with os.fdopen(fd, "wb") as raw:
        target: IO[bytes] = raw
        if source.compressed:
            target = gzip.GzipFile(filename=source.name, mode="wb", fileobj=raw, mtime=0,
                                   compresslevel=6)  # type: ignore[assignment]
        with source.open_binary() as binary:
            text = io.TextIOWrapper(binary, encoding=encoding, errors="strict", newline="")
            out = io.TextIOWrapper(target, encoding=encoding, errors="strict", newline="")
            if fmt in ("csv", "tsv"):  # the dialect from the head, as the scan sniffed it
                head = source.head.decode(encoding, errors="replace")
                dialect = reader(source, Problems())._dialect(head)  # type: ignore[attr-defined]
                records = _csv(text, out, dialect, job, matcher)
            elif fmt == "jsonl":
                records = _jsonl(text, out, job, matcher)
            else:
                records = _lines(text, out, job, matcher)
            out.flush()
            out.detach()
            if source.damaged:  # a truncated .gz ends early: rewriting it would drop the rest
                raise ValueError("damaged compressed file")
        if target is not raw:
            target.close()
        raw.flush()
        os.fsync(raw.fileno())
    return records


def _ending(raw: str) -> str:
    return raw[len(raw.rstrip("\r\n")):]


def _csv(text: IO[str], out: IO[str], dialect: Any, job: FileJob, matcher: LineMatcher) -> int:
    consumed: list[str] = []

    def feed() -> Iterator[str]:
        for line in text:
            consumed.append(line)
            yield line

    changed = 0
    header: list[str] | None = None
    for record in csv.reader(feed(), dialect):
        raw = "".join(consumed)
        consumed.clear()
        if header is None:
            header = record if record else None
            out.write(raw)
            continue
        if not matcher(raw):  # the raw text holds every cell's text: one test per record
            out.write(raw)
            continue
        changed += 1
        if job.action == "delete":
            continue
        cells = [_cell(header[i] if i < len(header) else "", cell, job, matcher) for i, cell in enumerate(record)]
        buffer = io.StringIO()
        csv.writer(buffer, dialect, lineterminator=_ending(raw) or "\n").writerow(cells)
        out.write(buffer.getvalue())
    out.write("".join(consumed))
    return changed


def _cell(name: str, value: Any, job: FileJob, matcher: LineMatcher) -> Any:
    """The value of one field of a matched record after anonymization."""
    if name in job.operators:
        operator = job.operators[name]
        return ("" if isinstance(value, str) else None) if operator is None else operator.apply(
            value, job.entities.get(name))
    if isinstance(value, str) and matcher(value):
        return replace_spans(value, matcher, job)
    return value


def _jsonl(text: IO[str], out: IO[str], job: FileJob, matcher: LineMatcher) -> int:
    changed = 0
    for raw in text:
        if not matcher(raw):
            out.write(raw)
            continue
        changed += 1
        if job.action == "delete":
            continue
        try:
            record = json.loads(raw)
        except ValueError:
            out.write(replace_spans(raw, matcher, job))
            continue
        out.write(json.dumps(_walk(record, "$", job, matcher), ensure_ascii=False) + (_ending(raw) or "\n"))
    return changed


def _walk(value: Any, path: str, job: FileJob, matcher: LineMatcher, depth: int = 0) -> Any:
    """``value`` with its fields anonymized. A JSONL file's fields are named in the inventory
    (and so in ``job.operators``) by JSON path, as the scan named them (``$.contact.email``,
    ``$.items[*].phone``; past :data:`MAX_DEPTH` a whole subtree is one field), so the walk
    builds the same paths: a bare key would never match and the field would stay as it was."""
    if isinstance(value, dict | list) and depth >= MAX_DEPTH:
        if path in job.operators:
            return _cell(path, json.dumps(value, ensure_ascii=False), job, matcher)
        text = json.dumps(value, ensure_ascii=False)
        return replace_spans(text, matcher, job) if matcher(text) else value
    if isinstance(value, dict):
        return {k: _walk(v, path + path_key(str(k)), job, matcher, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, path + "[*]", job, matcher, depth + 1) for v in value]
    return _cell(path, value, job, matcher)


def _lines(text: IO[str], out: IO[str], job: FileJob, matcher: LineMatcher) -> int:
    changed = 0
    for raw in text:
        if matcher(raw):
            changed += 1
            raw = replace_spans(raw, matcher, job)
        out.write(raw)
    return changed


def spans(line: str, matcher: LineMatcher) -> list[tuple[int, int, str]]:
    """``(start, end, entity type)`` of the subject's identifiers in ``line``, left to right."""
    found: list[tuple[int, int, str]] = []
    if matcher.email_pattern is not None:
        found += [(m.start(), m.end(), SPAN_ENTITIES["email"]) for m in matcher.email_pattern.finditer(line)]
    if matcher.digits:
        found += [(m.start(), m.end(), SPAN_ENTITIES["phone"]) for m in _PHONE_RUN.finditer(line)
                  if re.sub(r"\D", "", m.group()) in matcher.digits]
    return sorted(found)


def replace_spans(line: str, matcher: LineMatcher, job: FileJob) -> str:
    """``line`` with each identifier span replaced by its entity type's operator (``[REDACTED]`` without one)."""
    out: list[str] = []
    end = 0
    for start, stop, entity in spans(line, matcher):
        if start < end:
            continue  # overlapping spans: the first one wins
        out.append(line[end:start])
        if entity not in job.span_operators:
            out.append("[REDACTED]")
        else:
            operator = job.span_operators[entity]
            out.append("" if operator is None else str(operator.apply(line[start:stop], entity)))
        end = stop
    out.append(line[end:])
    return "".join(out)
