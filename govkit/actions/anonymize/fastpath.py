"""Per-column pseudonymizers, chosen once per column: the hot path of exports.

:func:`govkit.actions.anonymize.pseudonyms.pseudonym` is the reference. It picks the format
from the entity type on every call, builds a :class:`~.pseudonyms.Stream` per value and
walks each string character by character, which is clear but is most of the time of a
million-row export. :func:`column_pseudonymizer` picks the format once and returns a
function that, for the common case (ASCII text, at most 60 fresh digits, an all-digit IBAN
account part), does the same arithmetic on the same keyed HMAC-SHA256 digest with string
slicing, ``str.translate`` and ``%``-templates. Everything else (non-ASCII digits, very
long digit runs, letters in an IBAN, ...) goes to the reference function, so the outputs
are identical by construction; a hypothesis property and fixed vectors check that.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import string
from collections.abc import Callable, Sequence
from operator import mul

from govkit.actions.anonymize import pseudonyms as ps

_DIGITS = "0123456789"
#: Per column, at most this many value shapes (and their ``%``-templates) are remembered.
TEMPLATES = 1024
#: bytes.translate(None, _NON_DIGITS): the ASCII digits only; _ZEROS: every digit as "0"
_NON_DIGITS = bytes(c for c in range(256) if chr(c) not in _DIGITS)
_ZEROS = bytes.maketrans(_DIGITS.encode(), b"0" * 10)
#: a value -> a ``%`` template with ``%s`` for each digit
_TEMPLATE = str.maketrans({**dict.fromkeys(_DIGITS, "%s"), "%": "%%"})
#: an IBAN country's two letters as numbers (A=10 ... Z=35), for the mod-97 check
_IBAN_LETTERS = {a + b: f"{int(a, 36)}{int(b, 36)}" for a in string.ascii_uppercase for b in string.ascii_uppercase}
_BLOCK: int = 10**60
_SHIFT: tuple[int, ...] = tuple(10 ** (60 - n) for n in range(61))
#: a digit -> the digit sum of its double, as a digit (Luhn)
_LUHN_DOUBLE = bytes.maketrans(b"0123456789", b"0246813579")


def _lead(d: bytes, n: int) -> str:
    """The first ``n`` (<= 60) digits ``Stream(key, d).take`` hands out, without the other 60 - n."""
    return str(int.from_bytes(d, "big") % _BLOCK // _SHIFT[n]).zfill(n) if n else ""


def _number(d: bytes, n: int) -> int:
    """:func:`_lead` as a number (for formats that do arithmetic on the digits)."""
    return int.from_bytes(d, "big") % _BLOCK // _SHIFT[n]


def _luhn(payload: str) -> str:
    """:func:`~.pseudonyms.luhn_check_digit` for ASCII digits (every other digit from the right doubled).

    A digit string's digit sum is the sum of its bytes less 48 per digit, summed in C.
    """
    raw = payload.encode()
    total = sum(raw[::-2].translate(_LUHN_DOUBLE)) + sum(raw[-2::-2]) - 48 * len(raw)
    return str((10 - total % 10) % 10)


@functools.cache
def _births() -> tuple[tuple[str, int], ...]:
    """Every birth date a resident ID pseudonym can have, as ``YYYYMMDD`` with its weighted sum.

    About 24,000 entries, built once on first use: a date and its share of the check
    character are then a lookup instead of ``date.fromordinal``, formatting and 8 products.
    """
    out = []
    for offset in range(ps._BIRTH_SPAN + 1):
        text = datetime.date.fromordinal(ps._BIRTH_FROM + offset).strftime("%Y%m%d")
        out.append((text, _weighted(text, ps._RIC_WEIGHTS[6:14])))
    return tuple(out)


def _weighted(digits: str, weights: Sequence[int]) -> int:
    return sum(map(mul, map(int, digits), weights))


_AREA_SUMS = tuple(_weighted(area, ps._RIC_WEIGHTS[:6]) for area in ps.CN_AREAS)
_SEQUENCE_SUMS = tuple(_weighted(f"{n:03d}", ps._RIC_WEIGHTS[14:]) for n in range(1000))


def column_pseudonymizer(key: bytes, entity_type: str, prefix: str, length: int) -> Callable[[str], str]:
    """``lambda value: pseudonym(value, entity_type, key, prefix, length)``, only faster.

    The digit formats work on the value's ASCII bytes (equal to its UTF-8 encoding, which
    the digest is taken of) and fill a ``%``-template with the new digits; what a shape
    (the value with its digits as ``0``: a phone column has a handful) says is remembered,
    for at most :data:`TEMPLATES` shapes, for this column only.
    """
    mac = ps.mac_for(key)
    ipad, opad = mac.pads
    sha256 = hashlib.sha256
    shapes: dict[bytes, tuple[str, int, int, bool, int]] = {}

    def digest(raw: bytes) -> bytes:
        return sha256(opad + sha256(ipad + raw).digest()).digest()

    def reference(value: str) -> str:
        return ps.pseudonym(value, entity_type, key, prefix, length)

    def shape_of(value: str, raw: bytes) -> tuple[str, int, int, bool, int]:
        """What the digit formats need to know of an ASCII value's shape (its digits as ``0``).

        ``(template, digits, head, plus, first)``: the ``%``-template with ``%s`` per digit, the
        number of digits, how many of at most 3 come right after a leading ``+`` (``plus``),
        and the index of the first digit.
        """
        shape = raw.translate(_ZEROS)
        found = shapes.get(shape)
        if found is None:
            if len(shapes) >= TEMPLATES:
                shapes.clear()
            stripped = value.lstrip()
            head = stripped[1:4]
            found = shapes[shape] = (value.translate(_TEMPLATE), shape.count(48), len(head) - len(head.lstrip(_DIGITS)),
                                     stripped[:1] == "+", shape.find(48))
        return found

    def token(value: str) -> str:  # digest() inlined: the commonest format, one call less per value
        raw = ipad + value.encode("utf-8", "surrogatepass")
        return f"{prefix}{sha256(opad + sha256(raw).digest()).hexdigest()[:length]}"

    if entity_type == "EMAIL_ADDRESS":
        def email(value: str) -> str:
            raw = ipad + value.encode("utf-8", "surrogatepass")
            return f"{prefix}{sha256(opad + sha256(raw).digest()).hexdigest()[:length]}@example.invalid"
        return email
    if entity_type in ("PHONE_NUMBER", "CN_PHONE_NUMBER"):
        def phone(value: str) -> str:
            if not value.isascii():
                return reference(value)
            raw = value.encode()
            template, count, head, plus, first = shape_of(value, raw)
            if count == 11 and not plus and value[first] == "1":  # a CN mobile
                fresh = _lead(digest(raw), 12)
                new = "1" + str(3 + int(fresh[:3]) % 7) + fresh[3:]
            else:
                # a country code after "+" (not all the digits) is kept, else a trunk "0"
                keep = head if plus and head < count else 0
                if keep == 0 and count and value[first] == "0":
                    keep = 1
                if count - keep > 60:
                    return reference(value)
                new = value[first:first + keep] + _lead(digest(raw), count - keep)
            return new if count == len(raw) else template % tuple(new)
        return phone
    if entity_type == "CN_RESIDENT_ID":
        births, span, areas, check = _births(), ps._BIRTH_SPAN + 1, ps.CN_AREAS, ps._RIC_CHECK

        def resident_id(value: str) -> str:
            fresh = _number(digest(value.encode("utf-8", "surrogatepass")), 13)
            area = fresh // 10**11 % len(areas)
            born, weighted = births[fresh // 1000 % 10**8 % span]
            sequence = fresh % 1000
            total = _AREA_SUMS[area] + weighted + _SEQUENCE_SUMS[sequence]
            return f"{areas[area]}{born}{sequence:03d}{check[total % 11]}"
        return resident_id
    if entity_type in ("CREDIT_CARD", "CN_BANK_CARD"):
        def card(value: str) -> str:
            if not value.isascii():
                return reference(value)
            raw = value.encode()
            template, count, _, _, first = shape_of(value, raw)
            if not 2 <= count <= 62:
                return reference(value)
            body = value[first] + _lead(digest(raw), count - 2)
            new = body + _luhn(body)
            return new if count == len(raw) else template % tuple(new)
        return card
    if entity_type == "IBAN_CODE":
        def iban(value: str) -> str:
            compact = "".join(value.split()).upper()
            if (not value.isascii() or not 5 <= len(compact) <= 64 or not compact[:2].isalpha()
                    or not compact[4:].isdigit()):
                return reference(value)
            country = compact[:2]
            bban = _lead(digest(value.encode()), len(compact) - 4)
            new = f"{country}{98 - int(f'{bban}{_IBAN_LETTERS[country]}00') % 97:02d}{bban}"
            if " " in value.strip():  # grouped in fours, as the input was
                return " ".join([new[i:i + 4] for i in range(0, len(new), 4)])
            return new
        return iban
    if entity_type == "US_SSN":
        def ssn(value: str) -> str:
            if not value.isascii():
                return reference(value)
            raw = value.encode()
            fresh = _number(digest(raw), 15)  # digits 1-5: area, 6-9: group, 10-15: serial
            area, group, serial = fresh // 10**10, fresh // 10**6 % 10**4, fresh % 10**6
            new = f"{1 + area % 665:03d}{1 + group % 99:02d}{1 + serial % 9999:04d}"
            template, count = shape_of(value, raw)[:2]
            if count != 9:
                return new[:3] + "-" + new[3:5] + "-" + new[5:]
            return new if len(raw) == 9 else template % tuple(new)
        return ssn
    if entity_type == "IP_ADDRESS":
        def ip(value: str) -> str:
            if value.count(".") != 3:
                return token(value)
            return ps.ipv4(digest(value.encode("utf-8", "surrogatepass")))
        return ip
    return token
