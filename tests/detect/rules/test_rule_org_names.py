"""Rule ``org-names``."""

from __future__ import annotations

import pytest

from govkit.detect.columns import ColumnClassifier, ColumnSample
from govkit.detect.rules import REGISTRY
from tests.detect.rules.conftest import MakeFacts

RULE = REGISTRY.column_rule("org-names")
FIRMS = ["Mini Gifts Distributors Ltd.", "Havel & Zbyszek Co", "Alfreds Futterkiste", "Bradtke and Sons",
         "Ernst Handel", "Blauer See Delikatessen", "Maison Dewey", "Toms Spezialitäten"]
PEOPLE = ["Maria Anders", "Thomas Hardy", "Ana Trujillo", "Hanna Moos", "Martín Sommer", "Laurence Lebihan",
          "Elizabeth Lincoln", "Victoria Ashworth"]


@pytest.mark.parametrize("values", [FIRMS, [*PEOPLE[:6], "Acme Inc", "Lee & Co"]])
def test_a_quarter_of_firms_makes_a_list_of_firms(facts: MakeFacts, values: list[str]) -> None:
    assert RULE.check("PERSON", facts(values, "customerName")) is not None


@pytest.mark.parametrize("values", [PEOPLE, [*PEOPLE[:7], "Acme Inc"]])
def test_people_stand(facts: MakeFacts, values: list[str]) -> None:
    assert RULE.check("PERSON", facts(values, "customerName")) is None


def test_person_at_the_name_and_ner_stages_only() -> None:
    assert RULE.applies("name", "PERSON")
    assert RULE.applies("ner", "PERSON")
    assert not RULE.applies("prose", "PERSON")
    assert not RULE.applies("name", "LOCATION")


def test_the_verdict_names_the_rule(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("customers", "customer_name", "text", FIRMS * 10))
    assert "PERSON" not in {e.entity_type for e in verdict.entities}
    assert {"rule": "org-names", "entity": "PERSON", "stage": "name",
            "why": "62% of the distinct values are organisations' names"} in verdict.fired
