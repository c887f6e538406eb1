"""The ``govkit`` command: a thin layer over the library API.

Each command parses its options, calls one library function and renders the result. Errors
raised on purpose (:class:`govkit.errors.GovkitError`) become one line on stderr and an exit
code; anything else becomes one line naming the exception type, because its message might
quote data. ``--debug`` shows the traceback in both cases.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from govkit import __version__
from govkit.errors import GovkitError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_RUNTIME = 0, 1, 2, 3


@dataclass
class AppContext:
    """What every command may need: where the workspace is, and how loud to be."""

    workspace_dir: Path | None
    debug: bool

    def workspace(self, *, required: bool = True) -> Any:
        workspace = self._workspace(required=required)
        if workspace is not None:  # --verbose says which workspace a command acts on
            logging.getLogger("govkit").info("workspace %s", workspace.root)
        return workspace

    def _workspace(self, *, required: bool) -> Any:
        from govkit.workspace import load_workspace

        if self.workspace_dir is not None:
            return load_workspace(self.workspace_dir, search=False)
        if not required:
            from govkit.errors import WorkspaceNotFound

            try:
                return load_workspace()
            except WorkspaceNotFound:
                return None
        return load_workspace()


class OneLineUsageError(click.UsageError):
    """click's usage errors (a bad option value, a missing argument, an unknown command) in
    govkit's one-line form, exit 2: ``govkit: error: WHAT (see 'govkit CMD --help')``, instead
    of click's three lines (usage, hint, error), so every bad input reads alike."""

    def show(self, file: Any = None) -> None:
        where = self.ctx.command_path if self.ctx is not None else "govkit"
        click.echo(f"govkit: error: {self.format_message()} (see '{where} --help')", err=True)


def _one_line(exc: click.UsageError) -> OneLineUsageError:
    return OneLineUsageError(exc.format_message(), exc.ctx)


#: ``ctx.meta`` key (shared by a command's whole context chain) where ``--format`` notes its
#: value, so that an error can be printed as JSON too when the output was to be JSON.
FORMAT_META = "govkit.format"


