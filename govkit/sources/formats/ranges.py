"""Byte ranges of a big text file, cut at line boundaries, so parts scan in parallel.

One 2 GB log is one task for one worker process unless it is cut: with ``--jobs 2`` the
second core would sit idle. :func:`line_ranges` cuts a file into parts of about
:data:`PART_BYTES` each, every cut just after a ``\\n`` byte, and :func:`range_blocks` reads
one part as text blocks, exactly as the text reader reads a whole file.

The part size is a constant, never derived from ``--jobs``: which lines share a part, and so
every seeded choice made per part, is the same whatever the number of workers, and results
do not depend on ``--jobs``. Only files that can be cut at a byte are cut: not gzip (no
seeking), and only in encodings where the byte ``0x0A`` is always a line feed (UTF-8, the
single-byte code pages, GB18030; not UTF-16 or UTF-32).

Line numbers of a part are counted from 1; the caller shifts them by the lines of the parts
before it once those are known, so no pass over the file is needed to find where a part
starts.
"""

from __future__ import annotations

import codecs
import io
import itertools
import os
from collections.abc import Iterator
from typing import Any

from govkit.sources.formats.base import FileInput, Problems, TextBlock, text_blocks

#: Bytes per part. Big enough that per-part costs (a worker round trip, a share of the NER
#: sample) vanish; small enough that two or more workers share a few hundred megabytes evenly.
PART_BYTES = 16 * 1024 * 1024

#: Encodings in which a ``0x0A`` byte is a line feed and never part of another character.
_SPLITTABLE = frozenset(
    {"utf_8", "utf_8_sig", "ascii", "latin_1", "iso8859_1", "cp1252", "gb18030", "gbk", "gb2312", "big5"}
)


def splittable(source: FileInput) -> bool:
    """Whether ``source`` can be read in byte ranges (plain file, line-feed-safe encoding)."""
    if source.compressed:
        return False
    try:
        name = codecs.lookup(source.encoding or "utf-8").name.replace("-", "_")
    except LookupError:
        return False
    return name in _SPLITTABLE


def line_ranges(path: str | os.PathLike[str], size: int, part_bytes: int = PART_BYTES) -> list[tuple[int, int]]:
    """``(start, end)`` byte ranges covering the file, each cut right after a line feed.

    A file of at most ``part_bytes`` (or one without line feeds after a cut point) is one
    range; a bigger one is cut into as many ranges of about equal size as it takes to keep
    each at most ``part_bytes`` (plus the rest of a line). The ranges are contiguous, in
    order, and never empty.
    """
    if size <= part_bytes:
        return [(0, size)]
    # Equal shares (a 20 MB file in two halves, not 16 + 4), so parallel parts end together.
    count = -(-size // part_bytes)
    step = -(-size // count)
    cuts = [0]
    with open(path, "rb") as handle:
        target = step
        while target < size:
            handle.seek(target)
            found = -1
            position = target
            while found < 0:
                chunk = handle.read(64 * 1024)
                if not chunk:
                    break
                found = chunk.find(b"\n")
                if found < 0:
                    position += len(chunk)
            if found < 0:
                break  # no line feed after target: the rest belongs to the last part
            cut = position + found + 1
            if cut >= size:
                break
            cuts.append(cut)
            target = cut + step
    cuts.append(size)
    return list(itertools.pairwise(cuts))


class _Slice(io.RawIOBase):
    """``end - start`` bytes of a file from ``start``, as a raw stream."""

    def __init__(self, path: str | os.PathLike[str], start: int, end: int) -> None:
        self.handle = open(path, "rb")  # noqa: SIM115 - closed in close()
        self.handle.seek(start)
        self.left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            return 0
        view = memoryview(buffer)[: self.left]
        count = self.handle.readinto(view)
        self.left -= count
        return count

    def close(self) -> None:
        self.handle.close()
        super().close()


def range_blocks(source: FileInput, start: int, end: int, problems: Problems) -> Iterator[TextBlock]:
    """Text blocks of bytes ``start:end`` of ``source``; line numbers count from 1 in the range.

    A byte-order mark is only expected (and dropped) at the very start of the file.
    """
    encoding = source.encoding or "utf-8"
    if start > 0 and codecs.lookup(encoding).name == "utf-8-sig":
        encoding = "utf-8"
    raw = io.BufferedReader(_Slice(source.path, start, end), buffer_size=1024 * 1024)
    with io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=None) as stream:
        yield from text_blocks(stream, problems)


__all__ = ["PART_BYTES", "line_ranges", "range_blocks", "splittable"]
