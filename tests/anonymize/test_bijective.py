"""Format-preserving pseudonyms are bijections: distinct in, distinct out, valid stays valid, reversible.

The issue: 250,000 distinct Chinese ID numbers gave 123 shared pseudonyms and 100,000 IPv4
addresses 304 (hashed digits), and a copy keyed on ID numbers failed with ``UNIQUE
constraint failed``. Now identifiers are FF3-1 encrypted in their own domain (fpe.py).

``test_distinct_inputs_give_distinct_valid_outputs`` runs 100,000 distinct inputs per format
in the normal suite; the same test with 1,000,000 per format is marked ``huge`` (``pytest -m huge``).
"""

from __future__ import annotations

import base64
import csv
import datetime
import ipaddress
import random
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govkit.actions.anonymize import fpe
from govkit.actions.anonymize import pseudonyms as ps
from govkit.actions.anonymize.operators import OperatorContext, build
from govkit.detect.recognizers.cn_resident_id import is_valid_resident_id
from tests.anonymize.conftest import keyset_of

KEY = b"b" * 32


# -- FF3-1: the batched engine is the ff3 package, value for value -------------------------------


@settings(max_examples=200, deadline=None)
@given(width=st.integers(1, fpe.FF3_MAX), data=st.data(), domain=st.text(max_size=8))
def test_fast_ff3_equals_the_ff3_package(width: int, data: st.DataObject, domain: str) -> None:
    xs = data.draw(st.lists(st.integers(0, 10**width - 1), min_size=1, max_size=5))
    fast, reference = fpe.Fast(KEY), fpe.Reference(KEY)
    tweak = reference.tweak(domain)
    expected = [reference.encrypt(x, width, tweak) for x in xs]
    assert fast.encrypt_many(xs, width, tweak) == expected
    assert all(0 <= y < 10**width for y in expected)
    assert [reference.decrypt(y, width, tweak) for y in expected] == xs


def test_reference_is_the_ff3_package_itself() -> None:
    """Not a re-implementation: the package's FF3-1 on the package's NIST sample (FF3-1 key, 56-bit tweak)."""
    from ff3 import FF3Cipher  # type: ignore[import-untyped]

    reference = fpe.Reference(KEY)
    tweak = reference.tweak("x")
    cipher = FF3Cipher(reference._keys.aes_key.hex(), tweak.hex())
    assert reference.encrypt(123456789, 9, tweak) == int(cipher.encrypt("123456789"))


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_small_widths_are_permutations(width: int) -> None:
    """Below FF3-1's million the Feistel network takes over; each width, whole domain."""
    engine = fpe.Fast(KEY)
    size = 10**width
    outputs = engine.walk_many(list(range(size)), width, "t", [lambda y, s=size: y < s] * size)
    assert sorted(outputs) == list(range(size))
    assert outputs != list(range(size))


# -- every format: reversible, fast == reference, validity kept ----------------------------------


def _valid_ric(draw: Callable[..., object]) -> str:
    area = draw(st.sampled_from(ps.CN_AREAS))
    born = draw(st.dates(datetime.date(1900, 1, 1), ps.BIRTH_TO))
    body = f"{area}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + ps.ric_check(body)


valid_ric = st.composite(lambda draw: _valid_ric(draw))()
valid_card = st.from_regex(r"\A[3-6]\d{11,18}\Z").map(lambda b: b + ps.luhn_check_digit(b))
ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
VALUES: dict[str, st.SearchStrategy[str]] = {
    "CN_RESIDENT_ID": st.one_of(valid_ric, st.from_regex(r"\A\d{17}[\dXx]\Z"), st.text(max_size=20)),
    "CREDIT_CARD": st.one_of(valid_card, st.from_regex(r"\A\d{4}( \d{4}){3}\Z"), st.text(max_size=20)),
    "PHONE_NUMBER": st.one_of(st.from_regex(r"\A(\+\d{1,3} )?\(?\d{2,4}\)?[ -]?\d{3,4}[ -]?\d{3,4}\Z"),
                              st.from_regex(r"\A1[3-9]\d{9}\Z"), st.text(max_size=20)),
    "US_SSN": st.one_of(st.from_regex(r"\A\d{3}-\d{2}-\d{4}\Z"), st.text(max_size=12)),
    "IP_ADDRESS": st.one_of(ipv4, ipv6, st.from_regex(r"\A\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\Z"),
                            st.text(max_size=20)),
    "IBAN_CODE": st.one_of(st.sampled_from(["DE89370400440532013000", "GB82 WEST 1234 5698 7654 32",
                                            "FR1420041010050500013M02606", "de89 3704 0044 0532 0130 00"]),
                           st.from_regex(r"\A[A-Za-z]{2}\d{2}[ 0-9A-Za-z-]{1,34}\Z"), st.text(max_size=20)),
    "MAC_ADDRESS": st.one_of(st.from_regex(r"\A([0-9a-f]{2}:){5}[0-9a-f]{2}\Z"),
                             st.from_regex(r"\A([0-9A-F]{2}-){5}[0-9A-F]{2}\Z")),
    "UK_NINO": st.from_regex(r"\A[A-Z]{2}\d{6}[A-D]\Z"),
    "US_PASSPORT": st.from_regex(r"\A[A-Z]?\d{8,9}\Z"),
}


