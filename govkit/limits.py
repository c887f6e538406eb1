"""Limits: every bound govkit puts on what it reads and on how long it waits, in one place.

Input that is hostile or broken (a JSON document nested 100,000 levels deep, a "billion
laughs" YAML file, a database port that accepts connections and never answers) must end
as one line naming the file or source and the limit, in bounded memory and time, never as
a machine-eating parse or a hang. The user guide is docs/limits.md.

Two kinds:

* **settable** ones, in :class:`Limits`: ``[limits]`` in govkit.toml sets them for every
  command run in the workspace (:func:`govkit.workspace.load_workspace` calls
  :func:`configure`); without a workspace the defaults apply. The process keeps one active
  set (:func:`active`), which file-scan worker processes receive when they start, so that
  the database sources built deep inside an action (erasure, rectification, evaluation)
  need no extra argument to get them;
* **fixed** ones, the constants below: bounds no real input comes near (a hand-written
  policy of a megabyte), kept small enough that the worst input stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

#: A policy YAML file larger than this is refused before it is parsed (shipped packs: < 8 KB).
POLICY_MAX_BYTES = 1024 * 1024
#: Aliases (``*name``) per policy file.
YAML_MAX_ALIASES = 1000
#: Values built from one policy file, aliases and ``<<`` merge keys expanded: what stops a
#: "billion laughs" file (ten aliases of ten aliases of ...) before it expands.
YAML_MAX_NODES = 200_000
#: Nesting of collections in a policy file (the policy format needs fewer than ten levels).
YAML_MAX_DEPTH = 64
#: govkit.toml larger than this is refused before it is parsed.
CONFIG_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """The settable limits; every field is a key of ``[limits]`` in govkit.toml."""

    #: Seconds to wait for a database connection (TCP, TLS, login). 0: no limit.
    connect_timeout: float = 10.0
    #: Seconds one SQL statement may run (PostgreSQL, MySQL/MariaDB). 0: no limit.
    statement_timeout: float = 300.0
    #: Nesting levels of JSON a scan or an anonymization reads; deeper files are refused.
    json_depth: int = 512

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in fields(cls)]


DEFAULT = Limits()
_active: Limits = DEFAULT


def active() -> Limits:
    """The limits in force in this process."""
    return _active


def configure(limits: Limits | None = None, **changes: Any) -> Limits:
    """Put ``limits`` (default: the defaults), with ``changes`` applied, in force; return them."""
    global _active
    _active = replace(limits or DEFAULT, **changes)
    return _active


#: Bounds of the settable values, checked when govkit.toml is read.
RANGES: dict[str, tuple[float, float]] = {
    "connect_timeout": (0, 3600),
    "statement_timeout": (0, 7 * 24 * 3600),
    #: JSON Lines records go through Python's json module, which recurses: ~1,000 levels at most.
    "json_depth": (16, 900),
}


def check(key: str, value: Any) -> float | int:
    """A ``[limits]`` value of govkit.toml, checked; ``ValueError`` with a one-line message
    (``KeyError`` for an unknown key)."""
    if key not in RANGES:
        raise KeyError(key)
    integral = key == "json_depth"
    if isinstance(value, bool) or not isinstance(value, int if integral else int | float):
        kind = "an integer" if integral else "a number of seconds"
        raise ValueError(f"[limits].{key} must be {kind}, got {value!r}")
    low, high = RANGES[key]
    if not low <= value <= high:
        raise ValueError(f"[limits].{key} must be between {low:g} and {high:g}, got {value!r}")
    return value if integral else float(value)


__all__ = [
    "CONFIG_MAX_BYTES",
    "DEFAULT",
    "POLICY_MAX_BYTES",
    "YAML_MAX_ALIASES",
    "YAML_MAX_DEPTH",
    "YAML_MAX_NODES",
    "Limits",
    "active",
    "check",
    "configure",
]
