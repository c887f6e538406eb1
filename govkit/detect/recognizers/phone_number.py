"""PHONE_NUMBER with fewer false positives and more default regions.

Replaces Presidio's ``PhoneRecognizer`` (removed from a registry by its default name,
the class name ``"PhoneRecognizer"``; ours is named ``"GovkitPhoneRecognizer"`` the same
way, and both accept ``name=`` to override). Matching is still libphonenumber's
``PhoneNumberMatcher``; two changes:

1. **Regions**: govkit's users handle data from more countries than Presidio's default
   (US, GB, DE, FR, IL, IN, CA, BR), so the default is :data:`DEFAULT_SUPPORTED_REGIONS`.
   It is a constructor argument; each region is one matcher pass over the text, so the
   cost grows linearly with the list.
2. **No fragments of longer tokens**: libphonenumber happily finds ``4983-9823`` inside
   the UUID ``9228aafb-6fbc-4983-9823-a8cb6cb10950``, ``09980102`` at the start of
   another, or ``2024-000123`` inside the order number ``ORD-2024-000123``. A match is
   rejected when it is glued to more of a token: an ASCII letter or digit directly
   before or after it, or ``-``/``_`` followed by one (``ORD-``, ``-f87a``). Hex
   hashes, UUIDs/GUIDs, tracking numbers (``1Z999AA10123456784``) and order/invoice
   numbers fall out; a phone separated by a space, punctuation, bracket or a Chinese
   character (``电话13800138000``) stays. Dots are not treated as glue, so
   ``1.555.123.4567`` is unaffected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from presidio_analyzer import RecognizerResult
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from govkit.detect.regions import DEFAULT_PHONE_REGIONS

from ._registry import register

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts

DEFAULT_SUPPORTED_REGIONS: tuple[str, ...] = DEFAULT_PHONE_REGIONS
_JOINERS = "-_"


def _is_token_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def is_glued_to_token(text: str, start: int, end: int) -> bool:
    """True if ``text[start:end]`` is only a piece of a longer alphanumeric token."""
    before, after = text[max(0, start - 2) : start], text[end : end + 2]
    if before and _is_token_char(before[-1]):
        return True
    if after and _is_token_char(after[0]):
        return True
    if len(before) == 2 and before[1] in _JOINERS and _is_token_char(before[0]):
        return True
    return len(after) == 2 and after[0] in _JOINERS and _is_token_char(after[1])


@register(replaces="PhoneRecognizer")
class GovkitPhoneRecognizer(PhoneRecognizer):
    """Presidio's phone recognizer over more regions, minus token fragments."""

    # Presidio types its default as an 8-tuple literal; ours is longer by design.
    DEFAULT_SUPPORTED_REGIONS = DEFAULT_SUPPORTED_REGIONS  # type: ignore[assignment]

    def __init__(
        self,
        context: list[str] | None = None,
        supported_language: str = "en",
        supported_entity: str = "PHONE_NUMBER",
        supported_regions: Sequence[str] = DEFAULT_SUPPORTED_REGIONS,
        leniency: int | None = 1,
        name: str | None = None,
    ) -> None:
        super().__init__(
            context=context,
            supported_language=supported_language,
            supported_entity=supported_entity,
            supported_regions=tuple(supported_regions),
            leniency=leniency,
            name=name,
        )

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        """libphonenumber matches, minus those glued to a longer token."""
        results = super().analyze(text, entities, nlp_artifacts)  # type: ignore[arg-type]
        return [r for r in results if not is_glued_to_token(text, r.start, r.end)]
