"""CN_BANK_CARD: China UnionPay and legacy domestic bank card numbers, Luhn-checked.

Accepted prefixes (ISO/IEC 7812 IIN) and lengths:

* ``62`` - China UnionPay, 16 to 19 digits (debit cards are usually 19, credit 16,
  some ICBC ``6204xx`` cards 18).
* ``9558`` - ICBC's pre-UnionPay domestic debit range (牡丹灵通卡), 19 digits.
* ``95595``-``95599`` - Agricultural Bank of China's domestic debit range (金穗卡), 19 digits.

The ``9`` ranges are the ISO 7812 "national use" major industry identifier that large
Chinese banks used before the 62 BINs; such cards are still in circulation and no
built-in Presidio recognizer covers them. Visa/Mastercard/JCB cards issued in China
are plain CREDIT_CARD and left to Presidio.

Written solid or in groups of four separated by one consistent space or dash. The check
is ``stdnum.luhn``; a Luhn-valid number gets the maximum score, as Presidio does.

No double reporting with CREDIT_CARD: Presidio's built-in reports Luhn-valid 13-17 digit
numbers starting with 6 when they stand between word boundaries. Rather than
re-implementing that rule, this recognizer runs the built-in ``CreditCardRecognizer``
over the same text and drops any of its own results whose span the built-in reports
too (``defer_to_credit_card=True``, the default). So a 16-digit UnionPay card in English
text is CREDIT_CARD; a 19-digit one, or one glued to Chinese text (``卡号6222...``,
where ``\\b`` fails), is CN_BANK_CARD. Pass ``False`` when CREDIT_CARD is not analyzed.
An 18-digit number that is a valid resident ID is left to CN_RESIDENT_ID (Gansu IDs
start with 62 and pass Luhn one time in ten).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from presidio_analyzer import Pattern, RecognizerResult
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer
from stdnum import luhn

from ._base import NOT_AFTER_ALNUM, NOT_BEFORE_ALNUM, CharContextPatternRecognizer
from ._registry import register
from .cn_resident_id import is_valid_resident_id

if TYPE_CHECKING:
    pass

_LEGACY_PREFIXES = ("9558", "95595", "95596", "95597", "95598", "95599")


def is_valid_cn_bank_card(candidate: str) -> bool:
    """Prefix and length as documented above, then Luhn; IDs excluded."""
    number = "".join(ch for ch in candidate if ch.isdigit())
    if number.startswith("62"):
        length_ok = 16 <= len(number) <= 19
    else:
        length_ok = number.startswith(_LEGACY_PREFIXES) and len(number) == 19
    if not length_ok or not luhn.is_valid(number):
        return False
    return not (len(number) == 18 and is_valid_resident_id(number))


@register()
class CnBankCardRecognizer(CharContextPatternRecognizer):
    """Recognize UnionPay (62) and legacy ICBC/ABC domestic card numbers passing Luhn."""

    ENTITY: ClassVar[str] = "CN_BANK_CARD"
    DESCRIPTION: ClassVar[str] = "China UnionPay / domestic bank card number (62 or 9558/9559x prefix, Luhn)"
    COUNTRY_CODE: ClassVar[str | None] = "cn"

    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "CN bank card (solid)",
            rf"{NOT_AFTER_ALNUM}(?:62\d{{14,17}}|955[89]\d{{15}}){NOT_BEFORE_ALNUM}",
            0.3,
        ),
        Pattern(
            "CN bank card (groups of 4)",
            # Not preceded by "digit + separator" nor followed by "separator + digit":
            # four groups cut out of a longer grouped number are not a card.
            rf"{NOT_AFTER_ALNUM}(?<!\d[ -])(?:62\d\d|955[89])(?P<sep>[ -])\d{{4}}"
            rf"(?P=sep)\d{{4}}(?P=sep)\d{{4}}(?:(?P=sep)\d{{1,3}})?(?![ -]?\d){NOT_BEFORE_ALNUM}",
            0.3,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "银行卡",
        "卡号",
        "银联",
        "借记卡",
        "储蓄卡",
        "信用卡",
        "unionpay",
        "bank card",
        "card no",
    ]

    def __init__(
        self,
        patterns: list[Pattern] | None = None,
        context: list[str] | None = None,
        supported_language: str = "en",
        supported_entity: str | None = None,
        name: str | None = None,
        defer_to_credit_card: bool = True,
    ) -> None:
        self.defer_to_credit_card = defer_to_credit_card
        self._credit_card = CreditCardRecognizer(supported_language=supported_language)
        super().__init__(patterns, context, supported_language, supported_entity, name)

    def validate_result(self, pattern_text: str) -> bool:
        """Luhn-valid with an accepted prefix/length -> max score; otherwise dropped."""
        return is_valid_cn_bank_card(pattern_text)

    def _after_patterns(self, text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
        """Boost by context, then drop the cards the built-in CREDIT_CARD reports on the same span."""
        from govkit.detect.lean import pattern_results

        results = super()._after_patterns(text, results)
        if not self.defer_to_credit_card or not results:
            return results
        covered = _Coverage((cc.start, cc.end) for cc in pattern_results(self._credit_card, text))
        return [ours for ours in results if not covered.contains(ours.start, ours.end)]


class _Coverage:
    """Spans sorted by start, answering "does one of them contain [start, end)?" by bisection.

    The scanner joins thousands of cells into one text, so comparing every match with every
    card match (what a plain ``any`` does) grows with the square of the batch.
    """

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._starts = [start for start, _ in ordered]
        self._reach: list[int] = list(itertools.accumulate((end for _, end in ordered), max))

    def contains(self, start: int, end: int) -> bool:
        index = bisect.bisect_right(self._starts, start) - 1
        return index >= 0 and self._reach[index] >= end
