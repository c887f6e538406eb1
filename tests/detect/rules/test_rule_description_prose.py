"""Rule ``description-prose``."""

from __future__ import annotations

import pytest

from govkit.detect.columns import ColumnClassifier, ColumnSample
from govkit.detect.rules import REGISTRY
from tests.detect.rules.conftest import MakeFacts

RULE = REGISTRY.column_rule("description-prose")
PLOTS = [
    "A Epic Drama of a Feminist And a Mad Scientist who must Battle a Teacher in The Canadian Rockies",
    "A Astounding Epistle of a Database Administrator And a Explorer who must Find a Car in Ancient China",
    "A Fanciful Documentary of a Frisbee And a Lumberjack who must Chase a Monkey in A Shark Tank",
    "A Thoughtful Story of John Smith and Mary Jones who must Outgun a Dog in Berlin and Paris",
    "A Touching Saga of Peter Parker and a Husband who must Pursue a Mad Cow in Nigeria",
]


@pytest.mark.parametrize(("table", "column"), [("film", "description"), ("products", "productDescription"),
                                           ("film_text", "plot"), ("books", "synopsis")])
def test_a_description_of_a_thing(facts: MakeFacts, table: str, column: str) -> None:
    assert RULE.check("PERSON", facts(PLOTS, column, table)) is not None


@pytest.mark.parametrize(("table", "column"), [("patients", "description"), ("film", "notes"),
                                           ("employees", "summary")])
def test_other_prose_stands(facts: MakeFacts, table: str, column: str) -> None:
    assert RULE.check("PERSON", facts(PLOTS, column, table)) is None


def test_the_verdict_names_the_rule(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("film", "description", "text", PLOTS * 20))
    assert verdict.rule == "free text"
    assert verdict.entities == []
    assert {f["rule"] for f in verdict.fired} == {"description-prose"}
    assert all(f["stage"] == "prose" for f in verdict.fired)
