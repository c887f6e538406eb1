"""Kill ``anonymize --in-place --apply`` at every failpoint, resume, and compare with a clean run.

For each dialect (SQLite in its default rollback journal and in WAL, PostgreSQL, MariaDB),
a clean run gives the expected table; then, for each kill point, a fresh copy is anonymized
by a process that SIGKILLs itself there, ``govkit runs`` must list the run as interrupted,
a new run on the same target must be refused, ``govkit runs resume`` must complete it, and
the table must equal the clean run's value for value (no operator applied twice), with the
audit log verifying and holding one "begun" and one "finished" record and no temp file left.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.change import harness

ROWS = 12_000  # three units of 5,000 rows
RULES = ["--rule", "people.email=pseudonymize", "--rule", "people.phone=hash",
         "--rule", "people.name=mask"]


def _workspace(folder: Path) -> Path:
    from govkit.workspace import init_workspace

    init_workspace(folder)
    return folder


@pytest.fixture(params=harness.DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    if not request.param.startswith("sqlite"):
        request.applymarker(pytest.mark.server)
    return str(request.param)


_CLEAN: dict[str, list[tuple[object, ...]]] = {}


@pytest.fixture
def expected(dialect: str, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[object, ...]]:
    """The table after an uninterrupted run (once per dialect)."""
    if dialect in _CLEAN:
        return _CLEAN[dialect]
    folder = tmp_path_factory.mktemp("clean")
    name = f"govkit_kill_clean_{uuid.uuid4().hex[:8]}"
    url = harness.database_url(dialect, folder, name)
    try:
        harness.create_people(url, ROWS, wal=dialect == "sqlite-wal")
        ws = _workspace(folder / "ws")
        done = harness.cli(ws, "anonymize", url, "--in-place", "--apply", "--table", "people", *RULES)
        assert done.exit_code == 0, done.output
        _CLEAN[dialect] = harness.table_state(url, "people")
        return _CLEAN[dialect]
    finally:
        harness.drop_database(dialect, name)


@pytest.mark.slow
@pytest.mark.parametrize("point", harness.POINTS, ids=lambda p: f"{p[0]}#{p[1]}")
def test_killed_in_place_run_resumes_to_the_clean_result(dialect: str, point: tuple[str, int],
                                                         expected: list[tuple[object, ...]], tmp_path: Path) -> None:
    name = f"govkit_kill_{uuid.uuid4().hex[:8]}"
    url = harness.database_url(dialect, tmp_path, name)
    try:
        harness.create_people(url, ROWS, wal=dialect == "sqlite-wal")
        original = harness.table_state(url, "people")
        ws = _workspace(tmp_path / "ws")
        died = harness.govkit(ws, "anonymize", url, "--in-place", "--apply", "--table", "people", *RULES,
                              kill_at=point)
        assert harness.killed(died), (died.returncode, died.stderr)
        run_id = harness.unfinished_run(ws)
        refused = harness.cli(ws, "anonymize", url, "--in-place", "--apply", "--table", "people", *RULES)
        assert refused.exit_code == 2, refused.output  # a second run on the same target is refused
        assert f"runs resume {run_id}" in refused.output
        resumed = harness.cli(ws, "runs", "resume", run_id)
        assert resumed.exit_code == 0, resumed.output
        after = harness.table_state(url, "people")
        assert after == expected  # value for value: nothing applied twice, nothing left out
        assert after != original
        harness.assert_run_closed(ws, "anonymize")
        assert harness.no_temp_files(ws, tmp_path) == []
    finally:
        harness.drop_database(dialect, name)
