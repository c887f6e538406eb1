"""What every file format shares: the reader base class, batches, blocks and problem counts.

A reader turns one file into one of two streams:

* **structured** readers (CSV/TSV, JSON, JSONL, Excel, Parquet) yield :class:`ColumnBatch`
  objects: a few thousand rows at a time as ``field -> cells``, so that the caller can keep a
  seeded reservoir sample of rows for the column classifier without ever holding the file;
* **text** readers (plain text, logs, Markdown and anything else that is not binary) yield
  :class:`TextBlock` objects: about a megabyte of whole lines with the line number they
  start at, for span detection.

Readers never raise for bad data inside a file: ragged rows, malformed JSON lines, invalid
byte sequences and overlong lines are counted in :class:`Problems`, which the scan reports
per file. Errors that end a file early (a truncated gzip, a corrupt workbook) propagate as
exceptions; the caller keeps what was read up to that point.
"""

from __future__ import annotations

import gzip
import io
import os
import tempfile
import zipfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar

#: Bytes read from the start of a file to sniff its format and encoding.
HEAD_BYTES = 64 * 1024
#: Lines longer than this (characters) are not parsed as a CSV row or JSON record; text
#: readers split them into pieces of this size instead, so a 50 MB single-line file is
#: scanned in bounded memory.
MAX_LINE_CHARS = 1024 * 1024
#: Characters of text handed to span detection at a time.
BLOCK_CHARS = 1024 * 1024
#: Rows per structured batch.
BATCH_ROWS = 5000

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(slots=True)
class Problems:
    """Bad input met inside one file: counted, reported, never fatal to the scan."""

    malformed: int = 0
    malformed_what: str = "records"
    ragged: int = 0
    invalid_bytes: int = 0
    overlong_lines: int = 0
    notes: list[str] = field(default_factory=list)

    def messages(self) -> list[str]:
        """One data-free line per kind of problem, for the scan report."""
        out = []
        if self.malformed:
            out.append(f"{self.malformed:,} malformed {self.malformed_what} skipped (the rest was scanned)")
        if self.ragged:
            out.append(f"{self.ragged:,} ragged rows (cell count differs from the header; cells padded or cut)")
        if self.invalid_bytes:
            out.append(f"{self.invalid_bytes:,} invalid byte sequences replaced while decoding")
        if self.overlong_lines:
            out.append(f"{self.overlong_lines:,} lines over {MAX_LINE_CHARS:,} characters not parsed as records")
        out.extend(self.notes)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "malformed": self.malformed,
            "ragged": self.ragged,
            "invalid_bytes": self.invalid_bytes,
            "overlong_lines": self.overlong_lines,
            "notes": list(self.notes),
        }


@dataclass(slots=True)
class ColumnBatch:
    """Rows of a structured file as ``field -> cells``; every list has ``rows`` cells.

    A cell is ``None`` (absent or empty), a scalar, or a list of scalars (a JSON array
    addressed as ``[*]`` holds several values in one row).
    """

    columns: dict[str, list[Any]]
    rows: int
    #: ``field -> kind`` where the format declares types (Parquet); inferred otherwise.
    kinds: dict[str, str] = field(default_factory=dict)
    #: ``field -> type name`` for the inventory (``"csv column"``, ``"parquet int64"``).
    types: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class TextBlock:
    """Whole lines of text joined by ``\\n``; the first starts at ``first_line``/``first_column``.

    ``first_column`` is 0 except when an overlong line was split and this block continues
    it. Lines and columns are 1-based in reports; here ``first_line`` is 1-based and
    ``first_column`` a 0-based character offset.
    """

    text: str
    first_line: int
    first_column: int = 0


@dataclass(slots=True)
class FileInput:
    """A file opened for reading: gzip unwrapped, encoding known, format chosen."""

    path: Path
    name: str
    compressed: bool
    head: bytes
    encoding: str | None = None
    #: Why a compressed stream ended early ("truncated gzip"), or None.
    damaged: str | None = None
    _temp: Path | None = None

    def open_binary(self) -> IO[bytes]:
        """The decompressed bytes, as a stream (a new one on each call; the caller closes it).

        A truncated or corrupt gzip ends the stream early instead of raising, and sets
        :attr:`damaged`: readers then finish normally with what they got (the rows of a
        half-written export are still scanned) and the scan reports the damage.
        """
        if self.compressed:
            return io.BufferedReader(_GuardedGzip(self), buffer_size=256 * 1024)
        return open(self.path, "rb")

    def open_text(self) -> IO[str]:
        """Decoded text with universal newlines; undecodable bytes become U+FFFD."""
        return io.TextIOWrapper(
            self.open_binary(), encoding=self.encoding or "utf-8", errors="replace", newline=None
        )

    def local_path(self, limit: int) -> Path:
        """A seekable file on disk with the decompressed content (Excel, Parquet need one).

        A gzipped workbook is decompressed to a temporary file of at most ``limit`` bytes;
        :meth:`close` removes it.
        """
        if not self.compressed:
            return self.path
        if self._temp is None:
            fd, name = tempfile.mkstemp(prefix="govkit-", suffix=Path(self.name).suffix)
            self._temp = Path(name)
            with os.fdopen(fd, "wb") as out, self.open_binary() as source:
                copied = 0
                while chunk := source.read(1024 * 1024):
                    copied += len(chunk)
                    if copied > limit:
                        raise TooLarge(f"decompresses to more than {limit:,} bytes")
                    out.write(chunk)
        return self._temp

    def close(self) -> None:
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)
            self._temp = None


