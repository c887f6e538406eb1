"""Generalization hierarchies: the levels a value can be coarsened to, finest first.

Each hierarchy maps a value and a level to the value at that level, and says which level it
reached: a value it cannot place at the asked level goes *up* (to the next level it can
reach, at worst ``*``), never to a placeholder that pretends to be a value, and the caller
counts how many did (``generalize`` reports them in the plan's notes; the k-anonymity search
scores them as the level they reached).

- **dates**: day -> month -> year -> 5-year band -> 10-year band -> ``*``;
- **numbers** (and ages): exact -> bands of growing width -> ``*``;
- **postcodes**, by the country's convention: exact -> area (UK outward code ``SW1V``,
  Canadian FSA ``H2G``, US ZIP3 ``941``, Brazil's first 5 digits, otherwise the first 2) ->
  postal region (UK area letters ``SW``, otherwise the first digit) -> ``*``;
- **locations**: street -> postcode area -> city -> region -> country -> ``*``. A column holds
  one of these (its role, see :mod:`.roles`); the levels above it come from the row's other
  columns (``BillingAddress`` -> ``BillingCity`` -> ``BillingState`` -> ``BillingCountry``),
  and where the row has no region, from its postcode's postal region (``DE-7``). A street
  never yields anything from itself: ``"8, rue de Jean"`` has no city in it, whatever its
  last comma-separated part says, so without a city column it goes up.

Every level is a function of the value and its row, and each level is a function of the one
below it (a coarser level never splits what a finer one merged), which the k-anonymity
search relies on; property tests check both.
"""

from __future__ import annotations

import datetime
import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from govkit.actions.anonymize.roles import LOCATION_LEVELS, country_code

TOP = "*"
_NO_ROW: Mapping[str, Any] = {}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True, slots=True)
class Placed:
    """A generalized value and the level it reached (``>=`` the level asked for)."""

    value: Any
    level: int


class Hierarchy:
    """Base: ``levels`` are level names, finest (``exact``) first, ``*`` last."""

    kind = "text"
    levels: tuple[str, ...] = ("exact", TOP)
    #: the row roles the hierarchy reads (location columns of the same row)
    needs: tuple[str, ...] = ()

    def place(self, value: Any, level: int, row: Mapping[str, Any] = _NO_ROW) -> Placed:
        """``value`` at ``level`` (or above, if it cannot be placed there)."""
        if level <= 0:
            return Placed(value, 0)
        return Placed(TOP, len(self.levels) - 1)

    def __call__(self, value: Any, level: int, row: Mapping[str, Any] = _NO_ROW) -> Any:
        return self.place(value, level, row).value

    @property
    def top(self) -> int:
        return len(self.levels) - 1


# -- dates ---------------------------------------------------------------------------------------

_DATE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def date_parts(value: Any) -> tuple[int, int | None] | None:
    """(year, month or None) of a date, a datetime or ``YYYY[-MM[-DD]]`` text; None if not a date."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.year, value.month
    if isinstance(value, str):
        match = _DATE.match(value)
        if match and 1 <= int(match.group(1)) <= 9999:
            month = int(match.group(2)) if match.group(2) else None
            if month is not None and not 1 <= month <= 12:
                return None
            return int(match.group(1)), month
    return None


class DateHierarchy(Hierarchy):
    """day -> month (``1985-07``) -> year (``1985``) -> 5 years (``1985-1989``) -> 10 years -> ``*``."""

    kind = "date"
    levels = ("exact", "month", "year", "5 years", "10 years", TOP)

    def place(self, value: Any, level: int, row: Mapping[str, Any] = _NO_ROW) -> Placed:
        if level <= 0:
            return Placed(value, 0)
        if level >= self.top:
            return Placed(TOP, self.top)
        parts = date_parts(value)
        if parts is None:
            return Placed(TOP, self.top)  # not a date: up to the top, counted
        year, month = parts
        if level == 1 and month is not None:
            return Placed(f"{year:04d}-{month:02d}", 1)
        if level <= 2:
            return Placed(f"{year:04d}", 2)
        width = 5 if level == 3 else 10
        low = year // width * width
        return Placed(f"{low:04d}-{low + width - 1:04d}", level)


# -- numbers ---------------------------------------------------------------------------------------


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, Decimal):
        try:
            number = float(value)
        except (InvalidOperation, ValueError):
            return None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def band(number: float, width: int) -> str:
    low = int(number // width * width)
    return f"{low}-{low + width - 1}"


class NumberHierarchy(Hierarchy):
    """exact -> bands of each width in ``widths`` (``30-39``) -> ``*``.

    The widths must each divide the next (5, 10, 20, 100...), so that every band sits inside
    one band of the next level.
    """

    kind = "number"

    def __init__(self, widths: tuple[int, ...] = (5, 10, 20, 100)) -> None:
        for small, big in itertools.pairwise(widths):
            if big % small:
                raise ValueError(f"band widths must each divide the next: {widths}")
        self.widths = widths
        self.levels = ("exact", *(f"band {w}" for w in widths), TOP)

    def place(self, value: Any, level: int, row: Mapping[str, Any] = _NO_ROW) -> Placed:
        if level <= 0:
            return Placed(value, 0)
        if level >= self.top:
            return Placed(TOP, self.top)
        number = as_number(value)
        if number is None:
            return Placed(TOP, self.top)
        return Placed(band(number, self.widths[level - 1]), level)


def widths_for(low: float, high: float) -> tuple[int, ...]:
    """Band widths for numbers from ``low`` to ``high``: 5, 10, 20, 100, 200, 1000... up to
    the first width that holds them all in one band."""
    widths: list[int] = []
    width = 5
    while True:
        widths.append(width)
        if low // width == high // width or width > 10**15:
            return tuple(widths)
        width = width * 2 if str(width).startswith("1") else width * 5 if str(width).startswith("2") else width * 2


AGES = NumberHierarchy((5, 10, 20))


# -- postcodes ------------------------------------------------------------------------------------

_UK = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
_CA = re.compile(r"^([A-Z][0-9][A-Z]) ?([0-9][A-Z][0-9])$")


def postcode_country(code: str, country: Any = None) -> str | None:
    """The ISO code the postcode's convention follows: the row's country, else its shape."""
    known = country_code(country)
    if known is not None:
        return known
    text = code.strip().upper()
    if _UK.match(text):
        return "GB"
    if _CA.match(text):
        return "CA"
    return None


def postcode_area(code: str, country: Any = None) -> str | None:
    """The postcode's area by its country's convention, or None if it has no letters or digits.

    UK: the outward code (``SW1V 3EN`` -> ``SW1V``); Canada: the FSA (``H2G``); US: ZIP3
    (``94043-1351`` -> ``940``); Brazil: the first 5 digits (``01310``); the Netherlands: the 4
    digits; elsewhere the first 2 characters (a French département, a German Leitregion).
    """
    text = code.strip().upper()
    compact = re.sub(r"[^0-9A-Z]", "", text)
    if not compact:
        return None
    iso = postcode_country(text, country)
    if iso == "GB":
        match = _UK.match(text)
        return match.group(1) if match else compact[:-3] or compact[:2]
    if iso == "CA":
        return compact[:3]
    if iso == "US":
        return compact[:3]
    if iso == "BR":
        return compact[:5] if len(compact) > 5 else compact[:2]
    if iso == "NL":
        return compact[:4]
    return compact[:2]


def postal_region(code: str, country: Any = None) -> str | None:
    """The postcode's region: UK area letters (``SW``), otherwise its first character."""
    area = postcode_area(code, country)
    if area is None:
        return None
    if postcode_country(code, country) == "GB":
        letters = re.match(r"[A-Z]+", area)
        return letters.group(0) if letters else area[:1]
    return area[:1]


