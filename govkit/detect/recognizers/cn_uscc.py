"""CN_USCC: unified social credit code (统一社会信用代码, GB 32100-2015).

18 characters over the alphabet ``0-9A-Z`` minus ``I O Z S V``: registration-authority
code (1), entity type (1), 6-digit administrative-division code, 9-character
organization code, and a mod-31 check character computed by ``stdnum.cn.uscc``.

Format check: the authority code may be ``1-9``, ``A``, ``N`` or ``Y`` as GB 32100
lists them (``stdnum.cn.uscc.validate`` only accepts digits there and would reject e.g.
rural collectives' ``N`` codes), so we check the format in the regex and use stdnum
for the check character. Codes are printed in upper case; matching is case-sensitive
so lower-case hex/base-32 identifiers do not qualify.

Scoring: a mod-31 check passes for 1 in 31 random strings. With a letter in the code
that is still strong evidence (max score). An all-digit code is also the shape of order
numbers and of resident IDs, so it keeps a moderate pattern score that context raises,
and an all-digit string that is a valid resident ID is left to CN_RESIDENT_ID.
"""

from __future__ import annotations

from typing import ClassVar

from presidio_analyzer import Pattern
from stdnum.cn import uscc

from ._base import NOT_AFTER_ALNUM, NOT_BEFORE_ALNUM, CharContextPatternRecognizer
from ._registry import register
from .cn_resident_id import is_valid_resident_id

_CHAR = "[0-9A-HJ-NP-RTUW-Y]"  # the GB 32100 alphabet: no I, O, S, V, Z


@register()
class CnUsccRecognizer(CharContextPatternRecognizer):
    """Recognize unified social credit codes with a valid GB 32100 check character."""

    ENTITY: ClassVar[str] = "CN_USCC"
    DESCRIPTION: ClassVar[str] = "China unified social credit code of an organisation (18 chars, GB 32100 check)"
    COUNTRY_CODE: ClassVar[str | None] = "cn"

    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "CN USCC",
            rf"{NOT_AFTER_ALNUM}(?-i:[1-9ANY]{_CHAR}\d{{6}}{_CHAR}{{10}}){NOT_BEFORE_ALNUM}",
            0.4,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "统一社会信用代码",
        "社会信用代码",
        "信用代码",
        "纳税人识别号",
        "税号",
        "营业执照",
        "uscc",
        "credit code",
        "tax id",
    ]


    def validate_result(self, pattern_text: str) -> bool | None:
        """Check character decides; all-digit codes get no score jump (None = keep score)."""
        code = uscc.compact(pattern_text)
        if code[-1] != uscc.calc_check_digit(code):
            return False
        if code.isdigit():
            return False if is_valid_resident_id(code) else None
        return True