class _GuardedGzip(io.RawIOBase):
    """A gzip stream that turns a truncated or corrupt end into EOF, noting it on the input."""

    def __init__(self, owner: FileInput) -> None:
        self.owner = owner
        self.inner = gzip.open(owner.path, "rb")  # noqa: SIM115 - closed in close()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            return int(self.inner.readinto(buffer))
        except EOFError:
            self.owner.damaged = "truncated gzip: partial results kept"
        except (OSError, zlib.error) as exc:
            self.owner.damaged = f"corrupt gzip ({type(exc).__name__}): partial results kept"
        return 0

    def close(self) -> None:
        self.inner.close()
        super().close()


class TooLarge(Exception):
    """The file (or its decompressed content) is over the size limit."""


class Reader(ABC):
    """One file format. Subclasses set the class attributes and implement one stream."""

    #: Registry key and the ``format`` shown in reports.
    name: ClassVar[str]
    #: Lower-case file name endings (``".csv"``) that select this reader.
    extensions: ClassVar[tuple[str, ...]] = ()
    #: Structured readers yield :class:`ColumnBatch`, text readers :class:`TextBlock`.
    structured: ClassVar[bool] = True
    #: Binary formats (Excel, Parquet) are exempt from the binary-content check.
    binary: ClassVar[bool] = False

    def __init__(self, source: FileInput, problems: Problems, *, max_bytes: int = 0) -> None:
        self.source = source
        self.problems = problems
        self.max_bytes = max_bytes

    @classmethod
    def sniff(cls, source: FileInput) -> bool:
        """Does the content (its first bytes, or the file) look like this format?

        Called for files whose extension selects this reader (a ``False`` sends the file on
        to content sniffing) and, for formats with a signature, for files of any name.
        """
        return True

    @classmethod
    def signature(cls, source: FileInput) -> bool:
        """True if the content alone proves the format, whatever the file is called."""
        return False

    def batches(self) -> Iterator[ColumnBatch]:
        """Structured readers: the rows, a batch at a time."""
        raise NotImplementedError(f"{self.name} is a text format")

    def blocks(self) -> Iterator[TextBlock]:
        """Text readers: the text, a block of whole lines at a time."""
        raise NotImplementedError(f"{self.name} is a structured format")

    @abstractmethod
    def describe(self) -> str:
        """The field type shown in the inventory (``"csv column"``, ``"text"``)."""


def iter_lines(stream: IO[str], problems: Problems, *, keepends: bool = False) -> Iterator[str]:
    """Lines of ``stream``; lines over :data:`MAX_LINE_CHARS` are dropped and counted.

    ``readline(limit)`` never holds more than one limit's worth of a line, so a 50 MB
    line costs a megabyte of memory, not fifty.
    """
    while True:
        line = stream.readline(MAX_LINE_CHARS)
        if not line:
            return
        if line.endswith("\n") or len(line) < MAX_LINE_CHARS:
            if "\ufffd" in line:
                problems.invalid_bytes += line.count("\ufffd")
            yield line if keepends or not line.endswith("\n") else line[:-1]
            continue
        problems.overlong_lines += 1
        while True:
            rest = stream.readline(MAX_LINE_CHARS)
            if not rest or rest.endswith("\n"):
                break


def text_blocks(stream: IO[str], problems: Problems) -> Iterator[TextBlock]:
    """Blocks of whole lines from ``stream``, each about :data:`BLOCK_CHARS` characters.

    The incomplete last line of a read is carried into the next block. A line longer than
    :data:`MAX_LINE_CHARS` is cut at its last whitespace before the limit (or at the limit)
    and continued in the next block with a column offset, so positions stay exact.
    """
    line = 1
    column = 0
    carry = ""
    while True:
        chunk = stream.read(BLOCK_CHARS)
        text = carry + chunk if carry else chunk
        if not text:
            return
        if not chunk:
            problems.invalid_bytes += text.count("\ufffd")
            yield TextBlock(text, line, column)
            return
        cut = text.rfind("\n")
        if cut >= 0:
            body, carry = text[:cut], text[cut + 1 :]
            problems.invalid_bytes += body.count("\ufffd")
            yield TextBlock(body, line, column)
            line += body.count("\n") + 1
            column = 0
        else:
            carry = text
        while len(carry) > MAX_LINE_CHARS:
            split = carry.rfind(" ", MAX_LINE_CHARS - 4096, MAX_LINE_CHARS)
            split = split + 1 if split > 0 else MAX_LINE_CHARS
            piece, carry = carry[:split], carry[split:]
            problems.invalid_bytes += piece.count("\ufffd")
            yield TextBlock(piece, line, column)
            column += len(piece)


def zip_names(path: Path) -> list[str]:
    """Entry names of a zip file, or [] when it is not one (workbook sniffing)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return []
