"""Every command is documented: in its own --help and in docs/commands.md (after sqlite-utils)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from govkit.cli import main

COMMANDS_DOC = Path(__file__).resolve().parents[1] / "docs" / "commands.md"


def _walk(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_walk(command, path))
    return found


COMMANDS = _walk(main)
IDS = [" ".join(path) for path, _ in COMMANDS]


def test_walk_finds_the_subcommands() -> None:
    assert {"scan", "inventory", "inventory diff", "report audit"} <= set(IDS)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_command_has_help(path: tuple[str, ...], command: click.Command) -> None:
    assert (command.help or "").strip(), f"govkit {' '.join(path)} has no help text"
    assert command.get_short_help_str().strip()
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"govkit {' '.join(path)} {param.opts[0]} has no help text"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_command_is_documented(path: tuple[str, ...], command: click.Command) -> None:
    assert COMMANDS_DOC.is_file(), f"{COMMANDS_DOC} is missing"
    text = COMMANDS_DOC.read_text(encoding="utf-8")
    pattern = r"\bgovkit\s+" + r"\s+".join(re.escape(part) for part in path) + r"\b"
    assert re.search(pattern, text), f"'govkit {' '.join(path)}' is not mentioned in docs/commands.md"


#: Words that promise rather than describe: a stale sentence about something that now works.
_STALE = re.compile(r"coming soon|\bTODO\b|not yet (implemented|supported|applied)|will (be )?(pseudonymi[sz]e|encrypt"
                    r"|support|appear|be added|land)|once those capabilities", re.IGNORECASE)


def test_help_texts_docs_and_templates_do_not_promise() -> None:
    """Stale words are bugs: help texts, docs and report templates describe what exists now."""
    import click

    from govkit.cli import main

    found: list[str] = []
    ctx = click.Context(main)

    def walk(command: click.Command, path: str) -> None:
        texts = [command.help or "", *(getattr(p, "help", "") or "" for p in command.params)]
        found.extend(f"govkit {path}: {m.group()}" for t in texts for m in _STALE.finditer(t))
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None:
                    walk(sub, f"{path} {name}".strip())

    walk(main, "")
    root = Path(__file__).resolve().parents[1]
    for path in [root / "README.md", *sorted((root / "docs").glob("*.md")), *sorted((root / "templates").glob("*.j2"))]:
        found.extend(f"{path.name}: {m.group()}" for m in _STALE.finditer(path.read_text(encoding="utf-8")))
    assert not found, found


#: The width govkit lays tables out for when its output is piped (govkit.cli.options.terminal_width):
#: examples are pasted from a run with COLUMNS=100, so a wider table was pasted from an older layout.
_CONSOLE_WIDTH = 100
_FENCE = re.compile(r"^\s*(```+|~~~+)\s*(\S*)")
#: Box-drawing characters: the borders of the tables govkit prints (rich), and nothing else in an example.
_TABLE_LINE = re.compile(r"[\u2500-\u257f]")


def _console_table_lines(path: Path) -> list[tuple[int, str]]:
    """The table lines of the ```console blocks of a Markdown file, with their line numbers."""
    found: list[tuple[int, str]] = []
    fence: str | None = None
    console = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _FENCE.match(line)
        if match and fence is None:
            fence, console = match.group(1), match.group(2) == "console"
        elif match and line.strip().startswith(fence or "\0") and not match.group(2):
            fence, console = None, False
        elif console and _TABLE_LINE.search(line):
            found.append((number, line.rstrip()))
    return found


def test_console_examples_fit_the_width_govkit_prints() -> None:
    """A console example shows what the command prints now: its tables at most 100 columns wide
    (tables were once always 160; pasted output goes stale silently, this catches it). Columns as
    a terminal counts them: a Chinese character takes two."""
    from rich.cells import cell_len

    root = Path(__file__).resolve().parents[1]
    checked = 0
    too_wide: list[str] = []
    for path in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        lines = _console_table_lines(path)
        checked += len(lines)
        too_wide.extend(f"{path.name}:{number}: {cell_len(line)} columns" for number, line in lines
                        if cell_len(line) > _CONSOLE_WIDTH)
    assert checked > 100, f"only {checked} console table lines found: is the Markdown parsing broken?"
    assert not too_wide, f"re-capture these examples with COLUMNS={_CONSOLE_WIDTH}: {too_wide}"


def test_console_table_lines_are_found_only_in_console_blocks(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("┏━┓ prose\n```text\n┃ a ┃\n```\n```console\n$ govkit scan\n┃ b ┃\n```\n┗━┛\n", encoding="utf-8")
    assert _console_table_lines(page) == [(7, "┃ b ┃")]
