"""Tables and properties for govkit's Chinese recognizers.

All numbers are synthetic: check characters are computed here with python-stdnum, so a
"valid" ID or code below is valid by construction, and an "invalid" one differs from a
valid one in exactly the way the case name says.
"""

from __future__ import annotations

import datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from presidio_analyzer import RecognizerResult
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer
from stdnum import luhn, numdb
from stdnum.cn import ric, uscc

from govkit.detect.recognizers.cn_bank_card import CnBankCardRecognizer
from govkit.detect.recognizers.cn_passport import CnPassportRecognizer
from govkit.detect.recognizers.cn_phone_number import CnPhoneNumberRecognizer
from govkit.detect.recognizers.cn_resident_id import (
    CnResidentIdRecognizer,
    is_valid_resident_id,
)
from govkit.detect.recognizers.cn_uscc import CnUsccRecognizer

TODAY = datetime.date.today()


# -- synthetic data builders ------------------------------------------------------------


def make_id(area: str, birth: str, seq: int) -> str:
    """18-character ID with a correct MOD 11-2 check character (date not checked)."""
    body = f"{area}{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def with_wrong_check(number: str) -> str:
    """Same number with a different (hence wrong) last character."""
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def make_uscc(body: str) -> str:
    """17 characters + the GB 32100 check character."""
    return body + uscc.calc_check_digit(body + "0")


def make_card(prefix: str, length: int, filler: str = "0123456789") -> str:
    """A Luhn-valid number of ``length`` digits starting with ``prefix``."""
    body = (prefix + filler * 3)[: length - 1]
    return body + luhn.calc_check_digit(body)


def group4(number: str, sep: str = " ") -> str:
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4))


def _county_codes() -> list[str]:
    """Every 6-digit area code in stdnum's table (county level, any period)."""
    codes: list[str] = []
    for length, low, _high, _props, children in numdb.get("cn/loc").prefixes:
        assert length == 2
        codes.extend(low + child[1] for child in children if child[0] == 4)
    return sorted(set(codes))


AREA_CODES = _county_codes()
VALID_ID = make_id("110101", "19900307", 123)
# An ID whose check character is X, and its lower-case spelling.
X_ID = next(n for seq in range(1000) if (n := make_id("440305", "19851231", seq)).endswith("X"))
LEGACY_ID = "110101900307123"  # 1990-03-07, no check digit


def spans(recognizer: object, text: str, entity: str) -> list[tuple[str, float]]:
    results: list[RecognizerResult] = recognizer.analyze(text, [entity])  # type: ignore[attr-defined]
    return [(text[r.start : r.end], r.score) for r in results if r.entity_type == entity]


# -- CN_RESIDENT_ID ---------------------------------------------------------------------

RESIDENT_ID = CnResidentIdRecognizer()


def test_area_table_is_usable() -> None:
    assert len(AREA_CODES) > 3000
    assert "110101" in AREA_CODES


@pytest.mark.parametrize(
    ("text", "expected", "min_score"),
    [
        pytest.param(VALID_ID, VALID_ID, 1.0, id="bare-18"),
        pytest.param(f"身份证号：{VALID_ID}。", VALID_ID, 1.0, id="chinese-no-spaces"),
        pytest.param(f"身份证号{VALID_ID}", VALID_ID, 1.0, id="glued-to-chinese"),
        pytest.param(f"ID {X_ID} ok", X_ID, 1.0, id="check-X"),
        pytest.param(f"ID {X_ID[:-1]}x ok", X_ID[:-1] + "x", 1.0, id="check-lowercase-x"),
        pytest.param(f"sfz {LEGACY_ID}", LEGACY_ID, 0.6, id="legacy-15-with-context"),
        pytest.param(f"公民身份号码 {LEGACY_ID}", LEGACY_ID, 0.6, id="legacy-15-chinese-ctx"),
    ],
)
def test_resident_id_found(text: str, expected: str, min_score: float) -> None:
    found = spans(RESIDENT_ID, text, "CN_RESIDENT_ID")
    assert [s for s, _ in found] == [expected]
    assert found[0][1] >= min_score


