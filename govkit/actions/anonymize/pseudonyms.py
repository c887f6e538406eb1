"""Deterministic pseudonyms: format-preserving encryption for identifiers, keyed tokens for the rest.

Identifiers (phone numbers, resident IDs, cards, IBANs, SSNs, IP and MAC addresses, passport
and licence numbers) are *encrypted* in their own format with FF3-1 (see :mod:`.fpe`), not
hashed: the map is a bijection, so two people never share a pseudonym (a primary key made of
ID numbers stays unique) and the key holder can reverse it (:func:`reverse`). Each format
keeps what downstream checks expect: a phone number keeps its separators, length, country
code and trunk prefix (a CN mobile stays a CN mobile); a valid Chinese resident ID maps to a
valid one (known area code, real birth date, right ISO 7064 check character); a card keeps
its length, network digit and a valid Luhn digit; an IBAN its country and a valid mod-97; an
SSN stays in the issued ranges; an IPv4 address stays an IPv4 address. An input that is not
valid maps to an output that is not valid either (that is what keeps the map injective).

Everything else (e-mails, names, free text) gets ``HMAC-SHA256(subkey, value)`` as a token:
the same value under the same key gives the same pseudonym in every table and file (so joins
survive), another key an unrelated one, and nobody without the key can recompute it from a
guessed value. 16 hex characters (64 bits) keep a million distinct values collision-free
with overwhelming probability; tokens cannot be reversed.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import ipaddress
import re
import string
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import mul
from typing import Any

from govkit.actions.anonymize import fpe
from govkit.actions.anonymize._cn_areas import area_codes
from govkit.errors import UsageError

_DIGIT_SET = frozenset("0123456789")
_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


class Mac:
    """HMAC-SHA256 under one key with the padded keys computed once.

    Equal to ``hmac.digest(key, data, "sha256")`` (a test checks it): HMAC is
    ``H((K ^ opad) || H((K ^ ipad) || data))``, and hashing the concatenations in one call
    each is faster per value in CPython than ``hmac`` or copying precomputed hash states,
    which matters at millions of cells. ``pads`` lets a hot loop inline the two calls.
    """

    __slots__ = ("pads",)

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        padded = key.ljust(64, b"\0")
        self.pads = (bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded))

    def __call__(self, data: bytes) -> bytes:
        inner, outer = self.pads
        return hashlib.sha256(outer + hashlib.sha256(inner + data).digest()).digest()


_MACS: dict[bytes, Mac] = {}


def mac_for(key: bytes) -> Mac:
    found = _MACS.get(key)
    if found is None:
        found = _MACS[key] = Mac(key)
    return found


def digest(key: bytes, value: str) -> bytes:
    """The keyed digest every pseudonym, hash and fake value starts from."""
    return mac_for(key)(value.encode("utf-8", "surrogatepass"))


def token(d: bytes, length: int) -> str:
    """``length`` lower-case hex characters of the digest."""
    return d.hex()[:length]


def email(d: bytes, prefix: str, length: int) -> str:
    return f"{prefix}{token(d, length)}@example.invalid"


# -- format-preserving encryption: values as (domain, width, number) parts ---------------------
#
# Each identifier format splits a value into a *class* (what its pseudonym keeps: separators,
# a country code, a card's network digit, whether its check digit is right) and one or more
# numbers that FF3-1 permutes (see :mod:`.fpe`). Two rules make the whole map injective and
# invertible: a pseudonym has the same class as its input (cycle walking keeps it there),
# and within a class the numbers are permuted. So distinct inputs give distinct outputs, and
# :func:`reverse` reads the class off the pseudonym and decrypts the numbers.

Ok = Callable[[int], bool]


def _always(_: int) -> bool:
    return True


@dataclass(slots=True)
class Part:
    """One number to permute: ``x`` in the domain ``domain`` (the tweak), ``width`` digits wide,
    walked until ``ok`` (the class and range test; ``ok(x)`` holds)."""

    domain: str
    width: int
    x: int
    ok: Ok


@dataclass(slots=True)
class Job:
    """A value's parts and how to rebuild a value of its class from their permuted numbers."""

    parts: list[Part]
    finish: Callable[[list[int]], str]


#: a value -> a ``%`` template with ``%s`` for each ASCII digit
_TEMPLATE = str.maketrans({**dict.fromkeys("0123456789", "%s"), "%": "%%"})
Place = Callable[[str], str]


