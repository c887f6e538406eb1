"""CN_PASSPORT: PRC ordinary passport numbers (普通护照).

Shapes, upper case only:

* ``E`` + 8 digits - electronic passports issued since 2012;
* ``E`` + letter + 7 digits - the newer series (``EA1234567``); letters I and O are
  not used, to avoid confusion with 1 and 0;
* ``G`` + 8 digits - the older pre-2012 series, still seen in records.

There is no check digit in the number itself (the MRZ has one, not the printed
number), so a bare match is weak evidence - ``E12345678`` is also a part number or a
ticket code. The base score is low (0.1, like Presidio's US_PASSPORT) and a context
word (护照, passport, huzhao) before the match raises it above the usual 0.4 threshold.
Matching is case-sensitive, so lower-case identifiers do not qualify.
"""

from __future__ import annotations

from typing import ClassVar

from presidio_analyzer import Pattern

from ._base import NOT_AFTER_ALNUM, NOT_BEFORE_ALNUM, CharContextPatternRecognizer
from ._registry import register


@register()
class CnPassportRecognizer(CharContextPatternRecognizer):
    """Recognize PRC ordinary passport numbers; relies on context for a usable score."""

    ENTITY: ClassVar[str] = "CN_PASSPORT"
    DESCRIPTION: ClassVar[str] = "PRC ordinary passport number (E/G + 8 digits, E + letter + 7)"
    COUNTRY_CODE: ClassVar[str | None] = "cn"

    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "CN passport (E/G + 8 digits)",
            rf"{NOT_AFTER_ALNUM}(?-i:[EG]\d{{8}}){NOT_BEFORE_ALNUM}",
            0.1,
        ),
        Pattern(
            "CN passport (E + letter + 7 digits)",
            rf"{NOT_AFTER_ALNUM}(?-i:E[A-HJ-NP-Z]\d{{7}}){NOT_BEFORE_ALNUM}",
            0.1,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "护照",
        "护照号",
        "护照号码",
        "passport",
        "huzhao",
        "travel document",
    ]

