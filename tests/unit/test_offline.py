"""Detection never touches the network (air-gapped data rooms are a normal place for govkit)."""

from __future__ import annotations

import socket

import pytest

from govkit.detect.engine import DetectionEngine


def test_email_detection_opens_no_socket(
    engine: DetectionEngine, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    spans = engine.find_patterns(["write to someone@example.co.uk today", "ops@example.museum"])
    assert [s.entity_type for s in spans[0]].count("EMAIL_ADDRESS") == 1
    assert "EMAIL_ADDRESS" in {s.entity_type for s in spans[1]}
    assert attempts == []
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err


def test_presidio_analyzer_is_offline_too(engine: DetectionEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: socket.socket, address: object) -> None:
        raise AssertionError(f"network access attempted: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    results = engine.analyzer.analyze("Mail jane.doe@example.org or call +1 (415) 555-0132.", language="en")
    assert {"EMAIL_ADDRESS", "PHONE_NUMBER"} <= {r.entity_type for r in results}


def test_missing_model_falls_back_to_patterns(caplog: pytest.LogCaptureFixture) -> None:
    fallback = DetectionEngine(model="no_such_spacy_model_xyz")
    assert not fallback.has_ner
    assert "PERSON/LOCATION detection is off" in caplog.text
    assert fallback.find_patterns(["a@example.com"])[0][0].entity_type == "EMAIL_ADDRESS"
    assert fallback.find_named_entities(["John Smith"]) == [[]]