def _split_digits(value: str) -> tuple[str, Place]:
    """The value's decimal digits as ASCII, and how to put new ones back in their places.

    A digit of another script (Arabic-Indic, full-width...) is replaced by a digit of the
    same script, so ``"١٢"`` and ``"12"`` never share a pseudonym.
    """
    if value.isascii():  # bytes.translate runs in C; the template is made once per shape
        raw = value.encode()
        digits = raw.translate(None, _NON_DIGIT_BYTES).decode()
        if len(digits) == len(value):
            return digits, _same
        shape = raw.translate(_ZEROS)
        found = _PLACES.get(shape)
        if found is None:
            found = _place_for(shape, value.translate(_TEMPLATE))
        return digits, found
    zeros: list[int] = []
    pieces: list[str] = []
    for char in value:
        if char.isdecimal():
            zeros.append(ord(char) - unicodedata.decimal(char))
            pieces.append("%s")
        else:
            pieces.append(char.replace("%", "%%"))
    digits = "".join(str(unicodedata.decimal(c)) for c in value if c.isdecimal())
    template = "".join(pieces)
    return digits, lambda new: template % tuple(chr(z + int(d)) for z, d in zip(zeros, new, strict=True))


def _same(new: str) -> str:
    return new


#: an ASCII value's shape (its digits as "0") -> the function putting new digits in place
_PLACES: dict[bytes, Place] = {}
_NON_DIGIT_BYTES = bytes(c for c in range(256) if not 48 <= c <= 57)
_ZEROS = bytes.maketrans(b"0123456789", b"0" * 10)


def _place_for(shape: bytes, template: str) -> Place:
    """The function filling ``template`` (one per shape, remembered: a column has few shapes)."""
    if len(_PLACES) >= 4096:
        _PLACES.clear()

    def place(new: str) -> str:
        return template % tuple(new)

    _PLACES[shape] = place
    return place


def _unchanged(value: str) -> Job:
    """Nothing to encrypt (no digits): the value is its own pseudonym, and export
    verification reports it as left unchanged."""
    return Job([], lambda ys: value)


def _digit_job(value: str, name: str, same_class: Callable[[str], Any] | None = None) -> Job | None:
    """Every decimal digit permuted as one number, everything else kept (the generic format).

    ``same_class(digits)``: what the format's other paths would make of these digits (e.g. a
    canonical IPv4 address); the pseudonym is walked until it says the same, so the generic
    path never hands out a value another path could produce.
    """
    digits, place = _split_digits(value)
    n = len(digits)
    if n == 0:
        return _unchanged(value)
    if n > fpe.FF3_MAX:
        return None

    def finish(ys: list[int]) -> str:
        return place(f"{ys[0]:0{n}d}")

    ok: Ok = _always
    if same_class is not None:
        cls = same_class(digits)

        def ok(y: int) -> bool:
            return bool(same_class(f"{y:0{n}d}") == cls)

    return Job([Part(f"{name}:{n}", n, int(digits), ok)], finish)


# Phone numbers: separators and length kept; a "+CC" country code (up to 3 digits) and a national
# trunk "0" kept; a CN mobile (11 digits, 1[3-9]...) stays a CN mobile.

_MOBILE = 7 * 10**9


def _phone_class(plus: bool, head: int, digits: str) -> tuple[str, int]:
    n = len(digits)
    if not plus and n == 11 and digits[0] == "1" and digits[1] in "3456789":
        return ("mobile", 1)
    keep = head if plus and head < n else 0
    if keep == 0 and digits[0] == "0":
        keep = 1  # a national trunk prefix stays a trunk prefix
    return ("plain", keep)


def _phone_job(value: str) -> Job | None:
    digits, place = _split_digits(value)
    n = len(digits)
    if n == 0:
        return _unchanged(value)
    if n > fpe.FF3_MAX:
        return None
    stripped = value.lstrip()
    plus = stripped.startswith("+")
    head = 0
    if plus:
        for char in stripped[1:4]:
            if not char.isdecimal():
                break
            head += 1
    kind, keep = cls = _phone_class(plus, head, digits)
    if kind == "mobile":
        def finish_mobile(ys: list[int]) -> str:
            y = ys[0]
            return place(f"1{3 + y // 10**9}{y % 10**9:09d}")

        x = (int(digits[1]) - 3) * 10**9 + int(digits[2:])
        return Job([Part("phone:cn-mobile", 10, x, lambda y: y < _MOBILE)], finish_mobile)
    kept, free = digits[:keep], n - keep
    if free == 0:
        return Job([], lambda ys: value)

    def ok(y: int) -> bool:
        return _phone_class(plus, head, kept + f"{y:0{free}d}") == cls

    def finish(ys: list[int]) -> str:
        return place(kept + f"{ys[0]:0{free}d}")

    return Job([Part(f"phone:{kept}:{free}", free, int(digits[keep:]), ok)], finish)


