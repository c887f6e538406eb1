"""Rule ``address-values``."""

from __future__ import annotations

from govkit.detect.columns import ColumnClassifier, ColumnSample
from tests.detect.rules.conftest import fake, found_by

ADDRESSES = [fake(seed=i).address().replace("\n", ", ") for i in range(80)]


def test_one_line_addresses(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("t", "col4", "text", ADDRESSES))
    assert found_by(verdict) == {"LOCATION": "address-values"}


def test_addresses_without_commas_are_not_shaped_like_one_line_addresses(classifier: ColumnClassifier) -> None:
    values = [a.replace(",", "") for a in ADDRESSES]
    assert "address-values" not in found_by(classifier.classify(ColumnSample("t", "col4", "text", values))).values()
