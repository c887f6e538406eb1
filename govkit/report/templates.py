"""The jinja2 environment: packaged templates, overridable per workspace."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import jinja2


def template_dirs(workspace_root: Path | None) -> list[Path]:
    """Workspace templates first, then the packaged ones (wheel) or the repository's."""
    dirs: list[Path] = []
    if workspace_root is not None and (workspace_root / "templates").is_dir():
        dirs.append(workspace_root / "templates")
    packaged = Path(str(resources.files("govkit") / "_data" / "templates"))
    if packaged.is_dir():
        dirs.append(packaged)
    repository = Path(__file__).resolve().parents[2] / "templates"
    if repository.is_dir():
        dirs.append(repository)
    return dirs


def environment(workspace_root: Path | None = None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(workspace_root)]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: f"{v:.0%}"
    return env