class PostcodeHierarchy(Hierarchy):
    """exact -> area -> postal region -> ``*``; the row's ``country`` picks the convention."""

    kind = "postcode"
    levels = ("exact", "area", "postal region", TOP)
    needs = ("country",)

    def place(self, value: Any, level: int, row: Mapping[str, Any] = _NO_ROW) -> Placed:
        if level <= 0:
            return Placed(value, 0)
        if level >= self.top or _missing(value):
            return Placed(TOP, self.top)
        country = row.get("country")
        text = str(value)
        if level == 1:
            area = postcode_area(text, country)
            if area is not None and len(area) < len(re.sub(r"[^0-9A-Z]", "", text.upper())):
                return Placed(area, 1)
            level = 2  # too short for its convention's area: the area would be the whole code
        region = postal_region(text, country)
        if region is None or region == re.sub(r"[^0-9A-Z]", "", text.upper()):
            return Placed(TOP, self.top)
        return Placed(region, level)


# -- locations ------------------------------------------------------------------------------------


class LocationHierarchy(Hierarchy):
    """A column holding one location level (``role``), and the levels above it from its row.

    Levels are ``exact`` (the column's own value), then each coarser location level, then
    ``*``: for a street column, ``postcode area``, ``city``, ``region``, ``country``. The value
    at a level comes from the row (``row[role]``); a row without it goes up to the next level
    it has. The region falls back to the postcode's postal region, with the country code
    (``DE-7``), so rows without a region column still have one.
    """

    kind = "location"

    def __init__(self, role: str) -> None:
        if role not in LOCATION_LEVELS:
            raise ValueError(f"not a location role: {role}")
        self.role = role
        above = LOCATION_LEVELS[LOCATION_LEVELS.index(role) + 1:]
        self.levels = ("exact", *(("postcode area" if r == "postcode" else r) for r in above), TOP)
        self._roles = above
        self.needs = tuple(r for r in LOCATION_LEVELS if r != role)

    def _at(self, role: str, row: Mapping[str, Any], own: Any) -> Any:
        if role == "postcode":
            code = own if self.role == "postcode" else row.get("postcode")
            return None if _missing(code) else postcode_area(str(code), row.get("country"))
        found = row.get(role)
        if not _missing(found):
            return found
        if role == "region":
            code = own if self.role == "postcode" else row.get("postcode")
            region = None if _missing(code) else postal_region(str(code), row.get("country"))
            if region is not None:
                iso = country_code(row.get("country"))
                return f"{iso}-{region}" if iso else f"postal region {region}"
        return None

    def place(self, value: Any, level: int, row: Mapping[str, Any] = _NO_ROW) -> Placed:
        if level <= 0:
            return Placed(value, 0)
        for at in range(level, self.top):
            found = self._at(self._roles[at - 1], row, value)
            if found is not None:
                return Placed(found, at)
        return Placed(TOP, self.top)


def level_index(hierarchy: Hierarchy, name: str) -> int | None:
    """The index of the level called ``name`` (``city``, ``year``...), or None."""
    return hierarchy.levels.index(name) if name in hierarchy.levels else None
