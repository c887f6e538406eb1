"""The export's fast path gives exactly the reference pseudonyms, column-wise and in workers."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govkit.actions.anonymize import operators
from govkit.actions.anonymize import pseudonyms as ps
from govkit.actions.anonymize.export import ExportResult, Transformer, export_rows
from govkit.actions.anonymize.fastpath import column_pseudonymizer
from govkit.actions.anonymize.io import Batch, read_batches
from govkit.actions.anonymize.operators import OperatorContext, build
from govkit.actions.anonymize.plan import FieldPlan, Plan

KEY = b"k" * 32
ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CN_PHONE_NUMBER", "PERSON", "CN_RESIDENT_ID", "CREDIT_CARD",
            "CN_BANK_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS", "MAC_ADDRESS", "UK_NINO", "LOCATION", "")

#: Pinned outputs under this key: pseudonyms must never change (a re-run must join with an
#: earlier export). Identifiers are FF3-1 ciphertexts since issue #15 (bijective and
#: reversible: the hashed digits before it collided); e-mails and names are the same keyed
#: tokens as before it.
PINNED = [
    ("EMAIL_ADDRESS", "alice@example.com", "u_0d8b3da1ccc85d32@example.invalid"),
    ("PERSON", "Alice Smith", "u_ec78d9aee9b02c53"),
    ("PHONE_NUMBER", "+1 415-555-0100", "+1 349-928-5802"),
    ("PHONE_NUMBER", "030 1234567", "009 4305334"),
    ("PHONE_NUMBER", "+49 (0)30 1234567", "+49 (2)35 1567943"),
    ("CN_PHONE_NUMBER", "138 0013 8000", "161 4456 6644"),
    ("CN_RESIDENT_ID", "11010519491231002X", "620302199505039310"),
    ("CN_RESIDENT_ID", "11010119900307001X", "442822195511127676"),
    ("CREDIT_CARD", "4111 1111 1111 1111", "4215 5631 7744 6101"),
    ("CN_BANK_CARD", "6222020200112233445", "6558544456738078507"),
    ("IBAN_CODE", "DE89 3704 0044 0532 0130 00", "DE91 4345 5806 3109 4980 37"),
    ("IBAN_CODE", "GB82WEST12345698765432", "GB97CACT66529492473091"),
    ("US_SSN", "123-45-6789", "400-40-0286"),
    ("IP_ADDRESS", "192.168.1.20", "110.73.117.59"),
    ("IP_ADDRESS", "2001:db8::1", "df55:5e03:9560:64d2:5237:76c:fc81:1eb7"),
    ("MAC_ADDRESS", "00:1a:2b:3c:4d:5e", "d8:97:77:0f:7f:83"),
    ("UK_NINO", "QQ123456C", "MB996143R"),
]

# Texts of every kind the formats meet: ASCII with separators, digit runs longer than one
# HMAC block, non-ASCII digits (which the reference treats its own way), IBAN-like strings.
digit_text = st.text(alphabet="0123456789 -+()./%", max_size=90)
any_text = st.text(max_size=40)
iban_like = st.from_regex(r"\A[A-Za-z]{2}[0-9]{2}[ 0-9A-Za-z-]{1,70}\Z")
texts = st.one_of(digit_text, any_text, iban_like, st.sampled_from([v for _, v, _ in PINNED]))


def _outcome(function: Any, value: str) -> str:
    try:
        return str(function(value))
    except Exception as exc:  # the reference's own failures (an IBAN with a dash) must stay the same
        return f"raises {type(exc).__name__}"


@pytest.mark.parametrize(("entity", "value", "expected"), PINNED)
def test_pinned_pseudonyms_are_unchanged(context: OperatorContext, entity: str, value: str, expected: str) -> None:
    assert ps.pseudonym(value, entity, KEY, "u_", 16) == expected
    assert column_pseudonymizer(KEY, entity, "u_", 16)(value) == expected
    _, subkey = context.subkey("pseudonymize")
    reference = ps.pseudonym(value, entity, subkey, "u_", 16)
    assert build("pseudonymize", {}, context).apply_many([value, value], entity) == [reference, reference]


@settings(max_examples=300, deadline=None)
@given(value=texts, entity=st.sampled_from(ENTITIES), prefix=st.sampled_from(["u_", "p%"]),
       length=st.integers(8, 64))
def test_fast_path_equals_the_reference(value: str, entity: str, prefix: str, length: int) -> None:
    fast = column_pseudonymizer(KEY, entity, prefix, length)
    assert _outcome(fast, value) == _outcome(lambda v: ps.pseudonym(v, entity, KEY, prefix, length), value)


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.integers(-10**6, 10**6), digit_text), max_size=30),
       entity=st.sampled_from(ENTITIES))
def test_apply_many_equals_apply_with_a_small_memo(values: list[Any], entity: str) -> None:
    from tests.anonymize.conftest import keyset_of

    operator = build("pseudonymize", {}, OperatorContext(keyset_of(KEY)))
    saved, operators.MEMO_SIZE = operators.MEMO_SIZE, 3  # the memo fills and empties many times
    try:
        expected = [None if v is None else _outcome(lambda x: operator.apply(x, entity), v) for v in values]
        many = [None if v is None else _outcome(lambda x: operator.apply_many([x], entity)[0], v) for v in values]
        assert many == expected
        if not any(e is not None and e.startswith("raises") for e in expected):
            assert [None if v is None else str(v) for v in operator.apply_many(values + values, entity)] == (
                expected + expected)
    finally:
        operators.MEMO_SIZE = saved


def test_memo_gives_way_where_values_do_not_repeat(context: OperatorContext) -> None:
    operator = build("pseudonymize", {}, context)
    assert isinstance(operator, operators.Pseudonymize)
    distinct = [f"user{i}@example.com" for i in range(operators.MEMO_PROBE + 500)]
    repeated = [f"Name {i % 10}" for i in range(operators.MEMO_PROBE + 500)]
    expected = [operator.apply(v, "EMAIL_ADDRESS") for v in distinct]
    for _ in range(2):  # before and after the memo is given up
        assert operator.apply_many(distinct, "EMAIL_ADDRESS") == expected
        assert operator.apply_many([None, 7, *distinct[:3]], "EMAIL_ADDRESS") == [
            None, operator.apply(7, "EMAIL_ADDRESS"), *expected[:3]]
    assert operator.apply_many(repeated, "PERSON") == [operator.apply(v, "PERSON") for v in repeated]
    assert operator._memo["EMAIL_ADDRESS"] is operators._NO_MEMO
    assert len(operator._memo["PERSON"]) == 10


def test_mac_is_keyed_hmac_and_differs_across_keys() -> None:
    import hmac

    assert ps.Mac(KEY)(b"x") == hmac.digest(KEY, b"x", "sha256")
    assert ps.Mac(b"o" * 32)(b"x") != ps.Mac(KEY)(b"x")
    long_key = b"L" * 100  # longer than a block: hashed first, as HMAC says
    assert ps.Mac(long_key)(b"x") == hmac.digest(long_key, b"x", "sha256")


def _rows(count: int) -> list[list[str]]:
    return [[str(i), f"user{i}@example.com", f"+1 415-555-{i % 10000:04d}", f"Name {i % 7}",
             f"DE89 3704 0044 0532 {i:04d} 00"] for i in range(count)]


def _plans() -> dict[str, FieldPlan]:
    return {c: FieldPlan("t", c, op, {}, e, "test") for c, op, e in (
        ("email", "pseudonymize", "EMAIL_ADDRESS"), ("phone", "pseudonymize", "PHONE_NUMBER"),
        ("name", "mask", "PERSON"), ("iban", "hash", "IBAN_CODE"))}


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_workers_write_the_same_file_as_one_process(tmp_path: Path, context: OperatorContext, fmt: str) -> None:
    source = tmp_path / "in.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "email", "phone", "name", "iban"])
        writer.writerows(_rows(2_345))
    columns, _ = read_batches(source)
    outputs = []
    for jobs in (1, 2):
        result = ExportResult(Plan("t"))
        target = tmp_path / f"out{jobs}.{fmt}"
        export_rows(columns, lambda: read_batches(source, 100)[1], _plans(), target, context, result, where="t",
                    jobs=jobs)
        assert result.rows == 2_345
        assert not result.problems, result.problems
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
    assert b"user17@example.com" not in outputs[1]


def test_workers_keep_order_counts_and_a_bounded_number_of_batches(context: OperatorContext) -> None:
    columns = ["id", "email", "phone", "name", "iban"]
    batches = [[tuple(r) for r in _rows(1_000)[i:i + 50]] for i in range(0, 1_000, 50)]
    batches[3] = [(*row[:3], "", row[4]) for row in batches[3]]  # empty values are not "left unchanged"
    pulled = 0

    def source() -> Iterator[Batch]:
        nonlocal pulled
        for batch in batches:
            pulled += 1
            yield batch

    one = Transformer(columns, _plans(), context)
    expected = [one(b) for b in batches]
    two = Transformer(columns, _plans(), context)
    got: list[Batch] = []
    for batch in two.map(source(), jobs=2):
        assert pulled - len(got) <= 2 * 2 + 1  # never more than 2 * jobs batches ahead of the writer
        got.append(batch)
    assert got == expected
    assert two.unchanged == one.unchanged == {}
    assert {name: len(seen) for name, seen in two.seen.items()} == {n: len(s) for n, s in one.seen.items()}


def test_unchanged_values_are_counted_in_workers(context: OperatorContext) -> None:
    columns = ["id", "code"]
    # A phone pseudonym replaces digits and keeps the rest: a value without digits comes back
    # unchanged, which a keyed operator must report (mask would not: see IDEMPOTENT).
    plans = {"code": FieldPlan("t", "code", "pseudonymize", {}, "PHONE_NUMBER", "test")}
    batches = [[(str(i), "--.--") for i in range(j, j + 10)] for j in range(0, 100, 10)]
    transform = Transformer(columns, plans, context)
    assert list(transform.map(iter(batches), jobs=2)) == batches
    assert transform.unchanged == {"code": 100}


def test_cli_jobs_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import base64

    from click.testing import CliRunner

    from govkit.cli import main

    monkeypatch.setenv("GOVKIT_KEY", base64.b64encode(KEY).decode())
    source = tmp_path / "people.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "email", "phone", "name", "iban"])
        writer.writerows(_rows(6_001))  # more than one batch of the command's 5,000 rows
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.csv"
        result = CliRunner().invoke(main, ["anonymize", str(source), "--to", str(out), "--rule", "email=pseudonymize",
                                           "--rule", "phone=pseudonymize", "--jobs", jobs])
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"@example.invalid") == 6_001
    result = CliRunner().invoke(main, ["anonymize", str(source), "--to", str(tmp_path / "x.csv"), "--jobs", "0"])
    assert result.exit_code == 2
    assert "--jobs" in result.output


def test_database_table_in_workers(chinook_sqlite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A table streamed from the database in batches of 300 (the connection stays open in the parent)."""
    import base64

    from govkit.actions.anonymize.run import AnonymizeRequest, anonymize

    monkeypatch.setenv("GOVKIT_KEY", base64.b64encode(KEY).decode())
    outputs = []
    for jobs in (1, 2):
        out = tmp_path / f"track{jobs}.csv"
        result = anonymize(AnonymizeRequest(f"sqlite:///{chinook_sqlite}", to=str(out), table=["Track"],
                                            rules=["*.Composer=pseudonymize", "*.Name=hash"], batch_size=300,
                                            jobs=jobs))
        assert result.rows == 3_503
        assert result.verified
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert b"Angus Young" not in outputs[0]
    assert b"For Those About To Rock" not in outputs[0]
    assert b",0.99" in outputs[0]  # prices are kept as they were


