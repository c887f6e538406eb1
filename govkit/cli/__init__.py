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


class GovkitGroup(click.Group):
    """Turns exceptions into one-line messages and DESIGN.md's exit codes."""

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
            ctx.exit(exc.exit_code)
        except OneLineUsageError:
            raise
        except click.UsageError as exc:  # a subcommand's options and arguments, an unknown command
            raise _one_line(exc) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if debug:
                traceback.print_exc()
            if isinstance(exc, OSError) and isinstance(exc.filename, str | os.PathLike):
                # A file or folder missing, in the way, looping or not allowed, where no check
                # before saw it: the path and the system's reason say what and where.
                click.echo(f"govkit: error: {os_error_text(exc)}", err=True)
                ctx.exit(EXIT_USAGE if exc.errno in _USAGE_ERRNOS else EXIT_RUNTIME)
            click.echo(
                f"govkit: internal error ({type(exc).__name__}); run again with --debug for the traceback",
                err=True,
            )
            ctx.exit(EXIT_RUNTIME)


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
    help="Workspace folder (default: the nearest folder at or above the current one with govkit.toml).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.option("--quiet", "-q", is_flag=True, help="Only errors on stderr.")
@click.pass_context
def main(ctx: click.Context, workspace_dir: Path | None, debug: bool, quiet: bool) -> None:
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

    Exit codes: 0 ok, 1 findings at or above --fail-on, 2 usage or input error,
    3 runtime failure.
    """
    _configure_logging(debug, quiet)
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


def _configure_logging(debug: bool, quiet: bool) -> None:
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING
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


def _register_commands() -> None:
    """One line per command module: adding a command is one module and one name here."""
    from govkit.cli.commands import (
        anonymize,
        demo,
        dsr,
        evaluate,
        explain,
        init,
        inventory,
        keys,
        label,
        log,
        policy,
        report,
        risk,
        runs,
        scan,
    )

    for module in (init, scan, inventory, explain, label, policy, evaluate, report, anonymize, risk, dsr, runs,
                   keys, log, demo):
        module.register(main)


_register_commands()
