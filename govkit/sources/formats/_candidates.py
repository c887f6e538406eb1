"""Candidate tokens in a block of text, found with array operations instead of a regex scan.

Python's ``re`` steps through every position of the text for every alternative of a pattern:
on this kind of machine a single ``\\d{7}`` runs at about 10 MB/s over a log, and a pattern
for eight entity shapes at under 1 MB/s. Here the block is turned into an array of code
points once (UTF-32, so array offsets are string offsets), character classes become boolean
masks, and runs of those classes are found with a handful of vectorised operations, at
about the speed of copying the text a few times. Only the runs that have the shape of an
entity (seven or more digits, three dots, five colons, an ``@``...) come back to Python,
where the exact regular expressions confirm them.

Each candidate is ``(start, end, group)`` with a group of :data:`GROUPS`.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

GROUPS = ("email", "url", "mac", "ip", "number", "code", "crypto")

_Mask = npt.NDArray[np.bool_]
_Ints = npt.NDArray[np.int64]

_EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9][A-Za-z0-9\-]{0,62}(?:\.[A-Za-z0-9\-]{1,63})+")
_EMAIL_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_URL = re.compile(r"(?:https?|ftp)://[^\s\"'<>]{3,}|www\.[^\s\"'<>]{3,}")
_IP4 = re.compile(r"(?:\d{1,3}\.){3}\d{1,3}")
_IP6 = re.compile(r"(?=[0-9A-Fa-f:]*::|(?:[0-9A-Fa-f]{1,4}:){7})[0-9A-Fa-f:]{3,39}")
_MAC = re.compile(r"[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){5}")
_NUMBER = re.compile(r"\+?\(?\d(?:[ \-./()]{0,2}\d){6,24}[Xx]?")
_IBAN = re.compile(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?")
_CODE = re.compile(r"(?=[A-Z]*\d)[0-9A-Z]{18}|[A-Za-z]{1,2}\d{7,8}")
_CRYPTO = re.compile(r"[13][a-km-zA-HJ-NP-Z1-9]{25,34}|bc1[a-z0-9]{25,90}")

_DIGIT, _NUMSEP, _DOT, _COLON, _DASH, _UPPER, _LOWER, _DATESEP = (1, 2, 4, 8, 16, 32, 64, 128)


def _class_table() -> npt.NDArray[np.uint8]:
    """Character class bits for the ASCII range; everything else is 0."""
    table = np.zeros(128, dtype=np.uint8)
    for code in range(128):
        ch = chr(code)
        bits = 0
        bits |= _DIGIT if ch.isdigit() else 0
        bits |= _NUMSEP if ch in " -./()+" else 0
        bits |= _DOT if ch == "." else 0
        bits |= _COLON if ch == ":" else 0
        bits |= _DASH if ch == "-" else 0
        bits |= _UPPER if "A" <= ch <= "Z" else 0
        bits |= _LOWER if "a" <= ch <= "z" else 0
        bits |= _DATESEP if ch in "-/." else 0
        table[code] = bits
    return table


_TABLE = _class_table()


def _runs(mask: _Mask) -> tuple[_Ints, _Ints]:
    """Start and end (exclusive) offsets of the runs of True in ``mask``."""
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return edges[0::2].astype(np.int64), edges[1::2].astype(np.int64)


def _positions(mask: _Mask) -> _Ints:
    """Offsets where ``mask`` is True, sorted: the sparse form every count below works on."""
    return np.flatnonzero(mask)


def _count(positions: _Ints, starts: _Ints, ends: _Ints) -> _Ints:
    """How many of ``positions`` fall in each ``[start, end)`` (binary search, no prefix sums:
    a cumulative sum over a megabyte of booleans costs more than all the rest together)."""
    result: _Ints = np.searchsorted(positions, ends) - np.searchsorted(positions, starts)
    return result


def _word_char(ch: str) -> bool:
    """ASCII letters, digits and ``_`` glue tokens together; a Chinese character does not
    (``手机13800138000`` holds a phone number, as the recognizers agree)."""
    return ch.isascii() and (ch.isalnum() or ch == "_")


def find_candidates(text: str) -> list[tuple[int, int, str]]:
    """Every token of ``text`` that has the shape of an entity, sorted by position."""
    if not text:
        return []
    codes: npt.NDArray[np.uint8] | npt.NDArray[np.uint32]
    if text.isascii():
        # One byte per character: a quarter of the memory traffic of UTF-32, same offsets.
        codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        classes = _TABLE[codes]
    else:
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        classes = _TABLE[np.minimum(codes, 127)]
        classes[codes > 127] = 0
    found: list[tuple[int, int, str]] = []
    found.extend(_emails(text, codes))
    found.extend(_urls(text))
    found.extend(_numbers(text, codes, classes))
    found.extend(_dense_tokens(text, classes))
    found.sort()
    return found


def _emails(text: str, codes: npt.NDArray[np.uint8] | npt.NDArray[np.uint32]) -> list[tuple[int, int, str]]:
    out = []
    last_end = -1
    for at in np.flatnonzero(codes == 64).tolist():
        if at < last_end:
            continue
        start = at
        while start > 0 and at - start < 64 and text[start - 1] in _EMAIL_LOCAL:
            start -= 1
        match = _EMAIL.match(text, start)
        while match is None and start < at:
            start += 1
            match = _EMAIL.match(text, start)
        if match is not None and match.end() > at:
            out.append((match.start(), match.end(), "email"))
            last_end = match.end()
    return out


def _urls(text: str) -> list[tuple[int, int, str]]:
    out = []
    for marker in ("://", "www."):
        position = text.find(marker)
        while position >= 0:
            start = position
            if marker == "://":
                while start > 0 and text[start - 1].isalpha():
                    start -= 1
            match = _URL.match(text, start)
            if match is not None and (start == 0 or not _word_char(text[start - 1])):
                out.append((match.start(), match.end(), "url"))
                position = text.find(marker, match.end())
            else:
                position = text.find(marker, position + len(marker))
    return out


def _numbers(
    text: str, codes: npt.NDArray[np.uint8] | npt.NDArray[np.uint32], classes: npt.NDArray[np.uint8]
) -> list[tuple[int, int, str]]:
    """Digit runs with separators: phone numbers, cards, IDs (``number``) and IPv4 (``ip``).

    A leading date (``2024-05-01``, ``01/05/2024``) is cut off in the arrays, so the time
    stamp that starts every log line never reaches Python; what follows it in the same run
    (``2024-05-01 13800138000``) is still a candidate.
    """
    digit = (classes & _DIGIT) != 0
    starts, ends = _runs((classes & (_DIGIT | _NUMSEP)) != 0)
    # Every space is a run of its own: drop runs too short for seven digits or an address
    # (``1.2.3.4``) before counting anything in them.
    long_enough = (ends - starts) >= 7
    starts, ends = starts[long_enough], ends[long_enough]
    positions = _positions(digit)
    digits = _count(positions, starts, ends)
    dot_positions = _positions((classes & _DOT) != 0)
    dots = _count(dot_positions, starts, ends)
    keep = (digits >= 7) | ((digits >= 4) & (dots >= 3))
    starts, ends, digits = starts[keep], ends[keep], digits[keep]
    if not len(starts):
        return []
    first = positions[np.searchsorted(positions, starts)]
    padded_classes = np.concatenate((classes, np.zeros(12, dtype=np.uint8)))
    padded = np.concatenate((codes, np.zeros(12, dtype=codes.dtype)))
    date_sep = (padded_classes & _DATESEP) != 0
    pdigit = (padded_classes & _DIGIT) != 0
    # Every digit position is checked: ``13.37.48.94`` has the separators of ``13.05.2024``
    # at 2 and 5 but a dot at 8, and is an address, not a date.
    ymd = (
        date_sep[first + 4]
        & (padded[first + 4] == padded[first + 7])
        & pdigit[first + 1]
        & pdigit[first + 2]
        & pdigit[first + 3]
        & pdigit[first + 5]
        & pdigit[first + 6]
        & pdigit[first + 8]
        & pdigit[first + 9]
    )
    dmy = (
        date_sep[first + 2]
        & (padded[first + 2] == padded[first + 5])
        & pdigit[first + 1]
        & pdigit[first + 3]
        & pdigit[first + 4]
        & pdigit[first + 6]
        & pdigit[first + 7]
        & pdigit[first + 8]
        & pdigit[first + 9]
    )
    dated = (ymd | dmy) & (ends - first >= 10)
    after = np.minimum(first + 10, ends)
    starts = np.where(dated, after, starts)
    remaining = _count(positions, starts, ends)
    dots_left = _count(dot_positions, starts, ends)
    # A solid run of 12 or more than 19 digits not starting with 0 is no entity govkit knows
    # (too long for a nationally written phone, the wrong length for cards and IDs): ids.
    solid = (ends - starts) == remaining
    lead = padded[starts]
    id_like = solid & ((remaining == 12) | (remaining > 19)) & (lead != 48)
    keep = (~dated | (remaining >= 7) | ((remaining >= 4) & (dots_left >= 3))) & ~id_like
    # The glue rule of :func:`_number_pieces`, decided here for the common case so that most
    # runs never reach Python: a run that ends in a digit glued to a letter or ``_``
    # (``/orders/123456 200 12ms``; ``...X`` only when a word character follows the X), or
    # that starts with a digit glued to one, is part of a longer token.
    word = ((padded_classes & (_DIGIT | _UPPER | _LOWER)) != 0) | (padded == 95)
    last_digit = positions[np.searchsorted(positions, ends) - 1]
    next_char = padded[ends]
    x_end = ((next_char == 88) | (next_char == 120)) & ~word[ends + 1]
    glued_after = (last_digit + 1 == ends) & word[ends] & ~x_end
    glued_before = ~dated & (first == starts) & (starts > 0) & word[np.maximum(starts - 1, 0)]
    keep &= ~(glued_after | glued_before)
    out: list[tuple[int, int, str]] = []
    for start, end in zip(starts[keep].tolist(), ends[keep].tolist(), strict=True):
        piece = text[start:end]
        stripped = piece.strip(" -./)")
        if stripped.startswith("(") and ")" not in stripped:
            stripped = stripped[1:]
        if not stripped:
            continue
        begin = start + piece.find(stripped)
        finish = begin + len(stripped)
        if (
            finish < len(text)
            and text[finish] in "Xx"
            and (finish + 1 >= len(text) or not _word_char(text[finish + 1]))
        ):
            finish += 1
        out.extend(_number_pieces(text, begin, finish))
    return out


def _number_pieces(text: str, begin: int, finish: int) -> list[tuple[int, int, str]]:
    """The whole token, or its space-separated pieces when it glues several numbers."""
    token = text[begin:finish]
    if begin > 0 and (_word_char(text[begin - 1]) or text[begin - 1] in "+."):
        return []
    if begin > 1 and text[begin - 1] in "-_" and text[begin - 2].isascii() and text[begin - 2].isalnum():
        return []  # the tail of ORD-2024-000123, as the phone recognizer's glue rule says
    if finish < len(text) and _word_char(text[finish]):
        return []
    if _IP4.fullmatch(token):
        return [(begin, finish, "ip")]
    out: list[tuple[int, int, str]] = []
    if _NUMBER.fullmatch(token):
        out.append((begin, finish, "number"))
    if " " in token and sum(ch.isdigit() for ch in token) > 15:
        offset = begin
        for part in token.split(" "):
            if sum(ch.isdigit() for ch in part) >= 7 and _NUMBER.fullmatch(part):
                out.append((offset, offset + len(part), "number"))
            elif _IP4.fullmatch(part):
                out.append((offset, offset + len(part), "ip"))
            offset += len(part) + 1
    return out


def _clusters(positions: _Ints, width: int, need: int) -> list[tuple[int, int]]:
    """Stretches to search where ``need`` marks (``positions``) fall within ``width`` characters.

    Each qualifying group of marks ``positions[i] .. positions[i + need - 1]`` opens a
    stretch from ``width`` characters before its last mark to ``width`` after its first
    (every window of ``width`` that holds the group lies inside); overlapping ones merge.
    """
    if len(positions) < need:
        return []
    spread = positions[need - 1 :] - positions[: len(positions) - need + 1]
    hits = np.flatnonzero(spread < width)
    if not len(hits):
        return []
    lows = positions[hits + need - 1] - width + 1
    highs = positions[hits] + width
    out: list[tuple[int, int]] = []
    for low, high in zip(lows.tolist(), highs.tolist(), strict=True):
        if out and low <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((max(0, low), high))
    return out


_DENSE = (
    # (group, regex, class bits counted, window, needed): a MAC or full IPv6 address has five
    # colons (or a MAC five dashes) within 17..39 characters.
    ("mac", _MAC, _COLON, 17, 5),
    ("mac", _MAC, _DASH, 17, 5),
    ("ip", _IP6, _COLON, 39, 5),
)


def _dense_tokens(text: str, classes: npt.NDArray[np.uint8]) -> list[tuple[int, int, str]]:
    """Hex addresses, wallet addresses and codes, looked for only where their characters crowd."""
    out: list[tuple[int, int, str]] = []
    positions: dict[int, _Ints] = {}
    for group, pattern, bits, width, need in _DENSE:
        if bits not in positions:
            positions[bits] = _positions((classes & bits) != 0)
        for first, last in _clusters(positions[bits], width, need):
            begin = max(0, first - 2)
            for match in pattern.finditer(text, begin, min(len(text), last + 40)):
                start, end = match.span()
                if (start > 0 and _word_char(text[start - 1])) or (end < len(text) and _word_char(text[end])):
                    continue
                out.append((start, end, group))
    # A crypto address is a whole run of 26 or more ASCII letters and digits (a match inside a
    # longer run would be glued to it), so only whole runs of that length are tried.
    starts, ends = _runs((classes & (_DIGIT | _UPPER | _LOWER)) != 0)
    long_runs = (ends - starts) >= 26
    for start, end in zip(starts[long_runs].tolist(), ends[long_runs].tolist(), strict=True):
        if (start > 0 and _word_char(text[start - 1])) or (end < len(text) and _word_char(text[end])):
            continue
        if _CRYPTO.fullmatch(text, start, end):
            out.append((start, end, "crypto"))
    out.extend(_codes(text, classes))
    # compressed IPv6 (``fe80::1``): a double colon is rare enough to check every one
    position = text.find("::")
    while position >= 0:
        start = position
        while start > 0 and text[start - 1] in "0123456789abcdefABCDEF:":
            start -= 1
        found_ip = _IP6.match(text, start)
        if (
            found_ip is not None
            and not (start > 0 and _word_char(text[start - 1]))
            and not (found_ip.end() < len(text) and _word_char(text[found_ip.end()]))
        ):
            out.append((found_ip.start(), found_ip.end(), "ip"))
            position = text.find("::", found_ip.end())
        else:
            position = text.find("::", position + 2)
    return sorted(set(out))


def _codes(text: str, classes: npt.NDArray[np.uint8]) -> list[tuple[int, int, str]]:
    """IBANs, USCCs, passport and licence numbers: runs of capitals and digits with both."""
    out: list[tuple[int, int, str]] = []
    digit = (classes & _DIGIT) != 0
    upper = (classes & _UPPER) != 0
    starts, ends = _runs(digit | upper)
    lengths = ends - starts
    sized = (lengths >= 8) & (lengths <= 34)
    starts, ends, lengths = starts[sized], ends[sized], lengths[sized]
    uppers = _count(_positions(upper), starts, ends)
    keep = (lengths >= 8) & (lengths <= 34) & (uppers >= 1) & (lengths - uppers >= 6)
    for start, end in zip(starts[keep].tolist(), ends[keep].tolist(), strict=True):
        if (start > 0 and _word_char(text[start - 1])) or (end < len(text) and _word_char(text[end])):
            continue
        token = text[start:end]
        if _CODE.fullmatch(token) or _IBAN.fullmatch(token):
            out.append((start, end, "code"))
    # IBANs in print form (``DE89 3704 0044 0532 0130 00``): two capitals, two digits.
    if len(classes) >= 4:
        marks = upper[:-3] & upper[1:-2] & digit[2:-1] & digit[3:]
        for start in np.flatnonzero(marks).tolist():
            if start > 0 and _word_char(text[start - 1]):
                continue
            match = _IBAN.match(text, start)
            if (
                match is not None
                and " " in match.group()
                and not (match.end() < len(text) and _word_char(text[match.end()]))
            ):
                out.append((match.start(), match.end(), "code"))
    return out


def name_pairs(text: str) -> list[int]:
    """Offsets of every ``a B`` seam: a lower-case letter, a space, dash or apostrophe, then a
    capital and a lower-case letter (ASCII or Latin-1, as in ``John Smith`` or ``José Núñez``).

    Two capitalised words in a row need such a seam, so the lines without one can skip the
    name regex of the span scanner; on a log that is nearly all of them.
    """
    if len(text) < 4:
        return []
    codes: npt.NDArray[np.uint8] | npt.NDArray[np.uint32]
    if text.isascii():
        codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    else:
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    upper = ((codes >= 65) & (codes <= 90)) | ((codes >= 0xC0) & (codes <= 0xDE))
    lower = ((codes >= 97) & (codes <= 122)) | ((codes >= 0xDF) & (codes <= 0xFF))
    seam = (codes == 32) | (codes == 45) | (codes == 39)
    hits = lower[:-3] & seam[1:-2] & upper[2:-1] & lower[3:]
    found: list[int] = (np.flatnonzero(hits) + 1).tolist()
    return found
