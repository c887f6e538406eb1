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


def _count(prefix: _Ints, starts: _Ints, ends: _Ints) -> _Ints:
    """How many True values of the mask behind cumulative ``prefix`` fall in each run."""
    result: _Ints = prefix[ends] - prefix[starts]
    return result


def _prefix(mask: _Mask) -> _Ints:
    return np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))


def _word_char(ch: str) -> bool:
    """ASCII letters, digits and ``_`` glue tokens together; a Chinese character does not
    (``手机13800138000`` holds a phone number, as the recognizers agree)."""
    return ch.isascii() and (ch.isalnum() or ch == "_")


def find_candidates(text: str) -> list[tuple[int, int, str]]:
    """Every token of ``text`` that has the shape of an entity, sorted by position."""
    if not text:
        return []
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    classes = _TABLE[np.minimum(codes, 127)]
    classes[codes > 127] = 0
    found: list[tuple[int, int, str]] = []
    found.extend(_emails(text, codes))
    found.extend(_urls(text))
    found.extend(_numbers(text, classes))
    found.extend(_dense_tokens(text, classes))
    found.sort()
    return found


def _emails(text: str, codes: npt.NDArray[np.uint32]) -> list[tuple[int, int, str]]:
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


def _numbers(text: str, classes: npt.NDArray[np.uint8]) -> list[tuple[int, int, str]]:
    """Digit runs with separators: phone numbers, cards, IDs (``number``) and IPv4 (``ip``).

    A leading date (``2024-05-01``, ``01/05/2024``) is cut off in the arrays, so the time
    stamp that starts every log line never reaches Python; what follows it in the same run
    (``2024-05-01 13800138000``) is still a candidate.
    """
    digit = (classes & _DIGIT) != 0
    starts, ends = _runs((classes & (_DIGIT | _NUMSEP)) != 0)
    prefix = _prefix(digit)
    digits = _count(prefix, starts, ends)
    dot_prefix = _prefix((classes & _DOT) != 0)
    dots = _count(dot_prefix, starts, ends)
    keep = (digits >= 7) | ((digits >= 4) & (dots >= 3))
    starts, ends, digits = starts[keep], ends[keep], digits[keep]
    if not len(starts):
        return []
    positions = np.flatnonzero(digit)
    first = positions[np.searchsorted(positions, starts)]
    padded_classes = np.concatenate((classes, np.zeros(12, dtype=np.uint8)))
    padded = np.concatenate(
        (np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32), np.zeros(12, dtype=np.uint32))
    )
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
    remaining = _count(prefix, starts, ends)
    dots_left = _count(dot_prefix, starts, ends)
    # A solid run of 12 or more than 19 digits not starting with 0 is no entity govkit knows
    # (too long for a nationally written phone, the wrong length for cards and IDs): ids.
    solid = (ends - starts) == remaining
    lead = padded[starts]
    id_like = solid & ((remaining == 12) | (remaining > 19)) & (lead != 48)
    keep = (~dated | (remaining >= 7) | ((remaining >= 4) & (dots_left >= 3))) & ~id_like
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


def _regions(prefix: _Ints, width: int, need: int) -> list[tuple[int, int]]:
    """Stretches where some ``width`` consecutive characters hold ``need`` of the counted class."""
    size = len(prefix) - 1
    if size < width:
        return [(0, size)] if prefix[-1] >= need else []
    counts = prefix[width:] - prefix[:-width]
    hits = np.flatnonzero(counts >= need)
    if not len(hits):
        return []
    breaks = np.flatnonzero(np.diff(hits) > 1)
    firsts = hits[np.concatenate(([0], breaks + 1))]
    lasts = hits[np.concatenate((breaks, [len(hits) - 1]))] + width
    return list(zip(firsts.tolist(), lasts.tolist(), strict=True))


_DENSE = (
    # (group, regex, class bits counted, window, needed): a MAC or full IPv6 address has five
    # colons (or a MAC five dashes) within 17..39 characters; a crypto address 26 letters and
    # digits in a row.
    ("mac", _MAC, _COLON, 17, 5),
    ("mac", _MAC, _DASH, 17, 5),
    ("ip", _IP6, _COLON, 39, 5),
    ("crypto", _CRYPTO, _DIGIT | _UPPER | _LOWER, 26, 26),
)


def _dense_tokens(text: str, classes: npt.NDArray[np.uint8]) -> list[tuple[int, int, str]]:
    """Hex addresses, wallet addresses and codes, looked for only where their characters crowd."""
    out: list[tuple[int, int, str]] = []
    prefixes: dict[int, _Ints] = {}
    for group, pattern, bits, width, need in _DENSE:
        if bits not in prefixes:
            prefixes[bits] = _prefix((classes & bits) != 0)
        for first, last in _regions(prefixes[bits], width, need):
            begin = max(0, first - 2)
            for match in pattern.finditer(text, begin, min(len(text), last + 40)):
                start, end = match.span()
                if (start > 0 and _word_char(text[start - 1])) or (end < len(text) and _word_char(text[end])):
                    continue
                out.append((start, end, group))
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
    uppers = _count(_prefix(upper), starts, ends)
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
