"""Format-preserving, deterministic pseudonyms, one function per entity format.

Every pseudonym starts from ``HMAC-SHA256(subkey, value)``: the same value under the same
key gives the same pseudonym in every table and file (so joins survive), another key gives
an unrelated one, and without the key nobody can recompute a pseudonym from a guessed value
(an unkeyed or randomly salted hash gives the first or breaks the second).

The digest is keyed on the value only, not on the entity type, so a value detected as an
email in one file and as free text in another still maps to related tokens; the *format*
is chosen by the entity type. Each format keeps what downstream checks expect: an email
stays an email (under the reserved ``.invalid`` domain, so no mail can ever be sent), a
phone number keeps its separators and length, a Chinese resident ID keeps 18 characters
with a real area code, a real birth date and a valid ISO 7064 check character, a card
keeps its length and a valid Luhn digit, an IBAN keeps its country and a valid mod-97.
"""

from __future__ import annotations

import datetime
import hashlib
import string

#: Area codes that exist in GB/T 2260 (one district in each of ten large cities): the
#: pseudonym's area is one of these, so it validates without revealing the real one.
CN_AREAS = ("110101", "310101", "440103", "440305", "510104", "330102", "320102", "420102", "610102", "210102")
_DIGIT_SET = frozenset("0123456789")
_DIGIT_BLOCK = 10**60
_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK = "10X98765432"
_BIRTH_FROM = datetime.date(1940, 1, 1).toordinal()
_BIRTH_SPAN = datetime.date(2005, 12, 31).toordinal() - _BIRTH_FROM


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


class Stream:
    """Keyed randomness from one digest: decimal digits in bulk, and bytes (counter-mode HMAC).

    Digits come 60 at a time from a 256-bit block (``int % 10**60``: the bias is below
    10^-17), so a 16-digit card costs one string slice, not sixteen calls. Bytes, needed
    only for letters and choices, come from further blocks.
    """

    __slots__ = ("_block", "_counter", "_digits", "_mac", "_pos", "_seed")

    def __init__(self, key: bytes, seed: bytes) -> None:
        self._mac = mac_for(key)
        self._seed = seed
        self._digits = f"{int.from_bytes(seed, 'big') % _DIGIT_BLOCK:060d}"
        self._block = b""
        self._pos = 0
        self._counter = 0

    def take(self, n: int) -> str:
        """``n`` keyed decimal digits."""
        while len(self._digits) < n:
            self._counter += 1
            block = self._mac(self._seed + b"d" + self._counter.to_bytes(4, "big"))
            self._digits += f"{int.from_bytes(block, 'big') % _DIGIT_BLOCK:060d}"
        out, self._digits = self._digits[:n], self._digits[n:]
        return out

    def byte(self) -> int:
        if self._pos >= len(self._block):
            self._counter += 1
            self._block = self._mac(self._seed + b"b" + self._counter.to_bytes(4, "big"))
            self._pos = 0
        value = self._block[self._pos]
        self._pos += 1
        return value

    def below(self, n: int) -> int:
        """Uniform in ``range(n)`` for n <= 256 (rejection sampling, so no bias)."""
        limit = 256 - 256 % n
        while True:
            value = self.byte()
            if value < limit:
                return value % n


def token(d: bytes, length: int) -> str:
    """``length`` lower-case hex characters of the digest."""
    return d.hex()[:length]


def email(d: bytes, prefix: str, length: int) -> str:
    return f"{prefix}{token(d, length)}@example.invalid"


def replace_digits(value: str, stream: Stream, keep: int = 0) -> str:
    """Every digit after the first ``keep`` digits replaced by a keyed digit; the rest kept."""
    count = sum(1 for c in value if c in _DIGIT_SET)
    fresh = iter(stream.take(max(count - keep, 0)))
    out: list[str] = []
    seen = 0
    for char in value:
        if char in _DIGIT_SET:
            seen += 1
            out.append(char if seen <= keep else next(fresh))
        else:
            out.append(char)
    return "".join(out)


def phone(value: str, stream: Stream) -> str:
    """Same separators, same length; a ``+CC`` country code (or a CN mobile's ``1``) kept."""
    stripped = value.lstrip()
    keep = 0
    if stripped.startswith("+"):
        # Country codes are 1-3 digits; keep the digits up to the first separator, at most 3.
        head = ""
        for char in stripped[1:]:
            if not char.isdigit() or len(head) == 3:
                break
            head += char
        keep = len(head) if len(head) < len("".join(c for c in stripped if c.isdigit())) else 0
    digits_only = "".join(c for c in value if c.isdigit())
    if len(digits_only) == 11 and digits_only.startswith("1") and not stripped.startswith("+"):
        # A CN mobile: keep "1" and choose the second digit from 3-9 so it stays a mobile number.
        return _cn_mobile(value, stream)
    if keep == 0 and digits_only[:1] == "0":
        keep = 1  # a national trunk prefix stays a trunk prefix
    return replace_digits(value, stream, keep)


