"""Debian packages the tests need (Chromium, JDBC driver jars), installed with apt-get when missing.

When a package cannot be installed, the tests that need it are skipped on a developer's
machine and fail when ``GOVKIT_REQUIRE_SERVERS=1`` (CI), so CI cannot pass by skipping them.
"""

from __future__ import annotations

import os
import subprocess

import pytest


def unavailable(message: str) -> None:
    """Skip (a developer's machine) or fail (CI) with ``message``."""
    if os.environ.get("GOVKIT_REQUIRE_SERVERS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def try_apt_install(*packages: str) -> str | None:
    """``apt-get install -y PACKAGES`` (after an update); None, or why it failed."""
    try:
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", *packages]):
            subprocess.run(command, check=True, capture_output=True, timeout=900,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{', '.join(packages)}: not installed and apt-get could not install it: {type(exc).__name__}: {exc}"
    return None


def apt_install(*packages: str) -> None:
    """``apt-get install -y PACKAGES``, or :func:`unavailable`."""
    failed = try_apt_install(*packages)
    if failed:
        unavailable(failed)