class GovkitGroup(click.Group):
    """The root command. Turns exceptions into one-line messages and DESIGN.md's exit codes,
    accepts the global options after the command name too (``govkit scan -q``), and imports a
    command's module only when that command is used (see :data:`COMMANDS`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._commands: dict[str, click.Command] = {}
        self._loaded: set[str] = set()
        super().__init__(*args, **kwargs)

    # -- commands, loaded on first use ------------------------------------------------------

    @property  # type: ignore[override]
    def commands(self) -> dict[str, click.Command]:
        """Every command, loaded (what tests and introspection walk)."""
        for name in COMMANDS:
            self._load(name)
        return self._commands

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._commands = dict(value)

    def _load(self, name: str) -> None:
        module = COMMANDS[name][0] if name in COMMANDS else None
        if module is None or module in self._loaded:
            return
        self._loaded.add(module)
        import importlib

        importlib.import_module(f"govkit.cli.commands.{module}").register(self)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        name = name or cmd.name
        if name is None:
            raise TypeError("Command has no name.")
        self._commands[name] = cmd

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self._commands:
            self._load(cmd_name)
        return self._commands.get(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self._commands) | set(COMMANDS))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's listing, from :data:`COMMANDS`' summaries: no command module is imported."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            command = self._commands.get(name)
            if command is not None:
                if command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(limit)))
            else:
                rows.append((name, COMMANDS[name][1]))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    # -- global options after the command ---------------------------------------------------

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, self._hoist_global_options(ctx, args))

    def _hoist_global_options(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Move the root's options found after the command name to the front.

        ``govkit scan SRC -q --workspace W`` becomes ``govkit -q --workspace W scan SRC``. A
        token is left where it is when it follows ``--``, when it is the value of the
        command's own option (``--table -q`` keeps ``-q`` as the table name), or when the
        command defines the same spelling itself (``risk -q``, the deprecated spelling of
        its ``--quasi-identifiers``).
        """
        spellings: dict[str, bool] = {}  # global option spelling -> takes a value
        for param in self.params:
            if isinstance(param, click.Option) and param.name not in ("help", "version"):
                for opt in (*param.opts, *param.secondary_opts):
                    spellings[opt] = not param.is_flag
        i = 0
        while i < len(args):  # the root's own options, before the command name
            token = args[i]
            if token == "--" or not token.startswith("-"):
                break
            i += 2 if spellings.get(token) else 1
        if i >= len(args) or args[i] == "--":
            return args
        front, rest = list(args[:i]), [args[i]]
        current: click.Command | None = self.get_command(ctx, args[i])
        j = i + 1
        while j < len(args):
            token = args[j]
            if token == "--":
                rest.extend(args[j:])
                break
            own = _option_spellings(current)
            name = token.split("=", 1)[0] if token.startswith("--") else token
            if name in spellings and name not in own:
                takes_value = spellings[name] and "=" not in token
                front.extend(args[j:j + 2] if takes_value else [token])
                j += 2 if takes_value else 1
                continue
            rest.append(token)
            if token in own and own[token] and j + 1 < len(args):
                rest.append(args[j + 1])  # that option's value, whatever it looks like
                j += 2
                continue
            if isinstance(current, click.Group) and not token.startswith("-"):
                sub = current.get_command(ctx, token)
                if sub is not None:
                    current = sub
            j += 1
        return front + rest

    # -- errors -----------------------------------------------------------------------------

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except OneLineUsageError:
            raise
        except click.UsageError as exc:  # the root's own options
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug"))
        try:
            with warnings.catch_warnings():
                warnings.showwarning = _log_warning
                return super().invoke(ctx)
        except GovkitError as exc:
            if debug:
                traceback.print_exc()
            click.echo(f"govkit: error: {exc}", err=True)
            _json_error(ctx, str(exc), exc.exit_code)
            ctx.exit(exc.exit_code)
        except OneLineUsageError as exc:
            _json_error(ctx, exc.format_message(), EXIT_USAGE)
            raise
        except click.UsageError as exc:  # a subcommand's options and arguments, an unknown command
            _json_error(ctx, exc.format_message(), EXIT_USAGE)
            raise _one_line(exc) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if debug:
                traceback.print_exc()
            if isinstance(exc, OSError) and isinstance(exc.filename, str | os.PathLike):
                # A file or folder missing, in the way, looping or not allowed, where no check
                # before saw it: the path and the system's reason say what and where.
                code = EXIT_USAGE if exc.errno in _USAGE_ERRNOS else EXIT_RUNTIME
                click.echo(f"govkit: error: {os_error_text(exc)}", err=True)
                _json_error(ctx, os_error_text(exc), code)
                ctx.exit(code)
            click.echo(
                f"govkit: internal error ({type(exc).__name__}); run again with --debug for the traceback",
                err=True,
            )
            _json_error(ctx, f"internal error ({type(exc).__name__})", EXIT_RUNTIME)
            ctx.exit(EXIT_RUNTIME)


def _option_spellings(command: click.Command | None) -> dict[str, bool]:
    """A command's own option spellings -> whether the option takes a value."""
    found: dict[str, bool] = {}
    for param in command.params if command is not None else ():
        if isinstance(param, click.Option):
            for opt in (*param.opts, *param.secondary_opts):
                found[opt] = not (param.is_flag or param.count)
    return found


