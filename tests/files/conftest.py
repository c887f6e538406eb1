"""Fixtures for file-source tests: synthetic people (seeded Faker via SyntheticData) and a scan helper."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from govkit.demo import SyntheticData
from govkit.detect.engine import DetectionEngine
from govkit.sources.files import FileScanOptions, FileScanResult, scan_files


@pytest.fixture
def people() -> list[dict[str, str]]:
    """Twenty synthetic Chinese customers with valid mobiles and resident IDs."""
    data = SyntheticData(seed=11)
    out = []
    for _ in range(20):
        first, last = data.first_last("zh_CN")
        out.append({
            "name": last + first,
            "mobile": data.phone("CN").replace(" ", "").replace("-", "").replace("+86", ""),
            "rid": data.resident_id(),
            "email": data.email(first, last, "zh_CN"),
        })
    return out


@pytest.fixture
def western() -> list[dict[str, str]]:
    data = SyntheticData(seed=12)
    out = []
    for locale in ["fr_FR", "de_DE", "es_ES", "fr_FR", "de_DE"] * 4:
        first, last = data.first_last(locale)
        out.append({"first": first, "last": last, "email": data.email(first, last, locale)})
    return out


Scan = Callable[..., FileScanResult]


@pytest.fixture
def scan(engine: DetectionEngine) -> Scan:
    """scan_files in-process (jobs=1) with the session's engine already loaded."""

    def run(root: Path, **kwargs: Any) -> FileScanResult:
        previous = kwargs.pop("previous", None)
        kwargs.setdefault("jobs", 1)
        return scan_files(root, FileScanOptions(**kwargs), previous=previous)

    return run


def entities_of(result: FileScanResult, asset: str, field: str | None = None) -> set[str]:
    return {f.entity_type for f in result.findings if f.asset == asset and (field is None or f.field == field)}


def reasons(result: FileScanResult, asset: str) -> list[str]:
    return [s.reason for s in result.skipped if s.asset == asset]
