"""The jinja2 environment: packaged templates, overridable per workspace.

Autoescape is on for HTML templates (a column named ``<script>`` must be shown, not run).
Markdown has no autoescape of its own, so the Markdown templates pass every value from the
data through :func:`md_text` or :func:`md_code`: a table name with a ``|`` must not split a
table row, and a wiki that renders inline HTML must not run a column named ``<script>``.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


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


def md_text(value: Any) -> str:
    """Plain Markdown text: HTML-significant characters as entities, Markdown syntax backslashed."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_code(value: Any) -> str:
    """A Markdown code span that survives backticks and pipes in the value (e.g. odd column names).

    Inside a code span HTML is shown literally, so ``<script>`` needs no entity; a pipe still
    ends a table cell in GitHub-flavoured Markdown, so it is escaped.
    """
    text = " ".join(str(value).split()).replace("|", "\\|")
    if not text:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def environment(workspace_root: Path | None = None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(workspace_root)]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: f"{v:.0%}"
    env.filters["md"] = md_text
    env.filters["mdcode"] = md_code
    return env
