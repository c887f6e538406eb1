"""Kill ``retention apply --apply`` (archive, with a cascaded child, a child with its own rule and
a held row) at the change engine's failpoints, resume, and compare with an uninterrupted run:
the same rows left in every table, the same rows in the archive (none twice, none deleted
unarchived), one begun and one finished record, no run left open.

Every failpoint on SQLite's default journal; the mid-unit, after-commit and verification points
on SQLite WAL, PostgreSQL and MariaDB (the units are the same code on every dialect; what differs
is the database's own atomicity, which those three points exercise).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from govkit.actions.retention.archive import Archive, list_archives
from tests.change import harness
from tests.retention import shop

SHORT = [("unit.applied", 2), ("unit.committed", 2), ("verify.started", 1)]
CASES = [("sqlite", p) for p in harness.POINTS] + [(d, p) for d in ("sqlite-wal", "postgresql", "mariadb")
                                                   for p in SHORT]
APPLY = ("retention", "apply", "--as-of", "2026-06-30", "--apply", "--batch-size", "10")


def _state(url: str) -> dict[str, list[tuple[Any, ...]]]:
    return {t: shop.rows(url, t) for t in ("customers", "orders", "tickets")}


def _archived(ws: Path) -> dict[str, list[str]]:
    state = ws / ".govkit"
    (entry,) = list_archives(state)
    archive = Archive(state, entry["id"])
    out: dict[str, list[str]] = {}
    for seg in entry["segments"]:
        for part in archive.read_segment(seg["segment"]):
            out.setdefault(part.table.rsplit(".", 1)[-1], []).extend(repr(tuple(r)) for r in part.rows)
    return {t: sorted(v) for t, v in out.items()}


_CLEAN: dict[str, tuple[dict[str, list[tuple[Any, ...]]], dict[str, list[str]]]] = {}


def _clean(dialect: str, folder: Path) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, list[str]]]:
    if dialect not in _CLEAN:
        name = f"govkit_kret_clean_{uuid.uuid4().hex[:8]}"
        url = harness.database_url(dialect, folder, name)
        try:
            shop.create(url, wal=dialect == "sqlite-wal")
            ws = shop.workspace(folder / "ws", url, action="archive").root
            done = harness.cli(ws, *APPLY)
            assert done.exit_code == 0, done.output
            _CLEAN[dialect] = (_state(url), _archived(ws))
        finally:
            harness.drop_database(dialect, name)
    return _CLEAN[dialect]


@pytest.mark.slow
@pytest.mark.parametrize(("dialect", "point"), CASES, ids=[f"{d}-{p[0]}#{p[1]}" for d, p in CASES])
def test_killed_retention_run_resumes_to_the_clean_result(dialect: str, point: tuple[str, int], tmp_path: Path,
                                                          tmp_path_factory: pytest.TempPathFactory,
                                                          request: pytest.FixtureRequest) -> None:
    if not dialect.startswith("sqlite"):
        request.applymarker(pytest.mark.server)
    expected_tables, expected_archive = _clean(dialect, tmp_path_factory.mktemp("clean"))
    name = f"govkit_kret_{uuid.uuid4().hex[:8]}"
    url = harness.database_url(dialect, tmp_path, name)
    try:
        shop.create(url, wal=dialect == "sqlite-wal")
        ws = shop.workspace(tmp_path / "ws", url, action="archive").root
        died = harness.govkit(ws, *APPLY, kill_at=point)
        assert harness.killed(died), (died.returncode, died.stderr)
        run_id = harness.unfinished_run(ws)
        refused = harness.cli(ws, *APPLY)
        assert refused.exit_code == 2, refused.output
        assert f"runs resume {run_id}" in refused.output
        resumed = harness.cli(ws, "runs", "resume", run_id)
        assert resumed.exit_code == 0, resumed.output
        assert _state(url) == expected_tables  # the same rows left: nothing deleted twice or left behind
        assert _archived(ws) == expected_archive  # every removed row archived exactly once
        harness.assert_run_closed(ws, "retention.apply")
        assert harness.no_temp_files(ws, tmp_path) == []
    finally:
        harness.drop_database(dialect, name)


#: ``action: delete`` with no hold: the customers' units are key ranges summarized by count and
#: ends (no key read into Python); killed inside a unit, after its commit and between units.
DELETE_CASES = [(d, p) for d in ("sqlite", "postgresql", "mariadb")
                for p in (("unit.applied", 3), ("unit.intended", 2), ("unit.committed", 3))]


@pytest.mark.slow
@pytest.mark.parametrize(("dialect", "point"), DELETE_CASES, ids=[f"{d}-{p[0]}#{p[1]}" for d, p in DELETE_CASES])
def test_killed_range_delete_resumes_to_the_clean_result(dialect: str, point: tuple[str, int], tmp_path: Path,
                                                         request: pytest.FixtureRequest) -> None:
    if dialect != "sqlite":
        request.applymarker(pytest.mark.server)
    delete = ("retention", "apply", "--as-of", "2026-06-30", "--apply", "--batch-size", "1")  # units of 10 keys
    name = f"govkit_kdel_{uuid.uuid4().hex[:8]}"
    url = harness.database_url(dialect, tmp_path, name)
    try:
        shop.create(url)
        ws = shop.workspace(tmp_path / "ws", url, action="delete", hold=False).root
        died = harness.govkit(ws, *delete, kill_at=point)
        assert harness.killed(died), (died.returncode, died.stderr)
        resumed = harness.cli(ws, "runs", "resume", harness.unfinished_run(ws))
        assert resumed.exit_code == 0, resumed.output
        kept = shop.expected_customers(held=False)
        assert shop.ids(url, "customers") == kept
        assert shop.ids(url, "tickets") == shop.expected_tickets()
        assert {i // 2 for i in shop.ids(url, "orders")} == kept
        harness.assert_run_closed(ws, "retention.apply")
    finally:
        harness.drop_database(dialect, name)


RESTORE_POINTS = [("unit.applied", 2), ("unit.intended", 1), ("unit.committed", 2), ("verify.started", 1)]


@pytest.mark.slow
@pytest.mark.parametrize("point", RESTORE_POINTS, ids=[f"{p[0]}#{p[1]}" for p in RESTORE_POINTS])
def test_killed_restore_resumes_to_every_row_once(point: tuple[str, int], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    shop.create(url)
    ws = shop.workspace(tmp_path / "ws", url, action="archive").root
    done = harness.cli(ws, *APPLY)
    assert done.exit_code == 0, done.output
    (entry,) = list_archives(ws / ".govkit")
    archive = Archive(ws / ".govkit", entry["id"])
    archived: dict[str, list[Any]] = {"customers": [], "orders": []}
    for seg in entry["segments"]:
        for part in archive.read_segment(seg["segment"]):
            archived[part.table].extend(part.rows)
    copy = f"sqlite:///{tmp_path / 'copy.sqlite'}"
    died = harness.govkit(ws, "archive", "restore", entry["id"], "--to", copy, "--apply", kill_at=point)
    assert harness.killed(died), (died.returncode, died.stderr)
    run_id = harness.unfinished_run(ws)
    resumed = harness.cli(ws, "runs", "resume", run_id)
    assert resumed.exit_code == 0, resumed.output
    for table, rows in archived.items():  # every archived row once: none missing, none inserted twice
        assert sorted(shop.ids(copy, table)) == sorted(int(r[0]) for r in rows)
        assert len(shop.rows(copy, table)) == len(rows)
    check = harness.cli(ws, "runs", "--all", "--format", "json")
    assert [r["status"] for r in json.loads(check.stdout)["runs"] if r["kind"] == "archive.restore"] == ["finished"]


FILE_POINTS = [("unit.applied", 1), ("unit.intended", 2), ("unit.committed", 1), ("run.verified", 1)]


@pytest.mark.slow
@pytest.mark.parametrize("point", FILE_POINTS, ids=[f"{p[0]}#{p[1]}" for p in FILE_POINTS])
def test_killed_file_retention_resumes(point: tuple[str, int], tmp_path: Path) -> None:
    ws, folder = shop.file_source(tmp_path, ["2019-01-05", "2019-07-01", "2020-02-02", "2026-05-01"], prefix="crm-")
    died = harness.govkit(ws, *APPLY, kill_at=point)
    assert harness.killed(died), (died.returncode, died.stderr)
    run_id = harness.unfinished_run(ws)
    resumed = harness.cli(ws, "runs", "resume", run_id)
    assert resumed.exit_code == 0, resumed.output
    assert sorted(p.name for p in folder.iterdir()) == ["crm-2026-05-01.csv"]
    (entry,) = list_archives(ws / ".govkit")
    archive = Archive(ws / ".govkit", entry["id"])
    files = sorted(str(r[0]) for seg in entry["segments"] for part in archive.read_segment(seg["segment"])
                   for r in part.rows)
    assert files == ["crm-2019-01-05.csv", "crm-2019-07-01.csv", "crm-2020-02-02.csv"]  # each archived once
    harness.assert_run_closed(ws, "retention.apply")
