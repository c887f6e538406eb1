"""Rule ``sparse-matches``."""

from __future__ import annotations

import pytest

from govkit.detect.columns import ColumnClassifier, ColumnSample
from tests.detect.rules.conftest import found_by

CODES = [f"REF-{i:06d}" for i in range(95)]


@pytest.mark.parametrize(("leak", "entity"), [
    (["jane.doe@example.com", "bob@example.org"], "EMAIL_ADDRESS"),
    (["DE89370400440532013000"], "IBAN_CODE"),
])
def test_one_or_two_leaks_are_reported(classifier: ColumnClassifier, leak: list[str], entity: str) -> None:
    verdict = classifier.classify(ColumnSample("t", "reference", "text", CODES + leak))
    assert found_by(verdict) == {entity: "sparse-matches"}
    assert verdict.entities[0].hits == len(leak)


def test_a_stray_card_number_is_not(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("t", "reference", "text", [*CODES, "4111111111111111"]))
    assert verdict.entities == []
