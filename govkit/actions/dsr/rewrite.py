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
* **One file, one atomic swap, exactly once.** :func:`write_into` writes the new version into
  a 0600 temporary file beside the original (fsynced); the change engine journals the
  file's keyed digest, then ``os.replace``-s it in (see :mod:`govkit.change.run`). A crash
  leaves either the old file or the new one, never half of each, and the temporary file
  has a name the run knows, so ``govkit runs resume`` or ``abandon`` removes it. No backup
  copy of the original is made: it would be one more copy of other people's data.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from govkit.actions.anonymize.operators import Operator
from govkit.actions.dsr.files import _PHONE_RUN, LineMatcher
from govkit.errors import UsageError
from govkit.sources.formats import READERS, FileInput, Problems, open_input
from govkit.sources.formats.jsonfile import MAX_DEPTH, loads, path_key

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
    """A file could not be rewritten; it was left as it was."""


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


def write_into(job: FileJob, matcher: LineMatcher, fd: int) -> int:
    """Write the new version of ``job.path`` into the open temporary file ``fd`` (which this
    function fsyncs and closes); returns the records changed. Nothing is replaced here: the
    change engine swaps the file in (:meth:`~govkit.change.run.ChangeRun.file_unit`)."""
    try:
        source, reader = open_input(job.path)
        if reader is None or reader.name not in REWRITABLE:
            raise ValueError("the format changed since the plan")
        return _write(job, matcher, source, reader.name, source.encoding or "utf-8", fd)
    except Exception as exc:  # the type only: a message might quote the file's content
        with contextlib.suppress(OSError):
            os.close(fd)
        raise RewriteFailed(f"{job.path.name}: cannot be rewritten safely ({type(exc).__name__}); "
                            "it was left as it was") from None


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
            record = loads(raw)
        except ValueError:  # malformed, or nested beyond the limit: rewritten as text
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
    """``(start, end, entity type)`` of the subject's identifiers in ``line``, left to right.

    Exactly where :class:`LineMatcher` finds them, in every spelling it knows (quoted, ``user=``,
    ``mailto:``, URL-encoded, any case; phones in their national and international forms), so a
    record or line that matched always has its identifiers replaced."""
    found: list[tuple[int, int, str]] = []
    if matcher.email_pattern is not None:
        found += [(m.start(), m.end(), SPAN_ENTITIES["email"]) for m in re.finditer(matcher.email_pattern, line)]
    if matcher.digits:
        for run in _PHONE_RUN.finditer(line):
            found += [(start, stop, SPAN_ENTITIES["phone"]) for start, stop in matcher.phone_spans(run)]
    return sorted(found, key=lambda span: (span[0], -span[1]))


def replace_spans(line: str, matcher: LineMatcher, job: FileJob) -> str:
    """``line`` with each identifier span replaced by its entity type's operator (``[REDACTED]`` without one).

    Overlapping spans (a phone number that is also an e-mail's local part) are merged into one,
    replaced as the first one's entity: no part of either is left in clear."""
    merged: list[list[Any]] = []
    for start, stop, entity in spans(line, matcher):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
            continue
        merged.append([start, stop, entity])
    out: list[str] = []
    end = 0
    for start, stop, entity in merged:
        out.append(line[end:start])
        if entity not in job.span_operators:
            out.append("[REDACTED]")
        else:
            operator = job.span_operators[entity]
            out.append("" if operator is None else str(operator.apply(line[start:stop], entity)))
        end = stop
    out.append(line[end:])
    return "".join(out)