def test_values_marshal_cannot_carry_travel_pickled(context: OperatorContext) -> None:
    import datetime
    from decimal import Decimal

    from govkit.actions.anonymize.export import _pack, _unpack

    rows = [(str(i), f"user{i}@example.com", Decimal("1.10"), datetime.date(2020, 1, 1 + i % 28)) for i in range(60)]
    assert isinstance(_pack(rows[:1]), list)  # left to pickle
    assert isinstance(_pack([(1, "a", None, 2.5, True)]), bytes)
    assert _unpack(_pack([(1, "a", None, 2.5, True)])) == [(1, "a", None, 2.5, True)]
    plans = {"email": FieldPlan("t", "email", "pseudonymize", {}, "EMAIL_ADDRESS", "test")}
    batches = [rows[i:i + 10] for i in range(0, 60, 10)]
    expected = [Transformer(["id", "email", "price", "day"], plans, context)(b) for b in batches]
    got = list(Transformer(["id", "email", "price", "day"], plans, context).map(iter(batches), jobs=2))
    assert got == expected
    assert got[0][0][2] == Decimal("1.10")
    assert got[0][0][1] != rows[0][1]


@pytest.mark.parametrize(("size", "shapes"), [(0, [1, 1, 1]), (2, [2, 1]), (5_000, [3])])
def test_csv_batches_have_the_asked_size(tmp_path: Path, size: int, shapes: list[int]) -> None:
    path = tmp_path / "a.csv"
    path.write_text('a,b\n1,"x,y"\n3,4\n5,\n', encoding="utf-8")
    columns, batches = read_batches(path, size)
    got = list(batches)
    assert columns == ["a", "b"]
    assert [len(b) for b in got] == shapes
    assert [row for b in got for row in b] == [("1", "x,y"), ("3", "4"), ("5", "")]


