"""Is it text, and in which encoding? Decided once per file from its first 64 KB.

Customer exports come as UTF-8, UTF-8 with a BOM (Excel's "CSV UTF-8"), GBK/GB18030 (Excel
on a Chinese Windows) and Latin-1/Windows-1252 (older European systems). The order of tests
follows how much each is worth:

1. a BOM is proof;
2. bytes that decode as UTF-8 are UTF-8 (other encodings almost never produce valid
   multi-byte UTF-8 by accident), and so is text that is mostly valid UTF-8 with a few
   broken sequences, which are then replaced and counted;
3. GB18030 is accepted only when the decoded text looks Chinese: two-byte GBK characters of
   real Chinese text sit in the GB2312 block (both bytes >= 0xA1) and decode to ideographs.
   Latin-1 text such as ``Müller`` (``FC 6C``) is also valid GBK byte-wise, but its second
   bytes are ASCII letters, so this check tells them apart where a strict decode cannot;
4. otherwise Windows-1252, or Latin-1 for the few bytes 1252 leaves undefined.

charset-normalizer is used as a tie-breaker only for non-UTF-8 heads that are neither
clearly Chinese nor clearly Western, such as Big5 or Shift-JIS exports.
"""

from __future__ import annotations

import codecs
import re

#: Byte-order marks, longest first (UTF-32 LE starts with the UTF-16 LE mark).
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

#: Signatures of common binary formats that have no NUL byte in their first bytes.
_MAGIC: tuple[bytes, ...] = (
    b"\x89PNG", b"GIF87a", b"GIF89a", b"\xff\xd8\xff", b"%PDF-", b"PK\x03\x04", b"\x7fELF",
    b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf", b"Rar!", b"\x28\xb5\x2f\xfd", b"SQLite format 3",
    b"OggS", b"RIFF", b"\x00\x00\x01\x00",
)  # fmt: skip

_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r\f\b\x1b")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def looks_binary(head: bytes) -> bool:
    """True for content that is not text: a known signature, NUL bytes, or many controls."""
    if not head:
        return False
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return False
    if head.startswith(_MAGIC):
        return True
    if b"\x00" in head:
        return True
    sample = head[:8192]
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    return controls / len(sample) > 0.05


def detect_encoding(head: bytes) -> str:
    """The Python codec name to decode a file starting with ``head``."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if head.isascii() or _is_utf8(head) or _mostly_utf8(head):
        return "utf-8"
    if _looks_chinese(head):
        return "gb18030"
    if _western(head):
        try:
            head.decode("cp1252")
        except UnicodeDecodeError:
            return "latin-1"
        return "cp1252"
    return _normalizer_guess(head)


def _is_utf8(head: bytes) -> bool:
    """Valid UTF-8, allowing a multi-byte character cut off by the end of the head."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _mostly_utf8(head: bytes) -> bool:
    """UTF-8 with a few broken sequences (a log with one corrupt line): still UTF-8.

    The broken bytes become U+FFFD and are counted as invalid; guessing a single-byte
    encoding instead would garble every correct character of the file.
    """
    text = head.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    valid = sum(1 for ch in text if ord(ch) > 127) - invalid
    return valid > 0 and valid >= 4 * invalid


def _looks_chinese(head: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("gb18030")("strict")
    try:
        text = decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return False
    wide = [ch for ch in text if ord(ch) > 127]
    if not wide:
        return False
    cjk = sum(1 for ch in wide if _CJK.match(ch))
    return cjk / len(wide) >= 0.9 and _gb2312_share(head) >= 0.6


def _gb2312_share(head: bytes) -> float:
    """Share of two-byte sequences whose trail byte is in the GB2312 range (>= 0xA1)."""
    pairs = gb2312 = 0
    index = 0
    while index < len(head) - 1:
        byte = head[index]
        if byte < 0x81:
            index += 1
            continue
        pairs += 1
        if head[index + 1] >= 0xA1:
            gb2312 += 1
        index += 2
    return gb2312 / pairs if pairs else 0.0


def _western(head: bytes) -> bool:
    """High bytes that stand alone between ASCII, as accented letters in Latin-1 text do."""
    high = [i for i, b in enumerate(head) if b >= 0x80]
    if not high:
        return False
    isolated = sum(
        1 for i in high if (i == 0 or head[i - 1] < 0x80) and (i + 1 >= len(head) or head[i + 1] < 0x80)
    )
    return isolated / len(high) >= 0.5


def _normalizer_guess(head: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None or not best.encoding:
        return "latin-1"
    return str(best.encoding)
