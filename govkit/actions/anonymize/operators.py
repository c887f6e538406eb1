"""The operator registry: one small class per anonymization operator.

Each operator has a ``name``, a pydantic ``Params`` model (checked when the operator is
looked up, so a typo in a policy or ``--rule`` fails before any data is read) and a batched
``apply_many``: the exporters call it once per column per batch, which is what makes a
million rows a matter of seconds rather than of per-cell dispatch.

Keys: every keyed operator takes its own purpose-bound subkey from the workspace keyset
(``Keyset.derive("pseudonymize")``, ``"hash"``, ``"fake"``, ``"encrypt-siv"``,
``"encrypt-gcm"``), so a pseudonym reveals nothing about an encryption key and vice versa.
Adding an operator is one class and one entry in :data:`OPERATORS`.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from govkit.actions.anonymize import fastpath as ps_fast
from govkit.actions.anonymize import pseudonyms as ps
from govkit.errors import KeyMaterialError, UsageError
from govkit.keys import Keyset

#: Per column, how many distinct values' pseudonyms are remembered (see ``Pseudonymize.apply_many``).
MEMO_SIZE = 10_000
#: ... and the memo is given up after a batch of this many texts that hardly repeat.
MEMO_PROBE = 1_000
#: The marker of a column whose memo was given up (see ``Pseudonymize.apply_many``).
_NO_MEMO: dict[str, str] = {}


class OperatorError(UsageError):
    """An operator name or parameter is wrong (exit 2, before anything is written)."""


class OperatorContext:
    """What operators share in one run: the keyset, and the subkeys derived from it once."""

    def __init__(self, keyset: Keyset | None) -> None:
        self.keyset = keyset
        self._subkeys: dict[tuple[str, str | None, int], tuple[str, bytes]] = {}

    def subkey(self, purpose: str, key_id: str | None = None, length: int = 32) -> tuple[str, bytes]:
        """``(key_id, subkey)`` for ``purpose``; a clear error when there is no keyset."""
        if self.keyset is None:
            raise KeyMaterialError(
                f"operator needs the workspace key ({purpose}); run 'govkit keys init' or set GOVKIT_KEY"
            )
        cache_key = (purpose, key_id, length)
        if cache_key not in self._subkeys:
            self._subkeys[cache_key] = self.keyset.derive(purpose, key_id, length=length)
        return self._subkeys[cache_key]


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Operator(ABC):
    """Base class. Subclasses set ``name`` and ``Params`` and implement :meth:`apply`.

    ``deterministic``: the same input always gives the same output, so the operator may be
    used on key and foreign-key columns (joins survive). ``drops_field``: the exporter
    leaves the column out instead of writing a value.
    """

    name: ClassVar[str]
    Params: ClassVar[type[BaseModel]] = NoParams
    deterministic: bool = True
    keyed: ClassVar[bool] = False
    drops_field: ClassVar[bool] = False

    def __init__(self, params: BaseModel, context: OperatorContext) -> None:
        self.params = params
        self.context = context

    @abstractmethod
    def apply(self, value: Any, entity_type: str | None = None) -> Any:
        """The anonymized form of one non-null value, read as ``entity_type``."""

    def apply_many(self, values: Sequence[Any], entity_type: str | None = None) -> list[Any]:
        """The batched form; ``None`` stays ``None`` (a missing value is not personal data)."""
        apply = self.apply
        return [None if v is None else apply(v, entity_type) for v in values]

    def row_columns(self) -> dict[str, str]:
        """Other columns of the row this operator reads, by role (``{"country": "Country"}``).

        Empty for most operators. Exporters pass those columns' values to :meth:`apply_with`.
        """
        return {}

    def apply_with(self, values: Sequence[Any], entity_type: str | None, row: Mapping[str, Sequence[Any]]) -> list[Any]:
        """:meth:`apply_many` with the values of the row's other columns (``row[role][i]``
        belongs with ``values[i]``); operators that read no other column ignore them."""
        return self.apply_many(values, entity_type)

    def take_counts(self) -> dict[str, int]:
        """Counts the operator kept since the last call (``generalize``: values that went up a
        level), emptied; exporters add them up across batches and worker processes."""
        return {}

    def describe(self) -> str:
        params = self.params.model_dump(exclude_defaults=True)
        return self.name + (":" + ",".join(f"{k}={v}" for k, v in params.items()) if params else "")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


# -- non-keyed ---------------------------------------------------------------------------------


class Keep(Operator):
    """Leave the value as it is (an explicit decision, recorded in the plan)."""

    name = "keep"

    def apply(self, value: Any, entity_type: str | None = None) -> Any:
        return value

    def apply_many(self, values: Sequence[Any], entity_type: str | None = None) -> list[Any]:
        return list(values)


class Drop(Operator):
    """Leave the field out of the output (in free text or in place: an empty value)."""

    name = "drop"
    drops_field = True

    def apply(self, value: Any, entity_type: str | None = None) -> Any:
        return None


class Redact(Operator):
    """Replace the value with an empty string: the field stays, its content does not."""

    name = "redact"

    def apply(self, value: Any, entity_type: str | None = None) -> Any:
        return ""


class ReplaceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str | None = Field(default=None, description="the placeholder; default <ENTITY_TYPE>")


class Replace(Operator):
    """Replace the value with a placeholder such as ``<EMAIL_ADDRESS>``."""

    name = "replace"
    Params = ReplaceParams

    def apply(self, value: Any, entity_type: str | None = None) -> Any:
        placeholder = self.params.value if isinstance(self.params, ReplaceParams) else None
        return placeholder if placeholder is not None else f"<{entity_type or 'REDACTED'}>"


class MaskParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    char: str = Field(default="*", min_length=1, max_length=1)
    keep_first: int = Field(default=0, ge=0)
    keep_last: int = Field(default=0, ge=0)


class Mask(Operator):
    """Keep the first/last N characters, mask the rest; separators (``@ . - space``) kept.

    Masking never reveals more than half the characters: on a short value the kept ends
    shrink, so ``keep_first: 3`` cannot leave a 4-character value readable.
    """

    name = "mask"
    Params = MaskParams
    _SEPARATORS = frozenset("@.-_ +()/")

    def apply(self, value: Any, entity_type: str | None = None) -> Any:
        assert isinstance(self.params, MaskParams)
        text = _text(value)
        first, last = self.params.keep_first, self.params.keep_last
        while first + last > len(text) // 2 and (first or last):
            if first >= last:
                first -= 1
            else:
                last -= 1
        char = self.params.char
        return "".join(
            c if i < first or i >= len(text) - last or c in self._SEPARATORS else char for i, c in enumerate(text)
        )


class GeneralizeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: Literal["year", "month", "band", "range", "prefix", "city", "region", "country", "network"]
    bucket: int | None = Field(default=None, gt=0,
                               description="band/range width; years per band (to=year); prefix length; network bits")
    holds: Literal["street", "postcode", "city", "region", "country", "coordinate"] | None = Field(
        default=None, description="what the column holds (set by the plan from its name)")
    postcode_from: str | None = Field(default=None, description="the row's postcode column")
    city_from: str | None = Field(default=None, description="the row's city column")
    region_from: str | None = Field(default=None, description="the row's region (state, province) column")
    country_from: str | None = Field(default=None, description="the row's country column")


_LOCATION_TARGETS = ("city", "region", "country")


class Generalize(Operator):
    """Coarser values along a hierarchy (see :mod:`.hierarchies`): dates to month, year or
    year bands; numbers to bands or ranges; codes to a prefix; IP addresses to their network;
    locations to the city, region or country of their row; coordinates to about a city.

    A value the hierarchy cannot place at the level asked goes up to the next level it can
    reach (at worst ``*``), and :meth:`take_counts` says how many did, by the level reached.
    """

    name = "generalize"
    Params = GeneralizeParams
    _COORDS = re.compile(r"^\s*(-?\d{1,3}\.\d+)\s*[,; ]\s*(-?\d{1,3}\.\d+)\s*$")

    def __init__(self, params: BaseModel, context: OperatorContext) -> None:
        super().__init__(params, context)
        from govkit.actions.anonymize import hierarchies as h

        assert isinstance(params, GeneralizeParams)
        self._up: dict[str, int] = {}
        self._hierarchy: h.Hierarchy | None = None
        self._level = 0
        to, holds = params.to, params.holds
        if to in ("year", "month"):
            self._hierarchy = h.DateHierarchy()
            self._level = 1 if to == "month" else 2 if not params.bucket or params.bucket == 1 else (
                3 if params.bucket == 5 else 4 if params.bucket == 10 else 0)
            self._years = params.bucket if to == "year" and params.bucket not in (None, 1, 5, 10) else None
        elif to in _LOCATION_TARGETS and holds is not None and holds != "coordinate":
            from govkit.actions.anonymize.roles import LOCATION_LEVELS

            own = LOCATION_LEVELS.index(holds)
            wanted = LOCATION_LEVELS.index(to)
            if holds == "postcode" and to != "country":
                self._hierarchy = h.PostcodeHierarchy()
                self._level = 1 if to == "city" else 2
            elif wanted > own:
                self._hierarchy = h.LocationHierarchy(holds)
                self._level = wanted - own
            # else the column is already as coarse as asked (a country "to city"): kept

    def row_columns(self) -> dict[str, str]:
        assert isinstance(self.params, GeneralizeParams)
        p = self.params
        found = {"postcode": p.postcode_from, "city": p.city_from, "region": p.region_from, "country": p.country_from}
        return {role: column for role, column in found.items() if column}

    def take_counts(self) -> dict[str, int]:
        counts, self._up = self._up, {}
        return counts

    def apply_with(self, values: Sequence[Any], entity_type: str | None, row: Mapping[str, Sequence[Any]]) -> list[Any]:
        if not row:
            return self.apply_many(values, entity_type)
        roles = list(row)
        return [None if v is None else self._place(v, {r: row[r][i] for r in roles}) for i, v in enumerate(values)]

    def apply(self, value: Any, entity_type: str | None = None) -> Any:
        return self._place(value, {})

    def _place(self, value: Any, row: Mapping[str, Any]) -> Any:
        from govkit.actions.anonymize.hierarchies import as_number

        assert isinstance(self.params, GeneralizeParams)
        to, bucket = self.params.to, self.params.bucket
        if isinstance(value, str) and not value.strip():
            return ""  # empty stays empty: there is nothing to generalize
        if self._hierarchy is not None:
            if self._level == 0:  # to=year with a band width of its own
                return self._year_band(value)
            placed = self._hierarchy.place(value, self._level, row)
            if placed.level > self._level:
                name = self._hierarchy.levels[placed.level]
                self._up[name] = self._up.get(name, 0) + 1
            return placed.value
        if to in ("band", "range"):
            return self._number(value, bucket or (10 if to == "band" else 1000))
        text = _text(value)
        if to == "prefix":
            return text.replace(" ", "")[: bucket or 3]  # no padding: the length would say more
        if to == "network":
            out = network(text, bucket)
            if out == "*":
                self._up["*"] = self._up.get("*", 0) + 1
            return out
        if self.params.holds == "coordinate":  # one latitude or longitude: ~11 km (city), ~111 km (region)
            number = as_number(value)
            if number is not None and to != "country":
                return f"{number:.1f}" if to == "city" else f"{number:.0f}"
            country = row.get("country")
            if number is not None and country not in (None, ""):
                return country
            self._up["*"] = self._up.get("*", 0) + 1
            return "*"
        if self.params.holds is not None:  # a country (region...) asked "to city": already coarser
            return value
        match = self._COORDS.match(text)  # coordinates rounded to 0.1 degree (~11 km)
        if match:
            return f"{float(match.group(1)):.1f},{float(match.group(2)):.1f}"
        # A location without a known role or row: nothing in the text itself can be trusted to
        # be a city ("8, rue de Jean" ends with its street), so it goes to the top, counted.
        self._up["*"] = self._up.get("*", 0) + 1
        return "*"

    def _year_band(self, value: Any) -> Any:
        from govkit.actions.anonymize.hierarchies import date_parts

        parts = date_parts(value)
        if parts is None:
            self._up["*"] = self._up.get("*", 0) + 1
            return "*"
        width = self._years or 1
        low = parts[0] // width * width
        return f"{low:04d}-{low + width - 1:04d}"

    def _number(self, value: Any, width: int) -> Any:
        from govkit.actions.anonymize.hierarchies import as_number, band

        number = as_number(value)
        if number is None:
            self._up["*"] = self._up.get("*", 0) + 1
            return "*"
        return band(number, width)


def network(text: str, bits: int | None = None) -> str:
    """The network of an IP address as a wildcard pattern: ``192.168.1.*`` (/24, the IPv4
    default), ``192.168.16-31.*`` (/20), ``2001:db8:0:*`` (/48, the IPv6 default).

    Written so that it is no address itself: ``192.168.1.0/24`` starts with one, and the
    export's verification (rightly) found an IP address in every such value. A value that
    is not an address goes to the top of the hierarchy, ``*``.
    """
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return "*"
    spell: Callable[[int], str]
    if address.version == 4:
        width, unit, size, sep, spell = 32, 8, 4, ".", str
        bits = 24 if bits is None else min(bits, width)
    else:
        width, unit, size, sep, spell = 128, 16, 8, ":", "{:x}".format
        bits = 48 if bits is None else min(bits, width)
    if bits >= width:
        return str(address)
    number = int(address)
    units = [(number >> (unit * (size - 1 - i))) & ((1 << unit) - 1) for i in range(size)]
    full, rest = divmod(bits, unit)
    parts = [spell(u) for u in units[:full]]
    if rest:
        low = units[full] & ~((1 << (unit - rest)) - 1)
        parts.append(f"{spell(low)}-{spell(low + (1 << (unit - rest)) - 1)}")
    stars = size - len(parts)
    parts += ["*"] * (stars if address.version == 4 else 1)
    return sep.join(parts)


# -- keyed ----------------------------------------------------------------------------------------


class HashParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    algorithm: Literal["hmac-sha256"] = "hmac-sha256"
    length: int = Field(default=64, ge=16, le=64, description="hex characters kept")


class Hash(Operator):
    """HMAC-SHA256 with the workspace key, hex. Never unkeyed (a dictionary reverses that
    for emails and phone numbers in minutes) and never randomly salted (joins would break)."""

    name = "hash"
    Params = HashParams
    keyed = True

    def __init__(self, params: BaseModel, context: OperatorContext) -> None:
        super().__init__(params, context)
        _, self._key = context.subkey("hash")

    def apply(self, value: Any, entity_type: str | None = None) -> Any:
        assert isinstance(self.params, HashParams)
        return ps.digest(self._key, _text(value)).hex()[: self.params.length]

    def apply_many(self, values: Sequence[Any], entity_type: str | None = None) -> list[Any]:
        assert isinstance(self.params, HashParams)
        mac, length = ps.mac_for(self._key), self.params.length
        return [None if v is None else mac(_text(v).encode("utf-8", "surrogatepass")).hex()[:length] for v in values]


class PseudonymizeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str | None = Field(default=None, description="key id; default the primary key")
    prefix: str = Field(default="u_", max_length=16)
    length: int = Field(default=16, ge=8, le=64, description="hex characters in token-style pseudonyms")


class Pseudonymize(Operator):
    """Deterministic, format-preserving pseudonyms (see :mod:`.pseudonyms`).

    The default 16 hex characters (64 bits) keep a million distinct emails collision-free
    with overwhelming probability (birthday bound ~3e-8); the issue's 6-character example
    would collide by the hundreds. Integers stay integers of the same width, through a keyed
    permutation, so integer keys stay unique.
    """

    name = "pseudonymize"
    Params = PseudonymizeParams
    keyed = True

    def __init__(self, params: BaseModel, context: OperatorContext) -> None:
        super().__init__(params, context)
        assert isinstance(params, PseudonymizeParams)
        _, self._key = context.subkey("pseudonymize", params.key)
        self._prefix, self._length = params.prefix, params.length
        self._columns: dict[str, Callable[[Sequence[str]], list[str]]] = {}
        self._memo: dict[str, dict[str, str]] = {}

    def apply(self, value: Any, entity_type: str | None = None) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return ps.integer(value, self._key)
        return ps.pseudonym(_text(value), entity_type or "", self._key, self._prefix, self._length)

    def apply_many(self, values: Sequence[Any], entity_type: str | None = None) -> list[Any]:
        """Column-wise through :func:`.fastpath.column_batch`, with a bounded memo.

        The distinct texts of a batch not in the memo are pseudonymized in one call (FF3-1
        batches its AES rounds across them). The memo (per operator, so per column and run,
        at most :data:`MEMO_SIZE` values, emptied when full) saves the work for repeated
        values: names, cities, foreign keys. Where values do not repeat (emails, IDs) it only
        costs, so a batch of at least :data:`MEMO_PROBE` texts with fewer than 2% repeats
        switches it off for the column.
        """
        entity = entity_type or ""
        column = self._columns.get(entity)
        if column is None:
            column = self._columns[entity] = ps_fast.column_batch(self._key, entity, self._prefix, self._length)
        apply = self.apply
        memo = self._memo.setdefault(entity, {})
        out: list[Any] = [None] * len(values)
        pending: dict[str, list[int]] = {}
        texts = 0
        use_memo = memo is not _NO_MEMO
        for i, value in enumerate(values):
            if value.__class__ is str:
                texts += 1
                found = memo.get(value) if use_memo else None
                if found is None:
                    pending.setdefault(value, []).append(i)
                else:
                    out[i] = found
            elif value is not None:
                out[i] = apply(value, entity_type)
        fresh = list(pending)
        for value, new in zip(fresh, column(fresh), strict=True):
            for i in pending[value]:
                out[i] = new
            if use_memo:
                if len(memo) >= MEMO_SIZE:
                    memo.clear()
                memo[value] = new
        if use_memo and texts >= MEMO_PROBE and texts - len(fresh) < texts // 50:
            self._memo[entity] = _NO_MEMO
        return out

    def reverse(self, value: Any, entity_type: str | None = None) -> Any:
        """The value this operator turned into ``value`` (format-preserving pseudonyms and
        integers; a keyed token is one-way and raises :class:`.pseudonyms.NotReversible`)."""
        if isinstance(value, int) and not isinstance(value, bool):
            return ps.integer_inverse(value, self._key)
        return ps.reverse(_text(value), entity_type or "", self._key)


class FakeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: str = Field(default="auto", pattern=r"^[a-z_]+$",
                          description="a Faker provider; auto: what the column holds (set by the plan), else name")
    locale: str = Field(default="en_US", pattern=r"^[a-z]{2}(_[A-Z]{2})?$")
    locale_from: str | None = Field(default=None, description="the row's country column: fakes in its locale")


class Fake(Operator):
    """A Faker value seeded from the keyed digest: the same person gets the same fake name
    everywhere (in the same locale), and nobody without the key can tell which real name a
    fake stands for.

    The plan fits it to the column: ``provider`` ``first_name`` for a first-name column,
    ``last_name``, ``user_name``, ``company``, ``street_address``..., and ``locale_from`` the
    row's country column, so a Brazilian customer gets a Brazilian name (``pt_BR``); a
    country Faker has no locale for keeps ``locale``.
    """

    name = "fake"
    Params = FakeParams
    keyed = True

    def __init__(self, params: BaseModel, context: OperatorContext) -> None:
        super().__init__(params, context)
        assert isinstance(params, FakeParams)
        _, self._key = context.subkey("fake")
        self._provider_name = "name" if params.provider == "auto" else params.provider
        self._fakers: dict[str, tuple[Any, Callable[[], Any]]] = {}
        self._default = params.locale
        self._faker_for(params.locale)  # an unknown provider fails now, before any value
        self._cache: dict[tuple[str, str], Any] = {}

    def _faker_for(self, locale: str) -> tuple[Any, Callable[[], Any]]:
        found = self._fakers.get(locale)
        if found is None:
            from faker import Faker

            faker = Faker(locale)
            provider = getattr(faker, self._provider_name, None)
            if not callable(provider):
                if locale != self._default:
                    return self._faker_for(self._default)
                raise OperatorError(f'operator "fake": unknown Faker provider "{self._provider_name}"')
            found = self._fakers[locale] = (faker, provider)
        return found

    def row_columns(self) -> dict[str, str]:
        assert isinstance(self.params, FakeParams)
        return {"country": self.params.locale_from} if self.params.locale_from else {}

    def apply_with(self, values: Sequence[Any], entity_type: str | None, row: Mapping[str, Sequence[Any]]) -> list[Any]:
        from govkit.actions.anonymize.roles import locale_of

        countries = row.get("country")
        if countries is None:
            return self.apply_many(values, entity_type)
        return [None if v is None else self._fake(v, locale_of(c) or self._default)
                for v, c in zip(values, countries, strict=True)]

    def apply(self, value: Any, entity_type: str | None = None) -> Any:
        return self._fake(value, self._default)

    def _fake(self, value: Any, locale: str) -> Any:
        text = _text(value)
        found = self._cache.get((locale, text))
        if found is None:
            faker, provider = self._faker_for(locale)
            seed = ps.digest(self._key, text)
            for _ in range(8):  # never hand back the real value; re-draw, still deterministically
                faker.seed_instance(int.from_bytes(seed[:8], "big"))
                found = provider()
                if found != value:
                    break
                seed = ps.digest(self._key, seed.hex())
            if len(self._cache) < 100_000:
                self._cache[(locale, text)] = found
        return found


class EncryptParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str | None = Field(default=None, description="key id; default the primary key")
    mode: Literal["deterministic", "randomized"] = "deterministic"


TOKEN_PREFIX = "gk1"


class Encrypt(Operator):
    """Reversible: ``gk1.<key id>.<s|g>.<base64url>``.

    ``deterministic`` (AES-SIV) gives the same token for the same value, so joins and
    equality still work; ``randomized`` (AES-GCM, random 96-bit nonce) hides even equality.
    The key id in the token lets :class:`Decrypt` find a retired key after rotation.
    """

    name = "encrypt"
    Params = EncryptParams
    keyed = True

    def __init__(self, params: BaseModel, context: OperatorContext) -> None:
        super().__init__(params, context)
        assert isinstance(params, EncryptParams)
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV

        self.deterministic = params.mode == "deterministic"
        if self.deterministic:
            self._key_id, key = context.subkey("encrypt-siv", params.key, 64)
            self._siv: AESSIV | None = AESSIV(key)
            self._gcm: AESGCM | None = None
        else:
            self._key_id, key = context.subkey("encrypt-gcm", params.key, 32)
            self._siv, self._gcm = None, AESGCM(key)

    def apply(self, value: Any, entity_type: str | None = None) -> Any:
        data = _text(value).encode("utf-8", "surrogatepass")
        if self._siv is not None:
            kind, blob = "s", self._siv.encrypt(data, [self._key_id.encode()])
        else:
            assert self._gcm is not None
            nonce = os.urandom(12)
            kind, blob = "g", nonce + self._gcm.encrypt(nonce, data, self._key_id.encode())
        return f"{TOKEN_PREFIX}.{self._key_id}.{kind}.{base64.urlsafe_b64encode(blob).decode().rstrip('=')}"


class DecryptParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Decrypt(Operator):
    """The inverse of :class:`Encrypt`; any key version still in the keyset works."""

    name = "decrypt"
    Params = DecryptParams
    keyed = True

    def apply(self, value: Any, entity_type: str | None = None) -> Any:
        return decrypt_token(_text(value), self.context)


def is_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX + ".") and value.count(".") == 3


def decrypt_token(value: str, context: OperatorContext) -> str:
    """Decrypt one ``gk1`` token. Errors name the key id, never the value."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV

    if not is_token(value):
        raise UsageError("not a govkit encryption token (expected gk1.<key id>.<s|g>.<data>)")
    _, key_id, kind, data = value.split(".")
    try:
        blob = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except ValueError:
        raise UsageError(f"a token for key {key_id} is not valid base64") from None
    try:
        if kind == "s":
            _, key = context.subkey("encrypt-siv", key_id, 64)
            return AESSIV(key).decrypt(blob, [key_id.encode()]).decode("utf-8", "surrogatepass")
        if kind == "g":
            _, key = context.subkey("encrypt-gcm", key_id, 32)
            return AESGCM(key).decrypt(blob[:12], blob[12:], key_id.encode()).decode("utf-8", "surrogatepass")
    except InvalidTag:
        raise KeyMaterialError(f"a token does not decrypt with key {key_id}: wrong key or altered data") from None
    raise UsageError(f"unknown token kind {kind!r} (expected s or g)")


