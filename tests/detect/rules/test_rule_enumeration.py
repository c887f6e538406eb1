"""Rule ``enumeration``."""

from __future__ import annotations

import pytest

from govkit.detect.columns import ColumnClassifier, ColumnSample
from govkit.detect.rules import REGISTRY
from tests.detect.rules.conftest import MakeFacts

RULE = REGISTRY.column_rule("enumeration")
STATUSES = ["Shipped", "Resolved", "Cancelled", "On Hold", "Disputed", "In Process"]
OWNERS = ["Maria Anders", "Thomas Hardy", "Ana Trujillo"]


@pytest.mark.parametrize("values", [STATUSES * 50, OWNERS * 4, [f"v{i}" for i in range(12)] * 4])
def test_few_values_repeated_are_an_enumeration(facts: MakeFacts, values: list[str]) -> None:
    assert RULE.check("PERSON", facts(values, "status")) is not None


@pytest.mark.parametrize("values", [
    STATUSES,  # each value once: too few rows to call it a list
    [f"v{i}" for i in range(13)] * 10,  # 13 distinct values
    OWNERS * 3 + ["Hanna Moos"],  # 4 distinct over 10 rows: not 4 repeats each
])
def test_varied_values_are_not(facts: MakeFacts, values: list[str]) -> None:
    assert RULE.check("PERSON", facts(values, "status")) is None


def test_only_the_ner_alone_route_for_person() -> None:
    assert RULE.applies("ner", "PERSON")
    assert not RULE.applies("name", "PERSON")
    assert not RULE.applies("ner", "LOCATION")


def test_the_verdict_names_the_rule(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("tickets", "queue", "text", OWNERS * 60))
    assert verdict.entities == []
    assert [f["rule"] for f in verdict.fired] == ["enumeration"]
    assert verdict.fired[0]["why"] == "3 distinct values repeated over 180 rows: an enumeration"