@pytest.mark.parametrize("value", ["DE89-3704-0044-0532-0130-00", "DE89.3704.0044.0532.0130.00",
                                   "DÉ89 3704 0044 0532 0130 00", "DE89 3704 ００44 0532 0130 00"])
def test_iban_pseudonyms_of_unusual_spellings_do_not_crash(value: str) -> None:
    """Dashes used to reach int(c, 36) and raise, quoting a character of the value."""
    from govkit.actions.anonymize.pseudonyms import iban_valid, pseudonym

    out = pseudonym(value, "IBAN_CODE", b"k" * 32, "p_", 8)
    assert out != value
    assert len(out) == len(value)
    if value.isascii():
        assert iban_valid(out)


@pytest.mark.parametrize("jobs", [1, 2])
def test_masking_values_already_masked_verifies_clean(tmp_path: Path, jobs: int) -> None:
    """An export after an erasure: masking a masked value gives it back, which is not a leak."""
    import os

    from govkit.keys import Keyset, KeyVersion, key_id_of

    material = os.urandom(32)
    context = OperatorContext(Keyset((KeyVersion(key_id_of(material), "", material, "primary"),), "test"))
    transform = Transformer(["phone"], {"phone": FieldPlan("t", "phone", "mask", {}, "PHONE_NUMBER", "test")}, context)
    masked = transform([("+1 415-555-0100",)])[0][0]
    batches = [[(masked,), ("+1 415-555-0199",)] for _ in range(3)]
    out = list(transform.map(iter(batches), jobs=jobs))
    assert out[0][0] == (masked,)
    assert transform.verify(["phone"], iter(out), "t") == []
    assert transform.unchanged == {}


def test_an_input_copied_to_the_output_is_still_a_leak(tmp_path: Path) -> None:
    import os

    from govkit.keys import Keyset, KeyVersion, key_id_of

    material = os.urandom(32)
    context = OperatorContext(Keyset((KeyVersion(key_id_of(material), "", material, "primary"),), "test"))
    transform = Transformer(["phone"], {"phone": FieldPlan("t", "phone", "mask", {}, "PHONE_NUMBER", "test")}, context)
    transform([("+1 415-555-0100",), ("+1 415-555-0199",)])
    problems = transform.verify(["phone"], iter([[("+1 415-555-0199",)]]), "t")
    assert any("identical to an input value" in p for p in problems)
