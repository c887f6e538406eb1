"""URL: Presidio's patterns plus scheme-qualified links to intranet hosts (recognizers/url.py)."""

from __future__ import annotations

import pytest

from govkit.detect.columns import ColumnClassifier, ColumnSample
from govkit.detect.engine import DetectionEngine


def urls(engine: DetectionEngine, value: str) -> list[tuple[str, float]]:
    return [(value[s.start:s.end], s.score) for s in engine.find_patterns([value], None)[0] if s.entity_type == "URL"]


@pytest.mark.parametrize("value", [
    "http://accweb/emmployees/davolio.bmp",
    "https://intranet/",
    "HTTP://Wiki:8080/people/jane.smith",
])
def test_a_link_to_an_intranet_host_is_a_url(engine: DetectionEngine, value: str) -> None:
    assert urls(engine, value) == [(value, 0.5)]


def test_inside_text_the_link_ends_at_whitespace(engine: DetectionEngine) -> None:
    assert urls(engine, "photo at http://accweb/staff/fuller.bmp (old)") == [("http://accweb/staff/fuller.bmp", 0.5)]


@pytest.mark.parametrize("value", [
    "http://localhost:8080/health",  # the machine itself
    "http://accweb",  # no path: not unambiguous enough
    "accweb/employees/davolio",  # no scheme
    "ftp is at server/path",
])
def test_not_urls(engine: DetectionEngine, value: str) -> None:
    assert urls(engine, value) == []


def test_public_urls_keep_presidios_score(engine: DetectionEngine) -> None:
    assert urls(engine, "https://www.example.com/u/jane") == [("https://www.example.com/u/jane", 0.6)]


def test_a_photo_path_column_is_found(engine: DetectionEngine) -> None:
    values = [f"http://accweb/employees/{n}.bmp" for n in ("davolio", "fuller", "leverling", "peacock", "buchanan")]
    verdict = ColumnClassifier(engine).classify(ColumnSample("Employees", "PhotoPath", "text", values * 4))
    assert [e.entity_type for e in verdict.entities] == ["URL"]
