"""The ``govkit`` command: a thin layer over the library API.

Each command parses its options, calls one library function and renders the result. Errors
raised on purpose (:class:`govkit.errors.GovkitError`) become one line on stderr and an exit
code; anything else becomes one line naming the exception type, because its message might
quote data. ``--debug`` shows the traceback in both cases.
"""

from __future__ import annotations

import logging
import sys
import traceback
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


class GovkitGroup(click.Group):
    """Turns exceptions into one-line messages and DESIGN.md's exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except GovkitError as exc:
            if debug:
                traceback.print_exc()
            click.echo(f"govkit: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if debug:
                traceback.print_exc()
            click.echo(
                f"govkit: internal error ({type(exc).__name__}); run again with --debug for the traceback",
                err=True,
            )
            ctx.exit(EXIT_RUNTIME)


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
