"""CN_RESIDENT_ID: PRC resident identity card number (居民身份证号码, GB 11643-1999).

18 characters: 6-digit area code, YYYYMMDD birth date, 3-digit sequence, and an
ISO 7064 MOD 11-2 check character (digit or X). ``stdnum.cn.ric`` computes the check
character and parses the date; on top of it we reject dates in the future or before
1900 (stdnum accepts any calendar date) and area codes absent from stdnum's
administrative-division table.

We deliberately do *not* apply stdnum's stricter birth-place rule (the area code must
have existed in the birth year): numbers are issued where the holder is registered
when first issued, so a person born in 1985 can legitimately carry a code created in
1997. Any code the table has ever known is accepted.

Legacy 15-digit numbers (6-digit area, YYMMDD in the 1900s, 3-digit sequence; no check
digit) are upgraded to 18 digits the way GB 11643-1999 does it (insert ``19``, append
the computed check character) and then run through the same checks. Without a check
digit they are weaker evidence, so they keep a lower pattern score that context raises.
"""

from __future__ import annotations

import datetime
import functools
from typing import ClassVar

from presidio_analyzer import Pattern
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from ._base import NOT_AFTER_ALNUM, NOT_BEFORE_ALNUM, CharContextPatternRecognizer
from ._registry import register

_MONTH_DAY = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_EARLIEST_BIRTH = datetime.date(1900, 1, 1)
_AREAS = numdb.get("cn/loc")


@functools.lru_cache(maxsize=8192)  # ~3,500 codes; stdnum's table lookup is the slow part of a check
def _known_area(code: str) -> bool:
    """True if stdnum's GB/T 2260 table knows this 6-digit area code, in any period."""
    parts = _AREAS.info(code)
    return len(parts) == 2 and all(props for _, props in parts)


def is_valid_resident_id(number: str) -> bool:
    """Check an 18-character ID: check character, real past birth date, known area.

    Also used by CN_USCC and CN_BANK_CARD to stay silent on numbers that are IDs.
    """
    number = ric.compact(number)
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        if number[-1] != ric.calc_check_digit(number):
            return False
        birth = ric.get_birth_date(number)
    except (ValidationError, ValueError):
        return False
    if not _EARLIEST_BIRTH <= birth <= datetime.date.today():
        return False
    return _known_area(number[:6])


def is_valid_legacy_resident_id(number: str) -> bool:
    """Check a 15-digit pre-1999 ID by upgrading it to 18 digits (GB 11643-1999)."""
    if len(number) != 15 or not number.isdigit():
        return False
    body = number[:6] + "19" + number[6:]
    return is_valid_resident_id(body + ric.calc_check_digit(body + "0"))


@register()
class CnResidentIdRecognizer(CharContextPatternRecognizer):
    """Recognize PRC resident ID numbers (18-digit with check character; 15-digit legacy)."""

    ENTITY: ClassVar[str] = "CN_RESIDENT_ID"
    DESCRIPTION: ClassVar[str] = "PRC resident identity card number (18 chars, MOD 11-2 check; legacy 15 digits)"
    COUNTRY_CODE: ClassVar[str | None] = "cn"

    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "CN resident ID (18)",
            rf"{NOT_AFTER_ALNUM}[1-8]\d{{5}}(?:19|20)\d{{2}}{_MONTH_DAY}\d{{3}}[\dX]{NOT_BEFORE_ALNUM}",
            0.5,
        ),
        Pattern(
            "CN resident ID (15, legacy)",
            rf"{NOT_AFTER_ALNUM}[1-8]\d{{5}}\d{{2}}{_MONTH_DAY}\d{{3}}{NOT_BEFORE_ALNUM}",
            0.3,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "身份证",
        "身份证号",
        "公民身份号码",
        "身份号码",
        "证件号",
        "sfz",
        "id card",
        "identity card",
        "resident id",
        "id number",
        "id no",
    ]


    def validate_result(self, pattern_text: str) -> bool | None:
        """18 characters: the full check decides (valid -> max score, else dropped).

        15 digits have no check digit to validate, so return None (no validation ran)
        and leave it to :meth:`invalidate_result`; the match keeps its lower score.
        """
        if len(pattern_text) == 18:
            return is_valid_resident_id(pattern_text)
        return None

    def invalidate_result(self, pattern_text: str) -> bool | None:
        """Drop a 15-digit match whose birth date or area code is not real."""
        if len(pattern_text) == 15:
            return not is_valid_legacy_resident_id(pattern_text)
        return None
