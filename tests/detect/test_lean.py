"""The lean pattern path gives exactly the results of Presidio's own ``analyze``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govkit.detect.engine import DetectionEngine
from govkit.detect.lean import remove_duplicates, run_recognizer

#: Fragments that trigger (or nearly trigger) every pattern recognizer, and noise.
FRAGMENTS = [
    "jane.doe@example.org", "mailto:x@y.co", "https://shop.example.com/a?b=1", "www.example.de",
    "4111 1111 1111 1111", "4111111111111112", "6222021234567890123", "11010519491231002X",
    "110105194912310", "13800138000", "+86 138-0013-8000", "91350100M000100Y43", "E12345678",
    "192.168.1.20", "version 1.2.3.4", "2001:db8::1", "00:1B:44:11:3A:B7", "123-45-6789",
    "912-70-1234", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "943 476 5919",
    "X1234567", "1A2B3C4D5E", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "身份证号 11010519491231002X",
    "卡号 6222021234567890123", "order 123456", "ORD-2024-000123", "12.50", "2024-05-01", "lorem ipsum",
]


@pytest.fixture(scope="module")
def recognizers(engine: DetectionEngine) -> list[object]:
    return list(engine.pattern_recognizers)


def _key(results: list[object]) -> list[tuple[str, int, int, float]]:
    return [(r.entity_type, r.start, r.end, r.score) for r in results]  # type: ignore[attr-defined]


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=12),
       separator=st.sampled_from([" ", "\n¶\n", ", ", "; ID: "]))
def test_lean_results_equal_presidio_results(recognizers: list[object], parts: list[str], separator: str) -> None:
    text = separator.join(parts)
    for recognizer in recognizers:
        entities = list(recognizer.supported_entities)  # type: ignore[attr-defined]
        expected = recognizer.analyze(text, entities, None)  # type: ignore[attr-defined]
        assert _key(run_recognizer(recognizer, text, entities)) == _key(expected), recognizer


def test_remove_duplicates_keeps_the_higher_scored_container() -> None:
    from presidio_analyzer import RecognizerResult

    results = [
        RecognizerResult("X", 0, 10, 0.5), RecognizerResult("X", 2, 5, 0.4),  # contained, lower: dropped
        RecognizerResult("X", 2, 5, 0.9),  # contained, higher: kept
        RecognizerResult("X", 0, 10, 0.5),  # exact duplicate: dropped
        RecognizerResult("Y", 2, 5, 0.1),  # other type: kept
    ]
    assert _key(remove_duplicates(results)) == [("X", 2, 5, 0.9), ("X", 0, 10, 0.5), ("Y", 2, 5, 0.1)]


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.text(alphabet="0123456789 -.@abcXY:¶\n", max_size=14), max_size=30),
       entity=st.sampled_from(["PHONE_NUMBER", "EMAIL_ADDRESS", "IP_ADDRESS", "IBAN_CODE", "US_SSN", "URL"]))
def test_prefilter_over_joined_text_passes_exactly_the_values_it_matches(values: list[str], entity: str) -> None:
    """engine._passing searches joined values; it must agree with searching each value."""
    from govkit.detect.engine import _chunks, _passing, _prefilter_for

    prefilter = _prefilter_for([entity])
    assert prefilter is not None
    expected = [i for i, v in enumerate(values) if prefilter.search(v)]
    assert _passing(prefilter, values, list(_chunks(values))) == expected


def test_a_pattern_that_times_out_is_skipped_as_presidio_skips_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Presidio logs a regex timeout and keeps the other patterns' results; so must the lean path."""
    import presidio_analyzer.pattern_recognizer as presidio_patterns
    from presidio_analyzer import Pattern, PatternRecognizer

    import govkit.detect.lean as lean

    monkeypatch.setattr(presidio_patterns, "REGEX_TIMEOUT_SECONDS", 0.01)
    monkeypatch.setattr(lean, "REGEX_TIMEOUT_SECONDS", 0.01)
    recognizer = PatternRecognizer(
        "X",
        patterns=[Pattern("slow", r"(?:a|aa)+$", 0.5), Pattern("plain", r"b\d", 0.6)],
        global_regex_flags=0,
    )
    text = "b1 " + "a" * 60 + "!"  # exponential backtracking: the first pattern times out
    expected = recognizer.analyze(text, ["X"], None)
    assert _key(expected) == [("X", 0, 2, 0.6)]
    assert _key(run_recognizer(recognizer, text, ["X"])) == _key(expected)