def _cn_mobile(value: str, stream: Stream) -> str:
    digits = stream.take(12)
    new = "1" + str(3 + int(digits[:3]) % 7) + digits[3:]
    it = iter(new)
    return "".join(next(it) if c.isdigit() else c for c in value)


def cn_resident_id(stream: Stream) -> str:
    """A valid 18-character ID: known area, real birth date 1940-2005, sequence, check char."""
    digits = stream.take(10)
    area = CN_AREAS[int(digits[:2]) % len(CN_AREAS)]
    offset = int(digits[2:]) % (_BIRTH_SPAN + 1)
    birth = datetime.date.fromordinal(_BIRTH_FROM + offset).strftime("%Y%m%d")
    sequence = stream.take(3)
    body = area + birth + sequence
    return body + ric_check(body)


def ric_check(body: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits (GB 11643-1999)."""
    total = sum(int(c) * w for c, w in zip(body, _RIC_WEIGHTS, strict=True))
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


def card(value: str, stream: Stream) -> str:
    """Same length and separators, same first digit (card network), valid Luhn."""
    digits_only = [c for c in value if c.isdigit()]
    if len(digits_only) < 2:
        return replace_digits(value, stream)
    body = digits_only[0] + stream.take(len(digits_only) - 2)
    new = body + luhn_check_digit(body)
    it = iter(new)
    return "".join(next(it) if c.isdigit() else c for c in value)


def iban(value: str, stream: Stream) -> str:
    """Same country and length, keyed BBAN (digits stay digits, letters letters), valid mod-97."""
    compact = "".join(c for c in value if c not in " \t\n-.").upper()
    # Only ASCII letters and digits have a mod-97 value; anything else (a full-width digit,
    # an accented letter) is no IBAN and keeps its shape through replace_digits instead.
    if len(compact) < 5 or not (compact.isascii() and compact.isalnum()) or not compact[:2].isalpha():
        return replace_digits(value, stream)
    country = compact[:2]
    fresh = iter(stream.take(len(compact) - 4))
    bban = "".join(
        next(fresh) if c.isdigit() else string.ascii_uppercase[stream.below(26)] if c.isalpha() else c
        for c in compact[4:]
    )
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = f"{98 - int(numeric) % 97:02d}"
    new = country + check + bban
    grouping = next((sep for sep in (" ", "-", ".") if sep in value.strip()), None)
    if grouping is not None:  # keep the grouping in fours the input used
        return grouping.join(new[i:i + 4] for i in range(0, len(new), 4))
    return new


def iban_valid(value: str) -> bool:
    compact = "".join(c for c in value if c not in " \t\n-.").upper()
    if not (compact.isascii() and compact.isalnum()):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def luhn_valid(value: str) -> bool:
    digits_only = "".join(c for c in value if c.isdigit())
    return luhn_check_digit(digits_only[:-1]) == digits_only[-1]


def us_ssn(value: str, stream: Stream) -> str:
    """Shape kept; area never 000, 666 or 9xx, group never 00, serial never 0000."""
    digits = stream.take(15)
    area = 1 + int(digits[:5]) % 665  # 001-665
    group = 1 + int(digits[5:9]) % 99
    serial = 1 + int(digits[9:]) % 9999
    new = f"{area:03d}{group:02d}{serial:04d}"
    it = iter(new)
    if sum(c.isdigit() for c in value) != 9:
        return new[:3] + "-" + new[3:5] + "-" + new[5:]
    return "".join(next(it) if c.isdigit() else c for c in value)


def ipv4(d: bytes) -> str:
    """An address in 10.0.0.0/8 (private, never routable): clearly not the original."""
    return f"10.{d[0]}.{d[1]}.{max(d[2], 1)}"


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
    magnitude = abs(value)
    width = len(str(magnitude))
    if width == 1:
        new = permute(magnitude, 10, key)
    else:
        low = 10 ** (width - 1)
        new = low + permute(magnitude - low, 9 * low, key)
    return -new if value < 0 else new


def pseudonym(value: str, entity_type: str, key: bytes, prefix: str, length: int) -> str:
    """The pseudonym of ``value`` read as ``entity_type`` (see the module docstring)."""
    d = digest(key, value)
    if entity_type == "EMAIL_ADDRESS":
        return email(d, prefix, length)
    if entity_type in ("PHONE_NUMBER", "CN_PHONE_NUMBER"):
        return phone(value, Stream(key, d))
    if entity_type == "CN_RESIDENT_ID":
        return cn_resident_id(Stream(key, d))
    if entity_type in ("CREDIT_CARD", "CN_BANK_CARD"):
        return card(value, Stream(key, d))
    if entity_type == "IBAN_CODE":
        return iban(value, Stream(key, d))
    if entity_type == "US_SSN":
        return us_ssn(value, Stream(key, d))
    if entity_type == "IP_ADDRESS" and value.count(".") == 3:
        return ipv4(d)
    return f"{prefix}{token(d, length)}"
