"""The column classifier weighs name evidence against value evidence."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from faker import Faker

from govkit.detect.columns import ColumnClassifier, ColumnSample, ColumnVerdict, apply_label, column_confidence
from govkit.detect.engine import DetectionEngine


@pytest.fixture(scope="module")
def classifier(engine: DetectionEngine) -> ColumnClassifier:
    return ColumnClassifier(engine)


@pytest.fixture(scope="module")
def fake() -> Faker:
    Faker.seed(1234)
    return Faker(["en_US", "de_DE", "fr_FR"])


def classify(classifier: ColumnClassifier, column: str, values: list[object], table: str = "t",
             kind: str = "text") -> ColumnVerdict:
    return classifier.classify(ColumnSample(table, column, kind, values))  # type: ignore[arg-type]


def entities(verdict: ColumnVerdict) -> set[str]:
    return {e.entity_type for e in verdict.entities}


def test_emails_in_a_misleadingly_named_column(classifier: ColumnClassifier, fake: Faker) -> None:
    verdict = classify(classifier, "misc", [fake.email() for _ in range(150)])
    assert entities(verdict) == {"EMAIL_ADDRESS"}
    assert verdict.rule == "values match"


def test_boolean_flag_named_like_pii_is_not_pii(classifier: ColumnClassifier) -> None:
    verdict = classify(classifier, "email_verified", [0, 1] * 60, kind="integer")
    assert not verdict.entities
    assert verdict.rule == "boolean values"


def test_name_alone_never_wins_against_contrary_values(classifier: ColumnClassifier) -> None:
    verdict = classify(classifier, "email", [str(uuid.UUID(int=i * 7919)) for i in range(100)])
    assert not verdict.entities
    assert verdict.rule == "contrary values"


def test_person_names_from_name_and_shape(classifier: ColumnClassifier, fake: Faker) -> None:
    verdict = classify(classifier, "first_name", [fake.first_name() for _ in range(120)], table="customers")
    assert entities(verdict) == {"PERSON"}
    assert verdict.entities[0].confidence >= 0.7


def test_full_names_found_by_ner_without_a_name_hint(classifier: ColumnClassifier, fake: Faker) -> None:
    verdict = classify(classifier, "col7", [fake.name() for _ in range(150)])
    assert "PERSON" in entities(verdict)
    assert verdict.rule == "values look like"


def test_genres_in_a_name_column_are_not_people(classifier: ColumnClassifier) -> None:
    genres = ["Rock", "Jazz", "Metal", "Alternative & Punk", "Rock And Roll", "Blues", "Latin", "Reggae", "Pop",
              "Soundtrack", "Bossa Nova", "Easy Listening", "Heavy Metal", "R&B/Soul", "Electronica/Dance"]
    verdict = classify(classifier, "Name", genres * 3, table="Genre")
    assert not verdict.entities


def test_birth_date_is_personal_but_created_at_is_not(classifier: ColumnClassifier) -> None:
    start = datetime(1960, 1, 1)
    dates = [start + timedelta(days=97 * i) for i in range(100)]
    birth = classify(classifier, "BirthDate", dates, kind="datetime")
    created = classify(classifier, "created_at", dates, kind="datetime")
    assert entities(birth) == {"DATE_TIME"}
    assert not created.entities


def test_digit_strings_do_not_flood_columns_with_dates(classifier: ColumnClassifier) -> None:
    verdict = classify(classifier, "Milliseconds", list(range(200_000, 200_000 + 150 * 977, 977)), kind="integer")
    assert not verdict.entities


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("order_number", [f"ORD-2024-{i:06d}" for i in range(120)]),
        ("tracking_number", [f"1Z999AA1{i:010d}" for i in range(120)]),
        ("event_id", [str(uuid.UUID(int=i * 104729 + 17)) for i in range(120)]),
        ("checksum", [f"{i * 2654435761:064x}"[-64:] for i in range(1, 121)]),
        ("app_version", [f"{i % 4}.{i % 11}.{i % 7}.{i % 13}" for i in range(120)]),
        ("total", [f"{i * 1.37:.2f}" for i in range(120)]),
    ],
)
def test_traps_are_not_personal_data(classifier: ColumnClassifier, column: str, values: list[str]) -> None:
    verdict = classify(classifier, column, values)  # type: ignore[arg-type]
    assert not verdict.entities, verdict.reason


def test_free_text_lists_every_entity_found(classifier: ColumnClassifier, fake: Faker) -> None:
    notes = []
    for i in range(120):
        if i % 3 == 0:
            notes.append(f"Customer called from {fake.phone_number()} about a late delivery, please follow up soon.")
        elif i % 3 == 1:
            notes.append(f"Asked us to send the invoice to {fake.email()} instead of the usual address on file.")
        else:
            notes.append("Package was left at the front door; no further action needed from the support team.")
    verdict = classify(classifier, "notes", notes)
    assert verdict.rule == "free text"
    assert {"EMAIL_ADDRESS", "PHONE_NUMBER"} <= entities(verdict)


def test_lorem_ipsum_is_not_personal(classifier: ColumnClassifier) -> None:
    lorem = Faker("la")
    Faker.seed(5)
    verdict = classify(classifier, "description", [lorem.paragraph(nb_sentences=3) for _ in range(80)])
    assert not verdict.entities, verdict.reason


def test_chinese_names_under_a_chinese_header(classifier: ColumnClassifier) -> None:
    zh = Faker("zh_CN")
    Faker.seed(3)
    verdict = classify(classifier, "姓名", [zh.name() for _ in range(100)], table="客户")
    assert entities(verdict) == {"PERSON"}


def test_binary_values_are_skipped(classifier: ColumnClassifier) -> None:
    verdict = classify(classifier, "photo", [b"\x89PNG\r\n"] * 10, kind="binary")
    assert verdict.skipped
    assert not verdict.entities


def test_huge_values_are_truncated_not_fatal(classifier: ColumnClassifier) -> None:
    verdict = classify(classifier, "blob_text", ["word " * 2_000_000] * 3)
    assert verdict.profile["truncated_values"] == 3


def test_label_overrides_the_detector(classifier: ColumnClassifier, fake: Faker) -> None:
    verdict = classify(classifier, "misc", [fake.email() for _ in range(50)])
    apply_label(verdict, None, "test data only")
    assert not verdict.entities
    assert verdict.rule == "labelled"
    assert "test data only" in verdict.reason


def test_same_input_same_verdict(classifier: ColumnClassifier, fake: Faker) -> None:
    values = [fake.phone_number() for _ in range(80)]
    first = classify(classifier, "contact", values)
    second = classify(classifier, "contact", values)
    assert first.to_dict() == second.to_dict()


def test_column_confidence_grows_with_share_and_name() -> None:
    assert column_confidence(0.4, 1.0, 0.0) > column_confidence(0.4, 0.3, 0.0)
    assert column_confidence(0.4, 1.0, 0.9) > column_confidence(0.4, 1.0, 0.0)
    assert column_confidence(0.05, 1.0, 0.0) < 0.2


def test_mixed_contact_column_reports_both_kinds(classifier: ColumnClassifier, fake: Faker) -> None:
    values = [fake.email() if i % 2 else fake.phone_number() for i in range(160)]
    verdict = classify(classifier, "contact", values, table="import_2023")
    assert {"EMAIL_ADDRESS", "PHONE_NUMBER"} <= entities(verdict)


def test_two_unrelated_weak_patterns_do_not_make_a_mixed_column(classifier: ColumnClassifier) -> None:
    values = [f"{i % 4}.{i % 11}.{i % 7}.{i % 13}" if i % 2 else f"ORD-{i:06d}" for i in range(160)]
    assert not classify(classifier, "misc", values).entities
