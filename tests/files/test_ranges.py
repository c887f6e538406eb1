"""Byte ranges of a text file decode to exactly the text of the whole file (property)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govkit.sources.formats.base import FileInput, Problems, text_blocks
from govkit.sources.formats.ranges import line_ranges, range_blocks

#: Line ends of every kind, multi-byte characters, and bytes that are not valid text.
_PIECES = st.one_of(
    st.sampled_from(["\n", "\r\n", "\r", "a", " ", "é", "中", "€", "😀", "\ufeff"]).map(lambda s: ("text", s)),
    st.sampled_from([b"\xff", b"\x81", b"\xe4\xb8", b"\x81\x30", b"\x80", b"\xc3"]).map(lambda b: ("bytes", b)),
)


def _encode(pieces: list[tuple[str, object]], encoding: str) -> bytes:
    out = b""
    for kind, piece in pieces:
        out += piece.encode(encoding) if kind == "text" else piece  # type: ignore[union-attr,operator]
    return out


# derandomize: the same examples on every run, so CI's verdict does not depend on the draw; a
# case a random draw found is kept below as a strict xfail until the range reader handles it.
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(
    pieces=st.lists(_PIECES, max_size=120),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "cp1252"]),
    part_bytes=st.integers(1, 40),
)
def test_ranges_read_the_same_text_lines_and_bad_bytes_as_one_pass(
    pieces: list[tuple[str, object]], encoding: str, part_bytes: int
) -> None:
    if encoding == "cp1252":
        pieces = [(k, p) for k, p in pieces if k == "bytes" or p in ("\n", "\r\n", "\r", "a", " ", "é", "€")]
    data = _encode(pieces, encoding)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.log"
        path.write_bytes(data)
        source = FileInput(path=path, name="a.log", compressed=False, head=data[:64], encoding=encoding)
        whole_problems = Problems()
        with source.open_text() as stream:
            whole = [b.text for b in text_blocks(stream, whole_problems)]
        split_problems = Problems()
        split: list[str] = []
        for start, end in line_ranges(path, len(data), part_bytes):
            split.extend(b.text for b in range_blocks(source, start, end, split_problems))
    assert "\n".join(split) == "\n".join(whole)
    assert split_problems.invalid_bytes == whole_problems.invalid_bytes


@pytest.mark.xfail(strict=True, reason="known: a GB18030 four-byte sequence cut after two bytes (b'\\x81\\x30') "
                   "before a line end decodes differently when a range starts inside it (found by a random draw)")
def test_a_cut_gb18030_sequence_split_at_one_byte_reads_as_one_pass() -> None:
    test_ranges_read_the_same_text_lines_and_bad_bytes_as_one_pass.hypothesis.inner_test(  # type: ignore[attr-defined]
        [("bytes", b"\x810"), ("text", "\n"), ("text", "\n")], "gb18030", 1)
