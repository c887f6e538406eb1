"""Rule ``name-values``."""

from __future__ import annotations

import pytest

from govkit.detect.columns import ColumnClassifier, ColumnSample, ValueKind
from tests.detect.rules.conftest import fake, found_by

NAMES = [fake(seed=i).first_name() for i in range(80)]
BIRTHS = [fake(seed=i).date_of_birth().isoformat() for i in range(80)]
LATITUDES = [f"{40 + i / 100:.4f}" for i in range(80)]
GENRES = ["Rock", "Jazz", "Metal", "Alternative & Punk", "Rock And Roll", "Blues", "Latin", "Reggae", "Pop",
          "Soundtrack", "Bossa Nova", "Easy Listening", "Heavy Metal", "R&B/Soul", "Electronica/Dance"]


@pytest.mark.parametrize(("table", "column", "values", "kind", "entity"), [
    ("customers", "first_name", NAMES, "text", "PERSON"),
    ("customers", "birth_date", BIRTHS, "text", "DATE_TIME"),
    ("customer_address", "latitude", LATITUDES, "number", "LOCATION"),
])
def test_the_name_and_the_form_agree(classifier: ColumnClassifier, table: str, column: str, values: list[str],
                                     kind: ValueKind, entity: str) -> None:
    verdict = classifier.classify(ColumnSample(table, column, kind, values))
    assert found_by(verdict) == {entity: "name-values"}
    assert verdict.rule == "name + values"


@pytest.mark.parametrize(("table", "column", "values"), [
    ("genre", "name", GENRES * 4),  # a weak name, and the NER model does not agree
    ("customers", "birth_date", ["n/a", "unknown", "-"] * 20),  # contrary values
    ("customers", "hire_date", BIRTHS),  # no birth in the name
])
def test_the_name_alone_is_not_enough(classifier: ColumnClassifier, table: str, column: str,
                                      values: list[str]) -> None:
    assert classifier.classify(ColumnSample(table, column, "text", values)).entities == []
