"""Masked evidence shows the kind of a value, never the value."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from govkit.detect.evidence import mask


def test_email_keeps_first_letters_and_tld() -> None:
    assert mask("john.smith@example.com", "EMAIL_ADDRESS") == "j***@e******.com"


def test_phone_keeps_head_and_last_four() -> None:
    assert mask("13800135678") == "138****5678"


def test_words_keep_initials() -> None:
    assert mask("Luís Gonçalves") == "L*** G********"


def test_long_values_are_cut_before_masking() -> None:
    assert len(mask("x" * 10_000)) <= 40


@given(st.emails())
def test_masked_email_never_contains_the_local_part(email: str) -> None:
    local = email.split("@")[0]
    masked = mask(email, "EMAIL_ADDRESS")
    assert masked != email
    assert masked.split("@")[0] == local[0] + "***", "only the first character of the local part is shown"


@given(st.from_regex(re.compile(r"\+?[1-9][0-9]{9,14}"), fullmatch=True))
def test_masked_numbers_hide_the_middle_digits(number: str) -> None:
    masked = mask(number)
    digits = re.sub(r"\D", "", number)
    shown = re.sub(r"[^0-9]", "", masked)
    assert len(shown) <= 7
    assert len(shown) < len(digits)


@given(st.text(min_size=2, max_size=60).filter(lambda s: s.strip() and len(s.strip()) >= 2))
def test_masking_always_hides_something(value: str) -> None:
    masked = mask(value)
    assert masked != value.strip() or all(not c.isalnum() for c in value)
