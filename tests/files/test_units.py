"""Units under the file scan: reservoir sampling, encoding detection, candidates, span parity."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from govkit.detect.engine import DetectionEngine
from govkit.sources.formats import READERS
from govkit.sources.formats._candidates import find_candidates
from govkit.sources.formats._encoding import detect_encoding, looks_binary
from govkit.sources.formats.base import TextBlock
from govkit.sources.formats.sampling import Reservoir
from govkit.sources.formats.spans import SpanScanner


def test_reservoir_is_uniform_and_seeded() -> None:
    counts: Counter[int] = Counter()
    for trial in range(1000):
        reservoir: Reservoir[int] = Reservoir(10, random.Random(trial))
        for batch in range(10):
            for index, slot in reservoir.select(100):
                reservoir.place(batch * 100 + index, slot)
        assert len(set(reservoir.items)) == 10
        counts.update(item // 100 for item in reservoir.items)
    assert all(850 <= counts[decile] <= 1150 for decile in range(10)), counts
    first: Reservoir[int] = Reservoir(5, random.Random("x"))
    second: Reservoir[int] = Reservoir(5, random.Random("x"))
    for item in range(1000):
        first.offer(item)
    for start in range(0, 1000, 7):
        for index, slot in second.select(min(7, 1000 - start)):
            second.place(start + index, slot)
    assert first.items == second.items


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("姓名,手机号\n张伟,13800138000\n".encode("gbk"), "gb18030"),
        ("Müller,Zoë,François,Ångström\n".encode("latin-1"), "cp1252"),
        ("Müller,Zoë\n".encode(), "utf-8"),
        ("\ufeffname\n".encode(), "utf-8-sig"),
        ("name\n".encode("utf-16"), "utf-16"),
    ],
)
def test_encoding_detection(raw: bytes, expected: str) -> None:
    assert detect_encoding(raw) == expected
    assert not looks_binary(raw)


def test_binary_detection() -> None:
    assert looks_binary(b"\x89PNG\r\n\x1a\n")
    assert looks_binary(b"abc\x00def")
    assert not looks_binary(b"2024-05-01 \x1b[31mERROR\x1b[0m boom\n")


def test_registry_is_keyed_by_format_name() -> None:
    assert set(READERS) == {"csv", "tsv", "json", "jsonl", "text", "xlsx", "parquet"}
    assert all(reader.name == name for name, reader in READERS.items())


def test_candidates_skip_time_stamps_but_not_what_follows() -> None:
    line = "2024-05-01 12:00:01,123 INFO order 4411 ok 2024-05-01 13800138000 ip 83.12.201.7"
    found = [(line[s:e], group) for s, e, group in find_candidates(line)]
    assert found == [("13800138000", "number"), ("83.12.201.7", "ip")]


def test_candidates_keep_glued_numbers_apart() -> None:
    assert find_candidates("ORD-2024-000123 and x13800138000") == []


def test_span_scanner_agrees_with_the_engine(engine: DetectionEngine) -> None:
    """On PII lines, every strong entity the engine finds line by line is found by the scanner."""
    lines = [
        "2024-05-01 12:00:01 INFO mail anna.schmidt@example.org",
        "2024-05-01 12:00:02 INFO sms +86 139 1234 5678 sent",
        "2024-05-01 12:00:03 INFO kyc 11010519491231002X ok",
        "2024-05-01 12:00:04 WARN card 4111 1111 1111 1111 declined",
        "2024-05-01 12:00:05 INFO from 83.12.201.7",
        "2024-05-01 12:00:06 INFO iban DE89 3704 0044 0532 0130 00",
        "2024-05-01 12:00:07 INFO call (415) 555-2671",
        "客户手机13800138000已验证",
    ]
    expected = {
        (index + 1, span.entity_type)
        for index, spans in enumerate(engine.find_patterns(lines))
        for span in spans
        if span.score >= 0.4 and span.entity_type not in ("URL", "DATE_TIME")
    }
    got: set[tuple[int, str]] = set()
    scanner = SpanScanner(engine, ner_lines=0, sink=lambda line, _column, name: got.add((line, name)))
    scanner.feed(TextBlock("\n".join(lines), 1))
    scanner.finish()
    assert expected, "the engine must find something here"
    assert expected <= got, expected - got
