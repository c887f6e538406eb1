"""Periods: ``P7Y``, ``P18M``, ``P30D`` (ISO 8601) or ``7 years``, ``18 months``, ``30 days``.

Retention periods and DSR deadlines are written by lawyers as often as by engineers, so both
spellings are accepted and both print back. Only calendar units are supported (years,
months, weeks, days) plus *working days*, which PIPL art. 50 uses for its 15-day deadline.
Hours and minutes (``PT24H``) are rejected: no retention or DSR rule needs them, and
allowing them would make "a day" ambiguous across time zones.

Working days are Monday to Friday; public holidays are not known to govkit, so a deadline in
working days is an upper bound a team should check against its own calendar.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from govkit.policy.errors import close_match

#: The longest period accepted: long enough for any statute, short enough for date arithmetic.
MAX_YEARS = 200

_ISO = re.compile(r"P(?:(?P<y>\d+)Y)?(?:(?P<m>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?", re.IGNORECASE)
_PART = re.compile(r"(?P<n>\d+)\s*(?P<unit>[^\W\d_]+(?:[ -]+[^\W\d_]+)?)")
_SEPARATORS = re.compile(r"\s*(?:,|\band\b|\s)\s*", re.IGNORECASE)
_UNITS = {
    "year": "years", "years": "years",
    "month": "months", "months": "months",
    "week": "weeks", "weeks": "weeks",
    "day": "days", "days": "days",
    "working day": "working_days", "working days": "working_days",
    "business day": "working_days", "business days": "working_days",
    "workday": "working_days", "workdays": "working_days",
}  # fmt: skip
_UNIT_WORDS = ("years", "months", "weeks", "days", "working days")

T = TypeVar("T", date, datetime)


class PeriodError(ValueError):
    """Not a period; ``suggestion`` is a corrected spelling when one is obvious."""

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.suggestion = suggestion


@dataclass(frozen=True, slots=True)
class Period:
    """A span of calendar time. Weeks are stored as days (``P2W`` == ``P14D``)."""

    years: int = 0
    months: int = 0
    days: int = 0
    working_days: int = 0

    def __post_init__(self) -> None:
        values = (self.years, self.months, self.days, self.working_days)
        if any(v < 0 for v in values):
            raise PeriodError("a period cannot be negative")
        if not any(values):
            raise PeriodError("a period must be longer than zero")
        if self.working_days and (self.years or self.months or self.days):
            raise PeriodError("working days cannot be combined with other units")
        approx_days = self.years * 366 + self.months * 31 + self.days + self.working_days * 7 // 5
        if approx_days > MAX_YEARS * 366:
            raise PeriodError(f"a period may be at most {MAX_YEARS} years")

    # -- text -------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse either spelling; raise :class:`PeriodError` saying what was expected."""
        if not isinstance(text, str):
            raise PeriodError(f"expected a period such as \"P7Y\" or \"7 years\", got {_kind(text)}")
        raw = text.strip()
        if not raw:
            raise PeriodError('expected a period such as "P7Y" or "7 years", got an empty string')
        if raw[0] in "pP":
            return cls._parse_iso(raw)
        return cls._parse_words(raw)

    @classmethod
    def _parse_iso(cls, raw: str) -> Period:
        if "T" in raw.upper():
            raise PeriodError(f'period "{raw}": hours, minutes and seconds (PT...) are not supported; use days')
        match = _ISO.fullmatch(raw)
        if match is None or raw.upper() == "P":
            raise PeriodError(
                f'period "{raw}" is not an ISO 8601 duration; expected whole numbers of Y, M, W or D such as '
                '"P7Y", "P18M", "P2W", "P30D"'
            )
        y, m, w, d = (int(match.group(g) or 0) for g in "ymwd")
        return cls._checked(raw, years=y, months=m, days=w * 7 + d)

    @classmethod
    def _parse_words(cls, raw: str) -> Period:
        counts = {"years": 0, "months": 0, "weeks": 0, "days": 0, "working_days": 0}
        seen: set[str] = set()
        position = 0
        text = raw.lower()
        while position < len(text):
            sep = _SEPARATORS.match(text, position)
            if sep and sep.end() > position:
                position = sep.end()
                continue
            part = _PART.match(text, position)
            if part is None:
                raise PeriodError(
                    f'period "{raw}" is not understood; expected e.g. "7 years", "18 months", "30 days", '
                    '"15 working days" or "P7Y"'
                )
            words = " ".join(part.group("unit").replace("-", " ").split())
            unit = _UNITS.get(words)
            end = part.end()
            if unit is None and " " in words:  # "7 years and" -> the unit is the first word
                first = words.split(" ")[0]
                unit = _UNITS.get(first)
                end = part.start("unit") + len(part.group("unit").split()[0])
                words = first
            if unit is None:
                guess = close_match(words, _UNIT_WORDS)
                suggestion = None
                if guess is not None:
                    suggestion = raw[: part.start("unit")] + guess + raw[part.end("unit"):]
                raise PeriodError(
                    f'period "{raw}": unknown unit "{words}"; expected years, months, weeks, days or working days',
                    suggestion,
                )
            if unit in seen:
                raise PeriodError(f'period "{raw}" names {unit.replace("_", " ")} twice')
            seen.add(unit)
            counts[unit] = int(part.group("n"))
            position = end
        if not seen:
            raise PeriodError(f'period "{raw}" is not understood; expected e.g. "7 years" or "P7Y"')
        return cls._checked(
            raw, years=counts["years"], months=counts["months"], days=counts["weeks"] * 7 + counts["days"],
            working_days=counts["working_days"],
        )

    @classmethod
    def _checked(cls, raw: str, **parts: int) -> Period:
        try:
            return cls(**parts)
        except PeriodError as exc:
            raise PeriodError(f'period "{raw}": {exc}') from None

    def __str__(self) -> str:
        """The canonical spelling: ISO 8601, or ``N working days`` (which ISO cannot say)."""
        if self.working_days:
            return self.human()
        text = "P"
        if self.years:
            text += f"{self.years}Y"
        if self.months:
            text += f"{self.months}M"
        if self.days:
            text += f"{self.days}D"
        return text

    def human(self) -> str:
        """``1 year 6 months``, ``15 working days``: for messages and reports."""
        parts = []
        for value, unit in (
            (self.years, "year"), (self.months, "month"), (self.days, "day"), (self.working_days, "working day"),
        ):
            if value:
                parts.append(f"{value} {unit}{'' if value == 1 else 's'}")
        return " ".join(parts)

    # -- arithmetic ---------------------------------------------------------------------

    @property
    def approx_days(self) -> float:
        """Length in days on average, only for ranking periods against each other."""
        return self.years * 365.2425 + self.months * 30.436875 + self.days + self.working_days * 7 / 5

    def before(self, moment: T) -> T:
        """``moment`` minus this period: the retention cutoff (older rows are past it)."""
        return self._shift(moment, -1)

    def after(self, moment: T) -> T:
        """``moment`` plus this period: a deadline."""
        return self._shift(moment, +1)

    def _shift(self, moment: T, sign: int) -> T:
        if self.working_days:
            current = moment
            left = self.working_days
            while left:
                current = current + timedelta(days=sign)
                if current.weekday() < 5:
                    left -= 1
            return current
        months = moment.year * 12 + (moment.month - 1) + sign * (self.years * 12 + self.months)
        year, month0 = divmod(months, 12)
        if not 1 <= year <= 9999:
            raise OverflowError("date out of range")
        day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
        shifted = moment.replace(year=year, month=month0 + 1, day=day)
        return shifted + timedelta(days=sign * self.days)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value} (a period needs a unit: \"{value} days\"?)"
    return f"a {type(value).__name__}"
