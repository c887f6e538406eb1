"""Rules added after the accuracy benchmark's business columns (benchmarks/accuracy_business.py).

Each test pins one general rule, with data made here, not the benchmark's own columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from govkit.demo import SyntheticData
from govkit.detect.columns import (
    ColumnClassifier,
    ColumnSample,
    ColumnVerdict,
    EntityStat,
    _lower_share,
    _settle_look_alikes,
)
from govkit.detect.engine import DetectionEngine, Span
from govkit.detect.names import hints_for
from govkit.detect.prose import credible_spans, english_share, is_foreign_prose


@pytest.fixture(scope="module")
def classifier(engine: DetectionEngine) -> ColumnClassifier:
    return ColumnClassifier(engine)


@pytest.fixture
def data() -> SyntheticData:
    return SyntheticData(seed=99)


def classify(classifier: ColumnClassifier, column: str, values: Sequence[object], table: str = "t") -> ColumnVerdict:
    return classifier.classify(ColumnSample(table, column, "text", list(values)))


def entities(verdict: ColumnVerdict) -> set[str]:
    return {e.entity_type for e in verdict.entities}


def nhs_number(rng_digits: list[int]) -> str | None:
    check = 11 - sum(n * (10 - i) for i, n in enumerate(rng_digits)) % 11
    check = 0 if check == 11 else check
    return None if check == 10 else "".join(map(str, rng_digits)) + str(check)


# -- mean scores ---------------------------------------------------------------------------


def test_mean_score_of_equal_scores_is_that_score() -> None:
    """49 x 0.4 summed in floating point divides back to 0.39999999999999997."""
    stat = EntityStat()
    for _ in range(49):
        stat.hits += 1
        stat.score_total += 0.4
    assert stat.score_total / stat.hits < 0.4  # the drift the rounding exists for
    assert stat.mean_score == 0.4


def test_us_phone_numbers_in_chat_messages_are_found(classifier: ColumnClassifier, data: SyntheticData) -> None:
    templates = (
        "You can reach me at {} after six, the doorbell does not work.",
        "My new number is {}, please update the delivery notes for me.",
        "Is the green backpack available again? I have been waiting for weeks now.",
    )
    values = [templates[i % 3].format(data.phone("US")) for i in range(120)]
    verdict = classify(classifier, "message", values)
    assert verdict.rule == "free text"
    assert entities(verdict) == {"PHONE_NUMBER"}


# -- look-alike checksums ------------------------------------------------------------------


def test_nhs_numbers_are_not_also_phone_numbers(classifier: ColumnClassifier, data: SyntheticData) -> None:
    numbers = [n for n in (nhs_number([data.rng.randrange(10) for _ in range(9)]) for _ in range(200)) if n]
    verdict = classify(classifier, "patient_ref", numbers[:120])
    assert entities(verdict) == {"UK_NHS"}


def test_phone_numbers_passing_the_nhs_check_by_chance_are_phones(
    classifier: ColumnClassifier, data: SyntheticData
) -> None:
    numbers = [data.phone("US") for _ in range(300)]
    values = [f"Please call me back on {n} tomorrow morning if you can." for n in numbers]
    verdict = classify(classifier, "note", values)
    assert "PHONE_NUMBER" in entities(verdict)
    assert "UK_NHS" not in entities(verdict)


def _judged(nhs: int, phones: int) -> list[dict[str, tuple[float, str]]]:
    both = [{"UK_NHS": (1.0, "4010232137"), "PHONE_NUMBER": (0.4, "401 023 2137")} for _ in range(nhs)]
    return both + [{"PHONE_NUMBER": (0.4, "212 555 0100")} for _ in range(phones)]


def test_settle_look_alikes_by_pass_rate() -> None:
    all_pass = _judged(nhs=20, phones=0)
    _settle_look_alikes(all_pass)
    assert all(set(b) == {"UK_NHS"} for b in all_pass)
    chance = _judged(nhs=2, phones=20)
    _settle_look_alikes(chance)
    assert all(set(b) == {"PHONE_NUMBER"} for b in chance)
    between = _judged(nhs=10, phones=10)
    _settle_look_alikes(between)
    assert sum("UK_NHS" in b for b in between) == 10
    too_few = _judged(nhs=3, phones=0)
    _settle_look_alikes(too_few)
    assert all(set(b) == {"UK_NHS", "PHONE_NUMBER"} for b in too_few)


@given(st.lists(st.sampled_from(["EMAIL_ADDRESS", "IBAN_CODE", "UK_NHS", "PHONE_NUMBER"]), max_size=30))
def test_settle_look_alikes_only_removes_shared_matches(kinds: list[str]) -> None:
    judged = [{kind: (0.5, "0123456789")} for kind in kinds]
    before = [dict(b) for b in judged]
    _settle_look_alikes(judged)
    assert judged == before  # no value carries both, so nothing is shared


# -- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("adresse_email", "EMAIL_ADDRESS"),
        ("direccion_ip", "IP_ADDRESS"),
        ("endereco_email", "EMAIL_ADDRESS"),
        ("wohnort", "LOCATION"),
        ("codigo_postal", "LOCATION"),
        ("cep", "LOCATION"),
        ("Telefonnummer", "PHONE_NUMBER"),
        ("fecha_de_nacimiento", "DATE_TIME"),
        ("nom_complet", "PERSON"),
        ("nhs_number", "UK_NHS"),
        ("national_insurance_no", "UK_NINO"),
    ],
)
def test_multilingual_name_hints(column: str, expected: str) -> None:
    hints = hints_for(column)
    assert hints[0].entity_type == expected
    assert [h.entity_type for h in hints] == [expected]  # no stray LOCATION from "adresse"


def test_a_postal_address_word_alone_still_means_location() -> None:
    assert [h.entity_type for h in hints_for("adresse")] == ["LOCATION"]
    assert [h.entity_type for h in hints_for("billing_address")] == ["LOCATION"]


def test_an_address_column_full_of_emails_is_not_a_place(classifier: ColumnClassifier) -> None:
    fake = Faker("fr_FR")
    fake.seed_instance(5)
    verdict = classify(classifier, "address", [fake.email() for _ in range(100)])
    assert entities(verdict) == {"EMAIL_ADDRESS"}


# -- free text or not ------------------------------------------------------------------------


def test_lower_share_tells_sentences_from_addresses() -> None:
    from collections import Counter

    assert _lower_share(Counter({"734 Mitchell Trace, Lake Davidborough, SC 01694": 1})) == 0.0
    assert _lower_share(Counter({"Kunde hat angerufen und bittet um Rückruf": 1})) > 0.6
    assert _lower_share(Counter({"无线鼠标很好用": 1})) == 1.0


def test_one_line_addresses_without_a_name_are_places_not_prose(classifier: ColumnClassifier) -> None:
    fake = Faker("en_US")
    fake.seed_instance(11)
    values = [fake.address().replace("\n", ", ") for _ in range(120)]
    verdict = classify(classifier, "c4", values)
    assert not verdict.profile["free_text"]
    assert entities(verdict) == {"LOCATION"}


# -- prose in other languages ----------------------------------------------------------------


def test_english_share_separates_languages() -> None:
    assert english_share(["The parcel arrived late but it was well packed, thank you."]) > 0.25
    assert english_share(["Die Ware wurde beschädigt geliefert, Ersatz ist unterwegs."]) < 0.08
    assert is_foreign_prose(["La commande est arrivée en retard mais bien emballée."])
    assert not is_foreign_prose(["客户要求退款，已经转给财务部门处理。"])


def test_credible_spans_keep_names_and_drop_nouns() -> None:
    text = "Kunde Karla Conradi hat wegen der Rechnung angerufen."
    noun = "Rechnung wurde erstellt. Rechnung ist bezahlt. Die Rechnung kommt."
    spans = {
        text: [Span("PERSON", 6, 19, 0.85, "ner"), Span("PERSON", 34, 42, 0.85, "ner")],
        noun: [Span("LOCATION", 0, 8, 0.85, "ner")],
    }
    kept = credible_spans(spans)
    assert [text[s.start : s.end] for s in kept[text]] == ["Karla Conradi"]
    assert kept[noun] == []


def test_german_word_salad_is_not_personal(classifier: ColumnClassifier) -> None:
    fake = Faker("de_DE")
    fake.seed_instance(3)
    verdict = classify(classifier, "kommentar", [fake.text(160).replace("\n", " ") for _ in range(150)])
    assert verdict.rule == "free text"
    assert not verdict.entities


def test_names_in_german_notes_are_found(classifier: ColumnClassifier) -> None:
    fake = Faker("de_DE")
    fake.seed_instance(4)
    templates = (
        "Kunde {} hat angerufen und bittet um einen Rückruf wegen der Rechnung.",
        "Ware wurde beschädigt geliefert, Ersatz ist bereits unterwegs, keine weitere Aktion.",
        "Frau {} möchte die Lieferadresse ändern, die neue Adresse folgt per E-Mail.",
    )
    values = [templates[i % 3].format(f"{fake.first_name()} {fake.last_name()}") for i in range(150)]
    verdict = classify(classifier, "interne_notiz", values)
    assert verdict.rule == "free text"
    assert entities(verdict) == {"PERSON"}


# -- UK National Insurance numbers -----------------------------------------------------------

_PREFIX_1 = "ABCEGHJKLMNOPRSTWXYZ"
_PREFIX_2 = "ABCEGHJKLMNPRSTWXYZ"


@settings(max_examples=60, deadline=None)
@given(
    first=st.sampled_from(_PREFIX_1),
    second=st.sampled_from(_PREFIX_2),
    digits=st.text("0123456789", min_size=6, max_size=6),
    suffix=st.sampled_from("ABCD"),
    spaced=st.booleans(),
)
def test_valid_ni_numbers_match(
    engine: DetectionEngine, first: str, second: str, digits: str, suffix: str, spaced: bool
) -> None:
    prefix = first + second
    number = f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}" if spaced else prefix + digits + suffix
    found = {s.entity_type for s in engine.find_patterns([number], frozenset({"UK_NINO"}))[0]}
    assert found == (set() if prefix in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"} else {"UK_NINO"})


@pytest.mark.parametrize("text", ["QQ123456C", "AB123456E", "DA123456A", "AO123456A", "ab123456c", "XAB123456C"])
def test_invalid_ni_numbers_do_not_match(engine: DetectionEngine, text: str) -> None:
    assert engine.find_patterns([text], frozenset({"UK_NINO"}))[0] == []


def test_a_national_insurance_column_is_found(classifier: ColumnClassifier, data: SyntheticData) -> None:
    values = [f"JG{data.rng.randrange(10**6):06d}{data.rng.choice('ABCD')}" for _ in range(100)]
    verdict = classify(classifier, "ni_number", values, table="staff")
    assert entities(verdict) == {"UK_NINO"}
