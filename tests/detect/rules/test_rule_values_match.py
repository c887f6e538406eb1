"""Rule ``values-match`` (and, for few e-mail addresses, ``sparse-matches``)."""

from __future__ import annotations

import pytest

from govkit.detect.columns import ColumnClassifier, ColumnSample
from tests.detect.rules.conftest import fake, found_by

EMAILS = [fake(seed=i).email() for i in range(60)]
CODES = [f"ORD-{i:06d}" for i in range(60)]


@pytest.mark.parametrize(("column", "values", "rule"), [
    ("misc", EMAILS, "values match"),
    ("contact_email", EMAILS, "name + values"),
    ("misc", EMAILS[:20] + CODES[:30], "values match"),  # 40%, but e-mails are near-certain
])
def test_most_values_match(classifier: ColumnClassifier, column: str, values: list[str], rule: str) -> None:
    verdict = classifier.classify(ColumnSample("t", column, "text", values))
    assert found_by(verdict) == {"EMAIL_ADDRESS": "values-match"}
    assert verdict.rule == rule


def test_a_few_are_left_to_sparse_matches(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("t", "reference", "text", EMAILS[:5] + CODES))
    assert found_by(verdict) == {"EMAIL_ADDRESS": "sparse-matches"}
    assert verdict.rule == "sparse matches"


def test_codes_match_nothing(classifier: ColumnClassifier) -> None:
    assert classifier.classify(ColumnSample("t", "misc", "text", CODES)).entities == []
