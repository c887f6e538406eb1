"""Helpers shared by the policy tests (fixtures are in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from govkit.policy import Policy, PolicyError, load_policy

#: write(name, yaml_text) -> the path of policies/<name>.yaml, written.
Write = Callable[[str, str], Path]


def load(*paths: Path) -> Policy:
    return load_policy(list(paths))


def error_of(*paths: Path) -> PolicyError:
    """The PolicyError loading ``paths`` raises (failing the test if none is raised)."""
    with pytest.raises(PolicyError) as info:
        load_policy(list(paths))
    return info.value


def messages(*paths: Path) -> list[str]:
    return [str(p) for p in error_of(*paths).problems]
