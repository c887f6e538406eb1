"""Operators: registry and parameters, formats, determinism per key, reversibility."""

from __future__ import annotations

import datetime
import ipaddress
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govkit.actions.anonymize import pseudonyms as ps
from govkit.actions.anonymize.operators import (
    OPERATORS,
    OperatorContext,
    OperatorError,
    build,
    parameter_names,
    parse_spec,
)
from govkit.detect.recognizers.cn_resident_id import is_valid_resident_id
from govkit.errors import KeyMaterialError
from tests.anonymize.conftest import keyset_of

EMAIL_SHAPE = re.compile(r"^u_[0-9a-f]{16}@example\.invalid$")
emails = st.emails()
phones = st.from_regex(r"\A(\+\d{1,3} )?\(?\d{2,4}\)?[ -]?\d{3,4}[ -]?\d{3,4}\Z")


def test_registry_has_every_operator_of_the_issue() -> None:
    assert set(OPERATORS) == {
        "redact", "replace", "mask", "hash", "pseudonymize", "encrypt", "decrypt", "fake", "generalize", "drop",
        "keep",
    }
    assert parameter_names()["mask"] == ("char", "keep_first", "keep_last")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("hsh", 'unknown operator "hsh"'),
        ("mask:chr=#", 'operator "mask": chr: Extra inputs are not permitted'),
        ("mask:keep_last=-1", "keep_last: Input should be greater than or equal to 0"),
        ("generalize:to=decade", "to: Input should be"),
        ("hash:algorithm=sha1", "algorithm: Input should be 'hmac-sha256'"),
        ("mask:keep_last", "key=value pairs"),
    ],
)
def test_bad_operator_specs_fail_clearly(context: OperatorContext, spec: str, message: str) -> None:
    with pytest.raises(OperatorError, match=re.escape(message)):
        build(*parse_spec(spec), context)


def test_keyed_operator_without_a_key_fails_before_any_value() -> None:
    with pytest.raises(KeyMaterialError, match="govkit keys init"):
        build("pseudonymize", {}, OperatorContext(None))
    assert build("mask", {}, OperatorContext(None)).apply("abc") == "***"


def test_simple_operators(context: OperatorContext) -> None:
    assert build("redact", {}, context).apply("x@y.com") == ""
    assert build("replace", {}, context).apply("x@y.com", "EMAIL_ADDRESS") == "<EMAIL_ADDRESS>"
    assert build("replace", {"value": "[gone]"}, context).apply("x") == "[gone]"
    assert build("keep", {}, context).apply_many(["a", None]) == ["a", None]
    assert build("drop", {}, context).drops_field
    assert build(*parse_spec("mask:keep_last=4"), context).apply("13812345678") == "*******5678"
    assert build(*parse_spec("mask:keep_first=1,char=#"), context).apply("john@example.com") == "j###@#######.###"
    # never more than half the value stays readable
    assert build(*parse_spec("mask:keep_first=3,keep_last=3"), context).apply("abcd") == "a**d"
    assert build("mask", {}, context).apply_many([None, "ab"]) == [None, "**"]


@pytest.mark.parametrize(
    ("params", "value", "expected"),
    [
        ({"to": "year"}, "1985-07-23", "1985"),
        ({"to": "month"}, datetime.date(1985, 7, 23), "1985-07"),
        ({"to": "month"}, "not a date", "*"),  # cannot be placed: up to the top, and counted
        ({"to": "year", "bucket": 5}, "1987-03-02", "1985-1989"),
        ({"to": "year", "bucket": 10}, datetime.date(1987, 3, 2), "1980-1989"),
        ({"to": "year", "bucket": 3}, "1987", "1986-1988"),
        ({"to": "band"}, "n/a", "*"),
        ({"to": "band"}, 37, "30-39"),
        ({"to": "band", "bucket": 5}, "42", "40-44"),
        ({"to": "range"}, 123456.7, "123000-123999"),
        ({"to": "prefix"}, "SW1A 1AA", "SW1"),
        ({"to": "prefix", "bucket": 2}, "100086", "10"),
        ({"to": "network"}, "192.168.7.42", "192.168.7.*"),
        ({"to": "network"}, "2001:db8:1:2::5", "2001:db8:1:*"),
        ({"to": "network", "bucket": 20}, "192.168.20.5", "192.168.16-31.*"),
        ({"to": "network"}, "not an address", "*"),
        ({"to": "city"}, "39.90421, 116.40739", "39.9,116.4"),
        # a street without its row: nothing in it can be trusted to be a city ("8, rue de Jean")
        ({"to": "city"}, "1 Main St, Springfield", "*"),
        ({"to": "city"}, "8, rue de Jean", "*"),
        ({"to": "city", "holds": "country"}, "Brazil", "Brazil"),  # already coarser than a city
    ],
)
def test_generalize(context: OperatorContext, params: dict[str, object], value: object, expected: str) -> None:
    assert build("generalize", params, context).apply(value) == expected


