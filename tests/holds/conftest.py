"""A scanned Chinook workspace (SQLite copy, pattern-only detection) for the hold tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from govkit.workspace import Workspace
from tests.dsr.conftest import make_workspace


@pytest.fixture
def workspace(tmp_path: Path, chinook_sqlite: Path) -> Workspace:
    return make_workspace(tmp_path / "ws", f"sqlite:///{chinook_sqlite}")
