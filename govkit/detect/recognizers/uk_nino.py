"""UK_NINO: UK National Insurance numbers (``QQ 12 34 56 C``), on by default.

Presidio ships a UK_NINO recognizer but leaves it disabled, so a column of NI numbers went
unreported although govkit lists the entity type. This one uses the same rules:

* two prefix letters: neither D, F, I, Q, U nor V; the second letter not O; and not one
  of the prefixes HMRC never allocates (BG, GB, KN, NK, NT, TN, ZZ, the last being the
  placeholder of temporary numbers);
* six digits, written whole or in pairs;
* a suffix letter A to D.

There is no check digit, so a bare match keeps Presidio's score (0.5). Matching is
case-sensitive (NI numbers are written in capitals; lower-case runs are identifiers), and
the number may not continue a longer run of letters or digits.
"""

from __future__ import annotations

from typing import ClassVar

from presidio_analyzer import Pattern

from ._base import NOT_AFTER_ALNUM, NOT_BEFORE_ALNUM, CharContextPatternRecognizer
from ._registry import register

_PREFIX = r"(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"


@register(replaces="UkNinoRecognizer")
class GovkitUkNinoRecognizer(CharContextPatternRecognizer):
    """Recognize UK National Insurance numbers (Presidio's rules, enabled, case-sensitive)."""

    ENTITY: ClassVar[str] = "UK_NINO"
    COUNTRY_CODE: ClassVar[str | None] = "uk"

    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "UK NINO",
            rf"{NOT_AFTER_ALNUM}(?-i:{_PREFIX} ?\d{{2}} ?\d{{2}} ?\d{{2}} ?[A-D]){NOT_BEFORE_ALNUM}",
            0.5,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["national insurance", "ni number", "nino", "ni no"]
