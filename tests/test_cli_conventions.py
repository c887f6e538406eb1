"""One command-line convention, applied everywhere (issue 17, "The terminal").

- global options (``--workspace``, ``--debug``, ``--verbose``, ``--quiet``) work before or after
  the command; ``GOVKIT_WORKSPACE`` stands for ``--workspace``;
- ``--format`` is the output format, ``--fail-on`` the exit-1 gate, ``--output``/``-o`` the output
  file; a short option means one thing in every command;
- with ``--format json`` an error is also a JSON object on stdout;
- a file is never overwritten without ``--force``;
- console tables fit the terminal, colour severities at a terminal and stay plain when piped.
"""

from __future__ import annotations

import json
import logging
import os
import pty
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from govkit.cli import COMMANDS, main

#: Old spellings kept working but hidden from --help; each one is documented in docs/commands.md.
DEPRECATED = {("risk", "-q"), ("risk", "--fail"), ("anonymize", "--json"), ("runs resume", "--json")}


def _walk(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        found.append((" ".join(path), command))
        if isinstance(command, click.Group):
            found.extend(_walk(command, path))
    return found


ALL = _walk(main)


def _options(command: click.Command) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option)]


# -- the option convention ---------------------------------------------------------------------


def test_every_short_option_means_one_thing_across_commands() -> None:
    meanings: dict[str, set[str]] = {}
    for path, command in [("", main), *ALL]:
        for option in _options(command):
            for opt in (*option.opts, *option.secondary_opts):
                if not opt.startswith("--") and (path, opt) not in DEPRECATED:
                    meanings.setdefault(opt, set()).add(option.opts[0] if option.opts[0].startswith("--")
                                                        else option.name or "")
    reused = {short: names for short, names in meanings.items() if len(names) > 1}
    assert not reused, f"short options with different meanings: {reused}"


def test_global_short_options_are_not_redefined_by_a_command() -> None:
    globals_ = {opt for option in _options(main) for opt in option.opts if not opt.startswith("--")}
    for path, command in ALL:
        for option in _options(command):
            clash = set(option.opts) & globals_
            assert not clash or all((path, c) in DEPRECATED for c in clash), (path, clash)


@pytest.mark.parametrize(("path", "command"), ALL, ids=[p for p, _ in ALL])
def test_options_follow_the_convention(path: str, command: click.Command) -> None:
    for option in _options(command):
        if option.hidden:
            continue
        spelled = set(option.opts)
        # the output format is --format (-f), and --format is nothing else
        if option.name == "fmt" or "--format" in spelled:
            assert "--format" in spelled, (path, option.opts)
            assert option.name == "fmt", (path, option.opts)
            assert option.callback is not None, f"{path} --format must note itself (format_option)"
        # an output file is --output (-o)
        if option.name == "output":
            assert spelled == {"--output", "-o"}, (path, option.opts)
        # a gate is --fail-on, never --fail or --fail-if
        assert not spelled & {"--fail", "--fail-if", "--json"}, (path, option.opts)
        if option.name and option.name.startswith("fail"):
            assert option.opts == ["--fail-on"], (path, option.opts)
        # overwriting is --force
        assert not spelled & {"--overwrite", "--replace"}, (path, option.opts)


def test_the_lazy_command_table_matches_the_commands() -> None:
    assert set(COMMANDS) == set(main.commands)
    for name, (_module, summary) in COMMANDS.items():
        assert main.commands[name].get_short_help_str(limit=300) == summary, name


# -- global options after the command ----------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    result = CliRunner().invoke(main, ["init", str(root)])
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("GOVKIT_WORKSPACE", raising=False)
    return folder


@pytest.mark.parametrize("args", [
    ["--workspace", "{ws}", "inventory"],
    ["inventory", "--workspace", "{ws}"],
    ["inventory", "-w", "{ws}", "-q"],
    ["inventory", "--workspace={ws}", "--debug"],
    ["inventory", "--format", "json", "-w", "{ws}", "--verbose"],
])
def test_global_options_work_after_the_command(workspace: Path, elsewhere: Path, args: list[str]) -> None:
    result = CliRunner().invoke(main, [a.replace("{ws}", str(workspace)) for a in args])
    assert result.exit_code == 0, result.output