# Chinese resident IDs (GB 11643-1999): a valid ID (known area code, birth date from 1900 to
# BIRTH_TO, any sequence, right check character) maps to a valid ID through its rank among all
# of them; any other 17 digits + check map among themselves; a check character that was wrong
# stays wrong by the same amount, so validity is kept both ways.

_RIC_CHECK = "10X98765432"
_RIC_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_BIRTH_FROM = datetime.date(1900, 1, 1).toordinal()
#: the last birth date of the ranked domain (fixed: the domain must never change under a key)
BIRTH_TO = datetime.date(2025, 12, 31)
_BIRTH_DAYS = BIRTH_TO.toordinal() - _BIRTH_FROM + 1
CN_AREAS = area_codes()
_AREA_INDEX = {area: i for i, area in enumerate(CN_AREAS)}
_RIC_SIZE = len(CN_AREAS) * _BIRTH_DAYS * 1000
_RIC_WIDTH = len(str(_RIC_SIZE - 1))


def _ric_rank(body: str) -> int | None:
    """The rank of a 17-digit body among valid ones, or None if its area or date is not valid."""
    area = _AREA_INDEX.get(body[:6])
    if area is None:
        return None
    try:
        born = datetime.date(int(body[6:10]), int(body[10:12]), int(body[12:14])).toordinal() - _BIRTH_FROM
    except ValueError:
        return None
    if not 0 <= born < _BIRTH_DAYS:
        return None
    return (area * _BIRTH_DAYS + born) * 1000 + int(body[14:17])


def _ric_body(rank: int) -> str:
    rest, sequence = divmod(rank, 1000)
    area, born = divmod(rest, _BIRTH_DAYS)
    return f"{CN_AREAS[area]}{datetime.date.fromordinal(_BIRTH_FROM + born):%Y%m%d}{sequence:03d}"


def _ric_job(value: str) -> Job | None:
    if not _RIC_SHAPE.fullmatch(value):
        return _digit_job(value, "cn-ric")
    body = value[:17]
    delta = (_RIC_CHECK.index(value[17]) - _RIC_CHECK.index(ric_check(body))) % 11

    def checked(new: str) -> str:
        return new + _RIC_CHECK[(_RIC_CHECK.index(ric_check(new)) + delta) % 11]

    rank = _ric_rank(body)
    if rank is not None:
        return Job([Part("cn-ric:valid", _RIC_WIDTH, rank, lambda y: y < _RIC_SIZE)],
                   lambda ys: checked(_ric_body(ys[0])))
    return Job([Part("cn-ric:other", 17, int(body), lambda y: _ric_rank(f"{y:017d}") is None)],
               lambda ys: checked(f"{ys[0]:017d}"))


# Cards: length, separators and the first digit (the network) kept; a valid Luhn digit stays
# valid (a wrong one stays wrong by the same amount).

def _card_job(value: str) -> Job | None:
    digits, place = _split_digits(value)
    n = len(digits)
    if n < 2 or n - 2 > fpe.FF3_MAX:
        return _digit_job(value, "card")
    first, free = digits[0], n - 2
    delta = (int(digits[-1]) - int(luhn_check_digit(digits[:-1]))) % 10

    def finish(ys: list[int]) -> str:
        body = first + (f"{ys[0]:0{free}d}" if free else "")
        return place(body + str((int(luhn_check_digit(body)) + delta) % 10))

    if free == 0:
        return Job([], lambda ys: value)
    return Job([Part(f"card:{first}:{free}", free, int(digits[1:-1]), _always)], finish)


# US SSNs: a valid number (area 001-899 but 666, group 01-99, serial 0001-9999) maps to a valid one.

_SSN_SIZE = 898 * 99 * 9999


def _ssn_rank(digits: str) -> int | None:
    area, group, serial = int(digits[:3]), int(digits[3:5]), int(digits[5:])
    if not (1 <= area <= 899 and area != 666 and group and serial):
        return None
    return ((area - 1 - (area > 666)) * 99 + group - 1) * 9999 + serial - 1