def remember_format(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """``--format``'s callback: notes the value for :func:`_json_error`."""
    ctx.meta[FORMAT_META] = value
    return value


def _json_error(ctx: click.Context, message: str, exit_code: int) -> None:
    """With ``--format json``, an error is also a JSON object on stdout, so that a CI step
    parsing stdout gets ``{"error": {...}}`` instead of nothing. The one line on stderr stays."""
    if ctx.meta.get(FORMAT_META) != "json":
        return
    import json

    click.echo(json.dumps({"error": {"message": message, "exit_code": exit_code}}, ensure_ascii=False))


#: A path the user can fix (name, type, links, permissions): exit 2. Others (disk full, I/O): 3.
_USAGE_ERRNOS = frozenset({
    errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ELOOP, errno.ENAMETOOLONG,
    errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTEMPTY,
})


def os_error_text(exc: OSError) -> str:
    """``PATH: reason`` (``PATH -> PATH2: reason`` for a rename or link) of an OSError."""
    where = str(exc.filename) if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
    return f"{where}: {exc.strerror or type(exc).__name__}"


@click.group(cls=GovkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="govkit")
@click.option(
    "--workspace", "-w", "workspace_dir", type=click.Path(file_okay=False, path_type=Path),
    envvar="GOVKIT_WORKSPACE", show_envvar=True,
    help="Workspace folder (default: the nearest folder at or above the current one with govkit.toml).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.option("--verbose", "-v", is_flag=True, help="More detail on stderr: what is being done (never data).")
@click.option("--quiet", "-q", is_flag=True, help="Only errors on stderr.")
@click.pass_context
def main(ctx: click.Context, workspace_dir: Path | None, debug: bool, verbose: bool, quiet: bool) -> None:
    """govkit: find personal data, keep a data map, and act on privacy policy.

    \b
    Start here:
      govkit demo            build a demo workspace, scan it, evaluate it, write the report
      govkit init            make the current folder a workspace (govkit.toml)
      govkit scan            scan every source (databases, folders, files) of the workspace
      govkit inventory       list the personal data found so far
      govkit explain T.C     why a column was (or was not) classified
      govkit evaluate        check the inventory against the policy (policies/*.yaml)
      govkit report audit    the audit report for compliance officers

    Global options may also follow the command: govkit scan -q.
    Exit codes: 0 ok, 1 findings at or above --fail-on, 2 usage or input error,
    3 runtime failure.
    """
    _configure_logging(debug, quiet, verbose)
    ctx.obj = AppContext(workspace_dir=workspace_dir, debug=debug)


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted.

    A StreamHandler would keep the stream it was created with; under click's CliRunner (and
    any embedding that swaps stderr) that stream is closed after the first invocation.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # never let logging break a command
            self.handleError(record)


def _log_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int,
    file: Any = None, line: str | None = None,
) -> None:
    """Python warnings (SQLAlchemy's SAWarning on an odd schema, openpyxl's on a file) go to
    the debug log instead of stderr: raw, they print a source path and line, and their text
    may name tables, columns or files. They are about the libraries' limits, not the user's."""
    text = str(message).strip().splitlines()
    logging.getLogger("govkit.warnings").debug(
        "%s: %s (%s:%s)", category.__name__, text[0][:300] if text else "", filename, lineno)


def _configure_logging(debug: bool, quiet: bool, verbose: bool = False) -> None:
    level = (logging.DEBUG if debug else logging.INFO if verbose else logging.ERROR if quiet
             else logging.WARNING)
    logger = logging.getLogger("govkit")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("govkit: %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)
    # Third-party libraries are only heard from when debugging.
    for noisy in ("presidio-analyzer", "tldextract", "faker", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.ERROR)


#: Every top-level command: name -> (module in govkit.cli.commands, one-line summary). The
#: modules load only when a command runs (or its help is asked for), so ``govkit --help`` and
#: ``--version`` do not import SQLAlchemy, Presidio or pandas; the summaries here are what the
#: root's --help lists (a test checks they match the commands' own).
#: Adding a command: one module with ``register(group)``, and one line here.
COMMANDS: dict[str, tuple[str, str]] = {
    "access": ("access", "Access rules: what each role may read, checked and enforced in the database."),
    "anonymize": ("anonymize", "Export a source anonymized: database, table, query or file."),
    "archive": ("archive", "Archives retention made: list them, restore one."),
    "deanonymize": ("anonymize", "Decrypt the values the encrypt operator wrote."),
    "demo": ("demo", "Build a demo workspace in FOLDER (default ./govkit-demo), scan it, act on it, write the report."),
    "dsr": ("dsr", "Data subject requests: register, locate, export, erase, rectify."),
    "evaluate": ("evaluate", "Check the inventory against the policy and list the violations."),
    "explain": ("explain", "Why TABLE.COLUMN was (or was not) classified as personal data."),
    "hold": ("hold", "Legal holds: rows no erasure or retention may touch."),
    "init": ("init", "Make FOLDER (default: here) a govkit workspace."),
    "inventory": ("inventory", "List the personal data the inventory holds (newest scan of each source)."),
    "keys": ("keys", "Create, rotate and list the workspace keys."),
    "label": ("label", "Tell govkit what TABLE.COLUMN holds; this overrides the detector from now on."),
    "log": ("log", "Show, verify and export the audit log."),
    "policy": ("policy", "Check and read the policy: the workspace's policies/*.yaml (or the shipped baseline)."),
    "report": ("report", "Reports for compliance officers and auditors."),
    "retention": ("retention", "Retention: plan, then delete, anonymize or archive what is past its time."),
    "risk": ("risk", "Measure re-identification risk: k-anonymity, l-diversity."),
    "runs": ("runs", "List, resume or abandon runs that change data."),
    "scan": ("scan", "Scan databases, folders and files for personal data; record it in the inventory."),
}