# -- pseudonyms: deterministic per key, different across keys, valid for their format ----------


@given(value=emails)
def test_email_pseudonym_is_deterministic_and_valid(value: str) -> None:
    one = build("pseudonymize", {}, OperatorContext(keyset_of(b"k" * 32)))
    two = build("pseudonymize", {}, OperatorContext(keyset_of(b"k" * 32)))
    token = one.apply(value, "EMAIL_ADDRESS")
    assert token == two.apply(value, "EMAIL_ADDRESS") == one.apply_many([value], "EMAIL_ADDRESS")[0]
    assert EMAIL_SHAPE.match(token)
    assert value not in token


@given(value=st.text(min_size=1, max_size=40), entity=st.sampled_from(["EMAIL_ADDRESS", "PERSON", "URL"]))
def test_pseudonyms_differ_across_keys(value: str, entity: str) -> None:
    one = build("pseudonymize", {}, OperatorContext(keyset_of(b"k" * 32)))
    other = build("pseudonymize", {}, OperatorContext(keyset_of(b"o" * 32)))
    assert one.apply(value, entity) != other.apply(value, entity)


@given(value=phones)
def test_phone_pseudonym_keeps_its_shape(value: str) -> None:
    op = build("pseudonymize", {}, OperatorContext(keyset_of(b"k" * 32)))
    token = op.apply(value, "PHONE_NUMBER")
    assert token == op.apply(value, "PHONE_NUMBER")
    assert len(token) == len(value)
    assert re.sub(r"\d", "0", token) == re.sub(r"\d", "0", value)  # digit groups and separators kept
    if value.startswith("+"):
        assert token.split(" ")[0] == value.split(" ")[0]  # country code kept


@given(rest=st.from_regex(r"\A[3-9]\d{9}\Z"))
def test_cn_mobile_stays_a_cn_mobile(rest: str) -> None:
    op = build("pseudonymize", {}, OperatorContext(keyset_of(b"k" * 32)))
    token = op.apply("1" + rest, "CN_PHONE_NUMBER")
    assert re.fullmatch(r"1[3-9]\d{9}", token)


@given(value=st.from_regex(r"\A\d{17}[\dX]\Z"))
def test_cn_resident_id_pseudonym_keeps_validity(value: str) -> None:
    """A valid ID gives a valid ID; any other 18 characters give an invalid one (that keeps the
    map injective: see test_bijective.py for valid inputs drawn on purpose)."""
    op = build("pseudonymize", {}, OperatorContext(keyset_of(b"k" * 32)))
    token = op.apply(value, "CN_RESIDENT_ID")
    assert len(token) == 18
    assert token == op.apply(value, "CN_RESIDENT_ID")
    if value[6:14] <= ps.BIRTH_TO.strftime("%Y%m%d"):  # the ranked domain ends at BIRTH_TO
        assert is_valid_resident_id(token) == is_valid_resident_id(value)


def test_every_cn_area_is_known() -> None:
    assert len(ps.CN_AREAS) == 6885
    for area in ps.CN_AREAS:
        body = area + "19900101" + "123"
        assert is_valid_resident_id(body + ps.ric_check(body)), area


@given(value=st.from_regex(r"\A4\d{3}( \d{4}){3}\Z|\A5\d{15}\Z|\A3\d{14}\Z"))
def test_card_pseudonym_keeps_luhn_validity(value: str) -> None:
    op = build("pseudonymize", {}, OperatorContext(keyset_of(b"k" * 32)))
    token = op.apply(value, "CREDIT_CARD")
    assert len(token) == len(value)
    assert token[0] == value[0]
    assert ps.luhn_valid(token) == ps.luhn_valid(value)
    digits = value.replace(" ", "")[:-1]
    valid = value[:-1] + ps.luhn_check_digit(digits)
    assert ps.luhn_valid(op.apply(valid, "CREDIT_CARD"))


@given(value=st.sampled_from(["DE89370400440532013000", "GB82 WEST 1234 5698 7654 32", "FR1420041010050500013M02606"]),
       salt=st.text(max_size=3))
def test_iban_pseudonym_is_valid_with_same_country(value: str, salt: str) -> None:
    op = build("pseudonymize", {"prefix": "p" + str(len(salt))}, OperatorContext(keyset_of(b"k" * 32)))
    token = op.apply(value, "IBAN_CODE")
    assert token[:2] == value[:2]
    assert len(token) == len(value)
    assert ps.iban_valid(token)
    assert token != value