def test_legacy_id_without_context_is_weak() -> None:
    [(span, score)] = spans(RESIDENT_ID, f"ref {LEGACY_ID}", "CN_RESIDENT_ID")
    assert span == LEGACY_ID
    assert score == pytest.approx(0.3)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(with_wrong_check(VALID_ID), id="wrong-check-digit"),
        pytest.param(with_wrong_check(X_ID), id="X-replaced"),
        pytest.param(make_id("110101", "19900230", 123), id="feb-30"),
        pytest.param(make_id("110101", "19901301", 123), id="month-13"),
        pytest.param(make_id("110101", f"{TODAY.year + 1}0101", 123), id="future-birth"),
        pytest.param(make_id("119999", "19900307", 123), id="unknown-area"),
        pytest.param(make_id("990101", "19900307", 123), id="no-such-province"),
        pytest.param("9" + VALID_ID + "1", id="inside-longer-digit-run"),
        pytest.param("A" + VALID_ID, id="glued-to-letter"),
        pytest.param(VALID_ID[:-1], id="17-digits"),
        pytest.param("110101900230123", id="legacy-feb-30"),
        pytest.param("119999900307123", id="legacy-unknown-area"),
        pytest.param("1101019003071234", id="16-digits"),
    ],
)
def test_resident_id_rejected(text: str) -> None:
    assert spans(RESIDENT_ID, text, "CN_RESIDENT_ID") == []


def test_resident_id_check_agrees_with_stdnum_on_the_checksum() -> None:
    # stdnum's own validate() also checks the birth place by year; ours accepts any
    # period, so compare on a code that existed throughout.
    assert ric.is_valid(VALID_ID)
    assert is_valid_resident_id(VALID_ID)
    assert not is_valid_resident_id(with_wrong_check(VALID_ID))


@settings(max_examples=200, deadline=None)
@given(
    area=st.sampled_from(AREA_CODES),
    birth=st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY),
    seq=st.integers(min_value=0, max_value=999),
    prefix=st.sampled_from(["", "身份证号：", "ID card ", "sfz:", "x "]),
    suffix=st.sampled_from(["", "。", " end", "，性别男"]),
)
def test_property_generated_ids_are_found_with_full_span(
    area: str, birth: datetime.date, seq: int, prefix: str, suffix: str
) -> None:
    number = make_id(area, birth.strftime("%Y%m%d"), seq)
    results = RESIDENT_ID.analyze(prefix + number + suffix, ["CN_RESIDENT_ID"])
    assert [(r.start, r.end) for r in results] == [(len(prefix), len(prefix) + 18)]
    assert results[0].score == 1.0


@settings(max_examples=200, deadline=None)
@given(
    area=st.sampled_from(AREA_CODES),
    birth=st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY),
    seq=st.integers(min_value=0, max_value=999),
    position=st.integers(min_value=0, max_value=17),
    data=st.data(),
)
def test_property_one_changed_character_is_rejected(
    area: str, birth: datetime.date, seq: int, position: int, data: st.DataObject
) -> None:
    number = make_id(area, birth.strftime("%Y%m%d"), seq)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    mutated = number[:position] + replacement + number[position + 1 :]
    # MOD 11-2 detects every single substitution; guard that premise explicitly.
    assert mutated[-1] != ric.calc_check_digit(mutated)
    assert RESIDENT_ID.analyze(f"身份证 {mutated}", ["CN_RESIDENT_ID"]) == []


# -- CN_PHONE_NUMBER --------------------------------------------------------------------

PHONE = CnPhoneNumberRecognizer()


@pytest.mark.parametrize(
    "number",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "+86-138-0013-8000",
        "+8613800138000",
        "+86 13800138000",
        "008613800138000",
        "0086 138 0013 8000",
        "8613800138000",
        "86 138 0013 8000",
        "19912345678",
        "16612345678",
    ],
)
def test_cn_phone_found_with_exact_span(number: str) -> None:
    found = spans(PHONE, f"联系 {number} 谢谢", "CN_PHONE_NUMBER")
    assert [s for s, _ in found] == [number]
    assert found[0][1] == pytest.approx(0.5)


@pytest.mark.parametrize("text", ["手机：13912345678", "手机13912345678", "Mobile: +86 139 1234 5678"])
def test_cn_phone_context_raises_score(text: str) -> None:
    [(_, score)] = spans(PHONE, text, "CN_PHONE_NUMBER")
    assert score > 0.8


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("14012345678", id="unallocated-140-block"),
        pytest.param("12345678901", id="second-digit-2"),
        pytest.param("138 0013-8000", id="mixed-separators"),
        pytest.param("138001380001", id="12-digits"),
        pytest.param("1380013800", id="10-digits"),
        pytest.param("+13800138000", id="plus-without-86"),
        pytest.param("ORD13800138000", id="glued-to-letters"),
        pytest.param(VALID_ID, id="inside-18-digit-id"),
        pytest.param("6228481380013800012", id="inside-19-digit-card"),
        pytest.param("x913800138000", id="inside-longer-run"),
    ],
)
def test_cn_phone_rejected(text: str) -> None:
    assert spans(PHONE, text, "CN_PHONE_NUMBER") == []


