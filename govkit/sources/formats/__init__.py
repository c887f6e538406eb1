"""File formats behind one registry: pick a reader by extension and content, read in batches.

Adding a format is one module with a :class:`~govkit.sources.formats.base.Reader` subclass
and one line in :data:`READERS`. :func:`open_input` does what every format needs first and
only once: unwrapping gzip, sniffing binary content, guessing the text encoding, and choosing
the reader by content *and* extension. A PNG renamed ``.txt`` is binary; a ``.json`` file
holding one object per line is JSONL; a workbook or Parquet file is known by its signature
whatever it is called; any other text is scanned as plain text, so a ``.yaml`` or ``.sql``
file leaking customer e-mails is not silently passed over.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import IO

from govkit.sources.formats._encoding import detect_encoding, looks_binary
from govkit.sources.formats.base import (
    BATCH_ROWS,
    GZIP_MAGIC,
    HEAD_BYTES,
    ColumnBatch,
    FileInput,
    Problems,
    Reader,
    TextBlock,
    TooLarge,
    iter_lines,
    text_blocks,
)
from govkit.sources.formats.csvfile import CsvReader, TsvReader
from govkit.sources.formats.excel import ExcelReader
from govkit.sources.formats.jsonfile import JsonLinesReader, JsonReader
from govkit.sources.formats.parquetfile import ParquetReader
from govkit.sources.formats.textfile import TextReader

#: The registry, one line per format. Order breaks ties in content sniffing: earlier wins.
READERS: dict[str, type[Reader]] = {
    "xlsx": ExcelReader,
    "parquet": ParquetReader,
    "jsonl": JsonLinesReader,
    "json": JsonReader,
    "tsv": TsvReader,
    "csv": CsvReader,
    "text": TextReader,
}


def open_input(path: Path) -> tuple[FileInput, type[Reader] | None]:
    """Open ``path``: unwrap gzip, sniff, choose a reader (``None``: a binary file)."""
    with open(path, "rb") as raw:
        head = raw.read(HEAD_BYTES)
    name = path.name
    compressed = head.startswith(GZIP_MAGIC)
    if compressed:
        name = name[:-3] if name.lower().endswith(".gz") else name
        with gzip.open(path, "rb") as inner:
            head = _read_upto(inner, HEAD_BYTES)  # type: ignore[arg-type]  # GzipFile reads bytes
    source = FileInput(path=path, name=name, compressed=compressed, head=head)
    reader = choose_reader(source)
    if reader is not None and not reader.binary:
        source.encoding = detect_encoding(head)
    return source, reader


def choose_reader(source: FileInput) -> type[Reader] | None:
    """The reader for ``source``: by signature, then extension, then content; None if binary."""
    for reader in READERS.values():
        if reader.binary and reader.signature(source):
            return reader
    if looks_binary(source.head):
        return None
    lowered = source.name.lower()
    for reader in READERS.values():
        if not reader.binary and lowered.endswith(reader.extensions) and reader.sniff(source):
            return reader
    for reader in READERS.values():
        if not reader.binary and reader.signature(source):
            return reader
    return READERS["text"]


def _read_upto(stream: IO[bytes], size: int) -> bytes:
    """Up to ``size`` bytes, keeping what a truncated stream gave before it failed."""
    parts: list[bytes] = []
    got = 0
    try:
        while got < size:
            chunk = stream.read(min(65536, size - got))
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
    except (OSError, EOFError):
        pass  # truncated or corrupt: sniff what there is; reading the file reports the error
    return b"".join(parts)


__all__ = [
    "BATCH_ROWS",
    "READERS",
    "ColumnBatch",
    "FileInput",
    "Problems",
    "Reader",
    "TextBlock",
    "TooLarge",
    "choose_reader",
    "iter_lines",
    "open_input",
    "text_blocks",
]
