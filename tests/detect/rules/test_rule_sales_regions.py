"""Rule ``sales-regions``."""

from __future__ import annotations

import pytest

from govkit.detect.columns import ColumnClassifier, ColumnSample
from govkit.detect.rules import REGISTRY
from tests.detect.rules.conftest import MakeFacts

RULE = REGISTRY.column_rule("sales-regions")
REGIONS = ["Western Europe", "British Isles", "North America", "South America", "Central America", "Scandinavia"]
CITIES = ["Berlin", "Lyon", "Portland", "São Paulo", "Kirkland", "Seattle"]


@pytest.mark.parametrize("values", [REGIONS, REGIONS[:3] + CITIES[:3], ["EMEA", "APAC", "LATAM"]])
def test_regions_locate_no_one(facts: MakeFacts, values: list[str]) -> None:
    assert RULE.check("LOCATION", facts(values, "Region")) is not None


@pytest.mark.parametrize("values", [CITIES, REGIONS[:2] + CITIES, ["WA", "OR", "BC", "SP"]])
def test_places_stand(facts: MakeFacts, values: list[str]) -> None:
    assert RULE.check("LOCATION", facts(values, "Region")) is None


def test_the_verdict_names_the_rule(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("customers", "city", "text", REGIONS * 20))
    assert "LOCATION" not in {e.entity_type for e in verdict.entities}
    assert {"rule": "sales-regions", "entity": "LOCATION", "stage": "name",
            "why": "6 of 6 distinct values are sales regions or areas"} in verdict.fired
