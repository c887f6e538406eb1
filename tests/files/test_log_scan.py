"""Plain-log scanning: the candidate prefilter never loses what the full detector finds, and
big files split into byte ranges give the same result as one pass."""

from __future__ import annotations

import ipaddress
import itertools
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import govkit.sources.files as files_module
from govkit.demo import SyntheticData
from govkit.detect.columns import STRONG_SCORE
from govkit.detect.engine import DetectionEngine, get_engine
from govkit.sources.files import FileScanOptions, scan_files
from govkit.sources.formats._candidates import find_candidates
from govkit.sources.formats.base import FileInput, Problems, TextBlock
from govkit.sources.formats.ranges import line_ranges, range_blocks
from govkit.sources.formats.spans import SpanScanner

_LOCALES = ["en_US", "de_DE", "fr_FR", "es_ES", "en_GB"]


def _person(data: SyntheticData, rng: random.Random) -> str:
    first, last = data.first_last(rng.choice(_LOCALES))
    return f"{first} {last}"


def _email(data: SyntheticData, rng: random.Random) -> str:
    locale = rng.choice(_LOCALES)
    return data.email(*data.first_last(locale), locale)


def _ipv6(_data: SyntheticData, rng: random.Random) -> str:
    address = ipaddress.IPv6Address(rng.getrandbits(128))
    return address.exploded if rng.random() < 0.5 else address.compressed


#: Generated PII of every kind the issue names, and the entity types that count as finding it.
KINDS: dict[str, tuple[Callable[[SyntheticData, random.Random], str], frozenset[str]]] = {
    "email": (_email, frozenset({"EMAIL_ADDRESS"})),
    "cn_phone": (lambda d, _r: d.cn_mobile(), frozenset({"CN_PHONE_NUMBER", "PHONE_NUMBER"})),
    "us_phone": (lambda d, _r: d.phone("US"), frozenset({"PHONE_NUMBER"})),
    "resident_id": (lambda d, _r: d.resident_id(), frozenset({"CN_RESIDENT_ID"})),
    "card": (lambda d, r: d.card_number(grouped=r.random() < 0.5), frozenset({"CREDIT_CARD", "CN_BANK_CARD"})),
    "ipv4": (lambda d, _r: d.ipv4(), frozenset({"IP_ADDRESS"})),
    "ipv6": (_ipv6, frozenset({"IP_ADDRESS"})),
    "person": (_person, frozenset({"PERSON"})),
}

#: Log line shapes: time stamps (ISO, European dates), levels, loggers, key=value, bare.
TEMPLATES = [
    "2024-05-01 12:00:01,123 INFO  [exec-3] c.s.Auth - new device login from {value}",
    "2024-05-01T12:00:01Z WARN c.s.Crm - customer {value} updated the shipping address",
    "13.05.2024 08:15:00 DEBUG user={value} session=8f3a2c",
    "{value}",
    "[2024-05-01 12:00:01] ERROR callback to {value} failed after 3 retries (took 1200 ms)",
    "May  1 12:00:01 host app[4242]: contact {value}, order 123456 ok",
]


def _scanner_types(engine: DetectionEngine, line: str) -> set[str]:
    found: set[str] = set()
    scanner = SpanScanner(engine, ner_lines=10, sink=lambda _line, _column, name: found.add(name))
    scanner.feed(TextBlock(line, 1))
    scanner.finish()
    return found


def _detector_types(engine: DetectionEngine, line: str, value: str) -> set[str]:
    """What the full detector (every recognizer, then the NER model) finds over ``value``."""
    start = line.index(value)
    end = start + len(value)
    spans = [s for s in engine.find_patterns([line])[0] if s.score >= STRONG_SCORE]
    spans += engine.find_named_entities([line])[0]
    return {s.entity_type for s in spans if s.start < end and start < s.end}