def test_other_formats(context: OperatorContext) -> None:
    op = build("pseudonymize", {}, context)
    ssn = op.apply("123-45-6789", "US_SSN")
    assert re.fullmatch(r"\d{3}-\d{2}-\d{4}", ssn)
    assert not ssn.startswith(("000", "666", "9"))
    address = op.apply("8.8.8.8", "IP_ADDRESS")
    assert address != "8.8.8.8"
    assert str(ipaddress.IPv4Address(address)) == address  # another IPv4 address, written canonically
    assert re.fullmatch(r"u_[0-9a-f]{16}", op.apply("Jane Doe", "PERSON"))
    number = op.apply(123456, None)
    assert isinstance(number, int)
    assert len(str(number)) == 6
    assert number == op.apply(123456, None)
    assert op.apply_many([None], "EMAIL_ADDRESS") == [None]


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_integer_pseudonyms_are_a_permutation_of_their_width(width: int) -> None:
    op = build("pseudonymize", {}, OperatorContext(keyset_of(b"k" * 32)))
    low, high = (0 if width == 1 else 10 ** (width - 1)), 10**width
    outputs = [op.apply(v, None) for v in range(low, high)]
    assert sorted(outputs) == list(range(low, high))  # injective: integer keys stay unique
    assert outputs != list(range(low, high))


def test_same_value_same_token_across_entity_contexts(context: OperatorContext) -> None:
    """The digest depends on the value only: a value pseudonymized in two tables joins."""
    op = build("pseudonymize", {}, context)
    assert op.apply("jane@example.com", "EMAIL_ADDRESS") == build("pseudonymize", {}, context).apply(
        "jane@example.com", "EMAIL_ADDRESS")


@pytest.mark.slow
def test_a_million_distinct_emails_never_collide(context: OperatorContext) -> None:
    op = build("pseudonymize", {}, context)
    values = [f"user{i}@example{i % 97}.com" for i in range(1_000_000)]
    tokens = op.apply_many(values, "EMAIL_ADDRESS")
    assert len(set(tokens)) == len(values)


# -- hash, fake -------------------------------------------------------------------------------------


def test_hash_is_keyed(context: OperatorContext, other_context: OperatorContext) -> None:
    import hashlib

    value = "jane@example.com"
    one = build("hash", {}, context).apply(value)
    assert one == build("hash", {}, context).apply(value)
    assert one != build("hash", {}, other_context).apply(value)
    assert one != hashlib.sha256(value.encode()).hexdigest()  # never unkeyed
    assert len(build("hash", {"length": 16}, context).apply(value)) == 16


def test_fake_is_stable_per_person_and_key(context: OperatorContext, other_context: OperatorContext) -> None:
    op = build("fake", {"provider": "name"}, context)
    names = [op.apply(v) for v in ("Jane Doe", "John Roe", "Jane Doe")]
    assert names[0] == names[2] != names[1]
    assert build("fake", {}, context).apply("Jane Doe") == names[0]  # a new instance, same fake
    fresh = [build("fake", {}, other_context).apply(f"person {i}") for i in range(5)]
    assert [build("fake", {}, context).apply(f"person {i}") for i in range(5)] != fresh
    with pytest.raises(OperatorError, match="unknown Faker provider"):
        build("fake", {"provider": "no_such_thing"}, context)


# -- encrypt / decrypt --------------------------------------------------------------------------------


@given(value=st.text(max_size=200), mode=st.sampled_from(["deterministic", "randomized"]))
def test_encrypt_decrypt_round_trip(value: str, mode: str) -> None:
    context = OperatorContext(keyset_of(b"k" * 32))
    enc = build("encrypt", {"mode": mode}, context)
    token = enc.apply(value)
    assert token.startswith("gk1.")
    assert build("decrypt", {}, context).apply(token) == value
    if mode == "deterministic":
        assert enc.apply(value) == token
        assert enc.deterministic
    else:
        assert enc.apply(value) != token
        assert not enc.deterministic


def test_decrypt_after_rotation_and_with_a_wrong_key() -> None:
    old, new = b"a" * 32, b"b" * 32
    token = build("encrypt", {}, OperatorContext(keyset_of(old))).apply("13812345678")
    rotated = OperatorContext(keyset_of(new, old))
    assert build("decrypt", {}, rotated).apply(token) == "13812345678"
    with pytest.raises(KeyMaterialError, match="not in") as info:
        build("decrypt", {}, OperatorContext(keyset_of(new))).apply(token)
    assert "13812345678" not in str(info.value)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(KeyMaterialError, match="wrong key or altered data"):
        build("decrypt", {}, rotated).apply(forged)


@given(key=st.binary(min_size=1, max_size=100), data=st.binary(max_size=200))
def test_precomputed_hmac_is_hmac_sha256(key: bytes, data: bytes) -> None:
    import hmac

    assert ps.Mac(key)(data) == hmac.digest(key, data, "sha256")