def _ssn_digits(rank: int) -> str:
    rest, serial = divmod(rank, 9999)
    area, group = divmod(rest, 99)
    return f"{area + 1 + (area >= 665):03d}{group + 1:02d}{serial + 1:04d}"


def _ssn_job(value: str) -> Job | None:
    digits, place = _split_digits(value)
    if len(digits) != 9:
        return _digit_job(value, "ssn")
    rank = _ssn_rank(digits)
    if rank is None:
        return _digit_job(value, "ssn:other", lambda d: len(d) == 9 and _ssn_rank(d) is None)
    return Job([Part("ssn:valid", 9, rank, lambda y: y < _SSN_SIZE)],
               lambda ys: place(_ssn_digits(ys[0])))


# IP addresses: a canonical IPv4 (IPv6) address maps to another of the 2**32 (2**128); other
# spellings with three dots keep their digits' places and never become canonical.

def _canonical_ip(text: str) -> bool:
    try:
        return str(ipaddress.ip_address(text)) == text
    except ValueError:
        return False


def _ip_job(value: str) -> Job | None:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        address = None
    if address is not None and str(address) == value:
        if address.version == 4:
            return Job([Part("ipv4", 10, int(address), lambda y: y < 2**32)],
                       lambda ys: str(ipaddress.IPv4Address(ys[0])))
        return Job([Part("ipv6", 39, int(address), lambda y: y < 2**128)],
                   lambda ys: str(ipaddress.IPv6Address(ys[0])))
    if value.count(".") == 3:
        _, place = _split_digits(value)
        return _digit_job(value, "ip", lambda d: _canonical_ip(place(d)))
    return None


# Letters and digits (IBAN, passports, driving licences...): digits permuted as one number,
# letters as one base-26 number, each in its place and case; an IBAN's country is kept and
# its mod-97 check digits stay right (or wrong by the same amount).

_UPPER = string.ascii_uppercase


def _letters_part(domain: str, letters: str) -> Part | None:
    if not letters:
        return None
    size = 26 ** len(letters)
    width = len(str(size - 1))
    if width > fpe.FF3_MAX:
        raise _TooLong
    x = 0
    for char in letters:
        x = x * 26 + _UPPER.index(char)
    return Part(f"{domain}:l{len(letters)}", width, x, lambda y: y < size)


def _letters(y: int, count: int) -> str:
    out = []
    for _ in range(count):
        y, r = divmod(y, 26)
        out.append(_UPPER[r])
    return "".join(reversed(out))


class _TooLong(Exception):
    """More letters or digits than one FF3-1 block takes: the value gets a token instead."""


def _alnum_parts(domain: str, chars: str) -> tuple[list[Part], Callable[[list[int]], str]]:
    """Parts for the ASCII letters and digits of ``chars`` and how to put new ones back."""
    digits = "".join(c for c in chars if c in _DIGIT_SET)
    letters = "".join(c for c in chars if c in _ASCII_LETTERS).upper()
    if len(digits) > fpe.FF3_MAX:
        raise _TooLong
    parts: list[Part] = []
    if digits:
        parts.append(Part(f"{domain}:d{len(digits)}", len(digits), int(digits), _always))
    letter_part = _letters_part(domain, letters)
    if letter_part is not None:
        parts.append(letter_part)

    def rebuild(ys: list[int]) -> str:
        at = 0
        new_digits = new_letters = ""
        if digits:
            new_digits, at = f"{ys[0]:0{len(digits)}d}", 1
        if letters:
            new_letters = _letters(ys[at], len(letters))
        d, le = iter(new_digits), iter(new_letters)
        return "".join(next(d) if c in _DIGIT_SET else (next(le) if c.isupper() else next(le).lower())
                       if c in _ASCII_LETTERS else c for c in chars)

    return parts, rebuild


_ASCII_LETTERS = frozenset(string.ascii_letters)


def _alnum_job(value: str, name: str) -> Job | None:
    if not value.isascii():
        return _digit_job(value, name)
    try:
        parts, rebuild = _alnum_parts(name, value)
    except _TooLong:
        return None
    if not parts:
        return None
    return Job(parts, rebuild)


#: a letter -> its mod-97 value as text (A=10 ... Z=35), lower case too
_IBAN_NUMBERS = str.maketrans({c: str(int(c, 36)) for c in string.ascii_letters})


def _iban_check(country: str, bban: str) -> int:
    return 98 - int((bban + country + "00").translate(_IBAN_NUMBERS)) % 97