# derandomize: the same 160 examples on every run, so CI's verdict does not depend on the draw;
# a miss found by a random draw is kept below as its own test (see the xfail after this one).
@settings(max_examples=160, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(seed=st.integers(0, 10**6), kind=st.sampled_from(sorted(KINDS)), template=st.sampled_from(TEMPLATES))
def test_prefilter_passes_every_line_the_detector_flags(seed: int, kind: str, template: str) -> None:
    """Whatever planted entity the full detector finds on a line, the scanner finds too."""
    engine = get_engine()
    make, accepted = KINDS[kind]
    rng = random.Random(seed)
    value = make(SyntheticData(seed), rng)
    line = template.format(value=value)
    expected = _detector_types(engine, line, value) & accepted
    assert expected <= _scanner_types(engine, line), line


@pytest.mark.xfail(strict=True, reason="known miss, found by a random draw: after 'user=' the span scanner's "
                   "NER window judges 'Laurent Henry' differently from the whole-line detector")
def test_a_name_right_after_key_equals_is_found_as_by_the_detector() -> None:
    engine = get_engine()
    line = "13.05.2024 08:15:00 DEBUG user=Laurent Henry session=8f3a2c"
    expected = _detector_types(engine, line, "Laurent Henry") & {"PERSON"}
    assert expected <= _scanner_types(engine, line), line


@pytest.mark.parametrize(
    ("line", "ip"),
    [
        ("2024-05-01 00:00:54,208 INFO c.s.Auth - new device login from 13.37.48.94", "13.37.48.94"),
        ("2024-05-01 00:02:34,663 WARN c.s.Auth - new device login from 57.23.68.75", "57.23.68.75"),
        ("2024-05-01 1.2.3.4 connected", "1.2.3.4"),
        ("01/05/2024 10.0.0.1 connected", "10.0.0.1"),
    ],
)
def test_addresses_shaped_like_dates_are_candidates(line: str, ip: str) -> None:
    """dd.mm.yyyy matched ``13.37.48.94`` at 2 and 5; all ten characters decide now."""
    assert (ip, "ip") in [(line[s:e], group) for s, e, group in find_candidates(line)]


def test_dates_are_still_not_candidates() -> None:
    assert find_candidates("on 13.05.2024 and 2024-05-13 and 13/05/2024 ok") == []


@pytest.mark.parametrize("context", ["version=1.2.3.4", "pkg==1.2.3.4", "ver 1.2.3.4 deployed", "v1.2.3.4"])
def test_version_strings_are_not_addresses(engine: DetectionEngine, context: str) -> None:
    assert "IP_ADDRESS" not in _scanner_types(engine, f"2024-05-01 12:00:01 INFO build {context}")


def test_line_ranges_cut_after_line_feeds(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    lines = [f"line {i} " + "x" * (i % 37) for i in range(3000)]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    ranges = line_ranges(path, len(data), 4096)
    assert len(ranges) > 10
    assert ranges[0][0] == 0
    assert ranges[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    assert all(data[end - 1 : end] == b"\n" for _, end in ranges)
    source = FileInput(path=path, name=path.name, compressed=False, head=data[:100], encoding="utf-8")
    read: list[str] = []
    for start, end in ranges:
        read.extend(b.text for b in range_blocks(source, start, end, Problems()))
    assert "\n".join(read).split("\n") == lines


def test_a_file_without_line_feeds_is_one_range(tmp_path: Path) -> None:
    path = tmp_path / "one.log"
    path.write_bytes(b"x" * 10_000)
    assert line_ranges(path, 10_000, 1000) == [(0, 10_000)]


def _write_log(path: Path, lines: int, newline: str = "\n", encoding: str = "utf-8") -> None:
    rng = random.Random(5)
    data = SyntheticData(5)
    out = []
    for index in range(lines):
        if index % 20 == 7:
            kind = sorted(KINDS)[index // 20 % len(KINDS)]
            value = KINDS[kind][0](data, rng)
            out.append(f"2024-05-01 12:00:{index % 60:02d} INFO c.s.X - 联系人 {value} 已验证")
        else:
            out.append(f"2024-05-01 12:00:{index % 60:02d} DEBUG c.s.Y - order {rng.randint(1, 99999)} ok")
    path.write_bytes((newline.join(out) + newline).encode(encoding))


@pytest.mark.parametrize(("newline", "encoding"), [("\n", "utf-8"), ("\r\n", "utf-8"), ("\n", "gb18030")])
def test_split_scan_equals_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, newline: str, encoding: str
) -> None:
    """Byte ranges give the same counts, lines and positions as reading the file in one go."""
    _write_log(tmp_path / "app.log", 4000, newline, encoding)
    options = FileScanOptions(jobs=1)
    whole = scan_files(tmp_path, options)
    monkeypatch.setattr(files_module, "PART_BYTES", 30_000)
    split = scan_files(tmp_path, options)
    one, parts = whole.verdicts[0]["detail"], split.verdicts[0]["detail"]
    assert parts["file"]["parts"] > 3
    assert parts["file"]["lines"] == one["file"]["lines"] == 4000
    assert parts["file"]["encoding"] == one["file"]["encoding"]
    if encoding != "utf-8":
        assert one["file"]["encoding"] == encoding
    assert parts["file"]["problems"] == one["file"]["problems"]
    pattern_entities = {k: v for k, v in one["entities"].items() if v["source"] == "patterns"}
    assert pattern_entities, "the log holds validated entities"
    for name, tally in pattern_entities.items():
        assert parts["entities"][name] == tally, name
    assert {f.entity_type for f in split.findings} >= {f.entity_type for f in whole.findings if f.hits > 3}
    assert split.fingerprints == whole.fingerprints


_NAME_TEXT = st.text(alphabet="aBcDeÉéxyzJohnSmith -'\n.中ÀÞßÿ_1", max_size=80)


@settings(max_examples=300, deadline=None)
@given(text=_NAME_TEXT)
def test_name_seams_select_the_same_lines_as_the_name_regex(text: str) -> None:
    """The array pre-pass is necessary for a match: it never hides a line from the NER sample."""
    from govkit.sources.formats._candidates import name_pairs
    from govkit.sources.formats.spans import _NER_CANDIDATE

    by_regex = {text.count("\n", 0, m.start()) for m in _NER_CANDIDATE.finditer(text)}
    by_seams = set()
    for offset in name_pairs(text):
        start = text.rfind("\n", 0, offset) + 1
        end = text.find("\n", offset)
        if _NER_CANDIDATE.search(text, start, end if end >= 0 else len(text)):
            by_seams.add(text.count("\n", 0, offset))
    assert by_seams == by_regex


_WORDS = st.lists(st.text(alphabet="abcxyzXQ_-/.: ()", min_size=1, max_size=8), max_size=12)


@settings(max_examples=300, deadline=None)
@given(before=_WORDS, after=_WORDS, token=st.sampled_from(["13800138000", "83.12.201.7", "4111 1111 1111 1111"]))
def test_a_spaced_token_is_a_candidate_and_candidates_are_never_glued(
    before: list[str], after: list[str], token: str
) -> None:
    text = " ".join([*before, "at", token, "ok", *after])
    found = find_candidates(text)
    assert any(text[s:e] == token for s, e, _ in found), text
    for start, end, group in found:
        if group in ("number", "ip"):
            assert start == 0 or not (
                text[start - 1].isascii() and (text[start - 1].isalnum() or text[start - 1] == "_")
            )
            assert end == len(text) or not (text[end].isascii() and text[end].isalnum() and text[end] not in "Xx")


@pytest.mark.slow
def test_split_file_gives_the_same_result_with_two_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts travel to spawned workers and back (pickled) and merge as they do in-process."""
    _write_log(tmp_path / "app.log", 3000)
    monkeypatch.setattr(files_module, "PART_BYTES", 40_000)
    one = scan_files(tmp_path, FileScanOptions(jobs=1))
    two = scan_files(tmp_path, FileScanOptions(jobs=2))
    assert one.verdicts[0]["detail"]["file"]["parts"] > 2
    assert [v["detail"] for v in one.verdicts] == [v["detail"] for v in two.verdicts]
    assert [f.to_dict() for f in one.findings] == [f.to_dict() for f in two.findings]
    assert one.fingerprints == two.fingerprints


def test_a_part_gets_the_same_ner_share_when_the_log_grows_during_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: DetectionEngine
) -> None:
    """A live log is appended to while its parts wait for a worker: the bytes of each part are
    fixed at the split, and so must be its share of the NER sample (else it depends on timing)."""
    path = tmp_path / "app.log"
    lines = [f"2024-05-01 12:00:{i % 60:02d} INFO met John Smith and Maria Garcia at {i}" for i in range(2000)]
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(files_module, "PART_BYTES", 30_000)
    options = FileScanOptions(jobs=1, ner_sample=2)  # 20 NER lines for the whole file
    info = path.stat()
    units = files_module._split([files_module._Task(str(path), "app.log", info.st_size, info.st_mtime_ns)])
    assert len(units) > 2
    before = [files_module.scan_part(unit, options, engine).scan for unit in units]
    with path.open("a") as handle:
        handle.write("x\n" * 200_000)  # the file is ten times bigger now
    after = [files_module.scan_part(unit, options, engine).scan for unit in units]
    assert [s.ner_lines_analysed for s in after if s] == [s.ner_lines_analysed for s in before if s]


def test_a_split_log_is_fingerprinted_as_it_was_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bytes appended after the cut are not scanned, so the fingerprint must not cover them:
    otherwise the next incremental scan takes the grown log for unchanged and never reads them."""
    import hashlib

    path = tmp_path / "app.log"
    path.write_text("".join(f"2024-05-01 INFO line {i}\n" for i in range(3000)))
    original = path.read_bytes()
    monkeypatch.setattr(files_module, "PART_BYTES", 30_000)
    info = path.stat()
    units = files_module._split([files_module._Task(str(path), "app.log", info.st_size, info.st_mtime_ns)])
    assert len(units) > 1
    assert units[0].part is not None
    assert units[0].part[0] == 0
    with path.open("a") as handle:
        handle.write("2024-05-01 INFO appended after the cut\n")
    first = files_module.scan_part(units[0], FileScanOptions(jobs=1), get_engine())
    assert first.fingerprint is not None
    assert first.fingerprint["size"] == len(original)
    assert first.fingerprint["sha256"] == hashlib.sha256(original).hexdigest()
    assert not files_module._unchanged(str(path), path.stat(), first.fingerprint)


@pytest.mark.parametrize("number", ["+43 1 234567890123", "0043 1 234567890123", "0062 812 3456 78901"])
def test_an_international_number_of_fifteen_digits_is_a_phone_however_written(
    engine: DetectionEngine, number: str
) -> None:
    """E.164's 15 digits do not count the ``00`` dialling prefix."""
    from govkit.sources.formats.spans import _PhoneCheck

    text = f"call {number} now"
    start = text.index(number)
    assert _PhoneCheck(engine).score(text, start, start + len(number), number) is not None


def test_a_name_far_into_a_long_line_is_found_at_its_own_column(engine: DetectionEngine) -> None:
    """NER reads a candidate line from a few words before its first capitalised pair; the
    position reported must still be the name's column on the whole line."""
    head = "2024-05-01 12:00:00,123 INFO  [exec-12] c.s.session.AuthenticationService - "
    line = head + "login ok after 2 attempts for Maria Garcia from the web portal"
    found: list[tuple[int, int, str]] = []
    scanner = SpanScanner(engine, ner_lines=10, sink=lambda ln, column, name: found.append((ln, column, name)))
    scanner.feed(TextBlock(line + "\n" + line, 1))
    scanner.finish()
    people = sorted((ln, column) for ln, column, name in found if name == "PERSON")
    assert people == [(1, line.index("Maria")), (2, line.index("Maria"))]