# -- CN_USCC ----------------------------------------------------------------------------

USCC = CnUsccRecognizer()
USCC_LETTERS = make_uscc("91110108MA01ABCDE")
USCC_DIGITS = next(
    code for n in range(1000) if (code := make_uscc(f"91310115{n:09d}")).isdigit() and not is_valid_resident_id(code)
)
USCC_N = make_uscc("N2110108MA0000001")


@pytest.mark.parametrize(
    ("text", "expected", "min_score"),
    [
        pytest.param(USCC_LETTERS, USCC_LETTERS, 1.0, id="with-letters"),
        pytest.param(f"统一社会信用代码：{USCC_LETTERS}", USCC_LETTERS, 1.0, id="chinese"),
        pytest.param(USCC_N, USCC_N, 1.0, id="authority-N"),
        pytest.param(f"信用代码{USCC_DIGITS}", USCC_DIGITS, 0.7, id="all-digit-context"),
    ],
)
def test_uscc_found(text: str, expected: str, min_score: float) -> None:
    found = spans(USCC, text, "CN_USCC")
    assert [s for s, _ in found] == [expected]
    assert found[0][1] >= min_score


def test_all_digit_uscc_without_context_is_moderate() -> None:
    [(_, score)] = spans(USCC, f"ref {USCC_DIGITS}", "CN_USCC")
    assert score == pytest.approx(0.4)


def _id_passing_uscc_check() -> str:
    for seq in range(1000):
        for day in range(1, 29):
            number = make_id("110101", f"199003{day:02d}", seq)
            if number.isdigit() and uscc.calc_check_digit(number) == number[-1]:
                return number
    raise AssertionError("no ID passes the USCC check")  # pragma: no cover


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(with_wrong_check(USCC_LETTERS), id="wrong-check"),
        pytest.param(USCC_LETTERS.lower(), id="lower-case"),
        pytest.param(USCC_LETTERS[:12] + "I" + USCC_LETTERS[13:], id="letter-I-not-in-alphabet"),
        pytest.param(USCC_LETTERS[:12] + "S" + USCC_LETTERS[13:], id="letter-S-not-in-alphabet"),
        pytest.param(make_uscc("B1110108MA01ABCDE"), id="unknown-authority"),
        pytest.param(make_uscc("9111A108MA01ABCDE"), id="letter-in-region"),
        pytest.param(USCC_LETTERS[:-1], id="17-chars"),
        pytest.param("X" + USCC_LETTERS, id="glued"),
        pytest.param(_id_passing_uscc_check(), id="resident-id-passing-uscc-check"),
    ],
)
def test_uscc_rejected(text: str) -> None:
    assert spans(USCC, text, "CN_USCC") == []


# -- CN_BANK_CARD -----------------------------------------------------------------------

BANK_CARD = CnBankCardRecognizer()
CARD19 = make_card("622202", 19)
CARD18 = make_card("620406", 18)
CARD17 = make_card("621700", 17)
CARD16 = make_card("622588", 16)
ICBC = make_card("955880", 19)
ABC = make_card("95599", 19)


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(CARD19, id="62-19"),
        pytest.param(CARD18, id="62-18"),
        pytest.param(group4(CARD19), id="62-19-spaces"),
        pytest.param(group4(CARD19, "-"), id="62-19-dashes"),
        pytest.param(group4(CARD18), id="62-18-spaces"),
        pytest.param(ICBC, id="icbc-9558"),
        pytest.param(group4(ABC), id="abc-95599-spaces"),
    ],
)
def test_bank_card_found(number: str) -> None:
    found = spans(BANK_CARD, f"银行卡 {number} ", "CN_BANK_CARD")
    assert found == [(number, 1.0)]


@pytest.mark.parametrize("number", [CARD16, CARD17])
def test_short_unionpay_glued_to_chinese_is_ours(number: str) -> None:
    # "\b" fails between 号 and 6, so the built-in misses it and we report it.
    text = f"卡号{number}"
    assert CreditCardRecognizer().analyze(text, ["CREDIT_CARD"]) == []
    assert spans(BANK_CARD, text, "CN_BANK_CARD") == [(number, 1.0)]


