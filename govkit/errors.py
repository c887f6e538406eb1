"""One exception hierarchy for the whole library.

The CLI maps each class to an exit code and prints ``str(error)`` as a single line, so every
message must say what went wrong and where, and must never contain the personal data or the
secrets govkit protects.
"""

from __future__ import annotations


class GovkitError(Exception):
    """Base of every error govkit raises on purpose."""

    exit_code = 3


class UsageError(GovkitError):
    """The user asked for something that cannot be done as asked (bad argument, bad file)."""

    exit_code = 2


class ConfigError(UsageError):
    """A workspace or settings file is missing or invalid."""


class WorkspaceNotFound(ConfigError):
    """No govkit workspace above the current directory."""


class SourceError(GovkitError):
    """A data source could not be reached or read."""


class KeyMaterialError(GovkitError):
    """A key is missing, unreadable, too open, or wrong."""

    exit_code = 2
