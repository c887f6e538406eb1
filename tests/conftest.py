"""Shared fixtures: the detection engine (loaded once), workspaces, and real databases.

Server-backed fixtures connect to the local PostgreSQL and MariaDB. When one is not
reachable the tests that need it are skipped on a developer's machine, but fail when
``GOVKIT_REQUIRE_SERVERS=1`` (set by .ci/run), so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from govkit.detect.engine import DetectionEngine, get_engine
from tests import chinook

# In CI every property test draws the same examples on every run (a verdict that does not
# depend on the draw); on a developer's machine they explore, and what they find becomes a test.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def engine() -> DetectionEngine:
    """The default detection engine; the spaCy model is loaded once per test session."""
    return get_engine()


@pytest.fixture
def chinook_sqlite(tmp_path: Path) -> Path:
    return chinook.sqlite_copy(tmp_path)


def _server(name: str, loader) -> str:  # type: ignore[no-untyped-def]
    try:
        return str(loader())
    except Exception as exc:  # any driver/connection failure means: no server here
        message = f"{name} not reachable for tests: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        if os.environ.get("GOVKIT_REQUIRE_SERVERS") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def chinook_postgres() -> str:
    return _server("PostgreSQL", chinook.load_postgres)


@pytest.fixture(scope="session")
def chinook_mysql() -> str:
    return _server("MariaDB/MySQL", chinook.load_mysql)


@pytest.fixture
def workspace_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty govkit workspace as the current directory."""
    from govkit.workspace import init_workspace

    folder = tmp_path / "ws"
    init_workspace(folder)
    monkeypatch.chdir(folder)
    return folder
