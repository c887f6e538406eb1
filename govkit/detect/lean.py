"""Presidio's pattern matching without its per-match bookkeeping, for bulk scans.

``PatternRecognizer.analyze`` builds, for every regex match, an ``AnalysisExplanation``
(with the pattern's source text), a metadata dict, a debug log call and two timestamps,
then deduplicates through a set of string hashes. That is right for explaining one
document and most of the cost of judging a million column values, where govkit keeps
only (entity, start, end, score).

:func:`pattern_results` runs the same loop - the same compiled patterns, the same
``validate_result`` / ``invalidate_result`` calls, the same score rules and the same
duplicate removal - and returns results equal to Presidio's (a property test holds the two
side by side). :func:`run_recognizer` picks it where it is safe: plain pattern
recognizers, and govkit's own, which expose ``lean_analyze`` doing their usual
post-processing on top of it. Anything else goes through its own ``analyze``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

import regex  # type: ignore[import-untyped]  # Presidio's regex library, no stubs
from presidio_analyzer import EntityRecognizer, PatternRecognizer, RecognizerResult
from presidio_analyzer.pattern_recognizer import REGEX_TIMEOUT_SECONDS

if TYPE_CHECKING:
    from presidio_analyzer import Pattern

log = logging.getLogger(__name__)

_MIN = EntityRecognizer.MIN_SCORE
_MAX = EntityRecognizer.MAX_SCORE


def pattern_results(recognizer: PatternRecognizer, text: str) -> list[RecognizerResult]:
    """What ``PatternRecognizer.analyze(text)`` returns, minus explanations and metadata."""
    entity = recognizer.supported_entities[0]
    flags: int = recognizer.global_regex_flags or 0
    validate = recognizer.validate_result
    invalidate = recognizer.invalidate_result
    found: list[RecognizerResult] = []
    patterns: list[Pattern] = cast(Any, recognizer).patterns
    for pattern in patterns:
        compiled = _compiled(pattern, flags)
        try:
            for match in compiled.finditer(text, timeout=REGEX_TIMEOUT_SECONDS):
                start, end = match.span()
                if start == end:
                    continue
                current = text[start:end]
                score = pattern.score
                validation = validate(current)
                if validation is not None:
                    score = _MAX if validation else _MIN
                if invalidate(current):
                    score = _MIN
                if score > _MIN:
                    found.append(RecognizerResult(entity, start, end, score, None, {}))  # type: ignore[arg-type]
        except TimeoutError:
            # As Presidio: the pattern's matches so far are kept, the rest skipped, and the
            # scan goes on (the pattern's name is logged, never the text).
            log.warning("Regex pattern %r timed out after %s seconds, skipping.", pattern.name, REGEX_TIMEOUT_SECONDS)
    return remove_duplicates(found)


def remove_duplicates(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """``EntityRecognizer.remove_duplicates`` for the results of one recognizer.

    Same rules (zero scores dropped; a result contained in another of the same type with an
    equal or higher score dropped) and the same final order, keyed on tuples instead of
    hashed strings.
    """
    if len(results) < 2:
        return [r for r in results if r.score != 0]
    unique: dict[tuple[str, int, int, float], RecognizerResult] = {}
    for result in results:
        unique.setdefault((result.entity_type, result.start, result.end, result.score), result)
    ordered = sorted(unique.values(), key=lambda r: (str(r.entity_type), r.start, -(r.end - r.start), -r.score))
    kept: list[RecognizerResult] = []
    active: list[RecognizerResult] = []
    current_type: Any = object()
    for result in ordered:
        if result.entity_type != current_type:
            current_type, active = result.entity_type, []
        if result.score == 0:
            continue
        active = [other for other in active if other.end >= result.start]
        if any(
            result.start >= other.start and result.end <= other.end and result.score <= other.score
            for other in active
        ):
            continue
        kept.append(result)
        active.append(result)
    return sorted(kept, key=lambda r: (-r.score, r.start, -(r.end - r.start)))


def run_recognizer(recognizer: EntityRecognizer, text: str, entities: list[str]) -> list[RecognizerResult]:
    """Run one recognizer over ``text`` the cheapest way that gives its usual results."""
    lean = getattr(recognizer, "lean_analyze", None)
    if lean is not None:
        return list(lean(text))
    if isinstance(recognizer, PatternRecognizer) and type(recognizer).analyze is PatternRecognizer.analyze:
        return pattern_results(recognizer, text)
    return list(recognizer.analyze(text, entities, None) or ())  # type: ignore[arg-type]


def _compiled(pattern: Pattern, flags: int) -> Any:
    # Presidio compiles lazily and recompiles when the flags change; so does this, with
    # the same library (``regex``), so both paths share one compiled pattern.
    state: Any = pattern  # Presidio annotates both attributes as None
    if not state.compiled_regex or state.compiled_with_flags != flags:
        state.compiled_with_flags = flags
        state.compiled_regex = regex.compile(pattern.regex, flags=flags)
    return state.compiled_regex
