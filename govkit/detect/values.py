"""Whole-value validators: is this entire cell an entity? (structured columns only)

A pattern recognizer searches free text for an entity anywhere inside it, which for phone
numbers means libphonenumber's matcher trying every candidate substring once per region:
about a millisecond per value, and the bottleneck of ``scan --full``. In a structured
column the question is simpler: is the whole value a phone number? One ``parse`` and
``is_valid_number`` answer it, region-free for international numbers, in tens of
microseconds, and the answers are cached because columns repeat values.

The registry maps an entity to a function returning a score (Presidio's scale) or None.
The classifier uses it for structured columns in place of that entity's recognizer, in
sample and full mode alike, so both modes decide the same way.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import phonenumbers

from govkit.detect.regions import DEFAULT_PHONE_REGIONS

#: Presidio's PhoneRecognizer score for a valid number; kept so scores stay comparable.
PHONE_SCORE = 0.4

_PHONE_SHAPE = re.compile(r"^\+?([\d\s().\-/]{6,24})(?:\s*(?:x|ext\.?|#)\s*\d{1,6})?$", re.IGNORECASE)

#: E.164 caps a number at 15 digits, country code included: a longer digit run (a card
#: number written in groups, say) is no phone number in any region, and trying it in each
#: of them costs a dozen parses.
_MAX_PHONE_DIGITS = 15


# Shapes that look numeric enough to pass the phone shape but are something else.
_NOT_PHONE = re.compile(
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}$"  # dates
    r"|^\d{1,3}(?:\.\d{1,3}){3}$"  # IPv4 addresses and dotted versions
    r"|^\d{3}-\d{2}-\d{4}$"  # US social security numbers
    r"|^\d{5}-\d{3}$"  # Brazilian postcodes (CEP)
    r"|^\d{13,}$"  # long bare digit runs: EAN-13 barcodes, account numbers
)

# Regions in the order they are tried for numbers without a country code. The answer
# ("valid in some supported region") does not depend on the order, only the cost does:
# moving the region that last succeeded to the front makes a column of French numbers
# cost one parse per value instead of up to twelve.
_region_order: list[str] = list(DEFAULT_PHONE_REGIONS)


@functools.lru_cache(maxsize=200_000)
def phone_score(value: str) -> float | None:
    """Score for a cell that is, as a whole, a valid phone number in any supported region."""
    text = value.strip()
    shape = _PHONE_SHAPE.match(text)
    if shape is None or _NOT_PHONE.match(text):
        return None
    digits = sum(c.isdigit() for c in shape.group(1)) - (2 if text.startswith("00") else 0)  # 00: the dialling prefix
    if not 7 <= digits <= _MAX_PHONE_DIGITS:
        return None
    if text.startswith("+"):
        return PHONE_SCORE if _valid(text, None) else None
    if text.startswith("00"):
        return PHONE_SCORE if _valid("+" + text[2:], None) else None
    for region in _likely_first(re.sub(r"\D", "", shape.group(1))):
        if _valid(text, region):
            if _region_order[0] != region:
                _region_order.remove(region)
                _region_order.insert(0, region)
            return PHONE_SCORE
    return None


def _likely_first(digits: str) -> list[str]:
    """Every region, those whose mobile or fixed-line numbering fits ``digits`` first.

    Still every region is tried, so the verdict is the same as in any order; a cheap
    regex per region saves a full parse of a US number as Chinese, French, German...
    (about a third of the parses on a column of mixed national numbers).
    """
    first: list[str] = []
    then: list[str] = []
    for region in _region_order:
        likely, prefix = _numbering(region)
        national = digits[len(prefix):] if prefix and digits.startswith(prefix) else digits
        (first if likely.fullmatch(national) or likely.fullmatch(digits) else then).append(region)
    return first + then


@functools.cache
def _numbering(region: str) -> tuple[re.Pattern[str], str]:
    """A region's mobile, fixed-line, toll-free and VoIP patterns in one, and its trunk prefix."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return re.compile(r"(?!)"), ""
    patterns = [
        desc.national_number_pattern
        for desc in (metadata.mobile, metadata.fixed_line, metadata.toll_free, metadata.voip)
        if desc is not None and desc.national_number_pattern
    ]
    return re.compile("|".join(f"(?:{p})" for p in patterns) or r"(?!)"), metadata.national_prefix or ""


def _valid(text: str, region: str | None) -> bool:
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(text, region)))
    except phonenumbers.NumberParseException:
        return False


WHOLE_VALUE_CHECKS: dict[str, Callable[[str], float | None]] = {
    "PHONE_NUMBER": phone_score,
}
