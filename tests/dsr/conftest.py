"""Workspaces over Chinook, scanned pattern-only (no spaCy model: e-mail and phone patterns
are all DSR needs, and the tests stay fast)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from govkit.actions.dsr.files import LineMatcher
from govkit.actions.dsr.rewrite import FileJob
from govkit.scan import scan
from govkit.workspace import Workspace, load_workspace
from tests import chinook

SUBJECT = "luisg@embraer.com.br"


def make_workspace(folder: Path, url: str, policy: str | None = None) -> Workspace:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "govkit.toml").write_text(
        f'[detection]\nmodel = "none"\nsample_size = 200\n\n[sources.chinook]\nurl = {json.dumps(url)}\n',
        encoding="utf-8",
    )
    if policy is not None:
        (folder / "policies").mkdir(exist_ok=True)
        (folder / "policies" / "chinook.yaml").write_text(policy, encoding="utf-8")
    workspace = load_workspace(folder, search=False)
    scan(workspace)
    return workspace


@pytest.fixture
def sqlite_workspace(tmp_path: Path, chinook_sqlite: Path) -> Workspace:
    return make_workspace(tmp_path / "ws", f"sqlite:///{chinook_sqlite}")


@pytest.fixture
def workspace_factory(tmp_path: Path) -> Callable[..., Workspace]:
    def make(url: str, policy: str | None = None, name: str = "ws") -> Workspace:
        return make_workspace(tmp_path / name, url, policy)

    return make


@pytest.fixture
def reload_servers() -> Iterator[None]:
    """Server databases are shared by the session: put Chinook back after changing it."""
    yield
    chinook.load_postgres()
    chinook.load_mysql()


def rewrite_file(job: FileJob, matcher: LineMatcher) -> int:
    """What the change engine does with one file: write the new version beside it, swap it in."""
    import os

    from govkit.actions.dsr.rewrite import write_into

    temp = job.path.with_name(f".{job.path.name}.test.govkit-tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        records = write_into(job, matcher, fd)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    os.replace(temp, job.path)
    return records
