"""Shared fixtures: the detection engine (loaded once), workspaces, and real databases.

Server-backed fixtures connect to the local PostgreSQL and MariaDB. When one is not
reachable the tests that need it are skipped on a developer's machine, but fail when
``GOVKIT_REQUIRE_SERVERS=1`` (set by .ci/run), so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from govkit.detect.engine import DetectionEngine, get_engine
from tests import chinook

# xdist workers run with COLUMNS=80 (and LINES) in their environment; a plain run has none, and
# the CLI then lays tables out 100 wide (govkit.cli.options.terminal_width). The same
# environment in both, so that a test sees the same output however the suite is run.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)

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


@pytest.fixture(scope="session")
def chromium() -> str:
    """The chromium binary, installed from Debian's apt when it is missing (tests/debian.py)."""
    from tests.debian import apt_install, unavailable

    found = shutil.which("chromium")
    if found is None:
        apt_install("chromium")
        found = shutil.which("chromium")
    if found is None:
        unavailable("chromium is not on PATH after apt-get install chromium")
    assert found is not None
    return found


# -- running in parallel (make test: pytest -n auto --dist loadgroup) --------------------------

#: Tests that share state outside their own temporary folder, which must not run beside each
#: other: the Spark session and its JDBC databases, apt-get (one dpkg lock), and every server
#: test that uses a fixed name (the ``govkit_chinook`` databases each worker would otherwise
#: drop and reload under the other's feet, tables in the shared ``test`` database, roles).
SERIAL_GROUP = "serial"
_SERIAL_PATHS = ("tests/spark/",)
_SERIAL_FIXTURES = frozenset({"chinook_postgres", "chinook_mysql", "chromium", "spark", "jdbc_jars"})
#: Server tests here create a database of their own, under a random name, per test (see
#: tests/change/harness.database_url): they run beside anything, which is what spreads the
#: kill tests, the largest part of the suite, over the workers.
_OWN_DATABASE_PATHS = ("tests/change/test_kill_", "tests/retention/test_apply.py", "tests/retention/test_plan.py")
_SERVER_PARAMS = ("postgres", "mariadb", "mysql")


def _serial(item: pytest.Item) -> bool:
    path = item.nodeid.split("::", 1)[0]
    if path.startswith(_SERIAL_PATHS) or _SERIAL_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    if path.startswith(_OWN_DATABASE_PATHS):
        return False
    if item.get_closest_marker("server"):
        return True
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec is not None else ()
    return any(isinstance(value, str) and value.startswith(_SERVER_PARAMS) for value in params)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the tests of :data:`_serial` in one xdist group: with ``--dist loadgroup`` one
    worker runs them one after another while the others share out the rest. Without xdist
    the mark does nothing. A new server test that cannot use a database of its own belongs
    here by its ``server`` mark or its parameters; one that can, by its path above."""
    for item in items:
        if _serial(item):
            item.add_marker(pytest.mark.xdist_group(SERIAL_GROUP))