@settings(max_examples=60, deadline=None)
@given(data=st.data(), entity=st.sampled_from(sorted(VALUES)))
def test_pseudonyms_reverse_and_the_batch_equals_the_reference(data: st.DataObject, entity: str) -> None:
    values = data.draw(st.lists(VALUES[entity], min_size=1, max_size=6))
    expected = [ps.pseudonym(v, entity, KEY, "u_", 16) for v in values]
    assert ps.pseudonyms_many(values, entity, KEY, "u_", 16) == expected
    for value, out in zip(values, expected, strict=True):
        if ps.job(value, entity) is None:  # too long for one FF3-1 block, or no format: a keyed token
            assert out.startswith("u_")
            continue
        if entity != "IP_ADDRESS":  # an address is written canonically, whatever its length
            assert len(out) == len(value)
        assert ps.reverse(out, entity, KEY) == value
    distinct = sorted(set(values))
    assert len({ps.pseudonym(v, entity, KEY, "u_", 16) for v in distinct}) == len(distinct)


@settings(max_examples=60, deadline=None)
@given(value=valid_ric)
def test_a_valid_resident_id_gives_a_valid_one(value: str) -> None:
    out = ps.pseudonym(value, "CN_RESIDENT_ID", KEY, "u_", 16)
    assert is_valid_resident_id(value)
    assert is_valid_resident_id(out)
    assert out != value


@settings(max_examples=60, deadline=None)
@given(value=st.from_regex(r"\A\d{17}[\dXx]\Z"))
def test_an_invalid_resident_id_gives_an_invalid_one(value: str) -> None:
    out = ps.pseudonym(value, "CN_RESIDENT_ID", KEY, "u_", 16)
    if value[6:14] <= ps.BIRTH_TO.strftime("%Y%m%d"):
        assert is_valid_resident_id(out) == is_valid_resident_id(value)
    assert out[-1].islower() == value[-1].islower()  # a lower-case x stays one: "X" and "x" never meet


@settings(max_examples=60, deadline=None)
@given(value=st.from_regex(r"\A(\d{1,3}\.){3}\d{1,3}\Z"))
def test_ipv4_spellings_stay_apart(value: str) -> None:
    """A canonical address maps to a canonical one; "010.1.1.1" to a spelling no address has."""
    out = ps.pseudonym(value, "IP_ADDRESS", KEY, "u_", 16)
    canonical = ps._canonical_ip(value)
    assert ps._canonical_ip(out) == canonical


def test_digits_of_other_scripts_keep_their_script() -> None:
    arabic = "+٤٤ ٢٠ ٧٩٤٦ ٠٩٥٨"
    out = ps.pseudonym(arabic, "PHONE_NUMBER", KEY, "u_", 16)
    assert out.startswith("+٤٤ ")
    assert out != arabic
    assert all(c.isdecimal() == a.isdecimal() for c, a in zip(out, arabic, strict=True))
    assert ps.pseudonym("+44 20 7946 0958", "PHONE_NUMBER", KEY, "u_", 16) != out
    assert ps.reverse(out, "PHONE_NUMBER", KEY) == arabic


def test_tokens_do_not_reverse_and_say_so() -> None:
    with pytest.raises(ps.NotReversible, match="keyed tokens"):
        ps.reverse("u_0d8b3da1ccc85d32@example.invalid", "EMAIL_ADDRESS", KEY)


def test_operator_reverses_integers_and_identifiers(context: OperatorContext) -> None:
    op = build("pseudonymize", {}, context)
    assert op.reverse(op.apply(987654, None), None) == 987654
    assert op.reverse(op.apply(-42, None), None) == -42
    out = op.apply("110105194912310021", "CN_RESIDENT_ID")
    assert op.reverse(out, "CN_RESIDENT_ID") == "110105194912310021"


