"""Locating a subject in file sources: the lines (CSV rows, JSON lines, log lines) that hold an identifier.

Files have no keys or references, so a match is a line: its number is what export hands over
and what erasure reports. Text formats only (CSV/TSV, JSON, JSONL, logs, plain text, gzip of
those); binary formats (Excel, Parquet) are reported as skipped rather than guessed at.

Phones are matched by their digits: every phone-like run of a line (``+``, digits and the
usual punctuation) is reduced to digits and compared with the subject's E.164 and national
digits, so ``+55 (12) 3923-5555`` in a log finds the subject given as ``+551239235555``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from govkit.actions.dsr.locate import LocateReport, TableHit, normalize_email, phone_forms
from govkit.inventory.store import AssetRecord
from govkit.sources.formats import open_input
from govkit.workspace import SourceConfig

_PHONE_RUN = re.compile(r"\+?\d[\d\s().\-/]{5,}\d")
#: Characters that may continue an e-mail address on either side: ``ann@x.com`` is not the
#: subject's address inside ``joann@x.com`` or ``ann@x.com.evil`` (another person's record).
_LOCAL_BEFORE = r"(?<![\w.!#$%&'*+/=?^`{|}~-])"
_DOMAIN_AFTER = r"(?![\w-]|\.[\w-])"
#: Lines longer than this are cut before matching: a match must not cost unbounded memory.
MAX_LINE = 1_000_000


def file_root(config: SourceConfig) -> Path:
    path = Path(config.path or "")
    if not path.is_absolute() and config.root is not None:
        path = config.root / path
    return path.resolve()


def file_path(config: SourceConfig, asset: str) -> Path:
    """The file an inventory asset of a file source names."""
    root = file_root(config)
    return root / asset if root.is_dir() else root


class LineMatcher:
    """Does a line hold one of the subject's identifiers? (e-mail, phone)."""

    def __init__(self, subject: dict[str, str], region: str | None = None) -> None:
        self.email = normalize_email(subject["email"]) if subject.get("email") else None
        #: the address as a whole token (case-insensitive), never as part of a longer address
        self.email_pattern = (re.compile(_LOCAL_BEFORE + re.escape(self.email) + _DOMAIN_AFTER, re.IGNORECASE)
                              if self.email else None)
        self.digits: set[str] = set()
        if subject.get("phone"):
            _, digits = phone_forms(subject["phone"], region)
            self.digits = {d for d in digits if len(d) >= 6}

    @property
    def empty(self) -> bool:
        return self.email is None and not self.digits

    def __call__(self, line: str) -> bool:
        if (self.email is not None and self.email_pattern is not None
                and self.email in line.lower() and self.email_pattern.search(line)):  # cheap test first
            return True
        if self.digits:
            for run in _PHONE_RUN.findall(line):
                if re.sub(r"\D", "", run) in self.digits:
                    return True
        return False


def read_lines(path: Path) -> Iterator[str] | None:
    """The decoded lines of a text file (gzip unwrapped); None for a binary format."""
    source, reader = open_input(path)
    if reader is None or reader.binary:
        return None

    def lines() -> Iterator[str]:
        with source.open_binary() as raw:
            text = io.TextIOWrapper(raw, encoding=source.encoding or "utf-8", errors="replace", newline="")
            for line in text:
                yield line[:MAX_LINE].rstrip("\r\n")

    return lines()


def locate_files(config: SourceConfig, display: str, assets: list[AssetRecord], subject: dict[str, str],
                 report: LocateReport, region: str | None = None) -> None:
    """Add a ``subject`` hit per file with matching lines; keys are 1-based line numbers."""
    matcher = LineMatcher(subject, region)
    if matcher.empty:
        return
    root = file_root(config)
    for asset in assets:
        path = root / asset.name if root.is_dir() else root
        if not path.is_file():
            report.skipped.append({"source": config.name, "reason": f"{asset.name}: no longer present"})
            continue
        try:
            lines = read_lines(path)
        except OSError as exc:
            report.skipped.append({"source": config.name, "reason": f"{asset.name}: {type(exc).__name__}"})
            continue
        if lines is None:
            report.skipped.append({"source": config.name, "reason": f"{asset.name}: binary format, not searched"})
            continue
        numbers = [(number,) for number, line in enumerate(lines, start=1) if matcher(line)]
        if numbers:
            report.hits.append(TableHit(display, config.name, asset.name, "subject", len(numbers),
                                        [f"{asset.name}: lines holding an identifier"], ["line"], numbers))


def file_rows(config: SourceConfig, asset: str, numbers: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """The matched lines, for an access package: ``{"line": n, "text": ...}``."""
    root = file_root(config)
    path = root / asset if root.is_dir() else root
    wanted = {n[0] for n in numbers}
    lines = read_lines(path)
    if lines is None:
        return []
    return [{"line": number, "text": line} for number, line in enumerate(lines, start=1) if number in wanted]
