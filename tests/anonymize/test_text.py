"""Free text: spans rewritten through presidio-anonymizer with govkit's operators."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from govkit.actions.anonymize.export import VerificationFailed
from govkit.actions.anonymize.run import AnonymizeRequest, anonymize

TEXT = (
    "Ticket 1: contact jane.doe@example.com or call +1 415-555-0134.\n"
    "Ticket 2: refund card 4111 1111 1111 1111 for jane.doe@example.com\r\n"
    "Nothing personal on this line.\n"
)


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", base64.b64encode(b"t" * 32).decode())


def test_text_file_spans_are_rewritten(tmp_path: Path) -> None:
    source = tmp_path / "tickets.txt"
    source.write_bytes(TEXT.encode())
    out = tmp_path / "out.txt"
    result = anonymize(AnonymizeRequest(str(source), to=str(out), rules=["EMAIL_ADDRESS=pseudonymize"]))
    text = out.read_bytes().decode()
    assert "jane.doe@example.com" not in text
    assert "4111 1111 1111 1111" not in text
    assert "<CREDIT_CARD>" in text  # no rule: the placeholder
    pseudonyms = [w for w in text.split() if w.endswith("@example.invalid")]
    assert len(pseudonyms) == 2
    assert len(set(pseudonyms)) == 1  # the same person, the same pseudonym, on both lines
    assert text.count("\r\n") == 1  # line endings kept
    assert text.endswith("Nothing personal on this line.\n")
    assert result.verified


def test_text_verification_catches_a_weak_operator(tmp_path: Path) -> None:
    source = tmp_path / "tickets.txt"
    source.write_text(TEXT, encoding="utf-8")
    with pytest.raises(VerificationFailed, match="EMAIL_ADDRESS"):
        anonymize(AnonymizeRequest(str(source), to=str(tmp_path / "o.txt"), rules=["EMAIL_ADDRESS=keep"]))
    assert (tmp_path / "o.txt.INCOMPLETE").exists()