def _iban_job(value: str) -> Job | None:
    places = [i for i, c in enumerate(value) if c.isascii() and c.isalnum()]
    compact = "".join(value[i] for i in places)
    if not value.isascii() or len(compact) < 5 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return _alnum_job(value, "iban")
    country = compact[:2].upper()
    delta = (int(compact[2:4]) - _iban_check(country, compact[4:])) % 100
    try:
        parts, rebuild = _alnum_parts(f"iban:{country}", compact[4:])
    except _TooLong:
        return None

    def finish(ys: list[int]) -> str:
        bban = rebuild(ys)
        new = compact[:2] + f"{(_iban_check(country, bban) + delta) % 100:02d}" + bban
        out = list(value)
        for i, char in zip(places, new, strict=True):
            out[i] = char
        return "".join(out)

    return Job(parts, finish)


def _hex_job(value: str) -> Job | None:
    """A MAC address (or any hex run with separators): its hex digits permuted, separators kept.

    Lower-case (or digit-only) values stay lower case; upper-case values stay upper case and
    keep at least one letter, so the two classes never meet; mixed case goes letter by letter.
    """
    hexes = "".join(c for c in value if c in string.hexdigits)
    if not value.isascii() or not hexes or len(hexes) > 46:
        return None
    upper = any(c.isupper() for c in hexes)
    if upper and any(c.islower() for c in hexes):
        return _alnum_job(value, "hex-mixed")
    n = len(hexes)
    size = 16**n
    spelled = "{:0" + str(n) + ("X}" if upper else "x}")

    def ok(y: int) -> bool:
        return y < size and (not upper or not spelled.format(y).isdigit())

    def finish(ys: list[int]) -> str:
        new = iter(spelled.format(ys[0]))
        return "".join(next(new) if c in string.hexdigits else c for c in value)

    return Job([Part(f"hex:{'upper' if upper else 'lower'}:{n}", len(str(size - 1)), int(hexes, 16), ok)], finish)


#: entity type -> the format of its pseudonyms (others get keyed tokens)
FORMATS: dict[str, Callable[[str], Job | None]] = {
    "PHONE_NUMBER": _phone_job,
    "CN_PHONE_NUMBER": _phone_job,
    "CN_RESIDENT_ID": _ric_job,
    "CREDIT_CARD": _card_job,
    "CN_BANK_CARD": _card_job,
    "IBAN_CODE": _iban_job,
    "US_SSN": _ssn_job,
    "IP_ADDRESS": _ip_job,
    "MAC_ADDRESS": _hex_job,
    **{entity: functools.partial(_alnum_job, name=entity.lower()) for entity in (
        "CN_PASSPORT", "CN_USCC", "UK_NINO", "UK_NHS", "US_PASSPORT", "US_DRIVER_LICENSE", "US_ITIN",
        "US_BANK_NUMBER", "MEDICAL_LICENSE")},
}


def job(value: str, entity_type: str) -> Job | None:
    """How ``value`` read as ``entity_type`` is encrypted; None: it gets a keyed token."""
    format_of = FORMATS.get(entity_type)
    return format_of(value) if format_of is not None else None

