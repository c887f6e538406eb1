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

from govkit.errors import UsageError

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


class _Template(jinja2.Template):
    """A template whose failure at render time, if it is the workspace's own, is the user's to fix."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        try:
            return super().render(*args, **kwargs)
        except (jinja2.TemplateError, TypeError, ValueError, AttributeError, KeyError) as exc:
            if not _own(self.environment, self.filename):
                raise
            line = _line_in(exc, self.filename)
            where = f"{self.filename}:{line}" if line else str(self.filename)
            raise UsageError(f"{where}: template error ({_short(exc)}); fix it, or remove it to use "
                             f"the packaged {self.name}") from None


class _Environment(jinja2.Environment):
    """Loads the workspace's templates (``templates/`` of the workspace) as user input: a template
    that does not parse or decode is a one-line error naming the file, not an internal error."""

    template_class = _Template
    workspace_templates: Path | None = None

    def _load_template(self, name: Any, globals: Any) -> jinja2.Template:
        try:
            return super()._load_template(name, globals)
        except jinja2.TemplateSyntaxError as exc:
            if not _own(self, exc.filename):
                raise
            raise UsageError(f"{exc.filename}:{exc.lineno}: template syntax error ({exc.message}); fix it, "
                             f"or remove it to use the packaged {name}") from None
        except UnicodeDecodeError:
            own = self.workspace_templates / str(name) if self.workspace_templates is not None else None
            if own is None or not own.is_file():
                raise
            raise UsageError(f"{own}: not UTF-8 text; templates are read as UTF-8") from None


def _own(env: jinja2.Environment, filename: str | None) -> bool:
    folder = getattr(env, "workspace_templates", None)
    return folder is not None and filename is not None and Path(filename).resolve().is_relative_to(folder.resolve())


def _line_in(exc: BaseException, filename: str | None) -> int | None:
    """The template line a render error came from (jinja maps its frames onto the template file)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _short(exc: BaseException) -> str:
    """jinja's own message (it names variables and attributes); only the type of any other
    error, whose message may quote a value from the data."""
    if not isinstance(exc, jinja2.TemplateError):
        return type(exc).__name__
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def environment(workspace_root: Path | None = None) -> jinja2.Environment:
    env = _Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(workspace_root)]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    if workspace_root is not None and (workspace_root / "templates").is_dir():
        env.workspace_templates = workspace_root / "templates"
    env.filters["pct"] = lambda v: f"{v:.0%}"
    env.filters["md"] = md_text
    env.filters["mdcode"] = md_code
    return env
