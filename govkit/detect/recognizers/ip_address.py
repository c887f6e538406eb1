"""IP_ADDRESS with fewer false positives: dotted version numbers are not addresses.

Replaces Presidio's ``IpRecognizer`` (removed from a registry by its default name,
the class name ``"IpRecognizer"``; ours is named ``"GovkitIpRecognizer"`` the same way,
and both accept ``name=`` to override). Patterns, context and IPv6 handling are the
built-in's; only IPv4 dotted-quad matches go through these extra rules, each a pattern
that is far more common for software versions than for addresses:

1. **Version marker right before it**: ``v``, ``ver``, ``version``, ``release``,
   ``build``, ``rev``, ``revision`` (optionally with ``.``, ``:``, ``=``, ``#``), or a
   requirement operator ``==``, ``===``, ``>=``, ``<=``, ``~=``, ``!=`` - as in
   ``version 1.2.3.4``, ``pkg==1.2.3.4``, ``Build: 10.0.1.1``. The marker must be a
   word of its own (``server 10.0.0.1`` is an address).
2. **Leading zeros** in an octet (``01.02.03.04``): addresses are not written that way,
   zero-padded versions and dates are. Python's ``ipaddress`` already refuses them
   (3.9.5+); the explicit check keeps the rule independent of the Python version.
3. **Pre-release or build suffix**: glued ``-``/``+``/``~`` then a letter
   (``2.10.3.1-beta``, ``1.2.3.4+git``, ``1.2.3.4~rc1``). A dash then a digit is kept,
   since ``10.0.0.1-10.0.0.9`` is an address range.
4. **Part of a longer dotted number** (``1.2.3.4.5``, ``6.1.2.3.4``): more than four
   dotted groups is a version or an OID.

Not covered: a bare four-part version with no marker (``upgrade to 1.2.3.4``) is
indistinguishable from an address and is still reported.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from presidio_analyzer import RecognizerResult
from presidio_analyzer.predefined_recognizers import IpRecognizer

from ._registry import register

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts

_MARKER_WINDOW_CHARS = 24
_VERSION_MARKER = re.compile(
    r"(?:\b(?:v|ver|version|release|build|rev|revision)\.?\s*[:=#]?|===?|[<>~!]=)\s*$",
    re.IGNORECASE,
)
_VERSION_SUFFIX = re.compile(r"[-+~][A-Za-z]|\.\d")
_DOTTED_PREFIX = re.compile(r"\d\.$")


def _has_leading_zero_octet(candidate: str) -> bool:
    address = candidate.split("/", 1)[0]
    return any(len(octet) > 1 and octet.startswith("0") for octet in address.split("."))


def looks_like_version(text: str, start: int, end: int) -> bool:
    """True if the IPv4-looking ``text[start:end]`` is a version number by rules 1, 3, 4."""
    before = text[max(0, start - _MARKER_WINDOW_CHARS) : start]
    return bool(_VERSION_MARKER.search(before) or _DOTTED_PREFIX.search(before) or _VERSION_SUFFIX.match(text, end))


#: A plain dotted-quad IPv4 address with octets 0-255 (leading zeros are rejected apart).
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)")


@register(replaces="IpRecognizer")
class GovkitIpRecognizer(IpRecognizer):
    """Presidio's IP recognizer minus dotted version strings (see module docstring)."""

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        """Built-in matches, minus IPv4 matches that context marks as version numbers."""
        return self._without_versions(text, super().analyze(text, entities, nlp_artifacts, regex_flags))

    def lean_analyze(self, text: str) -> list[RecognizerResult]:
        """:meth:`analyze` without Presidio's explanations (see ``govkit.detect.lean``)."""
        from govkit.detect.lean import pattern_results

        return self._without_versions(text, pattern_results(self, text))

    def _without_versions(self, text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
        return [
            result
            for result in results
            if ":" in text[result.start : result.end]  # IPv6 / mapped: untouched
            or not looks_like_version(text, result.start, result.end)
        ]

    def invalidate_result(self, pattern_text: str) -> bool:
        """The built-in's ``ipaddress`` check, plus rule 2 (leading-zero octets)."""
        if ":" not in pattern_text:
            if _has_leading_zero_octet(pattern_text):
                return True
            if _IPV4.fullmatch(pattern_text):
                return False  # what ipaddress would say, without building an object per match
        return bool(super().invalidate_result(pattern_text))
