"""Fixtures for the policy tests: a folder to write policy files into, as the current directory.

Error messages name files relative to the current directory, so every test that checks an
exact message runs inside ``policy_dir`` and writes ``policies/<name>.yaml``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.policy.helpers import Write


@pytest.fixture
def policy_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "project"
    (folder / "policies").mkdir(parents=True)
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def write(policy_dir: Path) -> Write:
    """write("shop", yaml_text) -> policies/shop.yaml (text dedented, so tests can indent it)."""

    def _write(name: str, text: str) -> Path:
        path = policy_dir / "policies" / f"{name}.yaml"
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write

