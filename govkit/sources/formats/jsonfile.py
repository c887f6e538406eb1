"""JSON and JSON Lines: every scalar addressed by its JSON path, arrays as ``[*]``.

A field is a path such as ``$.user.email``; array elements share one path
(``$.items[*].phone``), so a thousand orders in a document are one column of phone numbers,
not a thousand columns. A top-level array of records is written ``$[*].user.email``. Keys
that are not identifiers are bracketed (``$['e-mail']``); Chinese keys are identifiers
(``$.客户.手机号``).

A ``.json`` document is parsed as a stream of events (ijson's C backend), so a 2 GB export
never sits in memory. JSON Lines is parsed line by line; a malformed line is counted and
skipped. Distinct paths are capped per file (:data:`MAX_PATHS`): documents keyed by user
id would otherwise make every id a column.

Nesting is bounded (:func:`too_deep`, ``[limits].json_depth``, 512 by default): a document
nested deeper stops being read there (:class:`JsonTooDeep`: the scan keeps what was read
and lists the file as skipped with the reason), and a deeper JSON line is skipped and
counted. Without the bound, 600 KB of ``{"a":`` cost gigabytes (a path per level, each
longer than the last) and ``json.loads`` raised ``RecursionError``.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterator
from typing import IO, Any, ClassVar

from govkit import limits
from govkit.sources.formats.base import BATCH_ROWS, ColumnBatch, FileInput, Reader, iter_lines

#: Distinct paths analysed per file; values under further paths are counted, not sampled.
MAX_PATHS = 1000
#: Nesting deeper than this is flattened into the path at this depth.
MAX_DEPTH = 64
#: Scalar values per batch for whole JSON documents.
BATCH_VALUES = 50_000
#: A JSON path longer than this (characters) ends reading, like nesting beyond the limit:
#: the paths of the open containers are kept, and keys of a megabyte each, nested a few
#: hundred levels, would otherwise make them gigabytes.
MAX_PATH_CHARS = 65_536


class JsonTooDeep(ValueError):
    """JSON nested deeper than ``[limits].json_depth`` (or a path too long to keep)."""

    def __init__(self, limit: int, *, path_chars: bool = False) -> None:
        self.limit = limit
        #: The line (JSON Lines), when the reader knows it.
        self.line: int | None = None
        if path_chars:
            message = f"a JSON path longer than {limit:,} characters"
        else:
            message = f"JSON nested deeper than {limit:,} levels (limit: json_depth in govkit.toml)"
        super().__init__(message)


def depth_limit() -> int:
    return limits.active().json_depth


_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def too_deep(text: str, limit: int | None = None) -> bool:
    """Whether the JSON ``text`` nests deeper than ``limit`` (default: the active limit).

    Cheap where it matters: fewer brackets than the limit (nearly every record) is decided
    by two ``str.count`` calls; otherwise strings are cut out and brackets counted, without
    building anything.
    """
    limit = depth_limit() if limit is None else limit
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match[0] in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def loads(text: str) -> Any:
    """``json.loads`` behind the depth guard: :class:`JsonTooDeep` instead of deep recursion."""
    limit = depth_limit()
    if too_deep(text, limit):
        raise JsonTooDeep(limit)
    try:
        return json.loads(text)
    except RecursionError:  # a limit set above what the interpreter's stack allows
        raise JsonTooDeep(limit) from None


def path_key(key: str) -> str:
    """One JSONPath step for an object key: ``.email`` or ``['e-mail']``."""
    if key.isidentifier():
        return f".{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"['{escaped}']"


class _PathBatch:
    """Values gathered per path until a batch is full."""

    def __init__(self, describe: str) -> None:
        self.columns: dict[str, list[Any]] = {}
        self.describe = describe
        self.values = 0
        self.dropped_paths: set[str] = set()
        self.known: set[str] = set()
        self.taken = 0

    def add(self, path: str, value: Any) -> None:
        column = self.columns.get(path)
        if column is None:
            if path not in self.known and len(self.known) >= MAX_PATHS:
                self.dropped_paths.add(path)
                return
            self.known.add(path)
            column = self.columns[path] = []
        column.append(value)
        self.values += 1

    def take(self, records: int) -> ColumnBatch:
        """The values so far; ``records`` is the running total, the batch gets its share."""
        batch = ColumnBatch(self.columns, records - self.taken, types=dict.fromkeys(self.columns, self.describe))
        self.columns = {}
        self.values = 0
        self.taken = records
        return batch


def flatten(value: Any, path: str, out: _PathBatch, depth: int = 0) -> None:
    """Add every scalar under ``value`` to ``out`` by its JSON path."""
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            out.add(path, json.dumps(value, ensure_ascii=False)[:10_000])
            return
        for key, item in value.items():
            flatten(item, path + path_key(str(key)), out, depth + 1)
    elif isinstance(value, list):
        if depth >= MAX_DEPTH:
            out.add(path, json.dumps(value, ensure_ascii=False)[:10_000])
            return
        for item in value:
            flatten(item, path + "[*]", out, depth + 1)
    else:
        out.add(path, value)


class JsonLinesReader(Reader):
    """One JSON value per line (``.jsonl``, ``.ndjson``, or content that looks like it)."""

    name: ClassVar[str] = "jsonl"
    extensions: ClassVar[tuple[str, ...]] = (".jsonl", ".ndjson", ".jsonlines")

    def describe(self) -> str:
        return "json path"

    @classmethod
    def signature(cls, source: FileInput) -> bool:
        """At least two leading lines that are each a whole JSON object or array."""
        return _leading_records(source.head) >= 2

    def batches(self) -> Iterator[ColumnBatch]:
        self.problems.malformed_what = "JSON lines"
        out = _PathBatch(self.describe())
        rows = 0
        deep = 0
        with self.source.open_text() as stream:
            for line in iter_lines(stream, self.problems):
                if not line.strip():
                    continue
                try:
                    record = loads(line)
                except JsonTooDeep:
                    deep += 1
                    continue
                except ValueError:
                    self.problems.malformed += 1
                    continue
                rows += 1
                flatten(record, "$", out)
                if out.values >= BATCH_VALUES or rows % BATCH_ROWS == 0:
                    yield out.take(rows)
        yield out.take(rows)
        if deep:
            self.problems.notes.append(
                f"{deep:,} JSON lines nested deeper than {depth_limit():,} levels skipped "
                "(limit: json_depth in govkit.toml)"
            )
        if out.dropped_paths:
            self.problems.notes.append(
                f"{len(out.dropped_paths):,} JSON paths beyond the first {MAX_PATHS:,} not analysed"
            )


class JsonReader(Reader):
    """A JSON document, parsed as a stream of events."""

    name: ClassVar[str] = "json"
    extensions: ClassVar[tuple[str, ...]] = (".json", ".geojson")

    def describe(self) -> str:
        return "json path"

    @classmethod
    def sniff(cls, source: FileInput) -> bool:
        """A ``.json`` file holding one object per line is JSON Lines, not a document."""
        return _leading_records(source.head) < 2

    @classmethod
    def signature(cls, source: FileInput) -> bool:
        """Starts like a JSON object or an array of values (``[INFO]`` does not)."""
        text = source.head.lstrip(codecs.BOM_UTF8).lstrip()[:64]
        return (text.startswith(b"{") and text[1:].lstrip()[:1] in (b'"', b"}")) or (
            text.startswith(b"[") and text[1:].lstrip()[:1] in (b"{", b"[", b'"', b"]")
        )

    def batches(self) -> Iterator[ColumnBatch]:
        import ijson  # type: ignore[import-untyped]

        out = _PathBatch(self.describe())
        stack: list[str] = []  # paths of the open containers
        arrays: list[bool] = []  # whether each open container is an array
        key: str | None = None
        records = 0
        limit = depth_limit()
        stopped: JsonTooDeep | None = None
        with self._utf8() as stream:
            try:
                # basic_parse: no prefix string built per event (ijson.parse's cost grows with depth)
                for event, value in ijson.basic_parse(stream, use_float=True):
                    if event == "map_key":
                        key = str(value)
                        continue
                    if event in ("end_map", "end_array"):
                        stack.pop()
                        arrays.pop()
                        key = None
                        continue
                    if not stack:
                        here = "$"
                    elif arrays[-1]:
                        here = stack[-1] + "[*]"
                    else:
                        here = stack[-1] + path_key(key or "")
                    if len(stack) == 1 and arrays[0]:
                        records += 1  # an element of a top-level array is a record
                    if event in ("start_map", "start_array"):
                        if len(stack) >= limit:
                            raise JsonTooDeep(limit)
                        if len(here) > MAX_PATH_CHARS:
                            raise JsonTooDeep(MAX_PATH_CHARS, path_chars=True)
                        stack.append(here)
                        arrays.append(event == "start_array")
                        key = None
                    else:
                        out.add(here, value)
                        if out.values >= BATCH_VALUES:
                            yield out.take(max(records, 1))
            except ijson.JSONError:
                self.problems.malformed += 1
                self.problems.malformed_what = "JSON documents (invalid JSON; values before the error were scanned)"
            except JsonTooDeep as exc:
                stopped = exc  # the values read so far are handed over first
        yield out.take(max(records, 1))
        if out.dropped_paths:
            self.problems.notes.append(
                f"{len(out.dropped_paths):,} JSON paths beyond the first {MAX_PATHS:,} not analysed"
            )
        if stopped is not None:
            raise stopped

    def _utf8(self) -> IO[bytes]:
        """The document as UTF-8 bytes, as ijson wants them (BOM dropped, others re-encoded)."""
        encoding = (self.source.encoding or "utf-8").lower()
        stream = self.source.open_binary()
        if encoding == "utf-8":
            return stream
        if encoding == "utf-8-sig":
            stream.read(len(codecs.BOM_UTF8))
            return stream
        recoded: IO[bytes] = io.BufferedReader(_Recoded(io.TextIOWrapper(stream, encoding=encoding, errors="replace")))
        return recoded


class _Recoded(io.RawIOBase):
    """Bytes in UTF-8 read from a text stream in another encoding (GB18030, UTF-16 JSON)."""

    def __init__(self, text: IO[str]) -> None:
        self.text = text
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        while len(self.pending) < size:
            chunk = self.text.read(max(size // 2, 4096))
            if not chunk:
                break
            self.pending += chunk.encode("utf-8")
        data, self.pending = self.pending[:size], self.pending[size:]
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.text.close()
        super().close()


def _leading_records(head: bytes) -> int:
    """How many of the first lines are each a complete JSON object or array (max 3)."""
    count = 0
    for raw in head.split(b"\n")[:4]:
        line = raw.strip().lstrip(codecs.BOM_UTF8)
        if not line:
            continue
        if not line.startswith((b"{", b"[")):
            return count
        try:
            loads(line.decode("utf-8", "replace"))
        except ValueError:  # JsonTooDeep too
            return count
        count += 1
        if count >= 3:
            break
    return count
