"""Locating a subject in file sources: the lines (CSV rows, JSON lines, log lines) that hold an identifier.

Files have no keys or references, so a match is a line: its number is what export hands over
and what erasure reports. Text formats only (CSV/TSV, JSON, JSONL, logs, plain text, gzip of
those); binary formats (Excel, Parquet) are reported as not searched rather than guessed at,
and so is a file that cannot be read: the report is then incomplete, never silently empty.

**E-mail addresses** are found as a whole address in any case, in the spellings files and logs
use: bare, quoted (``'a@b.com'``, ``"a@b.com"``), in angle brackets, after ``user=``,
``mailto:``, URL-encoded (``a%40b.com``, any character of the address as ``%XX``) and as an
HTML entity (``a&#64;b.com``). Never as part of another address: ``ann@x.com`` is not found in
``joann@x.com``, ``jo.ann@x.com``, ``o'ann@x.com`` or ``ann@x.com.au`` (other people).

**Phones** are matched by their digits: every phone-like run of a line (``+``, digits and the
usual punctuation, ``%20`` and ``%2B`` included) is split into its digit groups, and a
sequence of whole groups whose digits are the subject's E.164, national, ``00``/``011``
international or ``+CC (0)`` form is a match, so ``+55 (12) 3923-5555`` in a log finds the
subject given as ``+551239235555``, and so does ``2024-01-05 12 3923-5555``. A run that starts
with an international prefix is matched from its start only: ``+1 207 946 0000`` is not the UK
number ``020 7946 0000``. :meth:`LineMatcher.spans` gives the positions, for the rewrite.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from govkit.actions.dsr.locate import LocateReport, TableHit, normalize_email, phone_forms
from govkit.inventory.store import AssetRecord
from govkit.sources.formats import FileInput, open_input
from govkit.workspace import SourceConfig


class _PhoneRuns:
    """Phone-like runs of a line: an optional international ``+`` (or URL-encoded ``%2B``) or
    ``(``, then digits with the usual punctuation (``%20`` is a URL-encoded space). The pattern
    that knows URL encoding is slower, so it only runs over lines that have a ``%``."""

    plain = re.compile(r"\+?\(?\d[\d\s().\-/]{5,}\d")
    encoded = re.compile(r"(?:\+|%2[Bb])?\(?\d(?:%20|[\d\s().\-/]){5,}\d")

    def finditer(self, line: str) -> Iterator[re.Match[str]]:
        return (self.encoded if "%" in line else self.plain).finditer(line)


_PHONE_RUN = _PhoneRuns()
_NOT_DIGITS = re.compile(r"\D")
_ENCODED_OR_NOT_DIGITS = re.compile(r"%2[0Bb]|\D")
#: The digit groups of a run; ``%20`` and ``%2B`` are separators, not digits.
_GROUP = re.compile(r"%2[0Bb]|\d+")
#: Before the subject's address: not a character that continues a local part in practice
#: (letters, digits, ``.``, ``_``, ``+``, ``-``), nor an apostrophe inside a name (``o'ann``);
#: ``=``, quotes, ``<``, ``:``, ``/`` and the like are delimiters (``user=``, ``mailto:``). The
#: URL encoding of a delimiter (``%3C``, ``%22``, ``%3D``...; not ``%2B``, ``%2D``, ``%2E``,
#: ``%5F``, which continue an address) directly before also delimits.
_LOCAL_BEFORE = (r"(?:(?<=%(?:0[0-9A-Fa-f]|2[0-9ACFacf]|3[A-Fa-f]|5[B-Eb-e]|60|7[B-Eb-e]))"
                 r"|(?<![\w.+\-])(?<!\w'))")
#: After the domain: not a character that would make it a longer domain (``ann@x.com.au``).
_DOMAIN_AFTER = r"(?![\w-]|\.[\w-])"
#: The spellings of ``@``: itself, URL-encoded, HTML entities.
_AT = r"(?:@|%40|&\#64;|&\#x40;)"
#: Lines longer than this are cut before matching: a match must not cost unbounded memory.
MAX_LINE = 1_000_000


def email_regex(email: str) -> re.Pattern[str]:
    """The address as a whole token, case-insensitive, in its common spellings (see the module
    docstring): every character but letters and digits may also be written ``%XX``."""
    parts = []
    for char in email:
        if char == "@":
            parts.append(_AT)
        elif char.isalnum() and char.isascii():
            parts.append(char)
        else:
            parts.append(f"(?:{re.escape(char)}|%{ord(char):02X})" if ord(char) < 128 else re.escape(char))
    return re.compile(_LOCAL_BEFORE + "".join(parts) + _DOMAIN_AFTER, re.IGNORECASE)


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
    """Does a line hold one of the subject's identifiers (e-mail, phone)? And where
    (:meth:`spans`)? Locate, export and the rewrite of erasure use this one matcher."""

    def __init__(self, subject: dict[str, str], region: str | None = None) -> None:
        self.email = normalize_email(subject["email"]) if subject.get("email") else None
        #: the address as a whole token (case-insensitive), never as part of a longer address
        self.email_pattern = email_regex(self.email) if self.email else None
        #: cheap test before the regex: the first letters and digits of the local part and of
        #: the domain, which no spelling encodes
        local, _, domain = (self.email or "").rpartition("@")
        self._lead = re.sub(r"[^a-z0-9].*", "", local, flags=re.DOTALL)
        self._domain = re.sub(r"[^a-z0-9].*", "", domain, flags=re.DOTALL)
        self.digits: set[str] = set()
        if subject.get("phone"):
            _, digits = phone_forms(subject["phone"], region)
            self.digits = {d for d in digits if len(d) >= 6}
        self._longest = max((len(d) for d in self.digits), default=0)
        self._shortest = min((len(d) for d in self.digits), default=0)

    @property
    def empty(self) -> bool:
        return self.email is None and not self.digits

    def _may_hold_email(self, line: str) -> bool:
        lower = line.lower()
        return self._lead in lower and self._domain in lower

    def phone_spans(self, run: re.Match[str]) -> list[tuple[int, int]]:
        """Where in a :data:`_PHONE_RUN` match the subject's phone is: ``(start, end)`` in the line.

        A match is a sequence of whole digit groups whose digits are one of the subject's forms,
        the longest from the leftmost group; a run that starts with an international prefix
        (``+``, ``%2B``, ``00``) only from its first group."""
        text = run.group()
        digits_only = (_ENCODED_OR_NOT_DIGITS if "%" in text else _NOT_DIGITS).sub("", text)
        if len(digits_only) < self._shortest or not any(d in digits_only for d in self.digits):
            return []  # the common case, cheaply: no form of the number is in this run at all
        groups = [g for g in _GROUP.finditer(text) if g.group()[0] != "%"]
        international = text.startswith(("+", "%2B", "%2b")) or groups[0].group().startswith("00")
        out: list[tuple[int, int]] = []
        i = 0
        while i < len(groups):
            best = None
            digits = ""
            for j in range(i, len(groups)):
                digits += groups[j].group()
                if len(digits) > self._longest:
                    break
                if digits in self.digits:
                    best = j
            if best is None:
                if international:
                    break
                i += 1
                continue
            line = run.string
            start = run.start() if i == 0 else run.start() + groups[i].start()
            end = run.start() + groups[best].end()
            if start > run.start() and line[start - 1] == "(":
                start -= 1  # the opening bracket of an area code
            span = line[start:end]
            if span.count("(") > span.count(")") and line[end:end + 1] == ")":
                end += 1  # the closing bracket of an area code that ends the number
            out.append((start, end))
            i = best + 1
        return out

    def spans(self, line: str) -> list[tuple[int, int, str]]:
        """``(start, end, kind)`` of the subject's identifiers in ``line`` (``kind``: ``email``
        or ``phone``), left to right."""
        found: list[tuple[int, int, str]] = []
        if self.email_pattern is not None and self._may_hold_email(line):
            found += [(m.start(), m.end(), "email") for m in self.email_pattern.finditer(line)]
        if self.digits:
            for run in _PHONE_RUN.finditer(line):
                found += [(start, end, "phone") for start, end in self.phone_spans(run)]
        return sorted(found)

    def __call__(self, line: str) -> bool:
        if self.email_pattern is not None and self._may_hold_email(line) and self.email_pattern.search(line):
            return True
        if self.digits:
            for run in _PHONE_RUN.finditer(line):
                if self.phone_spans(run):
                    return True
        return False


def read_lines(path: Path) -> Iterator[str] | None:
    """The decoded lines of a text file (gzip unwrapped); None for a binary format."""
    opened = _open_lines(path)
    return None if opened is None else opened[1]


def _open_lines(path: Path) -> tuple[FileInput, Iterator[str]] | None:
    """The input (its ``damaged`` says, once the lines are read, whether a gzip ended early) and
    its decoded lines; None for a binary format."""
    source, reader = open_input(path)
    if reader is None or reader.binary:
        return None

    def lines() -> Iterator[str]:
        with source.open_binary() as raw:
            text = io.TextIOWrapper(raw, encoding=source.encoding or "utf-8", errors="replace", newline="")
            for line in text:
                yield line[:MAX_LINE].rstrip("\r\n")

    return source, lines()


def locate_files(config: SourceConfig, display: str, assets: list[AssetRecord], subject: dict[str, str],
                 report: LocateReport, region: str | None = None, *, source_name: str | None) -> None:
    """Add a ``subject`` hit per file with matching lines; keys are 1-based line numbers.

    ``display`` is the inventory's key for the source, ``source_name`` its workspace name (None
    for a folder scanned by path). A file that cannot be read (gone, unreadable, a binary format,
    damaged) is recorded in ``report.not_searched`` and the other files are still searched.
    """
    matcher = LineMatcher(subject, region)
    if matcher.empty:
        return
    root = file_root(config)

    def gap(asset: str, reason: str) -> None:
        report.not_searched_add("file", display, source_name, asset, reason)

    for asset in assets:
        path = root / asset.name if root.is_dir() else root
        if not path.is_file():
            gap(asset.name, "no longer present")
            continue
        try:
            opened = _open_lines(path)
            if opened is None:
                gap(asset.name, "binary format (workbook, Parquet): not searched")
                continue
            source, lines = opened
            numbers = [(number,) for number, line in enumerate(lines, start=1) if matcher(line)]
        except Exception as exc:  # unreadable, undecodable...: this file only
            gap(asset.name, f"cannot be read: {type(exc).__name__}")
            continue
        if source.damaged:  # the lines before the damage were searched, and their hits are kept
            gap(asset.name, f"only partly searched: {source.damaged.removesuffix(': partial results kept')}")
        if numbers:
            report.hits.append(TableHit(display, source_name, asset.name, "subject", len(numbers),
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
