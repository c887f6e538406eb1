"""Rules ``prose-patterns`` and ``prose-ner`` (free-text columns)."""

from __future__ import annotations

from govkit.detect.columns import ColumnClassifier, ColumnSample
from tests.detect.rules.conftest import fake, found_by

FILLER = [
    "the customer asked about the delivery window and we agreed to call back later this week",
    "package was left at the door as requested and the driver took a photo of it for the record",
    "refund was processed after the item came back damaged in transit, no further action needed",
    "asked to change the delivery slot to the morning because nobody is home in the afternoon",
]


def _notes(with_mentions: bool) -> list[str]:
    notes = []
    for i in range(60):
        f = fake(seed=i)
        if with_mentions and i % 3 == 0:
            notes.append(f"called {f.name()} about the order, mail {f.email()} if the parcel is late again")
        else:
            notes.append(FILLER[i % len(FILLER)])
    return notes


def test_notes_quoting_people_and_their_mail(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("orders", "notes", "text", _notes(True)))
    got = found_by(verdict)
    assert verdict.rule == "free text"
    assert got["EMAIL_ADDRESS"] == "prose-patterns"
    assert got["PERSON"] == "prose-ner"


def test_notes_without_mentions(classifier: ColumnClassifier) -> None:
    verdict = classifier.classify(ColumnSample("orders", "notes", "text", _notes(False)))
    assert verdict.rule == "free text"
    assert verdict.entities == []
