"""Every change-engine test runs with one workspace key, in this process and in its children."""

from __future__ import annotations

import pytest

from tests.change.harness import KEY


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVKIT_KEY", KEY)
    monkeypatch.delenv("GOVKIT_KEY_FILE", raising=False)
