"""Whole-value validators for structured cells, and the sparse-leak rule."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from govkit.detect.columns import ColumnClassifier, ColumnSample
from govkit.detect.engine import DetectionEngine
from govkit.detect.regions import DEFAULT_PHONE_REGIONS
from govkit.detect.values import phone_score

FORMATS = [phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.NATIONAL,
           phonenumbers.PhoneNumberFormat.E164]


@settings(max_examples=150, deadline=None)
@given(region=st.sampled_from(DEFAULT_PHONE_REGIONS), fmt=st.sampled_from(FORMATS),
       kind=st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]))
def test_example_numbers_of_every_region_and_format_are_phones(region: str, fmt: int, kind: int) -> None:
    number = phonenumbers.example_number_for_type(region, kind)
    assert number is not None
    text = phonenumbers.format_number(number, fmt)
    assert phone_score(text) is not None, text


@pytest.mark.parametrize(
    "value",
    ["1955-03-15", "15.03.1955", "192.168.10.20", "2.10.3.1", "12345", "ORD-2024-000123",
     "550e8400-e29b-41d4-a716-446655440000", "1Z999AA10123456784", "N/A", "9.99"],
)
def test_things_that_are_not_phone_numbers(value: str) -> None:
    assert phone_score(value) is None


def test_a_few_leaked_emails_in_a_reference_column_are_reported(engine: DetectionEngine) -> None:
    values = [f"REF-{i:07d}" for i in range(2000)] + ["jane.doe@example.org", "max.muster@example.de"]
    verdict = ColumnClassifier(engine).classify(ColumnSample("orders", "reference", "text", values))
    assert [e.entity_type for e in verdict.entities] == ["EMAIL_ADDRESS"]
    assert verdict.rule == "sparse matches"
    assert verdict.entities[0].hits == 2
    assert "jane" not in str(verdict.to_dict())


def test_random_card_like_numbers_are_not_a_sparse_leak(engine: DetectionEngine) -> None:
    values = [f"4{i:015d}" for i in range(3_000_000_000, 3_000_000_500)]
    verdict = ColumnClassifier(engine).classify(ColumnSample("orders", "ref_no", "text", values))
    assert not verdict.entities, verdict.reason


@pytest.mark.parametrize("value", ["123-45-6789", "01310-100", "4006381333931"])
def test_identifiers_shaped_like_phone_numbers_are_not_phones(value: str) -> None:
    """US SSNs, Brazilian postcodes and EAN-13 barcodes each pass as a phone in some region."""
    assert phone_score(value) is None


def test_bare_domains_are_not_personal_urls(engine: DetectionEngine) -> None:
    values = [f"shop{i}.example.com" for i in range(200)]
    verdict = ColumnClassifier(engine).classify(ColumnSample("customers", "email_domain", "text", values))
    assert not verdict.entities
    assert verdict.rule == "implausible values"


def test_versions_under_a_chinese_column_name_are_not_ips(engine: DetectionEngine) -> None:
    values = [f"{1 + i % 3}.{i % 40}.{i % 120}.{i % 250}" for i in range(200)]
    verdict = ColumnClassifier(engine).classify(ColumnSample("订单", "版本号", "text", values))
    assert not verdict.entities


@pytest.mark.parametrize("value", ["4911 3919 2996 0899", "6222-0212-3456-7890-123", "+86 138 0013 8000 1234 5"])
def test_digit_runs_longer_than_e164_allows_are_not_phones(value: str) -> None:
    """A card number written in groups has the shape of a phone number but 16+ digits."""
    assert phone_score(value) is None


def test_a_fifteen_digit_international_number_is_still_checked() -> None:
    assert phone_score("+86 138 0013 8000") is not None


@pytest.mark.parametrize("value", ["0043 1 234567890123", "0062 812 3456 78901"])
def test_the_00_dialling_prefix_does_not_count_towards_the_digit_limit(value: str) -> None:
    """Long international numbers written with 00 score like their + form."""
    assert phone_score(value) == phone_score("+" + value[2:])
    assert phone_score(value) is not None


def test_get_engine_returns_one_engine_however_it_is_called(engine: DetectionEngine) -> None:
    """Positional, keyword and default calls share one cache entry: the model loads once."""
    from govkit.detect.engine import DEFAULT_MODEL, get_engine

    assert get_engine() is engine
    assert get_engine(DEFAULT_MODEL, "en") is engine
    assert get_engine(model=DEFAULT_MODEL, language="en") is engine


def test_full_tally_counts_unhashable_values_by_their_text(engine: DetectionEngine) -> None:
    """A JSON or array column (PostgreSQL) yields dicts and lists; counting must not crash."""
    tally = ColumnClassifier(engine).pattern_tally("t", "payload", "text")
    tally.add([{"email": "jane.doe@example.org"}, ["x"], None, bytearray(b"\x00"), "jane.doe@example.org"])
    assert tally.n == 3  # the dict, the list and the string; None and bytes are not counted
    assert tally.stats["EMAIL_ADDRESS"].hits == 1  # a structured cell counts when the e-mail is all of it


def test_tallies_taken_in_workers_and_merged_in_order_equal_one_tally(engine: DetectionEngine) -> None:
    """What scan --full does with worker processes, in one process: same counts, same examples."""
    classifier = ColumnClassifier(engine)
    batches = [
        ["REF-1", "jane.doe@example.org", None, "max@example.de", "REF-1"],
        ["ana@example.pt", "REF-2", "jane.doe@example.org", "li.wei@example.cn", "x@example.com"],
        ["bo@example.se", "REF-3"],
    ]
    alone = classifier.pattern_tally("t", "contact", "text")
    for batch in batches:
        alone.add(batch)
    workers = [classifier.pattern_tally("t", "contact", "text") for _ in range(2)]
    merged = classifier.pattern_tally("t", "contact", "text")
    for number, batch in enumerate(batches):
        worker = workers[number % 2]
        worker.add_counts(merged.count(batch))
        merged.merge(*worker.take())
    assert merged.n == alone.n == 11
    assert {e: (s.hits, s.examples) for e, s in merged.stats.items()} == {
        e: (s.hits, s.examples) for e, s in alone.stats.items()
    }
    assert merged.stats["EMAIL_ADDRESS"].hits == 7
    assert workers[0].take() == (0, {}, {})  # taking resets the counts


@settings(max_examples=200, deadline=None)
@given(number=st.from_regex(r"\(?0?[1-9]\d{1,2}\)?[ -]?\d{3,4}[ -]?\d{3,4}", fullmatch=True))
def test_region_order_never_changes_the_verdict(number: str) -> None:
    """Regions are tried likely-first for speed; the answer must be "valid in some region".

    Shapes phone_score rejects before any region is tried (a Brazilian CEP ``30000-000``,
    a date) are not about the order, so they are left out.
    """
    from govkit.detect.values import _NOT_PHONE, _valid

    assume(not _NOT_PHONE.match(number))
    phone_score.cache_clear()
    brute = any(_valid(number, region) for region in DEFAULT_PHONE_REGIONS)
    assert (phone_score(number) is not None) is brute