# -- 100,000 (or, slow, 1,000,000) distinct inputs per format -------------------------------------


def _ric_inputs(n: int) -> list[str]:
    areas = ps.CN_AREAS
    start = datetime.date(1930, 1, 1).toordinal()
    out = []
    for i in range(n):
        area, rest = areas[i % len(areas)], i // len(areas)
        born = datetime.date.fromordinal(start + rest % 30_000)
        body = f"{area}{born:%Y%m%d}{rest // 30_000:03d}"
        out.append(body + ps.ric_check(body))
    return out


def _card_inputs(n: int, rng: random.Random) -> list[str]:
    bodies = rng.sample(range(10**14), n)
    return [f"4{b:014d}" + ps.luhn_check_digit(f"4{b:014d}") for b in bodies]


def _ssn(d: str) -> bool:
    return ps._ssn_rank(d.replace("-", "")) is not None


FORMATS: dict[str, tuple[Callable[[int, random.Random], list[str]], Callable[[str], bool]]] = {
    "CN_RESIDENT_ID": (lambda n, rng: _ric_inputs(n), is_valid_resident_id),
    "IP_ADDRESS": (lambda n, rng: [str(ipaddress.IPv4Address(a)) for a in rng.sample(range(2**32), n)],
                   lambda v: str(ipaddress.IPv4Address(v)) == v),
    "PHONE_NUMBER": (lambda n, rng: [f"+1 415-{a // 10000:03d}-{a % 10000:04d}" for a in rng.sample(range(10**7), n)],
                     lambda v: re.fullmatch(r"\+1 \d{3}-\d{3}-\d{4}", v) is not None),
    "CN_PHONE_NUMBER": (lambda n, rng: [f"1{3 + a // 10**9}{a % 10**9:09d}" for a in rng.sample(range(7 * 10**9), n)],
                        lambda v: re.fullmatch(r"1[3-9]\d{9}", v) is not None),
    "CREDIT_CARD": (_card_inputs, lambda v: v[0] == "4" and len(v) == 16 and ps.luhn_valid(v)),
    "US_SSN": (lambda n, rng: [f"{d[:3]}-{d[3:5]}-{d[5:]}" for d in (ps._ssn_digits(r) for r in rng.sample(
        range(ps._SSN_SIZE), n))], _ssn),
    "IBAN_CODE": (lambda n, rng: [_iban(b) for b in rng.sample(range(10**18), n)], ps.iban_valid),
}


def _iban(bban: int) -> str:
    rest = f"{bban:018d}"
    return f"DE{ps._iban_check('DE', rest):02d}{rest}"


def _distinct_valid(entity: str, n: int) -> None:
    make, valid = FORMATS[entity]
    values = make(n, random.Random(15))
    assert len(set(values)) == n
    assert all(valid(v) for v in values[:1000])
    op = build("pseudonymize", {}, OperatorContext(keyset_of(KEY)))
    out = op.apply_many(values, entity)
    assert len(set(out)) == n, f"{n - len(set(out))} collisions"
    invalid = [v for v in out if not valid(v)]
    assert not invalid, f"{len(invalid)} invalid outputs"
    unchanged = sum(1 for a, b in zip(values, out, strict=True) if a == b)
    assert unchanged <= 2  # a permutation's fixed points: about one per domain, not per value


@pytest.mark.parametrize("entity", sorted(FORMATS))
def test_distinct_inputs_give_distinct_valid_outputs(entity: str) -> None:
    _distinct_valid(entity, 100_000)


@pytest.mark.huge  # about a minute per format: `pytest -m huge` (not in make test)
@pytest.mark.parametrize("entity", sorted(FORMATS))
def test_a_million_distinct_inputs_give_a_million_distinct_valid_outputs(entity: str) -> None:
    _distinct_valid(entity, 1_000_000)


# -- keys: a primary key made of ID numbers survives; non-injective operators are refused --------


def _id_database(path: Path, rows: int) -> list[str]:
    ids = _ric_inputs(rows)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE person (resident_id TEXT PRIMARY KEY, note TEXT)")
        conn.execute("CREATE TABLE visit (id INTEGER PRIMARY KEY, resident_id TEXT REFERENCES person(resident_id))")
        conn.executemany("INSERT INTO person VALUES (?, ?)", [(i, "x") for i in ids])
        conn.executemany("INSERT INTO visit VALUES (?, ?)", [(n, ids[n % rows]) for n in range(rows * 2)])
    return ids


