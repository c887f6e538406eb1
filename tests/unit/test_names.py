"""Column-name evidence: the right entity from names in several languages, and no more."""

from __future__ import annotations

import pytest

from govkit.detect.names import hints_for, tokens


@pytest.mark.parametrize(
    ("column", "table", "entity"),
    [
        ("email", "", "EMAIL_ADDRESS"),
        ("e_mail", "", "EMAIL_ADDRESS"),
        ("CustomerEmail", "", "EMAIL_ADDRESS"),
        ("telefon", "", "PHONE_NUMBER"),
        ("Fax", "", "PHONE_NUMBER"),
        ("手机号", "", "PHONE_NUMBER"),
        ("shouji", "", "PHONE_NUMBER"),
        ("sfzh", "", "CN_RESIDENT_ID"),
        ("身份证号", "", "CN_RESIDENT_ID"),
        ("FirstName", "", "PERSON"),
        ("last_name", "", "PERSON"),
        ("vorname", "", "PERSON"),
        ("姓名", "", "PERSON"),
        ("xingming", "", "PERSON"),
        ("name", "customers", "PERSON"),
        ("BillingAddress", "", "LOCATION"),
        ("adresse", "", "LOCATION"),
        ("地址", "", "LOCATION"),
        ("PostalCode", "", "LOCATION"),
        ("BirthDate", "", "DATE_TIME"),
        ("date_of_birth", "", "DATE_TIME"),
        ("geburtsdatum", "", "DATE_TIME"),
        ("出生日期", "", "DATE_TIME"),
        ("iban", "", "IBAN_CODE"),
        ("card_number", "", "CREDIT_CARD"),
        ("client_ip", "", "IP_ADDRESS"),
        ("ssn", "", "US_SSN"),
    ],
)
def test_name_points_at_entity(column: str, table: str, entity: str) -> None:
    hints = hints_for(column, table)
    assert hints, f"no hint for {column!r}"
    assert hints[0].entity_type == entity
    assert hints[0].effective_strength > 0


@pytest.mark.parametrize(
    "column",
    ["email_verified", "phone_verified", "is_email", "email_count", "has_address", "phone_type", "name_hash"],
)
def test_negated_names_carry_no_weight(column: str) -> None:
    hints = hints_for(column)
    assert hints, "the term is still recognised, so explain can say why it did not count"
    assert all(h.effective_strength == 0 for h in hints)
    assert hints[0].negated_by is not None


@pytest.mark.parametrize("column", ["hotel", "total", "order_number", "tracking_number", "created_at", "sku", "misc"])
def test_unrelated_names_suggest_nothing(column: str) -> None:
    assert hints_for(column) == []


def test_plain_name_is_weak_unless_the_table_is_about_people() -> None:
    genre = hints_for("Name", "Genre")[0]
    customer = hints_for("Name", "Customer")[0]
    assert genre.strength < 0.5
    assert customer.strength >= 0.7


def test_tokens_split_camel_snake_and_keep_han_runs() -> None:
    assert tokens("customerEmail_Address") == ["customer", "email", "address"]
    assert tokens("BillingPostalCode") == ["billing", "postal", "code"]
    assert tokens("客户手机号") == ["客户手机号"]