def ric_check(body: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits (GB 11643-1999)."""
    if len(body) != 17:
        raise ValueError("a resident ID body has 17 digits")
    total = sum(map(mul, map(int, body), _RIC_WEIGHTS))
    return _RIC_CHECK[total % 11]


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn check."""
    total = 0
    for i, char in enumerate(reversed(payload)):
        n = int(char)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return str((10 - total % 10) % 10)


def iban_valid(value: str) -> bool:
    compact = "".join(c for c in value if c not in " \t\n-.").upper()
    if not (compact.isascii() and compact.isalnum()):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def luhn_valid(value: str) -> bool:
    digits_only = "".join(c for c in value if c.isdigit())
    return luhn_check_digit(digits_only[:-1]) == digits_only[-1]


def permute(value: int, size: int, key: bytes) -> int:
    """A keyed permutation of ``range(size)``: a 4-round Feistel network with cycle walking.

    Being a bijection, it never maps two inputs to one output, which is what a primary key
    (and every foreign key pointing at it) needs; a truncated hash would collide.
    """
    if size <= 1:
        return value
    bits = max(2, (size - 1).bit_length())
    bits += bits % 2
    half = bits // 2
    mask = (1 << half) - 1
    mac = mac_for(key)
    tweak = size.to_bytes(16, "big")
    x = value
    while True:
        left, right = x >> half, x & mask
        for round_number in range(4):
            f = mac(bytes([round_number]) + tweak + right.to_bytes(16, "big"))
            left, right = right, left ^ (int.from_bytes(f[:8], "big") & mask)
        x = (left << half) | right
        if x < size:
            return x


def integer(value: int, key: bytes) -> int:
    """An integer with as many digits and the same sign, injective (see :func:`permute`)."""
    return _same_width(value, key, permute)


def _same_width(value: int, key: bytes, permutation: Callable[[int, int, bytes], int]) -> int:
    """``permutation`` applied within the integers of ``value``'s digit count, sign kept."""
    magnitude = abs(value)
    width = len(str(magnitude))
    if width == 1:
        new = permutation(magnitude, 10, key)
    else:
        low = 10 ** (width - 1)
        new = low + permutation(magnitude - low, 9 * low, key)
    return -new if value < 0 else new


def unpermute(value: int, size: int, key: bytes) -> int:
    """The inverse of :func:`permute`."""
    if size <= 1:
        return value
    bits = max(2, (size - 1).bit_length())
    bits += bits % 2
    half = bits // 2
    mask = (1 << half) - 1
    mac = mac_for(key)
    tweak = size.to_bytes(16, "big")
    x = value
    while True:
        left, right = x >> half, x & mask
        for round_number in range(3, -1, -1):
            f = mac(bytes([round_number]) + tweak + left.to_bytes(16, "big"))
            left, right = right ^ (int.from_bytes(f[:8], "big") & mask), left
        x = (left << half) | right
        if x < size:
            return x


def integer_inverse(value: int, key: bytes) -> int:
    """The integer whose :func:`integer` pseudonym is ``value``."""
    return _same_width(value, key, unpermute)


def pseudonym(value: str, entity_type: str, key: bytes, prefix: str, length: int) -> str:
    """The pseudonym of ``value`` read as ``entity_type`` (see the module docstring).

    The reference: one value through the ``ff3`` package. Exports go through
    :func:`pseudonyms_many` (a test checks that both agree).
    """
    found = job(value, entity_type)
    if found is None:
        d = digest(key, value)
        return email(d, prefix, length) if entity_type == "EMAIL_ADDRESS" else f"{prefix}{token(d, length)}"
    engine = fpe.engine(key, fast=False)
    return found.finish([engine.walk(p.x, p.width, p.domain, p.ok) for p in found.parts])


def pseudonyms_many(values: Sequence[str], entity_type: str, key: bytes, prefix: str, length: int) -> list[str]:
    """``[pseudonym(v, ...) for v in values]``, with the FF3-1 work of all of them batched."""
    engine = fpe.engine(key, fast=True)
    jobs = [job(v, entity_type) for v in values]
    groups: dict[tuple[str, int], list[tuple[int, int, Part]]] = {}
    for i, found in enumerate(jobs):
        if found is not None:
            for j, part in enumerate(found.parts):
                groups.setdefault((part.domain, part.width), []).append((i, j, part))
    results: list[list[int]] = [[0] * len(found.parts) if found is not None else [] for found in jobs]
    for (domain, width), members in groups.items():
        ys = engine.walk_many([p.x for _, _, p in members], width, domain, [p.ok for _, _, p in members])
        for (i, j, _), y in zip(members, ys, strict=True):
            results[i][j] = y
    out: list[str] = []
    for value, found, ys in zip(values, jobs, results, strict=True):
        if found is None:
            d = digest(key, value)
            out.append(email(d, prefix, length) if entity_type == "EMAIL_ADDRESS" else f"{prefix}{token(d, length)}")
        else:
            out.append(found.finish(ys))
    return out


class NotReversible(UsageError):
    """A value that is no format-preserving pseudonym of its entity type (a keyed token is one-way)."""


def reverse(value: str, entity_type: str, key: bytes) -> str:
    """The value whose pseudonym (under ``key``, read as ``entity_type``) is ``value``.

    A pseudonym has its input's class (see above), so the class read off the pseudonym is the
    input's, and decrypting its numbers gives the input back. Keyed tokens (e-mails, names,
    values too long for one FF3-1 block) are one-way: :class:`NotReversible`.
    """
    found = job(value, entity_type)
    if found is None:
        raise NotReversible(f"{entity_type or 'this'} pseudonyms are keyed tokens and cannot be reversed")
    engine = fpe.engine(key, fast=False)
    return found.finish([engine.unwalk(p.x, p.width, p.domain, p.ok) for p in found.parts])