def test_a_copy_keyed_on_id_numbers_keeps_keys_and_joins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from govkit.actions.anonymize.run import AnonymizeRequest, anonymize

    monkeypatch.setenv("GOVKIT_KEY", base64.b64encode(KEY).decode())
    source, target = tmp_path / "in.db", tmp_path / "out.db"
    ids = _id_database(source, 20_000)
    result = anonymize(AnonymizeRequest(f"sqlite:///{source}", to=f"sqlite:///{target}",
                                        rules=["person.resident_id=pseudonymize"]))
    assert result.verified
    with sqlite3.connect(target) as conn:
        out = [r[0] for r in conn.execute("SELECT resident_id FROM person")]
        joined = conn.execute("SELECT COUNT(*) FROM visit JOIN person USING (resident_id)").fetchone()[0]
    assert len(set(out)) == 20_000
    assert not set(out) & set(ids)
    assert all(is_valid_resident_id(v) for v in out[:2000])
    assert joined == 40_000


@pytest.mark.parametrize(("rule", "why"), [
    ("person.resident_id=hash:length=16", "a digest cut to 16 characters can collide"),
    ("person.resident_id=generalize:to=prefix", "generalize is not injective"),
    ("person.resident_id=encrypt:mode=randomized", "randomized encryption"),
    ("person.note=mask", None),  # not a key: accepted
])
def test_the_plan_refuses_non_injective_operators_on_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          rule: str, why: str | None) -> None:
    from govkit.actions.anonymize.run import AnonymizeRequest, anonymize
    from govkit.errors import UsageError

    monkeypatch.setenv("GOVKIT_KEY", base64.b64encode(KEY).decode())
    source = tmp_path / "in.db"
    _id_database(source, 10)
    request = AnonymizeRequest(f"sqlite:///{source}", to=f"sqlite:///{tmp_path / 'out.db'}", rules=[rule],
                               dry_run=True)
    if why is None:
        anonymize(request)
        return
    with pytest.raises(UsageError) as info:
        anonymize(request)
    message = str(info.value)
    assert "\n" not in message
    assert "person.resident_id is a key or reference column" in message
    assert why in message


def test_pseudonyms_of_untyped_text_keys_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from govkit.actions.anonymize.run import AnonymizeRequest, anonymize
    from govkit.errors import UsageError

    monkeypatch.setenv("GOVKIT_KEY", base64.b64encode(KEY).decode())
    source = tmp_path / "in.db"
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE t (code TEXT PRIMARY KEY)")
    with pytest.raises(UsageError, match="truncated keyed digests, not a bijection"):
        anonymize(AnonymizeRequest(f"sqlite:///{source}", to=f"sqlite:///{tmp_path / 'o.db'}",
                                   rules=["t.code=pseudonymize"], dry_run=True))


def test_deanonymize_reverses_pseudonyms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from govkit.cli import main

    monkeypatch.setenv("GOVKIT_KEY", base64.b64encode(KEY).decode())
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "people.csv"
    rows = [("110105194912310021", "+1 415-555-0100", "a@example.com"),
            ("440305198807079216", "138 0013 8000", "b@example.com")]
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("resident_id", "phone", "email"), *rows])
    runner = CliRunner()
    out = runner.invoke(main, ["anonymize", str(source), "--to", "anon.csv", "--rule", "resident_id=pseudonymize",
                               "--rule", "phone=pseudonymize", "--rule", "email=pseudonymize"])
    assert out.exit_code == 0, out.output
    anon = (tmp_path / "anon.csv").read_text(encoding="utf-8")
    assert "110105194912310021" not in anon
    assert "138 0013 8000" not in anon
    back = runner.invoke(main, ["deanonymize", "anon.csv", "--to", "back.csv",
                                "--pseudonym", "resident_id=CN_RESIDENT_ID", "--pseudonym", "phone=PHONE_NUMBER"])
    assert back.exit_code == 0, back.output
    with (tmp_path / "back.csv").open(encoding="utf-8") as handle:
        got = [tuple(r) for r in csv.reader(handle)][1:]
    assert [(r[0], r[1]) for r in got] == [(r[0], r[1]) for r in rows]
    assert all(r[2].endswith("@example.invalid") for r in got)  # e-mail tokens are one-way
    refused = runner.invoke(main, ["deanonymize", "anon.csv", "--to", "x.csv", "--pseudonym", "email=EMAIL_ADDRESS"])
    assert refused.exit_code == 2
    assert "column email: EMAIL_ADDRESS pseudonyms are keyed tokens" in refused.output
    assert "Traceback" not in refused.output
    assert not (tmp_path / "x.csv").exists()
