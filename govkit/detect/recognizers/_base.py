"""Shared plumbing for govkit's Chinese pattern recognizers.

Two problems every CN recognizer has, solved once here:

* **Boundaries.** ``\\b`` is useless in Chinese text: ``号`` and ``1`` are both word
  characters, so ``身份证号110101...`` has no word boundary before the digits.
  :data:`NOT_AFTER_ALNUM` / :data:`NOT_BEFORE_ALNUM` instead forbid only an adjacent
  ASCII letter or digit, which is what "not part of a longer number or token" means.
* **Context.** Presidio's ``LemmaContextAwareEnhancer`` compares spaCy tokens, and an
  English pipeline leaves ``身份证号码110101...`` as one token, so Chinese labels never
  count. It also only runs inside ``AnalyzerEngine``. :class:`CharContextPatternRecognizer`
  additionally looks for its context words in the raw characters just before a match
  (same line only), inside ``analyze()`` itself, so calling a recognizer directly - as
  ``govkit.detect.engine`` does over newline-joined values - gets the same scores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts

#: Regex lookbehind: the match does not continue an ASCII letter/digit run.
NOT_AFTER_ALNUM = r"(?<![0-9A-Za-z])"
#: Regex lookahead: the match is not followed by an ASCII letter/digit.
NOT_BEFORE_ALNUM = r"(?![0-9A-Za-z])"


class CharContextPatternRecognizer(PatternRecognizer):
    """A ``PatternRecognizer`` that also finds context words in the preceding characters.

    The boost mirrors Presidio's defaults (+0.35, at least 0.4) so scores stay comparable
    with built-in recognizers, and it sets ``IS_SCORE_ENHANCED_BY_CONTEXT_KEY`` so the
    analyzer's own enhancer does not boost the same result a second time.
    Matching is a case-insensitive substring test, like Presidio's default mode.
    """

    #: Set by each subclass: its entity, patterns and context words.
    ENTITY: ClassVar[str]
    PATTERNS: ClassVar[list[Pattern]]
    CONTEXT: ClassVar[list[str]]

    #: How many characters before a match (on the same line) are searched for context.
    CONTEXT_WINDOW_CHARS: ClassVar[int] = 30
    CONTEXT_SIMILARITY_FACTOR: ClassVar[float] = 0.35
    MIN_SCORE_WITH_CONTEXT_SIMILARITY: ClassVar[float] = 0.4

    def __init__(
        self,
        patterns: list[Pattern] | None = None,
        context: list[str] | None = None,
        supported_language: str = "en",
        supported_entity: str | None = None,
        name: str | None = None,
    ) -> None:
        """The class's own entity, patterns and context unless overridden (as Presidio's do)."""
        super().__init__(
            supported_entity=supported_entity or self.ENTITY,
            patterns=patterns if patterns else list(self.PATTERNS),
            context=context if context else list(self.CONTEXT),
            supported_language=supported_language,
            name=name,  # type: ignore[arg-type]  # Presidio annotates `name: str = None`
        )

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        """Run the patterns, then boost results whose preceding text holds a context word."""
        return self._after_patterns(text, super().analyze(text, entities, nlp_artifacts, regex_flags))

    def lean_analyze(self, text: str) -> list[RecognizerResult]:
        """:meth:`analyze` without Presidio's explanations (see ``govkit.detect.lean``)."""
        from govkit.detect.lean import pattern_results

        return self._after_patterns(text, pattern_results(self, text))

    def _after_patterns(self, text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
        """What this recognizer adds to the raw pattern results; subclasses extend it."""
        for result in results:
            self._boost_from_preceding_text(text, result)
        return results

    def _boost_from_preceding_text(self, text: str, result: RecognizerResult) -> None:
        if result.score >= EntityRecognizer.MAX_SCORE or not self.context:
            return
        window_start = max(0, result.start - self.CONTEXT_WINDOW_CHARS)
        # Same line only: a label sits on the line of its value, and callers that join
        # many values with newlines must not let one value's words boost the next.
        window = text[window_start : result.start].rsplit("\n", 1)[-1].lower()
        word = next((w for w in self.context if w.lower() in window), None)
        if word is None:
            return
        score = max(
            result.score + self.CONTEXT_SIMILARITY_FACTOR,
            self.MIN_SCORE_WITH_CONTEXT_SIMILARITY,
        )
        result.score = min(score, EntityRecognizer.MAX_SCORE)
        if result.recognition_metadata is not None:
            result.recognition_metadata[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
        if result.analysis_explanation is not None:
            result.analysis_explanation.set_supportive_context_word(word)
            result.analysis_explanation.set_improved_score(result.score)
