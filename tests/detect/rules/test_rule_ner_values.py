"""Rule ``ner-values``."""

from __future__ import annotations

from govkit.detect.columns import ColumnClassifier, ColumnSample
from tests.detect.rules.conftest import fake, found_by

FULL_NAMES = [fake(seed=i).name() for i in range(80)]


def test_full_names_under_a_meaningless_name(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("t", "col3", "text", FULL_NAMES))
    assert found_by(verdict) == {"PERSON": "ner-values"}
    assert verdict.rule == "values look like"


def test_codes_under_a_meaningless_name(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("t", "col3", "text", [f"SKU-{i:05d}-X" for i in range(80)]))
    assert verdict.entities == []


def test_a_repeated_handful_is_left_to_the_enumeration_rule(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("t", "col3", "text", FULL_NAMES[:3] * 40))
    assert verdict.entities == []
    assert [f["rule"] for f in verdict.fired] == ["enumeration"]