@pytest.mark.parametrize("number", [CARD16, group4(CARD16)])
def test_card_the_builtin_reports_is_not_double_reported(number: str) -> None:
    text = f"card {number} ok"
    builtin = CreditCardRecognizer().analyze(text, ["CREDIT_CARD"])
    assert [text[r.start : r.end] for r in builtin] == [number]
    assert spans(BANK_CARD, text, "CN_BANK_CARD") == []
    not_deferring = CnBankCardRecognizer(defer_to_credit_card=False)
    assert spans(not_deferring, text, "CN_BANK_CARD") == [(number, 1.0)]


def _gansu_id_passing_luhn() -> str:
    for seq in range(1000):
        number = make_id("620102", "19880808", seq)
        if number.isdigit() and luhn.is_valid(number):
            return number
    raise AssertionError("no Gansu ID passes Luhn")  # pragma: no cover


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(with_wrong_check(CARD19), id="luhn-fails"),
        pytest.param(group4(with_wrong_check(CARD19)), id="luhn-fails-spaced"),
        pytest.param(make_card("62", 15), id="15-digits"),
        pytest.param(make_card("62", 20), id="20-digits"),
        pytest.param(make_card("955880", 16), id="icbc-wrong-length"),
        pytest.param(make_card("95590", 19), id="9559-not-abc-range"),
        pytest.param(make_card("4", 19), id="not-domestic-prefix"),
        pytest.param("1" + CARD19, id="inside-longer-run"),
        pytest.param("1234 " + group4(CARD16), id="inside-longer-grouped"),
        pytest.param(CARD19[:4] + " " + CARD19[4:8] + "-" + CARD19[8:], id="mixed-seps"),
        pytest.param(_gansu_id_passing_luhn(), id="gansu-resident-id"),
    ],
)
def test_bank_card_rejected(text: str) -> None:
    assert spans(BANK_CARD, f"银行卡 {text}", "CN_BANK_CARD") == []


@settings(max_examples=200, deadline=None)
@given(
    length=st.integers(min_value=16, max_value=19),
    digits=st.text(alphabet="0123456789", min_size=17, max_size=17),
    grouped=st.booleans(),
    label=st.sampled_from(["卡号", "卡号：", "card no. ", ""]),
)
def test_property_luhn_valid_unionpay_is_reported_exactly_once(
    length: int, digits: str, grouped: bool, label: str
) -> None:
    body = ("62" + digits)[: length - 1]
    number = body + luhn.calc_check_digit(body)
    assume(not is_valid_resident_id(number))
    shown = group4(number) if grouped else number
    text = f"{label}{shown} 谢谢"
    start = len(label)
    ours = [(r.start, r.end) for r in BANK_CARD.analyze(text, ["CN_BANK_CARD"])]
    builtin = [(r.start, r.end) for r in CreditCardRecognizer().analyze(text, ["CREDIT_CARD"])]
    full = (start, start + len(shown))
    # Found with the full span by exactly one of CN_BANK_CARD and CREDIT_CARD.
    assert (full in ours) != (full in builtin)
    if length >= 18:
        assert ours == [full]


# -- CN_PASSPORT ------------------------------------------------------------------------

PASSPORT = CnPassportRecognizer()


@pytest.mark.parametrize("number", ["E12345678", "EA1234567", "EH7654321", "G12345678"])
def test_passport_without_context_is_weak(number: str) -> None:
    [(span, score)] = spans(PASSPORT, f"ref {number}", "CN_PASSPORT")
    assert span == number
    assert score == pytest.approx(0.1)


@pytest.mark.parametrize(
    "text",
    [
        "护照号码：E12345678",
        "护照EA1234567",
        "Passport No. G12345678",
        "huzhao: E87654321",
    ],
)
def test_passport_context_raises_score_above_threshold(text: str) -> None:
    [(_, score)] = spans(PASSPORT, text, "CN_PASSPORT")
    assert score >= 0.4


def test_passport_context_on_previous_line_does_not_count() -> None:
    [(_, score)] = spans(PASSPORT, "护照\nE12345678", "CN_PASSPORT")
    assert score == pytest.approx(0.1)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("e12345678", id="lower-case"),
        pytest.param("EI1234567", id="letter-I"),
        pytest.param("EO1234567", id="letter-O"),
        pytest.param("E1234567", id="7-digits"),
        pytest.param("E123456789", id="9-digits"),
        pytest.param("P12345678", id="public-affairs-not-ordinary"),
        pytest.param("AE12345678", id="glued-letter-before"),
        pytest.param("E12345678X", id="glued-letter-after"),
    ],
)
def test_passport_rejected(text: str) -> None:
    assert spans(PASSPORT, f"护照 {text}", "CN_PASSPORT") == []
