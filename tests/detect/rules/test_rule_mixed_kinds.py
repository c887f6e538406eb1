"""Rule ``mixed-kinds``."""

from __future__ import annotations

from govkit.detect.columns import ColumnClassifier, ColumnSample
from tests.detect.rules.conftest import fake, found_by

EMAILS = [fake(seed=i).email() for i in range(30)]
PHONES = [f"+1 415 555 {1000 + i:04d}".replace("555", f"{200 + i:03d}") for i in range(30)]
WORDS = [fake(seed=i).word() for i in range(30)]


def test_e_mails_and_phones_together(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("t", "contact", "text", EMAILS + PHONES))
    got = found_by(verdict)
    assert got["EMAIL_ADDRESS"] == "values-match"  # near-certain matches pass on their own
    assert got["PHONE_NUMBER"] == "mixed-kinds"  # half the values: only together with the e-mails


def test_phones_with_anything_else_are_not_a_mix(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("t", "contact", "text", PHONES + WORDS))
    assert "mixed-kinds" not in found_by(verdict).values()