def test_govkit_workspace_environment_variable(workspace: Path, elsewhere: Path) -> None:
    assert CliRunner().invoke(main, ["inventory"]).exit_code == 2  # no workspace here
    result = CliRunner().invoke(main, ["inventory"], env={"GOVKIT_WORKSPACE": str(workspace)})
    assert result.exit_code == 0, result.output


def test_hoisting_leaves_values_and_the_double_dash_alone() -> None:
    ctx = main.make_context("govkit", ["--help"], resilient_parsing=True)
    hoist = main._hoist_global_options
    assert hoist(ctx, ["scan", "db", "-q", "--debug"]) == ["-q", "--debug", "scan", "db"]
    assert hoist(ctx, ["scan", "-w", "W", "db"]) == ["-w", "W", "scan", "db"]
    # the value of the command's own option, even when it looks like a global option
    assert hoist(ctx, ["anonymize", "x.csv", "--table", "-q"]) == ["anonymize", "x.csv", "--table", "-q"]
    # after --, everything is an argument
    assert hoist(ctx, ["scan", "--", "-q"]) == ["scan", "--", "-q"]
    # a subcommand of a group
    assert hoist(ctx, ["report", "audit", "-q", "-f", "md"]) == ["-q", "report", "audit", "-f", "md"]
    # risk's own deprecated -q stays risk's
    assert hoist(ctx, ["risk", "f.csv", "-q", "a"]) == ["risk", "f.csv", "-q", "a"]


def test_verbose_turns_on_info_logging(workspace: Path) -> None:
    result = CliRunner().invoke(main, ["inventory", "-w", str(workspace), "--verbose"])
    assert logging.getLogger("govkit").level == logging.INFO
    assert f"govkit: INFO: workspace {workspace}" in result.stderr
    CliRunner().invoke(main, ["inventory", "-w", str(workspace), "-q"])
    assert logging.getLogger("govkit").level == logging.ERROR
    CliRunner().invoke(main, ["inventory", "-w", str(workspace)])
    assert logging.getLogger("govkit").level == logging.WARNING


# -- errors as JSON ----------------------------------------------------------------------------