#: The registry: name -> operator class. Adding an operator is one class and one line here.
OPERATORS: dict[str, type[Operator]] = {
    cls.name: cls
    for cls in (Redact, Replace, Mask, Hash, Pseudonymize, Encrypt, Decrypt, Fake, Generalize, Drop, Keep)
}


def parameter_names() -> dict[str, tuple[str, ...]]:
    """Each operator's parameter names, in declaration order (what the policy schema checks)."""
    return {name: tuple(cls.Params.model_fields) for name, cls in OPERATORS.items()}


def validate_params(name: str, params: dict[str, Any] | None = None) -> BaseModel:
    """The operator's parameters, validated; :class:`OperatorError` says what is wrong."""
    cls = OPERATORS.get(name)
    if cls is None:
        raise OperatorError(f'unknown operator "{name}" (known: {", ".join(OPERATORS)})')
    try:
        return cls.Params.model_validate(params or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'params'}: {err['msg']}" for err in exc.errors()
        )
        raise OperatorError(f'operator "{name}": {problems}') from None


def build(name: str, params: dict[str, Any] | None, context: OperatorContext) -> Operator:
    """Look up, validate and instantiate an operator (keys are derived here, up front)."""
    model = validate_params(name, params)
    return OPERATORS[name](model, context)


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``mask:keep_last=4,char=#`` -> ``("mask", {"keep_last": "4", "char": "#"})``.

    Values stay strings; the pydantic models convert them (``"4"`` -> 4).
    """
    name, _, rest = spec.partition(":")
    params: dict[str, Any] = {}
    for part in filter(None, rest.split(",")):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise OperatorError(f'operator parameters are key=value pairs, got "{part}" in "{name}"')
        params[key.strip()] = value
    return name.strip(), params
