"""CN_PHONE_NUMBER: mainland China mobile numbers.

11 digits starting ``1[3-9]``, optionally prefixed ``+86``, ``0086`` or ``86``, written
solid or in the usual 3-4-4 grouping with spaces or dashes (``138 0013 8000``,
``+86-138-0013-8000``, ``008613800138000``).

The regex only finds candidates; ``phonenumbers`` (region CN) decides, so unallocated
blocks such as ``140`` (IoT data-only) are dropped and the accepted set follows
libphonenumber's metadata updates instead of a hand-kept prefix list. A valid number
keeps a moderate score (an 11-digit string starting with 1 is common in order numbers
and IDs), raised by context words such as 手机 or phone.

Matches never start or end inside a longer run of ASCII letters or digits, so the
digits of an 18-digit ID or a 19-digit card number are not reported as a phone.
The broadened built-in PHONE_NUMBER recognizer (region CN included) may report the
same span as PHONE_NUMBER; the two entities are kept apart on purpose, since policies
can treat a Chinese mobile number differently from a generic phone.
"""

from __future__ import annotations

from typing import ClassVar

import phonenumbers
from phonenumbers import PhoneNumberType
from presidio_analyzer import Pattern

from ._base import NOT_BEFORE_ALNUM, CharContextPatternRecognizer
from ._registry import register

_ACCEPTED_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def is_valid_cn_mobile(candidate: str) -> bool:
    """True if phonenumbers parses ``candidate`` as a valid mainland-China mobile number."""
    try:
        number = phonenumbers.parse(candidate, "CN")
    except phonenumbers.NumberParseException:
        return False
    return (
        number.country_code == 86
        and phonenumbers.is_valid_number(number)
        and phonenumbers.number_type(number) in _ACCEPTED_TYPES
    )


@register()
class CnPhoneNumberRecognizer(CharContextPatternRecognizer):
    """Recognize mainland-China mobile numbers, validated with ``phonenumbers``."""

    ENTITY: ClassVar[str] = "CN_PHONE_NUMBER"
    DESCRIPTION: ClassVar[str] = "Mainland China mobile phone number (1[3-9]x, 11 digits, +86)"
    COUNTRY_CODE: ClassVar[str | None] = "cn"

    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "CN mobile",
            # Optional country prefix with its own separator, then 3-4-4 with one
            # consistent separator (or none). "+" may only appear in the prefix.
            r"(?<![0-9A-Za-z+])(?:(?:\+|00)?86[ -]?)?"
            r"1[3-9]\d(?P<sep>[ -]?)\d{4}(?P=sep)\d{4}" + NOT_BEFORE_ALNUM,
            0.5,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "手机",
        "电话",
        "联系方式",
        "联系电话",
        "手机号",
        "phone",
        "mobile",
        "cell",
        "tel",
        "shouji",
    ]


    def invalidate_result(self, pattern_text: str) -> bool:
        """Drop candidates phonenumbers does not accept as CN mobile numbers.

        ``invalidate_result`` rather than ``validate_result``: a valid number keeps the
        pattern score instead of jumping to 1.0, because validity says the block is
        allocated, not that this string is someone's phone.
        """
        return not is_valid_cn_mobile(pattern_text)