def _govkit(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "govkit", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False, env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_an_unreachable_source_with_format_json_prints_a_json_error(workspace: Path) -> None:
    result = _govkit("scan", f"sqlite:///{workspace / 'missing.db'}", "--format", "json", cwd=workspace)
    assert result.returncode == 3
    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == 3
    assert "missing.db" in error["message"]
    assert result.stderr.count("govkit: error:") == 1


def test_a_usage_error_with_format_json_is_json_too(workspace: Path, elsewhere: Path) -> None:
    result = CliRunner().invoke(main, ["inventory", "--format", "json"])  # no workspace here
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {"error": {"message": json.loads(result.stdout)["error"]["message"],
                                                   "exit_code": 2}}
    assert "govkit: error:" in result.stderr
    plain = CliRunner().invoke(main, ["inventory"])
    assert plain.exit_code == 2
    assert plain.stdout == ""


# -- never overwrite without --force -----------------------------------------------------------


def test_anonymize_refuses_to_overwrite_a_file_without_force(tmp_path: Path, elsewhere: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text("id,city\n1,Lyon\n2,Nice\n", encoding="utf-8")
    target = tmp_path / "out.csv"
    target.write_text("keep me\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["anonymize", str(source), "--to", str(target), "--rule", "city=redact"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"govkit: error: --to {target}: the file exists (use --force to overwrite it)"]
    assert target.read_text(encoding="utf-8") == "keep me\n"
    result = CliRunner().invoke(main, ["anonymize", str(source), "--to", str(target), "--rule", "city=redact",
                                       "--force", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"] == 2
    written = target.read_text(encoding="utf-8")
    assert written.startswith("id,city")
    assert "Lyon" not in written


def test_anonymize_old_format_spelling_means_the_target_format(tmp_path: Path, elsewhere: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text("id,city\n1,Lyon\n", encoding="utf-8")
    target = tmp_path / "out.data"
    result = CliRunner().invoke(main, ["anonymize", str(source), "--to", str(target), "--rule", "city=redact",
                                       "--format", "jsonl", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text(encoding="utf-8").splitlines()[0])["id"] in (1, "1")


# -- console output ----------------------------------------------------------------------------

_TABLE = (
    "from govkit.cli.options import to_table\n"
    "print(to_table(['severity', 'where', 'why'], [['HIGH', 'Customer.Email', 'x' * 150],"
    " ['LOW', 'Track.Name', 'short']]), end='')\n"
)


def _run_in_pty(code: str, columns: int, env: dict[str, str]) -> str:
    """Run ``code`` with stdout on a pseudo-terminal ``columns`` wide; return what it printed."""
    import fcntl
    import struct
    import termios

    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "TERM")}
    process = subprocess.Popen([sys.executable, "-c", code], stdout=terminal, stderr=subprocess.PIPE,
                               env={**environ, "TERM": "xterm", **env})
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(controller)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def _piped(code: str, env: dict[str, str]) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**environ, **env}).stdout


def _widest(text: str) -> int:
    return max(len(click.unstyle(line)) for line in text.splitlines())


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_a_terminal_gets_colour_and_its_width() -> None:
    shown = _run_in_pty(_TABLE, 80, {})
    assert "\x1b[" in shown  # coloured
    assert "\x1b[1;31mHIGH" in shown or "\x1b[31mHIGH" in shown or "31m" in shown.split("HIGH")[0][-12:]
    assert _widest(shown) <= 80
    wide = _run_in_pty(_TABLE, 140, {})
    assert 80 < _widest(wide) <= 140


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_no_color_keeps_a_terminal_plain() -> None:
    shown = _run_in_pty(_TABLE, 80, {"NO_COLOR": "1"})
    assert "\x1b[" not in shown
    assert _widest(shown) <= 80


def test_piped_output_is_plain_and_100_columns_or_columns() -> None:
    piped = _piped(_TABLE, {})
    assert "\x1b[" not in piped
    assert _widest(piped) == 100
    assert _widest(_piped(_TABLE, {"COLUMNS": "70"})) == 70


def test_a_table_written_to_a_file_has_no_colour_codes(tmp_path: Path) -> None:
    code = (
        "import sys\nsys.stdout.isatty = lambda: True\n"
        "from pathlib import Path\nfrom govkit.cli.options import emit, to_table\n"
        "text = to_table(['severity'], [['HIGH']])\nassert '\\x1b[' in text\n"
        f"emit(text, Path({str(tmp_path / 't.txt')!r}))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                   env={k: v for k, v in os.environ.items() if k != "NO_COLOR"})
    assert "\x1b[" not in (tmp_path / "t.txt").read_text(encoding="utf-8")


# -- first run ---------------------------------------------------------------------------------


def test_demo_hints_name_a_govkit_that_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from govkit.cli.commands import demo

    folder = tmp_path / "govkit-demo"
    folder.mkdir()
    monkeypatch.setattr(demo.shutil, "which", lambda name: "/usr/local/bin/govkit")
    assert demo.govkit_command(folder) == ("govkit", "")
    monkeypatch.setattr(demo.shutil, "which", lambda name: None)  # .venv not activated
    command, note = demo.govkit_command(folder)
    script = Path(sys.executable).parent / "govkit"
    assert (folder / command).resolve() == script.resolve() or Path(command).resolve() == script.resolve()
    assert "activate" in note


def test_make_says_what_it_is_doing_before_installing() -> None:
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("$(STAMP): pyproject.toml", 1)[1].split("\n\n", 1)[0]
    first_steps = [line.strip() for line in recipe.splitlines() if line.startswith("\t")][:3]
    assert any(step.startswith("@echo") and "installing govkit" in step for step in first_steps[:2]), first_steps
