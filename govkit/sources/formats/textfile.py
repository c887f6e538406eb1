"""Plain text, logs and Markdown: lines in blocks, for span detection with positions.

Anything that is not binary and not a structured format ends here (``.txt``, ``.log``,
``.md``, but also ``.yaml``, ``.sql`` or an extensionless ``README``), because personal data
leaks into every kind of text file. Lines are read in blocks of about a megabyte and an
overlong line is split into pieces with column offsets (:func:`text_blocks`), so a 2 GB log
or a 50 MB single-line file is scanned in bounded memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from govkit.sources.formats.base import Reader, TextBlock, text_blocks


class TextReader(Reader):
    """Free text, read as blocks of whole lines."""

    name: ClassVar[str] = "text"
    extensions: ClassVar[tuple[str, ...]] = (
        ".txt", ".text", ".log", ".out", ".err", ".md", ".markdown", ".rst", ".adoc",
    )  # fmt: skip
    structured: ClassVar[bool] = False

    def describe(self) -> str:
        return "text"

    def blocks(self) -> Iterator[TextBlock]:
        with self.source.open_text() as stream:
            yield from text_blocks(stream, self.problems)
